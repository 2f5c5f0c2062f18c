"""The pure resolver over in-memory candidates: newest wins, backtracking, lockstep, channels,
pins, the lock's preference, pre-releases, and conflicts explained with their origins."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from ukws.errors import ResolveError
from ukws.resolve.solver import (
    Candidate,
    Constraint,
    MemorySource,
    Origin,
    Problem,
    Resolution,
    ResolutionConflict,
    resolve,
)

MANIFEST = Origin(kind="manifest", file="default.xml", line=7, project="app")


def sha(*parts: str) -> str:
    return hashlib.sha1("/".join(parts).encode()).hexdigest()


def rel(project: str, version: str) -> Candidate:
    return Candidate(
        project=project, commit=sha(project, version), version=Version(version), tags=(f"RELEASE-{version}",)
    )


def releases(project: str, *versions: str) -> list[Candidate]:
    return sorted((rel(project, v) for v in versions), key=lambda c: c.version or Version("0"), reverse=True)


def need(project: str, spec: str, origin: Origin = MANIFEST) -> Constraint:
    return Constraint(project=project, specifier=SpecifierSet(spec), origin=origin)


def meta(project: str, version: str) -> Origin:
    return Origin(kind="metadata", file="ukws.toml", line=3, project=project, version=version)


def source(
    rels: Mapping[str, Sequence[Candidate]],
    deps: Mapping[Candidate, Sequence[Constraint]] | None = None,
    channels: Mapping[tuple[str, str], Candidate] | None = None,
) -> MemorySource:
    return MemorySource(release_map=rels, deps=deps or {}, channels=channels or {})


def versions(res: Resolution) -> dict[str, str]:
    return {k: v.label for k, v in res.chosen.items()}


def test_newest_versions_win() -> None:
    src = source({"core": releases("core", "0.12.0", "0.13.0", "0.13.1"), "app": releases("app", "1.0.0")})
    res = resolve(Problem(projects=("core", "app"), core="core"), src)
    assert versions(res) == {"core": "0.13.1", "app": "1.0.0"}
    assert res.warnings == ()


def test_backtracks_when_newest_library_needs_a_forbidden_core() -> None:
    lib2 = rel("lib", "2.0.0")
    src = source(
        {"core": releases("core", "0.13.0", "0.14.0"), "lib": [lib2, rel("lib", "1.0.0")]},
        deps={lib2: [need("core", ">=0.14", meta("lib", "2.0.0"))]},
    )
    prob = Problem(projects=("core", "lib"), core="core", constraints=(need("core", "<0.14"),))
    res = resolve(prob, src)
    assert versions(res) == {"core": "0.13.0", "lib": "1.0.0"}
    assert [str(c) for c in res.constraints["core"]] == ["core <0.14 from default.xml:7, project app"]


def test_lockstep_takes_the_same_release_or_the_newest_below_with_a_warning() -> None:
    src = source(
        {
            "core": releases("core", "0.10.0", "0.11.0"),
            "newlib": releases("newlib", "0.10.0", "0.12.0"),
            "lwip": releases("lwip", "0.10.0", "0.11.0"),
        }
    )
    res = resolve(Problem(projects=("core", "newlib", "lwip"), core="core", lockstep=("newlib", "lwip")), src)
    assert versions(res) == {"core": "0.11.0", "newlib": "0.10.0", "lwip": "0.11.0"}
    assert res.warnings == (
        "newlib has no release 0.11.0 to go with core 0.11.0; using its newest release below, 0.10.0",
    )
    assert "library policy lockstep with core 0.11.0" in str(res.constraints["newlib"][0])


def test_lockstep_backtracks_the_core_when_a_library_release_is_forbidden() -> None:
    src = source({"core": releases("core", "0.9.0", "0.10.0"), "lib": releases("lib", "0.9.0", "0.10.0")})
    prob = Problem(
        projects=("core", "lib"), core="core", lockstep=("lib",), constraints=(need("lib", "<0.10"),)
    )
    assert versions(resolve(prob, src)) == {"core": "0.9.0", "lib": "0.9.0"}


def test_lockstep_without_any_release_at_or_below_the_core() -> None:
    src = source({"core": releases("core", "0.9.0"), "lib": releases("lib", "0.10.0")})
    with pytest.raises(ResolutionConflict) as info:
        resolve(Problem(projects=("core", "lib"), core="core", lockstep=("lib",)), src)
    assert info.value.lines() == [
        "no versions satisfy every constraint on lib:",
        "  lib (no acceptable release) from library policy lockstep with core 0.9.0"
        " (lib has no release at or below 0.9.0)",
    ]


def test_channel_is_chosen_only_when_asked_for() -> None:
    stable = Candidate(project="core", commit=sha("core", "stable"), channel="stable")
    src = source({"core": releases("core", "0.13.0")}, channels={("core", "stable"): stable})
    assert versions(resolve(Problem(projects=("core",)), src)) == {"core": "0.13.0"}
    asked = Constraint(project="core", channel="stable", origin=Origin(kind="revision", file="m.xml", line=4))
    res = resolve(Problem(projects=("core",), constraints=(asked, need("core", ">=0.13"))), src)
    assert res.chosen["core"] == stable
    assert res.warnings == (
        "core is at stable, which has no release version, so >=0.13 from default.xml:7, project app "
        "was not checked",
    )


def test_channel_or_commit_of_a_project_without_any_release() -> None:
    """An application that follows a branch (or sits at a commit) of a repository with no release
    tags at all resolves to that branch head (or commit)."""
    head = Candidate(project="app", commit=sha("app", "main"), channel="main")
    src = source({"core": releases("core", "0.13.0"), "app": []}, channels={("app", "main"): head})
    asked = Constraint(project="app", channel="main", origin=Origin(kind="revision", file="m.xml", line=6))
    res = resolve(Problem(projects=("core", "app"), constraints=(asked,)), src)
    assert res.chosen["app"] == head and versions(res)["core"] == "0.13.0"
    pinned = Constraint(project="app", commit=head.commit, origin=Origin(kind="revision", file="m.xml", line=6))
    chosen = resolve(Problem(projects=("app",), constraints=(pinned,)), src).chosen["app"]
    assert (chosen.commit, chosen.version, chosen.channel) == (head.commit, None, None)


def test_channel_with_a_release_version_is_checked_against_ranges() -> None:
    stable = Candidate(
        project="core", commit=sha("core", "0.13.0"), channel="stable", version=Version("0.13.0")
    )
    src = source({"core": releases("core", "0.13.0")}, channels={("core", "stable"): stable})
    asked = Constraint(project="core", channel="stable", origin=Origin(kind="revision", file="m.xml", line=4))
    with pytest.raises(ResolutionConflict, match=r"core >=0\.14 from default\.xml:7"):
        resolve(Problem(projects=("core",), constraints=(asked, need("core", ">=0.14"))), src)
    assert (
        resolve(Problem(projects=("core",), constraints=(asked, need("core", "<0.14"))), src).warnings == ()
    )


def test_lockstep_follows_the_core_channel() -> None:
    core_st = Candidate(project="core", commit=sha("core", "st"), channel="staging")
    lib_st = Candidate(project="lib", commit=sha("lib", "st"), channel="staging")
    src = source(
        {
            "core": releases("core", "0.1.0"),
            "lib": releases("lib", "0.1.0"),
            "other": releases("other", "0.1.0"),
        },
        channels={("core", "staging"): core_st, ("lib", "staging"): lib_st},
    )
    asked = Constraint(
        project="core", channel="staging", origin=Origin(kind="revision", file="m.xml", line=4)
    )
    res = resolve(
        Problem(
            projects=("core", "lib", "other"), core="core", lockstep=("lib", "other"), constraints=(asked,)
        ),
        src,
    )
    assert res.chosen["lib"] == lib_st
    assert res.chosen["other"].label == "0.1.0"
    assert any("other has no branch staging" in w for w in res.warnings)


def test_commit_pin_wins_over_newer_releases() -> None:
    old = rel("core", "0.12.0")
    src = source({"core": [rel("core", "0.13.0"), old]})
    pin = Constraint(project="core", commit=old.commit, origin=Origin(kind="revision", file="m.xml", line=5))
    assert resolve(Problem(projects=("core",), constraints=(pin,)), src).chosen["core"] == old
    with pytest.raises(ResolutionConflict) as info:
        resolve(Problem(projects=("core",), constraints=(pin, need("core", ">=0.13"))), src)
    assert info.value.lines() == [
        "no versions satisfy every constraint on core:",
        "  core >=0.13 from default.xml:7, project app",
        f"  core at commit {old.commit[:12]} from m.xml:5",
    ]


def test_lock_preference_keeps_an_older_version_until_updated() -> None:
    src = source({"core": releases("core", "0.12.0", "0.13.0")})
    locked = rel("core", "0.12.0").commit
    assert versions(resolve(Problem(projects=("core",), preferred={"core": locked}), src)) == {
        "core": "0.12.0"
    }
    held = Problem(projects=("core",), preferred={"core": locked}, constraints=(need("core", ">=0.13"),))
    assert versions(resolve(held, src)) == {"core": "0.13.0"}


def test_prereleases_only_when_asked_for() -> None:
    src = source({"core": releases("core", "0.13.0", "0.14.0rc1")})
    assert versions(resolve(Problem(projects=("core",)), src)) == {"core": "0.13.0"}
    assert versions(resolve(Problem(projects=("core",), prereleases=frozenset({"core"})), src)) == {
        "core": "0.14.0rc1"
    }


def test_unsatisfiable_chain_names_files_lines_and_project_versions() -> None:
    lib1 = rel("lib", "1.0.0")
    src = source(
        {"core": releases("core", "0.13.0", "0.14.0"), "lib": [lib1]},
        deps={lib1: [need("core", ">=0.14", meta("lib", "1.0.0"))]},
    )
    prob = Problem(projects=("core", "lib"), core="core", constraints=(need("core", "<0.14"),))
    with pytest.raises(ResolutionConflict) as info:
        resolve(prob, src)
    lines = info.value.lines()
    assert lines[0] == "no versions satisfy every constraint on core:"
    assert "  core <0.14 from default.xml:7, project app" in lines
    assert "  core >=0.14 from lib 1.0.0 (ukws.toml:3)" in lines


def test_project_without_releases_is_explained() -> None:
    with pytest.raises(ResolutionConflict, match="app has no release tags matching its tag pattern"):
        resolve(Problem(projects=("app",)), source({}))


def test_constraint_on_unlisted_project_from_the_manifest_is_an_error() -> None:
    with pytest.raises(ResolveError, match="constraint on 'ghost', which the manifest does not list"):
        resolve(Problem(projects=("core",), constraints=(need("ghost", ">=1"),)), source({}))


def test_metadata_constraint_on_unlisted_project_is_ignored() -> None:
    lib = rel("lib", "1.0.0")
    src = source({"lib": [lib]}, deps={lib: [need("ghost", ">=1", meta("lib", "1.0.0"))]})
    assert versions(resolve(Problem(projects=("lib",)), src)) == {"lib": "1.0.0"}


def test_pathological_search_ends_with_a_clear_message() -> None:
    # Every version of every library demands an exact version of the next one that does not exist
    # below the newest: the resolver must give up in bounded time.
    n, depth = 30, 8
    rels: dict[str, list[Candidate]] = {}
    deps: dict[Candidate, list[Constraint]] = {}
    names = [f"l{i}" for i in range(depth)]
    for i, name in enumerate(names):
        rels[name] = releases(name, *(f"1.{v}.0" for v in range(n)))
        for cand in rels[name]:
            if i + 1 < depth:
                deps[cand] = [need(names[i + 1], f"<1.{n}", meta(name, cand.label))]
            else:
                deps[cand] = [need(names[0], "<0", meta(name, cand.label))]
    with pytest.raises(ResolveError, match=r"gave up|no versions satisfy"):
        resolve(Problem(projects=tuple(names)), source(rels, deps), max_seconds=2.0, max_rounds=500)


def test_lockstep_with_a_core_pinned_to_an_untagged_commit() -> None:
    src = source({"core": releases("core", "0.1.0"), "lib": releases("lib", "0.1.0", "0.2.0")})
    odd = Candidate(project="core", commit=sha("core", "odd"))
    src = MemorySource(release_map=src.release_map, channels={("core", "x"): odd})
    pin = Constraint(project="core", commit=odd.commit, origin=Origin(kind="revision", file="m.xml", line=5))
    res = resolve(Problem(projects=("core", "lib"), core="core", lockstep=("lib",), constraints=(pin,)), src)
    assert versions(res) == {"core": odd.commit[:12], "lib": "0.2.0"}
    assert res.warnings == (
        f"core is at commit {odd.commit[:12]}, which no release tag names; lockstep libraries take their "
        "newest releases",
    )
