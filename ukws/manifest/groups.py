"""Group selection with repo's semantics.

A selector list such as ``default,-notdefault,name:foo`` is read left to right; an entry selects a
project that has that group, an entry with a leading ``-`` deselects it, and the last entry that
matches wins. An empty selector list means :func:`default_selection`.
"""

from __future__ import annotations

import dataclasses
import platform
import re

from ukws.manifest.model import Manifest, Project

_SPLIT = re.compile(r"[,\s]+")


def default_selection() -> str:
    """repo's default group selection: ``default,platform-<os>`` (``platform-linux`` on Linux,
    ``platform-darwin`` on macOS), so that projects marked ``notdefault,platform-linux`` (host
    prebuilts of AOSP branches) are synced on that system only."""
    return f"default,platform-{platform.system().lower()}"


def parse_selectors(selectors: str | None) -> tuple[str, ...]:
    items = tuple(s for s in _SPLIT.split(selectors or "") if s)
    return items or tuple(default_selection().split(","))


def has_group(project: Project, group: str) -> bool:
    """Whether ``group`` is one of :meth:`Project.all_groups`, without building them all."""
    if group in project.groups or group == "all":
        return True
    if group == "default":
        return "notdefault" not in project.groups
    if group.startswith("name:"):
        return group[5:] == project.name
    return group.startswith("path:") and group[5:] == project.path


def matches_groups(project: Project, selectors: str | tuple[str, ...] | None) -> bool:
    items = selectors if isinstance(selectors, tuple) else parse_selectors(selectors)
    matched = False
    for item in items:
        if item.startswith("-"):
            if has_group(project, item[1:]):
                matched = False
        elif has_group(project, item):
            matched = True
    return matched


def select_groups(manifest: Manifest, selectors: str | None) -> Manifest:
    """The manifest with only the projects the selector list selects."""
    items = parse_selectors(selectors)
    kept = tuple(p for p in manifest.projects if matches_groups(p, items))
    return dataclasses.replace(manifest, projects=kept)
