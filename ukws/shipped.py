"""The manifests that ship with ukws (``manifests/*.xml`` and ``default.xml``)."""

from __future__ import annotations

from pathlib import Path

import ukws

_PACKAGE = Path(ukws.__file__).resolve().parent


def shipped_dir() -> Path:
    """Where the shipped manifests are: inside an installed wheel, or the source checkout."""
    wheel = _PACKAGE / "_shipped" / "manifests"
    return wheel if wheel.is_dir() else _PACKAGE.parent / "manifests"


def shipped_names() -> list[str]:
    return [*sorted(p.name for p in shipped_dir().glob("*.xml")), "default.xml"]


def find_manifest(name: str, cwd: Path) -> Path | None:
    """A manifest named on the command line: a file path (relative to ``cwd``) if one exists,
    else a shipped manifest of that name (``xenstore`` and ``xenstore.xml`` both work)."""
    given = Path(name)
    candidate = given if given.is_absolute() else cwd / given
    if candidate.is_file():
        return candidate
    if "/" in name:
        return None
    stem = name if name.endswith(".xml") else f"{name}.xml"
    if stem == "default.xml":
        for base in (_PACKAGE / "_shipped", _PACKAGE.parent):
            if (base / "default.xml").is_file():
                return base / "default.xml"
        return None
    shipped = shipped_dir() / stem
    return shipped if shipped.is_file() else None
