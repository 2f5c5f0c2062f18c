"""Each command imports only what it uses: the heavy modules it must not load, checked per command.

Start-up time itself is measured in bench/startup.py; this test pins down the cause of a slow start
(a module imported by a command that has no use for it), which does not depend on the machine.
Each command runs as users run it, in a fresh interpreter through the console-script entry point,
which then prints the modules it has loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.consoleutil import run_console
from tests.gitutil import file_url
from tests.wsutil import serve_workspace
from ukws.cli import COMMANDS, MODULES, app, build_app, command_name

HEAVY = frozenset({"typer", "rich", "lxml", "pygit2", "packaging", "resolvelib", "yaml", "markdown_it"})
"""Third-party packages that cost start-up time; a command loads those it needs and no others."""

CLI = HEAVY - {"typer"}
"""Most commands need the CLI framework; ``--help`` needs rich too (typer's help formatting)."""

QUICK = HEAVY
"""The command lines ukws.cli.quick runs need no CLI framework."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    args: tuple[str, ...]
    where: str
    """``outside`` any workspace, in a ``shipped``-manifest workspace with nothing cloned, or in a
    ``synced`` workspace (two projects cloned from a served manifest repository)."""
    forbidden: frozenset[str]
    needed: frozenset[str] = frozenset()
    """Modules the command must load: proof that the check sees what a command imports."""
    absent: frozenset[str] = frozenset()
    """ukws modules the command must not load there."""


CASES = [
    Case(args=("--version",), where="outside", forbidden=HEAVY),
    Case(args=("--help",), where="outside", forbidden=HEAVY - {"typer", "rich", "markdown_it"}),
    Case(args=("sync", "--help"), where="outside", forbidden=HEAVY - {"typer", "rich", "markdown_it"}),
    Case(
        args=("list", "-m", "xenstore"),
        where="outside",
        forbidden=QUICK - {"lxml", "packaging"},
        needed=frozenset({"lxml", "ukws.listing"}),
        absent=frozenset({"ukws.workspace"}),  # a listing from a file needs no workspace
    ),
    Case(args=("list", "-m", "xenstore", "-g", "all", "--json"), where="outside",
         forbidden=QUICK - {"lxml", "packaging"}),
    Case(args=("list", "-m", "xenstore", "--help"), where="outside", forbidden=HEAVY - {"typer", "rich", "markdown_it"},
         needed=frozenset({"typer"})),  # --help: the full command line
    Case(args=("manifest", "-m", "xenstore"), where="outside", forbidden=CLI - {"lxml", "packaging"}),
    Case(args=("manifest", "validate", "m.xml"), where="outside", forbidden=CLI - {"lxml"}),
    Case(args=("info",), where="shipped", forbidden=QUICK - {"lxml", "packaging"}),
    Case(args=("list",), where="shipped", forbidden=QUICK - {"lxml", "packaging"},
         absent=frozenset({"ukws.status"})),  # the state column needs ukws.listing only
    Case(args=("manifest",), where="shipped", forbidden=CLI - {"lxml", "packaging"}),
    Case(args=("list",), where="synced", forbidden=QUICK - {"lxml", "pygit2"}, needed=frozenset({"pygit2"})),
    Case(args=("status",), where="synced", forbidden=QUICK - {"lxml", "pygit2"}, needed=frozenset({"pygit2"})),
    Case(args=("status", "core"), where="synced", forbidden=QUICK - {"lxml", "pygit2"}),
    Case(args=("status", "core", "--help"), where="synced", forbidden=HEAVY - {"typer", "rich", "markdown_it"},
         needed=frozenset({"typer"})),
    Case(args=("diff",), where="synced", forbidden=QUICK - {"lxml", "pygit2"}),
    Case(args=("info",), where="synced", forbidden=QUICK - {"lxml", "pygit2"}),
    Case(args=("sync", "-l"), where="synced", forbidden=QUICK - {"lxml", "pygit2"}, needed=frozenset({"pygit2"}),
         absent=frozenset({"ukws.build.patch"})),  # no application: no patch series to set aside
    Case(args=("-q", "sync", "-j", "2", "-v"), where="synced", forbidden=QUICK - {"lxml", "pygit2"}),
    Case(args=("sync", "-l", "core"), where="synced", forbidden=QUICK - {"lxml", "pygit2"},
         needed=frozenset({"pygit2"})),
    Case(args=("sync", "-l", "--", "core"), where="synced", forbidden=CLI - {"lxml", "pygit2"},
         needed=frozenset({"typer"})),
    Case(args=("forall", "-c", "true"), where="synced", forbidden=QUICK - {"lxml", "pygit2"}),
    Case(args=("forall", "-c", "true", "core"), where="synced", forbidden=QUICK - {"lxml", "pygit2"}),
    Case(args=("-q", "-C", ".", "status"), where="synced", forbidden=QUICK - {"lxml", "pygit2"}),
]


SHARED = {"ukws.cli.common", "ukws.cli.output", "ukws.cli.commands", "ukws.cli.quick"}
"""The modules of ukws.cli every command may load: the CLI framework's part, and the rest."""

BORROWED = {
    "sync": {"ukws.cli.syncrun"},
    "forall": {"ukws.cli.forallrun"},
    "status": {"ukws.cli.manifest", "ukws.cli.listrun", "ukws.cli.statusrun"},
    "resolve": {"ukws.cli.manifest", "ukws.cli.listrun"},
    "manifest": {"ukws.cli.listrun"},
}


def _place(tmp_path: Path, where: str) -> Path:
    if where == "outside":
        (tmp_path / "m.xml").write_text(
            '<manifest><remote name="o" fetch="https://example.org/"/>'
            '<default remote="o" revision="main"/><project name="a"/></manifest>\n'
        )
        return tmp_path
    runner = CliRunner()
    if where == "shipped":
        r = runner.invoke(app, ["-C", str(tmp_path), "init", "-m", "xenstore", "ws"], catch_exceptions=False)
    else:
        served = serve_workspace(tmp_path / "srv")
        r = runner.invoke(app, ["-C", str(tmp_path), "init", "-u", file_url(served.root / "manifest"), "ws"])
        assert r.exit_code == 0, r.stderr
        r = runner.invoke(app, ["-C", str(tmp_path / "ws"), "sync"], catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    return tmp_path / "ws"


@pytest.mark.parametrize("case", CASES, ids=[f"{c.where}:{' '.join(c.args)}" for c in CASES])
def test_command_imports_only_what_it_uses(tmp_path: Path, case: Case) -> None:
    cwd = _place(tmp_path, case.where)
    result = run_console(cwd, *case.args)
    assert result.code == 0, result.stderr
    loaded = set(result.modules)
    tops = {m.split(".")[0] for m in loaded}
    assert sorted(tops & case.forbidden) == [], f"ukws {' '.join(case.args)} imports what it does not use"
    assert case.needed <= loaded | tops
    assert not case.absent & loaded
    name = command_name(list(case.args))
    if name is not None:
        owner = COMMANDS[name]
        # A command loads its own command module only (and those it borrows options or code from).
        cli_modules = {m for m in loaded if m.startswith("ukws.cli.")}
        assert cli_modules <= {*SHARED, f"ukws.cli.{owner}", *BORROWED.get(owner, ())}


def test_every_command_is_found_in_its_own_module() -> None:
    whole = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    assert whole == set(COMMANDS)
    for module in MODULES:
        alone = build_app((module,))
        names = {c.name for c in alone.registered_commands} | {g.name for g in alone.registered_groups}
        assert names == {c for c, m in COMMANDS.items() if m == module}
    for command, module in COMMANDS.items():
        alone = build_app((module,), only=command)
        names = {c.name for c in alone.registered_commands} | {g.name for g in alone.registered_groups}
        assert names == {command}


@pytest.mark.parametrize(
    ("args", "name"),
    [(["sync", "-l"], "sync"), (["-C", "sync", "list"], "list"), (["-Cx", "-qv", "--verbose", "fetch"], "fetch"),
     (["-v", "-v", "manifest", "validate"], "manifest"), (["patch-app"], "patch-app"), (["--help", "sync"], None),
     (["-h"], None), (["--version"], None), (["-x", "sync"], None), (["lst"], None), ([], None), (["-C"], None)],
)
def test_the_command_is_read_before_the_command_line_is_built(args: list[str], name: str | None) -> None:
    assert command_name(args) == name

