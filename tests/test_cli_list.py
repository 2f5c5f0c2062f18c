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


def test_the_text_listing_says_what_the_json_rows_say(tmp_path: Path) -> None:
    """``list`` renders its columns straight from the projects (no row objects); ``list --json``
    builds the rows. Both from one manifest with roles, groups, rewrites and every state."""
    from ukws.listing import list_projects, list_table
    from ukws.manifest import load
    from ukws.sync.rewrite import UrlRewriter, parse_rule

    path = tmp_path / "m.xml"
    path.write_text(
        '<manifest>\n  <remote name="o" fetch="https://example.invalid/"/>\n  <default remote="o" revision="main"/>\n'
        '  <project name="unikraft" path="core" x-role="core" groups="a,b"/>\n'
        '  <project name="lib-a" path="libs/a" x-role="library" groups="a,b" revision="refs/tags/RELEASE-0.1"/>\n'
        '  <project name="tool" path="tools/t" groups="notdefault,c"/>\n'
        '  <project name="app" path="app" x-role="application"/>\n</manifest>\n'
    )
    m = load(path)
    urls = UrlRewriter(rules=(parse_rule("https://example.invalid/lib-=file:///srv/lib-"),))
    state = {"core": (True, True, "at pin"), "libs/a": (True, False, "moved")}
    for groups in (None, "all", "c,-a"):
        for st in (None, state):
            rows = list_projects(m, groups, urls, st)
            for manifest_urls in (False, True):
                table = list_table(m, groups, urls, st, manifest_urls=manifest_urls)
                assert table == [
                    (r.path, r.name, r.revision, r.state or "", r.manifest_url if manifest_urls else r.url,
                     r.role or "", ",".join(r.groups))
                    for r in rows
                ]  # fmt: skip
    assert [r.state for r in list_projects(m, "all", urls, state)] == ["at pin", "moved", "not synced", "not synced"]
    assert list_table(m, "all", urls)[1][4] == "file:///srv/lib-a"
