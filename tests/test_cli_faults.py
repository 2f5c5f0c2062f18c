"""Faults a sync must get through with one clear line: stalled servers (``--timeout``), missing local
repositories, a damaged state file or journal, failed clones, an ``init`` racing a sync."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pygit2
from typer.testing import CliRunner, Result

from tests.gitutil import commit, file_url, head_sha, make_manifest, make_project, upstream
from tests.wsutil import manifest_xml, serve_workspace
from ukws.cli import app
from ukws.manifest.model import CopyFile, LinkFile, Manifest
from ukws.sync import journal as syncstate
from ukws.sync.engine import SyncOptions, sync


def ukws(cwd: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["-C", str(cwd), *args], catch_exceptions=False)


def test_timeout_from_the_command_line_and_the_workspace(tmp_path: Path, stalled_server: str) -> None:
    mine = tmp_path / "mine.xml"
    mine.write_text(manifest_xml(["core"], fetch=f"git://{stalled_server}"))
    r = ukws(tmp_path, "init", "-m", str(mine), "--timeout", "1", "ws")
    assert r.exit_code == 0, r.stderr
    ws = tmp_path / "ws"
    assert "timeout:         1 s" in ukws(ws, "info").stdout
    started = time.monotonic()
    r = ukws(ws, "sync")
    took = time.monotonic() - started
    assert r.exit_code == 1
    line = next(line for line in r.stderr.splitlines() if line.startswith("failed    core (core)"))
    assert f"cannot fetch main from git://{stalled_server}/core: " in line
    assert "timed out (no answer within 1 s; sync --timeout SECONDS allows more)" in line
    assert took < 30  # not the default minute
    r = ukws(ws, "fetch", "--timeout", "1.5", "--json")
    assert r.exit_code == 1
    assert "no answer within 1.5 s" in json.loads(r.stdout)["outcomes"][0]["message"]
    r = ukws(ws, "sync", "--timeout", "0")
    assert (r.exit_code, r.stderr) == (2, "ukws: --timeout 0: must be a number of seconds above 0\n")
    r = ukws(ws, "init", "--timeout", "-1")
    assert r.exit_code == 2 and "--timeout -1: must be a number of seconds above 0" in r.stderr
    assert ukws(ws, "init", "--timeout", "0").exit_code == 0  # back to the default
    assert "timeout:         60 s" in ukws(ws, "info").stdout
    assert json.loads((ws / ".ukws" / "config.json").read_text())["timeout"] is None


def test_a_missing_local_repository_is_named(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv")
    mine = tmp_path / "mine.xml"
    mine.write_text(manifest_xml(["core", "lib-a"], fetch=str(tmp_path / "srv")))
    assert ukws(tmp_path, "init", "-m", str(mine), "ws").exit_code == 0
    (served.root / "lib-a").rename(tmp_path / "gone")
    r = ukws(tmp_path / "ws", "sync")
    assert r.exit_code == 1
    missing = tmp_path / "srv" / "lib-a"
    assert f"failed    lib-a (lib-a): cannot fetch main from {missing}: no such repository: {missing}; " in r.stderr
    assert "unsupported URL protocol" not in r.stderr
    assert list((tmp_path / "ws" / ".ukws" / "state" / "sync" / "tmp").iterdir()) == []  # the failed clone is gone


def _copy_workspace(tmp_path: Path) -> tuple[Path, Manifest, pygit2.Repository]:
    up = upstream(tmp_path / "up" / "alpha", {"tmpl": "v1\n", "README": "alpha\n"})
    m = make_manifest(
        make_project(
            "alpha",
            file_url(tmp_path / "up" / "alpha"),
            copyfiles=(CopyFile(src="tmpl", dest="top.txt"),),
            linkfiles=(LinkFile(src="README", dest="README.link"),),
        )
    )
    root = tmp_path / "ws"
    root.mkdir()
    assert sync(root=root, state_dir=root / ".ukws", manifest=m, options=SyncOptions()).ok
    return root, m, up


def test_a_damaged_state_file_is_rebuilt_with_a_warning(tmp_path: Path) -> None:
    root, m, up = _copy_workspace(tmp_path)
    state_file = root / ".ukws" / "sync" / "state.json"
    good = json.loads(state_file.read_text())
    state_file.write_text(state_file.read_text()[:25])  # truncated, as by a full disk
    commit(up, {"tmpl": "v2\n"})
    result = sync(root=root, state_dir=root / ".ukws", manifest=m, options=SyncOptions())
    assert result.ok, result.outcomes
    assert (root / "top.txt").read_text() == "v2\n"  # its own copy file is sync's again, so it is updated
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith(".ukws/sync/state.json could not be read (")
    assert "rebuilt it from the workspace: 1 project found at its path, 2 copy/link files taken as sync's" in (
        result.warnings[0]
    )
    assert "projects that left the manifest before are no longer known" in result.warnings[0]
    rebuilt = json.loads(state_file.read_text())
    assert rebuilt["projects"] == good["projects"]
    assert [f["dest"] for f in rebuilt["files"]] == ["README.link", "top.txt"]
    again = sync(root=root, state_dir=root / ".ukws", manifest=m, options=SyncOptions())
    assert again.ok and again.warnings == ()


def test_a_lost_state_file_never_costs_the_users_edits(tmp_path: Path) -> None:
    root, m, up = _copy_workspace(tmp_path)
    (root / "top.txt").write_text("my edit\n")
    (root / ".ukws" / "sync" / "state.json").write_text('{"projects": 3}')  # valid JSON, wrong shape
    commit(up, {"tmpl": "v2\n"})
    result = sync(root=root, state_dir=root / ".ukws", manifest=m, options=SyncOptions())
    assert (root / "top.txt").read_text() == "my edit\n"
    assert "copyfile dest 'top.txt' holds changes sync did not write" in result.outcomes[0].message
    assert "could not be read (TypeError: " in result.warnings[0]
    assert "1 copy/link file taken as sync's" in result.warnings[0]  # the link; not the edited copy
    # A missing state file in a synced workspace is rebuilt too.
    (root / "top.txt").unlink()
    (root / ".ukws" / "sync" / "state.json").unlink()
    result = sync(root=root, state_dir=root / ".ukws", manifest=m, options=SyncOptions())
    assert result.ok and "state.json was missing; rebuilt it" in result.warnings[0]


def test_a_journal_record_naming_a_missing_commit_is_dropped(tmp_path: Path) -> None:
    root, m, up = _copy_workspace(tmp_path)
    journal = syncstate.Journal(root / ".ukws" / "sync", "alpha")
    for record, says in (
        ({"to": "f" * 40, "from": None}, "names commit ffffffffffff, which the repository does not have"),
        ({"to": "not a sha", "from": None}, "names no valid commit ('not a sha')"),
        ({"to": head_sha(up), "from": "e" * 40}, "names starting commit eeeeeeeeeeee, which the repository"),
        ({"to": head_sha(up), "from": None, "branch": "a..b"}, "names no valid branch ('a..b')"),
    ):
        journal.write(op="checkout", **record)
        result = sync(root=root, state_dir=root / ".ukws", manifest=m, options=SyncOptions())
        o = result.outcomes[0]
        assert result.ok, o
        assert o.message.startswith(f"alpha (alpha): the record of an interrupted checkout {says}")
        assert o.message.endswith("; dropped it and left the working tree as it is (ukws status shows it)")
        assert "\n" not in o.message and "KeyError" not in o.message
        assert journal.read() is None
    assert sync(root=root, state_dir=root / ".ukws", manifest=m, options=SyncOptions()).outcomes[0].message == ""


def test_reinit_takes_the_workspace_lock(tmp_path: Path) -> None:
    assert ukws(tmp_path, "init", "-m", "helloworld", "ws").exit_code == 0
    ws = tmp_path / "ws"
    config = (ws / ".ukws" / "config.json").read_text()
    with syncstate.workspace_lock(ws / ".ukws" / "state" / "sync"):  # a sync is running
        r = ukws(ws, "init", "-m", "xenstore", "-g", "all")
    assert (r.exit_code, r.stderr) == (
        1,
        "ukws: another ukws sync or init is running in this workspace; wait for it to finish and try again\n",
    )
    assert (ws / ".ukws" / "config.json").read_text() == config
    assert not (ws / ".ukws" / "manifests.new").exists()
    assert ukws(ws, "init", "-m", "xenstore").exit_code == 0  # the lock is free again
