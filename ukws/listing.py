"""What ``ukws list`` reports about each project of a manifest."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
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


def _selected(
    manifest: Manifest,
    groups: str | None,
    urls: Callable[[Project], Sequence[str]] | None,
    state: Mapping[str, tuple[bool, bool, str]] | None,
) -> Iterator[tuple[Project, str, tuple[bool | None, bool | None, str | None]]]:
    """Each project the group selection picks, in manifest order, with its URL after rewriting and
    its state: what both :func:`list_projects` and :func:`list_table` report."""
    selected = group_filter(groups)
    outside: tuple[None, None, None] = (None, None, None)
    missing = (False, False, "not synced")
    for p in manifest.projects:
        if not selected(p):
            continue
        candidates = tuple(urls(p)) if urls is not None else ()
        yield p, candidates[0] if candidates else p.fetch_url, outside if state is None else state.get(p.path, missing)


def list_projects(
    manifest: Manifest,
    groups: str | None = None,
    urls: Callable[[Project], Sequence[str]] | None = None,
    state: Mapping[str, tuple[bool, bool, str]] | None = None,
) -> tuple[ProjectRow, ...]:
    """The projects the group selection picks, in manifest order; ``urls`` gives a project's fetch
    URLs after URL rewriting (default: the manifest's URL). With ``state`` (path -> (synced, at_pin,
    state); a project missing from it is not synced), the rows of a workspace."""
    return tuple(
        ProjectRow(
            name=p.name,
            path=p.path,
            url=url,
            manifest_url=p.fetch_url,
            revision=p.revision,
            groups=p.groups,
            role=p.role.value if p.role else None,
            synced=synced,
            at_pin=at_pin,
            state=where,
        )
        for p, url, (synced, at_pin, where) in _selected(manifest, groups, urls, state)
    )


TableRow = tuple[str, str, str, str, str, str, str]
"""One line of ``ukws list``: path, name, revision, state, URL, role, groups (comma-separated);
empty strings for what a row has not."""


def list_table(
    manifest: Manifest,
    groups: str | None = None,
    urls: Callable[[Project], Sequence[str]] | None = None,
    state: Mapping[str, tuple[bool, bool, str]] | None = None,
    *,
    manifest_urls: bool = False,
) -> list[TableRow]:
    """What :func:`list_projects` reports, as the text columns of ``ukws list`` (the URL as the
    manifest gives it with ``manifest_urls``), without building a :class:`ProjectRow` per project."""
    joined: dict[tuple[str, ...], str] = {}  # a manifest repeats a few groups lists many times
    return [
        (
            p.path,
            p.name,
            p.revision,
            where or "",
            p.fetch_url if manifest_urls else url,
            p.role.value if p.role else "",
            joined.get(p.groups) or joined.setdefault(p.groups, ",".join(p.groups)),
        )
        for p, url, (_, _, where) in _selected(manifest, groups, urls, state)
    ]
