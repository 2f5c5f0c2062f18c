"""What ``ukws list`` reports about each project of a manifest."""

from __future__ import annotations

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
