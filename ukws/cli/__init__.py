"""The ``ukws`` command line: parses options, calls one core function, renders its result."""

from __future__ import annotations

import importlib
import sys
from typing import Annotated

import typer

from ukws import __version__
from ukws.cli import common


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


MODULES = ("init", "sync", "status", "forall", "resolve", "patch", "build", "snapshot", "manifest")
"""The modules of ``ukws.cli`` that add commands, in the order ``ukws --help`` lists them."""

COMMANDS = {
    "init": "init",
    "sync": "sync",
    "fetch": "sync",
    "status": "status",
    "diff": "status",
    "info": "status",
    "list": "status",
    "forall": "forall",
    "resolve": "resolve",
    "graph": "resolve",
    "patch-app": "patch",
    "build": "build",
    "run": "build",
    "up": "build",
    "demo": "build",
    "snapshot": "snapshot",
    "verify": "snapshot",
    "diff-snapshots": "snapshot",
    "manifest": "manifest",
}
"""Each command and the module that adds it (tests/test_startup.py checks this against the modules)."""


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


def command_name(args: list[str]) -> str | None:
    """The command ``args`` run, when the command line names one before anything else that needs
    the whole command line (``--help``, ``--version``, an unknown option or command): a command
    then loads its own module only, and the CLI framework builds that command only."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "-C":
            i += 2
            continue
        flags = arg in ("--quiet", "--verbose") or (len(arg) > 1 and arg[0] == "-" and set(arg[1:]) <= {"q", "v"})
        if flags or (arg.startswith("-C") and len(arg) > 2):
            i += 1
            continue
        if arg.startswith("-"):
            return None
        return arg if arg in COMMANDS else None
    return None


def __getattr__(name: str) -> typer.Typer:
    # ``app``, the whole command line, is built when first asked for (``ukws --help``, tests).
    if name == "app":
        application = build_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)


def main(started: float | None = None) -> None:
    """Console-script entry point: one line per error on stderr; exit 0, 1, 2 (usage) or 130.

    ``started`` is ``time.perf_counter()`` when the process started: timings count from there."""
    common.PROCESS_START = started
    name = command_name(sys.argv[1:])
    application = build_app((COMMANDS[name],), only=name) if name is not None else __getattr__("app")
    try:
        rc = application(prog_name="ukws", standalone_mode=False)
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
