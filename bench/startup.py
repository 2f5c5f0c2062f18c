"""Start-up time of read-only commands, next to the floor of starting Python itself.

``ukws --version`` and commands that only read manifests must not import pygit2 and must start
fast. Run: ``.venv/bin/python bench/startup.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def timed(cmd: list[str], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=10)
    args = ap.parse_args()
    py = sys.executable
    floor = timed([py, "-c", "pass"], args.repeat)
    git = timed(["git", "--version"], args.repeat)
    rows = [
        ("python -c pass (floor)", floor),
        ("git --version", git),
        ("ukws --version", timed([py, "-m", "ukws", "--version"], args.repeat)),
        ("ukws list -m xenstore", timed([py, "-m", "ukws", "list", "-m", "xenstore"], args.repeat)),
        ("ukws manifest -m qemu-stubdom", timed([py, "-m", "ukws", "manifest", "-m", "qemu-stubdom"], args.repeat)),
        ("python -c 'import pygit2'", timed([py, "-c", "import pygit2"], args.repeat)),
    ]
    print(f"start-up, median of {args.repeat} runs")
    for name, t in rows:
        print(f"  {name:<32} {t * 1000:7.1f} ms  {t / floor:5.1f}x the floor")


if __name__ == "__main__":
    main()
