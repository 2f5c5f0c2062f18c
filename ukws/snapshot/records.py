"""The records other stages leave in ``.ukws/`` that a snapshot reads: applied patch series and the
origin-archive cache.

- ``.ukws/state/patches/<app project name, '/' as '%'>.json``: the series ``ukws patch-app`` applied
  to an application (its base commit, the patches, each file's blob before and after and its mode,
  and the Makefile it pointed at the workspace or wrote). An application without patches has one
  too (``patches: []``) once its Makefile was pointed.
- ``.ukws/origins/<sha256>`` and ``.ukws/origins/index.json``: the cache of library origin archives.
- ``.ukws/state/origins/needs.json``: what each application target asked ``ukws fetch`` for.

A missing file means nothing was recorded (no series applied, nothing fetched). A file that is not
in the expected form is an error naming it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ukws.errors import WorkspaceError

RECORD_VERSION = 1
PATCHES_DIR = "state/patches"
ORIGINS_DIR = "origins"
NEEDS_FILE = "state/origins/needs.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class AppliedPatch:
    path: str
    sha256: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FileChange:
    before: str | None
    """The file's blob before the series (None: the series added it)."""
    after: str | None
    """Its blob after (None: the series removed it)."""
    mode: int = 0o100644
    """Its git mode after."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PatchRecord:
    """What ``ukws patch-app`` applied to one application."""

    project: str
    path: str
    base: str
    patches: tuple[AppliedPatch, ...]
    files: tuple[tuple[str, FileChange], ...]
    """Project-relative path -> change, sorted by path: the series' files and the Makefile edit."""
    source: Path
    makefile: str | None = None
    """The Makefile ``patch-app`` pointed at the workspace (or wrote), project-relative."""
    makefile_generated: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class OriginNeed:
    """One origin archive a target's build asked for."""

    target: str
    """``<app project name>/<target name>``."""
    library: str
    url: str
    file: str
    sha256: str


def record_name(project: str) -> str:
    return project.replace("/", "%") + ".json"


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise WorkspaceError(f"{path}: cannot read ({e}); run the command that writes it again") from None


def _bad(path: Path, why: str) -> WorkspaceError:
    return WorkspaceError(f"{path}: {why}; run the command that writes it again")


def read_patch_record(dot: Path, project: str) -> PatchRecord | None:
    """The applied-series record of application ``project``, or None when none is applied."""
    path = dot / PATCHES_DIR / record_name(project)
    data = _load_json(path)
    if data is None:
        return None
    try:
        if not isinstance(data, dict) or data.get("version") != RECORD_VERSION:
            raise _bad(path, f"not a version {RECORD_VERSION} patch record")
        patches = tuple(
            AppliedPatch(path=str(p["path"]), sha256=str(p["sha256"])) for p in data.get("patches", [])
        )
        files = tuple(
            sorted(
                (
                    _relative(str(k)),
                    FileChange(
                        before=v.get("before"), after=v.get("after"), mode=int(str(v.get("mode", "0o100644")), 0)
                    ),
                )
                for k, v in dict(data.get("files", {})).items()
            )
        )
        makefile = data.get("makefile")
        return PatchRecord(
            project=str(data["project"]),
            path=str(data["path"]),
            base=str(data["base"]),
            patches=patches,
            files=files,
            source=path,
            makefile=_relative(str(makefile)) if makefile is not None else None,
            makefile_generated=bool(data.get("makefile_generated", False)),
        )
    except (KeyError, TypeError, AttributeError, ValueError) as e:
        raise _bad(path, f"not a valid patch record ({e})") from None


def _relative(rel: str) -> str:
    """A project-relative path a record may name (no absolute path, no '..', nothing in .git)."""
    parts = rel.split("/")
    if not rel or rel.startswith("/") or "\\" in rel or "\0" in rel or any(
        x in ("", ".", "..") or x.lower() == ".git" for x in parts
    ):
        raise ValueError(f"{rel!r} is not a path inside the project")
    return rel


def read_needs(dot: Path) -> tuple[OriginNeed, ...]:
    """Every origin archive ``ukws fetch`` recorded as needed, sorted by target, library and URL."""
    path = dot / NEEDS_FILE
    data = _load_json(path)
    if data is None:
        return ()
    try:
        if not isinstance(data, dict) or data.get("version") != RECORD_VERSION:
            raise _bad(path, f"not a version {RECORD_VERSION} list of needed origins")
        needs = [
            OriginNeed(
                target=str(target),
                library=str(n["library"]),
                url=str(n["url"]),
                file=str(n["file"]),
                sha256=str(n["sha256"]),
            )
            for target, entries in dict(data["targets"]).items()
            for n in entries
        ]
    except (KeyError, TypeError, AttributeError, ValueError) as e:
        raise _bad(path, f"not a valid list of needed origins ({e})") from None
    return tuple(sorted(set(needs), key=lambda n: (n.target, n.library, n.url, n.sha256)))


def cached_origin(dot: Path, sha256: str) -> Path | None:
    """The cache file holding the archive with this digest, or None when it is not cached."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        return None
    path = dot / ORIGINS_DIR / sha256
    return path if path.is_file() else None


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in blocks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
