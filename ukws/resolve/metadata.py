"""Version requests that projects carry themselves: ``ukws.toml`` and Kraftfiles.

``ukws.toml`` at a project's root (an application's: in its subdir) says what that revision of the
project needs from others::

    # ukws.toml
    [requires]
    unikraft = ">=0.13,<0.14"     # a PEP 440 specifier
    lib-musl = "0.13.1"           # a version: exactly that release
    lib-lwip = "staging"          # a channel: that branch

A Kraftfile (``Kraftfile``, ``kraft.yaml`` or ``kraft.yml``) contributes its ``unikraft:`` entry
(on the core) and its ``libraries:`` entries (``musl`` is the project ``lib-musl``); a string value
or the ``version:`` of a mapping counts. kraft resolves the channels ``stable`` and ``staging``
itself when it builds, so in a Kraftfile they are shown as notes, not enforced.

This module parses bytes; reading them from git is the caller's business.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass

import yaml

METADATA_FILE = "ukws.toml"
KRAFTFILES = ("Kraftfile", "kraft.yaml", "kraft.yml")
CORE_NAMES = ("unikraft", "core")


@dataclass(frozen=True, slots=True, kw_only=True)
class Wish:
    """One version request as written in project metadata."""

    name: str
    """The name as written: a project name, ``unikraft``, or a Kraftfile library name (``musl``)."""
    text: str
    """The request as written: a version, a specifier or a channel name."""
    file: str
    line: int
    kraft: bool = False
    """From a Kraftfile (whose channel names are not enforced)."""
    core: bool = False
    """The Kraftfile's ``unikraft:`` entry."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Metadata:
    wishes: tuple[Wish, ...] = ()
    problems: tuple[str, ...] = ()
    """Why (part of) a file was skipped, as ``file:line: message``."""


def _line_of(text: str, key: str, section: str) -> int:
    in_section = False
    pattern = re.compile(rf"""^\s*(["']?){re.escape(key)}\1\s*=""")
    for i, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_section = stripped.strip("[] ") == section
            continue
        if in_section and pattern.match(line):
            return i
    return 0


def parse_ukws_toml(data: bytes, file: str) -> Metadata:
    """The ``[requires]`` table of a ukws.toml."""
    text = data.decode("utf-8", "replace")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        return Metadata(problems=(f"{file}: not valid TOML ({e}); ignored",))
    requires = doc.get("requires", {})
    if not isinstance(requires, dict):
        return Metadata(problems=(f'{file}: [requires] must be a table of project = "version"; ignored',))
    wishes: list[Wish] = []
    problems: list[str] = []
    for name, value in requires.items():
        line = _line_of(text, name, "requires")
        if not isinstance(value, str):
            problems.append(f"{file}:{line}: requires.{name} must be a string; ignored")
            continue
        wishes.append(Wish(name=name, text=value, file=file, line=line))
    return Metadata(wishes=tuple(wishes), problems=tuple(problems))


def _entries(node: yaml.Node) -> Iterator[tuple[str, yaml.Node]]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                yield str(key.value), value


def _version_of(node: yaml.Node) -> tuple[str, int] | None:
    """A Kraftfile entry's version: a scalar, or the ``version:`` of a mapping."""
    if isinstance(node, yaml.ScalarNode):
        return str(node.value), node.start_mark.line + 1
    for key, value in _entries(node):
        if key == "version" and isinstance(value, yaml.ScalarNode):
            return str(value.value), value.start_mark.line + 1
    return None


def parse_kraftfile(data: bytes, file: str) -> Metadata:
    """The ``unikraft:`` and ``libraries:`` entries of a Kraftfile."""
    try:
        root = yaml.compose(data.decode("utf-8", "replace"), Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{file}:{mark.line + 1}" if mark is not None else file
        return Metadata(problems=(f"{where}: not valid YAML; ignored",))
    if root is None:
        return Metadata()
    wishes: list[Wish] = []
    for key, value in _entries(root):
        if key == "unikraft":
            found = _version_of(value)
            if found and found[0]:
                wishes.append(
                    Wish(name="unikraft", text=found[0], file=file, line=found[1], kraft=True, core=True)
                )
        elif key == "libraries":
            for lib, spec in _entries(value):
                found = _version_of(spec)
                if found and found[0]:
                    wishes.append(Wish(name=lib, text=found[0], file=file, line=found[1], kraft=True))
    return Metadata(wishes=tuple(wishes))
