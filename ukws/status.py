"""``ukws status`` and ``ukws diff``: where each project stands against its pin. Reads only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ukws import git
from ukws.errors import UkwsError
from ukws.manifest.model import Manifest, Project
from ukws.sync.model import remote_name
from ukws.sync.nested import inner_paths, untracked_outside


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


def _one(root: Path, p: Project, pins: Mapping[str, str], inner: tuple[str, ...] = ()) -> ProjectStatus:
    revision = pins.get(p.path) or p.revision
    base = ProjectStatus(name=p.name, path=p.path, revision=revision, pin_sha=None, head_sha=None, branch=None)
    dest = root / p.path
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
        untracked=untracked_outside(work.untracked, inner),  # inner projects are not files of this one
        synced=True,
        at_pin=head.sha is not None and head.sha == pin,
    )


def project_status(
    *, root: Path, manifest: Manifest, pins: Mapping[str, str] | None = None
) -> tuple[ProjectStatus, ...]:
    """The status of every project of ``manifest`` in the workspace at ``root``, in manifest order.

    ``pins`` maps project paths to commits (from the lock) and replaces the manifest revision.
    """
    inner = inner_paths(manifest.projects)
    return tuple(_one(root, p, pins or {}, inner.get(p.path, ())) for p in manifest.projects)


def project_diff(*, root: Path, manifest: Manifest) -> tuple[ProjectDiff, ...]:
    """The uncommitted changes of every cloned project (``git diff HEAD``), in manifest order."""
    out: list[ProjectDiff] = []
    for p in manifest.projects:
        dest = root / p.path
        patch = ""
        if git.git_dir(dest) is not None:
            patch = git.diff_patch(git.open_repo(dest))
        out.append(ProjectDiff(name=p.name, path=p.path, patch=patch))
    return tuple(out)
