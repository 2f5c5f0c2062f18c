"""All git access of ukws, through pygit2. No other module imports pygit2, and ukws never runs ``git``.

Read helpers used by the resolver live here too, so that manifest, resolver and Makefile code stay
free of pygit2.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pygit2

from ukws.errors import GitError


@dataclass(frozen=True, slots=True, kw_only=True)
class Tag:
    """A tag and the commit it names (annotated tags peeled)."""

    name: str
    """Short name, without ``refs/tags/``."""
    commit: str
    """Full hex SHA of the commit."""


def open_repo(path: Path) -> pygit2.Repository:
    try:
        return pygit2.Repository(str(path))
    except (pygit2.GitError, KeyError) as e:
        raise GitError(f"{path}: not a git repository ({e})") from None


def list_tags(repo: pygit2.Repository) -> list[Tag]:
    """Every tag that peels to a commit, sorted by name. Tags of trees or blobs are skipped."""
    tags: list[Tag] = []
    for ref in repo.references.iterator(pygit2.enums.ReferenceFilter.TAGS):
        try:
            commit = ref.peel(pygit2.Commit)
        except (pygit2.InvalidSpecError, ValueError, KeyError):
            continue
        tags.append(Tag(name=ref.name.removeprefix("refs/tags/"), commit=str(commit.id)))
    tags.sort(key=lambda t: t.name)
    return tags


def read_blob(repo: pygit2.Repository, commit: str, path: str) -> bytes | None:
    """The content of ``path`` in ``commit`` (no checkout needed), or None when there is no such file."""
    try:
        tree = repo.revparse_single(commit).peel(pygit2.Commit).tree
        obj = tree[path]
    except (KeyError, ValueError, pygit2.InvalidSpecError):
        return None
    if obj.type != pygit2.enums.ObjectType.BLOB:
        return None
    blob = repo[obj.id]
    assert isinstance(blob, pygit2.Blob)
    return blob.data


def list_files(repo: pygit2.Repository, commit: str, name: str) -> list[str]:
    """Paths of every file called ``name`` (e.g. ``Config.uk``) in ``commit``'s tree, sorted."""
    try:
        root = repo.revparse_single(commit).peel(pygit2.Commit).tree
    except (KeyError, ValueError, pygit2.InvalidSpecError):
        return []
    found: list[str] = []
    stack: list[tuple[str, pygit2.Tree]] = [("", root)]
    while stack:
        prefix, tree = stack.pop()
        for entry in tree:
            full = f"{prefix}{entry.name}"
            if entry.type == pygit2.enums.ObjectType.TREE:
                sub = repo[entry.id]
                assert isinstance(sub, pygit2.Tree)
                stack.append((full + "/", sub))
            elif entry.name == name:
                found.append(full)
    found.sort()
    return found
