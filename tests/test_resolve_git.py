"""Resolution over real git repositories with tags, branches, ukws.toml, Kraftfiles and Config.uk."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pygit2
import pytest

from tests.gitutil import commit, tag
from tests.manifestutil import write_manifest
from tests.resolveutil import World, copy_world, manifest_xml, shared_world
from ukws.errors import ResolveError, UsageError
from ukws.manifest import load
from ukws.resolve.plan import WorkspaceResolution, resolve_workspace

APP = 'revision="refs/tags/RELEASE-0.13.0"'
C_PIN = 'revision="refs/tags/RELEASE-0.12.0"'


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return shared_world(tmp_path_factory)


@dataclass
class Runner:
    """Resolves manifests (written to a folder of the test's own) over a workspace of repositories."""

    root: Path
    folder: Path

    @property
    def path(self) -> Path:
        return self.folder / "manifest.xml"

    def __call__(self, body: str, **kwargs: Any) -> WorkspaceResolution:
        return resolve_workspace(root=self.root, manifest=load(write_manifest(self.folder, body)), **kwargs)

    def line(self, needle: str) -> int:
        return next(i for i, text in enumerate(self.path.read_text().splitlines(), 1) if needle in text)


@pytest.fixture
def run(world: World, tmp_path: Path) -> Runner:
    """Over the shared world: resolution only reads it."""
    return Runner(root=world[0], folder=tmp_path / "m")


@pytest.fixture
def own_run(world: World, tmp_path: Path) -> Runner:
    """Over a private copy of the world, for tests that add commits."""
    return Runner(root=copy_world(world[0], tmp_path / "ws"), folder=tmp_path / "m")


@pytest.fixture
def shas(world: World) -> dict[str, dict[str, str]]:
    return world[1]


def labels(res: WorkspaceResolution) -> dict[str, str]:
    return {p.name: p.label for p in res.pins}


def test_lockstep_with_a_missing_library_tag_takes_the_newest_below(
    run: Runner, shas: dict[str, dict[str, str]]
) -> None:
    res = run(manifest_xml(core='x-version="&lt;0.14"', app=APP))
    assert labels(res) == {
        "unikraft": "0.13.1",
        "lib-a": "0.13.1",
        "lib-b": "0.13.1",
        "lib-c": "0.12.0",
        "lib-unused": "0.13.1",
        "app-hello": "0.13.0",
    }
    assert res.pin("lib-b").commit == shas["lib-b"]["0.13.0"]
    assert res.pin("lib-b").tags == ("RELEASE-0.13.1",)
    assert res.pin("unikraft").commit == shas["unikraft"]["0.13.1"]
    assert (
        "lib-c has no release 0.13.1 to go with unikraft 0.13.1; using its newest release below, 0.12.0"
        in res.warnings
    )
    (build,) = res.builds
    assert build.paths == ("libs/c", "libs/b", "libs/a")
    assert build.unused == ("lib-unused",)
    assert "app-hello: the manifest lists libraries that nothing selects: lib-unused" in res.warnings


def test_backtracks_when_the_newest_library_needs_a_core_the_application_forbids(run: Runner) -> None:
    body = manifest_xml(
        policy="independent",
        app=APP,
        app_body='<x-requires project="unikraft" version="&lt;0.14"/>',
        lib_attrs={"a": 'x-version="&gt;=0.12"', "c": C_PIN},
    )
    res = run(body)
    assert labels(res)["lib-a"] == "0.13.1"
    assert labels(res)["unikraft"] == "0.13.1"  # x-requires makes it float: the newest below 0.14
    line = run.line("x-requires")
    assert [str(c) for c in res.constraints["unikraft"]] == [
        f"unikraft <0.14 from {run.path}:{line}, project app-hello, x-requires",
    ]


def test_floating_core_backtracks_too(run: Runner) -> None:
    body = manifest_xml(
        policy="independent",
        core='x-version="&gt;=0.12"',
        app=APP,
        app_body='<x-requires project="unikraft" version="&lt;0.14"/><x-requires project="lib-a"/>',
        lib_attrs={"c": C_PIN},
    )
    assert {k: v for k, v in labels(run(body)).items() if k in ("unikraft", "lib-a")} == {
        "unikraft": "0.13.1",
        "lib-a": "0.13.1",
    }
    freed = body.replace('version="&lt;0.14"', 'version="&gt;=0.12"')
    assert labels(run(freed))["lib-a"] == "0.14.0"


def test_channel_when_asked_for_by_name(run: Runner, shas: dict[str, dict[str, str]]) -> None:
    res = run(manifest_xml(core='revision="stable" x-version="&gt;=0.13"', app=APP))
    core = res.pin("unikraft")
    assert (core.commit, core.channel, core.version) == (shas["unikraft"]["stable"], "stable", None)
    assert res.pin("lib-c").commit == shas["lib-c"]["stable"]
    assert res.pin("lib-c").upstream == "refs/tags/RELEASE-0.13.1"
    assert res.pin("lib-a").label == "0.14.0"
    assert any("unikraft is at stable, which has no release version, so >=0.13" in w for w in res.warnings)
    assert any("lib-a has no branch stable" in w for w in res.warnings)


def test_ranges_never_choose_a_channel(run: Runner) -> None:
    res = run(manifest_xml(core='x-version="&gt;=0.13"', app=APP))
    assert res.pin("unikraft").label == "0.14.0"
    assert res.pin("unikraft").channel is None


def test_unsatisfiable_set_explains_the_chain(run: Runner) -> None:
    body = manifest_xml(
        core='x-version="&lt;0.13"', app=APP, app_body='<x-requires project="unikraft" version="&gt;=0.14"/>'
    )
    with pytest.raises(ResolveError) as info:
        run(body)
    path = run.path
    core_line = run.line('x-role="core"')
    assert info.value.lines() == [
        "no versions satisfy every constraint on unikraft:",
        f"  unikraft <0.13 from {path}:{core_line}, project unikraft, x-version",
        f"  unikraft >=0.14 from {path}:{run.line('x-requires')}, project app-hello, x-requires",
    ]


def test_two_part_release_and_lockstep_without_any_library_release(run: Runner) -> None:
    with pytest.raises(ResolveError) as info:
        run(manifest_xml(core='x-version="&lt;0.12"', app=APP))
    text = "\n".join(info.value.lines())
    assert "library policy lockstep with unikraft 0.4.0" in text
    assert "has no release at or below 0.4.0" in text


def test_kraftfile_and_metadata_constraints_are_read_at_the_candidate(run: Runner) -> None:
    res = run(manifest_xml(core='x-version="&gt;=0.12"', app='revision="refs/tags/RELEASE-0.14.0"'))
    why = [str(c) for c in res.constraints["lib-a"]]
    assert "lib-a >=0.13 from app-hello 0.14.0 (Kraftfile:5)" in why
    # A note for -v, not a warning: it would show on every resolve of such an application.
    assert "app-hello 0.14.0: Kraftfile:3: unikraft: stable is a kraft channel; not enforced" in res.notes
    assert not any("kraft channel" in w for w in res.warnings)


def test_kconfig_discovery_three_levels_and_a_missing_provider(own_run: Runner) -> None:
    run = own_run
    repo = pygit2.Repository(str(run.root / "apps/hello"))
    sha = commit(repo, {"Config.uk": "config APPHELLO\n\tbool\n\tdefault y\n\tselect LIBA\n\tselect LIBGHOST\n"})
    tag(repo, "RELEASE-0.15.0", sha)
    res = run(manifest_xml(core='x-version="&lt;0.14"', app=APP))
    ties = {(e.source, e.target, e.target_symbol) for e in res.builds[0].edges}
    assert ties >= {
        ("app-hello", "lib-a", "LIBA"),
        ("lib-a", "lib-b", "LIBB"),
        ("lib-b", "lib-c", "LIBC"),
        ("lib-c", "unikraft", "LIBUKALLOC"),
    }
    # Kconfig ignores a select of a symbol nothing defines, and the build goes on: a warning.
    res = run(manifest_xml(core='x-version="&lt;0.14"', app='revision="refs/tags/RELEASE-0.15.0"'))
    assert (
        "apps/hello/Config.uk:5: app-hello selects LIBGHOST, which no project in the manifest defines; "
        "ignored, as Kconfig does" in res.warnings
    )
    assert res.builds[0].libraries == ("lib-c", "lib-b", "lib-a")


def test_missing_tag_revision_names_the_manifest_line(run: Runner) -> None:
    with pytest.raises(
        ResolveError,
        match=r"manifest\.xml:\d+: project app-hello: revision refs/tags/RELEASE-9 "
        r"names no tag or branch in apps/hello",
    ):
        run(manifest_xml(app='revision="refs/tags/RELEASE-9"'))


def test_unsynced_project_asks_for_sync(run: Runner) -> None:
    body = manifest_xml(app=APP, extra='<project name="other" path="other"/>')
    with pytest.raises(
        ResolveError, match=r"project other \(other\) is not in the workspace yet; run 'ukws sync'"
    ):
        run(body)


def test_role_less_projects_are_pinned_to_their_revision(
    run: Runner, shas: dict[str, dict[str, str]]
) -> None:
    body = manifest_xml(
        app=APP,
        extra='<project name="tools" path="libs/unused" revision="RELEASE-0.12.0"/>',
        libs=("a", "b", "c"),
    )
    res = run(body)
    assert res.pin("tools").commit == shas["lib-unused"]["0.12.0"]
    assert res.pin("tools").label == shas["lib-unused"]["0.12.0"][:12]


def test_metadata_is_read_lazily(run: Runner) -> None:
    from ukws.resolve.sources import GitSource, SourceProject

    source = GitSource(
        root=run.root,
        projects=[SourceProject(name="lib-a", path="libs/a", tag_pattern="RELEASE-{version}")],
        match=lambda name, core: None,
    )
    releases = source.releases("lib-a")
    assert [c.label for c in releases] == ["0.14.0", "0.13.1", "0.13.0", "0.12.0"]
    assert source.stats.metadata_reads == 0
    source.constraints(releases[0])
    source.constraints(releases[0])
    assert source.stats.metadata_reads == 1
    assert source.stats.tag_lists == 1
    assert [str(n) for n in source.notes(releases[0])] == [
        "lib-a 0.14.0: ukws.toml:3: unikraft is not a project of the manifest; ignored",
    ]


PATCH = """\
From: ukws test
Subject: build glue

--- /dev/null
+++ b/glue/Config.uk
@@ -0,0 +1,4 @@
+config APPGLUE
+\tbool "glue"
+\tdefault y
+\tselect LIBUNUSED
--- /dev/null
+++ b/glue/Makefile.uk
@@ -0,0 +1 @@
+$(eval $(call addlib,appglue))
--\x20
2.43.0
"""


def test_patch_created_config_uk_and_defconfig_take_part_in_discovery(run: Runner) -> None:
    import hashlib

    run.folder.mkdir(parents=True)
    (run.folder / "glue.patch").write_text(PATCH)
    (run.folder / "x86.config").write_text("CONFIG_LIBB=y\n# CONFIG_LIBA is not set\n")
    digest = hashlib.sha256(PATCH.encode()).hexdigest()
    body = manifest_xml(
        core='x-version="&lt;0.14"',
        app=APP,
        app_body=f'<x-app subdir="glue"><x-patch path="glue.patch" sha256="{digest}"/>'
        '<x-target plat="kvm" arch="x86_64" defconfig="x86.config"/></x-app>',
    )
    res = run(body)
    (build,) = res.builds
    assert build.paths == ("libs/c", "libs/b", "libs/unused")
    assert build.unused == ("lib-a",)
    kinds = {(e.source, e.target, e.kind, e.target_symbol) for e in build.edges}
    assert ("app-hello", "lib-unused", "select", "LIBUNUSED") in kinds
    assert ("app-hello", "lib-b", "defconfig", "LIBB") in kinds
    tie = next(e for e in build.edges if e.target == "lib-unused")
    assert str(tie.loc) == "apps/hello/glue/Config.uk:4"


def test_why_explains_constraints_ties_and_role_less_pins(run: Runner) -> None:
    from ukws.resolve.plan import why

    body = manifest_xml(
        app=APP,
        core='x-version="&lt;0.14"',
        extra='<project name="tools" path="libs/unused" revision="RELEASE-0.12.0"/>',
        libs=("a", "b", "c"),
    )
    res = run(body)
    w = why(res, "lib-c")
    assert (w.project, w.chosen) == ("lib-c", "0.12.0")
    assert [r.kind for r in w.reasons] == ["lockstep"]
    assert w.needed_by == ("lib-b: select LIBC (libs/b/Config.uk:3)",)
    tools = why(res, "libs/unused")
    assert [(r.constraint, r.kind) for r in tools.reasons] == [
        ("tools at revision RELEASE-0.12.0", "revision")
    ]
    with pytest.raises(UsageError, match="--why ghost: no such project in the manifest"):
        why(res, "ghost")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            manifest_xml(
                app=APP,
                extra='<project name="core2" path="libs/unused" x-role="core"/>',
                libs=("a", "b", "c"),
            ),
            r"manifest\.xml: more than one core project \(unikraft, core2\); keep one x-role=\"core\"",
        ),
        (
            manifest_xml(
                app=APP,
                extra='<project name="tools" path="libs/unused"/>',
                libs=("a", "b", "c"),
                app_body='<x-requires project="tools" version="&gt;=1"/>',
            ),
            r"manifest\.xml:\d+: project app-hello: <x-requires project=\"tools\"> names a project without x-role",
        ),
        (
            manifest_xml(app='revision="refs/changes/1/1"'),
            r"manifest\.xml:\d+: project app-hello: revision refs/changes/1/1 is not a tag, branch or commit",
        ),
        (manifest_xml(app=APP), None),
    ],
)
def test_manifest_level_resolution_errors(run: Runner, body: str, message: str | None) -> None:
    if message is None:
        assert run(body).pin("app-hello").label == "0.13.0"
        return
    with pytest.raises(ResolveError, match=message):
        run(body)


def test_sha_pins_and_branch_revisions(run: Runner, shas: dict[str, dict[str, str]]) -> None:
    sha = shas["unikraft"]["0.13.0"]
    body = manifest_xml(
        core=f'revision="{sha}"',
        app='revision="refs/heads/main"',
        lib_attrs={"c": 'revision="refs/tags/RELEASE-0.12.0"'},
    )
    res = run(body)
    assert (res.pin("unikraft").commit, res.pin("unikraft").label) == (sha, "0.13.0")
    assert res.pin("lib-a").label == "0.13.0"  # lockstep with the pinned core
    assert res.pin("app-hello").channel == "main"
    assert res.pin("app-hello").commit == shas["app-hello"]["0.14.0"]
    assert res.pin("lib-c").label == "0.12.0"
    with pytest.raises(ResolveError, match="no versions satisfy every constraint on unikraft"):
        run(manifest_xml(core=f'revision="{"0" * 40}"', app=APP))


def test_without_a_core_undefined_symbols_are_warnings(run: Runner) -> None:
    body = manifest_xml(app=APP, lib_attrs={"c": C_PIN}).replace('x-role="core" ', "")
    res = run(body)
    assert any(w.startswith("the manifest has no core project") for w in res.warnings)
    assert (
        "libs/c/Config.uk:3: lib-c selects LIBUKALLOC, which no project in the manifest defines; "
        "ignored, as Kconfig does" in res.warnings
    )


def test_a_conflict_names_the_constraint_behind_a_lockstep_pin(run: Runner) -> None:
    body = manifest_xml(
        app=APP,
        app_body='<x-requires project="unikraft" version="&lt;0.14"/>',
        lib_attrs={"b": 'x-version="&gt;=0.14"'},
    )
    with pytest.raises(ResolveError) as info:
        run(body)
    lines = info.value.lines()
    assert f"  lib-b >=0.14 from {run.path}:{run.line('lib-b')}, project lib-b, x-version" in lines
    assert "  lib-b ==0.13.1 from library policy lockstep with unikraft 0.13.1" in lines
    # ... and the root of the chain: what keeps the core below 0.14.
    assert lines[-2:] == [
        "  unikraft could only be 0.13.1, 0.13.0, 0.12.0, 0.4.0, because of:",
        f"    unikraft <0.14 from {run.path}:{run.line('x-requires')}, project app-hello, x-requires",
    ]


def test_a_tag_pin_names_its_version_when_several_tags_share_the_commit(
    run: Runner, shas: dict[str, dict[str, str]]
) -> None:
    # lib-b's RELEASE-0.13.0 and RELEASE-0.13.1 name one commit (as RELEASE-0.13.0, 0.13.1 and
    # 0.14.0 do in lib-pthread-embedded and lib-zlib): the revision's own tag gives the version.
    res = run(manifest_xml(app=APP, lib_attrs={"b": 'revision="refs/tags/RELEASE-0.13.0"'}))
    pin = res.pin("lib-b")
    assert (pin.commit, pin.version) == (shas["lib-b"]["0.13.0"], "0.13.0")
    res = run(manifest_xml(app=APP, lib_attrs={"b": 'revision="RELEASE-0.13.1"'}))
    assert res.pin("lib-b").version == "0.13.1"


def test_ties_in_l_order_follow_the_libraries_the_application_states(run: Runner) -> None:
    # Include folders reach the compiler in L= order, so which of two unrelated libraries comes
    # first matters (pthread-embedded's pthread.h must shadow newlib's): the application's order
    # wins over manifest order. <x-app libraries> names projects by name or path.
    plain = run(manifest_xml(core='x-version="&lt;0.14"', app=APP))
    assert plain.builds[0].libraries == ("lib-c", "lib-b", "lib-a")
    stated = run(manifest_xml(core='x-version="&lt;0.14"', app=APP, app_body='<x-app libraries="libs/unused lib-c"/>'))
    assert stated.builds[0].libraries == ("lib-unused", "lib-c", "lib-b", "lib-a")
    # Dependencies still come first, whatever the stated order says.
    backwards = run(manifest_xml(core='x-version="&lt;0.14"', app=APP, app_body='<x-app libraries="lib-a lib-c"/>'))
    assert backwards.builds[0].libraries == ("lib-c", "lib-b", "lib-a")
