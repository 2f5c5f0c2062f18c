"""``ukws status`` and ``ukws diff``: where each project stands against its pin. Reads only."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ukws.errors import UkwsError

if TYPE_CHECKING:
    from ukws import git
    from ukws.manifest.model import Manifest, Project

# git (and pygit2 with it) is imported when a project turns out to be cloned: listing a workspace
# with nothing synced yet needs none of it.


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
    synced: bool = False
    """The project is cloned."""
    at_pin: bool = False
    """HEAD is the pinned commit."""
    error: str | None = None
    """Why the project could not be read (a damaged repository), one line."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectDiff:
    name: str
    path: str
    patch: str
    """The index and working tree against HEAD, as a unified diff ('' when clean or not cloned)."""


def _pin(repo: git.Repository, p: Project, revision: str) -> str | None:
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


def _one(root: Path, p: Project, pins: Mapping[str, str]) -> ProjectStatus:
    revision = pins.get(p.path) or p.revision
    base = ProjectStatus(name=p.name, path=p.path, revision=revision, pin_sha=None, head_sha=None, branch=None)
    dest = root / p.path
    if not dest.is_dir():
        return base
    from ukws import git

    if git.git_dir(dest) is None:
        return base
    try:
        repo = git.open_repo(dest)
        head = git.head(repo)
        pin = _pin(repo, p, revision)
        ahead = behind = 0
        if head.sha is not None and pin is not None:
            ahead, behind = git.ahead_behind(repo, head.sha, pin)
        work = git.work_state(repo)
    except (UkwsError, OSError, ValueError, KeyError) as e:
        return ProjectStatus(
            name=p.name, path=p.path, revision=revision, pin_sha=None, head_sha=None, branch=None,
            synced=True, error=" ".join(str(e).split()),
        )  # fmt: skip
    return ProjectStatus(
        name=p.name,
        path=p.path,
        revision=revision,
        pin_sha=pin,
        head_sha=head.sha,
        branch=head.branch,
        ahead=ahead,
        behind=behind,
        dirty=work.dirty,
        untracked=work.untracked,
        synced=True,
        at_pin=head.sha is not None and head.sha == pin,
    )


def project_status(
    *, root: Path, manifest: Manifest, pins: Mapping[str, str] | None = None
) -> tuple[ProjectStatus, ...]:
    """The status of every project of ``manifest`` in the workspace at ``root``, in manifest order.

    ``pins`` maps project paths to commits (from the lock) and replaces the manifest revision.
    """
    return tuple(_one(root, p, pins or {}) for p in manifest.projects)


def project_diff(*, root: Path, manifest: Manifest) -> tuple[ProjectDiff, ...]:
    """The uncommitted changes of every cloned project (``git diff HEAD``), in manifest order."""
    from ukws import git

    out: list[ProjectDiff] = []
    for p in manifest.projects:
        dest = root / p.path
        patch = ""
        if git.git_dir(dest) is not None:
            patch = git.diff_patch(git.open_repo(dest))
        out.append(ProjectDiff(name=p.name, path=p.path, patch=patch))
    return tuple(out)


def sync_states(
    *, root: Path, manifest: Manifest, pins: Mapping[str, str] | None = None
) -> dict[str, tuple[bool, bool]]:
    """Project path -> (synced, at its pin) for every project of ``manifest``: what ``ukws list``
    shows, without the working-tree scan of :func:`project_status`. A project whose folder does not
    exist costs one ``stat``; a damaged repository counts as synced and not at its pin."""
    out: dict[str, tuple[bool, bool]] = {}
    top = str(root)
    for p in manifest.projects:
        if not os.path.isdir(os.path.join(top, p.path)):
            out[p.path] = (False, False)
            continue
        from ukws import git

        dest = root / p.path
        if git.git_dir(dest) is None:
            out[p.path] = (False, False)
            continue
        try:
            repo = git.open_repo(dest)
            sha = git.head(repo).sha
            at_pin = sha is not None and sha == _pin(repo, p, (pins or {}).get(p.path) or p.revision)
        except (UkwsError, OSError, ValueError, KeyError):
            at_pin = False
        out[p.path] = (True, at_pin)
    return out
