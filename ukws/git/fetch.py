"""Network work: URL and revision checks, transports, progress, fetches and object seeding from local sources.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pygit2

from ukws.errors import GitError
from ukws.git.repo import git_dir, one_line

try:  # the cffi layer of pygit2, for fetches without per-object Python callbacks
    from pygit2._libgit2 import ffi as _ffi
    from pygit2._libgit2 import lib as _lib
    from pygit2.callbacks import git_fetch_options as _git_fetch_options
    from pygit2.utils import StrArray as _StrArray
except ImportError:  # pragma: no cover - other pygit2 builds fall back to Remote.fetch
    _ffi = _lib = None


def fetch_error(url: str, e: Exception) -> str:
    return f"{url}: {str(e).strip() or type(e).__name__}"


_URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_HELPER = re.compile(r"^([A-Za-z0-9][A-Za-z0-9+.-]*)::")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

#: The transports a sync fetches through: those git allows by default (``protocol.allow``: http,
#: https, git and ssh always; file for commands a user runs) and libgit2 speaks. ``ext`` is never
#: allowed (git's default too); the rest need a git remote helper, which ukws does not run.
ALLOWED_TRANSPORTS = frozenset({"file", "git", "http", "https", "ssh", "git+ssh", "ssh+git"})
#: ``persistent-https://`` reaches the same server as ``https://`` (through a helper that only keeps
#: connections open); repo strips the prefix the same way.
_PERSISTENT = ("persistent-https://", "persistent-http://")


def check_url(url: str) -> None:
    """Refuse URLs a sync does not fetch from: empty, option-like or with control characters, and
    those whose transport git does not allow by default or reaches only through a remote helper
    (``ext::``, ``fd::``, ``sso://``, ``hg::``, ...). The message is one line naming the URL."""
    if not url or url.startswith("-") or _CONTROL.search(url):
        raise GitError(f"refusing URL {url!r}: empty, option-like or containing control characters")
    m = _HELPER.match(url) or _URL_SCHEME.match(url)
    if m is None:
        return  # scp-like (ssh) or a plain path (file)
    transport = m.group(1).lower()
    if transport in ALLOWED_TRANSPORTS or url.lower().startswith(_PERSISTENT):
        return
    if transport in ("ext", "fd"):
        raise GitError(f"refusing URL {url}: transport {transport!r} is not allowed (it runs commands)")
    raise GitError(
        f"refusing URL {url}: transport {transport!r} needs a git remote helper, which ukws does not run; "
        "rewrite the URL to an https, ssh, git or file URL (ukws init --rewrite)"
    )


def transport_url(url: str) -> str:
    """The URL libgit2 fetches from: ``persistent-http(s)://`` read as ``http(s)://``."""
    lower = url.lower()
    for prefix in _PERSISTENT:
        if lower.startswith(prefix):
            return prefix.removeprefix("persistent-") + url[len(prefix) :]
    return url


_BAD_REV = re.compile(r"[\s\x00-\x1f\x7f~^:?*\[\\]")


def check_revision(rev: str) -> None:
    """Refuse revisions that are empty, option-like or not valid reference names."""
    if not rev or rev.startswith("-") or _BAD_REV.search(rev) or ".." in rev:
        raise GitError(f"refusing revision {rev!r}: not a commit id or reference name")


def local_path(url: str) -> Path | None:
    """The folder a ``file://`` URL or a plain path (absolute or relative, not scp-like
    ``host:path``) names; None for URLs reached through a transport."""
    if url.startswith("file://"):
        return Path(unquote(urlsplit(url).path))
    if _URL_SCHEME.match(url) is not None or ":" in url.split("/", 1)[0]:
        return None
    return Path(url)


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
    url = transport_url(url)
    source = local_source(url)
    if source is None and (path := local_path(url)) is not None and not path.exists():
        raise GitError(f"no such repository: {path}")
    if source is not None:
        # The source is opened once: its refs tell both whether anything is to do and what to set.
        wanted = None if prune else _source_refs(source, refspecs)
        if wanted is not None and (_refs_here(repo, wanted) or _copy_from_local(repo, source, wanted)):
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
        raise GitError(one_line(e)) from None
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
    if source is None:
        return False
    wanted = _source_refs(source, refspecs)
    return wanted is not None and _refs_here(repo, wanted)


def _source_refs(source: Path, refspecs: Sequence[str]) -> list[tuple[str, pygit2.Oid]] | None:
    """:func:`_expand` over the local repository ``source``; None when it cannot be read."""
    try:
        return _expand(pygit2.Repository(str(source)), refspecs)
    except (pygit2.GitError, KeyError):
        return None


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


def _refs_here(repo: pygit2.Repository, wanted: list[tuple[str, pygit2.Oid]]) -> bool:
    """True when every ref a fetch from a local source would set (``wanted``, read from the source
    directly) already has its value here: the fetch would only confirm it."""
    try:
        for ours, target in wanted:
            ref = repo.references.get(ours)
            if ref is None or ref.resolve().target != target:
                return False
    except (pygit2.GitError, KeyError):
        return False
    return True


def _copy_from_local(repo: pygit2.Repository, source: Path, targets: list[tuple[str, pygit2.Oid]]) -> bool:
    """Fetch from a local repository by hardlinking its object files and setting the refs that
    differ (``targets``, read from it): no pack is built. False (nothing done) when that is not
    possible."""
    gitdir = git_dir(source)
    if gitdir is None or (gitdir / "shallow").exists() or (gitdir / "objects" / "info" / "alternates").exists():
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

