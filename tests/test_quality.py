"""The code base stays strictly typed and lint-clean: mypy --strict and ruff over ukws/, tests/ and bench/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_mypy_strict(tmp_path: Path) -> None:
    r = _run("mypy", "--cache-dir", str(tmp_path / "mypy-cache"), "ukws", "tests", "bench")
    assert r.returncode == 0, r.stdout + r.stderr


def test_ruff() -> None:
    r = _run("ruff", "check", "ukws", "tests", "bench")
    assert r.returncode == 0, r.stdout + r.stderr
