"""Checks on paths that come from a manifest: nothing may point outside the workspace.

The rules follow Google repo's ``_CheckLocalPath`` and go further where repo is lax: ``.ukws``
components, backslashes and doubled slashes are refused too.
"""

from __future__ import annotations

import re

#: Code points some file systems ignore or normalise away, so ``.g\u200cit`` could mean ``.git``.
INVISIBLE = frozenset(
    [chr(c) for c in range(0x200C, 0x2010)]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x206A, 0x2070)]
    + ["\ufeff"]
)


_PLAIN = re.compile(r"[A-Za-z0-9_+=@,][A-Za-z0-9_+=@,.-]*(?:/[A-Za-z0-9_+=@,][A-Za-z0-9_+=@,.-]*)*")
"""Paths every rule below accepts at once: ASCII letters, digits and ``_+=@,.-``, components
separated by single slashes, none starting with ``.`` or ``-`` (so none is ``.``, ``..``, ``.git``,
``.repo*`` or ``.ukws*``). Nearly every path of a real manifest is one; the rest take the long way."""


def is_plain_path(path: str) -> bool:
    """Whether ``path`` has the plain shape every rule accepts (so :func:`check_path` and
    :func:`check_project_path` accept it: a plain path never starts with ``-``)."""
    return _PLAIN.fullmatch(path) is not None


def check_path(path: str, *, dir_ok: bool = False, dot_ok: bool = False) -> str | None:
    """Why ``path`` is not a safe workspace- or project-relative path, or None when it is.

    ``dir_ok`` allows one trailing ``/``; ``dot_ok`` allows the path ``.`` alone (a linkfile's src
    may name the whole project).
    """
    if _PLAIN.fullmatch(path):
        return None
    return path_rules(path, dir_ok=dir_ok, dot_ok=dot_ok)


def path_rules(path: str, *, dir_ok: bool = False, dot_ok: bool = False) -> str | None:
    """:func:`check_path` rule by rule, without the shortcut for plain paths."""
    if not path:
        return "empty path"
    bad = INVISIBLE.intersection(path)
    if bad:
        return f"invisible Unicode character U+{ord(min(bad)):04X} not allowed"
    if "\r" in path or "\n" in path or "\0" in path:
        return "line breaks and NUL not allowed"
    if "~" in path:
        return "'~' not allowed"
    if "\\" in path:
        return "backslash not allowed; use '/'"
    if path.startswith("/"):
        return "absolute path not allowed"
    if len(path) >= 2 and path[1] == ":" and path[0].isalpha():
        return "drive letter not allowed"
    if path == "." and dot_ok:
        return None
    body = path[:-1] if dir_ok and path.endswith("/") and len(path) > 1 else path
    parts = body.split("/")
    for part in parts:
        if part == "":
            return "empty component ('//' or trailing '/') not allowed"
        if part in (".", ".."):
            return f"'{part}' component not allowed"
        folded = part.strip().lower()
        if folded == ".git" or folded.startswith(".repo") or folded.startswith(".ukws"):
            return f"reserved component '{part}' not allowed"
    return None


def check_project_path(path: str) -> str | None:
    """:func:`check_path` for a project's name or path, which must not start with ``-`` either: a
    name or path reaches command lines (``git -C PATH``, scripts run by ``forall``) where it could
    read as an option."""
    if path.startswith("-"):
        return "must not start with '-' (it could read as a command-line option)"
    return check_path(path)


def is_within(child: str, parent: str) -> bool:
    """Whether workspace-relative ``child`` is ``parent`` or lies below it."""
    return child == parent or child.startswith(parent + "/")
