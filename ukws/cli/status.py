"""What the workspace holds: ``status``, ``diff``, ``info`` and ``list``.

``list`` also works on a manifest given with ``-m`` (a path or a shipped manifest's name), outside any
workspace.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from ukws.cli import common
from ukws.cli.common import JsonOpt, ProjectsArg, find_workspace, only
from ukws.cli.listrun import list_rows, list_text
from ukws.cli.manifest import GroupsOpt, ManifestOpt
from ukws.cli.statusrun import info_report, series_words, status_report

ManifestUrlsOpt = Annotated[
    bool, typer.Option("--manifest-urls", help="Show URLs as the manifest gives them, before URL rewriting.")
]


def status_cmd(projects: ProjectsArg = None, manifest_urls: ManifestUrlsOpt = False, as_json: JsonOpt = False) -> None:
    """Show each project's checkout: branch, commit, ahead/behind, pin, changed and untracked files, URL."""
    status_report(projects, manifest_urls=manifest_urls, as_json=as_json)


def diff_cmd(
    projects: ProjectsArg = None,
    untracked: Annotated[
        bool, typer.Option("--untracked", help="Show untracked files too, as new files (ignored files never).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Show uncommitted changes of every project, as patches with paths from the workspace root."""
    from ukws import status, workspace
    from ukws.build import patch

    def go() -> tuple[tuple[Any, ...], dict[str, Any]]:
        ws = find_workspace()
        manifest = only(workspace.load_workspace_manifest(ws), projects)
        diffs = status.project_diff(root=ws.root, manifest=manifest, untracked=untracked)
        return diffs, patch.workspace_series(ws, manifest)

    diffs, series = common.run(go)
    if as_json:
        common.emit_json([{**common.to_jsonable(d), "patch_series": series.get(d.path)} for d in diffs])
        return
    for d in diffs:
        if d.patch or d.path in series:
            sys.stdout.write(f"project {d.path}/\n")
        if d.path in series:
            # Files the series added are untracked, so the patch below does not show them.
            first, *rest = series_words(series[d.path])
            first += " applied" if series[d.path].patches else ""
            sys.stdout.write(f"# ukws patch-app: {'; '.join([first, *rest])}\n")
        if d.patch:
            sys.stdout.write(d.patch)
            if not d.patch.endswith("\n"):
                sys.stdout.write("\n")
    left_out = [d for d in diffs if d.untracked]
    if left_out:
        count = sum(len(d.untracked) for d in left_out)
        where = ", ".join(d.path for d in left_out[:3]) + (", ..." if len(left_out) > 3 else "")
        common.info(
            f"ukws: note: {count} untracked file(s) not shown ({where}); "
            "ukws status names them, ukws diff --untracked shows them"
        )


def info_cmd(as_json: JsonOpt = False) -> None:
    """Show the workspace: root, manifest source, settings, rewrite rules, lock."""
    info_report(as_json=as_json)


def list_cmd(
    manifest: ManifestOpt = None,
    groups: GroupsOpt = None,
    manifest_urls: ManifestUrlsOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """List the projects: path, name, revision, URL, role, groups, and in a workspace their state."""
    if as_json:
        common.emit_json(common.run(lambda: list_rows(manifest, groups)))
        return
    sys.stdout.write(common.run(lambda: list_text(manifest, groups, manifest_urls=manifest_urls)))


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("status")(status_cmd)
    app.command("diff")(diff_cmd)
    app.command("info")(info_cmd)
    app.command("list")(list_cmd)
