"""The console-script entry point: answers ``--version``, and runs the command lines
:mod:`ukws.cli.quick` knows, before loading the CLI framework."""

from __future__ import annotations

import sys
import time

STARTED = time.perf_counter()
"""When the command started (before the CLI framework loads), for the timings it reports."""


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from ukws import __version__

        sys.stdout.write(f"ukws {__version__}\n")
        return
    from ukws.cli import quick

    if quick.run(sys.argv[1:], STARTED):
        return
    from ukws.cli import main as cli_main

    cli_main(STARTED)
