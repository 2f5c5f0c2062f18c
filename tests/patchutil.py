"""A workspace with a core, a library and an application whose manifest carries an ``<x-patch>`` series."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.gitutil import commit, file_url, init_repo

MAKEFILE_013 = (
    "UK_ROOT ?= $(PWD)/../../unikraft\n"
    "UK_LIBS ?= $(PWD)/../../libs\n"
    "LIBS :=\n"
    "\n"
    "all:\n"
    "\t@$(MAKE) -C $(UK_ROOT) A=$(PWD) L=$(LIBS)\n"
    "\n"
    "$(MAKECMDGOALS):\n"
    "\t@$(MAKE) -C $(UK_ROOT) A=$(PWD) L=$(LIBS) $(MAKECMDGOALS)\n"
)
MAKEFILE_UK = "$(eval $(call addlib,apphello))\nAPPHELLO_SRCS-y += $(APPHELLO_BASE)/main.c\n"
APP_FILES: dict[str, str] = {
    "Makefile": MAKEFILE_013,
    "Makefile.uk": MAKEFILE_UK,
    "main.c": "int main(void) { return 0; }\n",
}

# A git-format patch adding Config.uk, and a plain unified diff changing Makefile.uk.
ADD_CONFIG = """Add the application's Kconfig.

diff --git a/Config.uk b/Config.uk
new file mode 100644
--- /dev/null
+++ b/Config.uk
@@ -0,0 +1,3 @@
+config APPHELLO
+\tbool "hello"
+\tdefault y
"""
CHANGE_MAKEFILE_UK = """--- hello.orig/Makefile.uk\t2024-01-01 00:00:00
+++ hello/Makefile.uk\t2024-01-01 00:00:00
@@ -1,2 +1,3 @@
 $(eval $(call addlib,apphello))
 APPHELLO_SRCS-y += $(APPHELLO_BASE)/main.c
+APPHELLO_CFLAGS-y += -DHELLO=1
"""
SERIES = {"0001-config.patch": ADD_CONFIG, "0002-cflags.patch": CHANGE_MAKEFILE_UK}
CORE_MAKEFILE = "all:\n\t@echo core A=$(A) L=$(L) O=$(O)\n"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class World:
    up: Path
    """Bare repositories: unikraft, lib-newlib, app-hello."""
    manifest: Path
    """The manifest file (patches next to it)."""


def make_world(
    tmp: Path,
    *,
    patches: Mapping[str, str] | None = None,
    app_files: Mapping[str, str] | None = None,
    sha_override: Mapping[str, str] | None = None,
    subdir: str = "",
) -> World:
    """Served repositories and a manifest ``<tmp>/m/manifest.xml`` with the patches beside it."""
    up = tmp / "up"
    commit(init_repo(up / "unikraft", bare=True), {"Makefile": CORE_MAKEFILE, "Config.uk": "# core\n"}, "core")
    commit(init_repo(up / "lib-newlib", bare=True), {"Makefile.uk": "# newlib\n", "Config.uk": "# newlib\n"})
    commit(init_repo(up / "app-hello", bare=True), dict(app_files if app_files is not None else APP_FILES))
    series = patches if patches is not None else SERIES
    folder = tmp / "m"
    (folder / "patches").mkdir(parents=True)
    entries = []
    for name, text in series.items():
        (folder / "patches" / name).write_text(text)
        digest = (sha_override or {}).get(name, sha256(text))
        entries.append(f'      <x-patch path="patches/{name}" sha256="{digest}"/>')
    sub = f' subdir="{subdir}"' if subdir else ""
    manifest = folder / "manifest.xml"
    manifest.write_text(
        "\n".join(
            [
                '<?xml version="1.0" encoding="UTF-8"?>',
                "<manifest>",
                f'  <remote name="up" fetch="{file_url(up)}/"/>',
                '  <default remote="up" revision="main"/>',
                '  <project name="unikraft" path="unikraft" x-role="core"/>',
                '  <project name="lib-newlib" path="libs/newlib" x-role="library"/>',
                '  <project name="app-hello" path="apps/hello" x-role="application">',
                f'    <x-app{sub} libraries="lib-newlib">',
                *entries,
                '      <x-target plat="kvm" arch="x86_64"/>',
                "    </x-app>",
                "  </project>",
                "</manifest>",
                "",
            ]
        )
    )
    return World(up=up, manifest=manifest)
