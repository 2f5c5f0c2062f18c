"""Step 2 of loading a manifest: process the flat element list (remotes and the default first,
then projects, ``extend-project`` and ``remove-project`` in document order) into the effective
:class:`Manifest`."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, cast

from lxml import etree

from ukws.errors import Location
from ukws.manifest import elements, extensions
from ukws.manifest.model import (
    Default,
    LibraryPolicy,
    Manifest,
    OriginReplacement,
    Project,
    Remote,
    RepoHooks,
    Submanifest,
    Superproject,
)
from ukws.manifest.paths import check_project_path, is_plain_path
from ukws.manifest.read import Node, Reader, split_groups
from ukws.manifest.revision import check_revision
from ukws.manifest.urls import check_url, join_fetch, project_url
from ukws.manifest.xmlutil import location

#: The extension fields of a project with no ``x-`` attribute and no child element.
_NO_EXTENSIONS: Mapping[str, Any] = MappingProxyType({})


@dataclass(slots=True)
class _Doc:
    """Step 2: the state of processing the flat element list."""

    loader: Reader
    remotes: dict[str, Remote]
    fetch_bases: dict[str, str]
    default: Default
    by_path: dict[str, Project] = field(default_factory=dict)
    """The projects so far, by path, in document order."""
    fetch_prefixes: dict[str, str] = field(init=False)
    """Per remote, what its projects' fetch URLs start with (the fetch base and one ``/``)."""

    def __post_init__(self) -> None:
        self.fetch_prefixes = {name: project_url(base, "") for name, base in self.fetch_bases.items()}

    def remote_for(self, name: str | None, loc: Location, what: str) -> Remote | None:
        if not name:
            self.loader.problem(loc, f"{what} has no remote: set remote= or <default remote=...>")
            return None
        remote = self.remotes.get(name)
        if remote is None:
            self.loader.problem(loc, f"{what}: unknown remote '{name}'")
        return remote

    def project(self, node: Node, el: etree._Element, parent: Project | None) -> None:
        """Read a ``<project>`` (and the projects nested in it) and add it, or record its problems.

        Written for speed (a large manifest has tens of thousands): the attributes are read at once,
        optional ones are checked only when present, and a name or path of the plain shape skips
        the path rules."""
        loader, default = self.loader, self.default
        # The same values as el.get gives (lxml gives str, whatever its stubs say), for a fraction of
        # the cost per name.
        get = cast(dict[str, str], dict(el.items())).get
        loc = location(node.file, el)
        raw_name = get("name")
        if not raw_name:
            loader.problem(loc, "<project> needs a name attribute")
            return
        raw_name = raw_name.rstrip("/") or raw_name
        raw_path = (get("path") or raw_name).rstrip("/") or raw_name
        why_name = None if is_plain_path(raw_name) else check_project_path(raw_name)
        if why_name:
            loader.problem(loc, f'<project name="{raw_name}">: {why_name}')
        why_path = None if raw_path == raw_name or is_plain_path(raw_path) else check_project_path(raw_path)
        if why_path:
            loader.problem(loc, f'<project path="{raw_path}">: {why_path}')
        if why_name or why_path:
            return
        if parent is not None:
            name = f"{parent.name}/{raw_name}"
            path = f"{parent.path}/{raw_path}"
        else:
            name, path = raw_name, raw_path
        remote_name = get("remote") or default.remote
        remote = self.remotes.get(remote_name) if remote_name else None
        if remote is None:
            self.remote_for(remote_name, loc, f"project {name}")
        revision = (
            get("revision")
            or (node.revision if parent is None else None)
            or (remote.revision if remote else None)
            or default.revision
        )
        if not revision:
            loader.problem(loc, f"project {name} has no revision: set revision= on it, its remote or <default>")
        elif why := check_revision(revision):
            loader.problem(loc, f"project {name}: {why}")
            revision = None
        groups = node.groups if parent is None and node.groups else split_groups(get("groups"))
        ext: Mapping[str, Any] = _NO_EXTENSIONS
        if len(el):
            copyfiles, linkfiles, annotations = elements.file_children(loader, node, el, name)
            children = [child for child in el if child.tag == "project"]
            ext = extensions.project_extensions(el, node.file, loader.problems, name, base=node.base)
        else:
            copyfiles = linkfiles = annotations = ()
            children = []
            if get("x-role") is not None or get("x-tags") is not None or get("x-version") is not None:
                ext = extensions.project_extensions(el, node.file, loader.problems, name, base=node.base)
        if remote is None or not revision:
            return
        # A boolean or number attribute is read (and checked) only when it is there.
        sync_c = elements.bool_attr(loader, el, loc, "sync-c", default.sync_c) if get("sync-c") else default.sync_c
        sync_s = elements.bool_attr(loader, el, loc, "sync-s", default.sync_s) if get("sync-s") else default.sync_s
        sync_tags = (
            elements.bool_attr(loader, el, loc, "sync-tags", default.sync_tags)
            if get("sync-tags")
            else default.sync_tags
        )
        depth = None if get("clone-depth") is None else elements.positive_attr(loader, el, loc, "clone-depth")
        project = Project(
            name=name,
            path=path,
            remote=remote.name,
            revision=revision,
            fetch_url=self.fetch_prefixes[remote.name] + name,
            dest_branch=get("dest-branch") or default.dest_branch,
            upstream=get("upstream") or default.upstream,
            groups=groups,
            sync_c=sync_c,
            sync_s=sync_s,
            sync_tags=sync_tags,
            clone_depth=depth,
            copyfiles=copyfiles,
            linkfiles=linkfiles,
            annotations=annotations,
            parent=parent.name if parent is not None else None,
            loc=loc,
        )
        if ext:  # rare: a call with **ext costs every project a dict of its arguments
            project = dataclasses.replace(project, **ext)
        first = self.by_path.get(path)
        if first is None:
            self.by_path[path] = project
        else:
            loader.problem(loc, f"project {name}: duplicate path '{path}' "
                           f"(already used by project {first.name} at {first.loc})")
        for child in children:
            self.project(node, child, project)

    def named(self, name: str) -> list[Project]:
        return [p for p in self.by_path.values() if p.name == name]

    def extend(self, node: Node) -> None:
        loader, el, loc = self.loader, node.el, node.loc
        name = el.get("name")
        if not name:
            loader.problem(loc, "<extend-project> needs a name attribute")
            return
        targets = self.named(name)
        if not targets:
            loader.problem(loc, f"<extend-project name=\"{name}\">: no project '{name}' is defined before it")
            return
        path = el.get("path") or None
        dest_path = el.get("dest-path") or None
        if dest_path:
            dest_path = dest_path.rstrip("/") or dest_path
            if why := check_project_path(dest_path):
                loader.problem(loc, f'<extend-project dest-path="{dest_path}">: {why}')
                return
            if not path and len(targets) > 1:
                loader.problem(loc, f"<extend-project name=\"{name}\">: dest-path needs path= when the name "
                               "is used by several projects")
                return
        groups = set(split_groups(el.get("groups"))) | set(node.groups)
        revision = el.get("revision") or None
        if revision and (why := check_revision(revision)):
            loader.problem(loc, f"<extend-project name=\"{name}\">: {why}")
            return
        remote_name = el.get("remote") or None
        remote = self.remote_for(remote_name, loc, f"<extend-project name=\"{name}\">") if remote_name else None
        if remote_name and remote is None:
            return
        base_rev = el.get("base-rev") or None
        extra_copy, extra_link, extra_notes = elements.file_children(loader, node, el, name)
        ext = extensions.project_extensions(
            el, node.file, loader.problems, name, only_given=True, base=node.base
        )
        matched = False
        for p in targets:
            if path and p.path != path:
                continue
            matched = True
            if revision and base_rev and p.revision != base_rev:
                loader.problem(
                    loc,
                    f"<extend-project name=\"{name}\">: base-rev '{base_rev}' does not match the "
                    f"project's revision '{p.revision}'",
                )
                continue
            changes: dict[str, object] = {}
            if groups:
                changes["groups"] = tuple(sorted(set(p.groups) | groups))
            if revision:
                changes["revision"] = revision
            if remote is not None:
                changes["remote"] = remote.name
                changes["fetch_url"] = project_url(self.fetch_bases[remote.name], p.name)
            if el.get("dest-branch"):
                changes["dest_branch"] = el.get("dest-branch")
            if el.get("upstream"):
                changes["upstream"] = el.get("upstream")
            if extra_copy:
                changes["copyfiles"] = p.copyfiles + extra_copy
            if extra_link:
                changes["linkfiles"] = p.linkfiles + extra_link
            if extra_notes:
                changes["annotations"] = p.annotations + extra_notes
            changes.update(ext)
            new = dataclasses.replace(p, **changes)  # type: ignore[arg-type]
            if dest_path and dest_path != p.path:
                taken = self.by_path.get(dest_path)
                if taken is not None:
                    loader.problem(
                        loc,
                        f"<extend-project name=\"{name}\"> dest-path '{dest_path}' is already the path of "
                        f"project {taken.name} ({taken.loc})",
                    )
                    continue
                del self.by_path[p.path]
                new = dataclasses.replace(new, path=dest_path)
                self.by_path[dest_path] = new
            else:
                self.by_path[p.path] = new
        if path and not matched:
            loader.problem(loc, f"<extend-project name=\"{name}\" path=\"{path}\">: no such project at that path")

    def remove(self, node: Node) -> None:
        loader, el, loc = self.loader, node.el, node.loc
        name = el.get("name") or None
        path = el.get("path") or None
        if not name and not path:
            loader.problem(loc, "<remove-project> needs name and/or path")
            return
        optional = elements.bool_attr(loader, el, loc, "optional", False)
        base_rev = el.get("base-rev") or None
        victims = [
            p for p in self.by_path.values() if (name is None or p.name == name) and (path is None or p.path == path)
        ]
        if not victims:
            if not optional:
                what = " ".join(f'{k}="{v}"' for k, v in (("name", name), ("path", path)) if v)
                loader.problem(loc, f"<remove-project {what}>: no such project is defined before it "
                               "(add optional=\"true\" to allow this)")
            return
        for p in victims:
            if base_rev and p.revision != base_rev:
                loader.problem(
                    loc,
                    f"<remove-project> of {p.name}: base-rev '{base_rev}' does not match the "
                    f"project's revision '{p.revision}'",
                )
                continue
            del self.by_path[p.path]


def process(loader: Reader, nodes: list[Node], source: str) -> Manifest:
    remotes: dict[str, Remote] = {}
    for node in nodes:
        if node.tag != "remote":
            continue
        remote = elements.remote(loader, node)
        if remote is None:
            continue
        first = remotes.get(remote.name)
        if first is None:
            remotes[remote.name] = remote
        elif first != remote:
            loader.problem(
                node.loc,
                f"remote '{remote.name}' is already defined differently at {first.loc}",
            )
    fetch_bases: dict[str, str] = {}
    for r in remotes.values():
        base = join_fetch(r.fetch, loader.manifest_url, loader.manifest_dir)
        if why := check_url(base):
            loader.problem(r.loc, f'<remote name="{r.name}">: {why}')
        fetch_bases[r.name] = base

    default: Default | None = None
    for node in nodes:
        if node.tag != "default":
            continue
        new = elements.default(loader, node)
        empty = not node.el.attrib and len(node.el) == 0
        if default is None:
            default = new
        elif not empty and new != default:
            loader.problem(node.loc, f"a second, different <default> (the first is at {default.loc})")
    default = default or Default()
    if default.remote and default.remote not in remotes:
        loader.problem(default.loc, f"<default>: unknown remote '{default.remote}'")

    singles: dict[str, tuple[Location, str]] = {}
    policy = LibraryPolicy.LOCKSTEP
    notice = manifest_server = contactinfo = None
    superproject: Superproject | None = None
    repo_hooks: RepoHooks | None = None
    submanifests: list[Submanifest] = []
    origins: list[OriginReplacement] = []
    doc = _Doc(loader=loader, remotes=remotes, fetch_bases=fetch_bases, default=default)

    def single(node: Node) -> bool:
        if node.tag in singles:
            loader.problem(node.loc, f"duplicate <{node.tag}> (the first is at {singles[node.tag][0]})")
            return False
        singles[node.tag] = (node.loc, "")
        return True

    for node in nodes:
        el, tag = node.el, node.tag
        if tag == "project":
            doc.project(node, el, None)
        elif tag == "extend-project":
            doc.extend(node)
        elif tag == "remove-project":
            doc.remove(node)
        elif tag == "notice":
            if single(node):
                notice = elements.notice_text(el.text or "")
        elif tag == "manifest-server":
            if single(node):
                manifest_server = el.get("url")
                if not manifest_server:
                    loader.problem(node.loc, "<manifest-server> needs a url attribute")
        elif tag == "contactinfo":
            contactinfo = el.get("bugurl")
            if not contactinfo:
                loader.problem(node.loc, "<contactinfo> needs a bugurl attribute")
        elif tag == "superproject":
            if single(node):
                superproject = elements.superproject(loader, node, default, remotes)
        elif tag == "repo-hooks":
            if single(node):
                in_project, enabled = node.el.get("in-project"), node.el.get("enabled-list")
                if not in_project or enabled is None:
                    loader.problem(node.loc, "<repo-hooks> needs in-project and enabled-list attributes")
                else:
                    repo_hooks = RepoHooks(in_project=in_project, enabled_list=split_groups(enabled), loc=node.loc)
        elif tag == "submanifest":
            sub = elements.submanifest(loader, node)
            if sub is not None:
                submanifests.append(sub)
        elif tag == extensions.TOP_ELEMENT and single(node):
            policy = extensions.top_level(el, node.file, loader.problems)
        elif tag == extensions.ORIGIN_ELEMENT:
            origin = extensions.origin(el, node.file, loader.problems, base=node.base)
            if origin is not None:
                origins.append(origin)

    projects = tuple(doc.by_path.values())
    extensions.check_references(projects, loader.problems)
    if repo_hooks is not None and not any(p.name == repo_hooks.in_project for p in projects):
        loader.problem(repo_hooks.loc, f"<repo-hooks>: no project '{repo_hooks.in_project}'")
    return Manifest(
        remotes=tuple(remotes.values()),
        default=default,
        projects=projects,
        notice=notice,
        contactinfo=contactinfo,
        manifest_server=manifest_server,
        superproject=superproject,
        repo_hooks=repo_hooks,
        submanifests=tuple(submanifests),
        library_policy=policy,
        origins=extensions.unique_origins(origins, loader.problems),
        source=source,
    )
