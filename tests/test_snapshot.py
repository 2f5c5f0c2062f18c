"""``ukws snapshot``, ``verify`` and ``diff-snapshots`` end to end over smart HTTP: byte-identical
archives from two workspaces made under different conditions, every refusal with its message,
tampering caught, sync from a snapshot, and the commits between two snapshots."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pygit2
import pytest

from tests.gitutil import commit
from tests.manifestutil import assert_repo_vocabulary
from tests.servers import GitServer, serve_http
from tests.snapshotutil import (
    ADDED,
    ADDED_FILE,
    APP_MAKEFILE,
    PATCHED_MAKEFILE,
    World,
    add_origin,
    apply_series,
    lock_workspace,
    make_workspace,
    serve,
    ukws,
)
from ukws import __version__, git


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitServer]:
    with serve_http(tmp_path_factory.mktemp("served")) as s:
        yield s


@pytest.fixture(scope="module")
def world(server: GitServer) -> World:
    return serve(server.root, server.base_url)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def members(archive: Path) -> list[tarfile.TarInfo]:
    with tarfile.open(archive, "r:gz") as tar:
        return tar.getmembers()


def test_two_workspaces_under_different_conditions_give_one_archive(
    tmp_path: Path, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws1 = make_workspace(tmp_path, world, "first")
    add_origin(ws1)
    snap = tmp_path / "out" / "release.xml"
    r = ukws(ws1, "snapshot", "-o", str(snap), "--archive", str(tmp_path / "a1.tar.gz"), "--with-origins")
    assert r.exit_code == 0, r.stderr
    assert f"wrote {snap} (3 projects)" in r.stderr
    data = snap.read_bytes()
    assert_repo_vocabulary(data)
    text = data.decode()
    assert f'ukws-version="{__version__}"' in text
    assert f'revision="{world.heads["core"]}"' in text and 'upstream="main"' in text
    assert 'x-version="==0.1.0"' in text and '<x-build app="app" libraries="libs/a"/>' in text
    assert '<x-file path="patches/0001-build.patch"' in text and 'path="defconfigs/kvm.cfg"' in text
    assert 'library="liba" url="https://example.org/dist/liba-1.0.tar.gz"' in text
    assert "apps/app/support" not in text  # the working tree is not what is recorded
    r = ukws(ws1, "snapshot")
    assert r.stdout.encode() == data, "the same state writes the same bytes (stdout without -o)"

    # Another workspace from the snapshot alone: other umask, time zone, locale, clone depth, folder.
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    monkeypatch.setenv("LC_ALL", "C")
    old = os.umask(0o077)
    try:
        r = ukws(tmp_path, "init", "-m", str(snap), "--depth", "1", "second-workspace-at-a-longer-path")
        assert r.exit_code == 0, r.stderr
        ws2 = tmp_path / "second-workspace-at-a-longer-path"
        r = ukws(ws2, "sync")
        assert r.exit_code == 0, r.stderr
        assert pygit2.Repository(str(ws2 / "unikraft")).head.target == pygit2.Oid(hex=world.heads["core"])
        assert (ws2 / "unikraft" / ".git" / "shallow").is_file(), "cloned with one commit of history"
        assert (ws2 / ".ukws" / "manifests" / "patches" / "0001-build.patch").is_file()
        apply_series(ws2)
        add_origin(ws2)
        r = ukws(ws2, "snapshot", "-o", str(tmp_path / "again.xml"), "--archive", str(tmp_path / "a2.tar.gz"),
                 "--with-origins")  # fmt: skip
        assert r.exit_code == 0, r.stderr
    finally:
        os.umask(old)
    assert (tmp_path / "again.xml").read_bytes() == data, "a snapshot of a snapshot's workspace is the snapshot"
    assert sha256(tmp_path / "a1.tar.gz") == sha256(tmp_path / "a2.tar.gz")

    # What the archive holds: normalised headers, sorted, the series applied, sources from git.
    got = members(tmp_path / "a1.tar.gz")
    names = [m.name for m in got]
    assert names == sorted(names, key=str.encode)
    assert names[0] == ".ukws" and "snapshot.xml" in names
    assert {m.uid for m in got} == {0} and {m.uname for m in got} == {""} and len({m.mtime for m in got}) == 1
    by_name = {m.name: m for m in got}
    assert by_name["unikraft/support/run.sh"].mode == 0o755 and by_name["unikraft/Makefile"].mode == 0o644
    assert by_name["unikraft/support/latest"].issym() and by_name["unikraft/support/latest"].linkname == "run.sh"
    assert by_name["unikraft/ext/sub"].isdir() and by_name["unikraft/ext/sub"].pax_headers["UKWS.gitlink"] == "1" * 40
    with tarfile.open(tmp_path / "a1.tar.gz", "r:gz") as tar:
        def read(name: str) -> bytes:
            f = tar.extractfile(name)
            assert f is not None
            return f.read()

        assert read("apps/app/Makefile") == PATCHED_MAKEFILE
        assert read(f"apps/app/{ADDED_FILE}") == ADDED
        assert read("snapshot.xml") == data
        index = json.loads(read(".ukws/origins/index.json"))
        assert list(index["urls"]) == ["https://example.org/dist/liba-1.0.tar.gz"]
    raw = (tmp_path / "a1.tar.gz").read_bytes()
    assert raw[3] & 0x08 == 0 and raw[4:8] == b"\0\0\0\0", "gzip header: no file name, no time"

    # verify: both workspaces and the archive match; SOURCE_DATE_EPOCH moves only the mtime.
    assert ukws(ws1, "verify", str(snap)).exit_code == 0
    assert ukws(ws2, "verify").exit_code == 0, "default: the workspace's own snapshot"
    r = ukws(ws1, "verify", str(snap), "--archive", str(tmp_path / "a1.tar.gz"))
    assert r.exit_code == 0, r.stdout + r.stderr
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1000000000")
    r = ukws(ws1, "snapshot", "-o", str(snap), "--archive", str(tmp_path / "a3.tar.gz"), "--json")
    assert json.loads(r.stdout)["archive"]["mtime"] == 1000000000
    assert {m.mtime for m in members(tmp_path / "a3.tar.gz")} == {1000000000}


def _retar(src: Path, dest: Path, change: str) -> None:
    """``src`` with one byte of member ``change`` altered, written with the same normalisation."""
    with tarfile.open(src, "r:gz") as tar, gzip.GzipFile(dest, "wb", mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w|", format=tarfile.PAX_FORMAT) as out:
        for m in tar.getmembers():
            f = tar.extractfile(m) if m.isfile() else None
            data = f.read() if f is not None else b""
            if m.name == change:
                data = data[:-1] + bytes([data[-1] ^ 1])
            out.addfile(m, io.BytesIO(data) if m.isfile() else None)


def test_verify_lists_tampering_and_a_moved_project(tmp_path: Path, world: World) -> None:
    ws = make_workspace(tmp_path, world)
    snap, archive = tmp_path / "s.xml", tmp_path / "a.tar.gz"
    assert ukws(ws, "snapshot", "-o", str(snap), "--archive", str(archive)).exit_code == 0
    tampered = tmp_path / "t.tar.gz"
    _retar(archive, tampered, "libs/a/Config.uk")
    r = ukws(ws, "verify", str(snap), "--archive", str(tampered))
    assert r.exit_code == 1
    assert r.stdout == "libs/a/Config.uk: differs (content)\n"

    (ws / "libs" / "a").rename(ws / "libs" / "moved")
    (ws / "unikraft" / "Makefile").write_text("changed\n")
    r = ukws(ws, "verify", str(snap), "--json")
    assert r.exit_code == 1
    kinds = {(d["subject"], d["kind"]) for d in json.loads(r.stdout)["differences"]}
    assert kinds == {("lib-a (libs/a)", "missing"), ("core (unikraft)", "dirty")}


def test_refusals_name_the_project_and_allow_dirty_says_what_it_recorded(tmp_path: Path, world: World) -> None:
    ws = make_workspace(tmp_path, world)
    out = tmp_path / "s.xml"

    # A commit no remote branch or tag has.
    lib = pygit2.Repository(str(ws / "libs" / "a"))
    local = commit(lib, {"local.c": "int local;\n"}, "local work", branch="work")
    lib.checkout("refs/heads/work")
    heads = {**world.heads, "lib-a": local}
    lock_workspace(ws, heads)
    r = ukws(ws, "snapshot", "-o", str(out))
    assert r.exit_code == 1 and not out.exists()
    assert r.stderr.splitlines() == [
        f"ukws: lib-a (libs/a): commit {local[:12]} is on no branch or tag of its remote (not pushed); "
        "push it and sync, or pin a pushed commit",
        "ukws: nothing written; fix the above, or record it anyway with --allow-dirty",
    ]
    lock_workspace(ws, world.heads)
    git.checkout(lib, world.heads["lib-a"])  # back at the pin, detached; the local work stays on its branch

    # A dirty tree, an unapplied series, a missing origin: all reported together.
    (ws / "unikraft" / "Makefile").write_text("edited\n")
    (ws / ".ukws" / "state" / "patches" / "app.json").unlink()
    (ws / "apps" / "app" / "Makefile").write_bytes(APP_MAKEFILE)
    shutil.rmtree(ws / "apps" / "app" / "support")
    sha = add_origin(ws, cached=False)
    r = ukws(ws, "snapshot", "-o", str(out))
    assert r.exit_code == 1 and not out.exists()
    assert r.stderr.splitlines() == [
        "ukws: core (unikraft): 1 changed or untracked file(s) (Makefile); commit, push and resolve them, "
        "or move them away",
        "ukws: app (apps/app): its patch series (1 patch(es)) is not applied; run 'ukws patch-app'",
        f"ukws: app/kvm-x86_64: origin archive liba-1.0.tar.gz of liba (sha256 {sha[:12]}) is not in the cache; "
        "run 'ukws fetch'",
        "ukws: nothing written; fix the above, or record it anyway with --allow-dirty",
    ]
    r = ukws(ws, "snapshot", "-o", str(out), "--allow-dirty", "--archive", str(tmp_path / "a.tar.gz"))
    assert r.exit_code == 0, r.stderr
    warnings = [line for line in r.stderr.splitlines() if line.startswith("ukws: warning: ")]
    assert len(warnings) == 3
    assert "the snapshot has commit" in warnings[0]
    assert "<x-caveat>" in out.read_text()
    with tarfile.open(tmp_path / "a.tar.gz", "r:gz") as tar:
        f = tar.extractfile("apps/app/Makefile")
        assert f is not None and f.read() == PATCHED_MAKEFILE, "the archive applies the series from the snapshot"


def test_diff_snapshots_lists_the_commits_between_pins(tmp_path: Path, world: World, server: GitServer) -> None:
    ws = make_workspace(tmp_path, world)
    a = tmp_path / "a.xml"
    assert ukws(ws, "snapshot", "-o", str(a)).exit_code == 0
    core = pygit2.Repository(str(server.root / "core"))
    core.references.create("refs/heads/later", core.references["refs/heads/main"].target)
    first = commit(core, {"NEWS": "one\n"}, "core: news one", branch="later")
    second = commit(core, {"NEWS": "two\n"}, "core: news two", branch="later")
    assert ukws(ws, "sync", "-n").exit_code == 0
    lock_workspace(ws, {**world.heads, "core": second})
    assert ukws(ws, "sync").exit_code == 0
    b = tmp_path / "b.xml"
    assert ukws(ws, "snapshot", "-o", str(b)).exit_code == 0
    r = ukws(ws, "diff-snapshots", str(a), str(b))
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines() == [
        "changed:",
        f"  core (unikraft): {world.heads['core'][:12]} (0.1.0) -> {second[:12]} (0.1.0)",
        f"    + {second[:12]} core: news two",
        f"    + {first[:12]} core: news one",
    ]
    data = json.loads(ukws(tmp_path, "diff-snapshots", str(b), str(a), "--json").stdout)
    (change,) = data["changed"]
    assert change["added"] is None, "outside a workspace: no commits listed"
    assert ukws(ws, "diff-snapshots", str(a), str(a)).stderr.endswith("same projects, files and origins\n")


def test_no_lock_and_floating_revisions_is_refused(tmp_path: Path, world: World) -> None:
    assert ukws(tmp_path, "init", "-m", str(world.manifest), "ws").exit_code == 0
    r = ukws(tmp_path / "ws", "snapshot")
    assert r.exit_code == 1
    assert r.stderr.endswith("no lock, and core (unikraft) follows main; run 'ukws resolve' (and 'ukws sync') first\n")


def test_one_byte_anywhere_changes_the_archive(tmp_path: Path, world: World) -> None:
    from ukws.snapshot.archive import ArchiveOrigin, ArchiveProject, plan, write_archive

    ws = make_workspace(tmp_path, world)
    lib = pygit2.Repository(str(ws / "libs" / "a"))
    changed = commit(lib, {"Config.uk": "config LIBA\n\tbool\n "}, "one more byte", branch="side")
    origin = tmp_path / "origin"
    origin.write_bytes(b"x" * 1000)
    other = tmp_path / "other"
    other.write_bytes(b"x" * 999 + b"y")

    def digest(name: str, *, lib_commit: str = world.heads["lib-a"], patched: bytes = PATCHED_MAKEFILE,
               origin_file: Path = origin) -> str:
        projects = (
            ArchiveProject(path="libs/a", repo=ws / "libs" / "a", commit=lib_commit),
            ArchiveProject(path="apps/app", repo=ws / "apps" / "app", commit=world.heads["app"],
                           overlay={"Makefile": patched, "main.c": None}),
        )  # fmt: skip
        origins = (ArchiveOrigin(sha256="0" * 64, file="o.tar.gz", url="https://example.org/o.tar.gz",
                                 source=origin_file),)  # fmt: skip
        found, _repos = plan(snapshot_bytes=b"<manifest/>\n", projects=projects, origins=origins)
        return write_archive(tmp_path / f"{name}.tar.gz", found, mtime=1).sha256

    base = digest("base")
    assert digest("again") == base
    variants = {
        digest("project", lib_commit=changed),
        digest("patch", patched=PATCHED_MAKEFILE[:-1] + b" \n"),
        digest("origin", origin_file=other),
    }
    assert base not in variants and len(variants) == 3
    names = [m.name for m in members(tmp_path / "base.tar.gz")]
    assert "apps/app/main.c" not in names and "apps/app/Makefile" in names


def test_the_patch_app_record_decides_what_is_refused(tmp_path: Path, world: World) -> None:
    ws = make_workspace(tmp_path, world)
    out = tmp_path / "s.xml"
    record_path = ws / ".ukws" / "state" / "patches" / "app.json"
    record = json.loads(record_path.read_text())
    assert record["makefile"] == "Makefile" and set(record["files"]) == {"Makefile", ADDED_FILE}
    assert ukws(ws, "snapshot", "-o", str(out)).exit_code == 0, "patch-app's own record is accepted"
    pin = world.heads["app"][:12]

    # An edit on top of the applied series.
    added = ws / "apps" / "app" / ADDED_FILE
    added.write_bytes(ADDED + b"MORE = 1\n")
    r = ukws(ws, "snapshot", "-o", str(tmp_path / "edited.xml"))
    assert r.exit_code == 1
    assert r.stderr.splitlines()[0] == (
        f"ukws: app (apps/app): 1 changed or untracked file(s) ({ADDED_FILE}); commit, push and resolve them, "
        "or move them away"
    )
    added.write_bytes(ADDED)

    # Another series applied (here: none, the Makefile edit alone).
    record_path.write_text(json.dumps({**record, "patches": []}))
    r = ukws(ws, "snapshot", "-o", str(tmp_path / "other.xml"))
    assert r.exit_code == 1
    assert r.stderr.splitlines()[0] == (
        f"ukws: app (apps/app): the applied patch series (0 patch(es) on {pin}) is not the manifest's "
        f"(1 on {pin}); run 'ukws patch-app' again"
    )
    record_path.write_text(json.dumps(record))

    # The lock's library order changed since patch-app pointed the Makefile.
    from ukws.lock import Lock, LockedBuild, read_lock, write_lock
    from ukws.workspace import load_workspace_manifest, open_workspace

    w = open_workspace(ws)
    lock = read_lock(w.lock_path)
    write_lock(w.lock_path, load_workspace_manifest(w),
               Lock(projects=lock.projects, builds=(LockedBuild(app="app", libraries=()),)))  # fmt: skip
    r = ukws(ws, "snapshot", "-o", str(tmp_path / "stale.xml"))
    assert r.exit_code == 1
    assert r.stderr.splitlines()[0] == (
        "ukws: app (apps/app): 'ukws patch-app' left Makefile otherwise than it makes them now; "
        "run 'ukws patch-app' again"
    )
    assert ukws(ws, "patch-app").exit_code == 0
    archive = tmp_path / "a.tar.gz"
    assert ukws(ws, "snapshot", "-o", str(out), "--archive", str(archive)).exit_code == 0
    with tarfile.open(archive, "r:gz") as tar:
        f = tar.extractfile("apps/app/Makefile")
        assert f is not None and f.read() == (ws / "apps" / "app" / "Makefile").read_bytes()
    assert b"LIBS :=\n" in (ws / "apps" / "app" / "Makefile").read_bytes()
    assert ukws(ws, "verify", str(out), "--archive", str(archive)).exit_code == 0


def test_a_damaged_record_is_an_error_naming_it(tmp_path: Path, world: World) -> None:
    # snapshot and verify read patch-app's and fetch's records with their readers: one message per file.
    ws = make_workspace(tmp_path, world)
    add_origin(ws)
    out = tmp_path / "s.xml"
    assert ukws(ws, "snapshot", "-o", str(out)).exit_code == 0
    record_path = ws / ".ukws" / "state" / "patches" / "app.json"
    needs_path = ws / ".ukws" / "state" / "origins" / "needs.json"
    record, needs = record_path.read_text(), needs_path.read_text()
    damaged = [
        (record_path, "[]", "not a valid patch-state record (a JSON list, not an object)"),
        (record_path, json.dumps({**json.loads(record), "makefile": "../Makefile"}),
         "not a valid patch-state record ('../Makefile': leads outside the project or into its .git folder)"),
        (needs_path, json.dumps({**json.loads(needs), "version": 2}),
         "not valid (not a version 1 list of needed origins); remove it and run 'ukws fetch'"),
        (needs_path, "[]", "not valid (not a version 1 list of needed origins)"),
    ]  # fmt: skip
    for path, text, message in damaged:
        path.write_text(text)
        commands: list[tuple[str, ...]] = [("snapshot", "-o", str(tmp_path / "damaged.xml"))]
        if path == record_path:  # verify reads the origins from the snapshot, not from needs.json
            commands.append(("verify", str(out)))
        for args in commands:
            r = ukws(ws, *args)
            assert r.exit_code == 1, (args, r.stdout)
            assert r.stderr.splitlines()[0].startswith(f"ukws: {path}: {message}"), (args, r.stderr)
        assert not (tmp_path / "damaged.xml").exists()
        record_path.write_text(record)
        needs_path.write_text(needs)
