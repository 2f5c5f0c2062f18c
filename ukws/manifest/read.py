"""Step 1 of loading a manifest: read files and replace each ``<include>`` by what it names.

Included projects inherit the include's ``groups`` and ``revision`` (repo's rules). Problems are
collected, never raised, so that one run reports all of them.
"""

from __future__ import annotations

import os
import posixpath
import re
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


def split_groups(value: str | None) -> tuple[str, ...]:
    """Groups as repo splits them: on commas and white space, empty items dropped."""
    if not value:
        return ()
    return tuple(g for g in _SPLIT.split(value) if g)


@dataclass(slots=True)
class Node:
    """A top-level element of the flattened manifest, with what its includes gave it."""

    el: etree._Element
    file: str
    groups: tuple[str, ...] = ()
    revision: str | None = None
    base: str = ""
    """The folder of the file this element is written in, relative to the include root
    ('' for the top-level manifest): file paths written in it are relative to that folder."""

    @property
    def loc(self) -> Location:
        return Location(file=self.file, line=line_of(self.el))


@dataclass(slots=True)
class Reader:
    manifest_url: str | None
    manifest_dir: Path
    display_dir: str = ""
    """How the include root is named in messages."""
    problems: list[Problem] = field(default_factory=list)

    # -- step 1: files and includes -------------------------------------------------------------

    def problem(self, loc: Location, message: str) -> None:
        self.problems.append(Problem(loc=loc, message=message))

    def read(
        self,
        path: Path,
        display: str,
        include_root: Path,
        groups: tuple[str, ...],
        revision: str | None,
        chain: tuple[str, ...],
        at: Location | None,
        *,
        base: str = "",
    ) -> list[Node]:
        try:
            data = path.read_bytes()
        except OSError as e:
            where = at or Location(file=display)
            reason = "no such file" if isinstance(e, FileNotFoundError) else e.strerror or str(e)
            self.problem(where, f"cannot read manifest {display}: {reason}")
            return []
        try:
            root = etree.fromstring(any_xml_version(data), xml_parser())
        except etree.XMLSyntaxError as e:
            line = e.lineno or 1
            msg = (e.msg or str(e)).split(f", line {line}")[0]
            self.problem(Location(file=display, line=line), f"XML syntax error: {msg}")
            return []
        except (etree.LxmlError, ValueError) as e:
            self.problem(Location(file=display, line=1), f"not a readable XML document: {e}")
            return []
        if not isinstance(root.tag, str) or root.tag != "manifest":
            tag = root.tag if isinstance(root.tag, str) else "?"
            self.problem(
                Location(file=display, line=(line_of(root) or 1)),
                f"not a manifest: the root element is <{tag}>, expected <manifest>",
            )
            return []
        nodes: list[Node] = []
        for el in root:
            if not isinstance(el.tag, str):
                continue
            loc = Location(file=display, line=line_of(el))
            own_revision = el.get("revision") or revision if el.tag in ("include", "project") else None
            if el.tag == "include":
                nodes.extend(self._include(el, loc, display, include_root, groups, own_revision, chain))
                continue
            node_groups = groups
            if groups and el.tag in ("project", "extend-project"):
                node_groups = tuple(sorted(set(groups) | set(split_groups(el.get("groups")))))
            nodes.append(Node(el=el, file=display, groups=node_groups, revision=own_revision, base=base))
        return nodes

    def _include(
        self,
        el: etree._Element,
        loc: Location,
        display: str,
        include_root: Path,
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
        target = include_root / name
        key = os.path.normpath(str(target.resolve()))
        shown = os.path.join(self.display_dir, name) if self.display_dir else name
        if key in chain:
            names = [*chain_names(chain), shown]
            self.problem(loc, "include cycle: " + " -> ".join(names))
            return []
        inc_groups = tuple(sorted(set(groups) | set(split_groups(el.get("groups")))))
        return self.read(
            target, shown, include_root, inc_groups, revision, (*chain, key), loc, base=posixpath.dirname(name)
        )


def chain_names(chain: tuple[str, ...]) -> list[str]:
    return [os.path.basename(c) for c in chain]
