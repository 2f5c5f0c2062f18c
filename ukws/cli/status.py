"""What the workspace holds: ``status``, ``diff``, ``info`` and ``list``.

``list`` also works on a manifest given with ``-m`` (a path or a shipped manifest's name), outside any
workspace.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ukws.cli import common
from ukws.cli.common import JsonOpt, ProjectsArg
from ukws.cli.listrun import list_rows, list_text
from ukws.cli.manifest import GroupsOpt, ManifestOpt
from ukws.cli.statusrun import diff_report, info_report, status_report

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
    diff_report(projects, untracked=untracked, as_json=as_json)


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
