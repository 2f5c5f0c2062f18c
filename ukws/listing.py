"""What ``ukws list`` reports about each project of a manifest, and in a workspace where each
project's checkout stands against its pin (the state column, which ``ukws status`` shares)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ukws.errors import UkwsError
from ukws.manifest.fastinit import direct_init
from ukws.manifest.groups import group_filter
from ukws.manifest.model import Manifest, Project

if TYPE_CHECKING:
    from ukws import git

# git (and pygit2 with it) is imported when a project turns out to be cloned: listing a workspace
# with nothing synced yet needs none of it.

AT_PIN = "at pin"
SYNC_PENDING = "sync pending"
MOVED = "moved"
NOT_SYNCED = "not synced"
ERROR = "error"


@direct_init  # one per project listed
@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectRow:
    """One project as ``ukws list --json`` reports it."""

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
    missing = (False, False, NOT_SYNCED)
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


# -- the state column -----------------------------------------------------------------------------


def sync_states(
    *, root: Path, manifest: Manifest, pins: Mapping[str, str] | None = None
) -> dict[str, tuple[bool, bool, str]]:
    """Project path -> (synced, at its pin, state) for every project of ``manifest``: what ``ukws
    list`` shows, without the working-tree scan of :func:`ukws.status.project_status`. A project whose folder
    does not exist costs one ``stat``; a repository that cannot be read is synced, in ``error``."""
    out: dict[str, tuple[bool, bool, str]] = {}
    top = str(root)
    folders: dict[str, bool] = {}

    def is_folder(path: str) -> bool:
        # A folder below one that is missing is missing too: in a workspace synced in part, one
        # stat answers for every project under a folder that was never made.
        known = folders.get(path)
        if known is None:
            parent = path.rpartition("/")[0]
            known = folders[path] = (not parent or is_folder(parent)) and os.path.isdir(os.path.join(top, path))
        return known

    for p in manifest.projects:
        if not is_folder(p.path):
            out[p.path] = (False, False, NOT_SYNCED)
            continue
        from ukws import git
        from ukws.sync.model import SYNCED_REF

        dest = root / p.path
        if git.git_dir(dest) is None:
            out[p.path] = (False, False, NOT_SYNCED)
            continue
        try:
            repo = git.open_repo(dest)
            sha = git.head(repo).sha
            pin = pin_of(repo, p, (pins or {}).get(p.path) or p.revision)
            state = checkout_state(head=sha, pin=pin, synced=git.ref_target(repo, SYNCED_REF))
            out[p.path] = (True, state == AT_PIN, state)
        except (UkwsError, OSError, ValueError, KeyError):
            out[p.path] = (True, False, ERROR)
    return out


def pin_of(repo: git.Repository, p: Project, revision: str) -> str | None:
    """The commit ``revision`` names in the project's repository, if it holds it."""
    from ukws import git
    from ukws.sync.model import remote_name

    remote = remote_name(p)
    if git.is_sha(revision):
        return git.commit_of(repo, revision)
    if revision.startswith("refs/heads/"):
        short = revision.removeprefix("refs/heads/")
        return git.commit_of(repo, f"refs/remotes/{remote}/{short}") or git.commit_of(
            repo, f"refs/remotes/origin/{short}"
        )
    if revision.startswith("refs/"):
        return git.commit_of(repo, revision) or git.commit_of(
            repo, f"refs/ukws/fetched/{revision.removeprefix('refs/')}"
        )
    return (
        git.commit_of(repo, f"refs/remotes/{remote}/{revision}")
        or git.commit_of(repo, f"refs/remotes/origin/{revision}")
        or git.commit_of(repo, f"refs/tags/{revision}")
    )


def checkout_state(*, head: str | None, pin: str | None, synced: str | None) -> str:
    """Where a cloned project's HEAD stands against its pin (see :attr:`ukws.status.ProjectStatus.state`)."""
    if head is not None and head == pin:
        return AT_PIN
    if head is None or head == synced:
        return SYNC_PENDING
    return MOVED
