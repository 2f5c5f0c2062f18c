"""``ukws snapshot``: check the workspace, write the snapshot manifest and, if asked, the archive."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ukws.build import origins as origin_cache
from ukws.errors import UsageError
from ukws.fileops import atomic_write
from ukws.manifest.model import Project
from ukws.snapshot.archive import (
    ArchiveOrigin,
    ArchiveProject,
    ArchiveResult,
    plan,
    write_archive,
)
from ukws.snapshot.collect import take_snapshot
from ukws.snapshot.manifest import Snapshot, render
from ukws.snapshot.overlay import OverlayError, ReleaseFiles, release_files
from ukws.workspace import Workspace

OverlayFor = Callable[[Workspace, Snapshot, Project], ReleaseFiles]
"""What ``ukws patch-app`` changes in an application at its pin (raises :class:`OverlayError` when
its series does not apply there)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotResult:
    snapshot_path: Path | None
    """Where the snapshot was written; None when it went to stdout."""
    snapshot_bytes: bytes
    written: bool
    """False when the file already held these exact bytes."""
    projects: int
    caveats: tuple[str, ...]
    archive: ArchiveResult | None = None


def _write_if_changed(path: Path, data: bytes) -> bool:
    """Write ``data`` atomically unless ``path`` already holds exactly it; True when written."""
    if path.is_file() and path.read_bytes() == data:
        return False
    atomic_write(path, data)
    return True


def archive_projects(
    ws: Workspace, snap: Snapshot, overlay_for: OverlayFor = release_files
) -> tuple[tuple[ArchiveProject, ...], tuple[str, ...]]:
    """What the archive holds of each project (applications as ``ukws patch-app`` leaves them),
    and a caveat for each series it could not apply."""
    out: list[ArchiveProject] = []
    caveats: list[str] = []
    for p in snap.manifest.projects:
        files: ReleaseFiles | None = None
        if p.app is not None:
            try:
                files = overlay_for(ws, snap, p)
            except OverlayError as e:
                caveats.append(f"{e}; the archive holds its sources without the patch series applied")
        out.append(ArchiveProject(
            path=p.path, repo=ws.root / p.path, commit=p.revision,
            overlay=files.files if files is not None else None,
            executable=files.executable if files is not None else frozenset(),
        ))  # fmt: skip
    return tuple(out), tuple(caveats)


def archive_origins(ws: Workspace, snap: Snapshot) -> tuple[tuple[ArchiveOrigin, ...], tuple[str, ...]]:
    found: dict[str, ArchiveOrigin] = {}
    caveats: list[str] = []
    for o in snap.origins:
        cached = origin_cache.cached_file(origin_cache.cache_dir(ws.dot), o.sha256)
        if cached is None:
            caveats.append(f"{o.target}: origin archive {o.file} is not in the archive (not cached)")
        else:
            found.setdefault(o.url, ArchiveOrigin(sha256=o.sha256, file=o.file, url=o.url, source=cached))
    return tuple(found.values()), tuple(caveats)


def make_snapshot(
    ws: Workspace,
    *,
    output: Path | None,
    archive: Path | None = None,
    with_origins: bool = False,
    allow_dirty: bool = False,
    source_date_epoch: int | None = None,
    ukws_version: str,
    overlay_for: OverlayFor = release_files,
) -> SnapshotResult:
    """Check the workspace, write the snapshot to ``output`` (None: only return its bytes) and the
    archive to ``archive``. The archive's mtime is ``source_date_epoch`` when given, else the
    newest pinned commit's time. Nothing is written when a check fails."""
    if with_origins and archive is None:
        raise UsageError("--with-origins puts the origin archives into the archive; give --archive FILE too")
    taken = take_snapshot(ws, allow_dirty=allow_dirty, ukws_version=ukws_version)
    snap = taken.snapshot
    data = render(snap)
    caveats = list(snap.caveats)
    result: ArchiveResult | None = None
    if archive is not None:
        projects, more = archive_projects(ws, snap, overlay_for)
        origins: tuple[ArchiveOrigin, ...] = ()
        if with_origins:
            origins, missing = archive_origins(ws, snap)
            more = (*more, *missing)
        if more and not allow_dirty:
            from ukws.snapshot.collect import ALLOW_DIRTY_HINT, SnapshotRefused

            raise SnapshotRefused(more, hint=ALLOW_DIRTY_HINT)
        caveats.extend(more)
        members, _repos = plan(snapshot_bytes=data, projects=projects, origins=origins)
        mtime = source_date_epoch if source_date_epoch is not None else snap.source_date_epoch
        result = write_archive(archive, members, mtime=mtime)
    written = _write_if_changed(output, data) if output is not None else False
    return SnapshotResult(
        snapshot_path=output,
        snapshot_bytes=data,
        written=written,
        projects=len(snap.manifest.projects),
        caveats=tuple(caveats),
        archive=result,
    )
