"""``ukws verify`` and ``ukws diff-snapshots``: a workspace or an archive against a snapshot, and two
snapshots against each other. Both only read.
"""

from __future__ import annotations

import hashlib
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from ukws import git
from ukws.build import origins as origin_cache
from ukws.build.patchstate import State
from ukws.errors import WorkspaceError
from ukws.manifest.model import Project
from ukws.manifest.paths import is_within
from ukws.snapshot.archive import GITLINK_KEY, ORIGINS_PREFIX, SNAPSHOT_MEMBER, ArchiveOrigin, Member, plan
from ukws.snapshot.collect import changed_files
from ukws.snapshot.manifest import read_snapshot
from ukws.snapshot.overlay import release_files
from ukws.snapshot.release import OverlayFor, archive_origins, archive_projects
from ukws.workspace import Workspace, load_workspace_manifest


@dataclass(frozen=True, slots=True, kw_only=True)
class Difference:
    subject: str
    """The project (``name (path)``), the archive member, or the origin archive concerned."""
    kind: str
    """``missing``, ``extra``, ``commit``, ``dirty``, ``patches``, ``origin``, ``member``."""
    detail: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.detail}"


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyResult:
    snapshot: Path
    checked: str
    """``workspace`` or the archive's path."""
    differences: tuple[Difference, ...]

    @property
    def ok(self) -> bool:
        return not self.differences


def _label(p: Project) -> str:
    return f"{p.name} ({p.path})" if p.name != p.path else p.name


def verify_workspace(ws: Workspace, snapshot_path: Path) -> VerifyResult:
    """Every difference between the workspace's projects and the snapshot's pins, patch state and
    origin archives."""
    snap = read_snapshot(snapshot_path)
    diffs: list[Difference] = []
    current = load_workspace_manifest(ws)
    wanted_paths = {p.path for p in snap.manifest.projects}
    paths = [p.path for p in snap.manifest.projects]
    patch_state = State(ws.state_dir)
    for p in snap.manifest.projects:
        label, top = _label(p), ws.root / p.path
        if git.git_dir(top) is None:
            diffs.append(Difference(subject=label, kind="missing", detail=f"not in the workspace at {p.path}"))
            continue
        repo = git.open_repo(top)
        head = git.head(repo).sha
        if head != p.revision:
            at = head[:12] if head else "nothing"
            detail = f"at {at}, the snapshot pins {p.revision[:12]}"
            diffs.append(Difference(subject=label, kind="commit", detail=detail))
        record = patch_state.record(p.name)
        wanted = tuple((x.path, x.sha256) for x in p.app.patches) if p.app is not None else ()
        if record is None and wanted:
            detail = f"series of {len(wanted)} patch(es) not applied"
            diffs.append(Difference(subject=label, kind="patches", detail=detail))
        elif record is not None:
            applied = tuple((x.path, x.sha256) for x in record.patches)
            if applied != wanted or record.base != p.revision:
                diffs.append(Difference(
                    subject=label, kind="patches",
                    detail=f"applied series ({len(applied)} patch(es) on {record.base[:12]}) is not the "
                           f"snapshot's ({len(wanted)} on {p.revision[:12]})",
                ))  # fmt: skip
        nested = tuple(q[len(p.path) + 1 :] for q in paths if q != p.path and is_within(q, p.path))
        changed = changed_files(repo, top, record, nested)
        if changed:
            shown = ", ".join(changed[:5]) + (", ..." if len(changed) > 5 else "")
            diffs.append(Difference(subject=label, kind="dirty", detail=f"{len(changed)} changed file(s): {shown}"))
    for p in current.projects:
        if p.path not in wanted_paths:
            diffs.append(Difference(subject=_label(p), kind="extra", detail="in the workspace, not in the snapshot"))
    for o in snap.origins:
        if origin_cache.cached_file(origin_cache.cache_dir(ws.dot), o.sha256) is None:
            diffs.append(Difference(subject=o.target, kind="origin",
                                    detail=f"origin archive {o.file} of {o.library} is not in the cache"))
    return VerifyResult(snapshot=snapshot_path, checked="workspace", differences=tuple(diffs))


def _content(m: Member) -> tuple[str, str]:
    """(kind, digest or link target or gitlink commit) of an expected member."""
    if m.kind == "dir":
        return ("dir", "")
    if m.kind == "gitlink":
        return ("dir", m.gitlink or "")
    if m.kind == "link":
        assert m.read is not None
        return ("link", m.read().decode("utf-8", "surrogateescape"))
    h = hashlib.sha256()
    if m.source is not None:
        with m.source.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    else:
        assert m.read is not None
        h.update(m.read())
    return (m.kind, h.hexdigest())


def _actual(info: tarfile.TarInfo, tar: tarfile.TarFile) -> tuple[str, str]:
    if info.isdir():
        return ("dir", info.pax_headers.get(GITLINK_KEY, ""))
    if info.issym():
        return ("link", info.linkname)
    if not info.isfile():
        return (f"type {info.type!r}", "")
    h = hashlib.sha256()
    f = tar.extractfile(info)
    assert f is not None
    for block in iter(lambda: f.read(1 << 20), b""):
        h.update(block)
    return ("exec" if info.mode & 0o111 else "file", h.hexdigest())


def verify_archive(
    ws: Workspace, snapshot_path: Path, archive: Path, *, overlay_for: OverlayFor = release_files
) -> VerifyResult:
    """Every member of ``archive`` that differs from what the snapshot says it holds, the files
    read from the workspace's git objects: missing, extra, other content, type or mode, and
    headers that are not normalised."""
    snap = read_snapshot(snapshot_path)
    diffs: list[Difference] = []
    for p in snap.manifest.projects:
        top = ws.root / p.path
        if git.git_dir(top) is None or not git.has_commit(git.open_repo(top), p.revision):
            raise WorkspaceError(
                f"{_label(p)}: commit {p.revision[:12]} is not in this workspace; verify the archive in a "
                "workspace synced to the snapshot ('ukws init -m SNAPSHOT' and 'ukws sync')"
            )
    projects, notes = archive_projects(ws, snap, overlay_for)
    for note in notes:
        diffs.append(Difference(subject=archive.name, kind="patches", detail=f"cannot check: {note}"))
    actual: dict[str, tuple[str, str]] = {}
    order: list[str] = []
    mtimes: set[int] = set()
    try:
        with tarfile.open(archive, mode="r|gz") as tar:
            for info in tar:
                order.append(info.name)
                actual[info.name] = _actual(info, tar)
                mtimes.add(int(info.mtime))
                if (info.uid, info.gid, info.uname, info.gname) != (0, 0, "", ""):
                    diffs.append(Difference(subject=info.name, kind="member", detail="owner is not uid/gid 0 "
                                            "without names"))
    except (OSError, tarfile.TarError, EOFError, zlib.error) as e:
        raise WorkspaceError(f"{archive}: not a readable .tar.gz ({e})") from None
    if len(mtimes) > 1:
        diffs.append(Difference(subject=archive.name, kind="member", detail=f"{len(mtimes)} different mtimes"))
    origins: tuple[ArchiveOrigin, ...] = ()
    if any(name.startswith(ORIGINS_PREFIX + "/") for name in actual):
        origins, _missing = archive_origins(ws, snap)
    members, _repos = plan(snapshot_bytes=snapshot_path.read_bytes(), projects=projects, origins=origins)
    expected = {m.path: m for m in members}
    for m in members:
        if m.path not in actual:
            diffs.append(Difference(subject=m.path, kind="member", detail="missing from the archive"))
            continue
        want, got = _content(m), actual[m.path]
        if want != got:
            what = "content" if want[0] == got[0] else f"type {got[0]}, expected {want[0]}"
            if m.path == SNAPSHOT_MEMBER:
                what = "another snapshot"
            diffs.append(Difference(subject=m.path, kind="member", detail=f"differs ({what})"))
    for name in order:
        if name not in expected:
            diffs.append(Difference(subject=name, kind="member", detail="in the archive, not in the snapshot"))
    if [n for n in order if n in expected] != [m.path for m in members if m.path in actual]:
        diffs.append(Difference(subject=archive.name, kind="member", detail="members are not in sorted order"))
    return VerifyResult(snapshot=snapshot_path, checked=str(archive), differences=tuple(diffs))


# -- diff-snapshots ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Commit:
    sha: str
    subject: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectChange:
    name: str
    path: str
    old: str | None
    """The pin in the first snapshot (None: added)."""
    new: str | None
    """The pin in the second (None: removed)."""
    old_version: str | None = None
    new_version: str | None = None
    added: tuple[Commit, ...] | None = None
    """Commits in ``new`` and not in ``old``, newest first; None when the workspace lacks one of them."""
    dropped: tuple[Commit, ...] | None = None
    """Commits in ``old`` and not in ``new`` (a pin moved back or to another line)."""
    moved_from: str | None = None
    """The project's path in the first snapshot, when it moved."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotDiff:
    a: Path
    b: Path
    added: tuple[ProjectChange, ...]
    removed: tuple[ProjectChange, ...]
    changed: tuple[ProjectChange, ...]
    files: tuple[str, ...]
    """Patch and defconfig files added, removed or changed (``+ path``, ``- path``, ``~ path``)."""
    origins: tuple[str, ...]
    """Origin archives added or removed (``+ target library url``, ``- ...``)."""

    @property
    def same(self) -> bool:
        return not (self.added or self.removed or self.changed or self.files or self.origins)


def _version(p: Project) -> str | None:
    return p.version.removeprefix("==") if p.version else None


def _commits(root: Path | None, p: Project, since: str, until: str) -> tuple[Commit, ...] | None:
    if root is None or git.git_dir(root / p.path) is None:
        return None
    found = git.log(git.open_repo(root / p.path), since, until)
    return None if found is None else tuple(Commit(sha=c.sha, subject=c.subject) for c in found)


def diff_snapshots(a: Path, b: Path, *, root: Path | None) -> SnapshotDiff:
    """What changed from snapshot ``a`` to ``b``: projects (matched by name, then path) with the
    commits between their pins read from the workspace at ``root`` (None: no commit lists)."""
    sa, sb = read_snapshot(a), read_snapshot(b)
    old_by_path = {p.path: p for p in sa.manifest.projects}
    old_by_name: dict[str, list[Project]] = {}
    for x in sa.manifest.projects:
        old_by_name.setdefault(x.name, []).append(x)
    matched: set[str] = set()
    new_paths = {q.path for q in sb.manifest.projects}
    added: list[ProjectChange] = []
    changed: list[ProjectChange] = []
    for q in sb.manifest.projects:
        p: Project | None = old_by_path.get(q.path)
        if p is None or p.name != q.name:
            # A project that moved: the same name, at a path the second snapshot no longer has.
            gone = [x for x in old_by_name.get(q.name, []) if x.path not in matched and x.path not in new_paths]
            p = gone[0] if len(gone) == 1 else None
        if p is None:
            added.append(ProjectChange(name=q.name, path=q.path, old=None, new=q.revision, new_version=_version(q)))
            continue
        matched.add(p.path)
        if p.revision == q.revision and p.path == q.path and _version(p) == _version(q):
            continue
        changed.append(ProjectChange(
            name=q.name, path=q.path, old=p.revision, new=q.revision,
            old_version=_version(p), new_version=_version(q),
            added=_commits(root, q, p.revision, q.revision) if p.revision != q.revision else (),
            dropped=_commits(root, q, q.revision, p.revision) if p.revision != q.revision else (),
            moved_from=p.path if p.path != q.path else None,
        ))  # fmt: skip
    removed = [
        ProjectChange(name=x.name, path=x.path, old=x.revision, new=None, old_version=_version(x))
        for x in sa.manifest.projects
        if x.path not in matched
    ]
    files: list[str] = []
    fa, fb = {f.path: f.sha256 for f in sa.files}, {f.path: f.sha256 for f in sb.files}
    for path in sorted(fa.keys() | fb.keys()):
        if path not in fa:
            files.append(f"+ {path}")
        elif path not in fb:
            files.append(f"- {path}")
        elif fa[path] != fb[path]:
            files.append(f"~ {path}")
    oa = {(o.target, o.library, o.url, o.sha256) for o in sa.origins}
    ob = {(o.target, o.library, o.url, o.sha256) for o in sb.origins}
    origins = [f"- {' '.join(o[:3])} ({o[3][:12]})" for o in sorted(oa - ob)]
    origins += [f"+ {' '.join(o[:3])} ({o[3][:12]})" for o in sorted(ob - oa)]
    return SnapshotDiff(
        a=a, b=b, added=tuple(added), removed=tuple(removed), changed=tuple(changed),
        files=tuple(files), origins=tuple(origins),
    )  # fmt: skip
