"""What ``ukws list`` reports about each project of a manifest."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ukws.manifest.fastinit import direct_init
from ukws.manifest.groups import group_filter
from ukws.manifest.model import Manifest, Project


@direct_init  # one per project listed
@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectRow:
    name: str
    path: str
    url: str
    """The URL the project is fetched from: the first after URL rewriting."""
    revision: str
    groups: tuple[str, ...]
    role: str | None
    synced: bool | None = None
    """Whether the project is checked out in the workspace (None outside a workspace)."""
    at_pin: bool | None = None
    """Whether its checkout is at the manifest's (or the lock's) revision (None outside a workspace)."""
    state: str | None = None
    """``at pin``, ``sync pending``, ``moved``, ``not synced`` or ``error`` (None outside a
    workspace; see :attr:`ukws.status.ProjectStatus.state`)."""
    manifest_url: str = ""
    """The URL as the manifest gives it."""


def list_projects(
    manifest: Manifest,
    groups: str | None = None,
    urls: Callable[[Project], Sequence[str]] | None = None,
    state: Mapping[str, tuple[bool, bool, str]] | None = None,
) -> tuple[ProjectRow, ...]:
    """The projects the group selection picks, in manifest order; ``urls`` gives a project's fetch
    URLs after URL rewriting (default: the manifest's URL). With ``state`` (path -> (synced, at_pin,
    state); a project missing from it is not synced), the rows of a workspace."""
    selected = group_filter(groups)
    outside = (None, None, None)
    missing = (False, False, "not synced")
    rows: list[ProjectRow] = []
    for p in manifest.projects:
        if not selected(p):
            continue
        candidates = tuple(urls(p)) if urls is not None else ()
        synced, at_pin, where = outside if state is None else state.get(p.path, missing)
        rows.append(
            ProjectRow(
                name=p.name,
                path=p.path,
                url=candidates[0] if candidates else p.fetch_url,
                manifest_url=p.fetch_url,
                revision=p.revision,
                groups=p.groups,
                role=p.role.value if p.role else None,
                synced=synced,
                at_pin=at_pin,
                state=where,
            )
        )
    return tuple(rows)
