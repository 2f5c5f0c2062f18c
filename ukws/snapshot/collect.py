"""Taking a snapshot of a workspace: every check that the release can be rebuilt elsewhere.

The pins come from the lock (``.ukws/lock.xml``); a workspace made from a snapshot or a lock (its
manifest pins every project to a full SHA) needs none. Each project must be checked out at its
pin, with no changed or untracked files, and its pinned commit must be on a branch or tag fetched
from its remote (else no one else can sync it); an application with patches must have exactly the
manifest's series applied (the patch record of ``ukws patch-app``); every origin archive
``ukws fetch`` recorded must be in the cache. ``allow_dirty`` turns each refusal into a caveat that
says what was recorded instead. Nothing is written and no network is used.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from ukws import git
from ukws.build import origins as origin_cache
from ukws.build.patchstate import Record, State
from ukws.errors import UkwsError, WorkspaceError
from ukws.lock import Lock, LockedBuild, LockedProject, pinned, read_lock
from ukws.manifest.model import Manifest, Project
from ukws.manifest.paths import is_within
from ukws.manifest.urls import join_fetch
from ukws.snapshot.manifest import Snapshot, SnapshotFile, SnapshotOrigin
from ukws.sync.model import SYNCED_REF
from ukws.workspace import Workspace, load_workspace_manifest

#: Where a pinned commit must be found to count as pushed: refs fetched from the project's remote.
PUSHED_PREFIXES = ("refs/remotes/", "refs/tags/", "refs/ukws/fetched/")


class SnapshotRefused(WorkspaceError):
    """The workspace is not in a state a snapshot can record; one line per reason."""

    def __init__(self, problems: tuple[str, ...], *, hint: str | None = None) -> None:
        self.problems = problems
        self.hint = hint
        super().__init__("\n".join(problems))

    def lines(self) -> list[str]:
        return [*self.problems, *([self.hint] if self.hint else [])]


ALLOW_DIRTY_HINT = "nothing written; fix the above, or record it anyway with --allow-dirty"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Finding:
    problem: str
    """Why the snapshot is refused."""
    caveat: str
    """What ``--allow-dirty`` records instead."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Taken:
    """A snapshot and what went into it."""

    snapshot: Snapshot
    records: tuple[Record, ...]
    """The applied series of the applications that have one."""
    repos: tuple[tuple[str, Path], ...]
    """Project path -> its repository folder, in manifest order."""


def _label(p: Project) -> str:
    return f"{p.name} ({p.path})" if p.name != p.path else p.name


def _pins(ws: Workspace, manifest: Manifest) -> Lock:
    """The lock, or the manifest's own pins when it pins every project to a full SHA."""
    if ws.lock_path.is_file():
        lock = read_lock(ws.lock_path)
        have = {p.path for p in lock.projects}
        missing = [p for p in manifest.projects if p.path not in have]
        if missing:
            names = ", ".join(_label(p) for p in missing)
            raise WorkspaceError(f"{ws.lock_path}: does not pin {names}; run 'ukws resolve', then 'ukws sync'")
        return lock
    unpinned = [p for p in manifest.projects if not git.is_sha(p.revision)]
    if unpinned:
        raise WorkspaceError(
            f"{ws.root}: no lock, and {_label(unpinned[0])} follows {unpinned[0].revision}; "
            "run 'ukws resolve' (and 'ukws sync') first"
        )
    builds: tuple[LockedBuild, ...] = ()
    try:
        builds = read_lock(ws.manifest_path).builds
    except UkwsError:
        builds = ()  # the manifest is a plain pinned manifest, not a lock or a snapshot
    projects = tuple(
        LockedProject(
            name=p.name,
            path=p.path,
            revision=p.revision,
            upstream=p.upstream,
            version=p.version.removeprefix("==") if p.version and p.version.startswith("==") else None,
        )
        for p in manifest.projects
    )
    return Lock(projects=projects, builds=builds)


def changed_files(
    repo: git.Repository, top: Path, record: Record | None, nested: tuple[str, ...]
) -> list[str]:
    """Changed and untracked files, less the nested projects and the files the applied series
    changed as its record says."""
    state = git.work_state(repo)
    expected = dict(record.files) if record is not None else {}
    changed: list[str] = []
    for rel in (*state.dirty, *state.untracked):
        if any(is_within(rel.rstrip("/"), n) for n in nested):
            continue
        if rel.endswith("/"):  # a folder of untracked files: each must be one the series added
            inner, holds_nested = _untracked_in(top, rel.rstrip("/"), nested)
            changed.extend(f for f in inner if f not in expected)
            if not inner and not holds_nested:
                changed.append(rel)
            continue
        if rel not in expected:
            changed.append(rel)
    for rel, change in sorted(expected.items()):
        path = top / rel
        now = git.hash_blob(path.read_bytes()) if path.is_file() and not path.is_symlink() else None
        if now != change.after:
            changed.append(rel)
    return sorted(set(changed))


def _untracked_in(top: Path, folder: str, nested: tuple[str, ...]) -> tuple[list[str], bool]:
    """The files below untracked ``folder`` (relative to ``top``), less nested projects' trees (not
    walked), and whether a nested project lies below it."""
    files: list[str] = []
    holds_nested = False
    for here, dirs, names in os.walk(top / folder):
        rel = Path(here).relative_to(top).as_posix()
        kept = []
        for d in sorted(dirs):
            if f"{rel}/{d}" in nested:
                holds_nested = True
            else:
                kept.append(d)
        dirs[:] = [d for d in kept if not (Path(here) / d).is_symlink()]
        names += [d for d in kept if (Path(here) / d).is_symlink()]  # a link to a folder is a file to git
        files.extend(f"{rel}/{n}" for n in names)
    return sorted(files), holds_nested


def _files_named(manifest: Manifest) -> list[tuple[str, str | None, str]]:
    """(path, sha256 the manifest gives or None, who names it) for every patch and defconfig."""
    out: list[tuple[str, str | None, str]] = []
    for p in manifest.projects:
        if p.app is None:
            continue
        out.extend((patch.path, patch.sha256, f"{patch.loc}: project {p.name}") for patch in p.app.patches)
        out.extend(
            (t.defconfig, None, f"{t.loc}: project {p.name}") for t in p.app.targets if t.defconfig is not None
        )
    return out


def take_snapshot(ws: Workspace, *, allow_dirty: bool = False, ukws_version: str) -> Taken:
    """Check the workspace and build its snapshot (nothing is written)."""
    manifest = load_workspace_manifest(ws)
    lock = _pins(ws, manifest)
    pins = {p.path: p for p in lock.projects}
    findings: list[_Finding] = []
    hard: list[str] = []
    found_records: list[Record] = []
    patch_state = State(ws.state_dir)
    repos: list[tuple[str, Path]] = []
    newest = 0
    paths = [p.path for p in manifest.projects]

    for p in manifest.projects:
        label, top = _label(p), ws.root / p.path
        pin = pins[p.path].revision
        if git.git_dir(top) is None:
            hard.append(f"{label}: not synced; run 'ukws sync'")
            continue
        repo = git.open_repo(top)
        repos.append((p.path, top))
        upstream = pins[p.path].upstream
        if upstream is not None:  # as repo must read it (a bare tag name would be a branch there)
            pins[p.path] = dataclasses.replace(pins[p.path], upstream=git.upstream_ref(repo, upstream))
        if not git.has_commit(repo, pin):
            hard.append(f"{label}: pinned commit {pin} is not in the repository; run 'ukws sync'")
            continue
        newest = max(newest, git.commit_time(repo, pin))
        head = git.head(repo).sha
        short = pin[:12]
        if head != pin:
            findings.append(_Finding(
                problem=f"{label}: checked out {head[:12] if head else 'nothing'}, not its pin {short}; "
                        "run 'ukws sync'",
                caveat=f"{label}: recorded its pin {short}, not the checked-out {head[:12] if head else 'nothing'}",
            ))  # fmt: skip
        if git.containing_ref(repo, pin, PUSHED_PREFIXES) is None and not (
            git.is_sha(p.revision) and git.commit_of(repo, SYNCED_REF) == pin
        ):
            findings.append(_Finding(
                problem=f"{label}: commit {short} is on no branch or tag of its remote (not pushed); "
                        "push it and sync, or pin a pushed commit",
                caveat=f"{label}: recorded commit {short}, which is on no branch or tag of its remote: "
                       "this snapshot syncs only where that commit can be fetched",
            ))  # fmt: skip
        patches = p.app.patches if p.app is not None else ()
        record = patch_state.record(p.name)
        if record is not None:
            found_records.append(record)
            wanted = tuple((x.path, x.sha256) for x in patches)
            applied = tuple((x.path, x.sha256) for x in record.patches)
            if applied != wanted or record.base != pin:
                findings.append(_Finding(
                    problem=f"{label}: the applied patch series ({len(applied)} patch(es) on "
                            f"{record.base[:12]}) is not the manifest's ({len(wanted)} on {short}); "
                            "run 'ukws patch-app' again",
                    caveat=f"{label}: recorded the manifest's series of {len(wanted)} patch(es); the working "
                           "tree has another one applied",
                ))  # fmt: skip
        elif patches:
            findings.append(_Finding(
                problem=f"{label}: its patch series ({len(patches)} patch(es)) is not applied; run 'ukws patch-app'",
                caveat=f"{label}: recorded the manifest's series of {len(patches)} patch(es), which is not "
                       "applied in the working tree",
            ))  # fmt: skip
        nested = tuple(q[len(p.path) + 1 :] for q in paths if q != p.path and is_within(q, p.path))
        changed = changed_files(repo, top, record, nested)
        if changed:
            shown = _few(changed)
            findings.append(_Finding(
                problem=f"{label}: {len(changed)} changed or untracked file(s) ({shown}); commit, push and "
                        "resolve them, or move them away",
                caveat=f"{label}: {len(changed)} changed or untracked file(s) ({shown}) are not recorded: "
                       f"the snapshot has commit {short}",
            ))  # fmt: skip

    files: list[SnapshotFile] = []
    base = ws.manifest_path.parent
    for rel, sha, who in _files_named(manifest):
        try:
            data = (base / rel).read_bytes()
        except OSError as e:
            hard.append(f"{who}: {rel}: cannot read ({e.strerror or e})")
            continue
        # A patch's sha256 is taken over its text with CRLF read as LF, as 'ukws patch-app' reads it.
        digest = hashlib.sha256(git.lf_normalised(data)).hexdigest()
        if sha is not None and digest != sha:
            hard.append(f"{who}: {rel}: sha256 is {digest}, the manifest says {sha}")
            continue
        files.append(SnapshotFile(path=rel, data=data))

    origins: list[SnapshotOrigin] = []
    cache = origin_cache.cache_dir(ws.dot)
    needed = {(target, n) for target, needs in origin_cache.read_needs(ws.dot).items() for n in needs}
    for target, need in sorted(needed, key=lambda x: (x[0], x[1].library, x[1].url, x[1].sha256, x[1].file)):
        if origin_cache.cached_file(cache, need.sha256) is None:
            findings.append(_Finding(
                problem=f"{target}: origin archive {need.file} of {need.library} (sha256 {need.sha256[:12]}) "
                        "is not in the cache; run 'ukws fetch'",
                caveat=f"{target}: recorded origin archive {need.file} of {need.library} by URL and sha256 "
                       "only: it is not in the cache",
            ))  # fmt: skip
        origins.append(SnapshotOrigin(
            target=target, library=need.library, url=need.url, file=need.file, sha256=need.sha256
        ))  # fmt: skip

    if hard:
        raise SnapshotRefused(tuple(hard), hint="nothing written")
    remotes = tuple(
        dataclasses.replace(r, fetch=join_fetch(r.fetch, ws.config.manifest.repo_url, ws.manifest_path.parent))
        for r in manifest.remotes
    )  # absolute: the snapshot is read far from the manifest repository
    # Every project here is one the workspace selected: none is left out by default groups, so that
    # `ukws init -m` and `repo init` on the snapshot, without -g, get them all.
    pinned_manifest = pinned(manifest, dataclasses.replace(lock, projects=tuple(pins[p.path] for p in lock.projects)))
    selected = tuple(
        dataclasses.replace(p, groups=tuple(g for g in p.groups if g != "notdefault"))
        for p in pinned_manifest.projects
    )
    snap = Snapshot(
        manifest=dataclasses.replace(
            pinned_manifest, projects=selected, remotes=remotes, source=str(ws.manifest_path)
        ),
        builds=tuple(b for b in lock.builds if b.app in {p.name for p in manifest.projects}),
        files=tuple(files),
        origins=tuple(dict.fromkeys(origins)),
        ukws_version=ukws_version,
        source_date_epoch=newest,
    )
    findings.extend(_stale_records(ws, snap, found_records))
    if findings and not allow_dirty:
        raise SnapshotRefused(tuple(f.problem for f in findings), hint=ALLOW_DIRTY_HINT)
    snap = dataclasses.replace(snap, caveats=tuple(f.caveat for f in findings))
    return Taken(snapshot=snap, records=tuple(found_records), repos=tuple(repos))


def _stale_records(ws: Workspace, snap: Snapshot, found: list[Record]) -> list[_Finding]:
    """An application whose applied series is the snapshot's, but whose files are not what
    ``ukws patch-app`` makes of the snapshot now (the lock's library order changed since, say)."""
    from ukws.snapshot.overlay import OverlayError, release_files

    out: list[_Finding] = []
    by_name = {r.project: r for r in found}
    for p in snap.manifest.projects:
        record = by_name.get(p.name)
        if p.app is None or record is None or record.base != p.revision or tuple(
            (x.path, x.sha256) for x in record.patches
        ) != tuple((x.path, x.sha256) for x in p.app.patches):
            continue  # not applied, or another series: reported already
        try:
            wanted = release_files(ws, snap, p)
        except OverlayError:
            continue  # the series was applied here, so it applies: a patch file changed, reported already
        expected = {rel: git.hash_blob(data) if data is not None else None for rel, data in wanted.files.items()}
        applied = {rel: change.after for rel, change in record.files.items()}
        differ = sorted(rel for rel in expected.keys() | applied.keys() if expected.get(rel) != applied.get(rel))
        if differ:
            label = _label(p)
            shown = _few(differ)
            out.append(_Finding(
                problem=f"{label}: 'ukws patch-app' left {shown} otherwise than it makes them now; "
                        "run 'ukws patch-app' again",
                caveat=f"{label}: recorded the manifest's series; the working tree holds an older "
                       f"'ukws patch-app' result ({shown})",
            ))  # fmt: skip
    return out


def _few(names: list[str]) -> str:
    """The first three names, then ``...`` when there are more."""
    return ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
