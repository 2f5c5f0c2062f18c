"""Rebuilding ``state.json`` from the workspace when it is missing or damaged.

``state.json`` records the projects and the copy/link files earlier syncs placed; without it, sync
would take its own copy files for the user's and refuse to replace them on every run. What can be
known again is rebuilt: the projects of the manifest present at their paths, and the copy and
link files that still hold exactly what sync would have written (the source's content in the
working tree, at HEAD or at the last synced commit; a link to the source). What cannot be known
(projects that left the manifest before the file was lost) is said in the warning.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ukws import git
from ukws.errors import UkwsError, WorkspaceError
from ukws.fileops import is_inside, placed_digest, workspace_path
from ukws.manifest.model import Manifest, Project
from ukws.sync import journal as syncstate
from ukws.sync.model import SYNCED_REF, SyncOptions, dest_rel


def rebuild_state(root: Path, manifest: Manifest, options: SyncOptions) -> syncstate.State:
    """The state the workspace at ``root`` shows for ``manifest``."""
    entries: list[syncstate.Entry] = []
    files: list[syncstate.Placed] = []
    for p in manifest.projects:
        rel = dest_rel(p, options)
        try:
            dest = workspace_path(root, rel, "project path")
        except WorkspaceError:
            continue
        if git.git_dir(dest) is None:
            continue
        entries.append(syncstate.Entry(path=rel, name=p.name, mirror=options.mirror))
        if not options.mirror:
            files += _placed_files(root, p, dest)
    unique = {e.path: e for e in entries}
    return syncstate.State(projects=tuple(unique.values()), files=tuple({f.dest: f for f in files}.values()))


def describe(state: syncstate.State) -> str:
    """What a rebuild found, for the warning."""
    n, m = len(state.projects), len(state.files)
    return (
        f"{n} project{'' if n == 1 else 's'} found at {'its path' if n == 1 else 'their paths'}, "
        f"{m} copy/link file{'' if m == 1 else 's'} taken as sync's (holding what sync writes there)"
    )


def _placed_files(root: Path, p: Project, project_dir: Path) -> list[syncstate.Placed]:
    found: list[syncstate.Placed] = []
    real_project = project_dir.resolve()
    for c in p.copyfiles:
        target = _dest(root, c.dest)
        digest = placed_digest(target, "copy") if target is not None else None
        if digest is not None and digest in _source_digests(project_dir, real_project, c.src):
            found.append(syncstate.Placed(dest=c.dest, project=p.path, kind="copy", digest=digest))
    for link in p.linkfiles:
        target = _dest(root, link.dest)
        digest = placed_digest(target, "link") if target is not None else None
        if target is None or digest is None:
            continue
        source = project_dir / link.src
        expected = os.path.relpath(source.parent.resolve() / source.name, target.parent.resolve())
        if digest == expected:
            found.append(syncstate.Placed(dest=link.dest, project=p.path, kind="link", digest=digest))
    return found


def _dest(root: Path, rel: str) -> Path | None:
    try:
        return workspace_path(root, rel, "dest")
    except WorkspaceError:
        return None


def _source_digests(project_dir: Path, real_project: Path, src: str) -> set[str]:
    """sha256 of the copy source as the working tree, HEAD and the last synced commit hold it."""
    digests: set[str] = set()
    source = project_dir / src
    try:
        if is_inside(source.resolve(), real_project) and source.is_file() and not source.is_symlink():
            digests.add(hashlib.sha256(source.read_bytes()).hexdigest())
    except OSError:
        pass
    try:
        repo = git.open_repo(project_dir)
        commits = {git.head(repo).sha, git.ref_target(repo, SYNCED_REF)}
        for commit in commits - {None}:
            assert commit is not None
            data = git.read_blob(repo, commit, src)
            if data is not None:
                digests.add(hashlib.sha256(data).hexdigest())
    except (UkwsError, OSError, ValueError, KeyError):
        pass
    return digests
