"""The release archive: every project's source at its pinned commit, read from git objects, with the
application patches applied, optionally the origin archives, and the snapshot manifest at the top.

Deterministic to the byte, whatever the machine, clone depth, umask, time zone or locale:

- POSIX.1-2001 (pax) tar: long and non-ASCII paths in standard extended headers, no GNU extensions;
- members sorted by the UTF-8 bytes of their path, directories included (each before what it holds);
- one mtime for every member, uid/gid 0, no user or group names;
- modes normalised: 0644 files, 0755 executables and directories, 0777 symlinks (kept as symlinks);
- a submodule (gitlink) is an empty directory whose pax header ``UKWS.gitlink`` names its commit;
- gzip at level 6 with no file name and an mtime of 0.

The archive is streamed: members are written one at a time, each file read whole from git, so
memory holds one file and the list of paths, never the archive. It is written to a temporary file
next to the destination and renamed over it at the end.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import io
import os
import posixpath
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from ukws import git
from ukws.errors import WorkspaceError

SNAPSHOT_MEMBER = "snapshot.xml"
ORIGINS_PREFIX = ".ukws/origins"
GITLINK_KEY = "UKWS.gitlink"
GZIP_LEVEL = 6

Overlay = Mapping[str, bytes | None]
"""Project-relative path -> new content (None: removed); what a patch series changes."""

_MODES = {"dir": 0o755, "file": 0o644, "exec": 0o755, "link": 0o777, "gitlink": 0o755}


@dataclass(frozen=True, slots=True, kw_only=True)
class ArchiveProject:
    path: str
    """The workspace path: every member of the project is under it."""
    repo: Path
    commit: str
    overlay: Overlay | None = None
    executable: frozenset[str] = frozenset()
    """The overlay's new files that are executable (0755); a changed file keeps its tree's mode, as
    ``ukws patch-app`` keeps the mode of a file it rewrites."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ArchiveOrigin:
    sha256: str
    file: str
    url: str
    source: Path
    """The cached bytes."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Member:
    """One member of the archive, with where its content comes from."""

    path: str
    kind: str
    """``dir``, ``file``, ``exec``, ``link`` or ``gitlink``."""
    read: Callable[[], bytes] | None = field(default=None, compare=False)
    """The content (the link target for a symlink); None for directories and gitlinks."""
    source: Path | None = field(default=None, compare=False)
    """A file on disk to stream instead (origin archives)."""
    size: int = -1
    """The size of ``source``; -1 when the content comes from ``read``."""
    gitlink: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ArchiveResult:
    path: Path
    sha256: str
    size: int
    members: int
    mtime: int


def plan(
    *,
    snapshot_bytes: bytes,
    projects: tuple[ArchiveProject, ...],
    origins: tuple[ArchiveOrigin, ...] = (),
) -> tuple[list[Member], list[git.Repository]]:
    """Every member in archive order, and the repositories their content is read from (kept open
    while the archive is written)."""
    members: dict[str, Member] = {}
    repos: list[git.Repository] = []

    def add(m: Member) -> None:
        old = members.get(m.path)
        if old is not None and not (old.kind == "dir" and m.kind in ("dir", "gitlink")):
            raise WorkspaceError(f"{m.path}: two projects of the archive hold this path; give them distinct paths")
        members[m.path] = m if old is None or m.kind == "gitlink" else old

    add(Member(path=SNAPSHOT_MEMBER, kind="file", read=_constant(snapshot_bytes)))
    for ap in projects:
        repo = git.open_repo(ap.repo)
        repos.append(repo)
        overlay = dict(ap.overlay or {})
        for e in git.tree_entries(repo, ap.commit):
            full = f"{ap.path}/{e.path}"
            if e.path in overlay:
                data = overlay.pop(e.path)
                if data is not None:
                    kind = e.kind if e.kind in ("file", "exec") else "file"  # as patch-app keeps it
                    add(Member(path=full, kind=kind, read=_constant(data)))
            elif e.kind == "gitlink":
                add(Member(path=full, kind="gitlink", gitlink=e.oid))
            else:
                add(Member(path=full, kind=e.kind, read=functools.partial(git.blob_bytes, repo, e.oid)))
        for rel, data in sorted(overlay.items()):
            if data is not None:
                kind = "exec" if rel in ap.executable else "file"
                add(Member(path=f"{ap.path}/{rel}", kind=kind, read=_constant(data)))
    if origins:
        index = {
            o.url: {"sha256": o.sha256, "name": o.file, "size": o.source.stat().st_size}
            for o in sorted(origins, key=lambda o: o.url)
        }
        import json

        text = json.dumps({"version": 1, "urls": index, "files": {}}, indent=2, sort_keys=True).encode() + b"\n"
        add(Member(path=f"{ORIGINS_PREFIX}/index.json", kind="file", read=_constant(text)))
        for o in origins:
            path = f"{ORIGINS_PREFIX}/{o.sha256}"
            if path not in members:
                add(Member(path=path, kind="file", source=o.source, size=o.source.stat().st_size))
    for path in list(members):
        parent = posixpath.dirname(path)
        while parent and parent not in members:
            members[parent] = Member(path=parent, kind="dir")
            parent = posixpath.dirname(parent)
        if parent and members[parent].kind not in ("dir", "gitlink"):
            raise WorkspaceError(
                f"{path}: lies below the file {parent} in the archive; give the projects distinct paths"
            )
    ordered = sorted(members.values(), key=lambda m: m.path.encode())
    return ordered, repos


def tarinfo(m: Member, *, mtime: int, size: int) -> tarfile.TarInfo:
    """The normalised header of ``m``."""
    info = tarfile.TarInfo(m.path)
    info.mtime = mtime
    info.mode = _MODES[m.kind]
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if m.kind in ("dir", "gitlink"):
        info.type = tarfile.DIRTYPE
        if m.gitlink is not None:
            info.pax_headers = {GITLINK_KEY: m.gitlink}
    elif m.kind == "link":
        info.type = tarfile.SYMTYPE
    else:
        info.type = tarfile.REGTYPE
        info.size = size
    return info


def _constant(data: bytes) -> Callable[[], bytes]:
    return lambda: data


class _Digest:
    """A write-only file that hashes and counts what passes through to ``out``."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, b: bytes) -> int:
        self.sha.update(b)
        self.size += len(b)
        self.out.write(b)
        return len(b)

    def flush(self) -> None:
        self.out.flush()


class Writable(Protocol):
    def write(self, b: bytes, /) -> int: ...

    def flush(self) -> None: ...


def stream(members: list[Member], out: Writable, *, mtime: int) -> Iterator[Member]:
    """Write the gzip-compressed tar of ``members`` to ``out``, yielding each member once written."""
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=GZIP_LEVEL) as gz,
        tarfile.open(fileobj=gz, mode="w|", format=tarfile.PAX_FORMAT, encoding="utf-8") as tar,
    ):
        for m in members:
            if m.kind in ("dir", "gitlink"):
                tar.addfile(tarinfo(m, mtime=mtime, size=0))
            elif m.kind == "link":
                assert m.read is not None
                info = tarinfo(m, mtime=mtime, size=0)
                info.linkname = m.read().decode("utf-8", "surrogateescape")
                tar.addfile(info)
            elif m.source is not None:
                with m.source.open("rb") as f:
                    tar.addfile(tarinfo(m, mtime=mtime, size=m.size), f)
            else:
                assert m.read is not None
                data = m.read()
                tar.addfile(tarinfo(m, mtime=mtime, size=len(data)), io.BytesIO(data))
            yield m


def write_archive(dest: Path, members: list[Member], *, mtime: int) -> ArchiveResult:
    """Write the archive to ``dest`` atomically (temporary file, then rename)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    count = 0
    try:
        with os.fdopen(fd, "wb") as raw:
            digest = _Digest(raw)
            for _ in stream(members, digest, mtime=mtime):
                count += 1
            raw.flush()
            os.fsync(raw.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return ArchiveResult(path=dest, sha256=digest.sha.hexdigest(), size=digest.size, members=count, mtime=mtime)
