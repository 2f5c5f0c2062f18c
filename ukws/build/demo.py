"""A small local Unikraft-like ecosystem that ukws can create by itself: ``ukws demo DIR``.

It holds git repositories (a core, two libraries, an application) and the origin archives the
libraries download, under ``DIR/upstream/``, and a manifest ``DIR/demo.xml`` naming them through
``https://demo.ukws.invalid/`` URLs that a rewrite rule points at ``DIR/upstream/`` (the
``.invalid`` domain never resolves, so nothing reaches the network).

The core is a miniature of Unikraft's build: its Makefile honours the same interface (``A=``,
``L=`` colon-separated absolute library folders, fatal when one is missing, ``C=``, ``O=``,
``N=``, ``UK_DEFCONFIG=`` with ``defconfig``, ``fetch``, ``prepare`` and the default goal).
Libraries declare their origin archive with ``$(eval $(call fetch,LIB,URL))``: make downloads it
through ``$(WGET) -q --show-progress --progress=bar -O FILE URL``, checks ``LIB*_ORIGIN_SHA256``
when defined (command-line values win), unpacks it and applies the library's ``patches/*.patch``
with ``patch -p1``. The "image" is a shell script, so no C compiler is needed: run, it prints the
application, the platform and the libraries it was built with. The tests build on the same
generator.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ukws.build.up import UpResult

#: Where the demo's repositories and archives claim to live; a rewrite rule maps it to DIR/upstream/.
DEMO_BASE = "https://demo.ukws.invalid/"
#: A fixed commit time (2024-01-01), so the same demo gives the same commits.
DEMO_TIME = 1_704_067_200
DEMO_TAG = "RELEASE-0.1.0"




@dataclass(frozen=True, slots=True, kw_only=True)
class Origin:
    """An origin archive a library downloads: its file name, bytes and sha256."""

    name: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def tarball(top: str, files: Mapping[str, str]) -> bytes:
    """A ``.tar.gz`` with ``top/<path>`` entries, byte-for-byte repeatable (fixed times and owners)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for path, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{path}")
            info.size, info.mtime, info.mode, info.uname, info.gname = len(data), DEMO_TIME, 0o644, "", ""
            tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def core_files() -> dict[str, bytes]:
    """The miniature core: ``Makefile`` and ``Config.uk`` shipped in ``ukws/build/minicore/``."""
    from importlib import resources

    folder = resources.files("ukws.build").joinpath("minicore")
    return {name: folder.joinpath(name).read_bytes() for name in ("Makefile", "Config.uk")} | {
        "README": b"A miniature Unikraft-like core, written by 'ukws demo'.\n"
    }


def library_files(
    lib: str,
    *,
    url: str,
    origin: Origin,
    top: str,
    checksum: str | None,
    selects: tuple[str, ...] = (),
    patches: Mapping[str, str] | None = None,
) -> dict[str, bytes]:
    """A library: ``Config.uk`` (``LIB<NAME>``, selecting ``selects``), ``Makefile.uk`` fetching
    ``url`` (checked against ``checksum`` when given) and ``patches/``."""
    sym = lib.upper()
    sel = "".join(f"\tselect {s}\n" for s in selects)
    lines = [f"$(eval $(call addlib,{lib}))"]
    if checksum is not None:
        lines.append(f"{sym}_ORIGIN_SHA256 = {checksum}")
    lines += [
        f"{sym}_URL = {url}",
        f"$(eval $(call fetch,{lib},$({sym}_URL)))",
        f"UK_IMAGE_TEXT += $({sym}_ORIGIN)/{top}/message.txt",
    ]
    files = {
        "Config.uk": f'menuconfig {sym}\n\tbool "{lib}"\n{sel}'.encode(),
        "Makefile.uk": ("\n".join(lines) + "\n").encode(),
        "README": f"{lib}: a library of the ukws demo ({origin.name})\n".encode(),
    }
    for name, text in (patches or {}).items():
        files[f"patches/{name}"] = text.encode()
    return files


def app_files(name: str, *, selects: tuple[str, ...], message: str) -> dict[str, bytes]:
    sym = "APP" + name.upper().replace("-", "")
    sel = "".join(f"\tselect {s}\n" for s in selects)
    return {
        "Config.uk": f"config {sym}\n\tbool\n\tdefault y\n{sel}".encode(),
        "Makefile.uk": f"$(eval $(call addlib,{sym.lower()}))\nUK_IMAGE_TEXT += $({sym}_BASE)/message.txt\n".encode(),
        "message.txt": f"{message}\n".encode(),
        "Makefile": (
            b"UK_ROOT ?= $(PWD)/../../unikraft\nUK_LIBS ?= $(PWD)/../../libs\n"
            b"LIBS := $(UK_LIBS)/shout:$(UK_LIBS)/hello\n\n"
            b"all:\n\t@$(MAKE) -C $(UK_ROOT) A=$(PWD) L=$(LIBS)\n\n$(MAKECMDGOALS):\n"
            b"\t@$(MAKE) -C $(UK_ROOT) A=$(PWD) L=$(LIBS) $(MAKECMDGOALS)\n"
        ),
    }


HELLO_PATCH = """--- a/hello-1.0/message.txt
+++ b/hello-1.0/message.txt
@@ -1 +1 @@
-libhello: hello 1.0
+libhello: hello 1.0, patched by lib-hello
"""


def origins() -> dict[str, Origin]:
    """The demo libraries' origin archives, by library."""
    shout = tarball("shout-2.0", {"message.txt": "libshout: SHOUT 2.0\n"})
    hello = tarball("hello-1.0", {"message.txt": "libhello: hello 1.0\n"})
    return {
        "libshout": Origin(name="shout-2.0.tar.gz", data=shout),
        "libhello": Origin(name="hello-1.0.tar.gz", data=hello),
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class Demo:
    """What :func:`create_demo` wrote."""

    root: Path
    manifest: Path
    upstream: Path
    rewrite: str
    """The rewrite rule that points :data:`DEMO_BASE` at ``upstream``."""
    commits: Mapping[str, str]
    """Repository name -> commit."""
    up: UpResult | None = None
    """With ``ukws demo --up`` or ``--run``: what ``ukws up`` did over it."""


def demo_manifest(*, fetch: str = DEMO_BASE + "git/", targets: str = "") -> str:
    targets = targets or '      <x-target plat="linuxu" arch="x86_64"/>\n'
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<!-- The ukws demo: a miniature Unikraft core, two libraries and an application. -->\n"
        "<manifest>\n"
        f'  <remote name="demo" fetch="{fetch}"/>\n'
        f'  <default remote="demo" revision="refs/tags/{DEMO_TAG}"/>\n\n'
        '  <project name="unikraft" path="unikraft" x-role="core"/>\n'
        '  <project name="lib-shout" path="libs/shout" x-role="library"/>\n'
        '  <project name="lib-hello" path="libs/hello" x-role="library"/>\n'
        '  <project name="app-demo" path="apps/demo" x-role="application">\n'
        "    <x-app>\n"
        f"{targets}"
        "    </x-app>\n"
        "  </project>\n"
        "</manifest>\n"
    )


def create_demo(root: Path, *, origin_base: str = DEMO_BASE + "origins/") -> Demo:
    """Write the demo ecosystem under ``root`` (repositories and archives in ``root/upstream/``,
    the manifest in ``root/demo.xml``). Writing it again gives the same commits."""
    from ukws import git

    upstream = root / "upstream"
    (upstream / "git").mkdir(parents=True, exist_ok=True)
    (upstream / "origins").mkdir(parents=True, exist_ok=True)
    arch = origins()
    for o in arch.values():
        (upstream / "origins" / o.name).write_bytes(o.data)
    repos: dict[str, tuple[dict[str, bytes], frozenset[str]]] = {
        "unikraft": (core_files(), frozenset()),
        "lib-shout": (
            library_files(
                "libshout", url=origin_base + arch["libshout"].name, origin=arch["libshout"], top="shout-2.0",
                checksum=None,
            ),
            frozenset(),
        ),
        "lib-hello": (
            library_files(
                "libhello", url=origin_base + arch["libhello"].name, origin=arch["libhello"], top="hello-1.0",
                checksum=arch["libhello"].sha256, selects=("LIBSHOUT",), patches={"0001-greeting.patch": HELLO_PATCH},
            ),
            frozenset(),
        ),
        "app-demo": (
            app_files("demo", selects=("LIBHELLO",), message="app-demo: Hello world!"),
            frozenset(),
        ),
    }
    commits = {
        name: git.commit_files(
            upstream / "git" / name, files, message=f"{name} {DEMO_TAG}", when=DEMO_TIME, executable=exe,
            tags=(DEMO_TAG,),
        )
        for name, (files, exe) in repos.items()
    }
    manifest = root / "demo.xml"
    manifest.write_text(demo_manifest(), encoding="utf-8")
    rewrite = f"{DEMO_BASE}={upstream.resolve().as_uri()}/"
    return Demo(root=root, manifest=manifest, upstream=upstream, rewrite=rewrite, commits=commits)
