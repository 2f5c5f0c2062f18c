"""Group selection with repo's semantics.

A selector list such as ``default,-notdefault,name:foo`` is read left to right; an entry selects a
project that has that group, an entry with a leading ``-`` deselects it, and the last entry that
matches wins. An empty selector list means :func:`default_selection`.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable

from ukws.manifest.model import Manifest, Project

_SPLIT = re.compile(r"[,\s]+")


def default_selection() -> str:
    """repo's default group selection: ``default,platform-<os>`` (``platform-linux`` on Linux,
    ``platform-darwin`` on macOS), so that projects marked ``notdefault,platform-linux`` (host
    prebuilts of AOSP branches) are synced on that system only. The system's name is uname's, as
    repo's ``platform.system()`` gives it on a POSIX system (without importing :mod:`platform`)."""
    return f"default,platform-{os.uname().sysname.lower()}"


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


def group_filter(selectors: str | tuple[str, ...] | None) -> Callable[[Project], bool]:
    """:func:`matches_groups` for one selector list, as a test of a project.

    When no selector names a project (``name:``, ``path:``), the answer depends on a project's
    groups alone: it is worked out once per distinct groups tuple, as a large manifest repeats a
    few group lists over thousands of projects."""
    items = selectors if isinstance(selectors, tuple) else parse_selectors(selectors)
    if any(item.removeprefix("-").startswith(("name:", "path:")) for item in items):
        return lambda project: matches_groups(project, items)
    known: dict[tuple[str, ...], bool] = {}

    def test(project: Project) -> bool:
        answer = known.get(project.groups)
        if answer is None:
            answer = known[project.groups] = matches_groups(project, items)
        return answer

    return test


def select_groups(manifest: Manifest, selectors: str | None) -> Manifest:
    """The manifest with only the projects the selector list selects."""
    selected = group_filter(selectors)
    kept = tuple(p for p in manifest.projects if selected(p))
    return dataclasses.replace(manifest, projects=kept)
