"""The sync engine over real network transports: git daemon and smart HTTP on 127.0.0.1."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pygit2
import pytest

from tests.gitutil import commit, head_sha, make_manifest, make_project, tag, upstream
from tests.servers import GitServer
from ukws.manifest.model import Manifest
from ukws.sync.engine import Action, ProgressEvent, SyncOptions, SyncResult, sync


def run(root: Path, manifest: Manifest, **options: Any) -> SyncResult:
    return sync(root=root, state_dir=root / ".ukws", manifest=manifest, options=SyncOptions(**options))


def history(server: GitServer, name: str, commits: int = 5) -> pygit2.Repository:
    repo = upstream(server.root / name, {"README": f"{name} 0\n"})
    for i in range(1, commits):
        commit(repo, {"README": f"{name} {i}\n", f"f{i}.txt": f"{i}\n"})
    return repo


@pytest.fixture(params=["git_daemon", "http_git"])
def server(request: pytest.FixtureRequest) -> GitServer:
    value: GitServer = request.getfixturevalue(request.param)
    return value


def test_clone_fetch_and_pins_over_the_network(server: GitServer, tmp_path: Path) -> None:
    up = history(server, "alpha.git")
    old = str(up.head.peel(pygit2.Commit).parents[0].id)
    tag(up, "v1", old, annotated=True)
    history(server, "beta.git")
    root = tmp_path / "ws"
    root.mkdir()
    events: list[ProgressEvent] = []
    m = make_manifest(
        make_project("alpha", server.url("alpha.git")),
        make_project("beta", server.url("beta.git"), revision="refs/tags/v1"),
        make_project("gamma", server.url("beta.git"), revision=head_sha(up), path="gamma"),
    )
    # gamma asks beta's server for a commit of alpha: it is not there
    result = run(root, m, progress=events.append)
    assert outcome(result, "alpha").action is Action.CLONED
    assert outcome(result, "beta").action is Action.FAILED  # beta has no v1 tag
    assert "refs/tags/v1" in outcome(result, "beta").message
    assert outcome(result, "gamma").action is Action.FAILED
    assert {e.path for e in events if e.phase == "done"} == {"alpha", "beta", "gamma"}
    done = next(e for e in events if e.phase == "done" and e.path == "alpha")
    assert done.received_objects == done.total_objects > 0
    m = make_manifest(
        make_project("alpha", server.url("alpha.git")),
        make_project("beta", server.url("alpha.git"), revision="v1", path="beta"),
        make_project("gamma", server.url("alpha.git"), revision=old, path="gamma"),
    )
    result = run(root, m)
    assert result.ok, result
    assert outcome(result, "beta").sha == old and outcome(result, "gamma").sha == old
    new = commit(up, {"README": "new\n"})
    result = run(root, m)
    assert outcome(result, "alpha").action is Action.UPDATED and outcome(result, "alpha").sha == new
    assert outcome(result, "beta").action is Action.UNCHANGED


def test_clone_depth(git_daemon: GitServer, tmp_path: Path) -> None:
    up = history(git_daemon, "alpha.git", commits=6)
    root = tmp_path / "ws"
    root.mkdir()
    result = run(root, make_manifest(make_project("alpha", git_daemon.url("alpha.git"), clone_depth=1)))
    assert result.ok, result
    repo = pygit2.Repository(str(root / "alpha"))
    assert repo.is_shallow
    assert len(list(repo.walk(repo.head.target))) == 1
    assert str(repo.head.target) == head_sha(up)
    deeper = tmp_path / "ws2"
    deeper.mkdir()
    result = run(deeper, make_manifest(make_project("alpha", git_daemon.url("alpha.git"))), depth=2)
    assert len(list(pygit2.Repository(str(deeper / "alpha")).walk(up.head.target))) == 2


def outcome(result: SyncResult, path: str) -> Any:
    return next(o for o in result.outcomes if o.path == path)


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server that accepts connections and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"git://127.0.0.1:{sock.getsockname()[1]}/stalled.git"
    stop.set()
    thread.join()
    for s in held:
        s.close()
    sock.close()


def test_stalled_server_times_out_and_others_finish(
    silent_server: str, git_daemon: GitServer, tmp_path: Path
) -> None:
    history(git_daemon, "alpha.git")
    root = tmp_path / "ws"
    root.mkdir()
    m = make_manifest(
        make_project("stalled", silent_server),
        make_project("alpha", git_daemon.url("alpha.git")),
    )
    start = time.monotonic()
    result = run(root, m, timeout=1.5)
    assert time.monotonic() - start < 15
    assert outcome(result, "alpha").action is Action.CLONED
    stalled = outcome(result, "stalled")
    assert stalled.action is Action.FAILED and silent_server in stalled.message
    assert not (root / "stalled").exists()


def test_http_credentials_are_never_asked_for(tmp_path: Path) -> None:
    """A server answering 401 makes the project fail at once, without a prompt."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Deny(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="x"')
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Deny)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/private.git"
        root = tmp_path / "ws"
        root.mkdir()
        result = run(root, make_manifest(make_project("private", url)), timeout=5)
        o = outcome(result, "private")
        assert o.action is Action.FAILED and "credentials" in o.message and url in o.message
    finally:
        httpd.shutdown()
        thread.join()


def test_http_transfer_stalled_mid_response_times_out(tmp_path: Path) -> None:
    """A server that starts answering and then goes quiet: the fetch fails after the time-out."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    held: list[socket.socket] = []

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = sock.accept()
                conn.recv(4096)
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/x-git-upload-pack-advertisement\r\n"
                    b"Content-Length: 1000\r\n\r\n001e# service=git-upload-pack\n"
                )
                held.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/slow.git"
        root = tmp_path / "ws"
        root.mkdir()
        start = time.monotonic()
        result = run(root, make_manifest(make_project("slow", url)), timeout=1)
        assert time.monotonic() - start < 10
        o = outcome(result, "slow")
        assert o.action is Action.FAILED and url in o.message and "timed out" in o.message
    finally:
        sock.close()
        for conn in held:
            conn.close()


def test_tags_over_the_network(git_daemon: GitServer, tmp_path: Path) -> None:
    up = history(git_daemon, "alpha.git")
    tag(up, "RELEASE-0.1.0", head_sha(up))
    for sync_tags, want in ((True, True), (False, False)):
        root = tmp_path / f"ws-{sync_tags}"
        root.mkdir()
        result = run(root, make_manifest(make_project("alpha", git_daemon.url("alpha.git"), sync_tags=sync_tags)))
        assert result.ok, result
        refs = set(pygit2.Repository(str(root / "alpha")).references)
        assert ("refs/tags/RELEASE-0.1.0" in refs) is want


def test_persistent_http_is_fetched_over_http_and_helper_schemes_fail_in_one_line(
    http_git: GitServer, tmp_path: Path
) -> None:
    """``persistent-http(s)://`` (as repo reads it) reaches the same server over http(s); a scheme
    git only reaches through a remote helper fails that project alone, in one line naming it."""
    up = history(http_git, "alpha.git", commits=2)
    root = tmp_path / "ws"
    root.mkdir()
    url = http_git.url("alpha.git").replace("http://", "persistent-http://", 1)
    m = make_manifest(make_project("alpha", url), make_project("beta", "sso://example.org/beta"))
    result = run(root, m)
    assert outcome(result, "alpha").action is Action.CLONED and outcome(result, "alpha").sha == head_sha(up)
    beta = outcome(result, "beta")
    assert beta.action is Action.FAILED and not result.ok
    assert beta.message.startswith("beta (beta): refusing URL sso://example.org/beta: transport 'sso' needs a git")
    assert "\n" not in beta.message and not (root / "beta").exists()
