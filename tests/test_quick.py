"""The command lines ukws.cli.quick runs without the CLI framework behave as the full command line.

Each command line runs twice in a fresh interpreter: through the console script's entry point (which
tries the quick path first) and through the full command line alone; exit code, stdout and stderr
must be the same (timings aside). Which path ran is checked too: the quick one never loads the CLI
framework, and a command line it does not know goes to the full one.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.consoleutil import run_console
from tests.gitutil import file_url
from tests.wsutil import serve_workspace
from ukws.cli import app
from ukws.cli.quick import QuickLine, parse


def _run(cwd: Path, full: bool, args: list[str]) -> tuple[int, str, str, bool]:
    """Exit code, stdout, stderr (timings left out), and whether the CLI framework was loaded."""
    r = run_console(cwd, *args, full=full)
    return r.code, r.stdout, re.sub(r" in \d+\.\ds", " in Ts", r.stderr), "typer" in r.modules


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    top = tmp_path_factory.mktemp("quick")
    served = serve_workspace(top / "srv", groups={"lib-a": "libs"})
    runner = CliRunner()
    r = runner.invoke(app, ["-C", str(top), "init", "-u", file_url(served.root / "manifest"), "ws"])
    assert r.exit_code == 0, r.stderr
    r = runner.invoke(app, ["-C", str(top / "ws"), "sync"])
    assert r.exit_code == 0, r.stderr
    # A second workspace with work in it: a changed file, an untracked one, a checkout moved off its pin.
    r = runner.invoke(app, ["-C", str(top), "init", "-u", file_url(served.root / "manifest"), "dirty"])
    assert r.exit_code == 0, r.stderr
    r = runner.invoke(app, ["-C", str(top / "dirty"), "sync"])
    assert r.exit_code == 0, r.stderr
    core = top / "dirty" / "core"
    tracked = next(p for p in sorted(core.iterdir()) if p.is_file())
    tracked.write_text(tracked.read_text() + "changed\n")
    (core / "new.txt").write_text("untracked\n")
    shown = runner.invoke(app, ["-C", str(top / "dirty"), "-v", "status"]).stdout
    assert "local changes; untracked files" in shown and "new.txt" in shown
    outside = top / "outside"
    (outside / "sub").mkdir(parents=True)
    (outside / "m.xml").write_text(
        '<manifest><remote name="o" fetch="https://example.org/"/><default remote="o" revision="main"/>'
        '<project name="a" groups="x"/><project name="b/c" path="c"/></manifest>\n'
    )
    (outside / "bad.xml").write_text("<manifest><project/></manifest>\n")
    return {"ws": top / "ws", "dirty": top / "dirty", "outside": outside}


QUICK_LINES = [
    ("ws", ["sync", "-l"]),
    ("ws", ["sync", "--local-only", "--json"]),
    ("ws", ["-q", "sync", "-l"]),
    ("ws", ["sync", "-l", "-v"]),
    ("ws", ["-vq", "sync", "-l", "-j", "1"]),
    ("ws", ["sync", "--jobs=2"]),
    ("ws", ["sync", "-j3"]),
    ("ws", ["list"]),
    ("ws", ["list", "--json"]),
    ("ws", ["list", "-g", "libs"]),
    ("ws", ["list", "--groups=-libs", "--manifest-urls"]),
    ("ws", ["-C", "core", "list"]),
    ("outside", ["list", "-m", "m.xml"]),
    ("outside", ["-Csub", "list", "-m", "../m.xml"]),
    ("outside", ["list", "-mm.xml", "-g", "x", "--json"]),
    ("outside", ["list", "--manifest=m.xml", "-m", "xenstore"]),
    ("outside", ["list", "-m", "xenstore", "-gall"]),
    ("ws", ["status"]),
    ("ws", ["status", "--json"]),
    ("ws", ["-v", "status", "--manifest-urls"]),
    ("dirty", ["status"]),
    ("dirty", ["status", "-v"]),
    ("dirty", ["-q", "status", "--json"]),
    ("ws", ["info"]),
    ("ws", ["info", "--json"]),
    ("dirty", ["-C", "core", "info"]),
    ("ws", ["diff"]),
    ("dirty", ["diff"]),
    ("dirty", ["diff", "--untracked"]),
    ("dirty", ["-q", "diff", "--json", "--untracked"]),
    ("ws", ["forall", "-c", "pwd; echo $REPO_PATH"]),
    ("ws", ["forall", "-p", "-j", "2", "--command", "echo $REPO_PROJECT"]),
    ("ws", ["-C", "core", "forall", "-g", "libs", "-c", "echo lib"]),
    ("ws", ["forall", "-c", "exit 3"]),
    ("ws", ["forall", "-e", "-c", "echo once; exit 4"]),
    ("ws", ["forall", "--json", "-c", "echo json"]),
    ("ws", ["forall", "--command=", "-p"]),
    ("ws", ["forall"]),
    ("ws", ["forall", "-j", "0", "-c", "true"]),
    ("outside", ["forall", "-c", "true"]),
    # Errors: the same line and exit code on both paths.
    ("outside", ["list"]),
    ("outside", ["status"]),
    ("outside", ["info", "--json"]),
    ("outside", ["diff"]),
    # Project names, before, between and after options; unknown ones.
    ("ws", ["sync", "-l", "core"]),
    ("ws", ["sync", "core", "-j", "2", "lib-a"]),
    ("ws", ["-q", "sync", "-l", "nosuch"]),
    ("ws", ["status", "core"]),
    ("dirty", ["status", "core", "--json", "lib-a"]),
    ("ws", ["status", "nosuch"]),
    ("dirty", ["diff", "--untracked", "core"]),
    ("ws", ["forall", "core", "-p", "-c", "echo $REPO_PATH", "lib-a"]),
    ("ws", ["forall", "-c", "pwd", "nosuch"]),
    ("outside", ["sync", "-l"]),
    ("outside", ["list", "-m", "nosuch.xml"]),
    ("outside", ["list", "-m", "bad.xml"]),
    ("outside", ["list", "-m", ""]),
    ("outside", ["-C", "nosuch", "list", "-m", "m.xml"]),
    ("ws", ["sync", "-j", "1", "--local-only", "-C", "nosuch"]),
]


@pytest.mark.parametrize(("where", "args"), QUICK_LINES, ids=[f"{w}:{' '.join(a)}" for w, a in QUICK_LINES])
def test_quick_path_prints_what_the_full_command_line_prints(
    places: dict[str, Path], tmp_path: Path, where: str, args: list[str]
) -> None:
    assert parse(args) is not None
    quick = _run(places[where], False, args)
    full = _run(places[where], True, args)
    assert quick[:3] == full[:3]
    assert quick[3] is False, "the quick path loaded the CLI framework"
    assert full[3] is True


FULL_LINES = [
    ["sync", "-l", "--", "core"],
    ["status", "-x"],  # a name starting with -: an unknown option to the full command line
    ["sync", "-lq"],  # bundled short options
    ["sync", "-j", "x"],  # not a number
    ["sync", "-j", "-1"],
    ["sync", "--network-only"],
    ["sync", "-l", "--"],
    ["list", "-m"],  # a missing value
    ["list", "-m", "--json"],
    ["list", "--help"],
    ["-C"],
    ["-C", "-q", "list"],
    ["status", "--manifest-urls=1"],
    ["info", "--help"],
    ["diff", "core", "--untracked", ""],  # an empty name
    ["list", "core"],  # list takes no names
    ["info", "core"],
    ["forall", "-c", "-v"],  # -c takes the next word, whatever it looks like
    ["forall", "-pe", "-c", "true"],
    ["forall", "-j", "-1", "-c", "true"],
    ["lis"],
    ["--verbose=1", "list"],
    [],
]


@pytest.mark.parametrize("args", FULL_LINES, ids=[" ".join(a) or "(none)" for a in FULL_LINES])
def test_other_command_lines_go_to_the_full_command_line(
    places: dict[str, Path], tmp_path: Path, args: list[str]
) -> None:
    assert parse(args) is None
    entry = _run(places["ws"], False, args)
    full = _run(places["ws"], True, args)
    assert entry == full
    assert entry[3] is True


def test_the_parse_keeps_the_global_options_in_order_and_the_last_value() -> None:
    line = parse(["-C", "a", "-qv", "list", "-C", "b", "--verbose", "-m", "x", "--manifest=y", "-gall"])
    assert line == QuickLine(
        command="list",
        globals=[("C", "a"), ("q", ""), ("v", ""), ("C", "b"), ("v", "")],
        options={"manifest": "y", "groups": "all"},
    )
    assert parse(["sync", "-l", "--json", "-j", "4"]) == QuickLine(
        command="sync", options={"local_only": True, "json": True, "jobs": "4"}
    )
    assert parse(["forall", "core", "-c", "echo lib-x", "lib-a", "-v"]) == QuickLine(
        command="forall", globals=[("v", "")], options={"command": "echo lib-x"}, projects=["core", "lib-a"]
    )


@pytest.mark.parametrize("full", [False, True], ids=["quick", "full"])
def test_a_reader_that_went_away_ends_the_listing_quietly(places: dict[str, Path], full: bool) -> None:
    read, write = os.pipe()
    os.close(read)  # nobody will read what list prints
    script = "import sys; sys.argv = ['ukws', 'list']; from ukws.{} import main; main()"
    try:
        proc = subprocess.run([sys.executable, "-c", script.format("cli" if full else "entry")], cwd=places["ws"],
                              stdout=write, stderr=subprocess.PIPE, text=True, timeout=120)  # fmt: skip
    finally:
        os.close(write)
    assert (proc.returncode, proc.stderr) == (1, "")


@pytest.mark.parametrize("projects", [2, 3000], ids=["small", "larger than a pipe"])
def test_what_the_quick_path_prints_arrives_whole(tmp_path: Path, projects: int) -> None:
    """The quick path's read-only commands end without the interpreter's teardown: what they printed
    must be out first, all of it, whether it sits in stdout's buffer (a short listing) or fills the
    pipe (3,000 projects: about 250 kB) and waits on a slow reader."""
    lines = ['<manifest><remote name="o" fetch="https://example.org/"/><default remote="o" revision="main"/>']
    lines += [f'<project name="platform/external/project-{i:05d}" path="external/p{i:05d}"/>' for i in range(projects)]
    (tmp_path / "big.xml").write_text("\n".join([*lines, "</manifest>"]) + "\n")
    script = "import sys; sys.argv = ['ukws', 'list', '-m', 'big.xml']; from ukws.entry import main; main()"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # stdout buffered, as users have it
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path, stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    time.sleep(0.5)  # let the writer fill the pipe and wait on it
    out = proc.stdout.read()
    assert proc.wait(timeout=60) == 0
    rows = out.decode().splitlines()
    assert len(rows) == projects
    assert rows[-1].split()[:2] == [f"external/p{projects - 1:05d}", f"platform/external/project-{projects - 1:05d}"]
    assert out.decode() == run_console(tmp_path, "list", "-m", "big.xml", full=True).stdout
