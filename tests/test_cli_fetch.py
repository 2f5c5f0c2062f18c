"""``ukws fetch``: the network stage alone. It brings new branches and tags, pinned projects
included, and touches no working tree."""

from __future__ import annotations

import json
from pathlib import Path

import pygit2
from typer.testing import CliRunner, Result

from tests.gitutil import commit, file_url, tag
from tests.wsutil import serve_workspace
from ukws.cli import app


def ukws(cwd: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["-C", str(cwd), *args], catch_exceptions=False)


def test_fetch_brings_new_releases_and_leaves_checkouts(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv", ("core", "lib-a"))
    assert ukws(tmp_path, "init", "-u", file_url(served.root / "manifest"), "ws").exit_code == 0
    ws = tmp_path / "ws"
    assert ukws(ws, "sync").exit_code == 0
    upstream = pygit2.Repository(str(served.root / "core"))
    new = commit(upstream, {"README": "core 9\n"}, "core: 9", branch="main")
    tag(upstream, "RELEASE-0.2.0", new)
    r = ukws(ws, "fetch", "--json")
    assert r.exit_code == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["ok"] is True and {o["path"] for o in report["outcomes"]} == {"core", "lib-a"}
    core = pygit2.Repository(str(ws / "core"))
    assert "refs/tags/RELEASE-0.2.0" in core.references
    assert str(core.head.target) == served.heads["core"], "fetch moves no checkout"
    r = ukws(ws, "fetch", "-n")
    assert r.exit_code == 2, "fetch takes no sync-only options"
    assert ukws(ws, "sync").exit_code == 0
    assert str(core.head.target) == new
