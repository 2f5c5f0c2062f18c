"""A small release world for snapshot tests: served repositories, a manifest with an application
patch series and a defconfig, a workspace synced and locked, the series applied by ``ukws patch-app``,
and the records ``ukws fetch`` leaves (written here by hand, in their format)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import pygit2
from typer.testing import CliRunner, Result

from tests.gitutil import commit, init_repo, tag
from ukws.cli import app
from ukws.lock import Lock, LockedBuild, LockedProject, write_lock
from ukws.workspace import load_workspace_manifest, open_workspace

APP_MAKEFILE = b"UK_ROOT ?= $(PWD)/../../unikraft\nLIBS :=\nCFLAGS = -O2\n"
ADDED_FILE = "support/ukws.mk"
ADDED = b"UKWS_CFLAGS = -DUKWS\n"
PATCH = (
    b"--- a/Makefile\n+++ b/Makefile\n@@ -1,3 +1,3 @@\n UK_ROOT ?= $(PWD)/../../unikraft\n LIBS :=\n"
    b"-CFLAGS = -O2\n+CFLAGS = -O2 -DUKWS\n"
    b"--- /dev/null\n+++ b/support/ukws.mk\n@@ -0,0 +1 @@\n+UKWS_CFLAGS = -DUKWS\n"
)
PATCHED_MAKEFILE = (
    b"UK_ROOT ?= $(abspath $(CURDIR)/../../unikraft)\nLIBS := $(abspath $(CURDIR)/../../libs/a)\n"
    b"CFLAGS = -O2 -DUKWS\n"
)
"""The series applied, then the Makefile pointed at the workspace by ``ukws patch-app``."""
ORIGIN = b"origin archive bytes\n" * 100


def ukws(cwd: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["-C", str(cwd), *args], catch_exceptions=False)


def blob_id(data: bytes) -> str:
    return str(pygit2.hash(data))


@dataclass(frozen=True, slots=True, kw_only=True)
class World:
    served: Path
    """Bare repositories ``core``, ``lib-a``, ``app``."""
    manifest: Path
    """``uk.xml`` with ``patches/`` and ``defconfigs/`` beside it."""
    heads: dict[str, str]


def serve(root: Path, base_url: str) -> World:
    """The repositories under ``root`` (served at ``base_url``) and a manifest naming them."""
    heads: dict[str, str] = {}
    core = init_repo(root / "core", bare=True)
    commit(core, {"Makefile": "all:\n", "Config.uk": "# core\n"}, "core: first")
    heads["core"] = commit(core, {"lib/ukboot/boot.c": "int boot;\n", "support/run.sh": "#!/bin/sh\n"}, "core: boot")
    tree_with_extras(core)
    heads["core"] = str(core.references["refs/heads/main"].target)
    tag(core, "RELEASE-0.1.0", heads["core"])
    lib = init_repo(root / "lib-a", bare=True)
    heads["lib-a"] = commit(lib, {"Config.uk": "config LIBA\n\tbool\n", "Makefile.uk": "$(eval $(call addlib,liba))\n"})
    application = init_repo(root / "app", bare=True)
    heads["app"] = commit(application, {"Makefile": APP_MAKEFILE.decode(), "main.c": "int main(void) { return 0; }\n"})
    folder = root / "release"
    (folder / "patches").mkdir(parents=True)
    (folder / "defconfigs").mkdir()
    (folder / "patches" / "0001-build.patch").write_bytes(PATCH)
    (folder / "defconfigs" / "kvm.cfg").write_text("CONFIG_PLAT_KVM=y\n")
    sha = hashlib.sha256(PATCH).hexdigest()
    manifest = folder / "uk.xml"
    manifest.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<manifest>\n'
        f'  <remote name="origin" fetch="{base_url}"/>\n'
        '  <default remote="origin" revision="main"/>\n'
        '  <project name="core" path="unikraft" x-role="core"/>\n'
        '  <project name="lib-a" path="libs/a" x-role="library"/>\n'
        '  <project name="app" path="apps/app" x-role="application">\n'
        f'    <x-app libraries="lib-a"><x-patch path="patches/0001-build.patch" sha256="{sha}"/>'
        '<x-target plat="kvm" arch="x86_64" defconfig="defconfigs/kvm.cfg"/></x-app>\n'
        "  </project>\n</manifest>\n",
        encoding="utf-8",
    )
    return World(served=root, manifest=manifest, heads=heads)


def tree_with_extras(repo: pygit2.Repository) -> None:
    """An executable, a symlink and a submodule entry on ``main`` (what the archive must normalise)."""
    parent = repo[repo.references["refs/heads/main"].target]
    assert isinstance(parent, pygit2.Commit)
    index = pygit2.Index()
    index.read_tree(parent.tree)
    run = repo.create_blob(b"#!/bin/sh\necho run\n")
    index.add(pygit2.IndexEntry("support/run.sh", run, pygit2.enums.FileMode.BLOB_EXECUTABLE))
    index.add(pygit2.IndexEntry("support/latest", repo.create_blob(b"run.sh"), pygit2.enums.FileMode.LINK))
    index.add(pygit2.IndexEntry("ext/sub", pygit2.Oid(hex="1" * 40), pygit2.enums.FileMode.COMMIT))
    tree = index.write_tree(repo)
    sig = pygit2.Signature("ukws test", "test@ukws.invalid", 1_704_067_300, 0)
    oid = repo.create_commit(None, sig, sig, "core: tools", tree, [parent.id])
    repo.references.create("refs/heads/main", oid, force=True)


def lock_workspace(ws: Path, heads: dict[str, str]) -> None:
    """Write the lock as ``ukws resolve`` would: every project at ``heads``, upstream main."""
    w = open_workspace(ws)
    m = load_workspace_manifest(w)
    names = {"unikraft": "core", "libs/a": "lib-a", "apps/app": "app"}
    projects = tuple(
        LockedProject(name=p.name, path=p.path, revision=heads[names[p.path]], upstream="main",
                      version="0.1.0" if p.name == "core" else None)
        for p in m.projects
    )  # fmt: skip
    write_lock(w.lock_path, m, Lock(projects=projects, builds=(LockedBuild(app="app", libraries=("libs/a",)),)))


def apply_series(ws: Path) -> None:
    """``ukws patch-app``: the series applied to the application, its Makefile pointed, the record left."""
    r = ukws(ws, "patch-app")
    assert r.exit_code == 0, r.stderr


def add_origin(ws: Path, data: bytes = ORIGIN, *, cached: bool = True) -> str:
    """An origin archive ``ukws fetch`` recorded for app's kvm-x86_64 target (and cached)."""
    sha = hashlib.sha256(data).hexdigest()
    url = "https://example.org/dist/liba-1.0.tar.gz"
    origins = ws / ".ukws" / "origins"
    origins.mkdir(parents=True, exist_ok=True)
    if cached:
        (origins / sha).write_bytes(data)
    index = {"version": 1, "urls": {url: {"sha256": sha, "name": "liba-1.0.tar.gz", "size": len(data)}}}
    (origins / "index.json").write_text(json.dumps(index))
    needs = {"version": 1, "targets": {"app/kvm-x86_64": [
        {"library": "liba", "url": url, "file": "liba-1.0.tar.gz", "sha256": sha},
    ]}}  # fmt: skip
    (ws / ".ukws" / "state" / "origins").mkdir(parents=True, exist_ok=True)
    (ws / ".ukws" / "state" / "origins" / "needs.json").write_text(json.dumps(needs))
    return sha


def make_workspace(parent: Path, world: World, name: str = "ws") -> Path:
    """A workspace on ``world``'s manifest, synced, locked, the series applied."""
    r = ukws(parent, "init", "-m", str(world.manifest), name)
    assert r.exit_code == 0, r.stderr
    ws = parent / name
    lock_workspace(ws, world.heads)
    r = ukws(ws, "sync")
    assert r.exit_code == 0, r.stderr
    apply_series(ws)
    return ws
