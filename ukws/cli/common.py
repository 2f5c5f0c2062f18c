"""What every command shares: the global options, rendering, and the one place errors become exit codes.

This module (like the whole ``ukws.cli`` package) imports neither lxml nor pygit2: commands import
the core lazily, inside the command function, so ``ukws --version`` starts fast.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, Optional, TypeVar

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:
    from ukws.manifest.model import Manifest
    from ukws.sync.rewrite import Rewrite
    from ukws.workspace import Workspace

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
"""The ``--json`` option every listing or reporting command takes."""

ProjectsArg = Annotated[
    Optional[list[str]],  # noqa: UP045 - typer needs Optional at runtime on 3.11
    typer.Argument(help="Project names or paths (default: every selected project).", metavar="PROJECT..."),
]
"""The project names or paths that workspace commands narrow themselves to."""

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

T = TypeVar("T")


@dataclass(slots=True)
class State:
    """Global options (``-C``, ``-q``, ``-v``), wherever they were given on the command line."""

    cwd: Path = dataclasses.field(default_factory=Path.cwd)
    verbosity: int = 0
    """-1 with ``-q`` (which wins over ``-v``), else the number of ``-v``."""
    quiet: bool = False
    verbose: int = 0
    started: float = dataclasses.field(default_factory=time.perf_counter)
    """When the command started (``time.perf_counter()``): the process's start when the console
    script recorded it, else when the command line was parsed."""


STATE = State()


PROCESS_START: float | None = None
"""``time.perf_counter()`` when the console script started (set by :func:`ukws.cli.main`)."""


def reset_state() -> None:
    """Start a command line afresh (one process may run several, as tests do). The process's start
    time counts for the first command line only."""
    global PROCESS_START
    started, PROCESS_START = PROCESS_START, None
    fresh = State(started=started if started is not None else time.perf_counter())
    for f in dataclasses.fields(State):
        setattr(STATE, f.name, getattr(fresh, f.name))


def elapsed() -> float:
    """Seconds since the command started."""
    return time.perf_counter() - STATE.started


# -- global options: accepted before the command and after it ------------------------------------

GLOBAL_PANEL = "Global options"


def _set_directory(ctx: Any, param: Any, value: str | None) -> None:
    if value is None:
        return
    given = Path(value)
    target = given if given.is_absolute() else STATE.cwd / given
    if not target.is_dir():
        fail(f"-C {value}: no such directory", EXIT_USAGE)
    STATE.cwd = target.resolve()


def _set_quiet(ctx: Any, param: Any, value: bool) -> None:
    if value:
        STATE.quiet = True
    STATE.verbosity = -1 if STATE.quiet else STATE.verbose


def _set_verbose(ctx: Any, param: Any, value: int) -> None:
    STATE.verbose += value or 0
    STATE.verbosity = -1 if STATE.quiet else STATE.verbose


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


def err(line: str) -> None:
    """Print one line on stderr."""
    sys.stderr.write(f"ukws: {line}\n" if not line.startswith("ukws: ") else f"{line}\n")


def info(line: str) -> None:
    """Print a progress or summary line on stderr unless ``-q``."""
    if STATE.verbosity >= 0:
        sys.stderr.write(f"{line}\n")


def debug(line: str) -> None:
    if STATE.verbosity > 0:
        sys.stderr.write(f"{line}\n")


def fail(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    err(message)
    raise typer.Exit(code)


def run(fn: Callable[[], T]) -> T:
    """Call a core function and map every user error to one line per problem and an exit code."""
    from ukws.errors import UkwsError, UsageError

    try:
        return fn()
    except UsageError as e:
        for line in e.lines():
            err(line)
        raise typer.Exit(EXIT_USAGE) from None
    except UkwsError as e:
        for line in e.lines():
            err(line)
        raise typer.Exit(EXIT_FAILURE) from None
    except KeyboardInterrupt:
        err("interrupted")
        raise typer.Exit(EXIT_INTERRUPTED) from None


def to_jsonable(value: Any) -> Any:
    """Turn result dataclasses, enums, paths and tuples into JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_jsonable(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name != "loc"
        }
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        items = [to_jsonable(v) for v in value]
        return sorted(items) if isinstance(value, frozenset | set) else items
    return value


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2, sort_keys=False) + "\n")


def resolve_dir(path: Path | None) -> Path:
    """A path given on the command line, relative to ``-C``."""
    if path is None:
        return STATE.cwd
    return path if path.is_absolute() else STATE.cwd / path


def env_flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0", "false", "no")


def user_rules() -> tuple[Rewrite, ...]:
    """The user-level URL rewrite rules (``~/.config/ukws/config.json``)."""
    from ukws import workspace

    return workspace.read_user_rewrites(workspace.user_config_path(os.environ))


def find_workspace() -> Workspace:
    """The workspace around the current folder (or the one ``-C`` names)."""
    from ukws import workspace

    return workspace.find_workspace(STATE.cwd)


def fancy_output() -> bool:
    """A live display only on a terminal, outside CI, and unless ``-q``."""
    if STATE.verbosity < 0 or env_flag("CI") or os.environ.get("TERM") == "dumb":
        return False
    return sys.stderr.isatty()


def only(manifest: Manifest, projects: list[str] | None) -> Manifest:
    """The manifest restricted to the named projects (names or paths)."""
    if not projects:
        return manifest
    from dataclasses import replace

    from ukws.errors import UsageError

    wanted = set(projects)
    known = {p.name for p in manifest.projects} | {p.path for p in manifest.projects}
    unknown = sorted(wanted - known)
    if unknown:
        raise UsageError(f"no project {unknown[0]!r} in the workspace's manifest (see 'ukws list')")
    return replace(manifest, projects=tuple(p for p in manifest.projects if p.name in wanted or p.path in wanted))
