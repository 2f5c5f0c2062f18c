"""``ukws list`` inside a workspace: the configured groups, and whether each project is synced and at its pin."""

from __future__ import annotations

import json
from pathlib import Path

import pygit2
from typer.testing import CliRunner, Result

from tests.gitutil import commit, file_url
from tests.wsutil import serve_workspace
from ukws.cli import app


def ukws(cwd: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["-C", str(cwd), *args], catch_exceptions=False)


def _rows(ws: Path, *args: str) -> list[tuple[str, bool, bool]]:
    r = ukws(ws, "list", "--json", *args)
    assert r.exit_code == 0, r.stderr
    return [(row["path"], row["synced"], row["at_pin"]) for row in json.loads(r.stdout)]


def test_list_shows_sync_state(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv", ("core", "lib-a", "lib-b"), groups={"lib-b": "notdefault,extra"})
    assert ukws(tmp_path, "init", "-u", file_url(served.root / "manifest"), "ws").exit_code == 0
    ws = tmp_path / "ws"
    assert _rows(ws) == [("core", False, False), ("lib-a", False, False)]
    assert ukws(ws, "sync").exit_code == 0
    assert _rows(ws / "lib-a") == [("core", True, True), ("lib-a", True, True)]
    text = ukws(ws, "list").stdout.splitlines()
    assert text[0].split()[:4] == ["core", "core", "main", "at"]
    # A local commit moves the checkout off its pin; the project is still synced.
    repo = pygit2.Repository(str(ws / "core"))
    commit(repo, {"local.c": "int local;\n"}, "local work", branch="work")
    repo.checkout("refs/heads/work")
    assert _rows(ws, "-g", "all")[0] == ("core", True, False)
    assert "moved" in ukws(ws, "list").stdout.splitlines()[0]
    assert [row[0] for row in _rows(ws, "-g", "extra")] == ["lib-b"]


def test_list_outside_a_workspace_says_what_to_do(tmp_path: Path) -> None:
    r = ukws(tmp_path, "list")
    assert r.exit_code == 1
    assert "not inside a ukws workspace" in r.stderr


def test_manifest_in_a_workspace_shows_every_project_with_local_manifests(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv", ("core", "lib-a"), groups={"lib-a": "notdefault"})
    assert ukws(tmp_path, "init", "-u", file_url(served.root / "manifest"), "ws").exit_code == 0
    ws = tmp_path / "ws"
    local = ws / ".ukws" / "local_manifests" / "mine.xml"
    local.write_text('<manifest>\n  <extend-project name="core" revision="refs/tags/RELEASE-0.1.0"/>\n</manifest>\n')
    r = ukws(ws, "manifest", "--json")
    assert r.exit_code == 0, r.stderr
    projects = {p["name"]: p["revision"] for p in json.loads(r.stdout)["projects"]}
    assert projects == {"core": "refs/tags/RELEASE-0.1.0", "lib-a": "main"}
    assert [row[0] for row in _rows(ws)] == ["core"]
