"""ukws sync over file:// remotes: clone, fetch, pins, copy/link files, failures, pruning."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pygit2
import pytest

from tests.gitutil import commit, file_url, head_sha, make_manifest, make_project, tag, upstream
from ukws.manifest.model import CopyFile, LinkFile, Manifest
from ukws.sync.engine import Action, SyncOptions, SyncResult, sync


def run(root: Path, manifest: Manifest, **options: Any) -> SyncResult:
    return sync(root=root, state_dir=root / ".ukws", manifest=manifest, options=SyncOptions(**options))


def outcome(result: SyncResult, path: str) -> Any:
    return next(o for o in result.outcomes if o.path == path)


@pytest.fixture
def remotes(tmp_path: Path) -> Path:
    base = tmp_path / "remotes"
    for name in ("alpha", "beta", "gamma"):
        upstream(base / name, {"README": f"{name}\n", "src/a.c": "int a;\n"})
    return base


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    return root


def manifest_for(remotes: Path, *names: str, **kw: Any) -> Manifest:
    return make_manifest(*(make_project(n, file_url(remotes / n), **kw) for n in names))


def test_clone_checks_out_every_project_detached(remotes: Path, ws: Path) -> None:
    result = run(ws, manifest_for(remotes, "alpha", "beta", "gamma"))
    assert result.ok
    for name in ("alpha", "beta", "gamma"):
        o = outcome(result, name)
        assert o.action is Action.CLONED
        repo = pygit2.Repository(str(ws / name))
        assert repo.head_is_detached
        assert str(repo.head.target) == o.sha == head_sha(pygit2.Repository(str(remotes / name)))
        assert (ws / name / "README").read_text() == f"{name}\n"
        assert repo.status() == {}
    again = run(ws, manifest_for(remotes, "alpha", "beta", "gamma"))
    assert [o.action for o in again.outcomes] == [Action.UNCHANGED] * 3


def test_moved_branch_is_fetched_and_checked_out(remotes: Path, ws: Path) -> None:
    m = manifest_for(remotes, "alpha")
    run(ws, m)
    new = commit(pygit2.Repository(str(remotes / "alpha")), {"README": "moved\n"})
    result = run(ws, m)
    assert outcome(result, "alpha").action is Action.UPDATED
    assert outcome(result, "alpha").sha == new
    assert (ws / "alpha" / "README").read_text() == "moved\n"


def test_network_only_fetches_without_touching_the_tree(remotes: Path, ws: Path) -> None:
    m = manifest_for(remotes, "alpha")
    first = run(ws, m)
    new = commit(pygit2.Repository(str(remotes / "alpha")), {"README": "moved\n"})
    result = run(ws, m, checkout=False)
    assert outcome(result, "alpha").action is Action.FETCHED
    assert str(pygit2.Repository(str(ws / "alpha")).head.target) == outcome(first, "alpha").sha
    assert (ws / "alpha" / "README").read_text() == "alpha\n"
    assert outcome(run(ws, m, fetch=False), "alpha").sha == new
    assert (ws / "alpha" / "README").read_text() == "moved\n"


@pytest.mark.parametrize("kind", ["sha", "tag", "annotated", "refs/tags", "refs/heads", "branch-name"])
def test_pins(remotes: Path, ws: Path, kind: str) -> None:
    up = pygit2.Repository(str(remotes / "alpha"))
    old = head_sha(up)
    commit(up, {"README": "second\n"})
    commit(up, {"README": "dev\n"}, branch="dev")
    tag(up, "v1", old, annotated=kind == "annotated")
    revision, want = {
        "sha": (old, old),
        "tag": ("v1", old),
        "annotated": ("v1", old),
        "refs/tags": ("refs/tags/v1", old),
        "refs/heads": ("refs/heads/dev", head_sha(up, "refs/heads/dev")),
        "branch-name": ("dev", head_sha(up, "refs/heads/dev")),
    }[kind]
    result = run(ws, manifest_for(remotes, "alpha", revision=revision))
    assert result.ok, result
    assert outcome(result, "alpha").sha == want
    assert str(pygit2.Repository(str(ws / "alpha")).head.target) == want


def test_lock_pin_overrides_the_revision(remotes: Path, ws: Path) -> None:
    up = pygit2.Repository(str(remotes / "alpha"))
    old = head_sha(up)
    commit(up, {"README": "second\n"})
    result = run(ws, manifest_for(remotes, "alpha"), pins={"alpha": old})
    assert outcome(result, "alpha").sha == old


def test_noop_with_pinned_sha_needs_no_network(remotes: Path, ws: Path) -> None:
    sha = head_sha(pygit2.Repository(str(remotes / "alpha")))
    m = manifest_for(remotes, "alpha", revision=sha)
    run(ws, m)
    dead = ("http://127.0.0.1:9/nothing-listens-here",)
    result = run(ws, m, urls=lambda p: dead, timeout=2)
    assert result.ok
    assert outcome(result, "alpha").action is Action.UNCHANGED
    # a branch does need the network: the same dead URL fails it, naming project and URL
    failed = run(ws, manifest_for(remotes, "alpha"), urls=lambda p: dead, timeout=2)
    o = outcome(failed, "alpha")
    assert not failed.ok and o.action is Action.FAILED
    assert "alpha" in o.message and dead[0] in o.message and "\n" not in o.message


def test_tag_present_locally_needs_no_network(remotes: Path, ws: Path) -> None:
    up = pygit2.Repository(str(remotes / "alpha"))
    tag(up, "v1", head_sha(up))
    m = manifest_for(remotes, "alpha", revision="v1")
    run(ws, m)
    result = run(ws, m, urls=lambda p: ("http://127.0.0.1:9/x",), timeout=2)
    assert result.ok and outcome(result, "alpha").action is Action.UNCHANGED


@pytest.mark.parametrize("pin", ["sha", "tag"])
def test_network_only_refreshes_branches_and_tags_whatever_the_pins(remotes: Path, ws: Path, pin: str) -> None:
    """A present pin needs no network on a plain sync; -n still brings new releases and branches."""
    up = pygit2.Repository(str(remotes / "alpha"))
    old = head_sha(up)
    tag(up, "RELEASE-0.1.0", old)
    m = manifest_for(remotes, "alpha", revision=old if pin == "sha" else "refs/tags/RELEASE-0.1.0")
    run(ws, m)
    tag(up, "RELEASE-0.2.0", commit(up, {"README": "0.2.0\n"}), annotated=True)
    commit(up, {"README": "next\n"}, branch="staging")
    plain = run(ws, m)
    repo = pygit2.Repository(str(ws / "alpha"))
    assert outcome(plain, "alpha").action is Action.UNCHANGED
    assert "refs/tags/RELEASE-0.2.0" not in repo.references
    refreshed = run(ws, m, checkout=False)
    assert outcome(refreshed, "alpha").action is Action.UNCHANGED and outcome(refreshed, "alpha").sha == old
    assert {"refs/tags/RELEASE-0.2.0", "refs/remotes/origin/staging", "refs/remotes/origin/main"} <= set(
        repo.references
    )
    assert str(repo.head.target) == old and (ws / "alpha" / "README").read_text() == "alpha\n"


def test_fallback_url_is_tried_in_order(remotes: Path, ws: Path) -> None:
    urls = ("http://127.0.0.1:9/dead", file_url(remotes / "alpha"))
    result = run(ws, manifest_for(remotes, "alpha"), urls=lambda p: urls, timeout=2)
    assert result.ok and outcome(result, "alpha").action is Action.CLONED


def test_unreachable_remote_fails_alone(remotes: Path, ws: Path) -> None:
    m = make_manifest(
        make_project("alpha", file_url(remotes / "alpha")),
        make_project("broken", file_url(remotes / "missing")),
        make_project("beta", file_url(remotes / "beta")),
    )
    result = run(ws, m)
    assert not result.ok
    assert outcome(result, "alpha").action is Action.CLONED
    assert outcome(result, "beta").action is Action.CLONED
    broken = outcome(result, "broken")
    assert broken.action is Action.FAILED
    assert broken.message.startswith("broken (broken): ")
    assert file_url(remotes / "missing") in broken.message
    assert not (ws / "broken").exists()


def test_fail_fast_stops_starting_projects(remotes: Path, ws: Path) -> None:
    m = make_manifest(
        make_project("broken", file_url(remotes / "missing")),
        *(make_project(n, file_url(remotes / n)) for n in ("alpha", "beta", "gamma")),
    )
    result = run(ws, m, fail_fast=True, jobs=1)
    assert not result.ok
    assert outcome(result, "broken").action is Action.FAILED
    assert {outcome(result, n).action for n in ("alpha", "beta", "gamma")} == {Action.SKIPPED}


def test_local_only_never_clones(remotes: Path, ws: Path) -> None:
    result = run(ws, manifest_for(remotes, "alpha"), fetch=False)
    o = outcome(result, "alpha")
    assert o.action is Action.FAILED and "--local-only" in o.message
    assert not (ws / "alpha").exists()


def test_only_selects_projects(remotes: Path, ws: Path) -> None:
    result = run(ws, manifest_for(remotes, "alpha", "beta"), only=("beta",))
    assert [o.path for o in result.outcomes] == ["beta"]
    assert not (ws / "alpha").exists()


def test_nested_projects(remotes: Path, ws: Path) -> None:
    m = make_manifest(
        make_project("beta", file_url(remotes / "beta"), path="alpha/beta"),
        make_project("alpha", file_url(remotes / "alpha"), path="alpha"),
    )
    result = run(ws, m, jobs=4)
    assert result.ok, result
    assert (ws / "alpha" / "README").read_text() == "alpha\n"
    assert (ws / "alpha" / "beta" / "README").read_text() == "beta\n"


def test_existing_non_repository_directory_is_not_touched(remotes: Path, ws: Path) -> None:
    (ws / "alpha").mkdir()
    (ws / "alpha" / "mine.txt").write_text("mine\n")
    result = run(ws, manifest_for(remotes, "alpha"))
    assert outcome(result, "alpha").action is Action.SKIPPED
    assert (ws / "alpha" / "mine.txt").read_text() == "mine\n"


def test_copyfile_and_linkfile(remotes: Path, ws: Path) -> None:
    p = make_project(
        "alpha",
        file_url(remotes / "alpha"),
        copyfiles=(CopyFile(src="README", dest="top/README.copy"),),
        linkfiles=(LinkFile(src="src", dest="src-link"),),
    )
    result = run(ws, make_manifest(p))
    assert result.ok, result
    assert (ws / "top" / "README.copy").read_text() == "alpha\n"
    assert os.readlink(ws / "src-link") == "alpha/src"
    assert (ws / "src-link" / "a.c").read_text() == "int a;\n"


@pytest.mark.parametrize(
    ("files", "copy", "link", "fragment"),
    [
        ({"evil": ("link", "/etc/passwd")}, CopyFile(src="evil", dest="x"), None, "outside its project"),
        ({}, CopyFile(src="README", dest="../x"), None, "'..'"),
        ({}, CopyFile(src="README", dest="/tmp/x"), None, "relative"),
        ({}, None, LinkFile(src="../../etc", dest="etc"), "'..'"),
        ({}, CopyFile(src="README", dest="out/x"), None, "outside the workspace"),
        ({}, CopyFile(src="README", dest=".ukws/x"), None, ".ukws"),
    ],
)
def test_copy_and_link_files_never_leave_the_workspace(
    tmp_path: Path,
    ws: Path,
    files: dict[str, Any],
    copy: CopyFile | None,
    link: LinkFile | None,
    fragment: str,
) -> None:
    up = upstream(tmp_path / "up" / "alpha", {"README": "x\n"})
    for name, (_, target) in files.items():
        index = pygit2.Index()
        index.read_tree(up.head.peel(pygit2.Commit).tree)
        index.add(pygit2.IndexEntry(name, up.create_blob(target.encode()), pygit2.enums.FileMode.LINK))
        tree = index.write_tree(up)
        sig = pygit2.Signature("t", "t@x", 1, 0)
        up.create_commit("refs/heads/main", sig, sig, "link", tree, [up.head.target])
    outside = tmp_path / "outside"
    outside.mkdir()
    (ws / "out").symlink_to(outside)
    p = make_project(
        "alpha",
        file_url(tmp_path / "up" / "alpha"),
        copyfiles=(copy,) if copy else (),
        linkfiles=(link,) if link else (),
    )
    result = run(ws, make_manifest(p))
    o = outcome(result, "alpha")
    assert o.action is Action.FAILED and fragment in o.message
    assert list(outside.iterdir()) == []


def test_refused_urls_and_revisions(remotes: Path, ws: Path) -> None:
    m = make_manifest(
        make_project("ext", "ext::sh -c touch% /tmp/pwned"),
        make_project("opt", "--upload-pack=touch /tmp/pwned"),
        make_project("rev", file_url(remotes / "alpha"), revision="--output=/tmp/x"),
    )
    result = run(ws, m)
    assert [o.action for o in result.outcomes] == [Action.FAILED] * 3
    assert "not allowed" in outcome(result, "ext").message
    assert "refusing" in outcome(result, "opt").message
    assert "refusing revision" in outcome(result, "rev").message


def test_removed_project_is_reported_then_pruned_only_without_work(remotes: Path, ws: Path) -> None:
    run(ws, manifest_for(remotes, "alpha", "beta", "gamma"))
    result = run(ws, manifest_for(remotes, "alpha"))
    assert result.ok
    assert {o.path: o.action for o in result.outcomes if o.path != "alpha"} == {
        "beta": Action.REMOVED,
        "gamma": Action.REMOVED,
    }
    (ws / "gamma" / "notes.txt").write_text("mine\n")
    pruned = run(ws, manifest_for(remotes, "alpha"), prune=True)
    assert not pruned.ok
    assert outcome(pruned, "beta").action is Action.PRUNED
    assert not (ws / "beta").exists()
    refused = outcome(pruned, "gamma")
    assert refused.action is Action.SKIPPED and "untracked" in refused.message
    assert (ws / "gamma" / "notes.txt").read_text() == "mine\n"


def test_mirror_and_reference(remotes: Path, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    m = manifest_for(remotes, "alpha", "beta")
    result = run(mirror, m, mirror=True)
    assert result.ok, result
    bare = pygit2.Repository(str(mirror / "alpha.git"))
    assert bare.is_bare and "refs/heads/main" in bare.references
    ws = tmp_path / "ws2"
    ws.mkdir()
    result = run(ws, m, reference=mirror)
    assert result.ok, result
    alternates = (ws / "alpha" / ".git" / "objects" / "info" / "alternates").read_text()
    assert str((mirror / "alpha.git" / "objects").resolve()) in alternates
    assert (ws / "alpha" / "README").read_text() == "alpha\n"


def test_second_sync_in_same_workspace_is_refused(remotes: Path, ws: Path) -> None:
    from ukws.errors import WorkspaceError
    from ukws.sync.journal import workspace_lock

    with workspace_lock(ws / ".ukws" / "sync"), pytest.raises(WorkspaceError, match="another ukws sync"):
        run(ws, manifest_for(remotes, "alpha"))


def test_reference_mirror_spares_the_network(remotes: Path, tmp_path: Path) -> None:
    """A commit the reference mirror holds is not downloaded: the project's URL may even be dead."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    assert run(mirror, manifest_for(remotes, "alpha"), mirror=True).ok
    sha = head_sha(pygit2.Repository(str(remotes / "alpha")))
    ws = tmp_path / "ws2"
    ws.mkdir()
    dead = make_manifest(make_project("alpha", "http://127.0.0.1:9/alpha.git", revision=sha))
    result = run(ws, dead, reference=mirror, timeout=2)
    assert result.ok, result
    assert (ws / "alpha" / "README").read_text() == "alpha\n"


def test_mirror_serves_as_a_fetch_base(remotes: Path, tmp_path: Path) -> None:
    """A URL rewritten to ``<mirror>/<name>`` finds the mirror's ``<name>.git``."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    assert run(mirror, manifest_for(remotes, "alpha"), mirror=True).ok
    new = commit(pygit2.Repository(str(remotes / "alpha")), {"README": "moved\n"})
    assert outcome(run(mirror, manifest_for(remotes, "alpha"), mirror=True), "alpha").action is Action.FETCHED
    ws = tmp_path / "ws2"
    ws.mkdir()
    result = run(ws, make_manifest(make_project("alpha", file_url(mirror / "alpha"))))
    assert result.ok and outcome(result, "alpha").sha == new


def test_copy_and_link_files_dropped_from_the_manifest_are_removed(remotes: Path, ws: Path) -> None:
    url = file_url(remotes / "alpha")
    full = make_project(
        "alpha",
        url,
        copyfiles=(CopyFile(src="README", dest="a.copy"), CopyFile(src="README", dest="b.copy")),
        linkfiles=(LinkFile(src="src", dest="src-link"),),
    )
    assert run(ws, make_manifest(full)).ok
    (ws / "b.copy").write_text("edited by the user\n")
    assert run(ws, make_manifest(make_project("alpha", url))).ok
    assert not (ws / "a.copy").exists() and not (ws / "src-link").is_symlink()
    assert (ws / "b.copy").read_text() == "edited by the user\n"


def test_network_only_clone_then_local_only_checkout(remotes: Path, ws: Path) -> None:
    m = manifest_for(remotes, "alpha")
    first = run(ws, m, checkout=False)
    assert outcome(first, "alpha").action is Action.CLONED
    assert pygit2.Repository(str(ws / "alpha")).head_is_unborn
    assert not (ws / "alpha" / "README").exists()
    second = run(ws, m, fetch=False)
    assert outcome(second, "alpha").action is Action.UPDATED
    assert (ws / "alpha" / "README").read_text() == "alpha\n"


def test_unknown_project_is_a_usage_error(remotes: Path, ws: Path) -> None:
    from ukws.errors import UsageError

    with pytest.raises(UsageError, match="no project 'nope'"):
        run(ws, manifest_for(remotes, "alpha"), only=("nope",))


def test_other_refs_and_local_only_misses(remotes: Path, ws: Path) -> None:
    up = pygit2.Repository(str(remotes / "alpha"))
    change = commit(up, {"README": "review\n"}, branch="tmp")
    up.references.create("refs/changes/01/1/1", pygit2.Oid(hex=change))
    result = run(ws, manifest_for(remotes, "alpha", revision="refs/changes/01/1/1"))
    assert result.ok and outcome(result, "alpha").sha == change
    missing = run(ws, manifest_for(remotes, "alpha", revision="v9"), fetch=False)
    o = outcome(missing, "alpha")
    assert o.action is Action.FAILED and "v9 is not present locally" in o.message


def test_configured_remote_follows_the_url(remotes: Path, ws: Path) -> None:
    run(ws, manifest_for(remotes, "alpha"))
    repo = pygit2.Repository(str(ws / "alpha"))
    assert repo.remotes["origin"].url == file_url(remotes / "alpha")
    moved = remotes.parent / "moved"
    (remotes / "alpha").rename(moved)
    commit(pygit2.Repository(str(moved)), {"README": "moved\n"})
    result = run(ws, make_manifest(make_project("alpha", file_url(moved))))
    assert outcome(result, "alpha").action is Action.UPDATED
    assert pygit2.Repository(str(ws / "alpha")).remotes["origin"].url == file_url(moved)


def test_copyfile_never_overwrites_a_file_edited_since(remotes: Path, ws: Path) -> None:
    p = make_project("alpha", file_url(remotes / "alpha"), copyfiles=(CopyFile(src="README", dest="top.txt"),))
    run(ws, make_manifest(p))
    commit(pygit2.Repository(str(remotes / "alpha")), {"README": "upstream moved\n"})
    (ws / "top.txt").chmod(0o644)  # a copy is read-only: an edit starts here
    (ws / "top.txt").write_text("my local edit\n")
    result = run(ws, make_manifest(p))
    o = outcome(result, "alpha")
    assert o.action is Action.FAILED and "top.txt" in o.message and "move it away" in o.message
    assert (ws / "top.txt").read_text() == "my local edit\n"
    (ws / "top.txt").unlink()
    assert run(ws, make_manifest(p)).ok
    assert (ws / "top.txt").read_text() == "upstream moved\n"
    commit(pygit2.Repository(str(remotes / "alpha")), {"README": "again\n"})
    assert run(ws, make_manifest(p)).ok  # sync's own copy is replaced
    assert (ws / "top.txt").read_text() == "again\n"


def test_linkfile_never_replaces_a_file(remotes: Path, ws: Path) -> None:
    (ws / "src-link").write_text("mine\n")
    p = make_project("alpha", file_url(remotes / "alpha"), linkfiles=(LinkFile(src="src", dest="src-link"),))
    o = outcome(run(ws, make_manifest(p)), "alpha")
    assert o.action is Action.FAILED and "is a file, not a link" in o.message
    assert (ws / "src-link").read_text() == "mine\n"


@pytest.mark.parametrize("path", ["out/alpha", "out"])
def test_project_path_through_a_symlink_is_refused(remotes: Path, ws: Path, tmp_path: Path, path: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("keep\n")
    (ws / "out").symlink_to(outside)
    result = run(ws, make_manifest(make_project("alpha", file_url(remotes / "alpha"), path=path)))
    o = outcome(result, path)
    assert o.action in (Action.FAILED, Action.SKIPPED) and "outside the workspace" in o.message
    assert sorted(p.name for p in outside.iterdir()) == ["keep"]


def test_every_branch_and_tag_is_fetched_for_the_resolver(remotes: Path, ws: Path) -> None:
    """Like repo, a sync brings all branches and tags (release tags and channel branches are what
    version resolution reads); sync-c limits it to the revision, sync-tags="false" drops tags."""
    up = pygit2.Repository(str(remotes / "alpha"))
    first = head_sha(up)
    tag(up, "RELEASE-0.1.0", first)
    stable = commit(up, {"README": "stable\n"}, branch="stable")
    tag(up, "RELEASE-0.2.0", stable, annotated=True)
    result = run(ws, manifest_for(remotes, "alpha", revision="refs/tags/RELEASE-0.1.0"))
    assert result.ok, result
    repo = pygit2.Repository(str(ws / "alpha"))
    assert {"refs/tags/RELEASE-0.1.0", "refs/tags/RELEASE-0.2.0", "refs/remotes/origin/stable"} <= set(
        repo.references
    )
    only = tmp_ws(ws.parent / "only")
    result = run(only, manifest_for(remotes, "alpha", revision="refs/tags/RELEASE-0.1.0", sync_c=True))
    assert result.ok, result
    refs = set(pygit2.Repository(str(only / "alpha")).references)
    assert "refs/tags/RELEASE-0.1.0" in refs and "refs/remotes/origin/stable" not in refs
    notags = tmp_ws(ws.parent / "notags")
    result = run(notags, manifest_for(remotes, "alpha", revision="stable", sync_tags=False))
    assert result.ok, result
    refs = set(pygit2.Repository(str(notags / "alpha")).references)
    assert "refs/remotes/origin/stable" in refs and not any(r.startswith("refs/tags/") for r in refs)


def tmp_ws(path: Path) -> Path:
    path.mkdir()
    return path


def test_copyfile_is_read_only_and_linkfile_may_link_the_project(remotes: Path, ws: Path) -> None:
    """As repo: a copy is written without write bits (execute bits kept); ``<linkfile src=".">``
    links the project folder itself."""
    up = pygit2.Repository(str(remotes / "alpha"))
    index = pygit2.Index()
    index.read_tree(up.head.peel(pygit2.Commit).tree)
    index.add(pygit2.IndexEntry("run.sh", up.create_blob(b"#!/bin/sh\n"), pygit2.enums.FileMode.BLOB_EXECUTABLE))
    sig = pygit2.Signature("t", "t@x", 1, 0)
    up.create_commit("refs/heads/main", sig, sig, "exec", index.write_tree(up), [up.head.target])
    p = make_project(
        "alpha",
        file_url(remotes / "alpha"),
        copyfiles=(CopyFile(src="README", dest="README.copy"), CopyFile(src="run.sh", dest="bin/run.sh")),
        linkfiles=(LinkFile(src=".", dest="links/alpha"),),
    )
    result = run(ws, make_manifest(p))
    assert result.ok, result
    assert (ws / "README.copy").stat().st_mode & 0o777 == 0o444
    assert (ws / "bin" / "run.sh").stat().st_mode & 0o777 == 0o555
    assert os.readlink(ws / "links" / "alpha") == "../alpha"
    assert (ws / "links" / "alpha" / "src" / "a.c").read_text() == "int a;\n"
    commit(pygit2.Repository(str(remotes / "alpha")), {"README": "moved on\n"})
    assert run(ws, make_manifest(p)).ok  # a read-only copy of sync's own is still replaced
    assert (ws / "README.copy").read_text() == "moved on\n"
    assert (ws / "README.copy").stat().st_mode & 0o777 == 0o444
    (ws / "README.copy").chmod(0o644)  # left writable (by an older ukws): made read-only again
    assert run(ws, make_manifest(p)).ok
    assert (ws / "README.copy").stat().st_mode & 0o777 == 0o444
