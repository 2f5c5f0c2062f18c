"""What every command shares: the global options and the options many commands take, for the CLI
framework; and, from :mod:`ukws.cli.output`, rendering and the one place errors become exit codes.

This module (like the whole ``ukws.cli`` package) imports neither lxml nor pygit2: commands import
the core lazily, inside the command function, so ``ukws --version`` starts fast.
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer
from typer.core import TyperGroup

from ukws.cli.output import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    STATE,
    add_verbose,
    debug,
    elapsed,
    emit_json,
    env_flag,
    err,
    fail,
    fancy_output,
    find_workspace,
    info,
    only,
    reset_state,
    resolve_dir,
    run,
    set_directory,
    set_quiet,
    to_jsonable,
    user_rules,
)

__all__ = [
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "STATE",
    "JsonOpt",
    "ProjectsArg",
    "UkwsGroup",
    "add_global_options",
    "debug",
    "elapsed",
    "emit_json",
    "env_flag",
    "err",
    "fail",
    "fancy_output",
    "find_workspace",
    "info",
    "only",
    "reset_state",
    "resolve_dir",
    "run",
    "to_jsonable",
    "user_rules",
]

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
"""The ``--json`` option every listing or reporting command takes."""

ProjectsArg = Annotated[
    Optional[list[str]],  # noqa: UP045 - typer needs Optional at runtime on 3.11
    typer.Argument(help="Project names or paths (default: every selected project).", metavar="PROJECT..."),
]
"""The project names or paths that workspace commands narrow themselves to."""

# -- global options: accepted before the command and after it ------------------------------------

GLOBAL_PANEL = "Global options"


def _set_directory(ctx: Any, param: Any, value: str | None) -> None:
    if value is not None:
        set_directory(value)


def _set_quiet(ctx: Any, param: Any, value: bool) -> None:
    if value:
        set_quiet()


def _set_verbose(ctx: Any, param: Any, value: int) -> None:
    add_verbose(value or 0)


def _global_options() -> list[Any]:
    from typer.core import TyperOption

    return [
        TyperOption(
            param_decls=["-C"],
            metavar="DIR",
            help="Run as if ukws was started in DIR (relative to an earlier -C).",
            callback=_set_directory,
            expose_value=False,
            rich_help_panel=GLOBAL_PANEL,
        ),
        TyperOption(
            param_decls=["-q", "--quiet"],
            is_flag=True,
            default=False,
            help="Print only errors (wins over -v).",
            callback=_set_quiet,
            expose_value=False,
            rich_help_panel=GLOBAL_PANEL,
        ),
        TyperOption(
            param_decls=["-v", "--verbose"],
            count=True,
            default=0,
            help="Say more (repeatable).",
            callback=_set_verbose,
            expose_value=False,
            rich_help_panel=GLOBAL_PANEL,
        ),
    ]


def add_global_options(command: Any) -> None:
    """Give ``command`` (and every command below it) the global options ``-C``, ``-q`` and ``-v``,
    so that they work after the command name as well as before it. An option a command already
    declares itself keeps the command's meaning."""
    taken = {name for p in command.params for name in (*p.opts, *p.secondary_opts)}
    for option in _global_options():
        if not taken & {*option.opts, *option.secondary_opts}:
            command.params.append(option)
    for sub in getattr(command, "commands", {}).values():
        add_global_options(sub)


class UkwsGroup(TyperGroup):
    """The top-level command group: every command accepts the global options, and each command
    line starts from a fresh :data:`STATE`."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        add_global_options(self)

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        if parent is None:
            reset_state()
        return super().make_context(info_name, args, parent=parent, **extra)
