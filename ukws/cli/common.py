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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, Optional, TypeVar

import typer

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
    """Global options, set by the top-level callback."""

    cwd: Path = dataclasses.field(default_factory=Path.cwd)
    verbosity: int = 0


STATE = State()


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
        raise UsageError(f"no project named {unknown[0]!r} in the workspace's manifest (see 'ukws list')")
    return replace(manifest, projects=tuple(p for p in manifest.projects if p.name in wanted or p.path in wanted))
