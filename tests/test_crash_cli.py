"""``python -m ukws sync`` killed at random moments, in a workspace made by ``ukws init``: the next
``ukws sync`` completes, and ``ukws status`` shows every project at its revision."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pygit2
import pytest

from tests.gitutil import file_url, init_repo, signature

FILES = 300


def _repo(path: Path) -> str:
    repo = init_repo(path, bare=True)
    index = pygit2.Index()
    for n in range(FILES):
        blob = repo.create_blob(f"{path.name} {n}\n".encode() * 30)
        index.add(pygit2.IndexEntry(f"src/f{n:04d}.c", blob, pygit2.enums.FileMode.BLOB))
    tree = index.write_tree(repo)
    return str(repo.create_commit("refs/heads/main", signature(), signature(), "initial", tree, []))


@pytest.mark.slow
def test_cli_sync_survives_kills(tmp_path: Path) -> None:
    names = ["core", "lib-a", "lib-b"]
    heads = {n: _repo(tmp_path / "up" / n) for n in names}
    projects = "\n".join(
        f'  <project name="{n}" path="{"libs/" if n != "core" else ""}{n}">'
        f'<copyfile src="src/f0000.c" dest="first-{n}.c"/></project>'
        for n in names
    )
    manifest = tmp_path / "m.xml"
    manifest.write_text(
        f'<manifest>\n  <remote name="up" fetch="{file_url(tmp_path / "up")}/"/>\n'
        f'  <default remote="up" revision="main"/>\n{projects}\n</manifest>\n'
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}

    def ukws(*args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "ukws", *args],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    init = ukws("-C", str(tmp_path), "init", "-m", str(manifest), "ws")
    assert init.wait(timeout=60) == 0, init.communicate()
    seed = int(os.environ.get("UKWS_CRASH_SEED", time.time_ns() % 100_000))
    rng = random.Random(seed)
    for _ in range(4):
        proc = ukws("-C", str(tmp_path / "ws"), "sync")
        time.sleep(rng.uniform(0.2, 1.0))
        proc.send_signal(signal.SIGKILL if rng.random() < 0.7 else signal.SIGINT)
        proc.communicate(timeout=30)
    final = ukws("-C", str(tmp_path / "ws"), "sync")
    out, err = final.communicate(timeout=60)
    assert final.returncode == 0, f"seed {seed}: {out}{err}"
    status = ukws("-C", str(tmp_path / "ws"), "status", "--json")
    out, err = status.communicate(timeout=60)
    assert status.returncode == 0, err
    rows = {r["name"]: r for r in json.loads(out)}
    for n in names:
        assert rows[n]["head_sha"] == heads[n] and rows[n]["at_pin"], f"seed {seed}: {rows[n]}"
        assert rows[n]["dirty"] == [] and rows[n]["untracked"] == [], f"seed {seed}: {rows[n]}"
        assert (tmp_path / "ws" / f"first-{n}.c").read_text() == f"{n} 0\n" * 30
