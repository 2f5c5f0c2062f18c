"""All git access of ukws, through pygit2. No other module imports pygit2, and ukws never runs ``git``.

Read helpers used by the resolver live here too, so that manifest, resolver and Makefile code stay
free of pygit2.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pygit2

from ukws.errors import GitError


@dataclass(frozen=True, slots=True, kw_only=True)
class Tag:
    """A tag and the commit it names (annotated tags peeled)."""

    name: str
    """Short name, without ``refs/tags/``."""
    commit: str
    """Full hex SHA of the commit."""


def open_repo(path: Path) -> pygit2.Repository:
    try:
        return pygit2.Repository(str(path))
    except (pygit2.GitError, KeyError) as e:
        raise GitError(f"{path}: not a git repository ({e})") from None


def list_tags(repo: pygit2.Repository) -> list[Tag]:
    """Every tag that peels to a commit, sorted by name. Tags of trees or blobs are skipped."""
    tags: list[Tag] = []
    for ref in repo.references.iterator(pygit2.enums.ReferenceFilter.TAGS):
        try:
            commit = ref.peel(pygit2.Commit)
        except (pygit2.InvalidSpecError, ValueError, KeyError):
            continue
        tags.append(Tag(name=ref.name.removeprefix("refs/tags/"), commit=str(commit.id)))
    tags.sort(key=lambda t: t.name)
    return tags


def read_blob(repo: pygit2.Repository, commit: str, path: str) -> bytes | None:
    """The content of ``path`` in ``commit`` (no checkout needed), or None when there is no such file."""
    try:
        tree = repo.revparse_single(commit).peel(pygit2.Commit).tree
        obj = tree[path]
    except (KeyError, ValueError, pygit2.InvalidSpecError):
        return None
    if obj.type != pygit2.enums.ObjectType.BLOB:
        return None
    blob = repo[obj.id]
    assert isinstance(blob, pygit2.Blob)
    return blob.data


def list_files(repo: pygit2.Repository, commit: str, name: str) -> list[str]:
    """Paths of every file called ``name`` (e.g. ``Config.uk``) in ``commit``'s tree, sorted."""
    try:
        root = repo.revparse_single(commit).peel(pygit2.Commit).tree
    except (KeyError, ValueError, pygit2.InvalidSpecError):
        return []
    found: list[str] = []
    stack: list[tuple[str, pygit2.Tree]] = [("", root)]
    while stack:
        prefix, tree = stack.pop()
        for entry in tree:
            full = f"{prefix}{entry.name}"
            if entry.type == pygit2.enums.ObjectType.TREE:
                sub = repo[entry.id]
                assert isinstance(sub, pygit2.Tree)
                stack.append((full + "/", sub))
            elif entry.name == name:
                found.append(full)
    found.sort()
    return found


# Manifest repository
#
# The manifest repository of a ``-u URL`` workspace is cloned into ``.ukws/manifests/``; these
# functions clone it (trying fallback URLs in order), check out the requested revision, and
# update it later without losing local changes.


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


def _fetch_error(url: str, e: Exception) -> str:
    return f"{url}: {str(e).strip() or type(e).__name__}"


def clone_manifest_repo(urls: Sequence[str], dest: Path, revision: str | None) -> ManifestCheckout:
    """Clone the first of ``urls`` that works into ``dest`` and check out ``revision``
    (a branch, tag, full ref or commit; None: the remote's default branch)."""
    failures: list[str] = []
    for url in urls:
        if dest.exists():
            shutil.rmtree(dest)
        try:
            repo = pygit2.clone_repository(url, str(dest))
        except (pygit2.GitError, ValueError, KeyError) as e:
            failures.append(_fetch_error(url, e))
            continue
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


_MANIFEST_REFSPECS = ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"]


def update_manifest_repo(path: Path, urls: Sequence[str], revision: str | None) -> ManifestCheckout:
    """Fetch the manifest repository (first URL that works) and move it to ``revision``, unless
    local work would be lost (then ``action`` is ``skipped`` and the checkout is left alone)."""
    repo = open_repo(path)
    failures: list[str] = []
    used: str | None = None
    for url in urls:
        remote = repo.remotes.create_anonymous(url)
        try:
            remote.fetch(refspecs=_MANIFEST_REFSPECS, prune=pygit2.enums.FetchPrune.PRUNE)
        except (pygit2.GitError, ValueError, KeyError) as e:
            failures.append(_fetch_error(url, e))
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
