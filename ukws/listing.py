"""What ``ukws list`` reports about each project of a manifest."""

from __future__ import annotations

from collections.abc import Mapping
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


def list_projects(
    manifest: Manifest, groups: str | None = None, state: Mapping[str, tuple[bool, bool]] | None = None
) -> tuple[ProjectRow, ...]:
    """The projects the group selection picks, in manifest order. With ``state`` (path -> (synced,
    at_pin); a project missing from it is neither), the rows of a workspace."""
    selectors = parse_selectors(groups)
    outside = (None, None)
    rows: list[ProjectRow] = []
    for p in manifest.projects:
        if not matches_groups(p, selectors):
            continue
        synced, at_pin = outside if state is None else state.get(p.path, (False, False))
        rows.append(
            ProjectRow(
                name=p.name,
                path=p.path,
                url=p.fetch_url,
                revision=p.revision,
                groups=p.groups,
                role=p.role.value if p.role else None,
                synced=synced,
                at_pin=at_pin,
            )
        )
    return tuple(rows)
