"""What the workspace holds: ``status``, ``diff``, ``info`` and ``list``.

``list`` also works on a manifest given with ``-m`` (a path or a shipped manifest's name), outside any
workspace.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import typer

from ukws.cli import common
from ukws.cli.common import JsonOpt, ProjectsArg, find_workspace, only, user_rules

if TYPE_CHECKING:
    from ukws.listing import ProjectRow
from ukws.cli.manifest import GroupsOpt, ManifestOpt, load_manifest


def status_cmd(projects: ProjectsArg = None, as_json: JsonOpt = False) -> None:
    """Show each project's checkout: branch, commit, ahead/behind, local changes, pin."""
    from ukws import status, workspace

    def go() -> tuple[Any, ...]:
        ws = find_workspace()
        manifest = only(workspace.load_workspace_manifest(ws), projects)
        return status.project_status(root=ws.root, manifest=manifest, pins=workspace.read_pins(ws))

    rows = common.run(go)
    if as_json:
        common.emit_json(rows)
        return
    width = max((len(r.path) for r in rows), default=0)
    for r in rows:
        sys.stdout.write(f"{r.path:<{width}}  {status_text(r)}\n")


def status_text(r: Any) -> str:
    """One project's status in a few words."""
    if r.error:
        return f"error: {r.error}"
    if not r.synced:
        return "not synced"
    where = f"on {r.branch}" if r.branch else "detached"
    words = [f"{where} at {(r.head_sha or '')[:12]}"]
    if r.ahead or r.behind:
        words.append(f"ahead {r.ahead}, behind {r.behind}")
    if r.pin_sha and not r.at_pin:
        words.append(f"not at {r.pin_sha[:12]} (its {'pin' if r.revision == r.pin_sha else r.revision})")
    if r.dirty:
        words.append("local changes")
    if r.untracked:
        words.append("untracked files")
    return "; ".join(words)


def diff_cmd(projects: ProjectsArg = None, as_json: JsonOpt = False) -> None:
    """Show uncommitted changes of every project, as patches with paths from the workspace root."""
    from ukws import status, workspace

    def go() -> tuple[Any, ...]:
        ws = find_workspace()
        manifest = only(workspace.load_workspace_manifest(ws), projects)
        return status.project_diff(root=ws.root, manifest=manifest)

    diffs = common.run(go)
    if as_json:
        common.emit_json(diffs)
        return
    for d in diffs:
        if d.patch:
            sys.stdout.write(f"project {d.path}/\n{d.patch}")
            if not d.patch.endswith("\n"):
                sys.stdout.write("\n")


def info_cmd(as_json: JsonOpt = False) -> None:
    """Show the workspace: root, manifest source, settings, rewrite rules, lock."""
    from ukws import workspace

    info = common.run(lambda: workspace.workspace_info(find_workspace(), user_rules()))
    if as_json:
        common.emit_json(info)
        return
    out = sys.stdout.write
    out(f"workspace:       {info.root}\n")
    out(f"manifest:        {info.manifest.describe()}\n")
    out(f"manifest file:   {info.manifest_file}\n")
    if info.manifest_sha:
        on = f" on {info.manifest_branch}" if info.manifest_branch else " (detached)"
        out(f"manifest commit: {info.manifest_sha[:12]}{on}\n")
    if info.manifest_error:
        out(f"manifest error:  {info.manifest_error}\n")
    else:
        out(f"projects:        {info.projects} selected of {info.projects_total}\n")
    out(f"groups:          {info.groups}\n")
    out(f"depth:           {info.depth or 'full history'}\n")
    out(f"mirror:          {'yes' if info.mirror else 'no'}\n")
    if info.reference:
        out(f"reference:       {info.reference}\n")
    for r in info.rewrites:
        out(f"rewrite:         {r} ({r.origin})\n")
    if info.local_manifests:
        out(f"local manifests: {', '.join(info.local_manifests)}\n")
    out(f"lock:            {info.lock or 'none'}\n")


def _list_rows(manifest: str | None, groups: str | None) -> tuple[ProjectRow, ...]:
    from ukws.listing import list_projects

    if manifest is not None:
        return list_projects(load_manifest(manifest), groups)
    from ukws import status, workspace

    ws = workspace.find_workspace(common.STATE.cwd)
    m = workspace.load_workspace_manifest(ws, groups=groups)
    return list_projects(m, "all", status.sync_states(root=ws.root, manifest=m, pins=workspace.read_pins(ws)))


def list_cmd(
    manifest: ManifestOpt = None,
    groups: GroupsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the projects: path, name, revision, URL, role, groups, and in a workspace their state."""
    rows = common.run(lambda: _list_rows(manifest, groups))
    if as_json:
        common.emit_json(rows)
        return
    sys.stdout.write(render_rows(rows))


def render_rows(rows: tuple[ProjectRow, ...]) -> str:
    """Aligned columns; the state column only inside a workspace."""

    def state(r: ProjectRow) -> str:
        if r.synced is None:
            return ""
        return "at pin" if r.at_pin else ("moved" if r.synced else "not synced")

    table = [(r.path, r.name, r.revision, state(r), r.url, r.role or "", ",".join(r.groups)) for r in rows]
    widths = [max((len(row[i]) for row in table), default=0) for i in range(len(table[0]) if table else 0)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True) if w).rstrip() for row in table]
    return "".join(line + "\n" for line in lines)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("status")(status_cmd)
    app.command("diff")(diff_cmd)
    app.command("info")(info_cmd)
    app.command("list")(list_cmd)
