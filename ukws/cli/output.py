"""What every command shares and the CLI framework is not needed for: the global options' state,
printing, and the one place errors become exit codes.

Nothing here imports the CLI framework (nor lxml or pygit2), so that the commands
:mod:`ukws.cli.quick` runs without it share these with the full command line.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

TYPE_CHECKING = False  # the typing module is not loaded on the quick path
if TYPE_CHECKING:
    from typing import Any, NoReturn, TypeVar

    from ukws.manifest.model import Manifest
    from ukws.sync.rewrite import Rewrite
    from ukws.workspace import Workspace

    T = TypeVar("T")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class State:
    """Global options (``-C``, ``-q``, ``-v``), wherever they were given on the command line.
    (A plain class: the dataclass machinery is not loaded on the quick path.)"""

    __slots__ = ("cwd", "quiet", "started", "verbose", "verbosity")

    def __init__(self, started: float | None = None) -> None:
        self.cwd: Path = Path.cwd()
        self.verbosity = 0
        """-1 with ``-q`` (which wins over ``-v``), else the number of ``-v``."""
        self.quiet = False
        self.verbose = 0
        self.started = time.perf_counter() if started is None else started
        """When the command started (``time.perf_counter()``): the process's start when the
        console script recorded it, else when the command line was parsed."""


STATE = State()


PROCESS_START: float | None = None
"""``time.perf_counter()`` when the console script started (set by :func:`ukws.cli.main`)."""


def reset_state() -> None:
    """Start a command line afresh (one process may run several, as tests do). The process's start
    time counts for the first command line only."""
    global PROCESS_START
    started, PROCESS_START = PROCESS_START, None
    fresh = State(started)
    for name in State.__slots__:
        setattr(STATE, name, getattr(fresh, name))


def elapsed() -> float:
    """Seconds since the command started."""
    return time.perf_counter() - STATE.started


def set_directory(value: str) -> None:
    """``-C DIR``: relative to an earlier ``-C``; a usage error when DIR is not a directory."""
    given = Path(value)
    target = given if given.is_absolute() else STATE.cwd / given
    if not target.is_dir():
        fail(f"-C {value}: no such directory", EXIT_USAGE)
    STATE.cwd = target.resolve()


def set_quiet() -> None:
    STATE.quiet = True
    STATE.verbosity = -1


def add_verbose(count: int) -> None:
    STATE.verbose += count
    STATE.verbosity = -1 if STATE.quiet else STATE.verbose


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
    raise SystemExit(code)


def run(fn: Callable[[], T]) -> T:
    """Call a core function and map every user error to one line per problem and an exit code."""
    from ukws.errors import UkwsError, UsageError

    try:
        return fn()
    except UsageError as e:
        for line in e.lines():
            err(line)
        raise SystemExit(EXIT_USAGE) from None
    except UkwsError as e:
        for line in e.lines():
            err(line)
        raise SystemExit(EXIT_FAILURE) from None
    except KeyboardInterrupt:
        err("interrupted")
        raise SystemExit(EXIT_INTERRUPTED) from None


def to_jsonable(value: Any) -> Any:
    """Turn result dataclasses, enums, paths and tuples into JSON-ready values."""
    import dataclasses
    import enum

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
    import json

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
    from ukws.sync.rewrite import read_user_rewrites, user_config_path

    return read_user_rewrites(user_config_path(os.environ))


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
