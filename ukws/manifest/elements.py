"""Readers of single manifest elements: each turns one element into a model value, or records
a problem with its file and line and returns None."""

from __future__ import annotations

from lxml import etree

from ukws.errors import Location
from ukws.manifest.model import (
    Annotation,
    CopyFile,
    Default,
    LinkFile,
    Remote,
    Submanifest,
    Superproject,
)
from ukws.manifest.paths import check_path
from ukws.manifest.read import Node, Reader, split_groups
from ukws.manifest.revision import check_revision
from ukws.manifest.urls import check_url
from ukws.manifest.xmlutil import location

_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})


def bool_attr(loader: Reader, el: etree._Element, loc: Location, attr: str, default: bool) -> bool:
    value = el.get(attr)
    if value is None or value == "":
        return default
    folded = value.strip().lower()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    loader.problem(loc, f'<{el.tag}> {attr}="{value}": expected true or false')
    return default


def positive_attr(loader: Reader, el: etree._Element, loc: Location, attr: str) -> int | None:
    value = el.get(attr)
    if value is None:
        return None
    try:
        number = int(value.strip(), 10)
    except ValueError:
        number = 0
    if number <= 0:
        loader.problem(loc, f'<{el.tag}> {attr}="{value}": must be a positive whole number')
        return None
    return number


def annotation(loader: Reader, el: etree._Element, loc: Location) -> Annotation | None:
    name, value = el.get("name"), el.get("value")
    if not name or value is None:
        loader.problem(loc, "<annotation> needs name and value attributes")
        return None
    keep = bool_attr(loader, el, loc, "keep", True)
    return Annotation(name=name, value=value, keep=keep, loc=loc)


def file_pair(loader: Reader, el: etree._Element, loc: Location, project: str) -> CopyFile | LinkFile | None:
    src, dest = el.get("src"), el.get("dest")
    if not src or not dest:
        loader.problem(loc, f"<{el.tag}> in project {project} needs src and dest attributes")
        return None
    is_link = el.tag == "linkfile"
    bad = False
    why = check_path(src, dir_ok=is_link, dot_ok=is_link)
    if why:
        loader.problem(loc, f'<{el.tag} src="{src}"> in project {project}: {why}')
        bad = True
    why = check_path(dest)
    if why:
        loader.problem(loc, f'<{el.tag} dest="{dest}"> in project {project}: {why}')
        bad = True
    if bad:
        return None
    if is_link:
        return LinkFile(src=src, dest=dest, loc=loc)
    return CopyFile(src=src, dest=dest, loc=loc)


def remote(loader: Reader, node: Node) -> Remote | None:
    el, loc = node.el, node.loc
    name, fetch = el.get("name"), el.get("fetch")
    if not name:
        loader.problem(loc, "<remote> needs a name attribute")
        return None
    if not fetch:
        loader.problem(loc, f'<remote name="{name}"> needs a fetch attribute')
        return None
    bad = check_url(fetch)
    if bad:
        loader.problem(loc, f'<remote name="{name}">: {bad}')
        return None
    revision = el.get("revision") or None
    if revision and (why := check_revision(revision)):
        loader.problem(loc, f'<remote name="{name}">: {why}')
    annotations = tuple(a for c in el if c.tag == "annotation" if (a := annotation(loader, c, at(node, c))))
    return Remote(
        name=name,
        fetch=fetch,
        alias=el.get("alias") or None,
        pushurl=el.get("pushurl") or None,
        review=el.get("review") or None,
        revision=revision,
        annotations=annotations,
        loc=loc,
    )


def file_children(
    loader: Reader, node: Node, el: etree._Element, project: str
) -> tuple[tuple[CopyFile, ...], tuple[LinkFile, ...], tuple[Annotation, ...]]:
    """The ``<copyfile>``, ``<linkfile>`` and ``<annotation>`` children of a project or extend-project."""
    copyfiles: list[CopyFile] = []
    linkfiles: list[LinkFile] = []
    annotations: list[Annotation] = []
    for child in el:
        if child.tag in ("copyfile", "linkfile"):
            pair = file_pair(loader, child, at(node, child), project)
            if isinstance(pair, CopyFile):
                copyfiles.append(pair)
            elif isinstance(pair, LinkFile):
                linkfiles.append(pair)
        elif child.tag == "annotation" and (a := annotation(loader, child, at(node, child))):
            annotations.append(a)
    return tuple(copyfiles), tuple(linkfiles), tuple(annotations)


def at(node: Node, el: etree._Element) -> Location:
    return location(node.file, el)


def default(loader: Reader, node: Node) -> Default:
    el, loc = node.el, node.loc
    revision = el.get("revision") or None
    if revision and (why := check_revision(revision)):
        loader.problem(loc, f"<default>: {why}")
    return Default(
        remote=el.get("remote") or None,
        revision=revision,
        dest_branch=el.get("dest-branch") or None,
        upstream=el.get("upstream") or None,
        sync_j=positive_attr(loader, el, loc, "sync-j"),
        sync_c=bool_attr(loader, el, loc, "sync-c", False),
        sync_s=bool_attr(loader, el, loc, "sync-s", False),
        sync_tags=bool_attr(loader, el, loc, "sync-tags", True),
        loc=loc,
    )


def notice_text(text: str) -> str:
    # repo strips the common indentation of <notice> text.
    lines = text.strip("\n").splitlines()
    indent = min((len(ln) - len(ln.lstrip()) for ln in lines if ln.strip()), default=0)
    return "\n".join(ln[indent:] for ln in lines).strip()


def superproject(
    loader: Reader, node: Node, default: Default, remotes: dict[str, Remote]
) -> Superproject | None:
    name = node.el.get("name")
    if not name:
        loader.problem(node.loc, "<superproject> needs a name attribute")
        return None
    remote = node.el.get("remote") or default.remote
    if not remote or remote not in remotes:
        loader.problem(node.loc, f"<superproject name=\"{name}\">: no such remote '{remote or ''}'")
        return None
    return Superproject(name=name, remote=remote, revision=node.el.get("revision") or None, loc=node.loc)


def submanifest(loader: Reader, node: Node) -> Submanifest | None:
    el = node.el
    name = el.get("name")
    if not name:
        loader.problem(node.loc, "<submanifest> needs a name attribute")
        return None
    path = el.get("path") or None
    if path and (why := check_path(path)):
        loader.problem(node.loc, f'<submanifest path="{path}">: {why}')
        return None
    return Submanifest(
        name=name,
        remote=el.get("remote") or None,
        project=el.get("project") or None,
        manifest_name=el.get("manifest-name") or None,
        revision=el.get("revision") or None,
        path=path,
        groups=split_groups(el.get("groups")),
        default_groups=split_groups(el.get("default-groups")),
        loc=node.loc,
    )
