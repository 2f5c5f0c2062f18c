"""The test servers themselves: a repository built by the test is fetched over each transport."""

from __future__ import annotations

from pathlib import Path

import pygit2
import pytest

from tests.gitutil import commit, file_url, init_repo, tag
from tests.servers import GitServer

SERVERS = {"daemon": "git_daemon", "http": "http_git"}


def _publish(root: Path) -> str:
    repo = init_repo(root / "lib.git", bare=True)
    commit(repo, {"README": "one\n"})
    head = commit(repo, {"README": "two\n", "src/a.c": "int a;\n"})
    tag(repo, "RELEASE-0.1.0", head, annotated=True)
    return head


@pytest.mark.parametrize("transport", ["daemon", "http"])
def test_clone_over_server(transport: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    server: GitServer = request.getfixturevalue(SERVERS[transport])
    head = _publish(server.root)
    clone = pygit2.clone_repository(server.url("lib.git"), str(tmp_path / "clone"))
    assert str(clone.head.target) == head
    assert (tmp_path / "clone" / "src" / "a.c").read_text() == "int a;\n"
    assert "refs/tags/RELEASE-0.1.0" in list(clone.references)


@pytest.mark.parametrize("transport", ["daemon", "http"])
def test_fetch_sees_new_commits(transport: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    server: GitServer = request.getfixturevalue(SERVERS[transport])
    _publish(server.root)
    clone = pygit2.clone_repository(server.url("lib.git"), str(tmp_path / "clone"))
    upstream = pygit2.Repository(str(server.root / "lib.git"))
    newer = commit(upstream, {"README": "three\n"})
    clone.remotes["origin"].fetch()
    assert str(clone.references["refs/remotes/origin/main"].target) == newer


@pytest.mark.parametrize("transport", ["daemon", "http"])
def test_missing_repository_fails(transport: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    server: GitServer = request.getfixturevalue(SERVERS[transport])
    with pytest.raises(pygit2.GitError):
        pygit2.clone_repository(server.url("absent.git"), str(tmp_path / "clone"))


def test_file_url_baseline(tmp_path: Path) -> None:
    head = _publish(tmp_path / "srv")
    clone = pygit2.clone_repository(file_url(tmp_path / "srv" / "lib.git"), str(tmp_path / "clone"))
    assert str(clone.head.target) == head
