"""``ukws status`` and ``ukws diff``: where each project stands against its pin. Reads only."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ukws.errors import UkwsError
from ukws.listing import ERROR, NOT_SYNCED, checkout_state, pin_of

if TYPE_CHECKING:
    from ukws.manifest.model import Manifest, Project

# git (and pygit2 with it) is imported when a project turns out to be cloned.

SHORT_LIMIT = 10
"""Changed and untracked files ``ukws status`` names per project (all of them with ``-v``)."""

Urls = Callable[["Project"], Sequence[str]]
"""A project's candidate fetch URLs after URL rewriting, first one first."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectStatus:
    name: str
    path: str
    revision: str
    """The manifest's revision (or the lock's pin, when one is given)."""
    pin_sha: str | None
    """The commit the revision names, when the repository holds it."""
    head_sha: str | None
    """None when the project is not cloned (or HEAD is unborn)."""
    branch: str | None
    """The local branch checked out; None when HEAD is detached."""
    ahead: int = 0
    """Commits in HEAD that are not in the pin."""
    behind: int = 0
    """Commits in the pin that are not in HEAD."""
    dirty: tuple[str, ...] = ()
    """Tracked files changed in the index or the working tree."""
    untracked: tuple[str, ...] = ()
    """Files git neither tracks nor ignores; a folder holding only such files is one ``dir/`` entry."""
    changes: tuple[str, ...] = ()
    """``dirty`` and ``untracked`` as ``git status --short`` lines (``XY PATH``, untracked ``?? PATH``)."""
    synced: bool = False
    """The project is cloned."""
    at_pin: bool = False
    """HEAD is the pinned commit."""
    synced_sha: str | None = None
    """The commit the last sync checked out (``refs/ukws/synced``)."""
    state: str = NOT_SYNCED
    """``at pin``; ``sync pending`` (HEAD is where the last sync left it, or nothing is checked out
    yet, and the revision or the lock names another commit: the next sync moves it); ``moved``
    (HEAD was moved since: local commits, another branch or commit); ``not synced``; ``error``."""
    url: str = ""
    """The URL the project is fetched from (the first after URL rewriting)."""
    manifest_url: str = ""
    """The URL as the manifest gives it."""
    error: str | None = None
    """Why the project could not be read (a damaged repository), one line."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectDiff:
    name: str
    path: str
    patch: str
    """The index and working tree against HEAD, as a unified diff ('' when clean or not cloned)."""
    untracked: tuple[str, ...] = ()
    """Untracked files the patch leaves out (none when untracked files were asked for)."""


def _one(
    root: Path, p: Project, pins: Mapping[str, str], urls: Urls | None, inner: tuple[str, ...] = ()
) -> ProjectStatus:
    revision = pins.get(p.path) or p.revision
    candidates = tuple(urls(p)) if urls is not None else ()
    base = ProjectStatus(
        name=p.name, path=p.path, revision=revision, pin_sha=None, head_sha=None, branch=None,
        url=candidates[0] if candidates else p.fetch_url, manifest_url=p.fetch_url,
    )  # fmt: skip
    from ukws import git
    from ukws.sync.model import SYNCED_REF
    from ukws.sync.nested import untracked_outside

    dest = root / p.path
    if git.git_dir(dest) is None:
        return base
    try:
        repo = git.open_repo(dest)
        head = git.head(repo)
        pin = pin_of(repo, p, revision)
        ahead = behind = 0
        if head.sha is not None and pin is not None:
            ahead, behind = git.ahead_behind(repo, head.sha, pin)
        work = git.work_state(repo)
        synced = git.ref_target(repo, SYNCED_REF)
    except (UkwsError, OSError, ValueError, KeyError) as e:
        return replace(base, synced=True, state=ERROR, error=" ".join(str(e).split()))
    return replace(
        base,
        pin_sha=pin,
        head_sha=head.sha,
        branch=head.branch,
        ahead=ahead,
        behind=behind,
        dirty=work.dirty,
        untracked=untracked_outside(work.untracked, inner),  # inner projects are not files of this one
        changes=(
            *(f"{code} {name}" for code, name in zip(work.codes, work.dirty, strict=True)),
            *(f"?? {name}" for name in untracked_outside(work.untracked, inner)),
        ),
        synced=True,
        at_pin=head.sha is not None and head.sha == pin,
        synced_sha=synced,
        state=checkout_state(head=head.sha, pin=pin, synced=synced),
    )


def project_status(
    *, root: Path, manifest: Manifest, pins: Mapping[str, str] | None = None, urls: Urls | None = None
) -> tuple[ProjectStatus, ...]:
    """The status of every project of ``manifest`` in the workspace at ``root``, in manifest order.

    ``pins`` maps project paths to commits (from the lock) and replaces the manifest revision;
    ``urls`` gives a project's fetch URLs after URL rewriting (default: the manifest's).
    """
    from ukws.sync.nested import inner_paths

    inner = inner_paths(manifest.projects)
    return tuple(_one(root, p, pins or {}, urls, inner.get(p.path, ())) for p in manifest.projects)


def bounded(lines: Sequence[str], limit: int | None = SHORT_LIMIT) -> list[str]:
    """The first ``limit`` lines, then ``... and N more`` (all of them when ``limit`` is None)."""
    if limit is None or len(lines) <= limit:
        return list(lines)
    return [*lines[:limit], f"... and {len(lines) - limit} more"]


def project_diff(*, root: Path, manifest: Manifest, untracked: bool = False) -> tuple[ProjectDiff, ...]:
    """The uncommitted changes of every cloned project (``git diff HEAD``), in manifest order; with
    ``untracked``, untracked files too, as new files."""
    from ukws import git

    out: list[ProjectDiff] = []
    for p in manifest.projects:
        dest = root / p.path
        patch = ""
        left_out: tuple[str, ...] = ()
        if git.git_dir(dest) is not None:
            repo = git.open_repo(dest)
            patch = git.diff_patch(repo, untracked=untracked)
            if not untracked:
                left_out = git.work_state(repo).untracked
        out.append(ProjectDiff(name=p.name, path=p.path, patch=patch, untracked=left_out))
    return tuple(out)
