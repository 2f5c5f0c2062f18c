"""What a new user meets first: global options anywhere on the command line, the URLs a project is
really fetched from, the files ``status`` and ``diff`` report, and ``list`` after ``resolve``."""

from __future__ import annotations

import json
from pathlib import Path

import pygit2
import pytest
from typer.testing import CliRunner, Result

from tests.gitutil import commit, file_url
from tests.wsutil import manifest_xml, serve_workspace
from ukws.cli import app


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def _synced_workspace(tmp_path: Path) -> Path:
    served = serve_workspace(tmp_path / "srv")
    assert run("-C", str(tmp_path), "init", "-u", file_url(served.root / "manifest"), "ws").exit_code == 0
    ws = tmp_path / "ws"
    r = run("-C", str(ws), "sync")
    assert r.exit_code == 0, r.stderr
    return ws


def test_global_options_after_the_command(tmp_path: Path) -> None:
    r = run("init", "-q", "-m", "helloworld", "-C", str(tmp_path), "ws")
    assert (r.exit_code, r.stderr) == (0, "")  # -q after the command silences it too
    assert (tmp_path / "ws" / ".ukws" / "config.json").is_file()
    r = run("init", "-m", "helloworld", "-C", str(tmp_path), "ws")
    assert r.exit_code == 0 and "workspace reconfigured" in r.stderr
    # -q wins over -v, wherever each is given.
    assert run("-v", "init", "-q", "-C", str(tmp_path / "ws")).stderr == ""
    # A later -C is relative to an earlier one, as in git.
    (tmp_path / "ws" / "apps").mkdir()
    r = run("-C", str(tmp_path), "info", "-C", "ws/apps", "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["root"] == str((tmp_path / "ws").resolve())
    r = run("status", "-C", str(tmp_path / "nosuch"))
    assert (r.exit_code, r.stderr) == (2, f"ukws: -C {tmp_path / 'nosuch'}: no such directory\n")
    help_text = run("sync", "--help").stdout
    assert "-C" in help_text and "--quiet" in help_text and "--verbose" in help_text
    assert "--quiet" in run("manifest", "validate", "--help").stdout


def test_arguments_after_double_dash_and_option_values_are_left_alone(tmp_path: Path) -> None:
    ws = _synced_workspace(tmp_path)
    r = run("-C", str(ws), "sync", "--", "-v")
    assert (r.exit_code, r.stderr) == (2, "ukws: no project '-v' in the workspace's manifest (see 'ukws list')\n")
    r = run("forall", "-C", str(ws), "-p", "-c", "echo -v -q -C x", "-v")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "project core/\n-v -q -C x\nproject lib-a/\n-v -q -C x\n"
    r = run("forall", "-c", "-v", "-C", str(ws), "core")  # -c takes the next word, whatever it looks like
    assert "no such option" not in r.stderr.lower()


def test_list_and_status_show_the_url_after_rewriting(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv")
    mine = tmp_path / "mine.xml"
    mine.write_text(manifest_xml(["core", "lib-a"], fetch="https://example.invalid/uk"))
    mirror = file_url(served.root)
    r = run("-C", str(tmp_path), "init", "-m", str(mine), "--rewrite", f"https://example.invalid/uk/={mirror}/", "ws")
    assert r.exit_code == 0, r.stderr
    ws = tmp_path / "ws"
    rows = json.loads(run("-C", str(ws), "list", "--json").stdout)
    assert [(row["url"], row["manifest_url"]) for row in rows] == [
        (f"{mirror}/core", "https://example.invalid/uk/core"),
        (f"{mirror}/lib-a", "https://example.invalid/uk/lib-a"),
    ]
    text = run("-C", str(ws), "list").stdout
    assert f"{mirror}/core" in text and "example.invalid" not in text
    text = run("-C", str(ws), "list", "--manifest-urls").stdout
    assert "https://example.invalid/uk/core" in text and mirror not in text
    assert run("-C", str(ws), "status").stdout.splitlines()[0] == f"core   not synced; from {mirror}/core"
    text = run("-C", str(ws), "status", "--manifest-urls").stdout
    assert text.splitlines()[0] == "core   not synced; from https://example.invalid/uk/core"
    status = json.loads(run("-C", str(ws), "status", "--json").stdout)
    assert (status[0]["url"], status[0]["manifest_url"]) == (f"{mirror}/core", "https://example.invalid/uk/core")
    # Outside a workspace, -m lists the manifest's URLs with the user's own rewrite rules applied.
    user = Path.home() / ".config" / "ukws" / "config.json"
    user.parent.mkdir(parents=True)
    user.write_text(json.dumps({"rewrites": [f"https://example.invalid/uk/={mirror}/"]}))
    rows = json.loads(run("-C", str(tmp_path), "list", "-m", str(mine), "--json").stdout)
    assert rows[0]["url"] == f"{mirror}/core"


def test_status_names_changed_and_untracked_files_bounded(tmp_path: Path) -> None:
    ws = _synced_workspace(tmp_path)
    core = ws / "core"
    (core / "README").write_text("edited\n")
    (core / "src" / "1.c").unlink()
    for i in range(10):
        (core / f"new{i:02}.c").write_text("x\n")
    (core / "more").mkdir()
    (core / "more" / "a.c").write_text("a\n")
    (core / ".gitignore").write_text("*.o\n")
    (core / "built.o").write_text("ignored\n")
    lines = run("-C", str(ws), "status").stdout.splitlines()
    assert lines[0].startswith("core   detached at ")
    assert lines[0].endswith(f"; local changes; untracked files; from {file_url(tmp_path / 'srv' / 'core')}")
    assert lines[1:11] == [
        "   M README",
        "   D src/1.c",
        "  ?? .gitignore",
        "  ?? more/",
        *(f"  ?? new{i:02}.c" for i in range(6)),
    ]
    assert lines[11] == "  ... and 4 more"
    assert lines[12].startswith("lib-a  detached at ")
    every = run("-C", str(ws), "status", "-v").stdout.splitlines()
    assert every[1:15] == [
        "   M README",
        "   D src/1.c",
        "  ?? .gitignore",
        "  ?? more/",
        *(f"  ?? new{i:02}.c" for i in range(10)),
    ]
    data = json.loads(run("-C", str(ws), "status", "--json").stdout)[0]
    assert data["dirty"] == ["README", "src/1.c"]
    assert len(data["untracked"]) == 12 and "built.o" not in data["untracked"]
    assert data["changes"][:3] == [" M README", " D src/1.c", "?? .gitignore"]


def test_diff_names_untracked_files_and_shows_them_when_asked(tmp_path: Path) -> None:
    ws = _synced_workspace(tmp_path)
    (ws / "core" / "README").write_text("edited\n")
    (ws / "core" / "added").mkdir()
    (ws / "core" / "added" / "Makefile.uk").write_text("LIBFOO_SRCS-y += foo.c\n")
    r = run("-C", str(ws), "diff")
    assert r.exit_code == 0
    assert "+edited" in r.stdout and "Makefile.uk" not in r.stdout
    assert r.stderr == (
        "ukws: note: 1 untracked file(s) not shown (core); ukws status names them, ukws diff --untracked shows them\n"
    )
    r = run("-C", str(ws), "diff", "--untracked")
    assert r.exit_code == 0 and r.stderr == ""
    assert "+edited" in r.stdout
    assert "diff --git a/added/Makefile.uk b/added/Makefile.uk\nnew file mode 100644\n" in r.stdout
    assert "--- /dev/null\n+++ b/added/Makefile.uk\n@@ -0,0 +1 @@\n+LIBFOO_SRCS-y += foo.c\n" in r.stdout
    # A file added to the index (or with git add --intent-to-add) is shown without --untracked, as git diff does.
    repo = pygit2.Repository(str(ws / "core"))
    repo.index.add("added/Makefile.uk")
    repo.index.write()
    r = run("-C", str(ws), "diff")
    assert "+++ b/added/Makefile.uk" in r.stdout and r.stderr == ""
    assert run("-C", str(ws), "-q", "diff", "lib-a").stdout == ""


def test_list_says_sync_pending_after_the_lock_moved(tmp_path: Path) -> None:
    ws = _synced_workspace(tmp_path)
    core = pygit2.Repository(str(ws / "core"))
    first = str(core.references["refs/tags/RELEASE-0.1.0"].target)

    def states() -> dict[str, str]:
        return {row["path"]: row["state"] for row in json.loads(run("-C", str(ws), "list", "--json").stdout)}

    assert states() == {"core": "at pin", "lib-a": "at pin"}
    # What resolve does: a lock that pins core elsewhere. Nobody moved anything: a sync is pending.
    (ws / ".ukws" / "lock.xml").write_text(
        f'<manifest>\n  <remote name="origin" fetch="."/>\n  <default remote="origin"/>\n'
        f'  <project name="core" path="core" revision="{first}" upstream="main"/>\n</manifest>\n'
    )
    assert states() == {"core": "sync pending", "lib-a": "at pin"}
    assert "sync pending" in run("-C", str(ws), "list").stdout.splitlines()[0]
    assert "; sync pending; " in run("-C", str(ws), "status", "core").stdout
    assert run("-C", str(ws), "sync").exit_code == 0
    assert states() == {"core": "at pin", "lib-a": "at pin"}
    # A checkout moved by hand is "moved".
    local = commit(core, {"local.c": "int x;\n"}, "local work", branch="work")
    core.checkout("refs/heads/work")
    assert core.head.target == pygit2.Oid(hex=local)
    assert states()["core"] == "moved"


def test_sync_prints_only_what_needs_attention_and_times_the_whole_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys
    import time

    from ukws.cli import main

    served = serve_workspace(tmp_path / "srv")
    assert run("-C", str(tmp_path), "init", "-u", file_url(served.root / "manifest"), "ws").exit_code == 0
    # The console script hands over the moment the process started: here, 100 s ago.
    monkeypatch.setattr(sys, "argv", ["ukws", "-C", str(tmp_path / "ws"), "sync"])
    with pytest.raises(SystemExit) as done:
        main(started=time.perf_counter() - 100)
    assert done.value.code == 0
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines  # no line per project cloned: only the summary
    assert lines[0].startswith("sync: 2 projects in 10") and lines[0].endswith("s: 2 cloned")
