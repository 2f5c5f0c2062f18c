"""Running ukws as a user does, in a fresh interpreter, and seeing which modules the command loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

_RUN = """
import json, os, sys
out, full = sys.argv[1], sys.argv[2] == "full"
sys.argv = ["ukws", *sys.argv[3:]]

def record(code):
    with open(out, "w") as f:
        json.dump({"code": code, "modules": sorted(sys.modules)}, f)

exit_now = os._exit
def _exit(code):  # a command that ends without the interpreter's teardown is recorded too
    record(code)
    exit_now(code)
os._exit = _exit

code = 0
try:
    if full:
        from ukws.cli import main
    else:
        from ukws.entry import main
    main()
except SystemExit as e:
    code = e.code if isinstance(e.code, int) else 1
record(code)
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsoleRun:
    code: int
    stdout: str
    stderr: str
    modules: frozenset[str]
    """Every module loaded when the command ended."""


def run_console(cwd: Path, *args: str, full: bool = False) -> ConsoleRun:
    """``ukws ARGS`` in ``cwd`` through the console script's entry point (which tries the quick
    path first), or with ``full`` through the full command line alone; ``CI`` set (plain output)."""
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "run.json"
        proc = subprocess.run(
            [sys.executable, "-c", _RUN, str(out), "full" if full else "entry", *args],
            cwd=cwd, env={**os.environ, "CI": "1"}, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert out.is_file(), proc.stderr
        result = json.loads(out.read_text())
    return ConsoleRun(code=result["code"], stdout=proc.stdout, stderr=proc.stderr, modules=frozenset(result["modules"]))
