"""``ukws fetch`` (origin archives), ``ukws build``, ``ukws run``, ``ukws up`` and ``ukws demo``, with real
make over the demo's miniature Unikraft-like core, and origin archives served over HTTP on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.buildutil import ORIGINS, serve_origins, ukws, workspace
from ukws.build.demo import demo_manifest, tarball
from ukws.build.targets import fragment_for

IMAGE = "build/app-demo/linuxu-x86_64/demo_linuxu-x86_64"
OFFLINE = {"http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9", "no_proxy": ""}


def _offline_prefix() -> list[str]:
    """``unshare -n`` when this machine lets us cut the network for real."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True, check=False).returncode == 0:
        return [unshare, "-n"]
    return []


def test_demo_runs_the_whole_pipeline_without_network(tmp_path: Path) -> None:
    r = ukws(tmp_path, "demo", "--run", "demo")
    assert r.returncode == 0, r.stderr
    assert "app-demo: Hello world!" in r.stdout
    assert "libhello: hello 1.0, patched by lib-hello" in r.stdout, "the library's own patch was applied"
    assert "Libraries: libshout libhello" in r.stdout, "L= in the lock's order, dependencies first"
    stages = [line.split(":")[0] for line in r.stderr.splitlines()]
    assert stages[:9] == ["demo", "init", "sync", "resolve", "pin", "patch", "fetch", "build", "run"]
    again = ukws(tmp_path / "demo" / "ws", "up")
    assert again.returncode == 0, again.stderr
    assert "0 downloaded" in again.stderr and "(as it is)" in again.stderr
    assert "patch:   app-demo: Makefile pointed (" in r.stderr, "a Makefile pointing without patches is named"
    assert "patch:   app-demo: Makefile already pointed (" in again.stderr


def test_demo_and_up_report_as_json_with_the_guest_on_stderr(tmp_path: Path) -> None:
    written = ukws(tmp_path, "demo", "only", "--json")
    assert written.returncode == 0, written.stderr
    only = json.loads(written.stdout)
    assert only["manifest"] == str(tmp_path / "only" / "demo.xml") and only["up"] is None
    assert only["upstream"] == str(tmp_path / "only" / "upstream")

    r = ukws(tmp_path, "demo", "--run", "--json", "demo")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)  # stdout holds the JSON document and nothing else
    assert "app-demo: Hello world!" in r.stderr, "with --json the guest's output goes to stderr"
    up = report["up"]
    assert [s["name"] for s in up["stages"]] == ["init", "sync", "resolve", "pin", "patch", "fetch", "build", "run"]
    assert all(isinstance(s["seconds"], float) for s in up["stages"])
    image = str(tmp_path / "demo" / "ws" / IMAGE)
    assert up["stages"][6]["images"] == [image] and up["build"]["builds"][0]["images"] == [image]
    assert up["run"]["returncode"] == 0 and up["run"]["how"] == "linuxu"
    assert up["stages"][7]["summary"] == "app-demo/linuxu-x86_64: booted (linuxu), exit status 0"
    for stage in up["stages"][:7]:  # the text lines are the stages, as they end
        assert f"{stage['name'] + ':':<8} {stage['summary']} (" in r.stderr

    ws = tmp_path / "demo" / "ws"
    again = ukws(ws, "up", "--json")
    assert again.returncode == 0, again.stderr
    done = json.loads(again.stdout)
    assert done["stages"][0]["summary"] == f"workspace {ws} (as it is)"
    assert done["run"] is None and done["build"]["builds"][0]["up_to_date"] is True

    # On a terminal, a linuxu image runs without a pseudo-terminal of ukws's: still on stderr.
    main, side = os.openpty()
    try:
        tty = subprocess.run(_ukws_argv(ws, "up", "--run", "--json"), stdout=subprocess.PIPE, stderr=side,
                             stdin=subprocess.DEVNULL, text=True, check=False, timeout=120, env=_env({}))
        os.close(side)
        seen = b""
        with contextlib.suppress(OSError):  # EIO once everything written to the terminal is read
            while chunk := os.read(main, 65536):
                seen += chunk
    finally:
        os.close(main)
    assert tty.returncode == 0, seen
    assert json.loads(tty.stdout)["run"]["returncode"] == 0
    assert b"app-demo: Hello world!" in seen


def test_fetch_then_build_with_the_network_cut(tmp_path: Path) -> None:
    with serve_origins(tmp_path / "demo" / "upstream" / "origins") as server:
        _, ws = workspace(tmp_path, origins_url=server.base_url)
        r = ukws(ws, "fetch", "--check")
        assert r.returncode == 1 and f"{ORIGINS}shout-2.0.tar.gz" in r.stdout, r.stdout + r.stderr
        r = ukws(ws, "fetch")
        assert r.returncode == 0, r.stderr
        assert sorted(server.requests) == ["/hello-1.0.tar.gz", "/shout-2.0.tar.gz"]
    scratch = ws / ".ukws/state/origins/scratch/app-demo/linuxu-x86_64"
    assert [p.name for p in scratch.iterdir()] == [".ukws"], "what make unpacked there is not kept"
    assert "UNTAR" in (scratch / ".ukws/make.log").read_text()
    needs = json.loads((ws / ".ukws/state/origins/needs.json").read_text())
    entries = needs["targets"]["app-demo/linuxu-x86_64"]
    assert {e["library"] for e in entries} == {"libshout", "libhello"}
    index = json.loads((ws / ".ukws/origins/index.json").read_text())
    for e in entries:
        assert index["urls"][e["url"]]["sha256"] == e["sha256"]
        assert (ws / ".ukws/origins" / e["sha256"]).is_file()
    assert ukws(ws, "fetch", "--check").returncode == 0
    # The server is gone; downloads fail, through proxies that refuse and, where allowed, no network at all.
    prefix = _offline_prefix()
    build = subprocess.run([*prefix, *_ukws_argv(ws, "build")], capture_output=True, text=True, check=False,
                           env=_env(OFFLINE))
    assert build.returncode == 0, build.stderr
    image = ws / IMAGE
    assert f"built app-demo/linuxu-x86_64: {image}" in build.stderr
    out = subprocess.run([str(image)], capture_output=True, text=True, check=True).stdout
    assert "libhello: hello 1.0, patched by lib-hello" in out
    again = ukws(ws, "fetch", env=OFFLINE)
    assert "0 downloaded" in again.stderr, "a cached archive is never fetched again"


def _ukws_argv(cwd: Path, *args: str) -> list[str]:
    import sys

    return [sys.executable, "-m", "ukws", "-C", str(cwd), *args]


def _env(extra: dict[str, str]) -> dict[str, str]:
    import os

    env = {**os.environ, **extra}
    env.pop("SOURCE_DATE_EPOCH", None)
    return env


def test_build_without_fetch_stops_instead_of_downloading(tmp_path: Path) -> None:
    with serve_origins(tmp_path / "demo" / "upstream" / "origins") as server:
        _, ws = workspace(tmp_path, origins_url=server.base_url)
        r = ukws(ws, "build")
        assert server.requests == [], "a build never reaches the network"
    assert r.returncode != 0
    assert f"make tried to download {ORIGINS}shout-2.0.tar.gz; run 'ukws fetch'" in r.stderr
    assert not (ws / IMAGE).exists()


def test_an_unreachable_archive_says_how_to_do_without_the_network(tmp_path: Path) -> None:
    _, ws = workspace(tmp_path, origins_url=(tmp_path / "empty").as_uri() + "/")  # no archive there
    r = ukws(ws, "fetch")
    assert r.returncode == 1
    assert f"ukws: libshout: cannot download {ORIGINS}shout-2.0.tar.gz (" in r.stderr
    assert r.stderr.rstrip().splitlines()[-1] == (
        "ukws: without the network: put a copy in the cache with 'ukws fetch --add-origin FILE' (found by its "
        "file name; the library's checksum still applies), or name your own archive with an <x-origin> in a "
        "local manifest (.ukws/local_manifests/)"
    )


def test_checksum_mismatch_leaves_nothing_in_the_cache(tmp_path: Path) -> None:
    served = tmp_path / "served"
    served.mkdir()
    _, ws = workspace(tmp_path, origins_url=served.as_uri() + "/")
    shutil.copy(tmp_path / "demo/upstream/origins/shout-2.0.tar.gz", served)
    (served / "hello-1.0.tar.gz").write_bytes(tarball("hello-1.0", {"message.txt": "tampered\n"}))
    r = ukws(ws, "fetch")
    assert r.returncode == 1
    assert f"libhello: {ORIGINS}hello-1.0.tar.gz: checksum mismatch against the library's checksum" in r.stderr
    index = json.loads((ws / ".ukws/origins/index.json").read_text())
    assert f"{ORIGINS}hello-1.0.tar.gz" not in index["urls"]
    assert f"{ORIGINS}shout-2.0.tar.gz" in index["urls"]


def test_seeded_cache_and_a_replaced_origin(tmp_path: Path) -> None:
    newer = tarball("hello-1.0", {"message.txt": "libhello: hello 1.0\nlibhello: the site's own copy\n"})
    import hashlib

    sha = hashlib.sha256(newer).hexdigest()
    body = demo_manifest().replace(
        "</manifest>",
        f'  <x-origin library="libhello" url="{ORIGINS}hello-1.0.tar.gz" file="site/hello.tar.gz" sha256="{sha}"/>\n'
        "</manifest>",
    )
    demo, ws = workspace(tmp_path, manifest=body)
    (demo.root / "site").mkdir()
    (demo.root / "site/hello.tar.gz").write_bytes(newer)
    r = ukws(ws, "fetch", "--add-origin", str(demo.upstream / "origins/shout-2.0.tar.gz"))
    assert r.returncode == 0 and "added shout-2.0.tar.gz" in r.stderr, r.stderr
    r = ukws(ws, "fetch")
    assert r.returncode == 0, r.stderr
    assert "0 downloaded" in r.stderr, "the seeded file and the manifest's file need no download"
    entries = json.loads((ws / ".ukws/state/origins/needs.json").read_text())["targets"]["app-demo/linuxu-x86_64"]
    assert {e["library"]: e["sha256"] for e in entries}["libhello"] == sha
    r = ukws(ws, "build", env=OFFLINE)
    assert r.returncode == 0, r.stderr
    out = subprocess.run([str(ws / IMAGE)], capture_output=True, text=True, check=True).stdout
    # The library's own checksum names the original archive: make accepted the replacement only
    # because ukws passed LIBHELLO_ORIGIN_SHA256 on its command line.
    assert "libhello: hello 1.0, patched by lib-hello\nlibhello: the site's own copy" in out


def test_two_targets_side_by_side_and_run(tmp_path: Path) -> None:
    targets = (
        '      <x-target plat="linuxu" arch="x86_64"/>\n'
        '      <x-target name="arm" plat="linuxu" arch="arm64"/>\n'
        '      <x-target plat="xen" arch="x86_64"/>\n'
    )
    _, ws = workspace(tmp_path, manifest=demo_manifest(targets=targets),
                         origins_url=(tmp_path / "demo/upstream/origins").as_uri() + "/")
    assert ukws(ws, "fetch").returncode == 0
    r = ukws(ws, "build", "-t", "linuxu-x86_64", "-t", "arm", "--", "N=twin")
    assert r.returncode == 0, r.stderr
    first, second = ws / "build/app-demo/linuxu-x86_64/twin_linuxu-x86_64", ws / "build/app-demo/arm/twin_linuxu-arm64"
    assert first.is_file() and second.is_file()
    assert not (ws / "build/app-demo/xen-x86_64").exists()
    run = ukws(ws, "run", "-t", "arm")
    assert run.returncode == 0, run.stderr
    assert "Hello from twin! (linuxu-arm64)" in run.stdout, "run through a pty when there is no terminal"
    assert ukws(ws, "build", "-t", "xen-x86_64").returncode == 0
    xl = ukws(ws, "run", "-t", "xen-x86_64")
    assert xl.returncode == 0, xl.stderr
    assert 'type = "pv"' in xl.stdout and f'kernel = "{ws}/build/app-demo/xen-x86_64/demo_xen-x86_64"' in xl.stdout
    bad = ukws(ws, "build", "-t", "nope")
    assert bad.returncode == 2 and "-t nope: no such target" in bad.stderr


def test_kraftfile_only_application_in_a_subdir(tmp_path: Path) -> None:
    from ukws import git
    from ukws.build.demo import DEMO_TAG, DEMO_TIME

    demo, _ = workspace(tmp_path / "first", resolve=False)
    kraftfile = b"spec: v0.6\ntargets:\n  - fc/x86_64\n  - linuxu/x86_64\n"
    files = {"README": b"an upstream project\n", "unikernel/Kraftfile": kraftfile}
    git.commit_files(demo.upstream / "git" / "app-kraft", files, message="kraft", when=DEMO_TIME, tags=(DEMO_TAG,))
    body = demo_manifest().replace(
        '<project name="app-demo" path="apps/demo" x-role="application">\n    <x-app>\n'
        '      <x-target plat="linuxu" arch="x86_64"/>\n    </x-app>\n  </project>',
        '<project name="app-kraft" path="apps/kraft" x-role="application"><x-app subdir="unikernel"/></project>',
    )
    demo.manifest.write_text(body, encoding="utf-8")
    ws = tmp_path / "first" / "ws"
    assert ukws(ws, "sync").returncode == 0
    assert ukws(ws, "resolve").returncode == 0
    r = ukws(ws, "build", "app-kraft", "-t", "linuxu-x86_64")
    assert r.returncode == 0, r.stderr
    image = ws / "build/app-kraft/linuxu-x86_64/unikernel_linuxu-x86_64"
    assert image.is_file(), "A= is the subdir, so the image is named after it"
    assert (ws / "build/app-kraft/linuxu-x86_64/.ukws/defconfig").read_text().startswith(
        "CONFIG_PLAT_LINUXU=y\nCONFIG_ARCH_X86_64=y\n"
    )
    assert "kvm-x86_64" in ukws(ws, "build", "-t", "nope").stderr, "fc/x86_64 in a Kraftfile is kvm"


def test_build_errors_name_what_to_do(tmp_path: Path) -> None:
    _, ws = workspace(tmp_path, resolve=False)
    r = ukws(ws, "build")
    assert r.returncode == 1 and "no lock yet; run 'ukws resolve'" in r.stderr
    assert ukws(ws, "resolve").returncode == 0
    shutil.rmtree(ws / "libs/hello")
    r = ukws(ws, "build")
    assert r.returncode == 1 and "libs/hello: a library on L= is not checked out; run 'ukws sync'" in r.stderr
    r = ukws(ws, "run")
    assert r.returncode == 1
    assert ukws(ws, "sync").returncode == 0
    (ws / "build").write_text("a file of mine\n")
    r = ukws(ws, "build")
    assert r.returncode == 1 and "a file is in the way of the build folder" in r.stderr
    assert (ws / "build").read_text() == "a file of mine\n", "nothing a user made is overwritten"


def test_up_carries_on_after_being_killed(tmp_path: Path) -> None:
    import signal
    import sys
    import time

    from ukws.build.demo import create_demo

    demo = create_demo(tmp_path / "demo")
    argv = [sys.executable, "-m", "ukws", "-C", str(tmp_path), "up", "-m", str(demo.manifest), "--rewrite",
            demo.rewrite, "ws"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(1.0)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    r = ukws(tmp_path, *argv[5:], "--run")  # the same command again
    assert r.returncode == 0, r.stderr
    assert "app-demo: Hello world!" in r.stdout
    again = ukws(tmp_path / "ws", "up")
    assert again.returncode == 0 and "(as it is)" in again.stderr, again.stderr


@pytest.mark.parametrize("words,argv,expected", [
    (["app"], ["ukws", "build", "app"], ("app", [])),
    (["V=1"], ["ukws", "build", "--", "V=1"], (None, ["V=1"])),
    (["app", "V=1", "clean"], ["ukws", "build", "app", "--", "V=1", "clean"], ("app", ["V=1", "clean"])),
])
def test_app_and_make_arguments_are_told_apart(words: list[str], argv: list[str],
                                               expected: tuple[str | None, list[str]]) -> None:
    from ukws.cli.build import split_words

    assert split_words(words, argv) == expected


GLUE_PATCH = """diff --git a/Config.uk b/Config.uk
new file mode 100644
--- /dev/null
+++ b/Config.uk
@@ -0,0 +1,4 @@
+config APPGLUE
+\tbool
+\tdefault y
+\tselect LIBHELLO
diff --git a/Makefile.uk b/Makefile.uk
new file mode 100644
--- /dev/null
+++ b/Makefile.uk
@@ -0,0 +1,2 @@
+$(eval $(call addlib,appglue))
+UK_IMAGE_TEXT += $(APPGLUE_BASE)/message.txt
"""


def test_an_application_whose_build_files_come_from_its_patches(tmp_path: Path) -> None:
    # An upstream tree (like Xen's tools/xenstored) has no Config.uk or Makefile.uk: its patches
    # add them, and with them the libraries it selects, so make can be asked for the origin
    # archives only once the series is applied.
    import hashlib

    from ukws import git
    from ukws.build.demo import DEMO_TAG, DEMO_TIME

    origins = (tmp_path / "first/demo/upstream/origins").as_uri() + "/"
    demo, ws = workspace(tmp_path / "first", resolve=False, origins_url=origins)
    files = {"README": b"an upstream project\n", "message.txt": b"app-glue: built from its patches\n"}
    git.commit_files(demo.upstream / "git" / "app-glue", files, message="glue", when=DEMO_TIME, tags=(DEMO_TAG,))
    (demo.root / "glue.patch").write_text(GLUE_PATCH)
    sha = hashlib.sha256(GLUE_PATCH.encode()).hexdigest()
    body = demo_manifest().replace(
        '<project name="app-demo" path="apps/demo" x-role="application">\n    <x-app>\n',
        '<project name="app-glue" path="apps/glue" x-role="application">\n'
        f'    <x-app>\n      <x-patch path="glue.patch" sha256="{sha}"/>\n',
    )
    demo.manifest.write_text(body, encoding="utf-8")
    assert ukws(ws, "sync").returncode == 0
    r = ukws(ws, "resolve")
    assert r.returncode == 0 and "libs/shout:libs/hello" in r.stdout, r.stdout + r.stderr
    r = ukws(ws, "fetch")
    assert r.returncode == 1
    assert ("app-glue/linuxu-x86_64: the application's patches are not applied (glue.patch); run 'ukws "
            "patch-app', then 'ukws fetch' again") in r.stderr
    assert not (ws / ".ukws/origins/index.json").exists(), "nothing was downloaded on a guess"
    r = ukws(ws, "build")
    assert r.returncode == 1
    assert "app-glue/linuxu-x86_64: the application's patches are not applied (glue.patch); run 'ukws " \
        "patch-app' first" in r.stderr
    assert not (ws / "build").exists()
    r = ukws(ws, "up", env=OFFLINE)  # patch-app before fetch's origin pass, then the build
    assert r.returncode == 0, r.stderr
    assert "patch:   app-glue: 1 patch applied" in r.stderr
    needs = json.loads((ws / ".ukws/state/origins/needs.json").read_text())["targets"]["app-glue/linuxu-x86_64"]
    assert {e["library"] for e in needs} == {"libshout", "libhello"}
    assert "patch:   app-glue: 1 patch already applied" in ukws(ws, "up").stderr
    (image,) = (ws / "build/app-glue/linuxu-x86_64").glob("*_linuxu-x86_64")
    out = subprocess.run([str(image)], capture_output=True, text=True, check=True).stdout
    assert "app-glue: built from its patches" in out and "libhello: hello 1.0, patched by lib-hello" in out


def test_fetch_records_what_make_needs_after_an_interrupted_pass(tmp_path: Path) -> None:
    # A pass killed after make fetched (or one that failed later) leaves the archives in the
    # scratch build folder; make does not ask $(WGET) for them again, yet the needs must list them.
    _, ws = workspace(tmp_path, origins_url=(tmp_path / "demo/upstream/origins").as_uri() + "/")
    assert ukws(ws, "fetch").returncode == 0
    for name in ("needs.json", "keys.json"):
        (ws / ".ukws/state/origins" / name).unlink()
    r = ukws(ws, "fetch")
    assert r.returncode == 0, r.stderr
    needs = json.loads((ws / ".ukws/state/origins/needs.json").read_text())["targets"]["app-demo/linuxu-x86_64"]
    assert {e["library"] for e in needs} == {"libshout", "libhello"}
    r = ukws(ws, "build", env=OFFLINE)
    assert r.returncode == 0, r.stderr


def test_a_build_with_nothing_changed_does_not_run_make_again(tmp_path: Path) -> None:
    # Unikraft's make re-creates its configuration header at every run and so compiles everything
    # again; ukws runs it only when something the build reads changed.
    _, ws = workspace(tmp_path, origins_url=(tmp_path / "demo/upstream/origins").as_uri() + "/")
    assert ukws(ws, "fetch").returncode == 0
    assert ukws(ws, "build").returncode == 0
    image = ws / IMAGE
    first = image.stat().st_mtime_ns
    again = ukws(ws, "build")
    assert again.returncode == 0
    assert f"ukws: up to date app-demo/linuxu-x86_64: {image} (nothing changed" in again.stderr
    assert "Entering directory" not in again.stderr + again.stdout and image.stat().st_mtime_ns == first
    (ws / "apps/demo/message.txt").write_text("app-demo: edited\n")
    edited = ukws(ws, "build")
    assert edited.returncode == 0 and f"ukws: built app-demo/linuxu-x86_64: {image}" in edited.stderr
    assert "app-demo: edited" in subprocess.run([str(image)], capture_output=True, text=True, check=True).stdout
    (ws / "apps/demo/extra.c").write_text("/* new */\n")
    assert "ukws: built" in ukws(ws, "build").stderr, "an untracked file is a change too"
    assert "up to date" in ukws(ws, "build").stderr
    assert "ukws: built" in ukws(ws, "build", "--", "V=1").stderr, "make arguments always reach make"
    assert "(up to date)" not in ukws(ws, "up").stderr, "the build with V=1 recorded nothing"
    up = ukws(ws, "up")
    assert up.returncode == 0 and "(up to date)" in up.stderr, up.stderr


def _host_bin(folder: Path, programs: list[str]) -> str:
    """A ``PATH`` of one folder holding links to ``programs`` only (make among them)."""
    folder.mkdir()
    for name in ["make", *programs]:
        found = shutil.which(name)
        assert found is not None, f"the test needs {name} on the host"
        (folder / name).symlink_to(found)
    return str(folder)


def test_a_failed_make_names_the_host_programs_that_are_missing(tmp_path: Path) -> None:
    # Unikraft's make builds its Kconfig tools with gcc, flex and bison at a build folder's first
    # configuration; without them, make's own output only says "lex: not found" somewhere above.
    _, ws = workspace(tmp_path, origins_url=(tmp_path / "demo/upstream/origins").as_uri() + "/")
    assert ukws(ws, "fetch").returncode == 0
    bare = _host_bin(tmp_path / "bare", [])
    r = ukws(ws, "-q", "build", env={"PATH": bare})
    lines = [line for line in r.stderr.splitlines() if line.startswith("ukws: ")]
    assert r.returncode == 1 and lines == [
        "ukws: app-demo/linuxu-x86_64: make defconfig failed (exit status 2); make's output is in "
        f"{ws / 'build/app-demo/linuxu-x86_64/.ukws/make.log'}; gcc, flex, lex, bison and yacc are not installed, "
        "which Unikraft's make runs (Debian: apt-get install gcc flex bison)"], r.stderr
    # Configured, the build unpacks the libraries' archives: without tar, gzip and patch it fails.
    shell = ["mkdir", "cat", "mv", "rm", "touch", "chmod", "tr", "sha256sum"]
    some = _host_bin(tmp_path / "some", shell)
    r = ukws(ws, "build", env={"PATH": some})
    assert r.returncode == 1, r.stderr
    assert ("ukws: app-demo/linuxu-x86_64: make failed (exit status 2); gcc, unzip, tar, gzip and patch are not "
            "installed, which Unikraft's make runs (Debian: apt-get install gcc unzip tar gzip patch)") in r.stderr
    r = ukws(ws, "build", "--json", env={"PATH": some})
    assert json.loads(r.stdout)["builds"][0]["missing_tools"] == ["gcc", "unzip", "tar", "gzip", "patch"]
    up = ukws(ws, "up", env={"PATH": some})
    assert up.returncode == 1 and "make failed (exit status 2); gcc, unzip, tar, gzip and patch are not" in up.stderr
    built = ukws(ws, "build")
    assert built.returncode == 0 and "not installed" not in built.stderr, "a build that works names nothing"


def test_a_quiet_build_with_nothing_changed_keeps_the_log_of_the_last_make_run(tmp_path: Path) -> None:
    _, ws = workspace(tmp_path, origins_url=(tmp_path / "demo/upstream/origins").as_uri() + "/")
    assert ukws(ws, "fetch").returncode == 0
    assert ukws(ws, "-q", "build").returncode == 0
    log = ws / "build/app-demo/linuxu-x86_64/.ukws/make.log"
    made = log.read_text()
    assert "LD      demo_linuxu-x86_64" in made
    for _ in range(2):
        assert ukws(ws, "-q", "build").returncode == 0
        assert log.read_text() == made + "ukws: nothing changed since the last build; make was not run\n"
    (ws / "apps/demo/message.txt").write_text("app-demo: edited\n")
    assert ukws(ws, "-q", "build").returncode == 0
    assert "nothing changed" not in log.read_text() and "LD      demo_linuxu-x86_64" in log.read_text()


@pytest.mark.parametrize(
    ("own", "expected"),
    [
        (None, b"CONFIG_PLAT_XEN=y\nCONFIG_ARCH_X86_64=y\n"),
        (b"CONFIG_LIBA=y", b"CONFIG_PLAT_XEN=y\nCONFIG_ARCH_X86_64=y\nCONFIG_LIBA=y\n"),
        # The Xenstore fragment names its platform and architecture too: Kconfig would warn of each
        # symbol set twice ("override: reassigning to symbol PLAT_XEN").
        (b"# Xenstore\nCONFIG_PLAT_XEN=y\nCONFIG_ARCH_X86_64=y  \nCONFIG_LIBA=y\n",
         b"# Xenstore\nCONFIG_PLAT_XEN=y\nCONFIG_ARCH_X86_64=y  \nCONFIG_LIBA=y\n"),
        # A fragment that says otherwise still comes after ukws's lines, and wins, as make sees it.
        (b"# CONFIG_ARCH_X86_64 is not set\nCONFIG_PLAT_XEN=y\n",
         b"CONFIG_ARCH_X86_64=y\n# CONFIG_ARCH_X86_64 is not set\nCONFIG_PLAT_XEN=y\n"),
    ],
)
def test_the_fragment_names_platform_and_architecture_once(own: bytes | None, expected: bytes) -> None:
    assert fragment_for("xen", "x86_64", own) == expected
