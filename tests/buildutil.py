"""The demo ecosystem as a test fixture: its repositories, an HTTP server for its origin archives,
and ``ukws`` run as users run it (a subprocess, so make's output and exit status are real)."""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ukws.build.demo import DEMO_BASE, Demo, create_demo

ORIGINS = DEMO_BASE + "origins/"


def ukws(
    cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, **(env or {})}
    environ.pop("SOURCE_DATE_EPOCH", None)
    return subprocess.run(
        [sys.executable, "-m", "ukws", "-C", str(cwd), *args], capture_output=True, text=True, env=environ,
        timeout=timeout, check=False, stdin=subprocess.DEVNULL,
    )


@dataclass(slots=True)
class OriginServer:
    """Serves a folder over HTTP on 127.0.0.1 and counts the requests."""

    root: Path
    base_url: str
    requests: list[str]


class _Handler(SimpleHTTPRequestHandler):
    log: list[str]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.log.append(self.path)
        super().do_GET()


@contextlib.contextmanager
def serve_origins(root: Path) -> Iterator[OriginServer]:
    requests: list[str] = []
    handler = type("Handler", (_Handler,), {"log": requests})
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield OriginServer(root=root, base_url=f"http://127.0.0.1:{server.server_address[1]}/", requests=requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def git_rule(demo: Demo) -> str:
    """Repositories from the demo's folder; origin archives left to other rules."""
    return f"{DEMO_BASE}git/={(demo.upstream / 'git').resolve().as_uri()}/"


def workspace(tmp: Path, *, manifest: str | None = None, origins_url: str | None = None,
              resolve: bool = True) -> tuple[Demo, Path]:
    """The demo written under ``tmp/demo``, and a synced (and resolved) workspace ``tmp/ws`` on it.
    Origin archives come from ``origins_url`` (default: nowhere reachable)."""
    demo = create_demo(tmp / "demo")
    if manifest is not None:
        demo.manifest.write_text(manifest, encoding="utf-8")
    rules = ["--rewrite", git_rule(demo)]
    if origins_url is not None:
        rules += ["--rewrite", f"{ORIGINS}={origins_url}"]
    r = ukws(tmp, "init", "-m", str(demo.manifest), *rules, "ws")
    assert r.returncode == 0, r.stderr
    ws = tmp / "ws"
    r = ukws(ws, "sync")
    assert r.returncode == 0, r.stderr
    if resolve:
        r = ukws(ws, "resolve")
        assert r.returncode == 0, r.stderr
    return demo, ws
