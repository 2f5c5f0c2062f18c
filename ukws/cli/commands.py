"""The command line as the CLI framework sees it: the ``ukws`` group and its commands."""

from __future__ import annotations

import importlib
import sys
from typing import Annotated

import typer

from ukws import __version__
from ukws.cli import MODULES, common


def _new_app() -> typer.Typer:
    application = typer.Typer(
        name="ukws",
        cls=common.UkwsGroup,
        help="Workspace manager for Unikraft unikernels.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    application.callback()(_global)
    return application


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"ukws {__version__}\n")
        raise typer.Exit(0)


def _global(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Workspace manager for Unikraft unikernels.

    The global options -C DIR, -q and -v may be given before the command or after it.
    """


def build_app(modules: tuple[str, ...] = MODULES, *, only: str | None = None) -> typer.Typer:
    """The command line with the commands of ``modules`` (``only``: just the command of that name).
    Each module adds its commands; none of them imports lxml or pygit2 at import time. The CLI
    framework reads the signature of every command it is given each time it runs: a command line
    that names one command is given that one."""
    application = _new_app()
    for name in modules:
        importlib.import_module(f"ukws.cli.{name}").register(application)
    if only is not None:
        application.registered_commands = [c for c in application.registered_commands if c.name == only]
        application.registered_groups = [g for g in application.registered_groups if g.name == only]
    return application
