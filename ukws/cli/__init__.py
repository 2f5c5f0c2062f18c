"""The ``ukws`` command line: parses options, calls one core function, renders its result."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ukws import __version__
from ukws.cli import common

app = typer.Typer(
    name="ukws",
    help="Workspace manager for Unikraft unikernels.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"ukws {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _global(
    directory: Annotated[
        Optional[Path],  # noqa: UP045 - typer needs Optional at runtime on 3.11
        typer.Option("-C", help="Run as if ukws was started in DIR.", metavar="DIR"),
    ] = None,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only errors.")] = False,
    verbose: Annotated[int, typer.Option("-v", "--verbose", count=True, help="Say more (repeatable).")] = 0,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Workspace manager for Unikraft unikernels."""
    if directory is not None:
        target = directory if directory.is_absolute() else Path(os.getcwd()) / directory
        if not target.is_dir():
            common.fail(f"-C {directory}: no such directory", common.EXIT_USAGE)
        common.STATE.cwd = target.resolve()
    common.STATE.verbosity = -1 if quiet else verbose


def _register() -> None:
    # Each module adds its commands to ``app``; none of them imports lxml or pygit2 at import time.
    from ukws.cli import build, forall, init, manifest, patch, resolve, snapshot, status, sync

    init.register(app)
    sync.register(app)
    status.register(app)
    forall.register(app)
    resolve.register(app)
    patch.register(app)
    build.register(app)
    snapshot.register(app)
    manifest.register(app)


_register()


def main() -> None:
    """Console-script entry point: one line per error on stderr; exit 0, 1, 2 (usage) or 130."""
    try:
        rc = app(prog_name="ukws", standalone_mode=False)
    except KeyboardInterrupt:
        common.err("interrupted")
        sys.exit(common.EXIT_INTERRUPTED)
    except Exception as e:
        # The CLI framework's own errors (unknown option, missing argument, ...) carry an exit
        # code and a message; show them as one line instead of a framed block.
        code, message = getattr(e, "exit_code", None), getattr(e, "format_message", None)
        if not isinstance(code, int) or not callable(message):
            raise
        command = getattr(getattr(e, "ctx", None), "command_path", None) or "ukws"
        text = str(message()).strip().rstrip(".")
        if text:
            sys.stderr.write(f"{command}: {text} (see '{command} --help')\n")
        sys.exit(code)
    sys.exit(rc if isinstance(rc, int) else common.EXIT_OK)
