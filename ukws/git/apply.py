"""Patches applied to git objects, and the working-tree reads and writes a patch series (and a build's
up-to-date check) needs.

A patch is applied by libgit2 (``git_apply`` into a scratch index that borrows the project's object
database), never to the working tree directly: :func:`apply_to_tree` turns a tree and a patch into a
new tree, and the caller writes the changed files itself, under its own journal. libgit2 applies a
hunk only where its header says and only when every context line matches (no offset, no fuzz), and
a failing patch leaves nothing behind.

Patches may be git's format (``git diff``, ``git format-patch``) or plain unified diffs
(``diff -u``, paths with one leading folder that is stripped, as ``patch -p1`` and ``git apply`` do):
plain file sections get the ``diff --git`` header libgit2 needs. Text is read LF-normalised, so a
patch file checked out with CRLF line endings reads the same as the committed one.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pygit2

from ukws.errors import GitError
from ukws.git.repo import one_line

SYMLINK_MODE = 0o120000
GITLINK_MODE = 0o160000
EXECUTABLE_MODE = 0o100755
NOT_A_FILE = "not-a-file"
"""What :func:`worktree_blob` says of a folder, a symlink or anything else that is not a regular file."""


class PatchError(GitError):
    """A patch cannot be read or does not apply; nothing was written."""

    def __init__(self, message: str, *, index: int | None = None) -> None:
        super().__init__(message)
        self.index = index
        """In a series, the position of the patch that failed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PatchDelta:
    """One file a patch touches."""

    status: str
    """``A`` added, ``D`` deleted, ``M`` modified, ``R`` renamed, ``C`` copied."""
    old_path: str | None
    """None for a file the patch adds."""
    new_path: str | None
    """None for a file the patch deletes."""
    new_mode: int

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p for p in (self.old_path, self.new_path) if p is not None))


@dataclass(frozen=True, slots=True, kw_only=True)
class TreeChange:
    """A file that differs between two trees."""

    path: str
    before: str | None
    """Blob id in the old tree; None when the file is new."""
    after: str | None
    """Blob id in the new tree; None when the file is gone."""
    mode: int
    """The file's mode in the new tree (the old one for a removed file)."""


# -- reading patches ------------------------------------------------------------------------------


def lf_normalised(data: bytes) -> bytes:
    """``data`` with CRLF line endings turned into LF."""
    return data.replace(b"\r\n", b"\n")


_PLAIN_PATH = re.compile(rb"^(?:---|\+\+\+) (?P<path>[^\t\n]*)")


def _plain_path(line: bytes) -> str | None:
    """The path of a ``---``/``+++`` line of a plain unified diff, its first folder stripped (-p1);
    None for ``/dev/null``."""
    m = _PLAIN_PATH.match(line)
    raw = (m.group("path") if m else b"").strip().decode("utf-8", "surrogateescape")
    if raw.startswith('"') and raw.endswith('"'):
        raw = raw[1:-1]
    if raw == "/dev/null":
        return None
    return raw.split("/", 1)[1] if "/" in raw else raw


def git_format(patch: bytes) -> bytes:
    """``patch`` LF-normalised, with a ``diff --git`` header before every file section of a plain
    unified diff (git's own sections are kept as they are)."""
    lines = lf_normalised(patch).splitlines(keepends=True)
    out: list[bytes] = []
    header_open = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(b"diff --git "):
            header_open = True
        elif (
            line.startswith(b"--- ")
            and i + 2 < len(lines)
            and lines[i + 1].startswith(b"+++ ")
            and lines[i + 2].startswith(b"@@ ")
        ):
            if header_open:
                header_open = False
            else:
                old, new = _plain_path(line), _plain_path(lines[i + 1])
                name = new or old or ""
                out.append(f"diff --git a/{old or name} b/{new or name}\n".encode("utf-8", "surrogateescape"))
                if old is None:
                    out.append(b"new file mode 100644\n")
                if new is None:
                    out.append(b"deleted file mode 100644\n")
                out.append(b"--- /dev/null\n" if old is None else f"--- a/{old}\n".encode("utf-8", "surrogateescape"))
                out.append(b"+++ /dev/null\n" if new is None else f"+++ b/{new}\n".encode("utf-8", "surrogateescape"))
                i += 2
                continue
        out.append(line)
        i += 1
    return b"".join(out)


def _sections(patch: bytes) -> list[bytes]:
    """The file sections of a git-format patch (text before the first one dropped)."""
    text = git_format(patch)
    starts = [m.start() for m in re.finditer(rb"^diff --git ", text, re.MULTILINE)]
    if not starts:
        return []
    return [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]


def _parse(section: bytes) -> pygit2.Diff:
    try:
        return pygit2.Diff.parse_diff(section)
    except pygit2.GitError as e:
        raise PatchError(f"not a patch libgit2 can read ({one_line(e)})") from None


def patch_deltas(patch: bytes) -> tuple[PatchDelta, ...]:
    """Every file ``patch`` touches, in order. Raises :class:`PatchError` when it holds none."""
    out: list[PatchDelta] = []
    for section in _sections(patch):
        for d in _parse(section).deltas:
            status = d.status_char()
            out.append(
                PatchDelta(
                    status=status,
                    old_path=None if status == "A" else d.old_file.path,
                    new_path=None if status == "D" else d.new_file.path,
                    new_mode=int(d.new_file.mode),
                )
            )
    if not out:
        raise PatchError("holds no file changes (not a unified or git diff)")
    return tuple(out)


# -- applying to trees ----------------------------------------------------------------------------


def commit_tree(repo: pygit2.Repository, commit: str) -> str:
    """The tree id of ``commit``."""
    return str(repo[pygit2.Oid(hex=commit)].peel(pygit2.Commit).tree.id)


def apply_to_tree(repo: pygit2.Repository, tree_id: str, patch: bytes) -> str:
    """The tree ``patch`` makes of ``tree_id`` (new blobs and trees written to ``repo``'s objects,
    no working tree or index touched). Raises :class:`PatchError` naming the file that does not apply."""
    return apply_series_to_tree(repo, tree_id, [patch])[-1]


def apply_series_to_tree(repo: pygit2.Repository, tree_id: str, patches: Sequence[bytes]) -> list[str]:
    """Apply ``patches`` in order, starting from ``tree_id``; the tree after each one.

    A :class:`PatchError` carries ``index``, the position of the patch that failed."""
    trees: list[str] = []
    with tempfile.TemporaryDirectory(prefix="ukws-apply-") as scratch_dir:
        scratch = pygit2.init_repository(scratch_dir)
        scratch.set_odb(repo.odb)
        index = scratch.index
        index.read_tree(repo[pygit2.Oid(hex=tree_id)].peel(pygit2.Tree))
        index.write()
        for n, patch in enumerate(patches):
            try:
                sections = _sections(patch)
                if not sections:
                    raise PatchError("holds no file changes (not a unified or git diff)")
                for section in sections:
                    _apply_section(scratch, section)
            except PatchError as e:
                raise PatchError(str(e), index=n) from None
            index.read(True)
            trees.append(str(index.write_tree()))
    return trees


def _apply_section(scratch: pygit2.Repository, section: bytes) -> None:
    diff = _parse(section)
    index = scratch.index
    index.read(True)
    names: list[str] = []
    for d in diff.deltas:
        status = d.status_char()
        if status == "A" and d.new_file.path in index:
            raise PatchError(f"{d.new_file.path}: the patch adds it, but it exists already")
        if status in ("M", "D", "R", "C") and d.old_file.path not in index:
            raise PatchError(f"{d.old_file.path}: no such file to patch")
        names.append(d.new_file.path or d.old_file.path)
    try:
        scratch.apply(diff, pygit2.enums.ApplyLocation.INDEX)
    except pygit2.GitError as e:
        raise PatchError(f"{', '.join(names)}: {one_line(e)}") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class PatchedFile:
    """A file a patch series changes, with its content after the series."""

    path: str
    data: bytes | None
    """None: the series removes the file."""
    mode: int
    """Its git mode after the series (the old one for a removed file)."""


def series_files(repo: pygit2.Repository, commit: str, patches: Sequence[bytes]) -> tuple[PatchedFile, ...]:
    """The files ``patches`` change in ``commit``'s tree, each with its content after the series,
    sorted by path. Worked out in a scratch repository that reads ``repo``'s objects through an
    alternate, so nothing is written to ``repo``. Raises :class:`PatchError` (with ``index``)."""
    with tempfile.TemporaryDirectory(prefix="ukws-series-") as scratch_dir:
        scratch = pygit2.init_repository(scratch_dir, bare=True)
        scratch.odb.add_disk_alternate(str(_objects_dir(repo)))
        base = commit_tree(scratch, commit)
        final = apply_series_to_tree(scratch, base, patches)[-1] if patches else base
        return tuple(
            PatchedFile(path=c.path, data=blob_data(scratch, c.after) if c.after else None, mode=c.mode)
            for c in tree_changes(scratch, base, final)
        )


def _objects_dir(repo: pygit2.Repository) -> Path:
    """The object folder of ``repo`` (a linked worktree's is its main repository's)."""
    gitdir = Path(repo.path)
    common = gitdir / "commondir"
    if common.is_file():
        gitdir = (gitdir / common.read_text(encoding="utf-8").strip()).resolve()
    return gitdir / "objects"


def tree_changes(repo: pygit2.Repository, old_tree: str, new_tree: str) -> tuple[TreeChange, ...]:
    """The files that differ between two trees, by path (renames as a removal and an addition)."""
    old = repo[pygit2.Oid(hex=old_tree)].peel(pygit2.Tree)
    new = repo[pygit2.Oid(hex=new_tree)].peel(pygit2.Tree)
    out: dict[str, TreeChange] = {}
    for d in old.diff_to_tree(new).deltas:
        if d.status_char() in ("D", "M", "T", "R"):
            out[d.old_file.path] = TreeChange(
                path=d.old_file.path, before=str(d.old_file.id), after=None, mode=int(d.old_file.mode)
            )
        if d.status_char() in ("A", "M", "T", "R", "C"):
            before = out.pop(d.new_file.path, None)
            out[d.new_file.path] = TreeChange(
                path=d.new_file.path,
                before=before.before if before else (str(d.old_file.id) if d.status_char() in ("M", "T") else None),
                after=str(d.new_file.id),
                mode=int(d.new_file.mode),
            )
    return tuple(out[k] for k in sorted(out))


def tree_blob(repo: pygit2.Repository, tree_id: str, path: str) -> tuple[str, int] | None:
    """The blob id and mode at ``path`` in a tree; None when there is no file there."""
    try:
        entry = repo[pygit2.Oid(hex=tree_id)].peel(pygit2.Tree)[path]
    except KeyError:
        return None
    if entry.type != pygit2.enums.ObjectType.BLOB:
        return None
    return str(entry.id), int(entry.filemode)


# -- blobs and the working tree -------------------------------------------------------------------


def blob_data(repo: pygit2.Repository, blob_id: str) -> bytes:
    blob = repo[pygit2.Oid(hex=blob_id)]
    assert isinstance(blob, pygit2.Blob)
    return blob.data


def add_blob(repo: pygit2.Repository, data: bytes) -> str:
    return str(repo.create_blob(data))


def worktree_blob(repo: pygit2.Repository, rel: str) -> str | None:
    """The blob id the working-tree file ``rel`` would be committed as (the repository's filters,
    such as CRLF conversion, applied); None when there is no file, :data:`NOT_A_FILE` for a folder,
    a symlink or anything else."""
    workdir = repo.workdir
    assert workdir is not None
    path = Path(workdir) / rel
    if path.is_symlink() or (path.exists() and not path.is_file()):
        return NOT_A_FILE
    if not path.exists():
        return None
    return str(repo.hashfile(rel))


def worktree_fingerprint(path: Path) -> str:
    """A digest of the sources in the working tree that holds ``path``: the commit checked out, and
    each file that differs from it or is untracked (not ignored), with its status, size and
    modification time. Equal digests mean the same sources, short of edits to ignored files."""
    try:
        repo = pygit2.Repository(str(path))
    except (pygit2.GitError, KeyError) as e:
        raise GitError(f"{path}: not a git repository ({e})") from None
    workdir = repo.workdir
    digest = hashlib.sha256(f"{workdir}\0{'' if repo.head_is_unborn else repo.head.target}\n".encode())
    for rel, status in sorted(repo.status(untracked_files="all").items()):
        try:
            st = os.lstat(os.path.join(workdir or "", rel))
            seen = f"{st.st_mode:o}:{st.st_size}:{st.st_mtime_ns}"
        except OSError:
            seen = "-"
        digest.update(f"{rel}\0{int(status)}\0{seen}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def worktree_data(repo: pygit2.Repository, rel: str) -> tuple[str, bytes]:
    """The working-tree file ``rel`` as a blob (filters applied; written to the object database) and
    that blob's content."""
    oid = repo.create_blob_fromworkdir(rel)
    return str(oid), blob_data(repo, str(oid))


def checkout_bytes(repo: pygit2.Repository, blob_id: str, rel: str) -> bytes:
    """What a checkout writes for blob ``blob_id`` at ``rel`` (the repository's filters applied,
    e.g. LF turned into CRLF with ``core.autocrlf``)."""
    blob = repo[pygit2.Oid(hex=blob_id)]
    assert isinstance(blob, pygit2.Blob)
    with pygit2.BlobIO(blob, as_path=rel) as f:
        return f.read()


def keep_blobs(repo: pygit2.Repository, ref: str, blob_ids: Sequence[str], message: str) -> None:
    """Keep ``blob_ids`` reachable from ``ref`` (a commit whose tree names each blob by its id), so
    that ``git gc`` never prunes them; no blobs: the ref is deleted."""
    existing = repo.references.get(ref)
    if not blob_ids:
        if existing is not None:
            existing.delete()
        return
    builder = repo.TreeBuilder()
    for blob_id in sorted(set(blob_ids)):
        builder.insert(blob_id, pygit2.Oid(hex=blob_id), pygit2.enums.FileMode.BLOB)
    tree = builder.write()
    sig = pygit2.Signature("ukws", "ukws@localhost", 0, 0)
    commit = repo.create_commit(None, sig, sig, message, tree, [])
    repo.create_reference_direct(ref, commit, True, message)
