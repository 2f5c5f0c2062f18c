"""Start-up time of every command, next to the floor of starting Python itself.

Each command runs as users run it: the installed ``ukws`` console script next to this Python (``python
-m ukws`` when there is none, which costs a few milliseconds more), a fresh process each time, where it
makes sense: outside a workspace (``--version``, ``--help``, ``-m`` manifests), in a workspace of a
shipped manifest with nothing cloned, and in a small synced workspace (two projects served from
file://). The rounds are interleaved (each round runs every command once) and the median is
printed, with the load average: on a busy machine every figure is slower, the floor too.

Which heavy modules each command may import is asserted in tests/test_startup.py; this prints
the time. Run: ``.venv/bin/python bench/startup.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup(work: Path) -> dict[str, Path]:
    """The places commands run in: ``outside``, ``shipped``, ``synced``, ``large`` (a generated
    10,000-project manifest, bench/manifest_parse.py's) and ``ws10k`` (a workspace of it, nothing
    cloned)."""
    sys.path.insert(0, str(ROOT))
    os.environ.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_TERMINAL_PROMPT="0")
    from typer.testing import CliRunner

    from tests.gitutil import file_url
    from tests.wsutil import serve_workspace
    from ukws.cli import app

    runner = CliRunner()
    outside = work / "outside"
    outside.mkdir()
    (outside / "m.xml").write_text((ROOT / "manifests" / "xenstore.xml").read_text())
    assert runner.invoke(app, ["-C", str(work), "init", "-m", "xenstore", "shipped"]).exit_code == 0
    served = serve_workspace(work / "srv")
    url = file_url(served.root / "manifest")
    assert runner.invoke(app, ["-C", str(work), "init", "-u", url, "synced"]).exit_code == 0
    assert runner.invoke(app, ["-C", str(work / "synced"), "sync"]).exit_code == 0
    sys.path.insert(0, str(ROOT / "bench"))
    from manifest_parse import generate

    large = work / "large"
    large.mkdir()
    generate(large, 10_000, 10)
    assert runner.invoke(app, ["-C", str(work), "init", "-m", str(large / "default.xml"), "ws10k"]).exit_code == 0
    return {"outside": outside, "shipped": work / "shipped", "synced": work / "synced", "large": large,
            "ws10k": work / "ws10k"}


COMMANDS: list[tuple[str, tuple[str, ...]]] = [
    ("outside", ("--version",)),
    ("outside", ("--help",)),
    ("outside", ("list", "-m", "xenstore")),
    ("outside", ("manifest", "-m", "qemu-stubdom")),
    ("outside", ("manifest", "validate", "m.xml")),
    ("shipped", ("info",)),
    ("shipped", ("list",)),
    ("synced", ("info",)),
    ("synced", ("list",)),
    ("synced", ("status",)),
    ("synced", ("diff",)),
    ("synced", ("sync", "-l")),
    ("synced", ("sync", "-l", "-v")),
    ("synced", ("forall", "-c", "true")),
    ("large", ("list", "-m", "default.xml")),
    ("ws10k", ("list",)),
]

NOTES = {
    ("synced", "ukws sync -l"): "answered from the no-op record",
    ("synced", "ukws sync -l -v"): "the full sync (-v lists every project)",
}

TARGETS = {
    ("synced", "ukws sync -l"): 0.12,
    ("large", "ukws list -m default.xml"): 0.2,
    ("ws10k", "ukws list"): 0.25,
}
"""Whole-command targets in seconds (``sync -l`` here syncs two projects)."""


def once(argv: list[str], cwd: Path) -> float | None:
    env = {**os.environ, "CI": "1"}
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    took = time.perf_counter() - start
    return took if proc.returncode == 0 else None


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=10, help="interleaved rounds (default 10); the median is kept")
    args = ap.parse_args()
    py = sys.executable
    subprocess.run([py, "-m", "compileall", "-q", str(ROOT / "ukws")], check=True, stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory(prefix="ukws-startup-") as d:
        places = setup(Path(d))
        rows: list[tuple[str, str, list[str], Path]] = [
            ("floor", "python -c pass", [py, "-c", "pass"], places["outside"]),
            ("", "git --version", ["git", "--version"], places["outside"]),
            ("", "python -c 'import pygit2'", [py, "-c", "import pygit2"], places["outside"]),
            ("", "python -c 'import typer'", [py, "-c", "import typer"], places["outside"]),
            ("", "python -c 'import pygit2, typer, lxml'", [py, "-c", "import pygit2, typer, lxml.etree"],
             places["outside"]),
            # What a command that reads git and a manifest cannot do without (the quick path loads
            # no CLI framework): its own floor.
            ("", "python -c 'import pygit2, lxml'", [py, "-c", "import pygit2, lxml.etree"], places["outside"]),
            # What a listing cannot do without: lxml and the manifest engine, whose model classes
            # (frozen, slotted dataclasses) are built as it is imported.
            ("", "python -c 'import ukws.manifest'", [py, "-c", "import ukws.manifest"], places["outside"]),
        ]
        script = Path(py).parent / "ukws"
        ukws = [str(script)] if script.is_file() else [py, "-m", "ukws"]
        rows += [(where, "ukws " + " ".join(a), [*ukws, *a], places[where]) for where, a in COMMANDS]
        times: dict[tuple[str, str], list[float]] = {(where, name): [] for where, name, _, _ in rows}
        failed: set[tuple[str, str]] = set()
        print(f"load average before: {load()}", flush=True)
        for _ in range(args.repeat):
            for where, name, argv, cwd in rows:
                took = once(argv, cwd)
                if took is None:
                    failed.add((where, name))
                else:
                    times[where, name].append(took)
        floor = statistics.median(times["floor", "python -c pass"])
        print(f"start-up, median of {args.repeat} interleaved rounds (load average after: {load()});"
              f" ukws run as {' '.join(ukws)}")
        for where, name, _, _ in rows:
            if (where, name) in failed or not times[where, name]:
                print(f"  {name:<40} {where:<8} FAILED")
                continue
            t = statistics.median(times[where, name])
            target = TARGETS.get((where, name))
            verdict = ""
            if target is not None:
                verdict = f"  target <= {target * 1000:.0f} ms: {'met' if t <= target else 'MISSED'}"
            note = f"  ({NOTES[where, name]})" if (where, name) in NOTES else ""
            print(f"  {name:<40} {where:<8} {t * 1000:7.1f} ms  {t / floor:5.1f}x the floor{verdict}{note}")


if __name__ == "__main__":
    main()
