"""``ukws forall``: run a shell command in every synced project."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ukws.cli.common import JsonOpt, ProjectsArg
from ukws.cli.forallrun import forall_run


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
    code = forall_run(
        projects,
        command=command,
        groups=groups,
        header=header,
        jobs=jobs,
        abort_on_errors=abort_on_errors,
        as_json=as_json,
    )
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("forall")(forall_cmd)
