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
from typing import Annotated, Any, NoReturn, TypeVar

import typer

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
"""The ``--json`` option every listing or reporting command takes."""

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
