"""What Google repo needs from a lock and a snapshot, pinned without repo (bench/repo_compat.py runs
repo itself on them).

repo reads a bare ``upstream`` as a branch (``refs/heads/NAME``) and fails the whole fetch when no
branch has that name; ukws reads a bare revision as a branch, then a tag. So a project following a
bare tag name must be locked and snapshotted with ``upstream="refs/tags/NAME"``."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from tests.gitutil import commit, file_url, init_repo, tag
from tests.snapshotutil import ukws
from ukws.lock import Lock, LockedProject, read_lock, write_lock
from ukws.workspace import load_workspace_manifest, open_workspace


@pytest.fixture
def served(tmp_path: Path) -> Path:
    """``core`` (tag RELEASE-0.1.0, annotated, on no branch tip), ``lib`` (branch ``dev``) and
    ``core/ext``, a project nested in core."""
    root = tmp_path / "served"
    core = init_repo(root / "core", bare=True)
    first = commit(core, {"Config.uk": "# core\n"}, "core 0.1")
    tag(core, "RELEASE-0.1.0", first, annotated=True)
    commit(core, {"Makefile": "all:\n"}, "core next")
    lib = init_repo(root / "lib", bare=True)
    commit(lib, {"README": "lib\n"}, "lib")
    commit(lib, {"README": "lib dev\n"}, "lib dev", branch="dev")
    ext = init_repo(root / "core" / "ext", bare=True)
    commit(ext, {"ext.c": "int ext;\n"}, "ext")
    return root


def workspace(tmp_path: Path, served: Path, projects: str) -> Path:
    manifest = tmp_path / "uk.xml"
    manifest.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<manifest>\n'
        f'  <remote name="origin" fetch="{file_url(served)}/"/>\n'
        '  <default remote="origin" revision="main"/>\n'
        f"{projects}</manifest>\n"
    )
    r = ukws(tmp_path, "init", "-m", str(manifest), "ws")
    assert r.exit_code == 0, r.stderr
    ws = tmp_path / "ws"
    r = ukws(ws, "sync")
    assert r.exit_code == 0, r.stderr
    return ws


def upstreams(xml: Path) -> dict[str, str | None]:
    return {el.get("path") or el.get("name") or "": el.get("upstream") for el in etree.parse(str(xml)).iter("project")}


def groups_of(xml: Path) -> dict[str | None, str | None]:
    return {el.get("path"): el.get("groups") for el in etree.parse(str(xml)).iter("project")}


def test_lock_writes_a_bare_tag_name_as_refs_tags_and_keeps_a_bare_branch(tmp_path: Path, served: Path) -> None:
    ws = workspace(
        tmp_path,
        served,
        '  <project name="core" path="unikraft" revision="RELEASE-0.1.0"/>\n'
        '  <project name="lib" path="libs/lib" revision="dev"/>\n'
        '  <project name="lib" path="libs/lib-main" revision="refs/heads/main"/>\n',
    )
    r = ukws(ws, "resolve")
    assert r.exit_code == 0, r.stderr
    lock = ws / ".ukws" / "lock.xml"
    assert upstreams(lock) == {
        "unikraft": "refs/tags/RELEASE-0.1.0",  # repo would fetch refs/heads/RELEASE-0.1.0 and fail
        "libs/lib": "dev",  # repo reads a bare name as a branch, as ukws does
        "libs/lib-main": "refs/heads/main",
    }
    assert read_lock(lock).project("unikraft").revision == str(
        init_repo(served / "core", bare=True).revparse_single("RELEASE-0.1.0^{commit}").id
    )


def test_snapshot_qualifies_a_bare_tag_upstream_of_an_older_lock(tmp_path: Path, served: Path) -> None:
    ws = workspace(tmp_path, served, '  <project name="core" path="unikraft" revision="RELEASE-0.1.0"/>\n')
    w = open_workspace(ws)
    m = load_workspace_manifest(w)
    pin = str(init_repo(served / "core", bare=True).revparse_single("RELEASE-0.1.0^{commit}").id)
    old = LockedProject(name="core", path="unikraft", revision=pin, upstream="RELEASE-0.1.0")
    write_lock(w.lock_path, m, Lock(projects=(old,)))  # as ukws wrote locks before
    r = ukws(ws, "snapshot", "-o", str(tmp_path / "snap.xml"))
    assert r.exit_code == 0, r.stderr
    assert upstreams(tmp_path / "snap.xml") == {"unikraft": "refs/tags/RELEASE-0.1.0"}
    # a snapshot of a workspace made from that snapshot keeps it (the form is stable)
    r = ukws(tmp_path, "init", "-m", str(tmp_path / "snap.xml"), "again")
    assert r.exit_code == 0, r.stderr
    r = ukws(tmp_path / "again", "sync")
    assert r.exit_code == 0, r.stderr
    r = ukws(tmp_path / "again", "snapshot", "-o", str(tmp_path / "snap2.xml"))
    assert r.exit_code == 0, r.stderr
    assert (tmp_path / "snap2.xml").read_bytes() == (tmp_path / "snap.xml").read_bytes()


def test_snapshot_does_not_count_a_nested_project_in_an_untracked_folder_as_changed_files(
    tmp_path: Path, served: Path
) -> None:
    ws = workspace(
        tmp_path,
        served,
        '  <project name="core" path="unikraft">\n    <project name="ext" path="vendor/ext"/>\n  </project>\n',
    )
    assert (ws / "unikraft" / "vendor" / "ext" / "ext.c").is_file()
    r = ukws(ws, "resolve")
    assert r.exit_code == 0, r.stderr
    r = ukws(ws, "snapshot", "-o", str(tmp_path / "snap.xml"))
    assert r.exit_code == 0, r.stderr
    # a file of the parent's own beside the nested project is still found
    (ws / "unikraft" / "vendor" / "stray.txt").write_text("not committed\n")
    r = ukws(ws, "snapshot", "-o", str(tmp_path / "snap.xml"))
    assert r.exit_code == 1
    assert "core (unikraft): 1 changed or untracked file(s) (vendor/stray.txt)" in r.stderr


def test_snapshot_drops_notdefault_so_that_init_without_groups_gets_every_project(
    tmp_path: Path, served: Path
) -> None:
    manifest = tmp_path / "uk.xml"
    manifest.write_text(
        f'<manifest>\n  <remote name="origin" fetch="{file_url(served)}/"/>\n'
        '  <default remote="origin" revision="main"/>\n'
        '  <project name="core" path="unikraft" groups="kernel"/>\n'
        '  <project name="lib" path="libs/lib" groups="notdefault,net"/>\n'
        '  <project name="lib" path="libs/off" revision="dev" groups="notdefault"/>\n</manifest>\n'
    )
    r = ukws(tmp_path, "init", "-m", str(manifest), "-g", "default,net", "ws")
    assert r.exit_code == 0, r.stderr
    for step in (["sync"], ["resolve"], ["snapshot", "-o", str(tmp_path / "snap.xml")]):
        r = ukws(tmp_path / "ws", *step)
        assert r.exit_code == 0, r.stderr
    groups = groups_of(tmp_path / "snap.xml")
    # repo (and ukws) without -g select the projects not in notdefault: the selected ones, all of them
    assert groups == {"unikraft": "kernel", "libs/lib": "net"}
    # the lock is the workspace's: it keeps the manifest's groups, for repo init -g with the same groups
    assert groups_of(tmp_path / "ws" / ".ukws" / "lock.xml") == {"unikraft": "kernel", "libs/lib": "notdefault,net"}
    r = ukws(tmp_path, "init", "-m", str(tmp_path / "snap.xml"), "again")
    assert r.exit_code == 0, r.stderr
    r = ukws(tmp_path / "again", "sync")
    assert r.exit_code == 0, r.stderr
    r = ukws(tmp_path / "again", "verify")
    assert r.exit_code == 0, r.stdout + r.stderr
