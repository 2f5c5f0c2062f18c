"""A Xen developer's day with ukws, end to end over smart HTTP: a Xenstore stub domain workspace is
set up from a manifest repository, synced, resolved and locked; upstream releases; the lock moves
on request only; local work survives an update that would overwrite it."""

from __future__ import annotations

import json
from pathlib import Path

import pygit2
from typer.testing import CliRunner, Result

from tests.gitutil import commit, init_repo, tag
from tests.servers import GitServer
from ukws.cli import app
from ukws.lock import read_lock

MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest>
  <remote name="origin" fetch="."/>
  <default remote="origin" revision="refs/tags/RELEASE-0.13.0"/>
  <project name="unikraft" x-role="core"/>
  <project name="lib-newlib" path="libs/newlib" x-role="library"/>
  <project name="lib-pthread-embedded" path="libs/pthread-embedded" x-role="library"/>
  <project name="xen" path="apps/xen" revision="refs/tags/RELEASE-4.19.0" x-role="application">
    <x-requires project="unikraft" version="&gt;=0.13,&lt;0.14"/>
    <x-app subdir="tools/xenstored">
      <x-target plat="xen" arch="x86_64"/>
    </x-app>
  </project>
</manifest>
"""


def ukws(cwd: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["-C", str(cwd), *args], catch_exceptions=False)


def _library(root: Path, name: str, symbol: str, selects: str, versions: list[str]) -> pygit2.Repository:
    repo = init_repo(root / name, bare=True)
    for i, version in enumerate(versions):
        files = {"Config.uk": f'menuconfig {symbol}\n\tbool "{name}"\n\tselect {selects}\n'} if i == 0 else {}
        files["VERSION"] = version
        tag(repo, f"RELEASE-{version}", commit(repo, files, f"{name} {version}"))
    return repo


def _serve(root: Path) -> None:
    core = init_repo(root / "unikraft", bare=True)
    for i, version in enumerate(["0.12.0", "0.13.0", "0.13.1", "0.14.0"]):
        files = {"Config.uk": 'source "$(UK_BASE)/lib/Config.uk"\n',
                 "lib/Config.uk": 'config LIBUKALLOC\n\tbool "ukalloc"\n'} if i == 0 else {}
        files["VERSION"] = version
        tag(core, f"RELEASE-{version}", commit(core, files, f"release {version}"))
    # lib-newlib skipped 0.13.1: lockstep takes its newest release below, with a warning.
    _library(root, "lib-newlib", "LIBNEWLIBC", "LIBUKALLOC", ["0.12.0", "0.13.0", "0.14.0"])
    pthread_versions = ["0.12.0", "0.13.0", "0.13.1", "0.14.0"]
    _library(root, "lib-pthread-embedded", "LIBPTHREAD_EMBEDDED", "LIBNEWLIBC", pthread_versions)
    xen = init_repo(root / "xen", bare=True)
    tag(xen, "RELEASE-4.19.0", commit(xen, {
        "tools/xenstored/core.c": "int main(void) { return 0; }\n",
        "tools/xenstored/Config.uk": 'config APPXENSTORED\n\tbool "xenstored"\n\tdefault y\n'
        "\tselect LIBPTHREAD_EMBEDDED\n",
    }, "xen 4.19.0"))
    manifest = init_repo(root / "manifest", bare=True)
    commit(manifest, {"default.xml": MANIFEST}, "manifest")


def _head(path: Path) -> str:
    return str(pygit2.Repository(str(path)).head.target)


def test_a_day_with_ukws(http_git: GitServer, tmp_path: Path) -> None:
    _serve(http_git.root)
    r = ukws(tmp_path, "init", "-u", http_git.url("manifest"), "ws")
    assert r.exit_code == 0, r.stderr
    ws = tmp_path / "ws"

    r = ukws(ws, "sync")
    assert r.exit_code == 0, r.stderr
    assert ": 4 cloned" in r.stderr

    # Resolve: the newest core the application allows, libraries in lockstep, L= from Kconfig.
    r = ukws(ws / "apps", "resolve")
    assert r.exit_code == 0, r.stderr
    assert "L= for xen: libs/newlib:libs/pthread-embedded" in r.stdout
    assert "lib-newlib" in r.stderr and "0.13.0" in r.stderr  # the lockstep fallback warning
    lock = read_lock(ws / ".ukws" / "lock.xml")
    versions = {p.path: p.version for p in lock.projects}
    assert versions["unikraft"] == "==0.13.1" or versions["unikraft"] == "0.13.1"
    core_pin = lock.pins["unikraft"]

    # Sync follows the lock; every project is at its pin.
    r = ukws(ws, "sync")
    assert r.exit_code == 0, r.stderr
    assert _head(ws / "unikraft") == core_pin
    rows = json.loads(ukws(ws, "list", "--json").stdout)
    assert all(row["at_pin"] for row in rows), rows

    # Upstream releases 0.13.2. A plain sync needs no network (every pin is present); sync -n
    # fetches what the remotes have; the lock keeps everyone where they were.
    core_repo = pygit2.Repository(str(http_git.root / "unikraft"))
    tag(core_repo, "RELEASE-0.13.2", commit(core_repo, {"VERSION": "0.13.2"}, "release 0.13.2", branch="main"))
    assert ukws(ws, "sync").exit_code == 0
    assert "RELEASE-0.13.2" not in pygit2.Repository(str(ws / "unikraft")).references
    r = ukws(ws, "sync", "-n")
    assert r.exit_code == 0, r.stderr
    assert "refs/tags/RELEASE-0.13.2" in pygit2.Repository(str(ws / "unikraft")).references
    assert _head(ws / "unikraft") == core_pin
    r = ukws(ws, "resolve")
    assert r.exit_code == 0 and read_lock(ws / ".ukws" / "lock.xml").pins["unikraft"] == core_pin

    # Local work the update would overwrite: that project is skipped, the change kept, exit 1.
    (ws / "unikraft" / "VERSION").write_text("my local edit\n")
    r = ukws(ws, "resolve", "--update", "unikraft")
    assert r.exit_code == 0, r.stderr
    new_pin = read_lock(ws / ".ukws" / "lock.xml").pins["unikraft"]
    assert new_pin != core_pin
    r = ukws(ws, "sync")
    assert r.exit_code == 1
    assert "unikraft" in r.stderr
    assert (ws / "unikraft" / "VERSION").read_text() == "my local edit\n"
    assert _head(ws / "unikraft") == core_pin

    # Once the edit is gone, the same sync moves the core to the new release.
    (ws / "unikraft" / "VERSION").write_text("0.13.1")
    r = ukws(ws, "sync")
    assert r.exit_code == 0, r.stderr
    assert _head(ws / "unikraft") == new_pin
    status = json.loads(ukws(ws, "status", "--json").stdout)
    assert all(s["at_pin"] for s in status), status
