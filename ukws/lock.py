"""The lock: a repo-format manifest with every project pinned to a full commit SHA.

Each ``<project>`` keeps its manifest data, with ``revision`` set to the commit, ``upstream`` to the
revision the manifest gave (repo's meaning: where that commit is found) and, for a project with a
release version, ``x-version="==X"``. ``<x-lock>`` records the manifest it was resolved from, and one
``<x-build app="..." libraries="path ...">`` per application gives the ``L=`` order. The file is
written canonically (same resolution, same bytes) and atomically (temporary file, then rename), and
it still loads as a manifest in repo and in ukws.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from ukws.errors import WorkspaceError
from ukws.fileops import atomic_write
from ukws.manifest.model import Manifest
from ukws.manifest.revision import is_sha
from ukws.manifest.write import to_element, write

LOCK_ELEMENT = "x-lock"
BUILD_ELEMENT = "x-build"


@dataclass(frozen=True, slots=True, kw_only=True)
class LockedProject:
    name: str
    path: str
    revision: str
    """The full commit SHA."""
    upstream: str | None = None
    """The revision the manifest gave."""
    version: str | None = None
    """The resolved release version, when there is one."""
    line: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class LockedBuild:
    app: str
    libraries: tuple[str, ...]
    """Workspace-relative library paths in ``L=`` order."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Lock:
    projects: tuple[LockedProject, ...]
    builds: tuple[LockedBuild, ...] = ()
    manifest_sha256: str | None = None
    """Digest of the canonical form of the manifest the lock was resolved from."""

    @property
    def pins(self) -> dict[str, str]:
        """Workspace path -> commit SHA, for sync."""
        return {p.path: p.revision for p in self.projects}

    def project(self, name_or_path: str) -> LockedProject:
        for p in self.projects:
            if p.path == name_or_path or p.name == name_or_path:
                return p
        raise KeyError(name_or_path)

    def build(self, app: str) -> LockedBuild | None:
        for b in self.builds:
            if b.app == app:
                return b
        return None


def manifest_digest(manifest: Manifest) -> str:
    return hashlib.sha256(write(manifest)).hexdigest()


def pinned(manifest: Manifest, lock: Lock) -> Manifest:
    """``manifest`` with every project's revision, upstream and version as ``lock`` says."""
    pins = {p.path: p for p in lock.projects}
    projects = []
    for p in manifest.projects:
        pin = pins[p.path]
        upstream = pin.upstream if pin.upstream is not None else p.upstream
        version = f"=={pin.version}" if pin.version is not None else None
        projects.append(dataclasses.replace(p, revision=pin.revision, upstream=upstream, version=version))
    return dataclasses.replace(manifest, projects=tuple(projects))


def add_builds(root: etree._Element, builds: tuple[LockedBuild, ...]) -> None:
    """One ``<x-build app libraries>`` per application, at the end of ``root``."""
    for b in builds:
        el = etree.SubElement(root, BUILD_ELEMENT)
        el.set("app", b.app)
        el.set("libraries", " ".join(b.libraries))


def after_header(root: etree._Element) -> int:
    """Index after notice/remote/default (where top-level settings such as the lock mark go)."""
    index = 0
    for i, child in enumerate(root):
        if child.tag in ("notice", "remote", "default", "manifest-server", "x-ukws"):
            index = i + 1
    return index


def render(manifest: Manifest, lock: Lock) -> bytes:
    """The lock file's bytes: ``manifest`` with every project pinned as ``lock`` says."""
    root = to_element(pinned(manifest, lock))
    mark = etree.Element(LOCK_ELEMENT)
    mark.set("manifest-sha256", manifest_digest(manifest))
    root.insert(after_header(root), mark)
    add_builds(root, lock.builds)
    etree.indent(root, space="  ")
    body: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body + b"\n"


def write_lock(path: Path, manifest: Manifest, lock: Lock) -> bool:
    """Write the lock atomically. Returns False when the file already had these exact bytes."""
    data = render(manifest, lock)
    if path.exists() and path.read_bytes() == data:
        return False
    atomic_write(path, data)
    return True


def read_lock(path: Path) -> Lock:
    """Read a lock file; every problem is a :class:`WorkspaceError` naming file and line."""
    try:
        tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    except OSError as e:
        raise WorkspaceError(f"{path}: cannot read the lock ({e})") from None
    except etree.XMLSyntaxError as e:
        raise WorkspaceError(
            f"{path}:{e.lineno}: the lock is not well-formed XML; run 'ukws resolve' again"
        ) from None
    root = tree.getroot()
    if root.tag != "manifest":
        raise WorkspaceError(f"{path}:{root.sourceline}: the lock's root element must be <manifest>")
    projects: list[LockedProject] = []
    builds: list[LockedBuild] = []
    digest: str | None = None

    def walk(parent: etree._Element, outer_name: str, outer_path: str) -> None:
        for el in parent:
            if el.tag != "project":
                continue
            line = el.sourceline if isinstance(el.sourceline, int) else 0
            name, rev = el.get("name"), el.get("revision")
            if not name or not rev or not is_sha(rev):
                raise WorkspaceError(
                    f"{path}:{line}: every locked project needs a name and a full commit SHA as revision; "
                    "run 'ukws resolve' again"
                )
            full_name = f"{outer_name}/{name}" if outer_name else name
            rel = el.get("path") or name
            full_path = f"{outer_path}/{rel}" if outer_path else rel
            version = el.get("x-version")
            projects.append(
                LockedProject(
                    name=full_name,
                    path=full_path,
                    revision=rev,
                    upstream=el.get("upstream"),
                    version=version.removeprefix("==") if version else None,
                    line=line,
                )
            )
            walk(el, full_name, full_path)

    walk(root, "", "")
    for el in root:
        if el.tag == LOCK_ELEMENT:
            digest = el.get("manifest-sha256")
        elif el.tag == BUILD_ELEMENT:
            app = el.get("app")
            if not app:
                raise WorkspaceError(f"{path}:{el.sourceline}: <{BUILD_ELEMENT}> needs an app attribute")
            builds.append(LockedBuild(app=app, libraries=tuple((el.get("libraries") or "").split())))
    return Lock(projects=tuple(projects), builds=tuple(builds), manifest_sha256=digest)
