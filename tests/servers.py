"""Real git servers on 127.0.0.1 for tests: ``git daemon`` and smart HTTP (``git http-backend``).

Each server serves every repository under its ``root`` folder (repositories may be created
after the server started). Fixtures start a server, wait until it accepts connections, and
stop it (with every child process) when the test ends::

    def test_fetch_over_daemon(git_daemon: GitServer) -> None:
        init_repo(git_daemon.root / "lib.git", bare=True)
        url = git_daemon.url("lib.git")            # git://127.0.0.1:PORT/lib.git

The context managers :func:`serve_git_daemon` and :func:`serve_http` do the same outside fixtures
(benchmarks, session-scoped fixtures).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

READY_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True, kw_only=True)
class GitServer:
    """A running server: repositories under ``root`` are reachable at ``base_url + relative path``."""

    root: Path
    base_url: str
    """Ends with '/'."""

    def url(self, relative: str) -> str:
        """The URL of the repository at ``root / relative``."""
        return self.base_url + relative.lstrip("/")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_listening(port: int, proc: subprocess.Popen[bytes] | None = None) -> bool:
    """True once something accepts connections on ``port``; False if ``proc`` died first."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
        time.sleep(0.02)
    return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server started in its own session, with the children it forked per connection."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def _git() -> str:
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed (needed to run test servers)")
    return git


@contextlib.contextmanager
def serve_git_daemon(root: Path) -> Iterator[GitServer]:
    """``git daemon --export-all --base-path=ROOT`` on 127.0.0.1 and a free port."""
    git = _git()
    root.mkdir(parents=True, exist_ok=True)
    for _attempt in range(5):
        port = free_port()
        proc = subprocess.Popen(
            [
                git,
                "daemon",
                "--export-all",
                "--reuseaddr",
                "--informative-errors",
                f"--base-path={root}",
                "--listen=127.0.0.1",
                f"--port={port}",
                str(root),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        if _wait_listening(port, proc):
            break
        _stop(proc)  # the port was taken in between: try another one
    else:
        raise RuntimeError("git daemon did not start")
    try:
        yield GitServer(root=root, base_url=f"git://127.0.0.1:{port}/")
    finally:
        _stop(proc)


class _BackendHandler(BaseHTTPRequestHandler):
    """Runs ``git http-backend`` as a CGI program for every request."""

    protocol_version = "HTTP/1.1"
    server: _BackendServer

    def do_GET(self) -> None:
        self._cgi()

    def do_POST(self) -> None:
        self._cgi()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _cgi(self) -> None:
        parts = urlsplit(self.path)
        body = self._body()
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", ""),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_PROJECT_ROOT": str(self.server.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": unquote(parts.path),
            "QUERY_STRING": parts.query,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
        }
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        done = subprocess.run(
            [self.server.git, "http-backend"], input=body, env=env, capture_output=True, check=False
        )
        head, payload = _split_cgi(done.stdout)
        status = 200
        headers: list[tuple[str, str]] = []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name.strip(), value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def _split_cgi(output: bytes) -> tuple[bytes, bytes]:
    """CGI output split into its header block and its body (headers end at the first blank line)."""
    ends = [(i, len(sep)) for sep in (b"\r\n\r\n", b"\n\n") if (i := output.find(sep)) >= 0]
    if not ends:
        return output, b""
    i, n = min(ends)
    return output[:i], output[i + n :]


class _BackendServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path, git: str) -> None:
        self.root = root
        self.git = git
        super().__init__(("127.0.0.1", 0), _BackendHandler)


@contextlib.contextmanager
def serve_http(root: Path) -> Iterator[GitServer]:
    """Smart HTTP: a threaded ``http.server`` on 127.0.0.1 running ``git http-backend`` per request."""
    git = _git()
    root.mkdir(parents=True, exist_ok=True)
    server = _BackendServer(root, git)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="git-http-backend", daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        if not _wait_listening(port):
            raise RuntimeError("git http server did not start")
        yield GitServer(root=root, base_url=f"http://127.0.0.1:{port}/")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextlib.contextmanager
def serve_stalled() -> Iterator[str]:
    """A server on 127.0.0.1 that accepts connections and never answers; yields ``127.0.0.1:PORT``."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError, OSError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept, name="stalled-server", daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


@pytest.fixture
def stalled_server() -> Iterator[str]:
    """``HOST:PORT`` of a server that accepts connections and never answers (git:// or http:// to it stall)."""
    with serve_stalled() as address:
        yield address


@pytest.fixture
def git_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitServer]:
    """A ``git daemon`` serving the repositories under its own empty ``root``."""
    with serve_git_daemon(tmp_path_factory.mktemp("daemon")) as server:
        yield server


@pytest.fixture
def http_git(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitServer]:
    """A smart HTTP server serving the repositories under its own empty ``root``."""
    with serve_http(tmp_path_factory.mktemp("http")) as server:
        yield server
