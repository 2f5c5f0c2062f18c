"""ukws sync never loses a user's work: uncommitted changes, detached commits, local branches,
untracked and ignored files, stashes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pygit2
import pytest

from tests.gitutil import commit, file_url, make_manifest, make_project, upstream
from ukws.manifest.model import Manifest
from ukws.sync.engine import Action, SyncOptions, SyncResult, sync


def run(root: Path, manifest: Manifest, **options: Any) -> SyncResult:
    return sync(root=root, state_dir=root / ".ukws", manifest=manifest, options=SyncOptions(**options))


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, pygit2.Repository, Manifest]:
    """A workspace with 'alpha' and 'beta' synced; returns (root, alpha upstream, manifest)."""
    up = upstream(tmp_path / "up" / "alpha", {"README": "one\n", "keep.txt": "keep\n", ".gitignore": "*.o\n"})
    upstream(tmp_path / "up" / "beta")
    m = make_manifest(
        make_project("alpha", file_url(tmp_path / "up" / "alpha")),
        make_project("beta", file_url(tmp_path / "up" / "beta")),
    )
    root = tmp_path / "ws"
    root.mkdir()
    assert run(root, m).ok
    return root, up, m


def local_commit(repo: pygit2.Repository, files: dict[str, str], message: str = "local") -> str:
    """Commit in a working repository as a user would: files written, added, committed on HEAD."""
    for name, text in files.items():
        (Path(repo.workdir) / name).write_text(text)
        repo.index.add(name)
    repo.index.write()
    tree = repo.index.write_tree()
    sig = pygit2.Signature("user", "user@example.invalid", 1_800_000_000, 0)
    return str(repo.create_commit("HEAD", sig, sig, message, tree, [repo.head.target]))


def outcome(result: SyncResult, path: str) -> Any:
    return next(o for o in result.outcomes if o.path == path)


def test_uncommitted_changes_the_update_does_not_touch_are_carried_over(setup: Any) -> None:
    root, up, m = setup
    (root / "alpha" / "keep.txt").write_text("my edit\n")
    new = commit(up, {"README": "two\n"})
    result = run(root, m)
    assert result.ok
    assert outcome(result, "alpha").action is Action.UPDATED
    assert str(pygit2.Repository(str(root / "alpha")).head.target) == new
    assert (root / "alpha" / "README").read_text() == "two\n"
    assert (root / "alpha" / "keep.txt").read_text() == "my edit\n"


def test_uncommitted_changes_the_update_would_overwrite_skip_the_project(setup: Any) -> None:
    root, up, m = setup
    before = str(pygit2.Repository(str(root / "alpha")).head.target)
    (root / "alpha" / "README").write_text("my edit\n")
    commit(up, {"README": "two\n", "new.txt": "new\n"})
    result = run(root, m)
    assert not result.ok
    o = outcome(result, "alpha")
    assert o.action is Action.SKIPPED
    assert "README" in o.message and "commit or stash" in o.message and o.message.startswith("alpha (alpha)")
    assert outcome(result, "beta").action is Action.UNCHANGED
    assert (root / "alpha" / "README").read_text() == "my edit\n"
    assert not (root / "alpha" / "new.txt").exists()
    assert str(pygit2.Repository(str(root / "alpha")).head.target) == before


def test_untracked_file_in_the_way_skips_the_project(setup: Any) -> None:
    root, up, m = setup
    (root / "alpha" / "new.txt").write_text("mine\n")
    commit(up, {"new.txt": "theirs\n"})
    result = run(root, m)
    assert outcome(result, "alpha").action is Action.SKIPPED
    assert (root / "alpha" / "new.txt").read_text() == "mine\n"


def test_ignored_file_in_the_way_skips_the_project(setup: Any) -> None:
    root, up, m = setup
    (root / "alpha" / "build.o").write_text("mine\n")
    commit(up, {"build.o": "theirs\n"})
    result = run(root, m)
    assert outcome(result, "alpha").action is Action.SKIPPED
    assert (root / "alpha" / "build.o").read_text() == "mine\n"


def test_untracked_ignored_files_and_stashes_survive(setup: Any) -> None:
    root, up, m = setup
    repo = pygit2.Repository(str(root / "alpha"))
    (root / "alpha" / "keep.txt").write_text("stashed edit\n")
    stash = repo.stash(pygit2.Signature("user", "user@example.invalid", 1_800_000_000, 0), "wip")
    (root / "alpha" / "notes.txt").write_text("untracked\n")
    (root / "alpha" / "out.o").write_text("ignored\n")
    commit(up, {"README": "two\n"})
    assert run(root, m).ok
    repo = pygit2.Repository(str(root / "alpha"))
    assert repo.references["refs/stash"].target == stash
    assert (root / "alpha" / "notes.txt").read_text() == "untracked\n"
    assert (root / "alpha" / "out.o").read_text() == "ignored\n"


def test_commits_on_a_detached_head_are_kept_on_a_recovery_ref(setup: Any) -> None:
    root, up, m = setup
    repo = pygit2.Repository(str(root / "alpha"))
    mine = local_commit(repo, {"mine.txt": "mine\n"})
    new = commit(up, {"README": "two\n"})
    result = run(root, m)
    o = outcome(result, "alpha")
    assert result.ok and o.action is Action.UPDATED
    assert o.recovery_ref is not None and o.recovery_ref.startswith("refs/ukws/recovery/")
    assert o.recovery_ref in o.message and "switch -c" in o.message
    repo = pygit2.Repository(str(root / "alpha"))
    assert str(repo.references[o.recovery_ref].target) == mine
    assert str(repo.head.target) == new
    # a second sync has nothing more to keep
    again = run(root, m)
    assert outcome(again, "alpha").recovery_ref is None


def test_local_branch_with_commits_is_left_alone(setup: Any) -> None:
    root, up, m = setup
    repo = pygit2.Repository(str(root / "alpha"))
    repo.create_branch("work", repo.head.peel(pygit2.Commit))
    repo.checkout("refs/heads/work")
    mine = local_commit(repo, {"mine.txt": "mine\n"})
    commit(up, {"README": "two\n"})
    result = run(root, m)
    o = outcome(result, "alpha")
    assert result.ok and o.action is Action.UNCHANGED and "--rebase" in o.message
    repo = pygit2.Repository(str(root / "alpha"))
    assert repo.head.shorthand == "work" and str(repo.head.target) == mine
    assert (root / "alpha" / "README").read_text() == "one\n"


def test_local_branch_without_commits_is_fast_forwarded(setup: Any) -> None:
    root, up, m = setup
    repo = pygit2.Repository(str(root / "alpha"))
    repo.create_branch("work", repo.head.peel(pygit2.Commit))
    repo.checkout("refs/heads/work")
    new = commit(up, {"README": "two\n"})
    result = run(root, m)
    assert outcome(result, "alpha").action is Action.UPDATED
    repo = pygit2.Repository(str(root / "alpha"))
    assert repo.head.shorthand == "work" and str(repo.head.target) == new


def test_rebase_replays_local_commits(setup: Any) -> None:
    root, up, m = setup
    repo = pygit2.Repository(str(root / "alpha"))
    repo.create_branch("work", repo.head.peel(pygit2.Commit))
    repo.checkout("refs/heads/work")
    local_commit(repo, {"mine.txt": "mine\n"}, "my change")
    new = commit(up, {"README": "two\n"})
    result = run(root, m, rebase=True)
    assert outcome(result, "alpha").action is Action.UPDATED
    repo = pygit2.Repository(str(root / "alpha"))
    tip = repo.head.peel(pygit2.Commit)
    assert repo.head.shorthand == "work" and tip.message == "my change"
    assert str(tip.parents[0].id) == new
    assert (root / "alpha" / "README").read_text() == "two\n"
    assert (root / "alpha" / "mine.txt").read_text() == "mine\n"


def test_failed_rebase_is_aborted_cleanly(setup: Any) -> None:
    root, up, m = setup
    repo = pygit2.Repository(str(root / "alpha"))
    repo.create_branch("work", repo.head.peel(pygit2.Commit))
    repo.checkout("refs/heads/work")
    mine = local_commit(repo, {"README": "mine\n"})
    (root / "alpha" / "notes.txt").write_text("untracked\n")
    commit(up, {"README": "theirs\n"})
    result = run(root, m, rebase=True)
    o = outcome(result, "alpha")
    assert not result.ok and o.action is Action.SKIPPED and "aborted" in o.message
    repo = pygit2.Repository(str(root / "alpha"))
    assert repo.head.shorthand == "work" and str(repo.head.target) == mine
    assert (root / "alpha" / "README").read_text() == "mine\n"
    assert repo.status() == {"notes.txt": pygit2.enums.FileStatus.WT_NEW}


def test_prune_refuses_local_commits_and_stashes(setup: Any, tmp_path: Path) -> None:
    root, _up, m = setup
    repo = pygit2.Repository(str(root / "beta"))
    local_commit(repo, {"mine.txt": "mine\n"})
    only_alpha = make_manifest(m.projects[0])
    result = run(root, only_alpha, prune=True)
    o = outcome(result, "beta")
    assert o.action is Action.SKIPPED and "local commits on HEAD" in o.message
    assert (root / "beta" / "mine.txt").exists()


def test_detached_commits_with_conflicting_changes_stay_where_they_are(setup: Any) -> None:
    root, up, m = setup
    repo = pygit2.Repository(str(root / "alpha"))
    mine = local_commit(repo, {"mine.txt": "mine\n"})
    (root / "alpha" / "README").write_text("dirty\n")
    commit(up, {"README": "two\n"})
    result = run(root, m)
    o = outcome(result, "alpha")
    assert o.action is Action.SKIPPED and o.recovery_ref is None
    repo = pygit2.Repository(str(root / "alpha"))
    assert str(repo.head.target) == mine
    assert not [r for r in repo.references if r.startswith("refs/ukws/recovery/")]


def test_branch_ahead_of_the_revision_is_left_alone(setup: Any) -> None:
    root, _up, m = setup
    repo = pygit2.Repository(str(root / "alpha"))
    repo.create_branch("work", repo.head.peel(pygit2.Commit))
    repo.checkout("refs/heads/work")
    mine = local_commit(repo, {"mine.txt": "mine\n"})
    result = run(root, m)
    o = outcome(result, "alpha")
    assert result.ok and o.action is Action.UNCHANGED and "ahead" in o.message and o.sha == mine


def test_fast_forward_blocked_by_local_changes_skips(setup: Any) -> None:
    root, up, m = setup
    repo = pygit2.Repository(str(root / "alpha"))
    repo.create_branch("work", repo.head.peel(pygit2.Commit))
    repo.checkout("refs/heads/work")
    before = str(repo.head.target)
    (root / "alpha" / "README").write_text("dirty\n")
    commit(up, {"README": "two\n"})
    o = outcome(run(root, m), "alpha")
    assert o.action is Action.SKIPPED and "fast-forwarded" in o.message
    assert str(pygit2.Repository(str(root / "alpha")).head.target) == before


def test_rebase_blocked_by_local_changes_is_aborted(setup: Any) -> None:
    root, up, m = setup
    repo = pygit2.Repository(str(root / "alpha"))
    repo.create_branch("work", repo.head.peel(pygit2.Commit))
    repo.checkout("refs/heads/work")
    mine = local_commit(repo, {"mine.txt": "mine\n"})
    (root / "alpha" / "README").write_text("dirty\n")
    commit(up, {"README": "two\n"})
    o = outcome(run(root, m, rebase=True), "alpha")
    assert o.action is Action.SKIPPED and "aborted" in o.message
    repo = pygit2.Repository(str(root / "alpha"))
    assert str(repo.head.target) == mine and (root / "alpha" / "README").read_text() == "dirty\n"


def test_prune_refuses_a_stash(setup: Any) -> None:
    root, _up, m = setup
    repo = pygit2.Repository(str(root / "beta"))
    (root / "beta" / "README").write_text("stashed\n")
    repo.stash(pygit2.Signature("user", "user@example.invalid", 1_800_000_000, 0), "wip")
    o = outcome(run(root, make_manifest(m.projects[0]), prune=True), "beta")
    assert o.action is Action.SKIPPED and "a stash" in o.message
    assert (root / "beta" / ".git").is_dir()
