"""The workspace commands end to end: ``ukws init``, ``sync``, ``status``, ``diff``, ``forall``, ``info``,
against repositories served over file://, ``git daemon`` and smart HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pygit2
import pytest
from typer.testing import CliRunner, Result

from tests.gitutil import commit, file_url
from tests.servers import GitServer
from tests.wsutil import manifest_xml, push_manifest, serve_workspace
from ukws.cli import app


def ukws(cwd: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["-C", str(cwd), *args], catch_exceptions=False)


def _head(path: Path) -> str:
    return str(pygit2.Repository(str(path)).head.target)


def test_outside_a_workspace(tmp_path: Path) -> None:
    for command in ("sync", "status", "diff", "info"):
        r = ukws(tmp_path, command)
        assert r.exit_code == 1
        assert "not inside a ukws workspace" in r.stderr
        assert "run 'ukws init -m NAME'" in r.stderr


def test_init_shipped_and_info(tmp_path: Path) -> None:
    r = ukws(tmp_path, "init", "-m", "helloworld", "ws", "-g", "all")
    assert r.exit_code == 0, r.stderr
    assert f"workspace created: {(tmp_path / 'ws').resolve()}" in r.stderr
    assert "manifest: helloworld.xml (shipped with ukws) (2 projects selected, groups all)" in r.stderr
    assert "next: cd ws && ukws sync" in r.stderr
    assert "next: ukws sync\n" in ukws(tmp_path / "ws", "init").stderr
    (tmp_path / "ws" / "apps").mkdir()
    info = json.loads(ukws(tmp_path / "ws" / "apps", "info", "--json").stdout)
    assert info["root"] == str((tmp_path / "ws").resolve())
    assert info["manifest"] == {"kind": "shipped", "name": "helloworld.xml", "url": None, "revision": None}
    assert (info["projects"], info["projects_total"], info["groups"], info["lock"]) == (2, 2, "all", None)
    text = ukws(tmp_path / "ws", "info").stdout
    assert "manifest:        helloworld.xml (shipped with ukws)" in text
    assert "depth:           full history" in text


def test_init_errors_exit_codes(tmp_path: Path) -> None:
    r = ukws(tmp_path, "init", "ws")
    assert (r.exit_code, r.stderr) == (
        2,
        "ukws: a new workspace needs -m NAME (a shipped manifest or a file) or -u URL\n",
    )
    r = ukws(tmp_path, "init", "-m", "helloworld", "--rewrite", "nonsense", "ws")
    assert r.exit_code == 2
    assert "expected PREFIX=REPLACEMENT" in r.stderr
    r = ukws(tmp_path, "init", "-m", "nosuch", "ws")
    assert r.exit_code == 2
    assert "-m nosuch: no such manifest file, and not a shipped manifest" in r.stderr


def test_init_sync_status_over_file_urls(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv")
    ws = tmp_path / "ws"
    r = ukws(tmp_path, "init", "-u", file_url(served.root / "manifest"), "ws")
    assert r.exit_code == 0, r.stderr
    r = ukws(ws, "sync")
    assert r.exit_code == 0, r.stderr
    assert "sync: 2 projects in " in r.stderr
    assert ": 2 cloned" in r.stderr
    for name, sha in served.heads.items():
        assert _head(ws / name) == sha
    again = ukws(ws / "core", "sync")
    assert again.exit_code == 0, again.stderr
    assert ": 2 unchanged" in again.stderr
    status = json.loads(ukws(ws, "status", "--json").stdout)
    assert [(s["path"], s["synced"], s["head_sha"]) for s in status] == [
        ("core", True, served.heads["core"]),
        ("lib-a", True, served.heads["lib-a"]),
    ]
    text = ukws(ws, "status").stdout
    assert f"at {served.heads['core'][:12]}" in text


def test_sync_follows_manifest_repository(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv", ["core", "lib-a", "lib-b"])
    push_manifest(served.root, {"default.xml": manifest_xml(["core", "lib-a"])})
    ws = tmp_path / "ws"
    assert ukws(tmp_path, "init", "-u", file_url(served.root / "manifest"), "ws").exit_code == 0
    assert ukws(ws, "sync").exit_code == 0
    newer = push_manifest(served.root, {"default.xml": manifest_xml(["core", "lib-a", "lib-b"])})
    r = ukws(ws, "sync", "--json")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["ok"] is True
    assert data["manifest"]["action"] == "updated"
    assert data["manifest"]["sha"] == newer
    assert {o["path"]: o["action"] for o in data["outcomes"]} == {
        "core": "unchanged",
        "lib-a": "unchanged",
        "lib-b": "cloned",
    }
    assert _head(ws / "lib-b") == served.heads["lib-b"]


def test_sync_options_and_project_selection(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv")
    ws = tmp_path / "ws"
    assert ukws(tmp_path, "init", "-u", file_url(served.root / "manifest"), "ws").exit_code == 0
    r = ukws(ws, "sync", "-n", "-l")
    assert (r.exit_code, r.stderr) == (2, "ukws: -n/--network-only and -l/--local-only cannot be combined\n")
    r = ukws(ws, "sync", "nosuch")
    assert r.exit_code == 2
    assert "nosuch" in r.stderr
    r = ukws(ws, "sync", "lib-a")
    assert r.exit_code == 0, r.stderr
    assert (ws / "lib-a").is_dir()
    assert not (ws / "core").exists()


def test_fallback_mirror_and_rewrites(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv")
    mine = tmp_path / "mine.xml"
    mine.write_text(manifest_xml(["core", "lib-a"], fetch="https://example.invalid/unikraft"))
    dead = file_url(tmp_path / "dead")
    r = ukws(
        tmp_path,
        "init",
        "-m",
        str(mine),
        "--rewrite",
        f"https://example.invalid/unikraft/={dead}/",
        "--rewrite",
        f"https://example.invalid/unikraft/={file_url(served.root)}/",
        "ws",
    )
    assert r.exit_code == 0, r.stderr
    r = ukws(tmp_path / "ws", "sync")
    assert r.exit_code == 0, r.stderr
    assert _head(tmp_path / "ws" / "core") == served.heads["core"]
    # the run says which mirror answered, and why the first did not
    lines = [line for line in r.stderr.splitlines() if line.startswith("cloned    core (core) ")]
    assert len(lines) == 1, r.stderr
    assert f": fetched from {file_url(served.root)}/core ({dead}/core failed: " in lines[0]
    assert lines[0].count("core (core)") == 1
    info = ukws(tmp_path / "ws", "info").stdout
    assert f"rewrite:         https://example.invalid/unikraft/={dead}/ (workspace)" in info


def test_user_rewrites(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv")
    mine = tmp_path / "mine.xml"
    mine.write_text(manifest_xml(["core"], fetch="https://example.invalid/uk"))
    user = Path.home() / ".config" / "ukws" / "config.json"
    user.parent.mkdir(parents=True)
    user.write_text(json.dumps({"rewrites": [f"https://example.invalid/uk/={file_url(served.root)}/"]}))
    assert ukws(tmp_path, "init", "-m", str(mine), "ws").exit_code == 0
    r = ukws(tmp_path / "ws", "sync")
    assert r.exit_code == 0, r.stderr
    assert _head(tmp_path / "ws" / "core") == served.heads["core"]
    assert "(user)" in ukws(tmp_path / "ws", "info").stdout


@pytest.mark.parametrize("transport", ["daemon", "http"])
def test_init_and_sync_over_servers(transport: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    server: GitServer = request.getfixturevalue({"daemon": "git_daemon", "http": "http_git"}[transport])
    served = serve_workspace(server.root)
    ws = tmp_path / "ws"
    r = ukws(tmp_path, "init", "-u", server.url("manifest"), "ws")
    assert r.exit_code == 0, r.stderr
    r = ukws(ws, "sync", "-j", "2")
    assert r.exit_code == 0, r.stderr
    for name, sha in served.heads.items():
        assert _head(ws / name) == sha
    newer = commit(pygit2.Repository(str(server.root / "lib-a")), {"NEW": "x\n"})
    r = ukws(ws, "sync", "-v")  # -v after the command: a line for every project
    assert r.exit_code == 0, r.stderr
    assert _head(ws / "lib-a") == newer
    assert "updated   lib-a (lib-a) " in r.stderr


def test_diff_forall_and_local_changes(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv")
    ws = tmp_path / "ws"
    assert ukws(tmp_path, "init", "-u", file_url(served.root / "manifest"), "ws").exit_code == 0
    assert ukws(ws, "sync").exit_code == 0
    (ws / "core" / "README").write_text("changed\n")
    diff = ukws(ws, "diff")
    assert diff.exit_code == 0
    assert diff.stdout.startswith("project core/\n")
    assert "+changed" in diff.stdout
    assert "lib-a" not in diff.stdout
    status = ukws(ws, "status").stdout
    assert "local changes" in status
    r = ukws(ws, "forall", "-p", "-c", 'echo "$UKWS_PROJECT $REPO_PATH $UKWS_SHA"')
    assert r.exit_code == 0, r.stderr
    assert r.stdout == (
        f"project core/\ncore core {served.heads['core']}\nproject lib-a/\nlib-a lib-a {served.heads['lib-a']}\n"
    )
    r = ukws(ws, "forall", "lib-a", "--json", "-c", "exit 3")
    assert r.exit_code == 1
    assert json.loads(r.stdout) == [{"name": "lib-a", "path": "lib-a", "returncode": 3, "output": "", "skipped": ""}]
    assert ukws(ws, "forall").exit_code == 2


def test_sync_view_live_and_plain(capsys: pytest.CaptureFixture[str]) -> None:
    import io

    from rich.console import Console

    from ukws.cli import common
    from ukws.cli.sync import SyncView, summary_lines
    from ukws.sync.engine import Action, ProgressEvent, ProjectOutcome, SyncResult

    cloned = ProjectOutcome(name="a", path="libs/a", action=Action.CLONED, sha="1" * 40)
    same = ProjectOutcome(name="b", path="libs/b", action=Action.UNCHANGED, sha="2" * 40)
    bad = ProjectOutcome(
        name="c",
        path="libs/c",
        action=Action.SKIPPED,
        message="c (libs/c): local changes; commit them; c (libs/c): finished an interrupted checkout",
        recovery_ref="refs/r",
    )
    events = [
        ProgressEvent(name="a", path="libs/a", phase="fetch", received_objects=1, total_objects=4),
        ProgressEvent(name="a", path="libs/a", phase="fetch", received_objects=4, total_objects=4),
        ProgressEvent(name="a", path="libs/a", phase="done", outcome=cloned),
        ProgressEvent(name="b", path="libs/b", phase="done", outcome=same),
        ProgressEvent(name="c", path="libs/c", phase="done", outcome=bad),
    ]
    skipped_line = "skipped   c (libs/c): local changes; commit them; finished an interrupted checkout"
    common.reset_state()
    out = io.StringIO()
    with SyncView(3, fancy=True, console=Console(file=out, force_terminal=True, width=200)) as view:
        for e in events:
            seen = len(out.getvalue())
            view(e)
            drawn = out.getvalue()[seen:]
            # Each event redraws the bar at once: its count is the number of projects finished so far.
            assert f"{view.done}/3" in drawn, drawn
            if e.outcome is bad:
                assert drawn.index(skipped_line) < drawn.rindex("3/3")  # the line, then the bar that counts it
    assert view.done == 3
    # Only what needs attention is printed above the bar: not every project cloned or unchanged.
    assert skipped_line in out.getvalue()
    assert "cloned" not in out.getvalue() and "libs/b" not in out.getvalue()

    with SyncView(3, fancy=False) as plain:
        for e in events:
            plain(e)
    assert capsys.readouterr().err.splitlines() == [skipped_line]

    common.STATE.verbosity = 1  # -v: a line for every project
    with SyncView(3, fancy=False) as plain:
        for e in events:
            plain(e)
    assert capsys.readouterr().err.splitlines() == [
        f"cloned    a (libs/a) {'1' * 12}",
        f"unchanged b (libs/b) {'2' * 12}",
        skipped_line,
    ]
    common.STATE.verbosity = -1  # -q: failures and skips only
    with SyncView(3, fancy=False) as plain:
        for e in events:
            plain(e)
    assert capsys.readouterr().err.splitlines() == [skipped_line]
    common.reset_state()

    result = SyncResult(outcomes=(cloned, same, bad), ok=False)
    assert summary_lines(result, 1.5) == [
        "sync: 3 projects in 1.5s: 1 cloned, 1 unchanged, 1 skipped",
        "  skipped c (libs/c): local changes; commit them; finished an interrupted checkout",
        "  c (libs/c): earlier commits kept at refs/r",
    ]
    assert summary_lines(result, 1.5, limit=1)[1:] == [
        "  skipped c (libs/c): local changes; commit them; finished an interrupted checkout",
        "  ... and 1 more (ukws -v sync lists them all)",
    ]
    assert summary_lines(SyncResult(outcomes=(cloned,), ok=True), 0.25) == ["sync: 1 project in 0.2s: 1 cloned"]


def test_sync_honours_the_lock(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv")
    ws = tmp_path / "ws"
    assert ukws(tmp_path, "init", "-u", file_url(served.root / "manifest"), "ws").exit_code == 0
    assert ukws(ws, "status").stdout.splitlines() == [
        f"core   not synced; from {file_url(served.root / 'core')}",
        f"lib-a  not synced; from {file_url(served.root / 'lib-a')}",
    ]
    core = pygit2.Repository(str(served.root / "core"))
    first = str(core.references["refs/tags/RELEASE-0.1.0"].target)
    (ws / ".ukws" / "lock.xml").write_text(
        f'<manifest>\n  <remote name="origin" fetch="."/>\n  <default remote="origin"/>\n'
        f'  <project name="core" path="core" revision="{first}" upstream="main"/>\n</manifest>\n'
    )
    r = ukws(ws, "sync")
    assert r.exit_code == 0, r.stderr
    assert _head(ws / "core") == first
    assert _head(ws / "lib-a") == served.heads["lib-a"]
    rows = {s["path"]: s for s in json.loads(ukws(ws, "status", "--json").stdout)}
    assert (rows["core"]["pin_sha"], rows["core"]["at_pin"]) == (first, True)
    assert (rows["lib-a"]["pin_sha"], rows["lib-a"]["at_pin"]) == (served.heads["lib-a"], True)
    info = json.loads(ukws(ws, "info", "--json").stdout)
    assert info["lock"] == str((ws / ".ukws" / "lock.xml").resolve())
    r = ukws(ws, "forall", "-p", "-c", 'echo "$REPO_LREV $REPO_RREV"')
    assert r.stdout == f"project core/\n{first} main\nproject lib-a/\nrefs/remotes/origin/main main\n"


def test_mirror_workspace_and_reference(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv")
    url = file_url(served.root / "manifest")
    r = ukws(tmp_path, "init", "--mirror", "-u", url, "mirror")
    assert r.exit_code == 0, r.stderr
    r = ukws(tmp_path / "mirror", "sync")
    assert r.exit_code == 0, r.stderr
    bare = pygit2.Repository(str(tmp_path / "mirror" / "core.git"))
    assert bare.is_bare
    assert str(bare.references["refs/heads/main"].target) == served.heads["core"]
    assert json.loads(ukws(tmp_path / "mirror", "info", "--json").stdout)["mirror"] is True

    r = ukws(tmp_path, "init", "-u", url, "--reference", "mirror", "ws")
    assert r.exit_code == 0, r.stderr
    r = ukws(tmp_path / "ws", "sync")
    assert r.exit_code == 0, r.stderr
    assert _head(tmp_path / "ws" / "core") == served.heads["core"]
    alternates = tmp_path / "ws" / "core" / ".git" / "objects" / "info" / "alternates"
    assert alternates.is_file()
    assert str((tmp_path / "mirror" / "core.git").resolve()) in alternates.read_text()


def test_reinit_from_inside_keeps_workspace(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv")
    assert ukws(tmp_path, "init", "-u", file_url(served.root / "manifest"), "ws").exit_code == 0
    (tmp_path / "ws" / "sub").mkdir()
    r = ukws(tmp_path / "ws" / "sub", "init", "-g", "all")
    assert r.exit_code == 0, r.stderr
    assert f"workspace reconfigured: {(tmp_path / 'ws').resolve()}" in r.stderr
    assert not (tmp_path / "ws" / "sub" / ".ukws").exists()
    info = json.loads(ukws(tmp_path / "ws", "info", "--json").stdout)
    assert (info["groups"], info["manifest"]["kind"]) == ("all", "repo")
    r = ukws(tmp_path / "ws", "init", "--no-mirror", "--mirror")
    assert r.exit_code == 1


def test_rewrite_to_a_mirror_workspace(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv")
    assert ukws(tmp_path, "init", "--mirror", "-u", file_url(served.root / "manifest"), "mirror").exit_code == 0
    assert ukws(tmp_path / "mirror", "sync").exit_code == 0
    mine = tmp_path / "mine.xml"
    mine.write_text(manifest_xml(["core", "lib-a"], fetch="https://github.com/unikraft"))
    rule = f"https://github.com/unikraft/={file_url(tmp_path / 'mirror')}/"
    assert ukws(tmp_path, "init", "-m", str(mine), "--rewrite", rule, "ws").exit_code == 0
    r = ukws(tmp_path / "ws", "sync")
    assert r.exit_code == 0, r.stderr
    assert _head(tmp_path / "ws" / "lib-a") == served.heads["lib-a"]


def test_manifest_repository_trouble_during_sync(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv")
    ws = tmp_path / "ws"
    dead = file_url(tmp_path / "dead")
    rules = [
        "--rewrite",
        f"{file_url(served.root)}/={dead}/",
        "--rewrite",
        f"{file_url(served.root)}/={file_url(served.root)}/",
    ]
    r = ukws(tmp_path, "init", "-u", file_url(served.root / "manifest"), *rules, "ws")
    assert r.exit_code == 0, r.stderr
    assert f"warning: {dead}/manifest: " in r.stderr
    assert f"manifest repository fetched from {file_url(served.root)}/manifest" in r.stderr
    assert ukws(ws, "sync").exit_code == 0
    # Local work in the manifest clone: it is left alone, projects still sync.
    (ws / ".ukws" / "manifests" / "notes.txt").write_text("mine\n")
    push_manifest(served.root, {"README": "moved\n"})
    r = ukws(ws, "sync")
    assert r.exit_code == 0, r.stderr
    assert "warning: manifest repository: " in r.stderr  # the dead mirror, tried first
    assert "warning: manifest repository not updated: " in r.stderr
    assert "changed or untracked file notes.txt" in r.stderr
    # The manifest repository is gone: projects follow the manifest as it was, the exit status says so.
    import shutil

    shutil.rmtree(served.root / "manifest")
    r = ukws(ws, "sync")
    assert r.exit_code == 1
    assert "cannot fetch the manifest repository" in r.stderr
    assert "projects follow the manifest as it was" in r.stderr
    assert ": 2 unchanged" in r.stderr
    r = ukws(ws, "sync", "-l")
    assert r.exit_code == 0, r.stderr


def test_option_errors(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv")
    ws = tmp_path / "ws"
    r = ukws(tmp_path, "init", "-u", file_url(served.root / "manifest"), "--rewrite", "a=b", "--no-rewrites", "ws")
    assert (r.exit_code, r.stderr) == (2, "ukws: --rewrite and --no-rewrites cannot be combined\n")
    assert ukws(tmp_path, "init", "-u", file_url(served.root / "manifest"), "ws").exit_code == 0
    assert ukws(ws, "sync", "-j", "-1").stderr == "ukws: -j -1: must be 0 or more\n"
    assert ukws(ws, "forall", "-j", "0", "-c", "true").stderr == "ukws: -j 0: must be 1 or more\n"
    for command in (["status", "nosuch"], ["diff", "nosuch"], ["forall", "nosuch", "-c", "true"]):
        r = ukws(ws, *command)
        assert r.exit_code == 2
        assert r.stderr == "ukws: no project 'nosuch' in the workspace's manifest (see 'ukws list')\n"


def test_json_outputs_and_info_details(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv")
    ws = tmp_path / "ws"
    (tmp_path / "mirror").mkdir()
    r = ukws(
        tmp_path, "init", "--json", "-u", file_url(served.root / "manifest"), "-b", "v1", "--reference", "mirror", "ws"
    )
    assert r.exit_code == 0, r.stderr
    result = json.loads(r.stdout)
    assert (result["reinit"], result["project_count"], result["manifest_sha"]) == (False, 2, served.manifest_sha)
    assert result["config"]["manifest"]["revision"] == "v1"
    assert ukws(ws, "sync", "lib-a").exit_code == 0
    (ws / "lib-a" / "README").write_text("x\n")
    diffs = json.loads(ukws(ws, "diff", "--json").stdout)
    assert [(d["path"], "+x" in d["patch"]) for d in diffs] == [("core", False), ("lib-a", True)]
    (ws / ".ukws" / "local_manifests" / "a.xml").write_text("<manifest/>\n")
    text = ukws(ws, "info").stdout
    assert f"manifest commit: {served.manifest_sha[:12]} (detached)" in text
    assert f"reference:       {(tmp_path / 'mirror').resolve()}" in text
    assert "local manifests: a.xml" in text
    (ws / ".ukws" / "local_manifests" / "b.xml").write_text("<manifest><nonsense/>\n")
    text = ukws(ws, "info").stdout
    assert "manifest error:  " in text and "b.xml" in text


def test_forall_parallel_and_verbose_skips(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv")
    ws = tmp_path / "ws"
    assert ukws(tmp_path, "init", "-u", file_url(served.root / "manifest"), "ws").exit_code == 0
    assert ukws(ws, "sync", "core").exit_code == 0
    r = CliRunner().invoke(app, ["-C", str(ws), "-v", "forall", "-j", "2", "-c", 'echo "$REPO_PROJECT"; exit 4'])
    assert r.exit_code == 1
    assert r.stdout == "core\n"
    assert "skipping lib-a: not synced" in r.stderr
    assert "ukws: core: command exited with 4" in r.stderr
