"""Files a snapshot manifest carries inside itself (``<x-snapshot><x-file path sha256>base64``): the
patches and defconfig fragments its applications name, so that one file rebuilds the release.

Read here, in the manifest wing, so that ``ukws init -m SNAPSHOT`` can lay them out next to its copy
of the snapshot; ``ukws.snapshot.manifest`` writes them.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from lxml import etree

from ukws.errors import WorkspaceError
from ukws.manifest.paths import check_path

SNAPSHOT_ELEMENT = "x-snapshot"
FILE_ELEMENT = "x-file"
ORIGIN_ELEMENT = "x-origin"


def is_snapshot(path: Path) -> bool:
    """Whether the manifest file at ``path`` is a ukws snapshot (a top-level ``<x-snapshot>``)."""
    try:
        for _event, el in etree.iterparse(str(path), events=("start",), resolve_entities=False, no_network=True):
            if el.tag == SNAPSHOT_ELEMENT and el.getparent() is not None and el.getparent().getparent() is None:
                return True
    except (OSError, etree.XMLSyntaxError):
        return False
    return False


def embedded_files(path: Path) -> list[tuple[str, bytes]]:
    """(path relative to the snapshot's folder, content) of every file the snapshot embeds, each
    checked against its sha256 and for a path that stays inside the folder."""
    try:
        root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
    except (OSError, etree.XMLSyntaxError) as e:
        raise WorkspaceError(f"{path}: cannot read the snapshot ({e})") from None
    out: list[tuple[str, bytes]] = []
    for mark in root.getroot():
        if mark.tag != SNAPSHOT_ELEMENT:
            continue
        for el in mark:
            if el.tag != FILE_ELEMENT:
                continue
            where = f"{path}:{el.sourceline}"
            rel = el.get("path") or ""
            if why := check_path(rel):
                raise WorkspaceError(f"{where}: <{FILE_ELEMENT} path=\"{rel}\">: {why}")
            try:
                data = base64.b64decode("".join((el.text or "").split()), validate=True)
            except ValueError:
                raise WorkspaceError(f"{where}: <{FILE_ELEMENT} path=\"{rel}\">: content is not base64") from None
            if hashlib.sha256(data).hexdigest() != el.get("sha256"):
                raise WorkspaceError(f"{where}: {rel}: content does not match its sha256; the snapshot is damaged")
            out.append((rel, data))
    return out


def snapshot_origins(path: Path) -> dict[str, str]:
    """URL -> sha256 of every origin archive the snapshot at ``path`` records
    (``<x-snapshot><x-origin url sha256>``): what a rebuild must download."""
    try:
        root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
    except (OSError, etree.XMLSyntaxError) as e:
        raise WorkspaceError(f"{path}: cannot read the snapshot ({e})") from None
    return {
        el.get("url") or "": el.get("sha256") or ""
        for mark in root.getroot()
        if mark.tag == SNAPSHOT_ELEMENT
        for el in mark
        if el.tag == ORIGIN_ELEMENT and el.get("url") and el.get("sha256")
    }
