"""``ukws patch-app``: apply, check or revert an application's patch series; point its Makefile at the workspace."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from ukws.cli import common
from ukws.cli.common import JsonOpt, find_workspace

if TYPE_CHECKING:
    from ukws.build.patch import AppResult, PatchResult

AppArg = Annotated[
    Optional[str],  # noqa: UP045 - typer needs Optional at runtime on 3.11
    typer.Argument(help="The application project (name or path; default: every application).", metavar="APP"),
]


def patch_app_cmd(
    app: AppArg = None,
    check: Annotated[bool, typer.Option("--check", help="Say which patches are applied; change nothing.")] = False,
    revert: Annotated[
        bool, typer.Option("--revert", help="Restore exactly the files the series and the Makefile edit changed.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change; change nothing.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Apply the application's <x-patch> series and point its Makefile at the workspace."""
    from ukws.build import patch

    result = common.run(
        lambda: patch.patch_app(find_workspace(), app=app, check=check, revert=revert, dry_run=dry_run)
    )
    if as_json:
        common.emit_json(result)
    else:
        render(result)
    if not result.ok:
        raise typer.Exit(common.EXIT_FAILURE)


def render(result: PatchResult) -> None:
    for a in result.apps:
        for w in a.warnings:
            common.err(f"warning: {a.name} ({a.path}): {w}")
        sys.stdout.write(f"{_headline(a)}\n")
        for x in a.patches:
            state = "applied" if x.applied else "not applied"
            detail = f" ({x.detail})" if x.detail else ""
            if a.action == "checked" or common.STATE.verbosity > 0:
                sys.stdout.write(f"  {state:<12} {x.path}{detail}\n")
        for f in a.files:
            sys.stdout.write(f"  {f.change:<8} {a.path}/{f.path}\n")
        if a.makefile and (a.files or a.action == "checked"):
            sys.stdout.write(f"  {a.makefile}\n")


def _headline(a: AppResult) -> str:
    n = len(a.patches)
    series = f"{n} patch{'es' if n != 1 else ''}"
    at = f" at {a.base[:12]}" if a.base else ""
    if n == 0 and a.action in ("applied", "unchanged", "would apply"):
        done = {"applied": "done", "unchanged": "already done", "would apply": "would be done"}[a.action]
        return f"{a.name} ({a.app_dir}): no patches; Makefile pointing {done}{at}"
    words = {
        "applied": f"applied {series}{at}",
        "updated": f"series and Makefile brought up to date ({series}){at}",
        "unchanged": f"already applied ({series}){at}",
        "reverted": "reverted",
        "not applied": "no series applied",
        "would apply": f"would apply {series}{at}",
        "would revert": "would revert",
        "checked": "applied" if a.applied else "not fully applied",
    }
    return f"{a.name} ({a.app_dir}): {words.get(a.action, a.action)}"


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("patch-app")(patch_app_cmd)
