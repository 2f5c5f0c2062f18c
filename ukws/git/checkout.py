"""Moving a working tree: checkout with conflict detection, interrupted-checkout repair, replay of local commits.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pygit2

from ukws.errors import GitError
from ukws.git.repo import one_line, set_ref


class CheckoutConflict(GitError):
    """A checkout would overwrite local changes; nothing was written."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = tuple(sorted(paths))
        more = f" and {len(self.paths) - 5} more" if len(self.paths) > 5 else ""
        shown = ", ".join(self.paths[:5]) + more
        super().__init__(f"local changes would be overwritten: {shown or 'unknown files'}")


class _ConflictCollector(pygit2.CheckoutCallbacks):
    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    def checkout_notify_flags(self) -> Any:
        return pygit2.enums.CheckoutNotify.CONFLICT

    def checkout_notify(self, why: Any, path: str, baseline: Any, target: Any, workdir: Any) -> None:
        self.paths.append(path)


_SAFE = pygit2.enums.CheckoutStrategy.SAFE | pygit2.enums.CheckoutStrategy.DONT_OVERWRITE_IGNORED


def checkout(repo: pygit2.Repository, sha: str, *, branch: str | None = None) -> None:
    """Check out commit ``sha`` without overwriting anything uncommitted, untracked or ignored, then
    point HEAD at it: detached, or on ``branch`` (created or moved to ``sha``).

    Local changes to files the checkout does not touch are carried over. When any file would be
    overwritten, raises :class:`CheckoutConflict` before writing anything.
    """
    commit = repo[pygit2.Oid(hex=sha)].peel(pygit2.Commit)
    collector = _ConflictCollector()
    try:
        repo.checkout_tree(commit, strategy=_SAFE, callbacks=collector)  # type: ignore[no-untyped-call]
    except pygit2.GitError as e:
        if collector.paths or "conflict" in str(e):
            raise CheckoutConflict(collector.paths) from None
        raise GitError(one_line(e)) from None
    if branch is None:
        repo.set_head(commit.id)
    else:
        set_ref(repo, f"refs/heads/{branch}", sha, "ukws sync")
        repo.set_head(f"refs/heads/{branch}")


def _workdir_blob(path: Path) -> str | None:
    """The blob id of a working tree file (a symlink hashes its target text), None if absent."""
    try:
        if path.is_symlink():
            return str(pygit2.hash(os.readlink(path).encode()))
        if path.is_file():
            return str(pygit2.hashfile(str(path)))
    except OSError:
        return None
    return None


def finish_interrupted_checkout(
    repo: pygit2.Repository, old: str | None, new: str, *, branch: str | None, keep_dir: Path
) -> tuple[str, ...]:
    """Complete a checkout from ``old`` to ``new`` that was killed half-way.

    The checkout only started because every file it changes held ``old``'s content (or already
    ``new``'s), so those files are forced to ``new``. A file holding anything else was being written
    when the checkout died, or was edited since: it is first copied to ``keep_dir/<path>``.
    Returns the paths copied.
    """
    new_tree = repo[pygit2.Oid(hex=new)].peel(pygit2.Commit).tree
    if old is None:
        diff = new_tree.diff_to_tree(swap=True)
    else:
        diff = repo[pygit2.Oid(hex=old)].peel(pygit2.Commit).tree.diff_to_tree(new_tree)
    workdir = Path(repo.workdir)
    paths: set[str] = set()
    kept: list[str] = []
    for delta in diff.deltas:
        for f in {delta.old_file.path, delta.new_file.path}:
            paths.add(f)
            have = _workdir_blob(workdir / f)
            if have is None or have in {str(delta.old_file.id), str(delta.new_file.id)}:
                continue
            copy = keep_dir / f
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(workdir / f, copy, follow_symlinks=False)
            kept.append(f)
    if paths:
        force = pygit2.enums.CheckoutStrategy.FORCE
        repo.checkout_tree(new_tree, strategy=force, paths=sorted(paths))  # type: ignore[no-untyped-call]
    if branch is None:
        repo.set_head(pygit2.Oid(hex=new))
    else:
        set_ref(repo, f"refs/heads/{branch}", new, "ukws sync (repaired)")
        repo.set_head(f"refs/heads/{branch}")
    return tuple(sorted(kept))


def remove_stale_locks(gitdir: Path) -> None:
    """Delete lock and temporary files a killed libgit2 operation left behind in ``gitdir``.

    Only call this for a repository ukws was writing to when it was killed (its journal says so).
    """
    for path in gitdir.rglob("*.lock"):
        if path.is_file():
            path.unlink(missing_ok=True)
    pack = gitdir / "objects" / "pack"
    if pack.is_dir():
        for path in pack.glob("pack_git2_*"):
            path.unlink(missing_ok=True)


class RebaseConflict(GitError):
    """Replaying a local commit onto the new revision conflicts; nothing was changed."""


def replay(repo: pygit2.Repository, tip: str, onto: str, *, hide: Sequence[str] = ()) -> str:
    """Replay the commits of ``tip`` that are not in ``onto`` (nor in ``hide``) on top of ``onto``.

    Works in memory: only new objects are written, no ref, index or file. Returns the new tip.
    """
    walker = repo.walk(pygit2.Oid(hex=tip), pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.REVERSE)
    walker.hide(pygit2.Oid(hex=onto))
    for h in hide:
        if h in repo:
            walker.hide(pygit2.Oid(hex=h))
    base = repo[pygit2.Oid(hex=onto)].peel(pygit2.Commit)
    for c in list(walker):
        if len(c.parents) != 1:
            raise RebaseConflict(f"commit {str(c.id)[:12]} is a merge or a root commit; rebase it by hand")
        index = repo.merge_trees(c.parents[0].tree, base.tree, c.tree)
        if index.conflicts is not None:
            raise RebaseConflict(f"commit {str(c.id)[:12]} ({c.message.splitlines()[0]!r}) conflicts")
        tree = index.write_tree(repo)
        committer = pygit2.Signature(c.committer.name, c.committer.email)
        new = repo.create_commit(None, c.author, committer, c.message, tree, [base.id])
        base = repo[new].peel(pygit2.Commit)
    return str(base.id)

