"""A project inside another project's path (AOSP's ``build`` and ``build/blueprint``), synced from
real repositories served over file://: the outer one first, neither ever touching the other."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pygit2

from tests.gitutil import commit, file_url, head_sha, upstream
from tests.manifestutil import ORIGIN, write_manifest
from ukws.manifest import Manifest, load
from ukws.status import project_status
from ukws.sync import journal as syncstate
from ukws.sync.engine import Action, SyncOptions, SyncResult, sync


def _serve(tmp_path: Path) -> tuple[pygit2.Repository, pygit2.Repository, Manifest]:
    """Outer ``platform/build`` at ``build`` and inner ``platform/build/blueprint`` at
    ``build/blueprint``, as repo reads AOSP's manifest (the elements are not nested)."""
    srv = tmp_path / "srv"
    outer = upstream(srv / "platform" / "build", {"Makefile": "outer 1\n", "core/main.mk": "x\n"})
    inner = upstream(srv / "platform" / "build" / "blueprint", {"Blueprints": "inner 1\n", "go.mod": "m\n"})
    m = load(write_manifest(tmp_path / "m", ORIGIN.replace("https://example.org/base/", file_url(srv) + "/") + """
      <project name="platform/build" path="build"/>
      <project name="platform/build/blueprint" path="build/blueprint"/>
    """))
    return outer, inner, m


def _run(root: Path, m: Manifest, **options: Any) -> SyncResult:
    return sync(root=root, state_dir=root / ".ukws", manifest=m, options=SyncOptions(**options))


def _actions(result: SyncResult) -> dict[str, Action]:
    return {o.path: o.action for o in result.outcomes}


def test_outer_first_then_inner_and_neither_touches_the_other(tmp_path: Path) -> None:
    outer, inner, m = _serve(tmp_path)
    root = tmp_path / "ws"
    result = _run(root, m)
    assert result.ok, result
    assert _actions(result) == {"build": Action.CLONED, "build/blueprint": Action.CLONED}
    assert (root / "build" / "Makefile").read_text() == "outer 1\n"
    assert (root / "build" / "blueprint" / "Blueprints").read_text() == "inner 1\n"
    assert "/blueprint/" in (root / "build" / ".git" / "info" / "exclude").read_text().splitlines()
    st = {s.path: s for s in project_status(root=root, manifest=m)}
    assert st["build"].untracked == () and st["build"].dirty == () and st["build"].at_pin
    # the user's own untracked file in the outer project is still reported
    (root / "build" / "notes.txt").write_text("mine\n")
    (root / "build" / "blueprint" / "scratch.go").write_text("mine\n")
    st = {s.path: s for s in project_status(root=root, manifest=m)}
    assert st["build"].untracked == ("notes.txt",) and st["build/blueprint"].untracked == ("scratch.go",)
    # upstream moves both; the outer checkout leaves the inner folder (and its user file) alone
    new_outer = commit(outer, {"Makefile": "outer 2\n", "core/main.mk": None})
    new_inner = commit(inner, {"Blueprints": "inner 2\n"})
    result = _run(root, m)
    assert _actions(result) == {"build": Action.UPDATED, "build/blueprint": Action.UPDATED}, result
    assert (root / "build" / "Makefile").read_text() == "outer 2\n"
    assert not (root / "build" / "core").exists()
    assert (root / "build" / "blueprint" / "Blueprints").read_text() == "inner 2\n"
    assert (root / "build" / "blueprint" / "scratch.go").read_text() == "mine\n"
    assert [s.head_sha for s in project_status(root=root, manifest=m)] == [new_outer, new_inner]
    assert _run(root, m).outcomes[0].action is Action.UNCHANGED


def test_outer_cloned_around_an_inner_checkout_already_there(tmp_path: Path) -> None:
    outer, inner, m = _serve(tmp_path)
    root = tmp_path / "ws"
    assert _run(root, m, only=("build/blueprint",)).ok  # the inner one alone first
    (root / "build" / "blueprint" / "mine.txt").write_text("work\n")
    result = _run(root, m)
    assert _actions(result) == {"build": Action.CLONED, "build/blueprint": Action.UNCHANGED}, result
    assert (root / "build" / "Makefile").read_text() == "outer 1\n"
    assert pygit2.Repository(str(root / "build")).head.target == pygit2.Oid(hex=head_sha(outer))
    assert pygit2.Repository(str(root / "build" / "blueprint")).head.target == pygit2.Oid(hex=head_sha(inner))
    assert (root / "build" / "blueprint" / "mine.txt").read_text() == "work\n"
    st = {s.path: s for s in project_status(root=root, manifest=m)}
    assert st["build"].untracked == () and st["build"].at_pin
    assert not list((root / ".ukws" / "sync").glob("tmp/*"))


def test_outer_folder_with_other_files_is_still_left_alone(tmp_path: Path) -> None:
    _, _, m = _serve(tmp_path)
    root = tmp_path / "ws"
    assert _run(root, m, only=("build/blueprint",)).ok
    (root / "build" / "stray.txt").write_text("someone's\n")
    result = _run(root, m)
    assert _actions(result)["build"] is Action.SKIPPED
    assert "build exists and is not a git repository" in result.outcomes[0].message
    assert (root / "build" / "stray.txt").read_text() == "someone's\n" and not (root / "build" / ".git").exists()


def test_killed_clone_around_is_finished_by_the_next_sync(tmp_path: Path) -> None:
    """The state a kill between moving the outer ``.git`` in and checking out leaves: HEAD unborn,
    nothing checked out, the journal naming the checkout. The next sync finishes it."""
    outer, _, m = _serve(tmp_path)
    root = tmp_path / "ws"
    assert _run(root, m, only=("build/blueprint",)).ok
    assert _run(root, m).ok
    build = root / "build"
    (build / ".git" / "HEAD").write_text("ref: refs/heads/unborn\n")
    (build / ".git" / "index").unlink()
    for f in ("Makefile", "core/main.mk"):
        (build / f).unlink()
    syncstate.Journal(root / ".ukws" / "sync", "build").write(op="checkout", **{"from": None, "to": head_sha(outer)})
    result = _run(root, m)
    assert result.ok, result
    assert (build / "Makefile").read_text() == "outer 1\n" and (build / "core" / "main.mk").is_file()
    assert (build / "blueprint" / "Blueprints").read_text() == "inner 1\n"
    st = {s.path: s for s in project_status(root=root, manifest=m)}
    assert st["build"].at_pin and st["build"].untracked == () and st["build"].dirty == ()


def test_status_does_not_count_inner_projects_in_repositories_synced_before(tmp_path: Path) -> None:
    """A workspace synced by an older ukws has no exclude line: status still leaves the inner
    project out of the outer one's untracked files, and the next sync adds the line."""
    _, _, m = _serve(tmp_path)
    root = tmp_path / "ws"
    assert _run(root, m).ok
    exclude = root / "build" / ".git" / "info" / "exclude"
    exclude.write_text("# git ls-files --others --exclude-from=.git/info/exclude\n")
    assert pygit2.Repository(str(root / "build")).status() == {"blueprint/": pygit2.enums.FileStatus.WT_NEW}
    assert project_status(root=root, manifest=m)[0].untracked == ()
    assert _run(root, m).ok
    assert exclude.read_text().splitlines()[-1] == "/blueprint/"
    before = exclude.stat().st_mtime_ns
    assert _run(root, m).ok
    assert exclude.stat().st_mtime_ns == before  # a no-op sync does not rewrite it
