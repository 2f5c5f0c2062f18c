"""The git layer under sync: URL and revision checks, local sources, replay, crash repair."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pygit2
import pytest

from tests.gitutil import commit, file_url, head_sha, make_manifest, make_project, upstream
from ukws import git
from ukws.errors import GitError
from ukws.sync import journal as syncstate
from ukws.sync.engine import Action, SyncOptions, sync


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/unikraft/unikraft.git",
        "http://127.0.0.1:8080/x.git",
        "git://host/x",
        "ssh://git@host/x",
        "git@github.com:unikraft/unikraft.git",
        "file:///srv/git/x.git",
        "/srv/git/x.git",
        "../x.git",
        "persistent-https://host/x",
        "Persistent-HTTP://host/x",
    ],
)
def test_allowed_urls(url: str) -> None:
    git.check_url(url)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("ext::sh -c touch% /tmp/x", "transport 'ext'"),
        ("fd::17", "transport 'fd'"),
        ("-uhelp", "option-like"),
        ("", "empty"),
        ("https://host/x\n", "control"),
        ("gopher://host/x", "transport 'gopher'"),
        ("sso://host/x", "transport 'sso' needs a git remote helper"),
        ("hg::https://host/x", "transport 'hg' needs a git remote helper"),
        ("ext://host/x", "transport 'ext' is not allowed"),
    ],
)
def test_refused_urls(url: str, fragment: str) -> None:
    with pytest.raises(GitError, match=fragment):
        git.check_url(url)


def test_persistent_schemes_fetch_over_http() -> None:
    assert git.transport_url("persistent-https://host/x") == "https://host/x"
    assert git.transport_url("persistent-http://host/x") == "http://host/x"
    assert git.transport_url("https://host/persistent-https://") == "https://host/persistent-https://"


@pytest.mark.parametrize("rev", ["main", "refs/heads/main", "refs/tags/RELEASE-0.13.1", "a" * 40, "b" * 64])
def test_allowed_revisions(rev: str) -> None:
    git.check_revision(rev)


@pytest.mark.parametrize(
    "rev", ["", "-x", "--upload-pack=x", "a b", "a..b", "HEAD~1", "x^", "a:b", "*", "a\x01b", "x\\y"]
)
def test_refused_revisions(rev: str) -> None:
    with pytest.raises(GitError, match="refusing revision"):
        git.check_revision(rev)


def test_is_sha() -> None:
    assert git.is_sha("a" * 40) and git.is_sha("0" * 64)
    assert not git.is_sha("A" * 40) and not git.is_sha("a" * 39) and not git.is_sha("main")


def test_local_source(tmp_path: Path) -> None:
    upstream(tmp_path / "x.git")
    assert git.local_source(file_url(tmp_path / "x.git")) == tmp_path / "x.git"
    assert git.local_source(file_url(tmp_path / "x")) == tmp_path / "x.git"
    assert git.local_source(str(tmp_path / "x.git")) == tmp_path / "x.git"
    assert git.local_source(file_url(tmp_path / "nothing")) is None
    assert git.local_source("https://host/x.git") is None


def test_replay_and_conflict(tmp_path: Path) -> None:
    repo = upstream(tmp_path / "r", {"a": "a\n", "b": "b\n"})
    base = head_sha(repo)
    for branch in ("upstream", "work", "clash"):
        repo.references.create(f"refs/heads/{branch}", pygit2.Oid(hex=base))
    onto = commit(repo, {"a": "A\n"}, branch="upstream")
    commit(repo, {"b": "B\n"}, "mine", branch="work")
    new = git.replay(repo, head_sha(repo, "refs/heads/work"), onto)
    c = repo[new]
    assert isinstance(c, pygit2.Commit)
    assert c.message == "mine" and str(c.parents[0].id) == onto
    assert git.read_blob(repo, new, "a") == b"A\n" and git.read_blob(repo, new, "b") == b"B\n"
    assert head_sha(repo, "refs/heads/work") != new  # nothing but objects was written
    commit(repo, {"a": "mine\n"}, "clash", branch="clash")
    with pytest.raises(git.RebaseConflict, match="conflicts"):
        git.replay(repo, head_sha(repo, "refs/heads/clash"), onto)


def test_killed_checkout_is_finished_and_odd_files_rescued(tmp_path: Path) -> None:
    """Simulate a sync killed in the middle of a checkout: some files new, one half-written, a lock
    file left in .git. The next sync finishes the checkout and keeps the half-written file."""
    up = upstream(tmp_path / "up", {"f1": "old 1\n", "f2": "old 2\n", "f3": "old 3\n", "keep": "k\n"})
    m = make_manifest(make_project("alpha", file_url(tmp_path / "up")))
    root = tmp_path / "ws"
    root.mkdir()
    assert sync(root=root, state_dir=root / ".ukws", manifest=m, options=SyncOptions()).ok
    old = head_sha(up)
    new = commit(up, {"f1": "new 1\n", "f2": "new 2\n", "f3": "new 3\n", "added": "added\n"})
    work = root / "alpha"
    repo = pygit2.Repository(str(work))
    repo.remotes["origin"].fetch(["+refs/heads/main:refs/remotes/origin/main"])
    (work / "f1").write_text("new 1\n")
    (work / "f2").write_text("new")  # half written
    (work / "keep").write_text("my edit\n")  # the user's, not touched by the update
    (work / ".git" / "index.lock").write_text("")
    journal = syncstate.Journal(root / ".ukws" / "sync", "alpha")
    journal.write(op="checkout", **{"from": old, "to": new, "branch": None})

    result = sync(root=root, state_dir=root / ".ukws", manifest=m, options=SyncOptions(fetch=False))
    o = result.outcomes[0]
    assert result.ok, o
    assert "interrupted checkout" in o.message and "1 file(s)" in o.message
    repo = pygit2.Repository(str(work))
    assert str(repo.head.target) == new
    assert repo.status() == {"keep": pygit2.enums.FileStatus.WT_MODIFIED}
    assert [(work / f).read_text() for f in ("f1", "f2", "f3", "added")] == ["new 1\n", "new 2\n", "new 3\n", "added\n"]
    rescued = list((root / ".ukws" / "sync" / "rescued").glob("*/alpha/f2"))
    assert len(rescued) == 1 and rescued[0].read_text() == "new"
    assert journal.read() is None


def test_noop_sync_touches_no_file(tmp_path: Path) -> None:
    upstream(tmp_path / "up", {"a": "a\n", "dir/b": "b\n"})
    m = make_manifest(make_project("alpha", file_url(tmp_path / "up")))
    root = tmp_path / "ws"
    root.mkdir()
    sync(root=root, state_dir=root / ".ukws", manifest=m, options=SyncOptions())
    gitdir = root / "alpha" / ".git"
    before = {p: p.stat().st_mtime_ns for p in (root / "alpha").rglob("*") if p.is_file()}
    os.utime(gitdir / "index", ns=(1, 1))
    result = sync(root=root, state_dir=root / ".ukws", manifest=m, options=SyncOptions())
    assert result.outcomes[0].action is Action.UNCHANGED
    after = {p: p.stat().st_mtime_ns for p in (root / "alpha").rglob("*") if p.is_file()}
    before[gitdir / "index"] = 1
    assert after == before


def test_state_file_lists_synced_projects(tmp_path: Path) -> None:
    upstream(tmp_path / "up")
    m = make_manifest(make_project("alpha", file_url(tmp_path / "up"), path="libs/alpha"))
    root = tmp_path / "ws"
    root.mkdir()
    sync(root=root, state_dir=root / ".ukws", manifest=m, options=SyncOptions())
    state = json.loads((root / ".ukws" / "sync" / "state.json").read_text())
    assert state["projects"] == [{"path": "libs/alpha", "name": "alpha", "mirror": False}]
