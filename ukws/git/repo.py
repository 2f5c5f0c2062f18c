"""Reads and small writes of a repository: open, refs, objects, tags, blobs, work state.

The one place besides its siblings in :mod:`ukws.git` that imports pygit2; manifest, resolver and Makefile
code read git through these helpers.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pygit2

from ukws.errors import GitError
from ukws.fileops import atomic_write

Repository = pygit2.Repository


"""Re-exported so that callers can name the type without importing pygit2."""


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


def checked_out_commit(path: Path) -> str | None:
    """The commit checked out in the repository at ``path``; None when there is no repository
    there or its HEAD is unborn. Works for bare repositories (their HEAD) too."""
    try:
        repo = pygit2.Repository(str(path), pygit2.enums.RepositoryOpenFlag.NO_SEARCH)
    except (pygit2.GitError, KeyError):
        return None
    if repo.head_is_unborn:
        return None
    return str(repo.head.target)


_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")


def is_sha(rev: str) -> bool:
    """A full 40- (SHA-1) or 64-digit (SHA-256) lowercase hex object id."""
    return _SHA.fullmatch(rev) is not None


def git_dir(path: Path) -> Path | None:
    """The git directory of the repository at ``path`` (bare or not), or None."""
    if (path / ".git").is_dir():
        return path / ".git"
    if (path / "objects").is_dir() and (path / "HEAD").is_file():
        return path
    return None


def init(path: Path, *, bare: bool = False, model: Path | None = None) -> pygit2.Repository:
    """A new, empty repository at ``path``.

    libgit2's init probes the file system (file modes, symbolic links, case) and rewrites the
    config file four times, and writes a description, a hook sample and ``info/exclude`` that a
    clone does not need. With ``model`` (a folder next to ``path``, on the same file system: the
    probes hold for both), that work is done once, into ``model``, and every later init copies
    its skeleton: ``HEAD``, ``config`` and the empty ``objects/`` and ``refs/`` folders. Whoever
    passes ``model`` removes it with its scratch space.
    """
    if model is None:
        return pygit2.init_repository(str(path), bare=bare)
    source = model if bare else model / ".git"
    if not (source / "config").is_file():
        _make_model(model, bare)
    gitdir = path if bare else path / ".git"
    for sub in ("objects/info", "objects/pack", "refs/heads", "refs/tags"):
        os.makedirs(gitdir / sub)
    shutil.copyfile(source / "HEAD", gitdir / "HEAD")
    shutil.copyfile(source / "config", gitdir / "config")
    return pygit2.Repository(str(path), pygit2.enums.RepositoryOpenFlag.NO_SEARCH)


def _make_model(model: Path, bare: bool) -> None:
    """libgit2's init into ``model``, made beside it and renamed into place (parallel callers: one wins)."""
    model.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f"{model.name}.", dir=model.parent))
    pygit2.init_repository(str(building), bare=bare)
    try:
        building.rename(model)
    except OSError:  # another thread made it first
        shutil.rmtree(building, ignore_errors=True)
        if not model.is_dir():
            raise


def commit_of(repo: pygit2.Repository, spec: str) -> str | None:
    """The commit a full SHA or a full reference name names (tags peeled), or None."""
    try:
        if is_sha(spec):
            obj = repo.get(spec)
            if obj is None:
                return None
            return str(obj.peel(pygit2.Commit).id)
        ref = repo.references.get(spec)
        if ref is None:
            return None
        return str(ref.peel(pygit2.Commit).id)
    except (pygit2.GitError, pygit2.InvalidSpecError, ValueError, KeyError):
        return None


def ref_target(repo: pygit2.Repository, name: str) -> str | None:
    """The object a reference names, symbolic references followed but nothing peeled, or None.
    For branches and refs ukws writes itself (they name commits): no object is read."""
    try:
        ref = repo.references.get(name)
        if ref is None:
            return None
        target = ref.resolve().target
    except (pygit2.GitError, pygit2.InvalidSpecError, ValueError, KeyError):
        return None
    return str(target) if isinstance(target, pygit2.Oid) else None


def detach(repo: pygit2.Repository, sha: str) -> None:
    """Point HEAD at ``sha`` directly, touching no file (for repositories without checkout)."""
    repo.set_head(pygit2.Oid(hex=sha))


def ensure_remote(repo: pygit2.Repository, name: str, url: str) -> None:
    """Make the configured remote ``name`` point at ``url`` (for the user's own ``git fetch``)."""
    try:
        remote = repo.remotes[name]
    except KeyError:
        repo.remotes.create(name, url)
        return
    if remote.url != url:
        repo.remotes.set_url(name, url)


def set_ref(repo: pygit2.Repository, name: str, sha: str, message: str = "ukws") -> None:
    repo.create_reference_direct(name, pygit2.Oid(hex=sha), True, message)


def delete_ref(repo: pygit2.Repository, name: str) -> None:
    ref = repo.references.get(name)
    if ref is not None:
        ref.delete()


def refs_under(repo: pygit2.Repository, prefix: str) -> list[str]:
    return sorted(r for r in repo.references if r.startswith(prefix))


@dataclass(frozen=True, slots=True, kw_only=True)
class Head:
    sha: str | None
    """None when HEAD is unborn."""
    branch: str | None
    """Short branch name, None when detached."""


def head(repo: pygit2.Repository) -> Head:
    """HEAD's commit and branch (two reference reads at most)."""
    try:
        target = repo.lookup_reference("HEAD").target
        if isinstance(target, pygit2.Oid):
            return Head(sha=str(target), branch=None)
        sha = repo.lookup_reference(target).resolve().target
    except (KeyError, pygit2.GitError, pygit2.InvalidSpecError):  # unborn: the branch does not exist yet
        return Head(sha=None, branch=None)
    return Head(sha=str(sha), branch=target.removeprefix("refs/heads/"))


def is_ancestor(repo: pygit2.Repository, ancestor: str, descendant: str) -> bool:
    """True when ``ancestor`` is ``descendant`` or one of its ancestors."""
    if ancestor == descendant:
        return True
    try:
        return bool(repo.descendant_of(pygit2.Oid(hex=descendant), pygit2.Oid(hex=ancestor)))
    except (pygit2.GitError, KeyError, ValueError):
        return False


def ahead_behind(repo: pygit2.Repository, local: str, upstream: str) -> tuple[int, int]:
    a, b = repo.ahead_behind(pygit2.Oid(hex=local), pygit2.Oid(hex=upstream))
    return int(a), int(b)


def local_branches(repo: pygit2.Repository) -> dict[str, str]:
    """Local branch name -> tip SHA."""
    out: dict[str, str] = {}
    for name in repo.references:
        if name.startswith("refs/heads/"):
            sha = commit_of(repo, name)
            if sha is not None:
                out[name.removeprefix("refs/heads/")] = sha
    return out


def has_stash(repo: pygit2.Repository) -> bool:
    return repo.references.get("refs/stash") is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkState:
    """Uncommitted work in a working tree."""

    dirty: tuple[str, ...]
    """Tracked files changed in the index or the working tree."""
    untracked: tuple[str, ...]
    """Untracked files; a folder holding only untracked files is one entry ending in '/'."""
    ignored: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    """The two-letter ``git status --short`` code of each ``dirty`` file (index, then working tree)."""


_INDEX_CODES = (
    (pygit2.enums.FileStatus.INDEX_NEW, "A"),
    (pygit2.enums.FileStatus.INDEX_MODIFIED, "M"),
    (pygit2.enums.FileStatus.INDEX_DELETED, "D"),
    (pygit2.enums.FileStatus.INDEX_RENAMED, "R"),
    (pygit2.enums.FileStatus.INDEX_TYPECHANGE, "T"),
)
_WORKTREE_CODES = (
    (pygit2.enums.FileStatus.WT_MODIFIED, "M"),
    (pygit2.enums.FileStatus.WT_DELETED, "D"),
    (pygit2.enums.FileStatus.WT_RENAMED, "R"),
    (pygit2.enums.FileStatus.WT_TYPECHANGE, "T"),
)


def _short_code(st: int) -> str:
    if st & pygit2.enums.FileStatus.CONFLICTED:
        return "UU"
    index = next((c for flag, c in _INDEX_CODES if st & flag), " ")
    tree = next((c for flag, c in _WORKTREE_CODES if st & flag), " ")
    return index + tree


_GLOB_SPECIAL = re.compile(r"([\\*?\[])")


def exclude(repo: pygit2.Repository, folders: Sequence[str]) -> bool:
    """Make the repository ignore ``folders`` (relative to its working tree) through its
    ``.git/info/exclude``, as ``/FOLDER/`` lines appended when missing. Returns whether the file
    changed (a repository ignoring them already is not written to)."""
    info = Path(repo.path) / "info" / "exclude"
    try:
        text = info.read_text(encoding="utf-8", errors="surrogateescape")
    except FileNotFoundError:
        text = ""
    have = set(text.splitlines())
    lines = ["/" + _GLOB_SPECIAL.sub(r"\\\1", f) + "/" for f in folders]
    missing = [line for line in dict.fromkeys(lines) if line not in have]
    if not missing:
        return False
    if text and not text.endswith("\n"):
        text += "\n"
    text += "".join(f"{line}\n" for line in missing)
    atomic_write(info, text.encode("utf-8", errors="surrogateescape"))
    return True


def work_state(repo: pygit2.Repository, *, ignored: bool = False) -> WorkState:
    flags = pygit2.enums.FileStatus
    dirty: dict[str, str] = {}
    untracked: list[str] = []
    ign: list[str] = []
    for path, st in repo.status(untracked_files="normal", ignored=ignored).items():
        if st & flags.IGNORED:
            ign.append(path)
        elif st == flags.WT_NEW:
            untracked.append(path)
        elif st != flags.CURRENT:
            dirty[path] = _short_code(st)
    names = tuple(sorted(dirty))
    return WorkState(
        dirty=names,
        untracked=tuple(sorted(untracked)),
        ignored=tuple(sorted(ign)),
        codes=tuple(dirty[n] for n in names),
    )


def diff_patch(repo: pygit2.Repository, *, untracked: bool = False) -> str:
    """The patch of the index and working tree against HEAD (like ``git diff HEAD``). With
    ``untracked``, files git does not track (and does not ignore) are added as new files, as
    ``git add --intent-to-add`` would show them."""
    index = repo.index
    flags = pygit2.enums.DiffOption.NORMAL
    if untracked:
        flags |= (
            pygit2.enums.DiffOption.INCLUDE_UNTRACKED
            | pygit2.enums.DiffOption.RECURSE_UNTRACKED_DIRS
            | pygit2.enums.DiffOption.SHOW_UNTRACKED_CONTENT
        )
    if repo.head_is_unborn:
        diff = index.diff_to_workdir(flags)
    else:
        diff = repo.head.peel(pygit2.Commit).tree.diff_to_index(index, flags)  # merge keeps what these flags allow
        diff.merge(index.diff_to_workdir(flags))
    return str(diff.patch or "")


def branch_commit(repo: pygit2.Repository, name: str) -> str | None:
    """The commit at the head of branch ``name``: the local branch, else a remote-tracking one
    (``refs/remotes/<remote>/<name>``, the first remote in name order), else None."""
    candidates = [f"refs/heads/{name}"]
    candidates += sorted(
        ref for ref in repo.references
        if ref.startswith("refs/remotes/") and ref.split("/", 3)[-1] == name and ref.count("/") >= 3
    )
    for refname in candidates:
        found = commit_of(repo, refname)
        if found is not None:
            return found
    return None


def has_commit(repo: pygit2.Repository, sha: str) -> bool:
    """Whether the repository holds commit ``sha`` (a full id)."""
    try:
        obj = repo.get(sha)
    except (ValueError, pygit2.GitError):
        return False
    return obj is not None and obj.type == pygit2.enums.ObjectType.COMMIT


def revision_commit(repo: pygit2.Repository, revision: str) -> str | None:
    """The commit a manifest revision names in ``repo``: a full SHA the repository holds,
    ``refs/tags/X``, ``refs/heads/X`` (or its remote-tracking branch), any other full ref, or a
    bare name (a branch of that name first, then a tag, as repo reads it). None when it names nothing."""
    if is_sha(revision):
        return revision if has_commit(repo, revision) else None
    if revision.startswith("refs/heads/"):
        return branch_commit(repo, revision.removeprefix("refs/heads/"))
    names = [revision] if revision.startswith("refs/") else []
    if not revision.startswith("refs/"):
        found = branch_commit(repo, revision)
        if found is not None:
            return found
        names.append(f"refs/tags/{revision}")
    for name in names:
        found = commit_of(repo, name)
        if found is not None:
            return found
    return None


def upstream_ref(repo: pygit2.Repository, revision: str) -> str:
    """``revision`` written so that repo reads it as ukws did, for a pinned project's ``upstream``.

    repo takes a bare ``upstream`` for a branch (``refs/heads/NAME``) and fails to fetch a name that
    only a tag has, where ukws reads a bare name as a branch first, then a tag. So a bare name that
    names no branch in ``repo`` but a tag becomes ``refs/tags/NAME``; anything else is kept."""
    if is_sha(revision) or revision.startswith("refs/"):
        return revision
    if branch_commit(repo, revision) is None and commit_of(repo, f"refs/tags/{revision}") is not None:
        return f"refs/tags/{revision}"
    return revision


def one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text or type(e).__name__


# -- reads for snapshots: trees walked in path order, history between two commits ------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TreeEntry:
    """One entry of a commit's tree, as an archive wants it."""

    path: str
    """'/'-separated, relative to the project's top."""
    kind: str
    """``file``, ``exec`` (executable file), ``link`` (symlink), ``gitlink`` (a submodule's commit)."""
    oid: str
    """The blob (file, exec, link) or the commit (gitlink)."""


_KINDS = {
    pygit2.enums.FileMode.BLOB: "file",
    pygit2.enums.FileMode.BLOB_EXECUTABLE: "exec",
    pygit2.enums.FileMode.LINK: "link",
    pygit2.enums.FileMode.COMMIT: "gitlink",
}


def tree_entries(repo: pygit2.Repository, commit: str) -> list[TreeEntry]:
    """Every file, symlink and gitlink of ``commit``'s tree, sorted by the UTF-8 bytes of the path.
    Only names and ids are read (no blob content), so a large tree costs a list of paths."""
    try:
        root = repo[commit].peel(pygit2.Commit).tree
    except (KeyError, ValueError, pygit2.GitError) as e:
        raise GitError(f"commit {commit} is not in {repo.path}: {one_line(e)}") from None
    found: list[TreeEntry] = []
    stack: list[tuple[str, pygit2.Tree]] = [("", root)]
    while stack:
        prefix, tree = stack.pop()
        for entry in tree:
            name = entry.name
            assert name is not None
            full = prefix + name
            if entry.filemode == pygit2.enums.FileMode.TREE:
                sub = repo[entry.id]
                assert isinstance(sub, pygit2.Tree)
                stack.append((full + "/", sub))
                continue
            kind = _KINDS.get(pygit2.enums.FileMode(entry.filemode), "file")
            found.append(TreeEntry(path=full, kind=kind, oid=str(entry.id)))
    found.sort(key=lambda e: e.path.encode())
    return found


def blob_bytes(repo: pygit2.Repository, oid: str) -> bytes:
    """The content of blob ``oid`` (read whole: one file at a time)."""
    blob = repo[oid]
    assert isinstance(blob, pygit2.Blob)
    return blob.data


def has_blob(repo: pygit2.Repository, oid: str) -> bool:
    """Whether the repository holds blob ``oid``."""
    try:
        obj = repo.get(oid)
    except (ValueError, pygit2.GitError):
        return False
    return obj is not None and obj.type == pygit2.enums.ObjectType.BLOB


def hash_blob(data: bytes) -> str:
    """The git blob id of ``data`` (what ``git hash-object`` prints), without writing it."""
    return str(pygit2.hash(data))


def commit_time(repo: pygit2.Repository, sha: str) -> int:
    """The committer time of ``sha`` (seconds since the epoch)."""
    obj = repo[sha].peel(pygit2.Commit)
    return int(obj.commit_time)


def containing_ref(repo: pygit2.Repository, sha: str, prefixes: tuple[str, ...]) -> str | None:
    """The first reference (in name order) under one of ``prefixes`` whose commit is ``sha`` or a
    descendant of it, or None."""
    for prefix in prefixes:
        for name in refs_under(repo, prefix):
            tip = commit_of(repo, name)
            if tip is not None and is_ancestor(repo, sha, tip):
                return name
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class LogEntry:
    sha: str
    subject: str


def log(repo: pygit2.Repository, since: str | None, until: str, *, limit: int = 0) -> list[LogEntry] | None:
    """Commits reachable from ``until`` and not from ``since`` (``git log since..until``), newest
    first, topological order; None when ``until`` (or ``since``) is not in the repository."""
    if not has_commit(repo, until) or (since is not None and not has_commit(repo, since)):
        return None
    walker = repo.walk(pygit2.Oid(hex=until), pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.TIME)
    if since is not None:
        walker.hide(pygit2.Oid(hex=since))
    out: list[LogEntry] = []
    for c in walker:
        out.append(LogEntry(sha=str(c.id), subject=(c.message or "").split("\n", 1)[0].strip()))
        if limit and len(out) >= limit:
            break
    return out


def commit_files(
    path: Path,
    files: Mapping[str, bytes],
    *,
    message: str,
    when: int,
    executable: frozenset[str] = frozenset(),
    branch: str = "main",
    tags: tuple[str, ...] = (),
) -> str:
    """Commit ``files`` (path -> content; the whole tree) on ``branch`` of the bare repository at
    ``path`` (created when missing), with a fixed identity and time ``when``, so the same input gives
    the same commit. ``tags`` are created (lightweight) on it. Returns the commit SHA."""
    repo = pygit2.Repository(str(path)) if git_dir(path) is not None else pygit2.init_repository(
        str(path), bare=True, initial_head=branch
    )
    index = pygit2.Index()
    for name, data in sorted(files.items()):
        mode = pygit2.enums.FileMode.BLOB_EXECUTABLE if name in executable else pygit2.enums.FileMode.BLOB
        index.add(pygit2.IndexEntry(name, repo.create_blob(data), mode))
    tree = index.write_tree(repo)
    ref_name = f"refs/heads/{branch}"
    ref = repo.references.get(ref_name)
    parents = [ref.target] if ref is not None else []
    head = repo[ref.target] if ref is not None else None
    if isinstance(head, pygit2.Commit) and head.tree_id == tree:  # the same content again: nothing to commit
        assert ref is not None
        oid = ref.target
        for name in tags:
            repo.references.create(f"refs/tags/{name}", oid, force=True)
        return str(oid)
    sig = pygit2.Signature("ukws", "ukws@ukws.invalid", when, 0)
    oid = repo.create_commit(None, sig, sig, message, tree, parents)
    repo.references.create(ref_name, oid, force=True)
    for name in tags:
        repo.references.create(f"refs/tags/{name}", oid, force=True)
    return str(oid)


def commit_time_at(path: Path, sha: str) -> int | None:
    """The committer time (seconds since the epoch) of ``sha`` in the repository at ``path``; None
    when there is no such repository or commit."""
    try:
        repo = pygit2.Repository(str(path))
        return commit_time(repo, sha)
    except (pygit2.GitError, KeyError, ValueError):
        return None
