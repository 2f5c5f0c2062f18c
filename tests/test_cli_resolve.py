"""``ukws resolve`` and ``ukws graph`` end to end: init, sync, resolve, sync again to the lock."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pygit2
import pytest
from typer.testing import CliRunner, Result

from tests.gitutil import file_url
from tests.resolveutil import World, manifest_xml, shared_world
from ukws.cli import app
from ukws.lock import read_lock

NAMES = {
    "unikraft": "unikraft",
    "libs/a": "lib-a",
    "libs/b": "lib-b",
    "libs/c": "lib-c",
    "libs/unused": "lib-unused",
    "apps/hello": "app-hello",
}


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return shared_world(tmp_path_factory)


@pytest.fixture(scope="session")
def upstream(world: World, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The world's repositories at ``<upstream>/<project name>``, as a remote serves them."""
    root = tmp_path_factory.mktemp("upstream")
    for path, name in NAMES.items():
        shutil.copytree(world[0] / path, root / name, symlinks=True)
    return root


def ukws(cwd: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["-C", str(cwd), *args], catch_exceptions=False)


def workspace(tmp_path: Path, upstream: Path, core: str = 'x-version="&lt;0.14"') -> Path:
    body = manifest_xml(
        core=core, app='revision="refs/tags/RELEASE-0.13.0"', default_revision="main"
    ).replace("https://example.org/unikraft/", file_url(upstream) + "/")
    manifest = tmp_path / "uk.xml"
    manifest.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n<manifest>\n{body}\n</manifest>\n')
    r = ukws(tmp_path, "init", "-m", str(manifest), "ws")
    assert r.exit_code == 0, r.stderr
    r = ukws(tmp_path / "ws", "sync")  # brings every release tag and branch: resolution reads them locally
    assert r.exit_code == 0, r.stderr
    return tmp_path / "ws"


def head(path: Path) -> str:
    return str(pygit2.Repository(str(path)).head.target)


def test_resolve_writes_the_lock_and_sync_follows_it(tmp_path: Path, upstream: Path, world: World) -> None:
    ws = workspace(tmp_path, upstream)
    shas = world[1]
    r = ukws(ws / "libs", "resolve")
    assert r.exit_code == 0, r.stderr
    assert "L= for app-hello: libs/c:libs/b:libs/a" in r.stdout
    assert f"wrote {ws / '.ukws' / 'lock.xml'}" in r.stderr
    assert "warning: lib-c has no release 0.13.1 to go with unikraft 0.13.1" in r.stderr
    lock = read_lock(ws / ".ukws" / "lock.xml")
    assert lock.pins["libs/c"] == shas["lib-c"]["0.12.0"]
    assert ukws(ws, "resolve").stderr.endswith("lock.xml is up to date\n")

    r = ukws(ws, "sync")
    assert r.exit_code == 0, r.stderr
    assert head(ws / "libs/c") == shas["lib-c"]["0.12.0"]
    assert head(ws / "unikraft") == shas["unikraft"]["0.13.1"]


def test_update_why_json_and_usage(tmp_path: Path, upstream: Path) -> None:
    ws = workspace(tmp_path, upstream)
    assert ukws(ws, "resolve").exit_code == 0
    manifest = tmp_path / "uk.xml"
    manifest.write_text(manifest.read_text().replace('x-version="&lt;0.14"', 'x-version="&gt;=0.12"'))
    r = ukws(ws, "resolve")
    assert r.exit_code == 0, r.stderr
    assert "0.13.1" in next(line for line in r.stdout.splitlines() if line.startswith("unikraft "))
    before = read_lock(ws / ".ukws/lock.xml").project("unikraft").version
    assert before == "0.13.1"

    r = ukws(ws, "resolve", "--why", "lib-a")
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines()[0].startswith("lib-a: ")
    assert "library policy lockstep with unikraft" in r.stdout
    assert "needed by app-hello: select LIBA (apps/hello/Config.uk:" in r.stdout
    why = json.loads(ukws(ws, "resolve", "--why", "unikraft", "--json").stdout)
    assert why["project"] == "unikraft"
    assert any(reason["kind"] == "manifest" for reason in why["reasons"])

    r = ukws(ws, "resolve", "--update", "unikraft", "--dry-run")
    assert r.exit_code == 0, r.stderr
    assert "dry run: the lock was not written" in r.stderr
    line = next(line for line in r.stdout.splitlines() if line.startswith("unikraft "))
    assert "0.14.0" in line and line.endswith("(was 0.13.1)")
    r = ukws(ws, "resolve", "--update", "unikraft", "--json")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["builds"][0]["libraries"] == ["libs/c", "libs/b", "libs/a"]
    assert read_lock(ws / ".ukws/lock.xml").project("unikraft").version == "0.14.0"

    r = ukws(ws, "resolve", "unikraft")
    assert (r.exit_code, r.stderr) == (
        2,
        "ukws: projects are named only with --update (ukws resolve --update PROJECT...)\n",
    )
    r = ukws(ws, "resolve", "--why", "ghost")
    assert (r.exit_code, r.stderr) == (2, "ukws: --why ghost: no such project in the manifest\n")


def test_unsatisfiable_exit_code_and_chain(tmp_path: Path, upstream: Path) -> None:
    ws = workspace(tmp_path, upstream, core='x-version="&lt;0.12"')
    r = ukws(ws, "resolve")
    assert r.exit_code == 1
    lines = r.stderr.splitlines()
    assert lines[0].startswith("ukws: no versions satisfy every constraint on lib-")
    assert any(
        "from library policy lockstep with unikraft 0.4.0" in line and "no release at or below 0.4.0" in line
        for line in lines
    )
    assert not (ws / ".ukws" / "lock.xml").exists()


def test_graph_text_json_and_dot(tmp_path: Path, upstream: Path) -> None:
    ws = workspace(tmp_path, upstream)
    text = ukws(ws, "graph").stdout
    assert "app-hello" in text and "-> lib-a (select: LIBA)" in text
    data = json.loads(ukws(ws, "graph", "--format", "json").stdout)
    assert {"from": "lib-b", "to": "lib-c", "kinds": ["select"], "symbols": ["LIBC"], "conditions": []} in data["edges"]
    assert data["nodes"][0]["name"] == "app-hello"
    dot = ukws(ws, "graph", "--format", "dot").stdout
    assert dot.startswith("digraph ukws {") and '"lib-a" -> "lib-b" [label="LIBB"];' in dot
    r = ukws(ws, "graph", "--format", "svg")
    assert (r.exit_code, r.stderr) == (2, "ukws: --format svg: expected text, dot or json\n")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz is not installed; the dot text was checked above")
    svg = subprocess.run(["dot", "-Tsvg"], input=dot.encode(), capture_output=True, check=True).stdout
    assert b"<svg" in svg


def test_another_manifest_never_touches_the_workspace_lock(tmp_path: Path, upstream: Path) -> None:
    ws = workspace(tmp_path, upstream)
    manifest = str(tmp_path / "uk.xml")
    r = ukws(ws, "resolve", "-m", manifest)
    assert r.exit_code == 0, r.stderr
    assert "no lock written: with -m, name the lock file with --lock FILE" in r.stderr
    assert not (ws / ".ukws" / "lock.xml").exists()
    r = ukws(ws, "resolve", "-m", manifest, "--lock", "mine.xml")
    assert r.exit_code == 0, r.stderr
    assert read_lock(ws / "mine.xml").project("unikraft").version == "0.13.1"
    assert "-> lib-a (select: LIBA)" in ukws(ws, "graph", "-m", manifest).stdout


def test_resolve_honours_the_workspace_group_selection(tmp_path: Path, upstream: Path) -> None:
    body = manifest_xml(
        app='revision="refs/tags/RELEASE-0.13.0"',
        default_revision="main",
        extra='<project name="tools" path="tools" revision="main"/>',
    ).replace("https://example.org/unikraft/", file_url(upstream) + "/")
    manifest = tmp_path / "uk.xml"
    manifest.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n<manifest>\n{body}\n</manifest>\n')
    r = ukws(tmp_path, "init", "-m", str(manifest), "-g", "default,-path:tools", "ws")
    assert r.exit_code == 0, r.stderr
    ws = tmp_path / "ws"
    assert ukws(ws, "sync").exit_code == 0
    assert not (ws / "tools").exists()
    r = ukws(ws, "resolve")
    assert r.exit_code == 0, r.stderr
    assert "tools" not in read_lock(ws / ".ukws" / "lock.xml").pins
    assert ukws(ws, "graph").exit_code == 0
