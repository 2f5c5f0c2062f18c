"""Model to XML: canonical and byte-stable, so that ``load(write(m)) == m``.

The output is the effective manifest in repo's format: remotes, the default, then every project
with its remote and revision spelled out, nested projects nested again; ukws data under ``x-``.
Only values that differ from repo's defaults are written, in a fixed attribute order.
"""

from __future__ import annotations

from lxml import etree

from ukws.manifest.model import (
    DEFAULT_TAG_PATTERN,
    Annotation,
    AppSpec,
    Default,
    LibraryPolicy,
    Manifest,
    Project,
    Remote,
)


def _set(el: etree._Element, attrs: list[tuple[str, str | None]]) -> None:
    for name, value in attrs:
        if value is not None:
            el.set(name, value)


def _flag(value: bool, default: bool) -> str | None:
    if value == default:
        return None
    return "true" if value else "false"


def _annotations(parent: etree._Element, annotations: tuple[Annotation, ...]) -> None:
    for a in annotations:
        el = etree.SubElement(parent, "annotation")
        _set(el, [("name", a.name), ("value", a.value), ("keep", None if a.keep else "false")])


def _remote(root: etree._Element, r: Remote) -> None:
    el = etree.SubElement(root, "remote")
    _set(
        el,
        [
            ("name", r.name),
            ("alias", r.alias),
            ("fetch", r.fetch),
            ("pushurl", r.pushurl),
            ("review", r.review),
            ("revision", r.revision),
        ],
    )
    _annotations(el, r.annotations)


def _default(root: etree._Element, d: Default) -> None:
    if d == Default():
        return
    el = etree.SubElement(root, "default")
    _set(
        el,
        [
            ("remote", d.remote),
            ("revision", d.revision),
            ("dest-branch", d.dest_branch),
            ("upstream", d.upstream),
            ("sync-j", str(d.sync_j) if d.sync_j is not None else None),
            ("sync-c", _flag(d.sync_c, False)),
            ("sync-s", _flag(d.sync_s, False)),
            ("sync-tags", _flag(d.sync_tags, True)),
        ],
    )


def _app(parent: etree._Element, app: AppSpec) -> None:
    el = etree.SubElement(parent, "x-app")
    _set(el, [("subdir", app.subdir or None), ("libraries", " ".join(app.libraries) or None)])
    for patch in app.patches:
        _set(etree.SubElement(el, "x-patch"), [("path", patch.path), ("sha256", patch.sha256)])
    for t in app.targets:
        _set(
            etree.SubElement(el, "x-target"),
            [("name", t.name), ("plat", t.plat), ("arch", t.arch), ("defconfig", t.defconfig)],
        )


def _project(parent: etree._Element, p: Project, d: Default, children: dict[str, list[Project]],
             outer: Project | None) -> None:
    el = etree.SubElement(parent, "project")
    name = p.name[len(outer.name) + 1 :] if outer else p.name
    path = p.path[len(outer.path) + 1 :] if outer else p.path
    _set(
        el,
        [
            ("name", name),
            ("path", None if path == name else path),
            ("remote", p.remote),
            ("revision", p.revision),
            ("dest-branch", p.dest_branch if p.dest_branch != d.dest_branch else None),
            ("upstream", p.upstream if p.upstream != d.upstream else None),
            ("groups", ",".join(p.groups) or None),
            ("sync-c", _flag(p.sync_c, d.sync_c)),
            ("sync-s", _flag(p.sync_s, d.sync_s)),
            ("sync-tags", _flag(p.sync_tags, d.sync_tags)),
            ("clone-depth", str(p.clone_depth) if p.clone_depth else None),
            ("x-role", p.role.value if p.role else None),
            ("x-tags", p.tag_pattern if p.tag_pattern != DEFAULT_TAG_PATTERN else None),
            ("x-version", p.version),
        ],
    )
    for c in p.copyfiles:
        _set(etree.SubElement(el, "copyfile"), [("src", c.src), ("dest", c.dest)])
    for link in p.linkfiles:
        _set(etree.SubElement(el, "linkfile"), [("src", link.src), ("dest", link.dest)])
    _annotations(el, p.annotations)
    for req in p.requires:
        _set(etree.SubElement(el, "x-requires"), [("project", req.project), ("version", req.specifier or None)])
    if p.app is not None:
        _app(el, p.app)
    for child in children.get(p.path, []):
        _project(el, child, d, children, p)


def to_element(m: Manifest) -> etree._Element:
    root = etree.Element("manifest")
    if m.notice is not None:
        etree.SubElement(root, "notice").text = m.notice
    for r in m.remotes:
        _remote(root, r)
    _default(root, m.default)
    if m.manifest_server:
        etree.SubElement(root, "manifest-server").set("url", m.manifest_server)
    if m.library_policy is not LibraryPolicy.LOCKSTEP:
        etree.SubElement(root, "x-ukws").set("library-policy", m.library_policy.value)
    for o in m.origins:
        _set(
            etree.SubElement(root, "x-origin"),
            [("library", o.library), ("url", o.url), ("sha256", o.sha256), ("replacement", o.replacement_url),
             ("file", o.file)],
        )
    for s in m.submanifests:
        _set(
            etree.SubElement(root, "submanifest"),
            [
                ("name", s.name),
                ("remote", s.remote),
                ("project", s.project),
                ("manifest-name", s.manifest_name),
                ("revision", s.revision),
                ("path", s.path),
                ("groups", ",".join(s.groups) or None),
                ("default-groups", ",".join(s.default_groups) or None),
            ],
        )
    by_name = {p.name: p for p in m.projects}
    children: dict[str, list[Project]] = {}
    for p in m.projects:
        if p.parent is not None and p.parent in by_name:
            children.setdefault(by_name[p.parent].path, []).append(p)
    for p in m.projects:
        if p.parent is None or p.parent not in by_name:
            _project(root, p, m.default, children, None)
    if m.superproject is not None:
        _set(
            etree.SubElement(root, "superproject"),
            [("name", m.superproject.name), ("remote", m.superproject.remote), ("revision", m.superproject.revision)],
        )
    if m.contactinfo:
        etree.SubElement(root, "contactinfo").set("bugurl", m.contactinfo)
    if m.repo_hooks is not None:
        _set(
            etree.SubElement(root, "repo-hooks"),
            [("in-project", m.repo_hooks.in_project), ("enabled-list", " ".join(m.repo_hooks.enabled_list))],
        )
    return root


def write(m: Manifest) -> bytes:
    """The manifest as UTF-8 XML bytes; the same model always gives the same bytes."""
    root = to_element(m)
    etree.indent(root, space="  ")
    body: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body + b"\n"
