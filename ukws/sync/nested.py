"""Projects inside other projects' paths (AOSP's ``build`` and ``build/blueprint``), as repo allows.

The outer project is synced first (the engine's scheduling sees to that); its repository ignores
the inner checkouts through ``.git/info/exclude``, so that its checkouts never touch them and
status never lists them as its untracked files; and an outer project cloned after an inner one
is cloned around it: its ``.git`` is moved into the folder, then its files are checked out.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ukws import git
from ukws.manifest.model import Project
from ukws.sync import journal as syncstate
from ukws.sync.model import SYNCED_REF, Skip


def inner_paths(projects: Iterable[Project]) -> dict[str, tuple[str, ...]]:
    """For each project path holding other projects, their paths relative to it (the outermost
    ones only: a project inside an inner project is that one's business)."""
    paths = sorted({p.path for p in projects})
    out: dict[str, tuple[str, ...]] = {}
    for outer in paths:
        prefix = outer + "/"
        inside = [q for q in paths if q.startswith(prefix)]
        top = [q for q in inside if not any(q.startswith(o + "/") for o in inside)]
        if top:
            out[outer] = tuple(q[len(prefix) :] for q in top)
    return out


def untracked_outside(untracked: Iterable[str], inner: tuple[str, ...]) -> tuple[str, ...]:
    """``untracked`` (paths relative to the outer project, folders ending in ``/``) without the
    inner projects' checkouts."""
    return tuple(
        u for u in untracked
        if not any(u.rstrip("/") == i or u.startswith(i + "/") for i in inner)
    )  # fmt: skip


def holds_only_inner(folder: Path, inner: tuple[str, ...]) -> bool:
    """Whether ``folder`` holds nothing but inner projects' checkouts and the folders leading to
    them (so an outer clone may be built around them)."""
    if not inner:
        return False
    for entry in folder.iterdir():
        name = entry.name
        if name in inner:
            continue
        below = tuple(i[len(name) + 1 :] for i in inner if i.startswith(name + "/"))
        if not below or entry.is_symlink() or not entry.is_dir() or not holds_only_inner(entry, below):
            return False
    return True


def ignore_inner(repo: git.Repository, inner: tuple[str, ...]) -> None:
    """Make the outer repository ignore its inner projects' folders (written only when missing)."""
    if inner:
        git.exclude(repo, inner)


def clone_around(sync_dir: Path, p: Project, tmp: Path, dest: Path, sha: str | None, *, checkout: bool) -> None:
    """Move the repository built at ``tmp`` (nothing checked out) into ``dest``, which already
    holds inner projects, then check out ``sha`` there.

    The journal entry written before the move makes a killed run finish the checkout on the next
    sync (the repair of an interrupted checkout from nothing), never leave a half-placed project.
    """
    journal = syncstate.Journal(sync_dir, p.path)
    if checkout and sha is not None:
        journal.write(op="checkout", **{"from": None, "to": sha, "branch": None})
    (tmp / ".git").rename(dest / ".git")
    tmp.rmdir()
    repo = git.open_repo(dest)
    if checkout and sha is not None:
        try:
            git.checkout(repo, sha)
        except git.CheckoutConflict as e:
            raise Skip(
                f"cloned around the projects inside it, but not checked out: {e}; move those files "
                "away, then sync again"
            ) from None
        finally:
            journal.clear()
        git.set_ref(repo, SYNCED_REF, sha)
