"""The values of ``ukws sync``: options, per-project outcomes, progress events, the result.

Shared by :mod:`ukws.sync.engine` (scheduling, fetching, cloning), :mod:`ukws.sync.worktree` (moving a working
tree without losing work) and :mod:`ukws.sync.files` (copy/link files, projects that left the
manifest). :mod:`ukws.sync.engine` re-exports the public names.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ukws.errors import UkwsError
from ukws.manifest.model import Project

SYNCED_REF = "refs/ukws/synced"
"""The commit the last sync checked out; commits beyond it on a detached HEAD are the user's."""
RECOVERY_PREFIX = "refs/ukws/recovery/"
_REMOTE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class Action(enum.StrEnum):
    CLONED = "cloned"
    FETCHED = "fetched"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    FAILED = "failed"
    REMOVED = "removed"
    PRUNED = "pruned"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectOutcome:
    name: str
    path: str
    action: Action
    sha: str | None = None
    message: str = ""
    """One line; for skipped and failed projects it names the project, the cause and what to do."""
    recovery_ref: str | None = None
    """Where commits of a detached HEAD were kept before it moved (see docs/sync.md)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgressEvent:
    """A throttled progress report, delivered on the thread that called :func:`sync`."""

    name: str
    path: str
    phase: str
    """``fetch`` while objects arrive, ``done`` when the project is finished (``outcome`` set)."""
    received_objects: int = 0
    total_objects: int = 0
    received_bytes: int = 0
    """As libgit2 counts them; it may leave this at 0 for some transports."""
    outcome: ProjectOutcome | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncOptions:
    jobs: int = 0
    """Projects handled at once; 0: the manifest's ``sync-j``, else 4."""
    fetch: bool = True
    """False for ``--local-only``: no network access at all."""
    checkout: bool = True
    """False for ``--network-only``: fetch, touch no working tree."""
    fail_fast: bool = False
    rebase: bool = False
    prune: bool = False
    depth: int | None = None
    """Overrides every project's clone-depth."""
    only: tuple[str, ...] = ()
    """Project names or paths; empty: every project of the manifest."""
    mirror: bool = False
    """Keep bare mirrors (``<name>.git``) instead of checkouts."""
    reference: Path | None = None
    """A mirror (or another workspace) to borrow objects from when cloning."""
    urls: Callable[[Project], Sequence[str]] | None = None
    """Candidate URLs of a project, tried in order; default ``(project.fetch_url,)``."""
    pins: Mapping[str, str] = field(default_factory=dict)
    """Project path -> full commit SHA (from the lock); overrides the manifest revision."""
    progress: Callable[[ProgressEvent], None] | None = None
    timeout: float = 60.0
    """Seconds a connection or a stalled transfer may take before it fails."""
    before_move: Callable[[Project], None] | None = None
    """Called (in the project's worker thread) just before a working tree is moved to another commit;
    a :class:`UkwsError` it raises leaves the project where it is, skipped with that message. ``ukws sync``
    uses it to set an applied patch series aside (the sync wing knows nothing of patches)."""
    on_noop: Callable[[Path, Mapping[str, str]], None] | None = None
    """Called with the sync state folder and the pins the run used, still holding the workspace
    lock, when a run over every project that checks out found each at its revision (after
    fetching, if it fetched: nothing new) and did and said nothing: ``ukws sync`` records then what
    proves the next ``sync -l`` a no-op (:mod:`ukws.sync.noop`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncResult:
    outcomes: tuple[ProjectOutcome, ...]
    ok: bool
    """False when any project was skipped or failed (the CLI exits 1)."""
    warnings: tuple[str, ...] = ()
    """Problems of the workspace's own records that sync repaired, one line each."""


BAD = frozenset({Action.SKIPPED, Action.FAILED})


def outcome_of(
    p: Project, action: Action, message: str = "", *, sha: str | None = None, recovery_ref: str | None = None
) -> ProjectOutcome:
    return ProjectOutcome(name=p.name, path=p.path, action=action, message=message, sha=sha, recovery_ref=recovery_ref)


class Skip(UkwsError):
    """The project cannot be updated without risking the user's work."""


def remote_name(p: Project) -> str:
    return p.remote if _REMOTE_NAME.fullmatch(p.remote) else "origin"


@dataclass(slots=True, kw_only=True)
class Context:
    """What every step of one sync run needs."""

    root: Path
    sync_dir: Path
    options: SyncOptions
    real_root: Path = field(init=False)
    """``root`` with symlinks resolved, once per run."""
    journals: frozenset[str] = frozenset()
    """Journal entries present when the run started (the projects a killed sync was writing to)."""
    nested: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Project path -> the paths of the projects inside it, relative to it (see ``sync.nested``)."""

    def __post_init__(self) -> None:
        self.real_root = self.root.resolve()


def dest_rel(p: Project, options: SyncOptions) -> str:
    """Where a project lives, relative to the workspace: its path, or ``<name>.git`` for a mirror."""
    if options.mirror:
        return p.name if p.name.endswith(".git") else f"{p.name}.git"
    return p.path
