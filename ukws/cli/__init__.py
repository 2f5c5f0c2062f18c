"""The ``ukws`` command line: parses options, calls one core function, renders its result."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ukws import __version__
from ukws.cli import common

app = typer.Typer(
    name="ukws",
    cls=common.UkwsGroup,
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
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Workspace manager for Unikraft unikernels.

    The global options -C DIR, -q and -v may be given before the command or after it.
    """


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


def main(started: float | None = None) -> None:
    """Console-script entry point: one line per error on stderr; exit 0, 1, 2 (usage) or 130.

    ``started`` is ``time.perf_counter()`` when the process started: timings count from there."""
    common.PROCESS_START = started
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
