"""The ``ukws`` command line: parses options, calls one core function, renders its result."""

from __future__ import annotations

import sys

from ukws.cli import output

TYPE_CHECKING = False  # the typing module is not loaded on the quick path
if TYPE_CHECKING:
    from typing import Any

    import typer


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


def __getattr__(name: str) -> Any:
    # The CLI framework loads when first asked for: ``build_app``, and ``app``, the whole command
    # line (``ukws --help``, tests).
    if name == "build_app":
        from ukws.cli.commands import build_app

        return build_app
    if name == "app":
        from ukws.cli.commands import build_app

        application = build_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)


def main(started: float | None = None) -> None:
    """Console-script entry point: one line per error on stderr; exit 0, 1, 2 (usage) or 130.

    ``started`` is ``time.perf_counter()`` when the process started: timings count from there."""
    from ukws.cli.commands import build_app

    output.PROCESS_START = started
    name = command_name(sys.argv[1:])
    application: typer.Typer = build_app((COMMANDS[name],), only=name) if name is not None else __getattr__("app")
    try:
        rc = application(prog_name="ukws", standalone_mode=False)
    except KeyboardInterrupt:
        output.err("interrupted")
        sys.exit(output.EXIT_INTERRUPTED)
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
    sys.exit(rc if isinstance(rc, int) else output.EXIT_OK)
