"""All git access of ukws, through pygit2. No other module imports pygit2, and ukws never runs ``git``.

Read helpers used by the resolver live here too, so that manifest, resolver and Makefile code stay
free of pygit2.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pygit2

from ukws.errors import GitError

try:  # the cffi layer of pygit2, for fetches without per-object Python callbacks
    from pygit2._libgit2 import ffi as _ffi
    from pygit2._libgit2 import lib as _lib
    from pygit2.callbacks import git_fetch_options as _git_fetch_options
    from pygit2.utils import StrArray as _StrArray
except ImportError:  # pragma: no cover - other pygit2 builds fall back to Remote.fetch
    _ffi = _lib = None

Repository = pygit2.Repository
"""Re-exported so that callers can name the type without importing pygit2."""


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
            failures.append(_fetch_error(url, e))
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


def checked_out_commit(path: Path) -> str | None:
    """The commit checked out in the repository at ``path``; None when there is no repository
    there or its HEAD is unborn. Works for bare repositories (their HEAD) too."""
    try:
        repo = pygit2.Repository(str(path), pygit2.enums.RepositoryOpenFlag.NO_SEARCH)
    except (pygit2.GitError, KeyError):
        return None
    if repo.head_is_unborn:
        return None
    return str(repo.head.target)


def manifest_repo_head(path: Path) -> tuple[str, str | None] | None:
    """The manifest repository's checked-out commit and branch (None when detached), or None."""
    try:
        repo = pygit2.Repository(str(path), pygit2.enums.RepositoryOpenFlag.NO_SEARCH)
    except (pygit2.GitError, KeyError):
        return None
    if repo.head_is_unborn:
        return None
    return str(repo.head.target), None if repo.head_is_detached else repo.head.shorthand


# --------------------------------------------------------------------------------------------------
# Validation of what a manifest hands to git
# --------------------------------------------------------------------------------------------------

_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_SAFE_SCHEMES = frozenset({"file", "git", "http", "https", "ssh", "git+ssh", "ssh+git"})


def is_sha(rev: str) -> bool:
    """A full 40- (SHA-1) or 64-digit (SHA-256) lowercase hex object id."""
    return _SHA.fullmatch(rev) is not None


def check_url(url: str) -> None:
    """Refuse URLs that would run commands (``ext::``, ``fd::``) or read as options."""
    if not url or url.startswith("-") or any(c in url for c in "\n\r\0"):
        raise GitError(f"refusing URL {url!r}: empty, option-like or containing control characters")
    m = _URL_SCHEME.match(url)
    if m is not None:
        if m.group(1).lower() not in _SAFE_SCHEMES:
            raise GitError(f"refusing URL {url}: transport {m.group(1)!r} is not allowed")
        return
    if "::" in url.split("/", 1)[0]:
        raise GitError(f"refusing URL {url}: transport {url.split('::', 1)[0]!r} is not allowed")


_BAD_REV = re.compile(r"[\s\x00-\x1f\x7f~^:?*\[\\]")


def check_revision(rev: str) -> None:
    """Refuse revisions that are empty, option-like or not valid reference names."""
    if not rev or rev.startswith("-") or _BAD_REV.search(rev) or ".." in rev:
        raise GitError(f"refusing revision {rev!r}: not a commit id or reference name")


def local_source(url: str) -> Path | None:
    """The directory of a repository reached without a transport (``file://`` or a plain path),
    trying ``<path>.git`` too; None for network URLs or when nothing is there."""
    if url.startswith("file://"):
        path = Path(unquote(urlsplit(url).path))
    elif _URL_SCHEME.match(url) is None and (url.startswith("/") or url.startswith(".")):
        path = Path(url)
    else:
        return None
    for candidate in (path, path.with_name(path.name + ".git")):
        if candidate.is_dir():
            return candidate
    return None


def git_dir(path: Path) -> Path | None:
    """The git directory of the repository at ``path`` (bare or not), or None."""
    if (path / ".git").is_dir():
        return path / ".git"
    if (path / "objects").is_dir() and (path / "HEAD").is_file():
        return path
    return None


# --------------------------------------------------------------------------------------------------
# Network
# --------------------------------------------------------------------------------------------------


def set_timeouts(seconds: float) -> None:
    """Time-outs for connecting to and reading from servers (git://, http(s)://, ssh://)."""
    ms = max(1, int(seconds * 1000))
    pygit2.option(pygit2.enums.Option.SET_SERVER_CONNECT_TIMEOUT, ms)
    pygit2.option(pygit2.enums.Option.SET_SERVER_TIMEOUT, ms)


class Progress:
    """Transfer counters of a fetch, read by the main thread while a worker fetches.

    libgit2 updates its counters in place; no Python callback runs per object, because callbacks
    take the GIL back from the transfer and slow parallel fetches down.
    """

    __slots__ = ("_live", "received_bytes", "received_objects", "total_objects")

    def __init__(self) -> None:
        self.received_objects = 0
        self.total_objects = 0
        self.received_bytes = 0
        self._live: tuple[Any, Any] | None = None

    def sample(self) -> tuple[int, int, int]:
        """(received objects, total objects, received bytes) as of now."""
        live = self._live  # one read: the tuple keeps the remote (and its counters) alive
        if live is not None:
            stats = live[1]
            self.received_objects = int(stats.received_objects)
            self.total_objects = int(stats.total_objects)
            self.received_bytes = int(stats.received_bytes)
        return self.received_objects, self.total_objects, self.received_bytes


class _Callbacks(pygit2.RemoteCallbacks):
    """Never prompt: no passwords, only an ssh agent key once; no unknown host keys or certificates."""

    def __init__(self) -> None:
        super().__init__()
        self._tried_agent = False

    def credentials(self, url: str, username_from_url: str | None, allowed_types: Any) -> Any:
        if allowed_types & pygit2.enums.CredentialType.SSH_KEY and not self._tried_agent:
            self._tried_agent = True
            return pygit2.KeypairFromAgent(username_from_url or "git")
        raise GitError("the server asks for credentials, and ukws never prompts for them")

    def certificate_check(self, certificate: Any, valid: bool, host: bytes) -> bool:
        if not valid:
            raise GitError(f"the host key or certificate of {host.decode(errors='replace')} is not trusted")
        return True


def fetch(
    repo: pygit2.Repository,
    url: str,
    refspecs: Sequence[str],
    *,
    depth: int = 0,
    progress: Progress | None = None,
    follow_tags: bool = True,
    prune: bool = False,
    default_branch: bool = False,
) -> str | None:
    """Fetch ``refspecs`` from ``url`` (no configured remote is used or changed). With
    ``follow_tags``, tags pointing into the fetched history come along (git's auto-following);
    with ``prune``, local refs the refspecs map to and the remote no longer has are deleted.

    With ``default_branch``, returns the remote's default branch (the ref its HEAD names, e.g.
    ``refs/heads/main``) when the source tells it; else None.

    Raises GitError with one line: what failed, without the project (the caller adds it).
    """
    check_url(url)
    source = local_source(url)
    if source is not None:
        if not prune and (_local_refs_current(repo, source, refspecs) or _copy_from_local(repo, source, refspecs)):
            return _local_head(source) if default_branch else None
        url = str(source)
        depth = 0  # the local transport cannot fetch shallow; objects are copied cheaply anyway
    remote = repo.remotes.create_anonymous(url)
    try:
        if _ffi is None:  # pragma: no cover - a pygit2 without the cffi layer this was written for
            remote.fetch(list(refspecs), callbacks=_Callbacks(), depth=depth, prune=_PRUNE[prune])
        else:
            _fetch_quietly(remote, refspecs, depth, progress, follow_tags, prune)
        # The advertisement stays readable after the fetch disconnected: no second connection.
        heads = remote.list_heads(connect=False) if default_branch else []
    except GitError:
        raise
    except (pygit2.GitError, OSError, ValueError, KeyError) as e:
        raise GitError(_one_line(e)) from None
    return next((h.symref_target for h in heads if h.name == "HEAD" and h.symref_target), None)


_PRUNE = {True: pygit2.enums.FetchPrune.PRUNE, False: pygit2.enums.FetchPrune.UNSPECIFIED}


def _local_head(source: Path) -> str | None:
    """The branch HEAD names in the local repository ``source`` (None when detached)."""
    gitdir = git_dir(source)
    try:
        text = (gitdir / "HEAD").read_text() if gitdir is not None else ""
    except OSError:
        return None
    return text.removeprefix("ref:").strip() if text.startswith("ref:") else None


def _fetch_quietly(
    remote: pygit2.Remote,
    refspecs: Sequence[str],
    depth: int,
    progress: Progress | None,
    follow_tags: bool,
    prune: bool = False,
) -> None:
    """``remote.fetch`` without the per-object progress callbacks pygit2 always installs (they take
    the GIL for every object received); credentials and certificate checks stay."""
    assert _ffi is not None and _lib is not None
    with _git_fetch_options(_Callbacks()) as payload:
        opts = payload.fetch_options
        opts.depth = depth
        opts.update_fetchhead = 0  # nothing reads FETCH_HEAD: a no-op fetch then writes no file
        opts.prune = _lib.GIT_FETCH_PRUNE if prune else _lib.GIT_FETCH_PRUNE_UNSPECIFIED
        opts.download_tags = _lib.GIT_REMOTE_DOWNLOAD_TAGS_AUTO if follow_tags else _lib.GIT_REMOTE_DOWNLOAD_TAGS_NONE
        opts.proxy_opts.type = _lib.GIT_PROXY_AUTO  # http(s)_proxy, no_proxy and http.proxy apply
        opts.callbacks.transfer_progress = _ffi.NULL
        opts.callbacks.sideband_progress = _ffi.NULL
        opts.callbacks.update_tips = _ffi.NULL
        if progress is not None:
            progress._live = (remote, _lib.git_remote_stats(remote._remote))
        try:
            with _StrArray(list(refspecs)) as arr:
                err = _lib.git_remote_fetch(remote._remote, arr.ptr, opts, _ffi.NULL)
                payload.check_error(err)
        finally:
            if progress is not None:
                progress.sample()
                progress._live = None


def refs_current(repo: pygit2.Repository, url: str, refspecs: Sequence[str]) -> bool:
    """True when ``url`` is a local repository whose refs named by the plain ``+src:dst``
    ``refspecs`` already have their values in ``repo`` (a fetch would change nothing)."""
    source = local_source(url)
    return source is not None and _local_refs_current(repo, source, refspecs)


def _expand(src: pygit2.Repository, refspecs: Sequence[str]) -> list[tuple[str, pygit2.Oid]] | None:
    """(local ref, value) for every ref of ``src`` that ``+src:dst`` refspecs (a trailing ``*`` on
    both sides allowed) fetch; None for refspecs this cannot handle (a bare object id)."""
    out: list[tuple[str, pygit2.Oid]] = []
    every: list[str] | None = None  # the source's reference names, listed once
    for spec in refspecs:
        theirs, sep, ours = spec.removeprefix("+").partition(":")
        stars = theirs.count("*") + ours.count("*")
        if not sep or stars not in (0, 2) or (stars and not (theirs.endswith("*") and ours.endswith("*"))):
            return None
        prefix = theirs[:-1] if stars else theirs
        if stars:
            every = list(src.references) if every is None else every
            names = [n for n in every if n.startswith(prefix)]
        else:
            names = [theirs] if src.references.get(theirs) is not None else []
        for name in names:
            target = src.references[name].resolve().target
            if isinstance(target, pygit2.Oid):
                out.append(((ours[:-1] + name[len(prefix) :]) if stars else ours, target))
    return out


def _local_refs_current(repo: pygit2.Repository, source: Path, refspecs: Sequence[str]) -> bool:
    """True when every ref the refspecs fetch from the local ``source`` already has its value here
    (the source is read directly: a fetch would only confirm it)."""
    try:
        wanted = _expand(pygit2.Repository(str(source)), refspecs)
        if wanted is None:
            return False
        for ours, target in wanted:
            ref = repo.references.get(ours)
            if ref is None or ref.resolve().target != target:
                return False
    except (pygit2.GitError, KeyError):
        return False
    return True


def _copy_from_local(repo: pygit2.Repository, source: Path, refspecs: Sequence[str]) -> bool:
    """Fetch ``refspecs`` from a local repository by hardlinking its object files and setting the
    refs that differ: no pack is built. False (nothing done) when that is not possible."""
    gitdir = git_dir(source)
    if gitdir is None or (gitdir / "shallow").exists() or (gitdir / "objects" / "info" / "alternates").exists():
        return False
    try:
        targets = _expand(pygit2.Repository(str(source)), refspecs)
    except (pygit2.GitError, KeyError):
        return False
    if targets is None:
        return False
    if any(target not in repo for _, target in targets):
        seed_objects(repo, source)
        if any(target not in repo for _, target in targets):
            return False
    for ours, target in targets:
        ref = repo.references.get(ours)
        if ref is None or ref.target != target:
            repo.create_reference_direct(ours, target, True, "ukws: fetch from a local repository")
    return True


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text or type(e).__name__


def seed_objects(repo: pygit2.Repository, source: Path) -> None:
    """Hardlink (or copy) the object files of the local repository ``source`` into ``repo``, so
    that a following fetch from it transfers no objects (libgit2's local transport would repack)."""
    src = git_dir(source)
    if src is None:
        return
    dst = Path(repo.path) / "objects"
    for dirpath, _dirs, files in os.walk(src / "objects"):
        rel = Path(dirpath).relative_to(src / "objects")
        if rel.parts and rel.parts[0] == "info":
            continue
        target_dir = dst / rel
        for name in files:
            if name.startswith(("tmp", "pack_git2", "multi-pack-index")) or name.endswith((".bitmap", ".lock")):
                continue
            target = target_dir / name
            if target.exists():
                continue
            target_dir.mkdir(parents=True, exist_ok=True)
            try:
                os.link(Path(dirpath) / name, target)
            except OSError:
                shutil.copy2(Path(dirpath) / name, target)


def add_alternate(repo: pygit2.Repository, objects: Path) -> None:
    """Borrow objects from another repository's object directory (like ``git clone --reference``)."""
    alternates = Path(repo.path) / "objects" / "info" / "alternates"
    alternates.parent.mkdir(parents=True, exist_ok=True)
    existing = alternates.read_text().splitlines() if alternates.exists() else []
    if str(objects) not in existing:
        alternates.write_text("".join(f"{line}\n" for line in [*existing, str(objects)]))
    # The odb of an open repository does not notice new alternates: add it for this session too.
    repo.odb.add_disk_alternate(str(objects))


# --------------------------------------------------------------------------------------------------
# Refs and commits
# --------------------------------------------------------------------------------------------------


def init(path: Path, *, bare: bool = False) -> pygit2.Repository:
    return pygit2.init_repository(str(path), bare=bare)


def commit_of(repo: pygit2.Repository, spec: str) -> str | None:
    """The commit a full SHA or a full reference name names (tags peeled), or None."""
    try:
        if is_sha(spec):
            obj = repo.get(spec)
            if obj is None:
                return None
            return str(obj.peel(pygit2.Commit).id)
        ref = repo.references.get(spec)
        if ref is None:
            return None
        return str(ref.peel(pygit2.Commit).id)
    except (pygit2.GitError, pygit2.InvalidSpecError, ValueError, KeyError):
        return None


def ref_target(repo: pygit2.Repository, name: str) -> str | None:
    """The object a reference names, symbolic references followed but nothing peeled, or None.
    For branches and refs ukws writes itself (they name commits): no object is read."""
    try:
        ref = repo.references.get(name)
        if ref is None:
            return None
        target = ref.resolve().target
    except (pygit2.GitError, pygit2.InvalidSpecError, ValueError, KeyError):
        return None
    return str(target) if isinstance(target, pygit2.Oid) else None


def detach(repo: pygit2.Repository, sha: str) -> None:
    """Point HEAD at ``sha`` directly, touching no file (for repositories without checkout)."""
    repo.set_head(pygit2.Oid(hex=sha))


def ensure_remote(repo: pygit2.Repository, name: str, url: str) -> None:
    """Make the configured remote ``name`` point at ``url`` (for the user's own ``git fetch``)."""
    try:
        remote = repo.remotes[name]
    except KeyError:
        repo.remotes.create(name, url)
        return
    if remote.url != url:
        repo.remotes.set_url(name, url)


def set_ref(repo: pygit2.Repository, name: str, sha: str, message: str = "ukws") -> None:
    repo.create_reference_direct(name, pygit2.Oid(hex=sha), True, message)


def delete_ref(repo: pygit2.Repository, name: str) -> None:
    ref = repo.references.get(name)
    if ref is not None:
        ref.delete()


def refs_under(repo: pygit2.Repository, prefix: str) -> list[str]:
    return sorted(r for r in repo.references if r.startswith(prefix))


@dataclass(frozen=True, slots=True, kw_only=True)
class Head:
    sha: str | None
    """None when HEAD is unborn."""
    branch: str | None
    """Short branch name, None when detached."""


def head(repo: pygit2.Repository) -> Head:
    """HEAD's commit and branch (two reference reads at most)."""
    try:
        target = repo.lookup_reference("HEAD").target
        if isinstance(target, pygit2.Oid):
            return Head(sha=str(target), branch=None)
        sha = repo.lookup_reference(target).resolve().target
    except (KeyError, pygit2.GitError, pygit2.InvalidSpecError):  # unborn: the branch does not exist yet
        return Head(sha=None, branch=None)
    return Head(sha=str(sha), branch=target.removeprefix("refs/heads/"))


def is_ancestor(repo: pygit2.Repository, ancestor: str, descendant: str) -> bool:
    """True when ``ancestor`` is ``descendant`` or one of its ancestors."""
    if ancestor == descendant:
        return True
    try:
        return bool(repo.descendant_of(pygit2.Oid(hex=descendant), pygit2.Oid(hex=ancestor)))
    except (pygit2.GitError, KeyError, ValueError):
        return False


def ahead_behind(repo: pygit2.Repository, local: str, upstream: str) -> tuple[int, int]:
    a, b = repo.ahead_behind(pygit2.Oid(hex=local), pygit2.Oid(hex=upstream))
    return int(a), int(b)


def local_branches(repo: pygit2.Repository) -> dict[str, str]:
    """Local branch name -> tip SHA."""
    out: dict[str, str] = {}
    for name in repo.references:
        if name.startswith("refs/heads/"):
            sha = commit_of(repo, name)
            if sha is not None:
                out[name.removeprefix("refs/heads/")] = sha
    return out


def has_stash(repo: pygit2.Repository) -> bool:
    return repo.references.get("refs/stash") is not None


# --------------------------------------------------------------------------------------------------
# Working trees
# --------------------------------------------------------------------------------------------------


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
        raise GitError(_one_line(e)) from None
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


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkState:
    """Uncommitted work in a working tree."""

    dirty: tuple[str, ...]
    """Tracked files changed in the index or the working tree."""
    untracked: tuple[str, ...]
    """Untracked files; a folder holding only untracked files is one entry ending in '/'."""
    ignored: tuple[str, ...] = ()


def work_state(repo: pygit2.Repository, *, ignored: bool = False) -> WorkState:
    flags = pygit2.enums.FileStatus
    dirty: list[str] = []
    untracked: list[str] = []
    ign: list[str] = []
    for path, st in repo.status(untracked_files="normal", ignored=ignored).items():
        if st & flags.IGNORED:
            ign.append(path)
        elif st == flags.WT_NEW:
            untracked.append(path)
        elif st != flags.CURRENT:
            dirty.append(path)
    return WorkState(
        dirty=tuple(sorted(dirty)), untracked=tuple(sorted(untracked)), ignored=tuple(sorted(ign))
    )


def diff_patch(repo: pygit2.Repository) -> str:
    """The patch of the index and working tree against HEAD (like ``git diff HEAD``)."""
    index = repo.index
    if repo.head_is_unborn:
        diff = index.diff_to_workdir()
    else:
        diff = repo.head.peel(pygit2.Commit).tree.diff_to_index(index)
        diff.merge(index.diff_to_workdir())
    return str(diff.patch or "")


# --------------------------------------------------------------------------------------------------
# Resolver reads
# --------------------------------------------------------------------------------------------------


def branch_commit(repo: pygit2.Repository, name: str) -> str | None:
    """The commit at the head of branch ``name``: the local branch, else a remote-tracking one
    (``refs/remotes/<remote>/<name>``, the first remote in name order), else None."""
    candidates = [f"refs/heads/{name}"]
    candidates += sorted(
        ref for ref in repo.references
        if ref.startswith("refs/remotes/") and ref.split("/", 3)[-1] == name and ref.count("/") >= 3
    )
    for refname in candidates:
        found = commit_of(repo, refname)
        if found is not None:
            return found
    return None


def has_commit(repo: pygit2.Repository, sha: str) -> bool:
    """Whether the repository holds commit ``sha`` (a full id)."""
    try:
        obj = repo.get(sha)
    except (ValueError, pygit2.GitError):
        return False
    return obj is not None and obj.type == pygit2.enums.ObjectType.COMMIT


def revision_commit(repo: pygit2.Repository, revision: str) -> str | None:
    """The commit a manifest revision names in ``repo``: a full SHA the repository holds,
    ``refs/tags/X``, ``refs/heads/X`` (or its remote-tracking branch), any other full ref, or a
    bare name (a branch of that name first, then a tag, as repo reads it). None when it names nothing."""
    if is_sha(revision):
        return revision if has_commit(repo, revision) else None
    if revision.startswith("refs/heads/"):
        return branch_commit(repo, revision.removeprefix("refs/heads/"))
    names = [revision] if revision.startswith("refs/") else []
    if not revision.startswith("refs/"):
        found = branch_commit(repo, revision)
        if found is not None:
            return found
        names.append(f"refs/tags/{revision}")
    for name in names:
        found = commit_of(repo, name)
        if found is not None:
            return found
    return None
