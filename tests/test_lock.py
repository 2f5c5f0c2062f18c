"""The lock: canonical, atomic, a valid manifest; read back for sync; kept until --update."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.manifestutil import write_manifest
from tests.resolveutil import World, manifest_xml, shared_world
from ukws.errors import WorkspaceError
from ukws.lock import Lock, read_lock, render, write_lock
from ukws.manifest import Manifest, load
from ukws.resolve.plan import resolve_workspace

APP = 'revision="refs/tags/RELEASE-0.13.0"'


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return shared_world(tmp_path_factory)


def manifest(tmp_path: Path, core: str = 'x-version="&lt;0.14"') -> Manifest:
    return load(write_manifest(tmp_path / "m", manifest_xml(core=core, app=APP)))


def test_lock_round_trip_is_canonical_atomic_and_a_manifest(world: World, tmp_path: Path) -> None:
    root, shas = world
    m = manifest(tmp_path)
    res = resolve_workspace(root=root, manifest=m)
    path = tmp_path / "state" / "lock.xml"
    assert write_lock(path, m, res.lock()) is True
    assert write_lock(path, m, res.lock()) is False
    assert [p.name for p in path.parent.iterdir()] == ["lock.xml"]
    assert path.read_bytes() == render(m, resolve_workspace(root=root, manifest=m).lock())

    lock = read_lock(path)
    assert lock.pins["unikraft"] == shas["unikraft"]["0.13.1"]
    assert lock.pins["libs/c"] == shas["lib-c"]["0.12.0"]
    core = lock.project("unikraft")
    assert (core.version, core.upstream) == ("0.13.1", "refs/tags/RELEASE-0.13.1")
    assert lock.build("app-hello") is not None
    assert lock.builds[0].libraries == ("libs/c", "libs/b", "libs/a")
    assert lock.manifest_sha256 is not None and len(lock.manifest_sha256) == 64

    as_manifest = load(path)
    assert {p.path: p.revision for p in as_manifest.projects} == lock.pins
    assert as_manifest.project("unikraft").version == "==0.13.1"
    text = path.read_text()
    assert '<x-build app="app-hello" libraries="libs/c libs/b libs/a"/>' in text
    assert 'upstream="refs/tags/RELEASE-0.13.1"' in text


def test_lock_is_kept_until_updated(world: World, tmp_path: Path) -> None:
    root, shas = world
    path = tmp_path / "lock.xml"
    old = manifest(tmp_path)
    write_lock(path, old, resolve_workspace(root=root, manifest=old).lock())
    lock = read_lock(path)
    freed = manifest(tmp_path / "freed", core='x-version="&gt;=0.12"')

    kept = resolve_workspace(root=root, manifest=freed, lock=lock)
    assert kept.pin("unikraft").label == "0.13.1"
    assert kept.pin("unikraft").previous is None

    moved = resolve_workspace(root=root, manifest=freed, lock=lock, update=("unikraft",))
    assert moved.pin("unikraft").label == "0.14.0"
    assert moved.pin("unikraft").previous == shas["unikraft"]["0.13.1"]
    assert moved.pin("unikraft").previous_version == "0.13.1"
    assert moved.pin("lib-c").label == "0.14.0"  # lockstep follows the core

    everything = resolve_workspace(root=root, manifest=freed, lock=lock, update_all=True)
    assert everything.pin("lib-a").label == "0.14.0"


def test_update_of_an_unknown_project_is_an_error(world: World, tmp_path: Path) -> None:
    from ukws.errors import UsageError

    with pytest.raises(UsageError, match="--update nope: no such project in the manifest"):
        resolve_workspace(root=world[0], manifest=manifest(tmp_path), update=("nope",))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "<manifest>\n<project name='a'",
            r"lock\.xml:2: the lock is not well-formed XML; run 'ukws resolve' again",
        ),
        ("<other/>", r"lock\.xml:1: the lock's root element must be <manifest>"),
        (
            "<manifest>\n<project name='a' revision='main'/></manifest>",
            r"lock\.xml:2: every locked project needs a name and a full commit SHA as revision",
        ),
        ("<manifest><x-build libraries='a'/></manifest>", r"lock\.xml:1: <x-build> needs an app attribute"),
    ],
)
def test_bad_locks_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "lock.xml"
    path.write_text(text)
    with pytest.raises(WorkspaceError, match=message):
        read_lock(path)


def test_missing_lock_file(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="cannot read the lock"):
        read_lock(tmp_path / "absent.xml")


def test_nested_projects_get_full_names_and_paths(tmp_path: Path) -> None:
    sha = "a" * 40
    path = tmp_path / "lock.xml"
    path.write_text(
        f"<manifest><project name='outer' path='o' revision='{sha}'>"
        f"<project name='inner' path='in' revision='{sha}' x-version='==1.0.0'/></project></manifest>"
    )
    lock: Lock = read_lock(path)
    assert lock.pins == {"o": sha, "o/in": sha}
    assert lock.project("outer/inner").version == "1.0.0"
