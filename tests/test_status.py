"""ukws status and diff: per-project revision, branch, ahead/behind, dirty and untracked files."""

from __future__ import annotations

from pathlib import Path

import pygit2

from tests.gitutil import commit, file_url, head_sha, make_manifest, make_project, upstream
from ukws.listing import sync_states
from ukws.status import project_diff, project_status
from ukws.sync.engine import SyncOptions, sync


def test_status_and_diff(tmp_path: Path) -> None:
    up = upstream(tmp_path / "up" / "alpha", {"README": "one\n", "a.txt": "a\n"})
    upstream(tmp_path / "up" / "beta")
    m = make_manifest(
        make_project("alpha", file_url(tmp_path / "up" / "alpha")),
        make_project("beta", file_url(tmp_path / "up" / "beta")),
        make_project("gamma", file_url(tmp_path / "up" / "gamma")),
    )
    root = tmp_path / "ws"
    root.mkdir()
    sync(root=root, state_dir=root / ".ukws", manifest=m, options=SyncOptions(only=("alpha", "beta")))
    first = head_sha(up)
    newer = commit(up, {"README": "two\n"})
    sync(root=root, state_dir=root / ".ukws", manifest=m, options=SyncOptions(only=("alpha",), checkout=False))
    (root / "alpha" / "a.txt").write_text("changed\n")
    (root / "alpha" / "new.txt").write_text("new\n")

    alpha, beta, gamma = project_status(root=root, manifest=m)
    assert alpha.synced and alpha.head_sha == first and alpha.pin_sha == newer
    assert alpha.branch is None and not alpha.at_pin
    assert (alpha.ahead, alpha.behind) == (0, 1)
    assert alpha.dirty == ("a.txt",) and alpha.untracked == ("new.txt",)
    assert beta.synced and beta.at_pin and beta.dirty == () and beta.untracked == ()
    assert not gamma.synced and gamma.head_sha is None

    pinned = project_status(root=root, manifest=m, pins={"alpha": first})[0]
    assert pinned.at_pin and pinned.revision == first

    repo = pygit2.Repository(str(root / "alpha"))
    repo.index.add("a.txt")
    repo.index.write()
    (root / "alpha" / "README").write_text("edited\n")
    diffs = {d.path: d.patch for d in project_diff(root=root, manifest=m)}
    assert "+changed" in diffs["alpha"] and "+edited" in diffs["alpha"]
    assert "new.txt" not in diffs["alpha"]
    assert diffs["beta"] == "" and diffs["gamma"] == ""


def test_sync_states_of_a_workspace_synced_in_part(tmp_path: Path) -> None:
    upstream(tmp_path / "up" / "alpha")
    url = file_url(tmp_path / "up" / "alpha")
    paths = ("deep/a", "deep/never/b", "gone/c", "file/d", "deep/a/nested")
    m = make_manifest(*(make_project(p, url) for p in paths))
    root = tmp_path / "ws"
    root.mkdir()
    sync(root=root, state_dir=root / ".ukws", manifest=m, options=SyncOptions(only=("deep/a", "deep/a/nested")))
    (root / "file").write_text("a file where a folder of projects would be\n")
    (root / "deep" / "never").mkdir()  # a folder without a repository
    states = sync_states(root=root, manifest=m)
    assert states == {
        "deep/a": (True, True, "at pin"),
        "deep/a/nested": (True, True, "at pin"),
        "deep/never/b": (False, False, "not synced"),
        "gone/c": (False, False, "not synced"),
        "file/d": (False, False, "not synced"),
    }
