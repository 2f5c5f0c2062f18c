"""Moving a project's working tree to a new commit without losing anything of the user's.

The rules (docs/sync.md): uncommitted changes are carried over or the project is skipped; commits
on a detached HEAD are kept on a recovery ref; local branches are fast-forwarded when they hold
no commits of their own, rebased only when asked, and left alone otherwise; a checkout killed
half-way is finished by the next sync.
"""

from __future__ import annotations

import time
from pathlib import Path

from ukws import git
from ukws.errors import GitError, UkwsError
from ukws.fileops import is_inside
from ukws.manifest.model import Project
from ukws.sync import journal as syncstate
from ukws.sync.model import RECOVERY_PREFIX, SYNCED_REF, Action, Context, ProjectOutcome, Skip, outcome_of, remote_name


def repair(ctx: Context, repo: git.Repository, journal: syncstate.Journal, gitdir: Path) -> str:
    """Finish what a killed sync was doing to this repository. Returns a note for the user ('' when
    there is nothing to say)."""
    entry = journal.read()
    if entry is None:
        return ""
    git.remove_stale_locks(gitdir)
    note = ""
    if entry.get("op") == "checkout":
        new, old, branch = entry.get("to"), entry.get("from"), entry.get("branch")
        problem = _bad_checkout_record(repo, new, old, branch)
        if problem:
            journal.clear()
            return (
                f"the record of an interrupted checkout {problem}; dropped it and left the working tree as it is "
                "(ukws status shows it)"
            )
        assert isinstance(new, str)
        head = git.head(repo)
        if head.sha != new or head.branch != branch:
            keep = ctx.sync_dir / "rescued" / time.strftime("%Y%m%d-%H%M%S", time.gmtime()) / journal.path
            try:
                kept = git.finish_interrupted_checkout(
                    repo, str(old) if old else None, new, branch=str(branch) if branch else None, keep_dir=keep
                )
            except (OSError, ValueError, KeyError, UkwsError) as e:
                journal.clear()
                raise GitError(
                    f"could not finish the interrupted checkout of {new[:12]} ({' '.join(str(e).split())}); "
                    "dropped its record: sync again, or check the project out by hand"
                ) from None
            if kept:
                rel = keep.relative_to(ctx.root) if is_inside(keep, ctx.root) else keep
                note = (
                    f"finished an interrupted checkout; {len(kept)} file(s) it was writing were copied to {rel} "
                    "first, in case they held your edits"
                )
        git.set_ref(repo, SYNCED_REF, new)
    journal.clear()
    return note


def _before_move(ctx: Context, p: Project, rev: str) -> None:
    """Let the caller prepare the working tree for a move (see ``SyncOptions.before_move``)."""
    if ctx.options.before_move is None:
        return
    try:
        ctx.options.before_move(p)
    except UkwsError as e:
        raise Skip(f"not updated to {rev}: {e}") from None


def _bad_checkout_record(repo: git.Repository, new: object, old: object, branch: object) -> str:
    """Why a journal's checkout record cannot be acted on ('' when it can): it must name commits
    the repository holds, and a valid branch name."""
    for what, value, optional in (("commit", new, False), ("starting commit", old, True)):
        if value is None and optional:
            continue
        if not isinstance(value, str) or not git.is_sha(value):
            return f"names no valid {what} ({str(value)[:40]!r})"
        if not git.has_commit(repo, value):
            return f"names {what} {value[:12]}, which the repository does not have"
    if branch is not None:
        try:
            if not isinstance(branch, str):
                raise GitError("not a string")
            git.check_revision(f"refs/heads/{branch}")
        except GitError:
            return f"names no valid branch ({str(branch)[:40]!r})"
    return ""


def update(
    ctx: Context, repo: git.Repository, p: Project, rev: str, target: str, journal: syncstate.Journal
) -> ProjectOutcome:
    """Move the working tree to ``target`` without losing anything (see docs/sync.md)."""
    head = git.head(repo)
    synced = git.ref_target(repo, SYNCED_REF)
    if head.sha == target:
        if synced != target:
            git.set_ref(repo, SYNCED_REF, target)
        return outcome_of(p, Action.UNCHANGED, sha=target)
    if head.branch is not None and head.sha is not None:
        return _update_branch(ctx, repo, p, rev, target, head.branch, head.sha, synced, journal)
    recovery = None
    message = ""
    if head.sha is not None and head.sha != synced and not _kept_elsewhere(repo, p, head.sha, target):
        ahead, _ = git.ahead_behind(repo, head.sha, target)
        recovery = _recovery_ref(repo, head.sha)
        message = (
            f"{p.name} ({p.path}): {ahead} commit(s) on the detached HEAD are not in {rev}; kept at "
            f"{recovery} (get them back: git -C {p.path} switch -c <branch> {recovery})"
        )
    try:
        _before_move(ctx, p, rev)
    except Skip:
        if recovery is not None:
            git.delete_ref(repo, recovery)
        raise
    journal.write(op="checkout", **{"from": head.sha, "to": target, "branch": None})
    try:
        git.checkout(repo, target)
    except git.CheckoutConflict as e:
        journal.clear()
        if recovery is not None:
            git.delete_ref(repo, recovery)
        raise Skip(f"not updated to {rev}: {e}; commit or stash them, then sync again") from None
    git.set_ref(repo, SYNCED_REF, target)
    return outcome_of(p, Action.UPDATED, message, sha=target, recovery_ref=recovery)


def _update_branch(
    ctx: Context,
    repo: git.Repository,
    p: Project,
    rev: str,
    target: str,
    branch: str,
    tip: str,
    synced: str | None,
    journal: syncstate.Journal,
) -> ProjectOutcome:
    """HEAD is on a local branch: fast-forward it when it holds no commits of its own; with
    ``--rebase`` replay its commits onto the target; otherwise leave it alone."""
    if git.is_ancestor(repo, tip, target):
        _before_move(ctx, p, rev)
        journal.write(op="checkout", **{"from": tip, "to": target, "branch": branch})
        try:
            git.checkout(repo, target, branch=branch)
        except git.CheckoutConflict as e:
            journal.clear()
            raise Skip(
                f"branch {branch} not fast-forwarded to {rev}: {e}; commit or stash them, then sync again"
            ) from None
        git.set_ref(repo, SYNCED_REF, target)
        return outcome_of(
            p, Action.UPDATED, f"{p.name} ({p.path}): fast-forwarded branch {branch} to {rev}", sha=target
        )
    ahead, _ = git.ahead_behind(repo, tip, target)
    if git.is_ancestor(repo, target, tip):
        return outcome_of(
            p,
            Action.UNCHANGED,
            f"{p.name} ({p.path}): branch {branch} is {ahead} commit(s) ahead of {rev}",
            sha=tip,
        )
    if not ctx.options.rebase:
        return outcome_of(
            p,
            Action.UNCHANGED,
            f"{p.name} ({p.path}): branch {branch} has {ahead} commit(s) not "
            f"in {rev}; left as it is (sync --rebase replays them onto {rev})",
            sha=tip,
        )
    try:
        new_tip = git.replay(repo, tip, target, hide=[synced] if synced else [])
    except git.RebaseConflict as e:
        raise Skip(f"rebase of branch {branch} onto {rev} aborted, branch unchanged: {e}; rebase by hand") from None
    _before_move(ctx, p, rev)
    journal.write(op="checkout", **{"from": tip, "to": new_tip, "branch": branch})
    try:
        git.checkout(repo, new_tip, branch=branch)
    except git.CheckoutConflict as e:
        journal.clear()
        raise Skip(
            f"rebase of branch {branch} onto {rev} aborted, branch unchanged: {e}; "
            "commit or stash them, then sync again"
        ) from None
    git.set_ref(repo, SYNCED_REF, target)
    return outcome_of(
        p,
        Action.UPDATED,
        f"{p.name} ({p.path}): rebased {ahead} commit(s) of branch {branch} onto {rev}",
        sha=new_tip,
    )


def _kept_elsewhere(repo: git.Repository, p: Project, sha: str, target: str) -> bool:
    """Whether commit ``sha`` stays reachable once HEAD leaves it: from the target, a local or
    remote-tracking branch, or a tag."""
    if git.is_ancestor(repo, sha, target):
        return True
    for prefix in ("refs/heads/", f"refs/remotes/{remote_name(p)}/", RECOVERY_PREFIX):
        for ref in git.refs_under(repo, prefix):
            tip = git.commit_of(repo, ref)
            if tip is not None and git.is_ancestor(repo, sha, tip):
                return True
    return any(git.commit_of(repo, ref) == sha for ref in git.refs_under(repo, "refs/tags/"))


def _recovery_ref(repo: git.Repository, sha: str) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    name = f"{RECOVERY_PREFIX}{stamp}"
    n = 1
    while repo.references.get(name) is not None:
        n += 1
        name = f"{RECOVERY_PREFIX}{stamp}-{n}"
    git.set_ref(repo, name, sha, "ukws sync: commits of a detached HEAD")
    return name
