"""The most frequent command lines, run without loading the CLI framework.

``ukws sync`` (``-l``, ``-j N``, ``--json``), ``ukws list`` (``-m FILE``, ``-g GROUPS``,
``--manifest-urls``, ``--json``), ``ukws status`` (``--manifest-urls``, ``--json``), ``ukws diff``
(``--untracked``, ``--json``), ``ukws forall`` (``-c CMD``, ``-g``, ``-p``, ``-j N``, ``-e``,
``--json``) and ``ukws info`` (``--json``), with project names where the command takes them and the
global options ``-C DIR``, ``-q`` and ``-v``, before or after the command, are what users run many
times a day (and scripts more); loading the CLI framework costs more than a no-op sync does.
:func:`parse` recognises exactly these command lines and nothing else: anything it does not know
(another command or option, a name starting with ``-``, ``--help``, a missing value, ``--``) goes to
the full command line, which also owns every usage error. A recognised command line runs the same
functions the full command line runs (:mod:`ukws.cli.syncrun`, :mod:`ukws.cli.listrun`,
:mod:`ukws.cli.statusrun`, :mod:`ukws.cli.forallrun`), so its output, errors and exit code are the
same (tests/test_quick.py runs both and compares).
"""

from __future__ import annotations

import os
import sys

from ukws.cli import output

_GLOBAL_FLAGS = {"-q": "q", "--quiet": "q", "-v": "v", "--verbose": "v"}


class QuickLine:
    """A recognised command line: the command, its options, and the global options in their order.
    (A plain class: the dataclass machinery is not loaded on the quick path.)"""

    __slots__ = ("command", "globals", "options", "projects")

    def __init__(
        self,
        command: str,
        globals: list[tuple[str, str]] | None = None,
        options: dict[str, str | bool] | None = None,
        projects: list[str] | None = None,
    ) -> None:
        self.command = command
        self.globals = globals if globals is not None else []
        """``("C", DIR)``, ``("q", "")`` and ``("v", "")`` in the order given."""
        self.options = options if options is not None else {}
        self.projects = projects if projects is not None else []
        """The projects named (commands that take names), in the order given."""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QuickLine):
            return NotImplemented
        mine = (self.command, self.globals, self.options, self.projects)
        return mine == (other.command, other.globals, other.options, other.projects)

    __hash__ = None  # type: ignore[assignment]  # mutable, like a dataclass with eq

    def flag(self, name: str) -> bool:
        """Whether the flag option ``name`` was given."""
        return bool(self.options.get(name))

    def value(self, name: str) -> str | None:
        """The value option ``name`` was given (the last one), or None."""
        value = self.options.get(name)
        return None if value is None else str(value)

    def names(self) -> list[str] | None:
        """The projects named, or None for every project (as the full command line passes them)."""
        return self.projects or None

    def __repr__(self) -> str:
        return (f"QuickLine(command={self.command!r}, globals={self.globals!r}, options={self.options!r}, "
                f"projects={self.projects!r})")


_SYNC_FLAGS = {"-l": "local_only", "--local-only": "local_only", "--json": "json"}
_SYNC_VALUES = {"-j": "jobs", "--jobs": "jobs"}
_LIST_FLAGS = {"--manifest-urls": "manifest_urls", "--json": "json"}
_LIST_VALUES = {"-m": "manifest", "--manifest": "manifest", "-g": "groups", "--groups": "groups"}
_STATUS_FLAGS = {"--manifest-urls": "manifest_urls", "--json": "json"}
_INFO_FLAGS = {"--json": "json"}
_DIFF_FLAGS = {"--untracked": "untracked", "--json": "json"}
_FORALL_FLAGS = {"-p": "header", "-e": "abort_on_errors", "--abort-on-errors": "abort_on_errors", "--json": "json"}
_FORALL_VALUES = {"-c": "command", "--command": "command", "-g": "groups", "--groups": "groups", "-j": "jobs",
                  "--jobs": "jobs"}  # fmt: skip
_NAMED = frozenset({"sync", "status", "diff", "forall"})
"""The commands that take project names."""
_COMMANDS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "sync": (_SYNC_FLAGS, _SYNC_VALUES),
    "list": (_LIST_FLAGS, _LIST_VALUES),
    "status": (_STATUS_FLAGS, {}),
    "info": (_INFO_FLAGS, {}),
    "diff": (_DIFF_FLAGS, {}),
    "forall": (_FORALL_FLAGS, _FORALL_VALUES),
}


def _global(arg: str, rest: list[str], line: QuickLine) -> bool | None:
    """Take a global option (True), or say ``arg`` is none (False), or that the line is not ours (None)."""
    if arg == "-C":
        if not rest or rest[0].startswith("-"):
            return None
        line.globals.append(("C", rest.pop(0)))
        return True
    if arg.startswith("-C") and not arg.startswith("--"):
        line.globals.append(("C", arg[2:]))
        return True
    if arg in _GLOBAL_FLAGS:
        line.globals.append((_GLOBAL_FLAGS[arg], ""))
        return True
    if len(arg) > 2 and arg[0] == "-" and arg[1] != "-" and set(arg[1:]) <= {"q", "v"}:
        line.globals.extend((c, "") for c in arg[1:])
        return True
    return False


def parse(argv: list[str]) -> QuickLine | None:
    """The command line ``argv`` (without the program name), if it is one this module runs."""
    rest = list(argv)
    line: QuickLine | None = None
    scratch = QuickLine(command="")
    while rest:
        arg = rest.pop(0)
        taken = _global(arg, rest, line or scratch)
        if taken is None:
            return None
        if taken:
            continue
        if line is None:
            if arg not in _COMMANDS:
                return None
            line = QuickLine(command=arg, globals=scratch.globals)
            continue
        flags, values = _COMMANDS[line.command]
        if arg in flags:
            line.options[flags[arg]] = True
            continue
        name, eq, value = arg.partition("=")
        if name in values and name.startswith("--") and eq:
            line.options[values[name]] = value
        elif arg in values and rest and not rest[0].startswith("-"):
            line.options[values[arg]] = rest.pop(0)
        elif arg[:2] in values and len(arg) > 2 and not arg.startswith("--"):
            line.options[values[arg[:2]]] = arg[2:]
        elif line.command in _NAMED and arg and not arg.startswith("-"):
            line.projects.append(arg)  # anywhere among the options, as the full command line takes them
        else:
            return None
    if line is None:
        return None
    if "jobs" in line.options:
        try:
            int(str(line.options["jobs"]))
        except ValueError:
            return None  # the full command line says what is wrong with it
    return line


def run(argv: list[str], started: float) -> bool:
    """Run ``argv`` if it is a quick command line (then exit); False when the full command line must."""
    line = parse(argv)
    if line is None:
        return False
    output.PROCESS_START = started
    output.reset_state()
    try:
        for kind, value in line.globals:
            if kind == "C":
                output.set_directory(value)
            elif kind == "q":
                output.set_quiet()
            else:
                output.add_verbose(1)
        code = _RUNNERS[line.command](line)
        if line.command in _READ_ONLY:
            # A command that only read and printed has nothing left to finish: once what it printed
            # is out, the process ends without the interpreter's teardown, which would free every
            # object of the manifest one by one (a tenth of a 10,000-project listing).
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    except KeyboardInterrupt:
        output.err("interrupted")
        code = output.EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``ukws list | head``): exit 1 without a word, as the full command
        # line does; what is still buffered for stdout goes nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = output.EXIT_FAILURE
    sys.exit(code)


def _sync(line: QuickLine) -> int:
    as_json = line.flag("json")
    jobs = int(line.value("jobs") or 0)
    local_only = line.flag("local_only")
    projects = line.names()
    if not as_json and output.STATE.verbosity <= 0 and jobs >= 0 and projects is None:
        # A sync that the last one proved a no-op (every project as it left them, and nothing that
        # needs the network unless -l): said without git or the manifest. Anything in doubt runs
        # the sync itself; so does a sync of some projects (the record is of them all).
        from ukws.sync import noop

        unchanged = noop.check(output.STATE.cwd, os.environ, local=local_only)
        if unchanged is not None:
            from ukws.cli.syncrun import count_line

            output.info(count_line({"unchanged": unchanged}, output.elapsed()))
            return output.EXIT_OK
    from ukws.cli.syncrun import finish, run_sync

    outcome = output.run(lambda: run_sync(projects, jobs, not local_only, True, False, False, False, None, as_json))
    return output.EXIT_OK if finish(outcome, as_json) else output.EXIT_FAILURE


def _list(line: QuickLine) -> int:
    from ukws.cli.listrun import list_rows, list_text

    manifest, groups = line.value("manifest"), line.value("groups")
    if line.flag("json"):
        output.emit_json(output.run(lambda: list_rows(manifest, groups)))
    else:
        urls = line.flag("manifest_urls")
        sys.stdout.write(output.run(lambda: list_text(manifest, groups, manifest_urls=urls)))
    return output.EXIT_OK


def _status(line: QuickLine) -> int:
    from ukws.cli.statusrun import status_report

    status_report(line.names(), manifest_urls=line.flag("manifest_urls"), as_json=line.flag("json"))
    return output.EXIT_OK


def _info(line: QuickLine) -> int:
    from ukws.cli.statusrun import info_report

    info_report(as_json=line.flag("json"))
    return output.EXIT_OK


def _diff(line: QuickLine) -> int:
    from ukws.cli.statusrun import diff_report

    diff_report(line.names(), untracked=line.flag("untracked"), as_json=line.flag("json"))
    return output.EXIT_OK


def _forall(line: QuickLine) -> int:
    from ukws.cli.forallrun import forall_run

    return forall_run(
        line.names(),
        command=line.value("command"),
        groups=line.value("groups"),
        header=line.flag("header"),
        jobs=int(line.value("jobs") or 1),
        abort_on_errors=line.flag("abort_on_errors"),
        as_json=line.flag("json"),
    )


_RUNNERS = {"sync": _sync, "list": _list, "status": _status, "info": _info, "diff": _diff, "forall": _forall}
_READ_ONLY = frozenset({"list", "status", "info", "diff"})
"""Commands that write nothing but their output."""
