"""Pointing an application's Makefile at the workspace's core and libraries. Pure text, no I/O.

Unikraft application Makefiles name the core and libraries in a few variables, with three layouts
over the releases: ``$(PWD)/../../unikraft`` (up to 0.13), ``$(PWD)/.unikraft/unikraft`` (0.14) and
``$(PWD)/workdir/unikraft`` with ``UK_BUILD`` (0.15 on). :func:`point` rewrites the assignments of
``UK_ROOT``, ``UK_LIBS``, ``UK_BUILD`` and ``LIBS`` (and ``A=$(PWD)`` in recipes) to name the
workspace's folders relative to the Makefile's own folder, so the workspace can move; every other
byte, comments and line endings included, is kept. :func:`generate` writes a Makefile for an
application that has none (only a Kraftfile or kraft.yaml).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ukws.manifest.model import Manifest, Project, Role

VARIABLES = ("UK_ROOT", "UK_LIBS", "UK_BUILD", "LIBS")
HERE = "$(CURDIR)"
"""The Makefile's folder when make runs there (``make -C APP`` or ``cd APP; make``); ``$(PWD)`` is
the shell's folder, wrong under ``make -C``."""

_ASSIGN = re.compile(
    rb"^(?P<head>[ ]*(?:override[ ]+)?(?P<var>UK_ROOT|UK_LIBS|UK_BUILD|LIBS)[ \t]*(?:\?=|::=|:=|=))"
    rb"(?P<space>[ \t]*)(?P<value>.*?)(?P<comment>[ \t]*(?<!\\)#.*)?$"
)
_RECIPE_A = re.compile(rb"(?<=[\s@])A=\$[({]PWD[)}]")
HAND_BUILD = "make"
"""The build folder of a make run by hand in the application folder: ``build/<app>/make``."""
APP_MARKERS = ("Kraftfile", "kraft.yaml", "kraft.yml", "Makefile.uk", "Config.uk")
"""Files that make a folder without a Makefile a Unikraft application (it gets one written)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Layout:
    """Where the workspace's folders are, relative to the application's folder ('/'-separated)."""

    core: str | None
    """The core's folder; None when the manifest has no core."""
    libs_dir: str | None
    """The folder holding the library projects (their common parent); None without libraries."""
    libs: tuple[str, ...]
    """The ``L=`` list, in order."""
    build: str
    """The build folder for a make run by hand."""

    @staticmethod
    def of(
        app_dir: str, *, core: str | None, libraries: Sequence[str], all_libraries: Sequence[str], build: str
    ) -> Layout:
        """Workspace-relative paths made relative to ``app_dir`` (workspace-relative too)."""

        def rel(path: str) -> str:
            return posixpath.relpath(path or ".", app_dir or ".")

        libs_dir: str | None = None
        if all_libraries:
            parents = [posixpath.dirname(p) for p in all_libraries]
            common = posixpath.commonpath(parents) if all(parents) else ""
            libs_dir = rel(common)
        return Layout(
            core=rel(core) if core is not None else None,
            libs_dir=libs_dir,
            libs=tuple(rel(p) for p in libraries),
            build=rel(build),
        )


def _path(rel: str) -> str:
    return f"$(abspath {HERE}/{rel})" if rel != "." else HERE


def _libs_value(layout: Layout, *, uk_libs: bool = True) -> str:
    """The ``L=`` list; entries below the libraries' folder as ``$(UK_LIBS)/...`` when the Makefile
    sets ``UK_LIBS`` (``uk_libs``)."""
    entries = []
    for lib in layout.libs:
        base = layout.libs_dir if uk_libs else None
        if base is not None and base != "." and lib.startswith(base + "/"):
            entries.append(f"$(UK_LIBS)/{lib[len(base) + 1:]}")
        else:
            entries.append(_path(lib))
    return ":".join(entries)


def _value(var: str, layout: Layout, *, uk_libs: bool) -> str | None:
    if var == "UK_ROOT":
        return _path(layout.core) if layout.core is not None else None
    if var == "UK_LIBS":
        return _path(layout.libs_dir) if layout.libs_dir is not None else None
    if var == "UK_BUILD":
        return _path(layout.build)
    return _libs_value(layout, uk_libs=uk_libs)


@dataclass(frozen=True, slots=True, kw_only=True)
class Pointed:
    text: bytes
    variables: tuple[str, ...]
    """The variables whose assignments name the workspace (edited or already right)."""


def is_unikraft_makefile(text: bytes) -> bool:
    """Whether a Makefile assigns ``UK_ROOT`` (as Unikraft application Makefiles do)."""
    return any((m := _ASSIGN.match(line)) is not None and m.group("var") == b"UK_ROOT" for line in _logical(text))


def _logical(text: bytes) -> list[bytes]:
    return [line.rstrip(b"\r\n") for line in text.splitlines(keepends=True)]


def point(text: bytes, layout: Layout) -> Pointed:
    """``text`` with the assignments of :data:`VARIABLES` naming the workspace's folders, and
    ``A=$(PWD)`` in recipes made ``A=$(CURDIR)``. Only those lines change."""
    out: list[bytes] = []
    found: list[str] = []
    lines = text.splitlines(keepends=True)
    uk_libs = layout.libs_dir is not None and any(
        (m := _ASSIGN.match(line)) is not None and m.group("var") == b"UK_LIBS" for line in _logical(text)
    )
    i = 0
    while i < len(lines):
        raw = lines[i]
        body = raw.rstrip(b"\r\n")
        eol = raw[len(body):]
        if raw.startswith(b"\t"):
            out.append(_RECIPE_A.sub(f"A={HERE}".encode(), body) + eol)
            i += 1
            continue
        m = _ASSIGN.match(body)
        if m is None:
            out.append(raw)
            i += 1
            continue
        # A value continued over several lines (trailing backslash) is replaced as a whole.
        last = i
        while lines[last].rstrip(b"\r\n").endswith(b"\\") and last + 1 < len(lines):
            last += 1
        var = m.group("var").decode()
        value = _value(var, layout, uk_libs=uk_libs)
        if value is not None and var not in found:
            found.append(var)
        if value is None:
            out.extend(lines[i:last + 1])
        else:
            if last > i:  # the comment, if any, is on the last line
                m_last = re.search(rb"[ \t]*(?<!\\)#.*$", lines[last].rstrip(b"\r\n"))
                comment = m_last.group(0) if m_last else b""
                eol = lines[last][len(lines[last].rstrip(b"\r\n")):]
            else:
                comment = m.group("comment") or b""
            space = m.group("space") or (b" " if value else b"")
            out.append(m.group("head") + space + value.encode() + comment + eol)
        i = last + 1
    return Pointed(text=b"".join(out), variables=tuple(found))


def generate(layout: Layout) -> bytes:
    """A Makefile for an application folder that has none, in the layout of Unikraft 0.15 on."""
    libs = _libs_value(layout, uk_libs=layout.libs_dir is not None)
    lines = [
        "# Written by 'ukws patch-app': builds this application against the workspace's core and",
        "# libraries ('ukws patch-app --revert' removes it).",
        f"UK_ROOT ?= {_path(layout.core) if layout.core is not None else '$(error no core in the manifest)'}",
    ]
    if layout.libs_dir is not None:
        lines.append(f"UK_LIBS ?= {_path(layout.libs_dir)}")
    lines += [
        f"UK_BUILD ?= {_path(layout.build)}",
        f"LIBS := {libs}" if libs else "LIBS :=",
        "",
        "all:",
        f"\t@$(MAKE) -C $(UK_ROOT) A={HERE} L=$(LIBS) O=$(UK_BUILD)",
        "",
        "$(MAKECMDGOALS):",
        f"\t@$(MAKE) -C $(UK_ROOT) A={HERE} L=$(LIBS) O=$(UK_BUILD) $(MAKECMDGOALS)",
    ]
    return ("\n".join(lines) + "\n").encode()


def layout_for(manifest: Manifest, p: Project, libraries: Sequence[str]) -> Layout:
    """Where application ``p``'s Makefile must point: the manifest's core, its libraries' folder,
    ``libraries`` (workspace paths, in ``L=`` order) and ``build/<app>/make``."""
    subdir = p.app.subdir if p.app is not None else ""
    cores = manifest.by_role(Role.CORE)
    return Layout.of(
        posixpath.join(p.path, subdir) if subdir else p.path,
        core=cores[0].path if cores else None,
        libraries=libraries,
        all_libraries=[x.path for x in manifest.by_role(Role.LIBRARY)],
        build=posixpath.join("build", p.name, HAND_BUILD),
    )
