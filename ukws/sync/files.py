"""What a sync does around the repositories: copy and link files, and projects that left the
manifest (reported, pruned only when they hold no work)."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from ukws import git
from ukws.errors import UkwsError, WorkspaceError
from ukws.fileops import copy_file, link_file, placed_digest, workspace_path
from ukws.manifest.model import Manifest, Project
from ukws.sync import journal as syncstate
from ukws.sync.model import BAD, RECOVERY_PREFIX, SYNCED_REF, Action, Context, ProjectOutcome, dest_rel


def place_files(
    ctx: Context,
    p: Project,
    outcome: ProjectOutcome,
    placed: dict[str, syncstate.Placed],
    before: Mapping[str, syncstate.Placed],
) -> ProjectOutcome:
    """Write the project's copy and link files; record each in ``placed``. ``before`` holds what
    earlier syncs placed: only those files may be replaced."""
    if outcome.action in BAD or not (p.copyfiles or p.linkfiles):
        return outcome
    project_dir = ctx.root / p.path
    try:
        for c in p.copyfiles:
            earlier = before.get(c.dest)
            ours = earlier.digest if earlier is not None and earlier.kind == "copy" else None
            target = copy_file(root=ctx.root, project_dir=project_dir, src=c.src, dest=c.dest, ours=ours)
            _record(placed, target, c.dest, p.path, "copy")
        for link in p.linkfiles:
            target = link_file(root=ctx.root, project_dir=project_dir, src=link.src, dest=link.dest)
            _record(placed, target, link.dest, p.path, "link")
    except (UkwsError, OSError) as e:
        return replace(outcome, action=Action.FAILED, message=f"{p.name} ({p.path}): {e}")
    return outcome


def _record(placed: dict[str, syncstate.Placed], target: Path, dest: str, project: str, kind: str) -> None:
    digest = placed_digest(target, kind)
    if digest is not None:
        placed[dest] = syncstate.Placed(dest=dest, project=project, kind=kind, digest=digest)


def retire_files(
    ctx: Context, before: tuple[syncstate.Placed, ...], placed: dict[str, syncstate.Placed], done: set[str]
) -> tuple[syncstate.Placed, ...]:
    """Delete copy and link files of earlier syncs that the manifest no longer declares, when they
    are still exactly what sync wrote (a file changed since is left alone and forgotten)."""
    keep = dict(placed)
    for old in before:
        if old.dest in placed:
            continue
        if old.project not in done:
            keep[old.dest] = old  # its project was not synced this time: decide later
            continue
        try:
            target = workspace_path(ctx.root, old.dest, "dest")
        except WorkspaceError:
            continue
        if placed_digest(target, old.kind) == old.digest:
            target.unlink(missing_ok=True)
    return tuple(keep.values())


def removed_projects(
    ctx: Context, state: syncstate.State, manifest: Manifest, projects: list[Project]
) -> tuple[list[syncstate.Entry], list[ProjectOutcome]]:
    """Projects synced before but gone from the manifest: reported, deleted with --prune when they
    hold no work. Returns the entries still present and the outcomes."""
    wanted = {dest_rel(p, ctx.options) for p in manifest.projects}
    kept: list[syncstate.Entry] = []
    outcomes: list[ProjectOutcome] = []
    for entry in state.projects:
        if entry.path in wanted:
            continue
        try:
            dest = workspace_path(ctx.root, entry.path, "project path")
        except WorkspaceError:
            continue
        if git.git_dir(dest) is None:
            continue
        label = f"{entry.name} ({entry.path})"
        if not ctx.options.prune:
            kept.append(entry)
            outcomes.append(
                ProjectOutcome(
                    name=entry.name,
                    path=entry.path,
                    action=Action.REMOVED,
                    message=f"{label}: no longer in the manifest; kept (sync --prune deletes it when it holds no work)",
                )
            )
            continue
        work = _work_in(dest, bare=entry.mirror)
        if work:
            kept.append(entry)
            outcomes.append(
                ProjectOutcome(
                    name=entry.name,
                    path=entry.path,
                    action=Action.SKIPPED,
                    message=f"{label}: no longer in the manifest, not pruned: it holds "
                    f"{work}; save or delete that, then sync --prune again",
                )
            )
            continue
        trash = syncstate.scratch_dir(ctx.sync_dir, "trash", entry.path)
        dest.rename(trash)
        shutil.rmtree(trash, ignore_errors=True)
        outcomes.append(
            ProjectOutcome(
                name=entry.name,
                path=entry.path,
                action=Action.PRUNED,
                message=f"{label}: no longer in the manifest; deleted",
            )
        )
    return kept, outcomes


def _work_in(dest: Path, *, bare: bool) -> str:
    """What in the repository at ``dest`` is not kept anywhere else; '' when nothing is."""
    repo = git.open_repo(dest)
    found: list[str] = []
    if not bare:
        ws = git.work_state(repo, ignored=True)
        for what, paths in (("changed", ws.dirty), ("untracked", ws.untracked), ("ignored", ws.ignored)):
            if paths:
                found.append(f"{len(paths)} {what} file(s)")
    if git.has_stash(repo):
        found.append("a stash")
    if git.refs_under(repo, RECOVERY_PREFIX):
        found.append("recovery refs")
    upstream = [
        sha
        for ref in git.refs_under(repo, "refs/remotes/") + git.refs_under(repo, "refs/tags/")
        if (sha := git.commit_of(repo, ref)) is not None
    ]
    synced = git.commit_of(repo, SYNCED_REF)
    if synced is not None:
        upstream.append(synced)
    if not bare:
        tips = dict(git.local_branches(repo))
        head = git.head(repo)
        if head.branch is None and head.sha is not None:
            tips["HEAD"] = head.sha
        for name, tip in sorted(tips.items()):
            if not any(git.is_ancestor(repo, tip, u) for u in upstream):
                found.append(f"local commits on {name}")
    return ", ".join(found)
