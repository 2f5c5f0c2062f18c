"""A no-op ``ukws sync -l`` is answered from the record the last one left, and only when nothing
it rests on has changed: every change a sync would act on (or report) sends it to the full sync.

The record is written by a real sync; each test then changes one thing the way a user (or git)
would, and checks both that the record no longer holds and that the full sync that follows does
what that change calls for.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path

import pygit2
import pytest
from typer.testing import CliRunner

from tests.consoleutil import run_console
from tests.gitutil import commit, file_url
from tests.wsutil import serve_projects
from ukws import workspace
from ukws.cli import app
from ukws.sync import noop
from ukws.sync.model import SYNCED_REF
from ukws.sync.rewrite import user_config_path

MANIFEST = """<manifest>
  <remote name="origin" fetch="{fetch}"/>
  <default remote="origin" revision="main"/>
  <project name="core" path="core">
    <copyfile src="README" dest="README.core"/>
    <linkfile src="src" dest="core-src"/>
  </project>
  <project name="lib-a" path="lib-a" revision="refs/tags/RELEASE-0.1.0"/>
  {extra}
</manifest>
"""


class Ws:
    def __init__(self, root: Path, srv: Path, manifest: Path) -> None:
        self.root, self.srv, self.manifest = root, srv, manifest
        self.sync_dir = root.joinpath(*noop.SYNC_DIR)
        self.runner = CliRunner()

    def ukws(self, *args: str) -> str:
        r = self.runner.invoke(app, ["-C", str(self.root), *args])
        assert r.exit_code == 0, r.stderr
        return r.stderr

    def settle(self) -> None:
        """Let the file system's clock move past the last change, then run the no-op that records."""
        time.sleep(noop.MARGIN_NS / 1e9 + 0.02)
        assert "2 unchanged" in self.ukws("sync", "-l")
        assert self.proved() == 2

    def proved(self) -> int | None:
        return noop.check(self.root, os.environ)

    def repo(self, path: str) -> pygit2.Repository:
        return pygit2.Repository(str(self.root / path))


def _make(tmp_path: Path, extra: str = "") -> Ws:
    srv = tmp_path / "srv"
    serve_projects(srv, ("core", "lib-a"))
    manifest = tmp_path / "m.xml"
    manifest.write_text(MANIFEST.format(fetch=file_url(srv), extra=extra))
    ws = Ws(tmp_path / "ws", srv, manifest)
    r = ws.runner.invoke(app, ["-C", str(tmp_path), "init", "-m", str(manifest), "ws"])
    assert r.exit_code == 0, r.stderr
    ws.ukws("sync")
    return ws


@pytest.fixture
def ws(tmp_path: Path) -> Ws:
    w = _make(tmp_path)
    w.settle()
    return w


def test_a_proved_noop_needs_neither_git_nor_the_manifest(ws: Ws) -> None:
    r = run_console(ws.root, "sync", "-l")
    assert r.code == 0
    assert r.stderr.startswith("sync: 2 projects in ") and r.stderr.endswith(": 2 unchanged\n")
    assert not {"pygit2", "lxml", "typer", "ukws.manifest", "ukws.sync.engine"} & r.modules
    r = run_console(ws.root, "-q", "sync", "-l")
    assert (r.code, r.stderr) == (0, "")
    assert "pygit2" not in r.modules
    # -v lists every project: the full sync does that.
    r = run_console(ws.root, "sync", "-l", "-v")
    assert r.code == 0 and "unchanged core (core)" in r.stderr.replace("  ", " ")
    assert "pygit2" in r.modules


def test_the_record_names_what_it_rests_on(ws: Ws) -> None:
    data = json.loads((ws.sync_dir / noop.RECORD).read_text())
    names = {name for name, _ in data["paths"]}
    git = ws.root / "core" / ".git"
    for expected in (
        ws.root / ".ukws" / "config.json",
        ws.manifest,
        git / "HEAD",
        git / "packed-refs",
        git / SYNCED_REF,
        git / "refs" / "remotes" / "origin" / "main",
        git / "refs" / "remotes" / "origin",
        ws.root / "lib-a" / ".git" / "refs" / "tags" / "RELEASE-0.1.0",
        ws.root / "README.core",
        ws.root / "core-src",
        ws.root / "core" / "README",
    ):
        assert str(expected) in names
    assert data["projects"] == 2


def test_a_moved_head_runs_the_sync_which_moves_it_back(ws: Ws) -> None:
    repo = ws.repo("core")
    target = str(repo.head.target)
    first = str(repo.revparse_single("HEAD~1").id)
    repo.reset(pygit2.Oid(hex=first), pygit2.enums.ResetMode.HARD)  # HEAD is detached: it moves
    assert ws.proved() is None
    assert "1 updated" in ws.ukws("sync", "-l")
    assert str(ws.repo("core").head.target) == target


def test_a_commit_on_the_detached_head_is_kept_by_the_full_sync(ws: Ws) -> None:
    repo = ws.repo("core")
    parent = repo.head.target
    tree = repo.index.write_tree()
    sig = pygit2.Signature("u", "u@example.org")
    repo.create_commit("HEAD", sig, sig, "mine", tree, [parent])
    assert ws.proved() is None
    assert "kept at refs/ukws/recovery/" in ws.ukws("sync", "-l")


@pytest.mark.parametrize("how", ["rename", "in place"])
def test_a_fetched_branch_runs_the_sync_which_checks_it_out(ws: Ws, how: str) -> None:
    local = ws.repo("core")
    # A commit as a fetch would bring it: the object first, the remote-tracking ref next.
    sig = pygit2.Signature("u", "u@example.org")
    new = str(local.create_commit(None, sig, sig, "upstream", local.head.peel(pygit2.Commit).tree.id,
                                  [local.head.target]))  # fmt: skip
    time.sleep(noop.MARGIN_NS / 1e9)
    assert ws.proved() == 2  # new objects alone change nothing a sync -l decides on
    ref = ws.root / "core" / ".git" / "refs" / "remotes" / "origin" / "main"
    if how == "rename":
        local.references["refs/remotes/origin/main"].set_target(new)
    else:  # same size, same inode, same folder: only the file's own times change
        with open(ref, "r+") as f:
            f.write(new + "\n")
    assert ws.proved() is None
    assert "1 updated" in ws.ukws("sync", "-l")
    assert str(ws.repo("core").head.target) == new


def test_packed_refs_change_the_proof(ws: Ws) -> None:
    ws.repo("lib-a").compress_references()
    assert ws.proved() is None


@pytest.mark.parametrize("what", ["manifest", "local manifest", "lock", "config", "user config"])
def test_what_the_manifest_comes_from_changes_the_proof(ws: Ws, what: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    if what == "manifest":
        ws.manifest.write_text(ws.manifest.read_text().replace('revision="main"', 'revision="main" sync-j="2"'))
    elif what == "local manifest":
        local = ws.root / ".ukws" / "local_manifests"
        local.mkdir(exist_ok=True)
        (local / "x.xml").write_text('<manifest><remove-project name="lib-a"/></manifest>\n')
    elif what == "lock":
        (ws.root / ".ukws" / "lock.xml").write_text("<lock/>\n")
    elif what == "config":
        path = ws.root / ".ukws" / "config.json"
        path.write_text(path.read_text())
    else:
        config = user_config_path(os.environ)
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
        assert user_config_path(os.environ) != config
    assert ws.proved() is None


def test_copy_and_link_files_change_the_proof_and_the_sync_restores_them(ws: Ws) -> None:
    (ws.root / "README.core").unlink()
    assert ws.proved() is None
    ws.ukws("sync", "-l")
    assert (ws.root / "README.core").read_text() == (ws.root / "core" / "README").read_text()
    ws.settle()
    (ws.root / "core" / "README").write_text("edited\n")
    assert ws.proved() is None
    ws.ukws("sync", "-l")
    assert (ws.root / "README.core").read_text() == "edited\n"
    ws.settle()
    (ws.root / "core-src").unlink()
    assert ws.proved() is None


def test_a_missing_project_a_journal_or_scratch_left_behind_change_the_proof(ws: Ws) -> None:
    journal = ws.sync_dir / "journal"
    journal.mkdir(exist_ok=True)
    (journal / "x.json").write_text("{}")
    assert ws.proved() is None
    (journal / "x.json").unlink()
    ws.settle()
    (ws.sync_dir / "tmp").mkdir()
    assert ws.proved() == 2  # an empty scratch folder holds nothing to clean up
    (ws.sync_dir / "tmp" / "half-built-clone").mkdir()
    assert ws.proved() is None
    ws.settle()
    (ws.sync_dir / "trash" / "half-deleted").mkdir(parents=True)
    assert ws.proved() is None
    ws.settle()
    (ws.root / "lib-a").rename(ws.root / "lib-a.moved")
    assert ws.proved() is None


def test_a_sync_holding_the_workspace_means_no_proof(ws: Ws) -> None:
    fd = os.open(ws.sync_dir / "lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert ws.proved() is None
    finally:
        os.close(fd)
    assert ws.proved() == 2


def test_a_damaged_foreign_or_too_recent_record_proves_nothing(ws: Ws) -> None:
    path = ws.sync_dir / noop.RECORD
    good = path.read_text()
    for bad in ("{", "[]", json.dumps({**json.loads(good), "format": 0}),
                json.dumps({**json.loads(good), "identity": {"ukws": "0"}})):  # fmt: skip
        path.write_text(bad)
        time.sleep(noop.MARGIN_NS / 1e9)
        assert ws.proved() is None
    # A time within the margin of the record's own: a later change may not have moved it.
    data = json.loads(good)
    path.write_text(good)
    written = path.stat().st_mtime_ns
    for entry in data["paths"]:
        if entry[1] is not None:
            entry[1][4] = written
    path.write_text(json.dumps(data))
    os.utime(path, ns=(written, written))
    assert ws.proved() is None


def test_a_sync_that_fetched_nothing_new_records_too(ws: Ws) -> None:
    (ws.sync_dir / noop.RECORD).unlink()
    assert "2 unchanged" in ws.ukws("sync")  # it fetched, and every project stayed where it was
    assert ws.proved() == 2


def test_a_sync_that_changes_anything_forgets_the_record(ws: Ws) -> None:
    commit(pygit2.Repository(str(ws.srv / "core")), {"README": "core 9\n"}, "core: 9")
    assert "1 updated" in ws.ukws("sync")
    assert not (ws.sync_dir / noop.RECORD).exists()
    ws.settle()
    ws.ukws("sync", "-l", "core")  # some projects only
    assert not (ws.sync_dir / noop.RECORD).exists()
    ws.settle()
    ws.ukws("sync", "-n")  # nothing checked out
    assert not (ws.sync_dir / noop.RECORD).exists()


def test_nothing_is_recorded_when_the_sync_has_something_to_say(tmp_path: Path) -> None:
    w = _make(tmp_path, extra='<superproject name="super" remote="origin"/>')
    time.sleep(noop.MARGIN_NS / 1e9)
    assert "note:" in w.ukws("sync", "-l")
    assert not (w.sync_dir / noop.RECORD).exists()
    repo = w.repo("core")
    repo.checkout(repo.branches.local.create("work", repo.head.peel(pygit2.Commit)))
    sig = pygit2.Signature("u", "u@example.org")
    repo.create_commit("HEAD", sig, sig, "mine", repo.index.write_tree(), [repo.head.target])
    assert "ahead" in w.runner.invoke(app, ["-C", str(w.root), "-v", "sync", "-l"]).stderr
    assert not (w.sync_dir / noop.RECORD).exists()


def test_the_record_is_where_the_engine_and_the_workspace_keep_sync_state() -> None:
    assert noop.SYNC_DIR == (workspace.DOT, workspace.STATE_DIR, "sync")


def test_a_sync_that_needs_no_network_is_answered_from_the_record_too(tmp_path: Path) -> None:
    w = _make(tmp_path)
    w.settle()
    assert noop.check(w.root, os.environ, local=False) is None  # core follows a branch: a sync fetches it
    sha = str(w.repo("core").head.target)
    w.manifest.write_text(w.manifest.read_text().replace('path="core">', f'path="core" revision="{sha}">'))
    w.settle()
    assert noop.check(w.root, os.environ, local=False) == 2  # a commit and a tag, both here
    r = run_console(w.root, "sync", "-j", "2")
    assert r.code == 0 and r.stderr.endswith(": 2 unchanged\n")
    assert "pygit2" not in r.modules


def test_nothing_is_recorded_when_what_the_run_read_changed_while_it_ran(ws: Ws) -> None:
    manifest = workspace.load_workspace_manifest(workspace.find_workspace(ws.root))
    arguments = {"root": ws.root, "manifest": manifest, "pins": {}, "inputs": [ws.manifest],
                 "manifest_repository": False}  # fmt: skip
    before = time.time_ns()
    assert noop.record(ws.sync_dir, os.environ, since_ns=before, **arguments)  # type: ignore[arg-type]
    # The manifest edited after the run started: the run did not see what the record would hold.
    time.sleep(noop.MARGIN_NS / 1e9)
    started = time.time_ns()
    ws.manifest.write_text(ws.manifest.read_text() + "\n")
    (ws.sync_dir / noop.RECORD).unlink()
    assert not noop.record(ws.sync_dir, os.environ, since_ns=started, **arguments)  # type: ignore[arg-type]
    assert not (ws.sync_dir / noop.RECORD).exists()
