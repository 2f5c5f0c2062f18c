"""The loader keeps Google repo's semantics for every element it knows."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.manifestutil import ORIGIN, write_manifest
from ukws.errors import ManifestError
from ukws.manifest import LibraryPolicy, Project, Role, load, select_groups, write
from ukws.manifest.groups import has_group, matches_groups
from ukws.manifest.revision import RevisionKind, is_sha, revision_kind


def test_project_defaults_and_fallbacks(tmp_path: Path) -> None:
    m = load(write_manifest(tmp_path, """
      <remote name="origin" fetch="https://example.org/base/"/>
      <remote name="pinned" fetch="git://example.org" revision="refs/heads/stable"/>
      <default remote="origin" revision="main" sync-j="8" dest-branch="review"/>
      <project name="plain"/>
      <project name="own" path="somewhere/own" revision="refs/tags/v1"/>
      <project name="viaremote" remote="pinned"/>
    """))
    plain, own, via = m.projects
    assert (plain.path, plain.remote, plain.revision) == ("plain", "origin", "main")
    assert plain.fetch_url == "https://example.org/base/plain"
    assert plain.dest_branch == "review"
    assert (own.path, own.revision) == ("somewhere/own", "refs/tags/v1")
    assert (via.revision, via.fetch_url) == ("refs/heads/stable", "git://example.org/viaremote")
    assert m.default.sync_j == 8


def test_relative_fetch_resolves_against_manifest_url_or_file(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, '<remote name="o" fetch=".."/><default remote="o" revision="main"/>'
                                    '<project name="platform/build"/>')
    m = load(path, manifest_url="https://android.example.org/platform/manifest")
    assert m.projects[0].fetch_url == "https://android.example.org/platform/build"
    m2 = load(path, manifest_url="ssh://git@example.org/platform/manifest")
    assert m2.projects[0].fetch_url == "ssh://git@example.org/platform/build"
    local = load(write_manifest(tmp_path / "repos", '<remote name="o" fetch="."/>'
                                '<default remote="o" revision="main"/><project name="lib"/>'))
    assert local.projects[0].fetch_url == (tmp_path / "repos" / "lib").resolve().as_uri()


def test_nested_projects_join_name_and_path(tmp_path: Path) -> None:
    m = load(write_manifest(tmp_path, ORIGIN + """
      <project name="outer" path="o">
        <project name="inner" path="sub/in"/>
      </project>
    """))
    assert [(p.name, p.path, p.parent) for p in m.projects] == [
        ("outer", "o", None), ("outer/inner", "o/sub/in", "outer")]
    again = tmp_path / "again.xml"
    again.write_bytes(write(m))
    assert load(again) == m


def test_include_inherits_groups_and_revision(tmp_path: Path) -> None:
    write_manifest(tmp_path, '<project name="a"/><project name="b" revision="own" groups="x"/>'
                             '<include name="deeper.xml" groups="deep"/>', name="inc.xml")
    write_manifest(tmp_path, '<project name="c"/>', name="deeper.xml")
    m = load(write_manifest(tmp_path, ORIGIN + '<include name="inc.xml" groups="g1,g2" revision="refs/tags/v2"/>'
                            '<project name="top"/>'))
    by = {p.name: p for p in m.projects}
    assert by["a"].revision == "refs/tags/v2" and set(by["a"].groups) == {"g1", "g2"}
    assert by["b"].revision == "own" and set(by["b"].groups) == {"g1", "g2", "x"}
    assert by["c"].revision == "refs/tags/v2" and set(by["c"].groups) == {"g1", "g2", "deep"}
    assert by["top"].revision == "main" and by["top"].groups == ()


def test_remove_project_by_name_path_and_both(tmp_path: Path) -> None:
    m = load(write_manifest(tmp_path, ORIGIN + """
      <project name="dup" path="one"/>
      <project name="dup" path="two"/>
      <project name="keep" path="k1"/>
      <project name="keep2" path="k2"/>
      <project name="gone-by-path" path="p"/>
      <remove-project name="dup"/>
      <remove-project path="p"/>
      <remove-project name="keep2" path="k2"/>
      <remove-project name="never" optional="true"/>
    """))
    assert [p.path for p in m.projects] == ["k1"]


def test_remove_then_re_add_and_base_rev_match(tmp_path: Path) -> None:
    m = load(write_manifest(tmp_path, ORIGIN + """
      <project name="a" revision="v1"/>
      <remove-project name="a" base-rev="v1"/>
      <project name="a" path="new/a" revision="v2"/>
    """))
    assert [(p.path, p.revision) for p in m.projects] == [("new/a", "v2")]


def test_extend_project(tmp_path: Path) -> None:
    m = load(write_manifest(tmp_path, ORIGIN + """
      <remote name="mirror" fetch="https://mirror.example.org/"/>
      <project name="a" groups="base"/>
      <project name="b" path="b1"/>
      <project name="b" path="b2"/>
      <extend-project name="a" groups="extra" revision="refs/tags/v9" remote="mirror" base-rev="main">
        <copyfile src="Makefile" dest="Makefile"/>
        <annotation name="k" value="v"/>
      </extend-project>
      <extend-project name="b" path="b2" dest-path="moved/b" upstream="up"/>
    """))
    by = {p.path: p for p in m.projects}
    a = by["a"]
    assert set(a.groups) == {"base", "extra"} and a.revision == "refs/tags/v9"
    assert a.fetch_url == "https://mirror.example.org/a"
    assert [c.dest for c in a.copyfiles] == ["Makefile"] and a.annotations[0].value == "v"
    assert set(by) == {"a", "b1", "moved/b"} and by["moved/b"].upstream == "up"


def test_local_manifests_apply_in_sorted_order(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, ORIGIN + '<project name="a"/><project name="b"/>')
    local = tmp_path / "local"
    write_manifest(local, '<extend-project name="a" revision="first"/>', name="20-second.xml")
    write_manifest(local, '<extend-project name="a" revision="zero"/><remove-project name="b"/>', name="10-first.xml")
    write_manifest(local, '<project name="b" path="b-again"/>', name="30-third.xml")
    (local / "ignored.txt").write_text("not a manifest")
    m = load(path, local_manifests=local)
    assert [(p.path, p.revision) for p in m.projects] == [("a", "first"), ("b-again", "main")]


def test_unknown_elements_and_attributes_are_ignored_and_doctype_accepted(tmp_path: Path) -> None:
    path = tmp_path / "m.xml"
    path.write_text("""<?xml version="1.0"?>
<!DOCTYPE manifest [ <!ENTITY boom "boom"> ]>
<manifest>
  <remote name="origin" fetch="https://example.org/" future-attr="x"/>
  <default remote="origin" revision="main"/>
  <future-element anything="goes"><child/></future-element>
  <project name="a" some-new-attr="1"><unknown-child/></project>
</manifest>
""")
    assert [p.name for p in load(path).projects] == ["a"]


def test_entities_are_not_expanded(tmp_path: Path) -> None:
    path = tmp_path / "m.xml"
    path.write_text("""<?xml version="1.0"?>
<!DOCTYPE manifest [ <!ENTITY secret SYSTEM "file:///etc/hostname"> ]>
<manifest>
  <remote name="origin" fetch="https://example.org/"/>
  <default remote="origin" revision="main"/>
  <notice>&secret;</notice>
  <project name="a"/>
</manifest>
""")
    m = load(path)
    assert m.notice in (None, "")


def test_identical_remote_twice_and_empty_second_default_are_fine(tmp_path: Path) -> None:
    m = load(write_manifest(tmp_path, ORIGIN + ORIGIN.split("\n")[0] + '<default/><project name="a"/>'))
    assert len(m.remotes) == 1 and m.default.revision == "main"


def test_group_selection_semantics(tmp_path: Path) -> None:
    m = load(write_manifest(tmp_path, ORIGIN + """
      <project name="core" groups="base"/>
      <project name="opt" groups="notdefault,extra"/>
      <project name="tools" path="t" groups="base,tools"/>
    """))
    core, opt, tools = m.projects
    assert matches_groups(core, None) and not matches_groups(opt, None)
    assert matches_groups(opt, "extra") and matches_groups(opt, "all")
    assert not matches_groups(tools, "default,-tools") and matches_groups(tools, "-tools,base")
    assert matches_groups(tools, "path:t") and matches_groups(core, "name:core")
    assert [p.name for p in select_groups(m, "all,-base").projects] == ["opt"]


def test_extensions_are_read(tmp_path: Path) -> None:
    sha = "a" * 64
    m = load(write_manifest(tmp_path, ORIGIN + f"""
      <x-ukws library-policy="independent"/>
      <project name="uk" x-role="core" x-version="&gt;=0.13"/>
      <project name="lib" x-role="library" x-tags="v{{version}}"/>
      <project name="app" x-role="application">
        <x-requires project="uk" version="&gt;=0.13,&lt;0.14"/>
        <x-app subdir="tools/app" libraries="lib">
          <x-patch path="app/0001.patch" sha256="{sha}"/>
          <x-target plat="xen" arch="x86_64" defconfig="app/xen.config"/>
        </x-app>
      </project>
    """))
    uk, lib, app = m.projects
    assert m.library_policy is LibraryPolicy.INDEPENDENT
    assert uk.role is Role.CORE and uk.version == ">=0.13"
    assert lib.tag_pattern == "v{version}" and uk.tag_pattern == "RELEASE-{version}"
    assert app.requires[0].project == "uk" and app.requires[0].specifier == ">=0.13,<0.14"
    assert app.app is not None and app.app.subdir == "tools/app" and app.app.libraries == ("lib",)
    assert app.app.patches[0].sha256 == sha and app.app.targets[0].label == "xen-x86_64"
    assert m.by_role(Role.LIBRARY) == (lib,)


def test_repo_only_elements_are_kept(tmp_path: Path) -> None:
    m = load(write_manifest(tmp_path, ORIGIN + """
      <notice>
        Read me.
          Indented.
      </notice>
      <manifest-server url="https://ms.example.org/"/>
      <contactinfo bugurl="https://bugs.example.org/"/>
      <superproject name="super"/>
      <submanifest name="sub" path="subdir" groups="g"/>
      <project name="hooks"/>
      <repo-hooks in-project="hooks" enabled-list="pre-upload other"/>
    """))
    assert m.notice == "Read me.\n  Indented."
    assert m.manifest_server == "https://ms.example.org/" and m.contactinfo == "https://bugs.example.org/"
    assert m.superproject is not None and m.superproject.remote == "origin"
    assert m.submanifests[0].path == "subdir"
    assert m.repo_hooks is not None and m.repo_hooks.enabled_list == ("pre-upload", "other")


@pytest.mark.parametrize(
    ("rev", "kind"),
    [
        ("0123456789abcdef0123456789abcdef01234567", RevisionKind.SHA),
        ("0123456789abcdef" * 4, RevisionKind.SHA),
        ("0123456", RevisionKind.NAME),
        ("deadbeef", RevisionKind.NAME),
        ("refs/tags/RELEASE-0.13.1", RevisionKind.TAG),
        ("refs/heads/staging", RevisionKind.BRANCH),
        ("refs/changes/1/1", RevisionKind.REF),
        ("stable", RevisionKind.NAME),
    ],
)
def test_revision_kinds(rev: str, kind: RevisionKind) -> None:
    assert revision_kind(rev) is kind
    assert is_sha(rev) is (kind is RevisionKind.SHA)


def test_writer_is_byte_stable_and_round_trips(tmp_path: Path) -> None:
    m = load(write_manifest(tmp_path, ORIGIN + """
      <remote name="second" fetch="ssh://git@example.org/" revision="dev" alias="origin2">
        <annotation name="r" value="1"/>
      </remote>
      <x-ukws library-policy="independent"/>
      <project name="a" groups="g1,g2" clone-depth="1" sync-c="true" upstream="u">
        <copyfile src="s" dest="d"/>
        <linkfile src="." dest="link-to-a"/>
        <annotation name="k" value="v" keep="false"/>
        <project name="child"/>
      </project>
      <project name="b" remote="second" x-role="library" x-tags="v{version}" x-version="&lt;2"/>
      <contactinfo bugurl="https://bugs.example.org/"/>
    """))
    first = write(m)
    assert write(m) == first
    out = tmp_path / "written.xml"
    out.write_bytes(first)
    again = load(out)
    assert again == m
    assert write(again) == first


def test_problems_inside_includes_name_the_included_file(tmp_path: Path) -> None:
    write_manifest(tmp_path, '<project name="x" clone-depth="0"/>', name="inc.xml")
    with pytest.raises(ManifestError) as info:
        load(write_manifest(tmp_path, ORIGIN + '<include name="inc.xml"/>'), display="manifest.xml")
    assert info.value.lines() == ['inc.xml:3: <project> clone-depth="0": must be a positive whole number']


def test_patch_paths_are_relative_to_their_own_file(tmp_path: Path) -> None:
    sha = "b" * 64
    write_manifest(tmp_path / "apps", f"""
      <project name="app"><x-app>
        <x-patch path="app/0001.patch" sha256="{sha}"/>
        <x-target plat="kvm" arch="x86_64" defconfig="app/kvm.config"/>
      </x-app></project>""", name="app.xml")
    m = load(write_manifest(tmp_path, ORIGIN + '<include name="apps/app.xml"/>'))
    app = m.projects[0].app
    assert app is not None
    assert app.patches[0].path == "apps/app/0001.patch" and app.targets[0].defconfig == "apps/app/kvm.config"


def test_unsupported_features_are_named_with_their_place(tmp_path: Path) -> None:
    from ukws.manifest.unsupported import unsupported_features

    plain = load(write_manifest(tmp_path, ORIGIN + '<project name="a"/>'))
    assert unsupported_features(plain) == ()
    m = load(write_manifest(tmp_path, ORIGIN + '<project name="hooks"/>\n<submanifest name="s" path="sub"/>\n'
                            '<superproject name="super"/>\n<repo-hooks in-project="hooks" enabled-list="x"/>'),
             display="m.xml")
    assert [str(n).split(": ")[0] for n in unsupported_features(m)] == ["m.xml:6", "m.xml:7", "m.xml:8"]
    assert "submanifests are not supported" in str(unsupported_features(m)[0])


def test_model_lookups(tmp_path: Path) -> None:
    m = load(write_manifest(tmp_path, ORIGIN + '<project name="dup" path="d1"/><project name="dup" path="d2"/>'
                                               '<project name="one" path="p1"/>'))
    assert m.project("one").path == "p1" and m.project("p1").name == "one" and m.project("d2").path == "d2"
    with pytest.raises(KeyError):
        m.project("dup")
    with pytest.raises(KeyError):
        m.project("nothing")
    assert m.remote("origin").fetch == "https://example.org/base/"
    with pytest.raises(KeyError):
        m.remote("nothing")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "b", "notdefault", "default", "all", "name:p", "path:q/r"]), max_size=4),
    st.sampled_from(["p", "q/r", "a"]),
    st.sampled_from(["p", "q/r", "b"]),
    st.sampled_from(["a", "b", "x", "default", "notdefault", "all", "name:p", "name:q/r", "path:q/r", "path:p",
                     "name:", "path:", "name", ""]),
)
def test_a_group_test_agrees_with_the_groups_repo_gives(groups: list[str], name: str, path: str, group: str) -> None:
    p = Project(name=name, path=path, remote="o", revision="main", fetch_url="u", groups=tuple(groups))
    assert has_group(p, group) == (group in p.all_groups())
