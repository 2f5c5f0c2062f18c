"""A no-op ``ukws sync -l``, proved from the file system without git or the manifest.

A local sync that finds every project at its revision does nothing, yet it has to read the
manifest and open every repository to find that out. After a sync that found every project at its
revision and did nothing (a local one, or one whose fetches brought nothing), :func:`record` writes
``.ukws/sync/noop.json``: the number of projects, and the status (type, inode, size, modification
and change times) of everything the run's decision rested on:

- the workspace: ``.ukws/`` itself, its configuration, the lock, the local manifests folder, every
  manifest file read, the user's configuration file, the sync state, and the patch series' state
  (and that the sync's journal and scratch folders are empty);
- each project: its folder and ``.git``, the git directory (``packed-refs``, ``HEAD`` and the index
  are replaced there by renaming, which changes the folder's times), ``HEAD``, ``info/exclude``,
  every ref the revision could resolve through and the ref ``HEAD`` is on, each with its folder
  (a ref written or deleted changes its folder's times; one edited in place changes its own);
- each copy and link file, and its source.

The next ``sync -l`` calls :func:`check`: when every one of them is as recorded, a full run would
find every project at its revision again and do nothing, so the command reports that and stops.
Anything else (a missing, damaged or foreign record, one line of difference, or a time too close
to the record's own to be trusted: a change within one tick of the file system's clock could leave
the times as they were) and the full sync runs, which records again when it was a no-op. A sync
that does anything at all deletes the record first.

This module imports nothing beyond the standard library at import time: the check runs before
anything else of ukws is loaded.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

TYPE_CHECKING = False  # the typing module is not loaded on the quick path
if TYPE_CHECKING:
    from ukws.manifest.model import Manifest, Project

RECORD = "noop.json"
"""The record's name in the sync state folder."""

SYNC_DIR = (".ukws", "state", "sync")
"""The sync state folder, relative to the workspace's top (as :mod:`ukws.workspace` and the engine
place it: tests/test_noop.py checks they agree)."""

FORMAT = 1

MARGIN_NS = 100_000_000
"""A time recorded less than this before the record itself is not trusted (0.1 s: well beyond the
coarsest clock tick file systems stamp times with)."""

CLOCK_LAG_NS = 20_000_000
"""How far behind the clock ``time.time_ns()`` reads the file system may stamp a change (it stamps
with a coarser clock, a tick or two behind): a change this much before a run started counts as made
while it ran."""

Signature = list[int] | None


def _signature(path: str) -> Signature:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return [st.st_mode, st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


SCRATCH = ("journal", "tmp", "trash")
"""Folders of the sync state that hold something only while a sync runs, or after one was killed:
a no-op needs them absent or empty (their times change with every sync, which writes a journal
entry for each project it fetches)."""


def _empty(path: str) -> bool:
    try:
        with os.scandir(path) as entries:
            return next(entries, None) is None
    except FileNotFoundError:
        return True
    except OSError:
        return False


def forget(sync_dir: Path) -> None:
    """Delete the record: called by every sync that may change something."""
    with contextlib.suppress(OSError):
        os.unlink(sync_dir / RECORD)


def identity(environ: Mapping[str, str]) -> dict[str, str]:
    """What else a record holds for: this version of ukws, and the environment that finds the user's
    configuration file."""
    from ukws import __version__

    return {"ukws": __version__, **{v: environ.get(v, "") for v in ("HOME", "XDG_CONFIG_HOME")}}


def check(start: Path, environ: Mapping[str, str], *, local: bool = True) -> int | None:
    """The number of projects a ``sync -l`` in the workspace around ``start`` would find unchanged,
    when the record proves it would do nothing; else None (as when another sync holds the workspace).
    ``local`` False asks about a sync that may use the network: that is a no-op too when the record
    says no project's revision (and no manifest repository) needs the network."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if os.path.isdir(folder / SYNC_DIR[0]):
            break
    else:
        return None
    sync_dir = folder.joinpath(*SYNC_DIR)
    try:
        fd = os.open(sync_dir / "lock", os.O_RDWR)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return _check(sync_dir, identity(environ), local)
    except OSError:
        return None
    finally:
        os.close(fd)


def _check(sync_dir: Path, identity: Mapping[str, str], local: bool) -> int | None:
    path = sync_dir / RECORD
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read())
            written = os.fstat(f.fileno()).st_mtime_ns
        if data["format"] != FORMAT or data["identity"] != dict(identity):
            return None
        if not local and data["offline"] is not True:
            return None
        projects = data["projects"]
        paths = data["paths"]
        if not isinstance(projects, int) or not isinstance(paths, list):
            return None
        for name, recorded in paths:
            if recorded is not None and max(recorded[4], recorded[5]) >= written - MARGIN_NS:
                return None  # changed too close to the record: its times may not show a later change
            if _signature(name) != recorded:
                return None
        for name in data["empty"]:
            if not _empty(name):
                return None
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None
    return projects


def record(
    sync_dir: Path,
    environ: Mapping[str, str],
    *,
    root: Path,
    manifest: Manifest,
    pins: Mapping[str, str],
    inputs: Iterable[Path],
    manifest_repository: bool,
    since_ns: int,
) -> bool:
    """Record that a ``sync -l`` of ``manifest`` under ``root`` (with the lock's ``pins``) found
    every project at its revision and did nothing. ``inputs``: the workspace's files the run read
    (configuration, lock, manifests, ...); ``environ``: the environment it ran in;
    ``manifest_repository``: whether a sync fetches a manifest repository first; ``since_ns``: when
    the run started (``time.time_ns()``, before it read anything). Returns False, recording
    nothing, when a project is not a plain checkout with a ``.git`` folder, or when anything
    recorded changed while the run went on (someone edited the manifest or the lock meanwhile: the
    run did not see what the record would hold).

    The record also says whether a sync that may use the network would be the same no-op: when
    there is no manifest repository and every revision is a commit or a tag, the sync checks the
    project out from what it holds, without connecting (see the engine's ``_resolve``)."""
    from ukws.git import is_sha

    paths: list[str] = [str(p) for p in inputs]
    paths.append(str(sync_dir / "state.json"))
    empty = [str(sync_dir / name) for name in SCRATCH]
    if not all(_empty(name) for name in empty):
        return False
    offline = not manifest_repository
    for p in manifest.projects:
        rev = pins.get(p.path) or p.revision
        project = _project_paths(root, p, rev)
        if project is None:
            return False
        paths += project
        offline = offline and (is_sha(rev) or rev.startswith("refs/tags/"))
    signatures = [(name, _signature(name)) for name in dict.fromkeys(paths)]
    since = since_ns - CLOCK_LAG_NS
    if any(sig is not None and max(sig[4], sig[5]) >= since for _, sig in signatures):
        return False
    data = {
        "format": FORMAT,
        "identity": identity(environ),
        "projects": len(manifest.projects),
        "offline": offline,
        "paths": signatures,
        "empty": empty,
    }
    tmp = sync_dir / f".{RECORD}.tmp"
    tmp.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    os.replace(tmp, sync_dir / RECORD)
    return True


def _project_paths(root: Path, p: Project, rev: str) -> list[str] | None:
    # Strings and os.path rather than Path objects: this runs for every project after each sync.
    from ukws.git import is_sha
    from ukws.sync.model import SYNCED_REF, remote_name

    folder = os.path.join(root, p.path)
    gitdir = os.path.join(folder, ".git")
    try:
        if stat.S_ISLNK(os.lstat(folder).st_mode) or not stat.S_ISDIR(os.lstat(gitdir).st_mode):
            return None  # a symbolic link, or a .git file or link: not a plain checkout
        with open(os.path.join(gitdir, "HEAD"), encoding="utf-8") as f:
            head = f.read().strip()
    except (OSError, UnicodeDecodeError):
        return None
    refs = [SYNCED_REF, *(() if is_sha(rev) else _candidates(rev, remote_name(p)))]
    if head.startswith("ref: "):
        refs.append(head.removeprefix("ref: "))
    git = gitdir + "/"
    out = [folder, gitdir, git + "HEAD", git + "packed-refs", git + "info", git + "info/exclude"]
    for ref in refs:
        if not ref.startswith("refs/") or ".." in ref.split("/"):
            return None
        out += [git + ref, os.path.dirname(git + ref)]
    for c in p.copyfiles:  # a copy follows its source through symbolic links
        src = os.path.join(folder, c.src)
        out += [src, os.path.realpath(src), os.path.join(root, c.dest)]
    for link in p.linkfiles:
        out += [os.path.join(folder, link.src), os.path.join(root, link.dest)]
    return out


def _candidates(rev: str, remote: str) -> Sequence[str]:
    """Every ref a sync may read to resolve ``rev`` (a name, not a commit) without the network: the
    engine's ``_resolve_local`` and ``_resolve`` read these and no others."""
    if rev.startswith("refs/heads/"):
        return (f"refs/remotes/{remote}/{rev.removeprefix('refs/heads/')}", rev)
    if rev.startswith("refs/tags/"):
        return (rev,)
    if rev.startswith("refs/"):
        return (f"refs/ukws/fetched/{rev.removeprefix('refs/')}",)
    return (f"refs/remotes/{remote}/{rev}", f"refs/tags/{rev}", f"refs/heads/{rev}")
