"""The snapshot manifest: a lock with everything else a release needs to be rebuilt from one file.

It is the workspace's effective manifest (includes, ``extend-project``, ``remove-project`` and
local manifests applied), every project pinned like the lock pins it (``revision`` a full SHA,
``upstream`` the revision it came from, ``x-version="==X"``), one ``<x-build>`` per application
(the ``L=`` order), and one ``<x-snapshot>`` element holding the ukws version, the source date, the
patch and defconfig files the manifest names (their bytes, base64, with their sha256), the
library origin archives each target needs (URL and sha256) and, for a snapshot taken with
``--allow-dirty``, what was recorded instead of the workspace's state. Google repo ignores ``x-``
elements and attributes, so ``repo init -m``/``repo sync`` check out the same commits.

The bytes are canonical: the same workspace state always gives the same file.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from ukws.errors import WorkspaceError
from ukws.lock import LockedBuild, add_builds, after_header, read_lock
from ukws.manifest.embedded import FILE_ELEMENT, SNAPSHOT_ELEMENT, embedded_files
from ukws.manifest.model import Manifest
from ukws.manifest.write import to_element

ORIGIN_ELEMENT = "x-origin"
CAVEAT_ELEMENT = "x-caveat"
FORMAT_VERSION = "1"


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotFile:
    """A file of the manifest's folder that the release needs: a patch or a defconfig fragment."""

    path: str
    """Relative to the snapshot file's folder (as the manifest names it)."""
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotOrigin:
    """A library's origin archive that one application target downloads during ``make fetch``."""

    target: str
    """``<app project name>/<target name>``."""
    library: str
    """The make library name (``libnewlibc``)."""
    url: str
    file: str
    sha256: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    manifest: Manifest
    """Flattened, every project pinned to a full SHA."""
    builds: tuple[LockedBuild, ...] = ()
    files: tuple[SnapshotFile, ...] = ()
    origins: tuple[SnapshotOrigin, ...] = ()
    ukws_version: str = ""
    source_date_epoch: int = 0
    """The newest pinned commit's committer time: a build date that does not depend on the day."""
    caveats: tuple[str, ...] = ()
    """What ``--allow-dirty`` recorded instead of the workspace's state ('' when nothing)."""

    def file(self, path: str) -> SnapshotFile | None:
        for f in self.files:
            if f.path == path:
                return f
        return None


def _base64_lines(data: bytes) -> str:
    text = base64.b64encode(data).decode("ascii")
    lines = [text[i : i + 76] for i in range(0, len(text), 76)]
    return "\n" + "\n".join(lines) + "\n" if lines else ""


def render(snap: Snapshot) -> bytes:
    """The snapshot file's bytes (canonical: one snapshot, one byte sequence)."""
    root = to_element(snap.manifest)
    mark = etree.Element(SNAPSHOT_ELEMENT)
    mark.set("version", FORMAT_VERSION)
    mark.set("ukws-version", snap.ukws_version)
    mark.set("source-date-epoch", str(snap.source_date_epoch))
    for f in sorted(snap.files, key=lambda f: f.path.encode()):
        el = etree.SubElement(mark, FILE_ELEMENT)
        el.set("path", f.path)
        el.set("sha256", f.sha256)
        el.set("size", str(len(f.data)))
        el.text = _base64_lines(f.data)
    for o in sorted(snap.origins, key=lambda o: (o.target, o.library, o.url, o.sha256)):
        el = etree.SubElement(mark, ORIGIN_ELEMENT)
        for name in ("target", "library", "url", "file", "sha256"):
            el.set(name, getattr(o, name))
    for text in snap.caveats:
        etree.SubElement(mark, CAVEAT_ELEMENT).text = text
    root.insert(after_header(root), mark)
    add_builds(root, snap.builds)
    etree.indent(root, space="  ")
    # indent() reflows text-only elements' tails but leaves their text; base64 lines keep theirs.
    body: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body + b"\n"


def read_snapshot(path: Path) -> Snapshot:
    """Read a snapshot file: the manifest (as ukws loads any manifest), the lock data and the
    ``<x-snapshot>`` element. Every problem names the file and line."""
    from ukws import manifest as loader

    manifest = loader.load(path)
    lock = read_lock(path)
    tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
    marks = [el for el in tree.getroot() if el.tag == SNAPSHOT_ELEMENT]
    if not marks:
        raise WorkspaceError(f"{path}: not a ukws snapshot (no <{SNAPSHOT_ELEMENT}>); make one with 'ukws snapshot'")
    mark = marks[0]

    def where(el: etree._Element) -> str:
        return f"{path}:{el.sourceline}"

    if mark.get("version") != FORMAT_VERSION:
        raise WorkspaceError(f"{where(mark)}: snapshot format {mark.get('version')!r} is not known to this ukws")
    origins: list[SnapshotOrigin] = []
    caveats: list[str] = []
    for el in mark:
        if el.tag == FILE_ELEMENT:
            continue  # read below, with their checks
        elif el.tag == ORIGIN_ELEMENT:
            values = {name: el.get(name) or "" for name in ("target", "library", "url", "file", "sha256")}
            origins.append(SnapshotOrigin(**values))
        elif el.tag == CAVEAT_ELEMENT:
            caveats.append(el.text or "")
    try:
        epoch = int(mark.get("source-date-epoch") or "0")
    except ValueError:
        raise WorkspaceError(f"{where(mark)}: source-date-epoch must be a number of seconds") from None
    files = [SnapshotFile(path=rel, data=data) for rel, data in embedded_files(path)]
    return Snapshot(
        manifest=manifest,
        builds=lock.builds,
        files=tuple(files),
        origins=tuple(origins),
        ukws_version=mark.get("ukws-version") or "",
        source_date_epoch=epoch,
        caveats=tuple(caveats),
    )
