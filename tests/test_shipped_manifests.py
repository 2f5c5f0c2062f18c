"""The manifests ukws ships load, name real upstream remotes and tags, and carry valid patches."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.manifestutil import assert_repo_vocabulary
from ukws.manifest import Role, load
from ukws.manifest.revision import RevisionKind, revision_kind
from ukws.shipped import find_manifest, shipped_dir

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = [*sorted((ROOT / "manifests").glob("*.xml")), ROOT / "default.xml"]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_manifest_is_valid_and_pinned_to_tags(path: Path) -> None:
    m = load(path)
    assert m.by_role(Role.CORE), "every shipped manifest has the Unikraft core"
    apps = m.by_role(Role.APPLICATION)
    assert len(apps) == 1 and apps[0].app is not None and apps[0].app.targets
    for p in m.projects:
        # Written as refs/tags/... so that Google repo resolves them as tags too.
        assert revision_kind(p.revision) is RevisionKind.TAG, p.name
        assert p.fetch_url.startswith(("https://github.com/unikraft/", "https://xenbits.xen.org/git-http/"))
    for patch in apps[0].app.patches:
        data = (path.parent / patch.path).read_bytes()  # relative to the top-level file
        assert hashlib.sha256(data).hexdigest() == patch.sha256, patch.path
    for target in apps[0].app.targets:
        if target.defconfig:
            assert (path.parent / target.defconfig).is_file(), target.defconfig


def test_xenstore_manifest_has_core_newlib_pthread_and_xen() -> None:
    m = load(ROOT / "manifests" / "xenstore.xml")
    names = {p.name: p for p in m.projects}
    assert {"unikraft", "lib-newlib", "lib-pthread-embedded", "xen.git"} <= set(names)
    for lib in ("unikraft", "lib-newlib", "lib-pthread-embedded"):
        assert names[lib].revision == "refs/tags/RELEASE-0.13.1"
    xen = names["xen.git"]
    assert xen.app is not None and xen.app.subdir == "tools/xenstored"
    assert xen.revision.startswith("refs/tags/RELEASE-4.")


def test_default_manifest_is_the_xenstore_manifest() -> None:
    default, xenstore = load(ROOT / "default.xml"), load(ROOT / "manifests" / "xenstore.xml")
    strip = [(p.name, p.path, p.revision, p.fetch_url) for p in default.projects]
    assert strip == [(p.name, p.path, p.revision, p.fetch_url) for p in xenstore.projects]


def test_shipped_manifests_are_found_by_name(tmp_path: Path) -> None:
    assert shipped_dir().is_dir()
    for name in ("xenstore", "xenstore.xml", "helloworld.xml", "qemu-stubdom", "default.xml"):
        found = find_manifest(name, tmp_path)
        assert found is not None and found.is_file(), name
    assert find_manifest("no-such-manifest", tmp_path) is None
    own = tmp_path / "xenstore.xml"
    own.write_text("<manifest/>")
    assert find_manifest("xenstore.xml", tmp_path) == own, "a file in the current folder wins"


def test_workspace_from_shipped_manifest_finds_its_patches(tmp_path: Path) -> None:
    """Patch and defconfig paths are relative to the file they are written in, so they resolve in
    ukws's tree, in an installed wheel, and in a workspace's copy of the shipped manifests alike."""
    from typer.testing import CliRunner

    from ukws import workspace
    from ukws.cli import app

    for name in ("default", "xenstore"):
        ws = tmp_path / name
        r = CliRunner().invoke(app, ["-C", str(tmp_path), "init", "-m", name, name], catch_exceptions=False)
        assert r.exit_code == 0, r.stderr
        opened = workspace.open_workspace(ws)
        m = workspace.load_workspace_manifest(opened, groups="all")
        (app_project,) = m.by_role(Role.APPLICATION)
        assert app_project.app is not None
        base = opened.manifest_path.parent
        for patch in app_project.app.patches:
            assert hashlib.sha256((base / patch.path).read_bytes()).hexdigest() == patch.sha256
        for target in app_project.app.targets:
            assert target.defconfig is None or (base / target.defconfig).is_file()


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_manifest_uses_only_repo_vocabulary_or_x_prefix(path: Path) -> None:
    assert_repo_vocabulary(path.read_bytes())
