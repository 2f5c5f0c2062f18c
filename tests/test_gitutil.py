from __future__ import annotations

from pathlib import Path

from tests.gitutil import commit, init_repo, tag
from ukws import git


def test_tags_are_peeled_and_blobs_read_without_checkout(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "r.git", bare=True)
    c1 = commit(repo, {"Config.uk": "config LIBFOO\n", "sub/Config.uk": "x"})
    c2 = commit(repo, {"README": "hi"})
    tag(repo, "RELEASE-0.1", c1)
    tag(repo, "RELEASE-0.2.0", c2, annotated=True)
    tags = git.list_tags(git.open_repo(tmp_path / "r.git"))
    assert [(t.name, t.commit) for t in tags] == [("RELEASE-0.1", c1), ("RELEASE-0.2.0", c2)]
    r = git.open_repo(tmp_path / "r.git")
    assert git.read_blob(r, c1, "Config.uk") == b"config LIBFOO\n"
    assert git.read_blob(r, c1, "README") is None
    assert git.list_files(r, c2, "Config.uk") == ["Config.uk", "sub/Config.uk"]
