"""``ukws forall``: run a shell command in every synced project."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from ukws.cli import common
from ukws.cli.common import JsonOpt, ProjectsArg, find_workspace, only

if TYPE_CHECKING:
    pass


def forall_cmd(
    projects: ProjectsArg = None,
    command: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("-c", "--command", help="Shell command to run in each project (sh -c).", metavar="CMD"),
    ] = None,
    groups: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("-g", "--groups", help="Only projects these group selectors pick.", metavar="GROUPS"),
    ] = None,
    header: Annotated[bool, typer.Option("-p", help="Print a 'project PATH/' header before each output.")] = False,
    jobs: Annotated[int, typer.Option("-j", "--jobs", help="Commands at once (output is collected).")] = 1,
    abort_on_errors: Annotated[
        bool, typer.Option("-e", "--abort-on-errors", help="Start no command after one failed.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run a shell command in every synced project, with UKWS_* and REPO_* variables set."""
    from ukws import forall, workspace
    from ukws.errors import UsageError

    def report(run: forall.ForallRun) -> None:
        if as_json:
            return
        if run.skipped:
            common.debug(f"skipping {run.path}: {run.skipped}")
            return
        if run.output is not None:
            if header and run.output:
                sys.stdout.write(f"project {run.path}/\n")
            sys.stdout.write(run.output)
            sys.stdout.flush()
        if run.returncode:
            common.err(f"{run.path}: command exited with {run.returncode}")

    def go() -> forall.ForallResult:
        if not command:
            raise UsageError("forall needs -c CMD")
        if jobs < 1:
            raise UsageError(f"-j {jobs}: must be 1 or more")
        ws = find_workspace()
        manifest = only(workspace.load_workspace_manifest(ws, groups=groups), projects)
        heads = workspace.checked_out(ws, manifest)
        sys.stdout.flush()
        return forall.forall(
            root=ws.root,
            projects=manifest.projects,
            command=command,
            heads=heads,
            base_env=os.environ,
            pins=workspace.read_pins(ws),
            jobs=jobs,
            capture=header or as_json,
            abort_on_error=abort_on_errors,
            report=report,
        )

    result = common.run(go)
    if as_json:
        common.emit_json(result.runs)
    if not result.ok:
        raise typer.Exit(common.EXIT_FAILURE)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("forall")(forall_cmd)
