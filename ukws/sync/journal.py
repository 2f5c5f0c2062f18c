"""What ``ukws sync`` keeps under ``.ukws/sync/``: the workspace lock, per-project journals, the
record of what was last synced, and scratch space for clones and deletions in progress.

Layout::

    .ukws/sync/lock              held (flock) while a sync runs; the kernel drops it when ukws dies
    .ukws/sync/state.json        projects and copy/link files the last syncs placed
    .ukws/sync/journal/<key>.json  one per project while ukws writes to its repository
    .ukws/sync/tmp/<key>/        a clone being built; renamed into place when complete
    .ukws/sync/trash/<key>/      a pruned project being deleted
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ukws.errors import WorkspaceError
from ukws.fileops import atomic_write

STATE_VERSION = 1


def key(path: str) -> str:
    """A file-name-safe key for a project path."""
    return hashlib.sha256(path.encode()).hexdigest()[:20]


@contextlib.contextmanager
def workspace_lock(sync_dir: Path) -> Iterator[None]:
    """Hold the lock of a workspace (taken by sync, and by init over an existing workspace); fail
    at once when another process holds it."""
    sync_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(sync_dir / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WorkspaceError(
                "another ukws sync or init is running in this workspace; wait for it to finish and try again"
            ) from None
        try:
            yield
        except BaseException as e:
            if not isinstance(e, Exception):
                # Interrupted: worker threads may still be writing until the process exits, so the
                # lock stays held until then (a duplicate descriptor is left open on purpose).
                os.dup(fd)
            raise
    finally:
        os.close(fd)


def clean_scratch(sync_dir: Path) -> None:
    """Delete half-built clones and half-deleted projects an interrupted sync left behind."""
    for name in ("tmp", "trash"):
        d = sync_dir / name
        if d.is_dir():
            shutil.rmtree(d, ignore_errors=True)


def scratch_dir(sync_dir: Path, kind: str, path: str) -> Path:
    d = sync_dir / kind / key(path)
    if d.exists():
        shutil.rmtree(d)
    d.parent.mkdir(parents=True, exist_ok=True)
    return d


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """A project the workspace holds because a sync put it there."""

    path: str
    name: str
    mirror: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Placed:
    """A file a ``<copyfile>`` or ``<linkfile>`` put in the workspace."""

    dest: str
    project: str
    """The path of the project that declared it."""
    kind: str
    """``copy`` or ``link``."""
    digest: str
    """sha256 of a copy's bytes, or a link's target: the file is still ours while it matches."""


@dataclass(frozen=True, slots=True, kw_only=True)
class State:
    projects: tuple[Entry, ...] = ()
    files: tuple[Placed, ...] = ()


STATE_FILE = "state.json"


def load_state(sync_dir: Path) -> tuple[State | None, str]:
    """The state recorded in ``state.json``; (None, why) when it is missing or cannot be read
    (``why`` is '' when the file does not exist)."""
    try:
        raw = json.loads((sync_dir / STATE_FILE).read_text())
        projects = tuple(
            Entry(path=str(e["path"]), name=str(e["name"]), mirror=bool(e.get("mirror", False)))
            for e in raw.get("projects", [])
        )
        files = tuple(
            Placed(dest=str(f["dest"]), project=str(f["project"]), kind=str(f["kind"]), digest=str(f["digest"]))
            for f in raw.get("files", [])
        )
        kinds = {f.kind for f in files}
    except FileNotFoundError:
        return None, ""
    except OSError as e:
        return None, e.strerror or str(e)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        text = " ".join(str(e).split())
        return None, f"{type(e).__name__}: {text}" if not isinstance(e, ValueError) else text
    if not kinds <= {"copy", "link"}:
        return None, f"unknown file kind {sorted(kinds - {'copy', 'link'})[0]!r}"
    return State(projects=projects, files=files), ""


def same_state(a: State, b: State) -> bool:
    """Whether two states hold the same entries, in whatever order."""
    return sorted(a.projects, key=lambda e: e.path) == sorted(b.projects, key=lambda e: e.path) and sorted(
        a.files, key=lambda f: f.dest
    ) == sorted(b.files, key=lambda f: f.dest)


def save_state(sync_dir: Path, state: State) -> None:
    data = {
        "version": STATE_VERSION,
        "projects": [
            {"path": e.path, "name": e.name, "mirror": e.mirror}
            for e in sorted(state.projects, key=lambda e: e.path)
        ],
        "files": [
            {"dest": f.dest, "project": f.project, "kind": f.kind, "digest": f.digest}
            for f in sorted(state.files, key=lambda f: f.dest)
        ],
    }
    atomic_write(sync_dir / STATE_FILE, (json.dumps(data, indent=1) + "\n").encode())


def journal_keys(sync_dir: Path) -> frozenset[str]:
    """The keys of the journal entries present (one folder listing instead of a read per project)."""
    try:
        names = os.listdir(sync_dir / "journal")
    except OSError:
        return frozenset()
    return frozenset(n.removesuffix(".json") for n in names if n.endswith(".json"))


class Journal:
    """Marks a project's repository as being written to. Present at start-up, it means a sync was
    killed half-way through that project: the repair reads what was in progress."""

    def __init__(self, sync_dir: Path, path: str) -> None:
        self.key = key(path)
        self.file = sync_dir / "journal" / f"{self.key}.json"
        self.path = path
        self.written = False
        """Whether this run wrote (or found) the entry: :meth:`clear` has nothing to do otherwise."""

    def read(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.file.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            self.written = True
            return {}
        self.written = True
        return data if isinstance(data, dict) else {}

    def write(self, **entry: Any) -> None:
        """Record what is about to happen. A checkout is written atomically (its repair needs the
        details); other entries only need to exist, and are written directly (faster)."""
        self.file.parent.mkdir(parents=True, exist_ok=True)
        self.written = True
        data = json.dumps({"path": self.path, **entry}).encode()
        if entry.get("op") == "checkout":
            atomic_write(self.file, data)
        else:
            self.file.write_bytes(data)

    def clear(self) -> None:
        if self.written:
            self.file.unlink(missing_ok=True)
            self.written = False
