"""Step 1 of loading a manifest: read files and replace each ``<include>`` by what it names.

Included projects inherit the include's ``groups`` and ``revision`` (repo's rules). Problems are
collected, never raised, so that one run reports all of them.
"""

from __future__ import annotations

import functools
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ukws.errors import Location, Problem
from ukws.manifest.paths import check_path
from ukws.manifest.xmlutil import line_of

_SPLIT = re.compile(r"[,\s]+")
_XML_VERSION = re.compile(rb"""^(\xef\xbb\xbf)?(<\?xml\s+version\s*=\s*)(["'])([^"'?]*)\3""")


def any_xml_version(data: bytes) -> bytes:
    """``data`` with the version of its XML declaration read as 1.0. repo's parser (expat) accepts
    any version (``<?xml version="2.0"?>`` heads real manifests); libxml2 refuses all but 1.x."""
    m = _XML_VERSION.match(data)
    if m is None or m.group(4).startswith(b"1."):
        return data
    return data[: m.start(4)] + b"1.0" + data[m.end(4) :]


def xml_parser() -> etree.XMLParser:
    # No DTD loading, no entity expansion, no network: a manifest is data, never a program.
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
    )


#: The largest manifest file read (AOSP's default.xml, over a thousand projects, is about 100 KiB).
MAX_MANIFEST_BYTES = 16 * 1024 * 1024

_KINDS = (
    (stat.S_ISDIR, "Is a directory"),
    (stat.S_ISFIFO, "not a regular file (a FIFO)"),
    (stat.S_ISCHR, "not a regular file (a character device)"),
    (stat.S_ISBLK, "not a regular file (a block device)"),
    (stat.S_ISSOCK, "not a regular file (a socket)"),
)


class Unreadable(Exception):
    """A manifest file that is not read: the reason, in a few words."""


def _not_regular(mode: int) -> str | None:
    for test, reason in _KINDS:
        if test(mode):
            return reason
    return None if stat.S_ISREG(mode) else "not a regular file"


def read_manifest_file(path: Path) -> bytes:
    """The bytes of the regular file at ``path`` (symlinks followed), at most
    :data:`MAX_MANIFEST_BYTES`. A FIFO, a device or anything else that is not a regular file is
    never opened for reading, so it can neither block nor stream without end."""
    try:
        if why := _not_regular(os.stat(path).st_mode):
            raise Unreadable(why)
        # O_NONBLOCK: should the path turn into a FIFO between the stat and the open, the open
        # returns at once and the fstat below refuses it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise Unreadable("no such file") from None
    except OSError as e:
        raise Unreadable(e.strerror or str(e)) from None
    try:
        st = os.fstat(fd)
        if why := _not_regular(st.st_mode):
            raise Unreadable(why)
        too_big = f"larger than {MAX_MANIFEST_BYTES // (1024 * 1024)} MiB"
        if st.st_size > MAX_MANIFEST_BYTES:
            raise Unreadable(too_big)
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, 1 << 20):  # a file growing while it is read stops at the cap too
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_MANIFEST_BYTES:
                raise Unreadable(too_big)
        return b"".join(chunks)
    except OSError as e:
        raise Unreadable(e.strerror or str(e)) from None
    finally:
        os.close(fd)


@functools.lru_cache(maxsize=1024)
def split_groups(value: str | None) -> tuple[str, ...]:
    """Groups as repo splits them: on commas and white space, empty items dropped. (Cached: a large
    manifest repeats a few group lists over thousands of projects.)"""
    if not value:
        return ()
    return tuple(g for g in _SPLIT.split(value) if g)


@functools.lru_cache(maxsize=1024)
def merge_groups(inherited: tuple[str, ...], own: str | None) -> tuple[str, ...]:
    """An included element's groups: those of its includes and its own, sorted, each once."""
    return tuple(sorted(set(inherited) | set(split_groups(own))))


@dataclass(slots=True)
class Node:
    """A top-level element of the flattened manifest, with what its includes gave it."""

    el: etree._Element
    file: str
    tag: str
    """The element's tag, read once (lxml makes a new string on each access)."""
    groups: tuple[str, ...] = ()
    revision: str | None = None
    base: str = ""
    """The folder of the file this element is written in, relative to the include root
    ('' for the top-level manifest): file paths written in it are relative to that folder."""

    @property
    def loc(self) -> Location:
        return Location(file=self.file, line=line_of(self.el))


@dataclass(frozen=True, slots=True, kw_only=True)
class IncludeRoot:
    """The folder include names are relative to: the top of the manifest repository (as in repo),
    or the folder of a manifest given as a plain file, or the local manifests folder."""

    path: Path
    shown: str = ""
    """How it is named in messages ('' for the current folder)."""

    def real(self) -> Path:
        return self.path.resolve()


@dataclass(slots=True)
class Reader:
    """A load in progress: reads files and includes (step 1), and collects every problem met."""

    manifest_url: str | None
    manifest_dir: Path
    """The folder of the top-level manifest: file paths in ``x-`` elements are relative to it."""
    problems: list[Problem] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    """Every file read (or tried), in the order read."""

    # -- step 1: files and includes -------------------------------------------------------------

    def problem(self, loc: Location, message: str) -> None:
        self.problems.append(Problem(loc=loc, message=message))

    def read(
        self,
        path: Path,
        display: str,
        root: IncludeRoot,
        groups: tuple[str, ...],
        revision: str | None,
        chain: tuple[str, ...],
        at: Location | None,
    ) -> list[Node]:
        """The top-level elements of the manifest file at ``path`` (shown as ``display``), its
        includes replaced by their elements."""
        base = Path(os.path.relpath(os.path.abspath(path.parent), os.path.abspath(self.manifest_dir))).as_posix()
        base = "" if base == "." else base
        self.files.append(path)
        try:
            data = read_manifest_file(path)
        except Unreadable as e:
            self.problem(at or Location(file=display), f"cannot read manifest {display}: {e}")
            return []
        try:
            doc = etree.fromstring(any_xml_version(data), xml_parser())
        except etree.XMLSyntaxError as e:
            line = e.lineno or 1
            msg = (e.msg or str(e)).split(f", line {line}")[0]
            self.problem(Location(file=display, line=line), f"XML syntax error: {msg}")
            return []
        except (etree.LxmlError, ValueError) as e:
            self.problem(Location(file=display, line=1), f"not a readable XML document: {e}")
            return []
        if not isinstance(doc.tag, str) or doc.tag != "manifest":
            tag = doc.tag if isinstance(doc.tag, str) else "?"
            self.problem(
                Location(file=display, line=(line_of(doc) or 1)),
                f"not a manifest: the root element is <{tag}>, expected <manifest>",
            )
            return []
        nodes: list[Node] = []
        merged: dict[str | None, tuple[str, ...]] = {}  # by an element's own groups: those it ends up with
        for el in doc:
            tag = el.tag
            if not isinstance(tag, str):
                continue
            own_revision = el.get("revision") or revision if tag == "project" or tag == "include" else None
            if tag == "include":
                loc = Location(file=display, line=line_of(el))
                nodes.extend(self._include(el, loc, root, groups, own_revision, chain))
                continue
            node_groups = groups
            if groups and (tag == "project" or tag == "extend-project"):
                own = el.get("groups")
                known = merged.get(own)
                node_groups = known if known is not None else merged.setdefault(own, merge_groups(groups, own))
            nodes.append(Node(el, display, tag, node_groups, own_revision, base))  # positional: cheaper per element
        return nodes

    def _include(
        self,
        el: etree._Element,
        loc: Location,
        root: IncludeRoot,
        groups: tuple[str, ...],
        revision: str | None,
        chain: tuple[str, ...],
    ) -> list[Node]:
        name = el.get("name")
        if not name:
            self.problem(loc, "<include> needs a name attribute")
            return []
        why = check_path(name)
        if why:
            self.problem(loc, f'<include name="{name}">: {why}')
            return []
        target = root.path / name
        shown = os.path.join(root.shown, name) if root.shown else name
        real = target.resolve()
        top = root.real()
        if real != top and top not in real.parents:
            self.problem(loc, f'<include name="{name}">: leads outside the manifest repository through a symlink')
            return []
        key = os.path.normpath(str(real))
        if key in chain:
            names = [*chain_names(chain), shown]
            self.problem(loc, "include cycle: " + " -> ".join(names))
            return []
        inc_groups = merge_groups(groups, el.get("groups"))
        return self.read(target, shown, root, inc_groups, revision, (*chain, key), loc)


def chain_names(chain: tuple[str, ...]) -> list[str]:
    return [os.path.basename(c) for c in chain]
