"""``ukws snapshot``: check the workspace, write the snapshot manifest and, if asked, the archive."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ukws import git
from ukws.errors import UsageError
from ukws.manifest.model import Project
from ukws.snapshot import records
from ukws.snapshot.archive import (
    ArchiveOrigin,
    ArchiveProject,
    ArchiveResult,
    Overlay,
    plan,
    write_archive,
)
from ukws.snapshot.collect import take_snapshot
from ukws.snapshot.manifest import Snapshot, render
from ukws.workspace import Workspace

OverlayFor = Callable[[Workspace, Project, str], Overlay | None]
"""The files an application's patch series changes, given the workspace, the project and its pinned
commit; None when the series cannot be applied. A project without patches is never asked."""


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


def overlay_from_record(ws: Workspace, project: Project, commit: str) -> Overlay | None:
    """The applied series' changes, from the ``ukws patch-app`` record: each changed file's
    content after the series, taken from the object store when it holds the blob, else from the
    working tree when the file there has exactly that blob id. None when the record is missing,
    applies to another commit or another series, or a file no longer matches it."""
    record = records.read_patch_record(ws.dot, project.name)
    wanted = tuple((p.path, p.sha256) for p in project.app.patches) if project.app else ()
    if record is None or record.base != commit or tuple((p.path, p.sha256) for p in record.patches) != wanted:
        return None
    top = ws.root / project.path
    repo = git.open_repo(top)
    out: dict[str, bytes | None] = {}
    for rel, change in record.files:
        if change.after is None:
            out[rel] = None
            continue
        if git.has_blob(repo, change.after):
            out[rel] = git.blob_bytes(repo, change.after)
            continue
        path = top / rel
        data = path.read_bytes() if path.is_file() and not path.is_symlink() else None
        if data is None or git.hash_blob(data) != change.after:
            return None
        out[rel] = data
    return out


def _write_atomic(path: Path, data: bytes) -> bool:
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def archive_projects(
    ws: Workspace, snap: Snapshot, overlay_for: OverlayFor
) -> tuple[tuple[ArchiveProject, ...], tuple[str, ...]]:
    """What the archive holds of each project, and a caveat for each series it could not apply."""
    out: list[ArchiveProject] = []
    caveats: list[str] = []
    for p in snap.manifest.projects:
        overlay: Overlay | None = None
        if p.app is not None and p.app.patches:
            overlay = overlay_for(ws, p, p.revision)
            if overlay is None:
                caveats.append(f"{p.name}: the archive holds its sources without the patch series applied")
        out.append(ArchiveProject(path=p.path, repo=ws.root / p.path, commit=p.revision, overlay=overlay))
    return tuple(out), tuple(caveats)


def archive_origins(ws: Workspace, snap: Snapshot) -> tuple[tuple[ArchiveOrigin, ...], tuple[str, ...]]:
    found: dict[str, ArchiveOrigin] = {}
    caveats: list[str] = []
    for o in snap.origins:
        cached = records.cached_origin(ws.dot, o.sha256)
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
    overlay_for: OverlayFor = overlay_from_record,
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
    written = _write_atomic(output, data) if output is not None else False
    return SnapshotResult(
        snapshot_path=output,
        snapshot_bytes=data,
        written=written,
        projects=len(snap.manifest.projects),
        caveats=tuple(caveats),
        archive=result,
    )
