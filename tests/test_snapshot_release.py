"""A release end to end on the demo ecosystem (real make): a workspace with a patch series built,
its snapshot and archive, and ``ukws up -m SNAPSHOT`` rebuilding it elsewhere with the origin
archives seeded from the archive and no way to download anything."""

from __future__ import annotations

import hashlib
import tarfile
from pathlib import Path

import pytest

from tests.buildutil import git_rule, ukws
from ukws.build.demo import create_demo

SERIES = b"""--- a/Makefile.uk
+++ b/Makefile.uk
@@ -1,2 +1,3 @@
 $(eval $(call addlib,appdemo))
 UK_IMAGE_TEXT += $(APPDEMO_BASE)/message.txt
+UK_IMAGE_TEXT += $(APPDEMO_BASE)/series.txt
--- /dev/null
+++ b/series.txt
@@ -0,0 +1 @@
+app-demo: built with the release's patch series
"""
IMAGE = "build/app-demo/linuxu-x86_64/demo_linuxu-x86_64"


def test_up_from_a_snapshot_rebuilds_the_release_offline(tmp_path: Path) -> None:
    demo = create_demo(tmp_path / "demo")
    (demo.root / "patches").mkdir()
    (demo.root / "patches" / "0001-series.patch").write_bytes(SERIES)
    sha = hashlib.sha256(SERIES).hexdigest()
    body = demo.manifest.read_text().replace(
        "    <x-app>\n", f'    <x-app>\n      <x-patch path="patches/0001-series.patch" sha256="{sha}"/>\n'
    )
    demo.manifest.write_text(body)
    r = ukws(tmp_path, "up", "-m", str(demo.manifest), "--rewrite", demo.rewrite, "ws")
    assert r.returncode == 0, r.stderr
    ws = tmp_path / "ws"
    image = (ws / IMAGE).read_text()
    assert "app-demo: built with the release's patch series" in image

    release = tmp_path / "release"
    snap, archive = release / "demo-1.0.xml", release / "demo-1.0.tar.gz"
    r = ukws(ws, "snapshot", "-o", str(snap), "--archive", str(archive), "--with-origins")
    assert r.returncode == 0, r.stderr
    text = snap.read_text()
    assert text.count("<x-origin target=") == 2 and 'library="libhello"' in text
    with tarfile.open(archive, "r:gz") as tar:
        names = tar.getnames()
        makefile = tar.extractfile("apps/demo/Makefile")
        assert makefile is not None and b"$(abspath $(CURDIR)/../../unikraft)" in makefile.read()
    assert "apps/demo/series.txt" in names and ".ukws/origins/index.json" in names

    # Elsewhere: the repositories reachable, the origin archives only from the release archive.
    r = ukws(tmp_path, "init", "-m", str(snap), "--rewrite", git_rule(demo), "rebuild")
    assert r.returncode == 0, r.stderr
    rebuild = tmp_path / "rebuild"
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(rebuild, members=[m for m in tar.getmembers() if m.name.startswith(".ukws/origins/")],
                       filter="data")  # fmt: skip
    r = ukws(tmp_path, "up", "-m", str(snap), "rebuild")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "patch:   app-demo: 1 patch already applied" in r.stderr, "up's sync applied it, as the snapshot records"
    assert (rebuild / IMAGE).read_text() == image
    assert ukws(rebuild, "verify").returncode == 0
    assert ukws(rebuild, "verify", "--archive", str(archive)).returncode == 0


def test_sync_of_a_snapshot_workspace_applies_the_series_and_fetch_checks_the_recorded_sha256(
    tmp_path: Path,
) -> None:
    demo = create_demo(tmp_path / "demo")
    r = ukws(tmp_path, "up", "-m", str(demo.manifest), "--rewrite", demo.rewrite, "ws")
    assert r.returncode == 0, r.stderr
    snap = tmp_path / "demo.xml"
    assert ukws(tmp_path / "ws", "snapshot", "-o", str(snap)).returncode == 0

    r = ukws(tmp_path, "init", "-m", str(snap), "--rewrite", demo.rewrite, "again")
    assert r.returncode == 0, r.stderr
    again = tmp_path / "again"
    r = ukws(again, "sync")
    assert r.returncode == 0, r.stderr
    assert "patched app-demo (apps/demo): patch series applied, as the snapshot records it, at" in r.stderr
    assert b"$(abspath $(CURDIR)/../../unikraft)" in (again / "apps/demo/Makefile").read_bytes()
    assert ukws(again, "verify").returncode == 1, "the origin archives are not fetched yet"

    # The archive upstream changed since the release: the snapshot's sha256 refuses it.
    (demo.upstream / "origins" / "shout-2.0.tar.gz").write_bytes(b"not the release's archive\n")
    r = ukws(again, "fetch")
    assert r.returncode == 1
    assert "libshout: " in r.stderr and "the manifest says" in r.stderr
    assert "shout-2.0.tar.gz" in r.stderr


def test_builds_map_the_workspace_path_away_through_unikrafts_extra_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ukws.build.make import prefix_map_env

    monkeypatch.delenv("ASFLAGS_EXTRA", raising=False)
    monkeypatch.delenv("CXXFLAGS_EXTRA", raising=False)
    monkeypatch.setenv("CFLAGS_EXTRA", "-DMINE")
    top = tmp_path.resolve()
    flags = f"-ffile-prefix-map={top}=. -fdebug-prefix-map={top}=."
    assert prefix_map_env(tmp_path) == {
        "CFLAGS_EXTRA": f"-DMINE {flags}", "ASFLAGS_EXTRA": flags, "CXXFLAGS_EXTRA": flags,
    }
    assert prefix_map_env(tmp_path / "with space") == {}, "make would split the flag"
