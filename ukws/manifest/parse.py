"""Load a manifest the way Google repo does, and collect every problem with its file and line.

Reading happens in two steps, as in repo:

1. Files are read and ``<include>`` elements are replaced, in place, by the elements of the file
   they name (recursively; included projects inherit the include's ``groups`` and ``revision``).
   Local manifests are read after the main manifest, in sorted order.
2. The flat list of elements is processed: all ``<remote>`` and ``<default>`` elements first,
   then ``<project>``, ``<extend-project>`` and ``<remove-project>`` in document order, so that
   the latter two act on the projects defined before them.

Step 1 lives in :mod:`ukws.manifest.read`, step 2 in :mod:`ukws.manifest.document` (with the
readers of single elements in :mod:`ukws.manifest.elements`); this module ties them together.

Problems do not stop the run: they are collected and raised together as one :class:`ManifestError`.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator
from pathlib import Path

from ukws.errors import Location, ManifestError, Problem
from ukws.manifest.document import process
from ukws.manifest.model import Manifest
from ukws.manifest.read import IncludeRoot, Reader


def load(
    path: Path,
    *,
    local_manifests: Path | None = None,
    manifest_url: str | None = None,
    display: str | None = None,
    local_display: str | None = None,
    include_root: Path | None = None,
    files: list[Path] | None = None,
) -> Manifest:
    """Load the manifest at ``path`` (with its includes, then the local manifests) into the
    effective model. Raises :class:`ManifestError` listing every problem found.

    ``manifest_url`` is the URL of the manifest repository, against which relative remote fetch
    URLs resolve; without it they resolve against the manifest file's directory.
    ``include_root`` is the top of the manifest repository, which include names are relative to
    (as in repo); by default the manifest file's folder. Includes must stay inside it.
    ``display`` is how the file is named in messages (default: ``path`` as given), and
    ``local_display`` how the local manifests folder is (default: as given).
    ``files``, when given, gets every file read (or tried) appended: what the result depends on.
    """
    with _collector_paused():
        manifest, problems = _load(path, local_manifests, manifest_url, shown=display or str(path),
                                   local_display=local_display, include_root=include_root, files=files)
    if problems:
        raise ManifestError(_sorted_unique(problems))
    return manifest


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector: a load builds tens of thousands of objects (elements, nodes,
    projects) in no reference cycle, and the collector would go over them hundreds of times for
    nothing. Whatever cycle a load leaves is collected once the collector runs again."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _load(
    path: Path,
    local_manifests: Path | None,
    manifest_url: str | None,
    *,
    shown: str,
    local_display: str | None,
    include_root: Path | None,
    files: list[Path] | None,
) -> tuple[Manifest, list[Problem]]:
    top = include_root if include_root is not None else path.parent
    up = os.path.relpath(os.path.abspath(top), os.path.abspath(path.parent))
    root_shown = os.path.normpath(os.path.join(os.path.dirname(shown), up))
    root = IncludeRoot(path=top, shown="" if root_shown == "." else root_shown)
    loader = Reader(manifest_url=manifest_url, manifest_dir=path.parent)
    key = os.path.normpath(str(path.resolve()))
    if include_root is not None and not _inside(Path(key), root.real()):
        loader.problem(Location(file=shown), "leads outside the manifest repository through a symlink")
        nodes = []
    else:
        nodes = loader.read(path, shown, root, (), None, (key,), None)
    if local_manifests is not None and local_manifests.is_dir():
        local_root = IncludeRoot(path=local_manifests, shown=local_display or str(local_manifests))
        for local in sorted(local_manifests.glob("*.xml")):
            lkey = os.path.normpath(str(local.resolve()))
            shown_local = os.path.join(local_root.shown, local.name)
            nodes.extend(loader.read(local, shown_local, local_root, (), None, (lkey,), None))
    manifest = process(loader, nodes, shown)
    if files is not None:
        files.extend(loader.files)
    return manifest, loader.problems


def _inside(path: Path, top: Path) -> bool:
    return path == top or top in path.parents


def _sorted_unique(problems: list[Problem]) -> list[Problem]:
    """Problems without repeats, each file's in line order, files in the order first met."""
    files: dict[str, int] = {}
    unique: dict[str, Problem] = {}
    for p in problems:
        files.setdefault(p.loc.file, len(files))
        unique.setdefault(str(p), p)
    return sorted(unique.values(), key=lambda p: (files[p.loc.file], p.loc.line))
