"""``ukws patch-app`` end to end: a series applied, re-applied, checked, reverted, refused, interrupted,
carried through ``ukws sync``, and shown by ``ukws status`` and ``ukws diff``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pygit2
import pytest
from typer.testing import CliRunner, Result

from tests.gitutil import commit
from tests.patchutil import ADD_CONFIG, APP_FILES, MAKEFILE_UK, World, make_world, sha256
from ukws.cli import app

APP = "apps/hello"


def ukws(cwd: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["-C", str(cwd), *args], catch_exceptions=False)


def _workspace(tmp_path: Path, world: World) -> Path:
    assert ukws(tmp_path, "init", "-m", str(world.manifest), "ws").exit_code == 0
    ws = tmp_path / "ws"
    r = ukws(ws, "sync")
    assert r.exit_code == 0, r.stderr
    return ws


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(folder).parts
    }


def _status(ws: Path) -> dict[str, int]:
    return {k: int(v) for k, v in pygit2.Repository(str(ws / APP)).status().items()}


def test_apply_again_check_and_revert(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, make_world(tmp_path))
    pristine = _snapshot(ws / APP)

    r = ukws(ws, "patch-app", "--dry-run")
    assert r.exit_code == 0, r.stderr
    assert "would apply 2 patches" in r.stdout and "added    apps/hello/Config.uk" in r.stdout
    assert _snapshot(ws / APP) == pristine

    r = ukws(ws, "patch-app")
    assert r.exit_code == 0, r.stderr
    assert "app-hello (apps/hello): applied 2 patches at" in r.stdout
    assert "no resolved library order in the lock" in r.stderr  # no lock yet: stated libraries
    app_dir = ws / APP
    assert (app_dir / "Config.uk").read_text().startswith("config APPHELLO")
    assert (app_dir / "Makefile.uk").read_text().endswith("APPHELLO_CFLAGS-y += -DHELLO=1\n")
    assert "UK_ROOT ?= $(abspath $(CURDIR)/../../unikraft)\n" in (app_dir / "Makefile").read_text()
    assert "LIBS := $(UK_LIBS)/newlib\n" in (app_dir / "Makefile").read_text()

    record = json.loads((ws / ".ukws/state/patches/app-hello.json").read_text())
    repo = pygit2.Repository(str(app_dir))
    assert record["version"] == 1 and record["project"] == "app-hello" and record["path"] == APP
    assert record["base"] == str(repo.head.target)
    assert record["patches"] == [
        {"path": "patches/0001-config.patch", "sha256": sha256(ADD_CONFIG)},
        {"path": "patches/0002-cflags.patch", "sha256": record["patches"][1]["sha256"]},
    ]
    assert record["files"]["Config.uk"]["before"] is None
    assert record["files"]["Makefile.uk"]["before"] == str(repo.head.peel(pygit2.Commit).tree["Makefile.uk"].id)
    assert record["files"]["Makefile.uk"]["after"] == str(repo.hashfile("Makefile.uk"))
    assert set(record["files"]) == {"Config.uk", "Makefile", "Makefile.uk"}
    patched = _snapshot(app_dir)

    r = ukws(ws, "patch-app", "app-hello")
    assert (r.exit_code, "already applied (2 patches)" in r.stdout) == (0, True)
    assert _snapshot(app_dir) == patched

    r = ukws(ws, "patch-app", "--check", APP)
    assert r.exit_code == 0
    assert "  applied      patches/0001-config.patch\n  applied      patches/0002-cflags.patch\n" in r.stdout

    status = json.loads(ukws(ws, "status", "--json").stdout)
    hello = next(s for s in status if s["path"] == APP)
    assert hello["patch_series"]["added"] == ["Config.uk"]
    assert hello["patch_series"]["changed"] == ["Makefile", "Makefile.uk"]
    assert "patch series applied (2 patches; adds Config.uk)" in ukws(ws, "status").stdout
    diff = ukws(ws, "diff").stdout
    assert "+APPHELLO_CFLAGS-y += -DHELLO=1" in diff
    assert "# ukws patch-app: 2 patches applied; adds Config.uk" in diff

    r = ukws(ws, "patch-app", "--revert", "--dry-run")
    assert "would revert" in r.stdout and _snapshot(app_dir) == patched
    r = ukws(ws, "patch-app", "--revert")
    assert r.exit_code == 0, r.stderr
    assert "removed  apps/hello/Config.uk" in r.stdout
    assert _snapshot(app_dir) == pristine
    assert _status(ws) == {}
    assert not (ws / ".ukws/state/patches/app-hello.json").exists()
    assert "no series applied" in ukws(ws, "patch-app", "--revert").stdout

    r = ukws(ws, "patch-app", "--check", "--json")
    assert r.exit_code == 1
    checked = json.loads(r.stdout)["apps"][0]
    assert [p["applied"] for p in checked["patches"]] == [False, False]
    assert checked["patches"][0]["detail"] == "applies cleanly"


def test_other_edits_survive_and_an_edited_file_is_never_overwritten(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, make_world(tmp_path))
    app_dir = ws / APP
    (app_dir / "main.c").write_text("int main(void) { return 1; }\n")
    (app_dir / "notes.txt").write_text("mine\n")
    assert ukws(ws, "patch-app").exit_code == 0
    (app_dir / "Makefile.uk").write_text("my own edit\n")
    for args in (("patch-app",), ("patch-app", "--revert")):
        r = ukws(ws, *args)
        assert r.exit_code == 1
        assert "apps/hello/Makefile.uk: edited since 'ukws patch-app' applied the series" in r.stderr
    assert (app_dir / "Makefile.uk").read_text() == "my own edit\n"
    assert (app_dir / "Config.uk").is_file()
    (app_dir / "Makefile.uk").write_text(MAKEFILE_UK + "APPHELLO_CFLAGS-y += -DHELLO=1\n")
    assert ukws(ws, "patch-app", "--revert").exit_code == 0
    assert (app_dir / "main.c").read_text() == "int main(void) { return 1; }\n"
    assert (app_dir / "notes.txt").read_text() == "mine\n"
    assert not (app_dir / "Config.uk").exists()


def test_a_dirty_file_in_the_way_stops_the_series(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, make_world(tmp_path))
    app_dir = ws / APP
    (app_dir / "Makefile.uk").write_text(MAKEFILE_UK + "# mine\n")
    before = _snapshot(app_dir)
    r = ukws(ws, "patch-app")
    assert r.exit_code == 1
    assert r.stderr.startswith(
        "ukws: apps/hello/Makefile.uk: has local changes; the patch series writes this file, so nothing was applied"
    )
    assert _snapshot(app_dir) == before
    (app_dir / "Makefile.uk").write_text(MAKEFILE_UK)
    (app_dir / "Config.uk").write_text("mine\n")
    r = ukws(ws, "patch-app")
    assert r.exit_code == 1 and "apps/hello/Config.uk: exists, but the series adds it" in r.stderr
    assert (app_dir / "Config.uk").read_text() == "mine\n"
    assert not (ws / ".ukws/state/patches").exists() or not any((ws / ".ukws/state/patches").iterdir())


def test_checksum_mismatch_and_a_patch_that_does_not_apply(tmp_path: Path) -> None:
    world = make_world(tmp_path, sha_override={"0002-cflags.patch": "0" * 64})
    ws = _workspace(tmp_path, world)
    pristine = _snapshot(ws / APP)
    r = ukws(ws, "patch-app")
    assert r.exit_code == 1
    assert f"{world.manifest}:" in r.stderr
    assert "patch patches/0002-cflags.patch has sha256 " in r.stderr and "the manifest says 0000" in r.stderr
    assert _snapshot(ws / APP) == pristine

    # A CRLF copy of a patch still matches its LF checksum.
    patch = world.manifest.parent / "patches" / "0001-config.patch"
    patch.write_bytes(patch.read_bytes().replace(b"\n", b"\r\n"))
    text = world.manifest.read_text().replace("0" * 64, sha256("--- a/main.c\n+++ b/main.c\n@@ -1 +1 @@\n-x\n+y\n"))
    world.manifest.write_text(text)
    (world.manifest.parent / "patches" / "0002-cflags.patch").write_text(
        "--- a/main.c\n+++ b/main.c\n@@ -1 +1 @@\n-x\n+y\n"
    )
    r = ukws(ws, "patch-app")
    assert r.exit_code == 1
    assert "patch patches/0002-cflags.patch does not apply to app-hello (apps/hello) at" in r.stderr
    assert "main.c: hunk at line 1 did not apply; nothing was applied" in r.stderr
    assert _snapshot(ws / APP) == pristine
    r = ukws(ws, "patch-app", "--check")
    assert r.exit_code == 1 and "not fully applied" in r.stdout and "does not apply" in r.stdout


@pytest.mark.parametrize(
    ("path", "why"),
    [("../outside.txt", "outside the application project"), (".git/hooks/post-checkout", "outside the application")],
)
def test_a_patch_escaping_the_application_is_refused(tmp_path: Path, path: str, why: str) -> None:
    evil = f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n@@ -0,0 +1 @@\n+x\n"
    ws = _workspace(tmp_path, make_world(tmp_path, patches={"evil.patch": evil}))
    pristine = _snapshot(ws)
    r = ukws(ws, "patch-app")
    assert r.exit_code == 1
    assert f"patch patches/evil.patch touches '{path}', {why}" in r.stderr
    assert _snapshot(ws) == pristine and not (tmp_path / "outside.txt").exists()


def test_non_build_files_warn_and_a_kraftfile_app_gets_a_makefile(tmp_path: Path) -> None:
    source = (
        "diff --git a/main.c b/main.c\n--- a/main.c\n+++ b/main.c\n"
        "@@ -1 +1 @@\n-int main(void) { return 0; }\n+int main(void) { return 2; }\n"
        "diff --git a/platform/uk.c b/platform/uk.c\nnew file mode 100644\n--- /dev/null\n+++ b/platform/uk.c\n"
        "@@ -0,0 +1 @@\n+int uk(void) { return 1; }\n"
    )
    files = {"Kraftfile": "spec: v0.6\nname: hello\n", "main.c": APP_FILES["main.c"]}
    ws = _workspace(tmp_path, make_world(tmp_path, patches={"src.patch": source}, app_files=files))
    r = ukws(ws, "patch-app")
    assert r.exit_code == 0, r.stderr
    # Only the existing source it changes: a file it adds (a platform layer) changes no source.
    assert "patch patches/src.patch changes files that are not build files: main.c\n" in r.stderr
    assert (ws / APP / "platform/uk.c").is_file()
    assert "apps/hello/Makefile written (the application had none)" in r.stdout
    generated = (ws / APP / "Makefile").read_text()
    assert "UK_BUILD ?= $(abspath $(CURDIR)/../../build/app-hello/make)\n" in generated
    out = subprocess.run(["make", "-n", "-C", str(ws / APP)], capture_output=True, text=True, check=True).stdout
    assert f"make -C {ws / 'unikraft'} A={ws / APP} L={ws / 'libs/newlib'} O={ws / 'build/app-hello/make'}" in out
    assert ukws(ws, "patch-app", "--revert").exit_code == 0
    assert not (ws / APP / "Makefile").exists() and _status(ws) == {}


def test_makefile_points_at_the_workspace_and_follows_the_lock(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, make_world(tmp_path))
    assert ukws(ws, "patch-app").exit_code == 0
    out = subprocess.run(["make", "-n", "-C", str(ws / APP)], capture_output=True, text=True, check=True).stdout
    assert f"make -C {ws / 'unikraft'} A={ws / APP} L={ws / 'libs/newlib'}" in out
    # A moved workspace still builds: the paths are relative to the Makefile's folder.
    moved = tmp_path / "elsewhere"
    shutil.move(ws, moved)
    out = subprocess.run(["make", "-n", "-C", str(moved / APP)], capture_output=True, text=True, check=True).stdout
    assert f"make -C {moved / 'unikraft'} A={moved / APP}" in out


_KILL_AFTER_FIRST_WRITE = """
import os, signal, sys
from ukws import fileops
from ukws.build import patchstate
real = fileops.atomic_write
def write(path, data, *, mode=0o644):
    real(path, data, mode=mode)
    os.kill(os.getpid(), signal.SIGKILL)
patchstate.atomic_write = write
sys.argv = ["ukws", *sys.argv[1:]]
from ukws.cli import main
main()
"""


@pytest.mark.parametrize("args", [(), ("--revert",)])
def test_a_killed_run_is_finished_by_the_next(tmp_path: Path, args: tuple[str, ...]) -> None:
    ws = _workspace(tmp_path, make_world(tmp_path))
    pristine = _snapshot(ws / APP)
    if args:
        assert ukws(ws, "patch-app").exit_code == 0
    patched_or_not = _snapshot(ws / APP)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.run(
        [sys.executable, "-c", _KILL_AFTER_FIRST_WRITE, "-C", str(ws), "patch-app", *args],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == -9, proc.stderr
    assert list((ws / ".ukws/state/patch-journal").iterdir())
    assert _snapshot(ws / APP) not in (pristine, patched_or_not)  # half done
    r = ukws(ws, "patch-app", *args)
    assert r.exit_code == 0, r.stderr
    assert not list((ws / ".ukws/state/patch-journal").iterdir())
    if args:
        assert _snapshot(ws / APP) == pristine and _status(ws) == {}
    else:
        assert (ws / APP / "Config.uk").is_file()
        assert ukws(ws, "patch-app", "--revert").exit_code == 0
        assert _snapshot(ws / APP) == pristine


def test_sync_keeps_an_applied_series(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    ws = _workspace(tmp_path, world)
    assert ukws(ws, "patch-app").exit_code == 0
    upstream = pygit2.Repository(str(world.up / "app-hello"))
    new_head = commit(upstream, {"main.c": "int main(void) { return 3; }\n"}, "upstream change")
    r = ukws(ws, "sync")
    assert r.exit_code == 0, r.stderr
    assert "patched app-hello (apps/hello): patch series applied again at" in r.stderr
    repo = pygit2.Repository(str(ws / APP))
    assert str(repo.head.target) == new_head
    assert (ws / APP / "main.c").read_text() == "int main(void) { return 3; }\n"
    assert (ws / APP / "Config.uk").is_file()
    record = json.loads((ws / ".ukws/state/patches/app-hello.json").read_text())
    assert record["base"] == new_head
    assert "already applied" in ukws(ws, "patch-app").stdout

    # An edit on top of the series stops sync for that project, naming the file.
    (ws / APP / "Config.uk").write_text("edited\n")
    commit(upstream, {"main.c": "int main(void) { return 4; }\n"}, "another")
    r = ukws(ws, "sync")
    assert r.exit_code == 1
    assert "apps/hello/Config.uk: edited since 'ukws patch-app' applied the series" in r.stderr
    assert str(repo.head.target) == new_head and (ws / APP / "Config.uk").read_text() == "edited\n"

    # A series that no longer applies after the move is reported; the checkout is left clean.
    (ws / APP / "Config.uk").write_text((ws / APP / "Config.uk").read_text().replace("edited\n", ""))
    (ws / APP / "Config.uk").unlink()
    r = ukws(ws, "patch-app", "--revert")
    assert r.exit_code == 1  # Config.uk is gone: an edit too
    (ws / APP / "Config.uk").write_text('config APPHELLO\n\tbool "hello"\n\tdefault y\n')
    assert ukws(ws, "patch-app", "--revert").exit_code == 0
    assert ukws(ws, "patch-app").exit_code == 0
    commit(upstream, {"Makefile.uk": "changed upstream\n"}, "conflicting")
    r = ukws(ws, "sync")
    assert r.exit_code == 1
    assert "warning: app-hello (apps/hello): patch series not applied again:" in r.stderr
    assert _status(ws) == {}


def test_usage_and_workspace_errors(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    assert ukws(tmp_path, "init", "-m", str(world.manifest), "ws").exit_code == 0
    ws = tmp_path / "ws"
    r = ukws(ws, "patch-app")
    assert (r.exit_code, r.stderr) == (1, "ukws: app-hello (apps/hello): not synced; run 'ukws sync' first\n")
    assert ukws(ws, "sync").exit_code == 0
    for args, message in [
        (("nope",), "no project 'nope' in the workspace's manifest (see 'ukws list')"),
        (("unikraft",), "project 'unikraft' has no <x-app> in the manifest; nothing to patch"),
        (("--check", "--revert"), "--check and --revert cannot be combined"),
    ]:
        r = ukws(ws, "patch-app", *args)
        assert (r.exit_code, r.stderr) == (2, f"ukws: {message}\n")
    (world.manifest.parent / "patches" / "0001-config.patch").unlink()
    r = ukws(ws, "patch-app")
    assert r.exit_code == 1 and "patch patches/0001-config.patch not found" in r.stderr


def test_symlinks_and_a_foreign_makefile_in_a_subdir(tmp_path: Path) -> None:
    link = "diff --git a/tools/app/l b/tools/app/l\nnew file mode 120000\n--- /dev/null\n+++ b/tools/app/l\n" \
        "@@ -0,0 +1 @@\n+../../../etc\n\\ No newline at end of file\n"
    ws = _workspace(tmp_path, make_world(tmp_path, patches={"link.patch": link}, subdir="tools/app"))
    r = ukws(ws, "patch-app")
    assert r.exit_code == 1 and "patch patches/link.patch makes tools/app/l a symlink or submodule; refused" in r.stderr

    glue = "--- a/tools/app/Makefile\n+++ b/tools/app/Makefile\n@@ -1 +1,2 @@\n all:\n+\t@echo glue\n"
    files = {"tools/app/Makefile": "all:\n", "tools/app/main.c": "int x;\n"}
    other = tmp_path / "other"
    other.mkdir()
    ws = _workspace(other, make_world(other, patches={"glue.patch": glue}, app_files=files, subdir="tools/app"))
    r = ukws(ws, "patch-app")
    assert r.exit_code == 0, r.stderr
    assert "apps/hello/tools/app/Makefile does not set UK_ROOT (not a Unikraft application Makefile)" in r.stderr
    assert (ws / APP / "tools/app/Makefile").read_text() == "all:\n\t@echo glue\n"
    assert "app-hello (apps/hello/tools/app): applied 1 patch at" in r.stdout


def test_the_lock_gives_the_library_order(tmp_path: Path) -> None:
    from ukws import workspace
    from ukws.lock import Lock, LockedBuild, LockedProject, write_lock

    ws = _workspace(tmp_path, make_world(tmp_path))
    w = workspace.open_workspace(ws)
    manifest = workspace.load_workspace_manifest(w)
    pins = tuple(
        LockedProject(name=p.name, path=p.path, revision=str(pygit2.Repository(str(ws / p.path)).head.target))
        for p in manifest.projects
    )
    write_lock(w.lock_path, manifest, Lock(projects=pins, builds=(LockedBuild(app="app-hello", libraries=()),)))
    r = ukws(ws, "patch-app")
    assert r.exit_code == 0 and "no resolved library order" not in r.stderr
    assert "\nLIBS :=\n" in (ws / APP / "Makefile").read_text()
    write_lock(w.lock_path, manifest, Lock(projects=pins, builds=(LockedBuild(app="app-hello",
                                                                              libraries=("libs/newlib",)),)))
    r = ukws(ws, "patch-app")
    assert r.exit_code == 0 and "series and Makefile brought up to date" in r.stdout
    assert "\nLIBS := $(UK_LIBS)/newlib\n" in (ws / APP / "Makefile").read_text()
    assert ukws(ws, "patch-app", "--revert").exit_code == 0 and _status(ws) == {}


def test_the_shipped_xenstore_patch_reads(repo_root: Path) -> None:
    from ukws import git

    glue = (repo_root / "manifests/xenstore/0001-xenstored-unikraft-build-glue.patch").read_bytes()
    assert [(d.status, d.new_path) for d in git.patch_deltas(glue)][:2] == [
        ("A", "tools/xenstored/Config.uk"),
        ("A", "tools/xenstored/Makefile.uk"),
    ]
    for patch in sorted((repo_root / "manifests/xenstore").glob("*.patch")):
        deltas = git.patch_deltas(patch.read_bytes())
        assert deltas, patch.name
        # The series only adds files next to the xenstored sources; no Xen file changes.
        assert {d.status for d in deltas} == {"A"}, patch.name
        assert all((d.new_path or "").startswith("tools/xenstored/") for d in deltas), patch.name


XEN_MAKEFILE = "XEN_ROOT=$(CURDIR)/../..\ninclude $(XEN_ROOT)/tools/Rules.mk\n\nall: xenstored\n"


def test_the_shipped_xenstore_series_on_a_xen_shaped_tree(tmp_path: Path, repo_root: Path) -> None:
    # CI has no Xen tree: a tree with Xen's layout at the manifest's tag stands in for it. The
    # shipped manifest (copied with its patches, remotes rewritten to local repositories) is
    # synced, its series checked against its sha256, applied, checked and reverted.
    from tests.gitutil import init_repo, tag

    up = tmp_path / "up"
    for name in ("unikraft", "lib-newlib", "lib-pthread-embedded"):
        repo = init_repo(up / "unikraft" / name)
        tag(repo, "RELEASE-0.13.1", commit(repo, {"Config.uk": f"# {name}\n"}))
    xen_files = {"tools/xenstored/Makefile": XEN_MAKEFILE, "tools/xenstored/core.c": "int main(void) { return 0; }\n",
                 "xen/include/public/xen.h": "/* xen */\n"}
    xen = init_repo(up / "xen" / "xen.git")
    tag(xen, "RELEASE-4.19.0", commit(xen, xen_files))
    shutil.copytree(repo_root / "manifests", tmp_path / "m")
    rules = ["--rewrite", f"https://github.com/unikraft/={(up / 'unikraft').as_uri()}/",
             "--rewrite", f"https://xenbits.xen.org/git-http/={(up / 'xen').as_uri()}/"]
    assert ukws(tmp_path, "init", "-m", str(tmp_path / "m/xenstore.xml"), *rules, "ws").exit_code == 0
    ws = tmp_path / "ws"
    r = ukws(ws, "sync")
    assert r.exit_code == 0, r.stderr
    xen_dir = ws / "apps/xen"
    pristine = _snapshot(xen_dir)
    r = ukws(ws, "patch-app")
    assert r.exit_code == 0, r.stderr
    assert "xen.git (apps/xen/tools/xenstored): applied 2 patches" in r.stdout
    assert "apps/xen/tools/xenstored/Makefile does not set UK_ROOT" in r.stderr, "Xen's own Makefile is left"
    assert "not build files" not in r.stderr, "the series only adds files"
    added = {k for k in _snapshot(xen_dir) if k not in pristine}
    assert {"tools/xenstored/Config.uk", "tools/xenstored/Makefile.uk",
            "tools/xenstored/unikraft/xs_platform.c", "tools/xenstored/unikraft/uk_xen.c"} <= added
    assert all(k.startswith("tools/xenstored/") for k in added)
    assert {k: v for k, v in _snapshot(xen_dir).items() if k in pristine} == pristine, "no Xen file changed"
    assert ukws(ws, "patch-app", "--check").exit_code == 0
    assert ukws(ws, "patch-app", "--revert").exit_code == 0
    assert _snapshot(xen_dir) == pristine
    # A patch whose bytes are not what the manifest says is refused, and nothing is applied.
    glue = tmp_path / "m/xenstore/0001-xenstored-unikraft-build-glue.patch"
    glue.write_bytes(glue.read_bytes().replace(b"Unikraft", b"Unikraft!", 1))
    r = ukws(ws, "patch-app")
    assert r.exit_code == 1
    line = next(i for i, text in enumerate((tmp_path / "m/xenstore.xml").read_text().splitlines(), 1)
                if "1eda9b1912136356" in text)  # the element ends on its sha256 line
    assert (f"xenstore.xml:{line}: patch xenstore/0001-xenstored-unikraft-build-glue.patch has sha256 " in r.stderr
            and "nothing was applied" in r.stderr), r.stderr
    assert _snapshot(xen_dir) == pristine


def test_a_crlf_checkout(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, make_world(tmp_path))
    app_dir = ws / APP
    repo = pygit2.Repository(str(app_dir))
    repo.config["core.autocrlf"] = "true"
    for name in ("Makefile", "Makefile.uk", "main.c"):  # what a checkout with autocrlf writes
        (app_dir / name).write_bytes((app_dir / name).read_bytes().replace(b"\n", b"\r\n"))
    pristine = _snapshot(app_dir)
    r = ukws(ws, "patch-app")
    assert r.exit_code == 0, r.stderr
    assert (app_dir / "Makefile.uk").read_bytes().endswith(b"main.c\r\nAPPHELLO_CFLAGS-y += -DHELLO=1\r\n")
    assert (app_dir / "Config.uk").read_bytes().startswith(b"config APPHELLO\r\n")
    assert b"UK_ROOT ?= $(abspath $(CURDIR)/../../unikraft)\r\n" in (app_dir / "Makefile").read_bytes()
    assert "already applied" in ukws(ws, "patch-app").stdout
    assert ukws(ws, "patch-app", "--revert").exit_code == 0
    assert _snapshot(app_dir) == pristine


def test_diff_and_status_name_a_makefile_pointed_without_patches(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, make_world(tmp_path, patches={}))
    assert ukws(ws, "patch-app").exit_code == 0
    diff = ukws(ws, "diff").stdout
    assert diff.startswith(f"project {APP}/\n# ukws patch-app: no patches, Makefile pointed\n"), diff
    assert "patch series applied (no patches, Makefile pointed)" in ukws(ws, "status").stdout
