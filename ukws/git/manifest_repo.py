"""The manifest repository's own clone and update (``.ukws/manifests``).
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pygit2

from ukws.errors import GitError
from ukws.git.fetch import check_revision, check_url, fetch, fetch_error, set_timeouts
from ukws.git.repo import init, open_repo


@dataclass(frozen=True, slots=True, kw_only=True)
class ManifestCheckout:
    """The result of cloning or updating the manifest repository."""

    url: str
    """The URL that worked."""
    sha: str
    """The commit checked out."""
    action: str = "cloned"
    """``cloned``, ``updated``, ``unchanged`` or ``skipped`` (local work in the way)."""
    message: str = ""
    failures: tuple[str, ...] = ()
    """One line per URL that was tried before ``url`` and failed."""


_MANIFEST_REFSPECS = ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"]


def clone_manifest_repo(
    urls: Sequence[str], dest: Path, revision: str | None, *, timeout: float = 60.0
) -> ManifestCheckout:
    """Clone the first of ``urls`` that works into ``dest`` and check out ``revision``
    (a branch, tag, full ref or commit; None: the remote's default branch).

    Fetches like a project (:func:`fetch`: URL checks, no prompts, time-outs, proxies)."""
    if revision is not None:
        check_revision(revision)
    set_timeouts(timeout)
    failures: list[str] = []
    for url in urls:
        if dest.exists():
            shutil.rmtree(dest)
        try:
            check_url(url)
            repo = init(dest)
            repo.remotes.create("origin", url)
            default = fetch(repo, url, _MANIFEST_REFSPECS, prune=True, default_branch=True)
        except (pygit2.GitError, ValueError, KeyError, GitError) as e:
            failures.append(fetch_error(url, e))
            continue
        if default is not None and default.startswith("refs/heads/"):
            tracking = f"refs/remotes/origin/{default.removeprefix('refs/heads/')}"
            if tracking in repo.references:  # what a clone records as the remote's default branch
                repo.references.create("refs/remotes/origin/HEAD", tracking, force=True)
        sha = _checkout_revision(repo, revision, url)
        return ManifestCheckout(url=url, sha=sha, failures=tuple(failures))
    if dest.exists():
        shutil.rmtree(dest)
    tried = "; ".join(failures) if failures else "no URL to try"
    raise GitError(f"cannot clone the manifest repository: {tried}")


def _resolve_revision(
    repo: pygit2.Repository, revision: str | None
) -> tuple[pygit2.Commit, str | None] | None:
    """The commit ``revision`` names after a fetch, and the local branch name to keep it on."""
    if revision is None:
        head = repo.references.get("refs/remotes/origin/HEAD")
        if head is not None:
            commit = head.resolve().peel(pygit2.Commit)
            branch = head.resolve().name.removeprefix("refs/remotes/origin/")
            return commit, branch
        if repo.head_is_unborn:
            return None
        return repo.head.peel(pygit2.Commit), repo.head.shorthand if not repo.head_is_detached else None
    short = revision.removeprefix("refs/heads/")
    branch_ref = repo.references.get(f"refs/remotes/origin/{short}")
    if branch_ref is not None:
        return branch_ref.peel(pygit2.Commit), short
    tag_ref = repo.references.get(f"refs/tags/{revision.removeprefix('refs/tags/')}")
    if tag_ref is not None:
        return tag_ref.peel(pygit2.Commit), None
    if all(c in "0123456789abcdef" for c in revision.lower()) and 4 <= len(revision) <= 40:
        try:
            return repo.revparse_single(revision).peel(pygit2.Commit), None
        except (KeyError, ValueError, pygit2.InvalidSpecError):
            return None
    return None


def _checkout_revision(repo: pygit2.Repository, revision: str | None, url: str) -> str:
    found = _resolve_revision(repo, revision)
    if found is None:
        raise GitError(f"{url}: the manifest repository has no branch, tag or commit {revision!r}; check -b")
    commit, branch = found
    _move_to(repo, commit, branch)
    return str(commit.id)


def _move_to(repo: pygit2.Repository, commit: pygit2.Commit, branch: str | None) -> None:
    """Check out ``commit``, on local ``branch`` (created or moved) or detached."""
    if branch is None:
        repo.set_head(commit.id)
    else:
        local = repo.branches.local.get(branch)
        if local is None:
            local = repo.branches.local.create(branch, commit, force=True)
            with contextlib.suppress(pygit2.GitError, KeyError):
                local.upstream = repo.branches.remote[f"origin/{branch}"]
        else:
            local.set_target(commit.id)
        repo.set_head(local.name)
    repo.checkout_head(strategy=pygit2.enums.CheckoutStrategy.FORCE)  # type: ignore[no-untyped-call]  # pygit2 leaves it untyped


def manifest_repo_local_work(path: Path) -> str | None:
    """Why the manifest repository at ``path`` cannot be replaced or moved without losing work
    (changed or untracked files, commits no remote branch or tag has), or None."""
    repo = open_repo(path)
    changed = sorted(
        name for name, flags in repo.status().items() if not flags & pygit2.enums.FileStatus.IGNORED
    )
    if changed:
        more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
        return f"{path}: changed or untracked file {changed[0]}{more}"
    if repo.head_is_unborn:
        return None
    head = repo.head.target
    for ref in repo.references.iterator():
        if not ref.name.startswith(("refs/remotes/", "refs/tags/")):
            continue
        try:
            target = ref.resolve().peel(pygit2.Commit).id
        except (pygit2.InvalidSpecError, ValueError, KeyError, pygit2.GitError):
            continue
        if target == head or repo.descendant_of(target, head):
            return None
    return f"{path}: HEAD {str(head)[:12]} has commits that no remote branch or tag has"


def update_manifest_repo(
    path: Path, urls: Sequence[str], revision: str | None, *, timeout: float = 60.0
) -> ManifestCheckout:
    """Fetch the manifest repository (first URL that works) and move it to ``revision``, unless
    local work would be lost (then ``action`` is ``skipped`` and the checkout is left alone).

    Fetches like a project (:func:`fetch`: URL checks, no prompts, time-outs, proxies)."""
    if revision is not None:
        check_revision(revision)
    set_timeouts(timeout)
    repo = open_repo(path)
    failures: list[str] = []
    used: str | None = None
    for url in urls:
        try:
            fetch(repo, url, _MANIFEST_REFSPECS, prune=True)
        except (pygit2.GitError, ValueError, KeyError, GitError) as e:
            failures.append(fetch_error(url, e))
            continue
        used = url
        break
    if used is None:
        raise GitError(f"cannot fetch the manifest repository: {'; '.join(failures) or 'no URL to try'}")
    if revision is None and "refs/remotes/origin/HEAD" not in repo.references:
        # An anonymous fetch does not record the remote's default branch: keep following ours.
        revision = None if repo.head_is_detached or repo.head_is_unborn else repo.head.shorthand
    found = _resolve_revision(repo, revision)
    if found is None:
        raise GitError(f"{used}: the manifest repository has no branch, tag or commit {revision!r}")
    commit, branch = found
    before = None if repo.head_is_unborn else str(repo.head.target)
    if before == str(commit.id):
        return ManifestCheckout(url=used, sha=before, action="unchanged", failures=tuple(failures))
    blocked = manifest_repo_local_work(path)
    if blocked is not None:
        return ManifestCheckout(
            url=used, sha=before or "", action="skipped", message=blocked, failures=tuple(failures)
        )
    _move_to(repo, commit, branch)
    return ManifestCheckout(url=used, sha=str(commit.id), action="updated", failures=tuple(failures))


def manifest_repo_head(path: Path) -> tuple[str, str | None] | None:
    """The manifest repository's checked-out commit and branch (None when detached), or None."""
    try:
        repo = pygit2.Repository(str(path), pygit2.enums.RepositoryOpenFlag.NO_SEARCH)
    except (pygit2.GitError, KeyError):
        return None
    if repo.head_is_unborn:
        return None
    return str(repo.head.target), None if repo.head_is_detached else repo.head.shorthand

