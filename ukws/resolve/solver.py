"""Version resolution: pure Python over candidates handed in, through resolvelib.

Nothing here reads git or files. A :class:`CandidateSource` hands in, per project, the release
candidates (one per version, newest first), channel heads and pinned commits, and the constraints a
candidate carries in its own metadata. :func:`resolve` picks the newest versions that satisfy every
constraint, backtracking when a choice leads to a conflict, and explains a conflict as the chain of
constraints with their origins.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from packaging.specifiers import SpecifierSet
from packaging.version import Version
from resolvelib import AbstractProvider, BaseReporter, Resolver
from resolvelib.resolvers import (
    RequirementInformation,
    ResolutionImpossible,
    ResolutionTooDeep,
)

from ukws.errors import ResolveError

_NOTHING = SpecifierSet("<0")
"""The specifier no version satisfies (a lockstep library without a release at or below the core)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Origin:
    """Where a constraint came from: a file and line, and the project (at a version) that says so."""

    kind: str
    """``manifest`` (x-version, x-requires), ``revision`` (a manifest revision: pin or channel),
    ``metadata`` (a project's ukws.toml or Kraftfile at a candidate), ``lockstep`` (library policy),
    ``lock`` (the lock file), ``request`` (the command line)."""
    file: str = ""
    line: int = 0
    project: str | None = None
    """The project that states the constraint."""
    version: str | None = None
    """That project's version (or channel, or short commit) when the constraint comes from its metadata."""
    note: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.file and self.line else self.file
        who = ""
        if self.project:
            who = f"{self.project} {self.version}" if self.version else self.project
        if self.kind == "lockstep":
            return f"library policy lockstep with {who}" + (f" ({self.note})" if self.note else "")
        if self.kind == "metadata":
            return f"{who} ({where})" if where else who
        parts = [p for p in (where, f"project {who}" if who else "", self.note) if p]
        return ", ".join(parts) if parts else self.kind


@dataclass(frozen=True, slots=True, kw_only=True)
class Constraint:
    """A requirement on one project: a version range, a channel, or a commit."""

    project: str
    specifier: SpecifierSet = field(default_factory=SpecifierSet)
    channel: str | None = None
    """Follow this branch (``stable``, ``staging``): satisfied only by that branch's head."""
    commit: str | None = None
    """Exactly this commit (a pin)."""
    origin: Origin

    def describe(self) -> str:
        if self.commit is not None:
            return f"{self.project} at commit {self.commit[:12]}"
        if self.channel is not None:
            return f"{self.project} on channel {self.channel}"
        if self.specifier == _NOTHING:
            return f"{self.project} (no acceptable release)"
        spec = str(self.specifier)
        return f"{self.project} {spec}" if spec else f"{self.project} (any version)"

    def __str__(self) -> str:
        return f"{self.describe()} from {self.origin}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    """One way to check a project out: a release (tag), a channel head or a pinned commit."""

    project: str
    commit: str
    version: Version | None = None
    """None for a channel head or commit that no release tag names."""
    tags: tuple[str, ...] = ()
    """The release tags naming this version (several tags may name one commit)."""
    channel: str | None = None
    """The branch, for a channel head."""

    @property
    def label(self) -> str:
        """How the candidate is shown: ``0.13.1``, ``stable (0.13.1)``, ``stable``, ``4061e0e4a1b2``."""
        if self.channel is not None:
            return f"{self.channel} ({self.version})" if self.version is not None else self.channel
        if self.version is not None:
            return str(self.version)
        return self.commit[:12]


class CandidateSource(Protocol):
    """What the resolver needs to know about projects; the git adapter and tests implement it."""

    def releases(self, project: str) -> Sequence[Candidate]:
        """Every release candidate of ``project``, newest version first."""
        ...

    def channel(self, project: str, name: str) -> Candidate | None:
        """The head of branch ``name``, or None when the project has no such branch."""
        ...

    def commit(self, project: str, sha: str) -> Candidate | None:
        """The candidate for exactly this commit, or None when the repository lacks it."""
        ...

    def constraints(self, candidate: Candidate) -> Sequence[Constraint]:
        """Constraints ``candidate`` puts on other projects through its own metadata."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """What to resolve: the projects, the constraints from outside them, and the policy."""

    projects: tuple[str, ...]
    """Every project to pin, in manifest order."""
    constraints: tuple[Constraint, ...] = ()
    """Root constraints: manifest x-version/x-requires, revision pins and channels."""
    core: str | None = None
    lockstep: tuple[str, ...] = ()
    """Libraries whose version follows the core's (``RELEASE-X`` with core X)."""
    preferred: Mapping[str, str] = field(default_factory=dict)
    """Project -> commit to try first (the lock); any other version is still allowed."""
    prereleases: frozenset[str] = frozenset()
    """Projects for which pre-release versions may be chosen."""

    def order(self, project: str) -> int:
        """The project's place in the manifest (unknown names last)."""
        return self.projects.index(project) if project in self.projects else len(self.projects)


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolution:
    """The chosen candidate of every project, every constraint that applied, and warnings."""

    chosen: Mapping[str, Candidate]
    constraints: Mapping[str, tuple[Constraint, ...]]
    """Project -> every constraint on it (from the root and from the chosen candidates)."""
    warnings: tuple[str, ...] = ()


class ResolutionConflict(ResolveError):
    """No set of versions satisfies every constraint; :attr:`chain` explains why, one line each."""

    def __init__(self, summary: str, chain: Sequence[str]) -> None:
        self.summary = summary
        self.chain = tuple(chain)
        super().__init__("\n".join([summary, *(f"  {line}" for line in self.chain)]))

    def lines(self) -> list[str]:
        return [self.summary, *(f"  {line}" for line in self.chain)]


def lockstep_target(core: Candidate, releases: Sequence[Candidate]) -> tuple[Candidate | None, bool]:
    """The library release that goes with ``core`` under lockstep: the same version, else the
    newest below it. Returns (candidate, exact)."""
    assert core.version is not None
    for cand in releases:
        assert cand.version is not None
        if cand.version == core.version:
            return cand, True
        if cand.version < core.version:
            return cand, False
    return None, False


class _Budget(Exception):
    """Raised inside the resolver when the time budget is spent."""


class _Provider(AbstractProvider[Constraint, Candidate, str]):
    def __init__(self, problem: Problem, source: CandidateSource, deadline: float) -> None:
        self.problem = problem
        self.source = source
        self.deadline = deadline
        self.order = {name: i for i, name in enumerate(problem.projects)}
        self.lockstep = frozenset(problem.lockstep)
        self._releases: dict[str, Sequence[Candidate]] = {}
        self._deps: dict[Candidate, list[Constraint]] = {}
        self._matches: dict[tuple[str, frozenset[int]], tuple[list[Candidate], list[Constraint]]] = {}
        self._satisfied: dict[tuple[int, int], tuple[bool, Constraint, Candidate]] = {}
        self._spec_text: dict[int, str] = {}
        self._keep: list[SpecifierSet] = []
        self._contained: dict[tuple[str, Version, bool], bool] = {}
        self._allowed_at: dict[tuple[str, str], frozenset[int]] = {}
        self._by_version: dict[str, dict[Version, int]] = {}

    def releases(self, project: str) -> Sequence[Candidate]:
        found = self._releases.get(project)
        if found is None:
            found = self.source.releases(project)
            if project not in self.problem.prereleases:
                found = [c for c in found if c.version is None or not c.version.is_prerelease]
            self._releases[project] = found
        return found

    # -- resolvelib provider interface (called by keyword) --
    def identify(self, requirement_or_candidate: Constraint | Candidate) -> str:
        return requirement_or_candidate.project

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, Candidate],
        candidates: Mapping[str, Iterator[Candidate]],
        information: Mapping[str, Iterator[RequirementInformation[Constraint, Candidate]]],
        backtrack_causes: Sequence[RequirementInformation[Constraint, Candidate]],
    ) -> tuple[bool, bool, bool, int]:
        infos = list(information[identifier])
        exact = any(i.requirement.commit is not None or i.requirement.channel is not None for i in infos)
        in_conflict = any(c.requirement.project == identifier for c in backtrack_causes)
        is_core = identifier == self.problem.core
        return (not exact, not in_conflict, not is_core, self.order.get(identifier, len(self.order)))

    def narrow_requirement_selection(
        self,
        identifiers: Iterable[str],
        resolutions: Mapping[str, Candidate],
        candidates: Mapping[str, Iterator[Candidate]],
        information: Mapping[str, Iterator[RequirementInformation[Constraint, Candidate]]],
        backtrack_causes: Sequence[RequirementInformation[Constraint, Candidate]],
    ) -> Iterable[str]:
        # The identifier get_preference would rank first, found without ranking all of them:
        # with hundreds of projects, ranking every open project on every round dominates.
        ids = list(identifiers)
        causes = {c.requirement.project for c in backtrack_causes}
        exact = [
            i
            for i in ids
            if any(
                r.requirement.commit is not None or r.requirement.channel is not None for r in information[i]
            )
        ]
        if exact:
            return exact
        conflicted = [i for i in ids if i in causes]
        if conflicted:
            return conflicted
        if self.problem.core in ids:
            return [self.problem.core]
        return [min(ids, key=lambda i: self.order.get(i, len(self.order)))]

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Constraint]],
        incompatibilities: Mapping[str, Iterator[Candidate]],
    ) -> Iterable[Candidate]:
        if time.monotonic() > self.deadline:
            raise _Budget()
        reqs = list(requirements[identifier])
        bad = set(incompatibilities[identifier])
        key = (identifier, frozenset(id(r) for r in reqs))
        cached = self._matches.get(key)
        if cached is None:
            cached = (self._pool(identifier, reqs), reqs)
            self._matches[key] = cached
        return [c for c in cached[0] if c not in bad]

    def _pool(self, identifier: str, reqs: list[Constraint]) -> list[Candidate]:
        """Every candidate satisfying all of ``reqs``, in the order to try them."""
        pool: list[Candidate] = []
        commits = {r.commit for r in reqs if r.commit is not None}
        channels = {r.channel for r in reqs if r.channel is not None}
        if commits:
            for sha in sorted(commits):
                # Every release at that commit (several tags may name one commit, newest first),
                # so that a tag pin's own version (or a lockstep range) picks among them.
                at = [c for c in self.releases(identifier) if c.commit == sha]
                cand = self.source.commit(identifier, sha) if not at else None
                pool.extend(at if at else [cand] if cand is not None else [])
        elif channels:
            for name in sorted(channels):
                cand = self.source.channel(identifier, name)
                if cand is not None:
                    pool.append(cand)
        else:
            rels = self.releases(identifier)
            allowed: frozenset[int] | None = None
            for r in reqs:
                if r.specifier:
                    these = self._allowed(r.specifier, identifier)
                    allowed = these if allowed is None else allowed & these
            pool = list(rels) if allowed is None else [rels[i] for i in sorted(allowed)]
            preferred = self.problem.preferred.get(identifier)
            if preferred is not None:
                first = [c for c in pool if c.commit == preferred]
                pool = first + [c for c in pool if c.commit != preferred]
            return pool
        return [c for c in pool if all(self._satisfies(r, c) for r in reqs)]

    def is_satisfied_by(self, requirement: Constraint, candidate: Candidate) -> bool:
        # Cached by identity: resolvelib asks the same questions again on every round; the
        # entry keeps both objects alive, so their ids stay theirs.
        key = (id(requirement), id(candidate))
        hit = self._satisfied.get(key)
        if hit is None:
            hit = (self._satisfies(requirement, candidate), requirement, candidate)
            self._satisfied[key] = hit
        return hit[0]

    def _satisfies(self, requirement: Constraint, candidate: Candidate) -> bool:
        if requirement.commit is not None and candidate.commit != requirement.commit:
            return False
        if requirement.channel is not None and candidate.channel != requirement.channel:
            return False
        if candidate.version is None:
            # An explicit pin or channel without a release version: ranges cannot be checked
            # (reported as a warning), but an impossible range still fails.
            return requirement.specifier != _NOTHING
        return self._contains(requirement.specifier, candidate.version, candidate.project)

    def _text(self, spec: SpecifierSet) -> str:
        text = self._spec_text.get(id(spec))
        if text is None:
            text = str(spec)
            self._spec_text[id(spec)] = text
            self._keep.append(spec)
        return text

    def _index(self, project: str) -> dict[Version, int]:
        found = self._by_version.get(project)
        if found is None:
            found = {}
            for i, c in enumerate(self.releases(project)):
                if c.version is not None:
                    found.setdefault(c.version, i)
            self._by_version[project] = found
        return found

    def _allowed(self, spec: SpecifierSet, project: str) -> frozenset[int]:
        """Indexes of the project's releases that ``spec`` admits, computed once per range text."""
        key = (self._text(spec), project)
        hit = self._allowed_at.get(key)
        if hit is None and len(spec) == 1:
            (only,) = spec
            if only.operator == "==" and "*" not in only.version and "+" not in only.version:
                # An exact version (lockstep's ``==X``): one dict look-up instead of a scan.
                index = self._index(project).get(Version(only.version))
                hit = frozenset(() if index is None else (index,))
                self._allowed_at[key] = hit
        if hit is None:
            hit = frozenset(
                i
                for i, c in enumerate(self.releases(project))
                if c.version is not None and self._contains(spec, c.version, project)
            )
            self._allowed_at[key] = hit
        return hit

    def _contains(self, spec: SpecifierSet, version: Version, project: str) -> bool:
        """``spec.contains(version)``, cached by the specifier's text: the same ranges (``==0.13.1``
        from lockstep, one x-requires) are asked about the same versions many times."""
        text = self._text(spec)
        allow_pre = project in self.problem.prereleases
        key = (text, version, allow_pre)
        hit = self._contained.get(key)
        if hit is None:
            hit = spec.contains(version, prereleases=allow_pre or None)
            self._contained[key] = hit
        return hit

    def get_dependencies(self, candidate: Candidate) -> Iterable[Constraint]:
        if time.monotonic() > self.deadline:
            raise _Budget()
        found = self._deps.get(candidate)
        if found is None:
            found = list(self.source.constraints(candidate))
            if candidate.project == self.problem.core:
                found.extend(self._lockstep(candidate))
            self._deps[candidate] = found
        return found

    def _lockstep(self, core: Candidate) -> list[Constraint]:
        out: list[Constraint] = []
        origin_version = core.label
        for lib in self.problem.lockstep:
            origin = Origin(kind="lockstep", project=core.project, version=origin_version)
            if core.version is None:
                if core.channel is not None and self.source.channel(lib, core.channel) is not None:
                    out.append(Constraint(project=lib, channel=core.channel, origin=origin))
                continue
            target, _exact = lockstep_target(core, self.releases(lib))
            if target is None:
                out.append(
                    Constraint(
                        project=lib,
                        specifier=_NOTHING,
                        origin=Origin(
                            kind="lockstep",
                            project=core.project,
                            version=origin_version,
                            note=f"{lib} has no release at or below {core.version}",
                        ),
                    )
                )
            else:
                out.append(
                    Constraint(project=lib, specifier=SpecifierSet(f"=={target.version}"), origin=origin)
                )
        return out


def _explain(
    causes: Sequence[RequirementInformation[Constraint, Candidate]], problem: Problem, provider: _Provider
) -> ResolutionConflict:
    projects = sorted({c.requirement.project for c in causes}, key=lambda p: (p not in problem.projects, p))
    lines: list[str] = []
    seen: set[tuple[Constraint, Candidate | None]] = set()
    for project in projects:
        found: list[Constraint] = []
        for info in causes:
            req = info.requirement
            if req.project != project or (req, info.parent) in seen or req.origin.kind == "listed":
                continue
            seen.add((req, info.parent))
            found.append(req)
        found.sort(key=lambda r: (r.origin.file, r.origin.line, str(r)))
        lines.extend(dict.fromkeys(str(r) for r in found))
        if not provider.releases(project) and not any(
            i.requirement.commit or i.requirement.channel for i in causes if i.requirement.project == project
        ):
            lines.append(f"{project} has no release tags matching its tag pattern (x-tags) in its repository")
    # The chain goes on to the root: a constraint above comes from a project's candidates (a
    # lockstep pin from the core's version, a library's metadata); say what kept that project
    # at those candidates, as PubGrub-style solvers explain a failure down to the root causes.
    parents: dict[str, set[Candidate]] = {}
    for info in causes:
        if info.parent is not None and info.parent.project not in projects:
            parents.setdefault(info.parent.project, set()).add(info.parent)
    for project in sorted(parents, key=lambda p: (problem.order(p), p)):
        held = [
            c
            for c in problem.constraints
            if c.project == project and (str(c.specifier) or c.commit is not None or c.channel is not None)
        ]
        tried = sorted(parents[project], key=lambda c: (c.version is None, c.version), reverse=True)
        labels = ", ".join(dict.fromkeys(c.label for c in tried))
        if held:
            lines.append(f"{project} could only be {labels}, because of:")
            lines.extend(f"  {c}" for c in sorted(held, key=lambda r: (r.origin.file, r.origin.line, str(r))))
    names = ", ".join(projects)
    return ResolutionConflict(f"no versions satisfy every constraint on {names}:", lines)


def resolve(
    problem: Problem, source: CandidateSource, *, max_seconds: float = 10.0, max_rounds: int | None = None
) -> Resolution:
    """Choose one candidate per project. Raises :class:`ResolutionConflict` (with the chain of
    constraints) when there is none, or :class:`ResolveError` when the search is too long."""
    # Constraints first: resolvelib looks for candidates as each root arrives, and a project on a
    # channel or at a commit without any release tag has none under "listed" alone.
    roots: list[Constraint] = list(problem.constraints)
    roots.extend(
        Constraint(project=name, origin=Origin(kind="listed", note="listed in the manifest"))
        for name in problem.projects
    )
    for req in roots:
        if req.project not in problem.projects:
            raise ResolveError(
                f"{req.origin}: constraint on {req.project!r}, which the manifest does not list"
            )
    provider = _Provider(problem, _KnownOnly(source, problem), time.monotonic() + max_seconds)
    resolver: Resolver[Constraint, Candidate, str] = Resolver(provider, BaseReporter())
    rounds = max_rounds if max_rounds is not None else 200 + 20 * len(problem.projects)
    try:
        result = resolver.resolve(roots, max_rounds=rounds)
    except ResolutionImpossible as e:
        raise _explain(list(e.causes), problem, provider) from None
    except ResolutionTooDeep:
        raise ResolveError(
            f"version resolution gave up after {rounds} rounds without a solution; "
            "narrow the ranges (x-version, x-requires) or pin the projects it backtracks over"
        ) from None
    except _Budget:
        raise ResolveError(
            f"version resolution gave up after {max_seconds:g} s without a solution; "
            "narrow the ranges (x-version, x-requires) or pin the projects it backtracks over"
        ) from None
    chosen = dict(result.mapping)
    applied: dict[str, list[Constraint]] = {name: [] for name in problem.projects}
    for name, crit in result.criteria.items():
        for info in crit.information:
            if info.parent is None or chosen.get(info.parent.project) == info.parent:
                applied.setdefault(name, []).append(info.requirement)
    warnings = _warnings(problem, chosen, applied)
    ordered = {name: chosen[name] for name in problem.projects if name in chosen}
    return Resolution(
        chosen=ordered,
        constraints={k: tuple(r for r in v if r.origin.kind != "listed") for k, v in applied.items()},
        warnings=tuple(warnings),
    )


def _warnings(
    problem: Problem,
    chosen: Mapping[str, Candidate],
    applied: Mapping[str, list[Constraint]],
) -> list[str]:
    out: list[str] = []
    core = chosen.get(problem.core) if problem.core else None
    if core is not None and core.version is not None:
        for lib in problem.lockstep:
            got = chosen.get(lib)
            if got is None or got.version is None or got.version == core.version:
                continue
            out.append(
                f"{lib} has no release {core.version} to go with {core.project} {core.version}; "
                f"using its newest release below, {got.version}"
            )
    elif core is not None and core.channel is not None:
        for lib in problem.lockstep:
            got = chosen.get(lib)
            if got is not None and got.channel is None:
                out.append(
                    f"{core.project} follows channel {core.channel} without a release version and {lib} "
                    f"has no branch {core.channel}; using {lib}'s newest release, {got.label}"
                )
    elif core is not None and problem.lockstep:
        out.append(
            f"{core.project} is at commit {core.commit[:12]}, which no release tag names; lockstep "
            f"libraries take their newest releases"
        )
    for name, cand in chosen.items():
        if cand.version is not None:
            continue
        for req in applied.get(name, []):
            if str(req.specifier):
                out.append(
                    f"{name} is at {cand.label}, which has no release version, so {req.specifier} "
                    f"from {req.origin} was not checked"
                )
    return out


class _KnownOnly:
    """Drops metadata constraints on projects the manifest does not list (they become warnings
    through :func:`ignored_constraints`), so that one library's optional wish does not fail all."""

    def __init__(self, source: CandidateSource, problem: Problem) -> None:
        self.source = source
        self.known = frozenset(problem.projects)

    def releases(self, project: str) -> Sequence[Candidate]:
        return self.source.releases(project)

    def channel(self, project: str, name: str) -> Candidate | None:
        return self.source.channel(project, name)

    def commit(self, project: str, sha: str) -> Candidate | None:
        return self.source.commit(project, sha)

    def constraints(self, candidate: Candidate) -> Sequence[Constraint]:
        return [c for c in self.source.constraints(candidate) if c.project in self.known]


@dataclass(frozen=True, slots=True, kw_only=True)
class MemorySource:
    """A :class:`CandidateSource` over values in memory (tests and benchmarks)."""

    release_map: Mapping[str, Sequence[Candidate]]
    channels: Mapping[tuple[str, str], Candidate] = field(default_factory=dict)
    deps: Mapping[Candidate, Sequence[Constraint]] = field(default_factory=dict)

    def releases(self, project: str) -> Sequence[Candidate]:
        return self.release_map.get(project, ())

    def channel(self, project: str, name: str) -> Candidate | None:
        return self.channels.get((project, name))

    def commit(self, project: str, sha: str) -> Candidate | None:
        for cand in self.release_map.get(project, ()):
            if cand.commit == sha:
                return cand
        for (proj, _name), cand in self.channels.items():
            if proj == project and cand.commit == sha:
                return Candidate(project=project, commit=sha, version=cand.version, tags=cand.tags)
        return None

    def constraints(self, candidate: Candidate) -> Sequence[Constraint]:
        return self.deps.get(candidate, ())
