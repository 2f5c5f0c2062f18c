"""Build real git repositories for tests, with pygit2 and pinned identity and dates.

Every commit gets a deterministic time (``base + index`` seconds), so SHAs are repeatable.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pygit2

from ukws.manifest.model import Default, Manifest, Project

SIG_TIME = 1_704_067_200  # 2024-01-01T00:00:00Z


def signature(offset: int = 0) -> pygit2.Signature:
    return pygit2.Signature("ukws test", "test@ukws.invalid", SIG_TIME + offset, 0)


def init_repo(path: Path, *, bare: bool = False, branch: str = "main") -> pygit2.Repository:
    path.mkdir(parents=True, exist_ok=True)
    repo = pygit2.init_repository(str(path), bare=bare, initial_head=branch)
    return repo


def _tree(repo: pygit2.Repository, files: Mapping[str, bytes | str | None], base: pygit2.Tree | None) -> pygit2.Oid:
    """A tree from ``base`` with ``files`` set (value None deletes). Paths may contain '/'."""
    index = pygit2.Index()
    if base is not None:
        index.read_tree(base)
    for name, content in files.items():
        if content is None:
            if name in index:
                index.remove(name)
            continue
        data = content.encode() if isinstance(content, str) else content
        oid = repo.create_blob(data)
        index.add(pygit2.IndexEntry(name, oid, pygit2.enums.FileMode.BLOB))
    return index.write_tree(repo)


def commit(
    repo: pygit2.Repository,
    files: Mapping[str, bytes | str | None],
    message: str = "change",
    *,
    branch: str | None = None,
    tick: int | None = None,
) -> str:
    """Commit ``files`` on top of ``branch`` (default: HEAD's branch) and move it. Returns the SHA.

    Works for bare and non-bare repositories; the working tree of a non-bare one is not touched.
    """
    ref_name = f"refs/heads/{branch}" if branch else repo.head.name if not repo.head_is_unborn else _unborn_ref(repo)
    parents: list[pygit2.Oid] = []
    base: pygit2.Tree | None = None
    ref = repo.references.get(ref_name)
    if ref is not None:
        parent = repo[ref.target]
        assert isinstance(parent, pygit2.Commit)
        parents = [parent.id]
        base = parent.tree
    count = len(list(repo.walk(parents[0]))) if parents else 0
    sig = signature(tick if tick is not None else count)
    tree = _tree(repo, files, base)
    oid = repo.create_commit(None, sig, sig, message, tree, parents)
    repo.references.create(ref_name, oid, force=True)
    return str(oid)


def _unborn_ref(repo: pygit2.Repository) -> str:
    target = repo.references["HEAD"].target
    assert isinstance(target, str)
    return target


def tag(repo: pygit2.Repository, name: str, target: str, *, annotated: bool = False) -> None:
    """Create a lightweight (default) or annotated tag on ``target``."""
    oid = pygit2.Oid(hex=target)
    if annotated:
        repo.create_tag(name, oid, pygit2.enums.ObjectType.COMMIT, signature(), f"{name}\n")
    else:
        repo.references.create(f"refs/tags/{name}", oid)


def file_url(path: Path) -> str:
    return path.resolve().as_uri()


def upstream(path: Path, files: Mapping[str, bytes | str | None] | None = None) -> pygit2.Repository:
    """A bare repository with one commit on ``main`` (``README`` unless ``files`` are given)."""
    repo = init_repo(path, bare=True)
    commit(repo, files if files is not None else {"README": f"{path.name}\n"}, "initial")
    return repo


def head_sha(repo: pygit2.Repository, ref: str = "refs/heads/main") -> str:
    return str(repo.references[ref].target)


def make_project(
    name: str, url: str, *, path: str | None = None, revision: str = "main", **kw: Any
) -> Project:
    return Project(name=name, path=path or name, remote="origin", revision=revision, fetch_url=url, **kw)


def make_manifest(*projects: Project, sync_j: int | None = None) -> Manifest:
    default = Default(remote="origin", revision="main", sync_j=sync_j)
    return Manifest(default=default, projects=tuple(projects))
