"""What ``ukws list`` reports about each project of a manifest."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ukws.manifest.groups import matches_groups, parse_selectors
from ukws.manifest.model import Manifest


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectRow:
    name: str
    path: str
    url: str
    revision: str
    groups: tuple[str, ...]
    role: str | None
    synced: bool | None = None
    """Whether the project is checked out in the workspace (None outside a workspace)."""
    at_pin: bool | None = None
    """Whether its checkout is at the manifest's (or the lock's) revision (None outside a workspace)."""


def list_projects(manifest: Manifest, groups: str | None = None) -> tuple[ProjectRow, ...]:
    """The projects the group selection picks, in manifest order."""
    selectors = parse_selectors(groups)
    return tuple(
        ProjectRow(
            name=p.name,
            path=p.path,
            url=p.fetch_url,
            revision=p.revision,
            groups=p.groups,
            role=p.role.value if p.role else None,
        )
        for p in manifest.projects
        if matches_groups(p, selectors)
    )


def with_state(rows: tuple[ProjectRow, ...], state: dict[str, tuple[bool, bool]]) -> tuple[ProjectRow, ...]:
    """Rows with ``synced`` and ``at_pin`` filled from ``state`` (path -> (synced, at_pin))."""
    return tuple(
        dataclasses.replace(r, synced=state.get(r.path, (False, False))[0], at_pin=state.get(r.path, (False, False))[1])
        for r in rows
    )
