"""Files ukws writes into a workspace: copyfile and linkfile results, state files.

Every write is atomic (a temporary file in the same directory renamed over the target), and no
path from a manifest may lead outside the workspace, whatever symlinks lie on the way.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from pathlib import Path, PurePosixPath

from ukws.errors import WorkspaceError

_TMP_MARK = ".ukws-tmp-"
_WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


def is_inside(path: Path, base: Path) -> bool:
    """True when ``path`` is ``base`` or below it (both taken as given; resolve them first)."""
    return path == base or base in path.parents


def _relative_parts(rel: str, what: str) -> tuple[str, ...]:
    pure = PurePosixPath(rel)
    if not rel or pure.is_absolute() or "\\" in rel or "\0" in rel:
        raise WorkspaceError(f"{what} {rel!r} must be a relative path")
    parts = tuple(p for p in pure.parts if p != ".")
    if not parts or ".." in parts:
        raise WorkspaceError(f"{what} {rel!r} must not contain '..'")
    if ".git" in parts:
        raise WorkspaceError(f"{what} {rel!r} must not point into a .git directory")
    return parts


def workspace_path(root: Path, rel: str, what: str = "path", *, real_root: Path | None = None) -> Path:
    """``root/rel`` after checking that it stays inside ``root`` even through symlinked folders
    on the way (the last component itself may be a symlink: callers replace it, never follow it).
    ``real_root`` is ``root.resolve()`` when the caller knows it already."""
    parts = _relative_parts(rel, what)
    if parts[0] == ".ukws":
        raise WorkspaceError(f"{what} {rel!r} must not point into the workspace's .ukws directory")
    real_root = real_root or root.resolve()
    target = root.joinpath(*parts)
    if not is_inside(target.parent.resolve(), real_root):
        raise WorkspaceError(f"{what} {rel!r} leads outside the workspace through a symlink")
    return target


def clean_temporaries(directory: Path, name: str) -> None:
    """Remove temporary files an interrupted atomic write of ``directory/name`` left behind."""
    if directory.is_dir():
        for leftover in directory.glob(f".{name}{_TMP_MARK}*"):
            with contextlib.suppress(OSError):
                leftover.unlink()


def atomic_write(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` through a temporary file renamed over it; a symlink at ``path``
    is replaced, never written through."""
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_temporaries(path.parent, path.name)
    tmp = path.parent / f".{path.name}{_TMP_MARK}{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # the new bytes are on disk before the name points at them
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_symlink(path: Path, target: str) -> None:
    """Make ``path`` a symlink to ``target`` (replacing a file or symlink there, atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_temporaries(path.parent, path.name)
    tmp = path.parent / f".{path.name}{_TMP_MARK}{os.getpid()}"
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _project_source(root: Path, project_dir: Path, src: str, *, dot_ok: bool = False) -> Path:
    """The project's ``src``; with ``dot_ok``, ``.`` names the project folder itself (a linkfile
    may link the whole project, as repo allows)."""
    if dot_ok and src.rstrip("/") == ".":
        source = project_dir
    else:
        source = project_dir.joinpath(*_relative_parts(src, "copyfile/linkfile src"))
    real = source.resolve()
    if not is_inside(real, project_dir.resolve()):
        raise WorkspaceError(f"src {src!r} leads outside its project through a symlink")
    if not is_inside(real, root.resolve()):  # pragma: no cover - a project is inside the workspace
        raise WorkspaceError(f"src {src!r} leads outside the workspace")
    if not source.exists():
        raise WorkspaceError(f"src {src!r} does not exist in the project")
    return source


def _check_dest(dest: Path, rel: str) -> None:
    if dest.is_dir() and not dest.is_symlink():
        raise WorkspaceError(f"dest {rel!r} is a directory; move it away")


def copy_file(*, root: Path, project_dir: Path, src: str, dest: str, ours: str | None = None) -> Path:
    """``<copyfile>``: copy the project's regular file ``src`` to the workspace path ``dest``,
    read-only as repo writes it (the source's execute bits kept, every write bit removed).

    Returns the destination. Writes nothing when ``dest`` already holds the same bytes (a copy an
    older sync left writable is made read-only). A file at
    ``dest`` is only replaced when it is what an earlier sync wrote there (sha256 ``ours``): a file
    edited since, or one sync never wrote, is refused, never overwritten.
    """
    source = _project_source(root, project_dir, src)
    if not source.is_file():
        raise WorkspaceError(f"copyfile src {src!r} is not a regular file")
    target = workspace_path(root, dest, "copyfile dest")
    _check_dest(target, dest)
    data = source.read_bytes()
    mode = 0o555 if os.access(source, os.X_OK) else 0o444
    if not target.is_symlink() and target.is_file():
        if target.read_bytes() == data:
            if target.stat().st_mode & _WRITE_BITS:
                os.chmod(target, target.stat().st_mode & ~_WRITE_BITS & 0o7777)
            return target
        if placed_digest(target, "copy") != ours:
            raise WorkspaceError(
                f"copyfile dest {dest!r} holds changes sync did not write; move it away, then sync again"
            )
    atomic_write(target, data, mode=mode)
    return target


def link_file(*, root: Path, project_dir: Path, src: str, dest: str) -> Path:
    """``<linkfile>``: a relative symlink at the workspace path ``dest`` to the project's ``src``."""
    source = _project_source(root, project_dir, src, dot_ok=True)
    target = workspace_path(root, dest, "linkfile dest")
    _check_dest(target, dest)
    if target.exists() and not target.is_symlink():
        raise WorkspaceError(f"linkfile dest {dest!r} is a file, not a link; move it away, then sync again")
    link = os.path.relpath(source.parent.resolve() / source.name, target.parent.resolve())
    if target.is_symlink() and os.readlink(target) == link:
        return target
    atomic_symlink(target, link)
    return target


def placed_digest(path: Path, kind: str) -> str | None:
    """What identifies a file ukws placed: a copy's sha256, a link's target; None when ``path``
    holds something else (a copy that is a symlink, a link that is a file, nothing)."""
    try:
        if kind == "link":
            return os.readlink(path) if path.is_symlink() else None
        if path.is_symlink() or not path.is_file():
            return None
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
