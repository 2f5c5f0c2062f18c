"""The loader's shortcuts for the common case give the same answers as the long way.

Loading a large manifest reads each ``<project>`` through shortcuts: a plain name or path skips the
path rules, optional attributes are read only when present, a project without ``x-`` attributes or
children skips the extension reader, fetch URLs are joined from a prefix per remote. Here the
project reader is checked against a reference that takes the long way every time (each helper
called for each attribute), on generated projects full of the values the checks are for. Listing
selects groups once per distinct groups tuple and skips URL rewriting without rules: checked
against :func:`matches_groups` and :func:`candidates`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from ukws.errors import Location
from ukws.manifest import elements, extensions
from ukws.manifest.document import _Doc
from ukws.manifest.groups import group_filter, matches_groups
from ukws.manifest.model import Default, Project, Remote
from ukws.manifest.paths import check_project_path, is_plain_path, path_rules
from ukws.manifest.read import Node, Reader, split_groups
from ukws.manifest.revision import check_revision
from ukws.manifest.urls import project_url
from ukws.manifest.xmlutil import line_of, location
from ukws.sync.rewrite import Rewrite, UrlRewriter, candidates, parse_rule

TRICKY_PATHS = [
    "a", "lib/x", "platform/build", "..", ".", "a/../b", "a/./b", "-x", "a/-x", "x-", "a//b", "a/", "a//", "/abs",
    "//abs", ".git", "x/.git", "x/.GIT ", ".git/x", ".gitignore", ".github/x", ".repo", ".repo_x/y", "repo/x",
    ".ukws", ".ukwsx", "a\u200cb", "\ufeffa", "a\u202eb", "é/ü", "a b", " a", "a~b", "~", "a\\b", "c:x", "C:/x",
    "./a", "x/.", "a.b", ".x", "..x", "x..", "a.", "@,=+", "a:b", "x.git", "a\tb", "a\nb", "a\rb", "a\0b",
    "a\x7fb", "lib-newlib", "A_Z/0-9", "", " ",
]
PATHS = st.sampled_from(TRICKY_PATHS) | st.lists(st.sampled_from(TRICKY_PATHS), min_size=1, max_size=3).map("/".join)


def long_way(path: str) -> str | None:
    """:func:`check_project_path` rule by rule, with no shortcut at all."""
    if path.startswith("-"):
        return "must not start with '-' (it could read as a command-line option)"
    return path_rules(path)


@settings(max_examples=500, deadline=None)
@given(PATHS | st.text(max_size=12))
def test_plain_path_shortcut_agrees_with_the_project_path_rules(path: str) -> None:
    assert check_project_path(path) == long_way(path)
    if is_plain_path(path):
        assert long_way(path) is None, path


@pytest.mark.parametrize("path", TRICKY_PATHS)
def test_each_tricky_path_gets_the_same_answer(path: str) -> None:
    shortcut = None if is_plain_path(path) else check_project_path(path)
    assert shortcut == long_way(path)


# -- the project reader against the long way ------------------------------------------------------


def reference_project(doc: _Doc, node: Node, el: etree._Element, parent: Project | None) -> Iterator[Project]:
    """How a ``<project>`` is read the long way: every attribute through its helper, every time."""
    loader = doc.loader
    loc = elements.at(node, el)
    raw_name = el.get("name")
    if not raw_name:
        loader.problem(loc, "<project> needs a name attribute")
        return
    raw_name = raw_name.rstrip("/") or raw_name
    raw_path = (el.get("path") or raw_name).rstrip("/") or raw_name
    why_name = long_way(raw_name)
    if why_name:
        loader.problem(loc, f'<project name="{raw_name}">: {why_name}')
    why_path = long_way(raw_path) if raw_path != raw_name else None
    if why_path:
        loader.problem(loc, f'<project path="{raw_path}">: {why_path}')
    if why_name or why_path:
        return
    if parent is not None:
        name, path = f"{parent.name}/{raw_name}", f"{parent.path}/{raw_path}"
    else:
        name, path = raw_name, raw_path
    what = f"project {name}"
    remote = doc.remote_for(el.get("remote") or doc.default.remote, loc, what)
    revision = (
        el.get("revision")
        or (node.revision if parent is None else None)
        or (remote.revision if remote else None)
        or doc.default.revision
    )
    if not revision:
        loader.problem(loc, f"{what} has no revision: set revision= on it, its remote or <default>")
    elif why := check_revision(revision):
        loader.problem(loc, f"{what}: {why}")
        revision = None
    groups = node.groups if parent is None and node.groups else split_groups(el.get("groups"))
    copyfiles, linkfiles, annotations = elements.file_children(loader, node, el, name)
    children = [child for child in el if child.tag == "project"]
    ext = extensions.project_extensions(el, node.file, loader.problems, name, base=node.base)
    if remote is None or not revision:
        return
    project = Project(
        name=name,
        path=path,
        remote=remote.name,
        revision=revision,
        fetch_url=project_url(doc.fetch_bases[remote.name], name),
        dest_branch=el.get("dest-branch") or doc.default.dest_branch,
        upstream=el.get("upstream") or doc.default.upstream,
        groups=groups,
        sync_c=elements.bool_attr(loader, el, loc, "sync-c", doc.default.sync_c),
        sync_s=elements.bool_attr(loader, el, loc, "sync-s", doc.default.sync_s),
        sync_tags=elements.bool_attr(loader, el, loc, "sync-tags", doc.default.sync_tags),
        clone_depth=elements.positive_attr(loader, el, loc, "clone-depth"),
        copyfiles=copyfiles,
        linkfiles=linkfiles,
        annotations=annotations,
        parent=parent.name if parent else None,
        loc=loc,
        **ext,
    )
    yield project
    for child in children:
        yield from reference_project(doc, node, child, project)


def reference_add(doc: _Doc, project: Project) -> None:
    first = doc.by_path.get(project.path)
    if first is not None:
        doc.loader.problem(project.loc, f"project {project.name}: duplicate path '{project.path}' "
                           f"(already used by project {first.name} at {first.loc})")
        return
    doc.by_path[project.path] = project


BOOLS = st.sampled_from(["true", "false", "yes", "no", "1", "0", "", " TRUE ", "maybe", "Yes"])
NUMBERS = st.sampled_from(["1", "0", "-1", " 3 ", "x", "", "10", "+2", "0x1", "٣"])
OPTIONAL: dict[str, st.SearchStrategy[str]] = {
    "path": PATHS,
    "revision": st.sampled_from(["v1", "refs/tags/x", "-x", "a..b", "a b", "a.lock", "", "a" * 40]),
    "remote": st.sampled_from(["origin", "mirror", "nope", ""]),
    "groups": st.sampled_from(["", "a", "a,b", "notdefault", " a , b "]),
    "sync-c": BOOLS,
    "sync-s": BOOLS,
    "sync-tags": BOOLS,
    "clone-depth": NUMBERS,
    "dest-branch": st.sampled_from(["", "review"]),
    "upstream": st.sampled_from(["", "up"]),
    "x-role": st.sampled_from(["core", "library", "application", "bad", ""]),
    "x-tags": st.sampled_from(["v{version}", "bad", ""]),
    "x-version": st.sampled_from([">=1", "bad", ""]),
}
CHILDREN = st.sampled_from([
    '<copyfile src="s" dest="d"/>', '<copyfile src="../s" dest="d"/>', '<linkfile src="." dest="l"/>',
    '<linkfile src="s" dest="/abs"/>', '<annotation name="k" value="v" keep="maybe"/>', "<copyfile/>",
    '<x-requires project="p" version=">=1"/>', '<x-requires version="bad"/>', "<unknown/>",
])


@st.composite
def projects(draw: st.DrawFn, depth: int = 0) -> str:
    attrs = {}
    if draw(st.integers(0, 19)):
        attrs["name"] = draw(PATHS)
    for key in draw(st.lists(st.sampled_from(sorted(OPTIONAL)), max_size=5, unique=True)):
        attrs[key] = draw(OPTIONAL[key])
    text = "<project" + "".join(f" {k}={quote(v)}" for k, v in attrs.items())
    if draw(st.integers(0, 9)) == 0:  # attributes in a namespace are not the attributes of that name
        text += ' xmlns:o="urn:other" o:name="n" o:remote="nope" o:sync-c="maybe" o:x-role="bad"'
    children = draw(st.lists(CHILDREN, max_size=2))
    if depth < 1:
        children += draw(st.lists(projects(depth + 1), max_size=2))
    if not children:
        return text + "/>"
    return text + ">" + draw(st.sampled_from(["", "\n"])).join(children) + "</project>"


def quote(value: str) -> str:
    """``value`` as an XML attribute value (white space kept as written; NUL, which XML cannot
    hold, dropped)."""
    escaped = value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace("\0", "")
    return '"' + escaped.replace("\t", "&#9;").replace("\n", "&#10;").replace("\r", "&#13;") + '"'


def read_both(xml: str, default: Default, groups: tuple[str, ...], revision: str | None) -> tuple[object, object]:
    """(projects, problems) of one ``<project>`` element read by the loader and by the reference."""
    results = []
    for fast in (True, False):
        el = etree.fromstring(xml.encode())
        loader = Reader(manifest_url=None, manifest_dir=Path("."))
        remotes = {
            "origin": Remote(name="origin", fetch="https://example.org/base/"),
            "mirror": Remote(name="mirror", fetch="ssh://m/x", revision="refs/heads/stable"),
        }
        doc = _Doc(loader=loader, remotes=remotes, default=default,
                   fetch_bases={"origin": "https://example.org/base/", "mirror": "ssh://m/x"})
        node = Node(el=el, file="m.xml", tag="project", groups=groups, revision=revision)
        if fast:
            doc.project(node, el, None)
        else:
            for p in reference_project(doc, node, el, None):
                reference_add(doc, p)
        results.append(([repr(p) for p in doc.by_path.values()], [str(p) for p in loader.problems]))
    return results[0], results[1]


DEFAULTS = st.builds(
    Default,
    remote=st.sampled_from([None, "origin", "mirror", "nope"]),
    revision=st.sampled_from([None, "main", "bad..rev"]),
    dest_branch=st.sampled_from([None, "d"]),
    sync_c=st.booleans(),
    sync_s=st.booleans(),
    sync_tags=st.booleans(),
    loc=st.just(Location(file="m.xml", line=1)),
)


@settings(max_examples=600, deadline=None)
@given(projects(), DEFAULTS, st.sampled_from([(), ("inc",)]), st.sampled_from([None, "v2", "-bad"]))
def test_project_reader_agrees_with_the_long_way(
    xml: str, default: Default, groups: tuple[str, ...], revision: str | None
) -> None:
    fast, reference = read_both(xml, default, groups, revision)
    assert fast == reference, xml


@pytest.mark.parametrize("attr", ["sync-c", "sync-s", "sync-tags", "clone-depth"])
@pytest.mark.parametrize("value", [None, "", " ", "true", " TRUE ", "no", "maybe", "0", "3", " 3 ", "-1", "x"])
def test_optional_attributes_read_only_when_present_agree(attr: str, value: str | None) -> None:
    xml = '<project name="a/b" path="c"' + (f" {attr}={quote(value)}" if value is not None else "") + "/>"
    for default in (Default(remote="origin", revision="main"),
                    Default(remote="origin", revision="main", sync_c=True, sync_s=True, sync_tags=False)):
        fast, reference = read_both(xml, default, (), None)
        assert fast == reference


@pytest.mark.parametrize(
    "xml",
    ['<project name="a"/>', '<project name="a" x-role="core"/>', '<project name="a" x-role=""/>',
     '<project name="a" x-tags="v{version}"/>', '<project name="a" x-tags=""/>', '<project name="a" x-version=""/>',
     '<project name="a" x-version="bad"/>', '<project name="a"><x-requires project="a"/></project>',
     '<project name="a"><x-app/></project>', '<project name="a">\n</project>'],
)
def test_extension_shortcut_agrees(xml: str) -> None:
    fast, reference = read_both(xml, Default(remote="origin", revision="main"), (), None)
    assert fast == reference


# -- group selection and URL rewriting, once per project of a listing -----------------------------

SELECTORS = st.sampled_from(["a", "b", "-a", "-b", "notdefault", "-notdefault", "default", "-default", "all", "-all",
                             "name:p", "-name:p", "path:q/r", "-path:q/r", "--a", "platform-linux", "x"])


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(st.none(), st.just(""), st.lists(SELECTORS, max_size=4).map(",".join),
              st.lists(SELECTORS, min_size=1, max_size=4).map(tuple)),
    st.lists(st.tuples(st.lists(st.sampled_from(["a", "b", "notdefault", "default", "x"]), max_size=3),
                       st.sampled_from(["p", "q", "s"]), st.sampled_from(["q/r", "p", "t"])), max_size=12),
)
def test_group_filter_agrees_with_matches_groups(
    selectors: str | tuple[str, ...] | None, projects: list[tuple[list[str], str, str]]
) -> None:
    selected = group_filter(selectors)  # one filter for all the projects, as a listing uses it
    for groups, name, path in projects:
        p = Project(name=name, path=path, remote="o", revision="main", fetch_url="u", groups=tuple(groups))
        assert selected(p) == matches_groups(p, selectors), (selectors, p.groups, name, path)


@pytest.mark.parametrize("rules", [(), (parse_rule("https://example.org/=file:///m/"),),
                                   (parse_rule("https://other/=https://x/"),)])
def test_rewriter_without_rules_gives_what_candidates_gives(rules: tuple[Rewrite, ...]) -> None:
    p = Project(name="a", path="a", remote="o", revision="main", fetch_url="https://example.org/a")
    assert tuple(UrlRewriter(rules=rules)(p)) == candidates(p.fetch_url, rules)


@pytest.mark.parametrize("xml", [b"<a/>", b"<m>\n\n  <a/></m>"])
def test_location_is_the_dataclass_location(xml: bytes) -> None:
    root = etree.fromstring(xml)
    for el in (root, *root):
        loc = location("f.xml", el)
        assert loc == Location(file="f.xml", line=line_of(el)) and repr(loc) == repr(Location(file="f.xml",
                                                                                              line=line_of(el)))
        assert [f.name for f in dataclasses.fields(loc)] == ["file", "line"] and (loc.file, loc.line) == (
            "f.xml", line_of(el))
    detached = etree.Element("a")
    assert location("f.xml", detached) == Location(file="f.xml", line=0)


@pytest.mark.parametrize("enabled", [True, False], ids=["collector on", "collector off"])
def test_a_load_leaves_the_cycle_collector_as_it_found_it(tmp_path: Path, enabled: bool) -> None:
    import gc

    from ukws.errors import ManifestError
    from ukws.manifest import load

    good = tmp_path / "good.xml"
    good.write_text(
        '<manifest><remote name="o" fetch="."/><default remote="o" revision="main"/><project name="a"/></manifest>'
    )
    bad = tmp_path / "bad.xml"
    bad.write_text("<manifest><project/></manifest>")
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        assert [p.name for p in load(good).projects] == ["a"]
        assert gc.isenabled() is enabled
        with pytest.raises(ManifestError):
            load(bad)
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
