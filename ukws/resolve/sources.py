"""The one adapter between git and the resolver: release tags, channel heads and project metadata.

Tags are read once per project; metadata (``ukws.toml``, Kraftfile) and ``Config.uk`` files are read
lazily, only for the candidates the resolver visits, straight from git objects (no checkout), and
every blob read is cached.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import Version

from ukws import git
from ukws.errors import ResolveError
from ukws.resolve.metadata import KRAFTFILES, METADATA_FILE, Metadata, parse_kraftfile, parse_ukws_toml
from ukws.resolve.solver import Candidate, Constraint, Origin
from ukws.resolve.versions import parse_request, tag_version


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceProject:
    """What the adapter needs to know of a manifest project."""

    name: str
    path: str
    """Workspace-relative; the repository is at ``root/path``."""
    tag_pattern: str
    meta_dir: str = ""
    """Where the project's metadata lives inside it (an application's subdir), '' for the root."""


@dataclass(slots=True)
class Stats:
    tag_lists: int = 0
    blob_reads: int = 0
    metadata_reads: int = 0


@dataclass(slots=True)
class _Repo:
    project: SourceProject
    repo: git.Repository
    releases: list[Candidate] | None = None
    tags: dict[str, str] | None = None
    blobs: dict[tuple[str, str], bytes | None] = field(default_factory=dict)
    files: dict[tuple[str, str], list[str]] = field(default_factory=dict)


def releases_from_tags(project: str, tags: Sequence[git.Tag], pattern: str) -> list[Candidate]:
    """One candidate per version, newest first; tags that are not versions are skipped. When
    several tags name one version (``RELEASE-0.4`` and ``RELEASE-0.4.0``) the first by name wins."""
    by_version: dict[Version, tuple[str, list[str]]] = {}
    for tag in tags:
        version = tag_version(tag.name, pattern)
        if version is None:
            continue
        commit, names = by_version.setdefault(version, (tag.commit, []))
        if commit == tag.commit:
            names.append(tag.name)
    return [
        Candidate(project=project, commit=commit, version=version, tags=tuple(names))
        for version, (commit, names) in sorted(by_version.items(), key=lambda kv: kv[0], reverse=True)
    ]


class GitSource:
    """A :class:`ukws.resolve.CandidateSource` over the project repositories of a workspace."""

    def __init__(
        self,
        *,
        root: Path,
        projects: Sequence[SourceProject],
        match: Callable[[str, bool], str | None],
    ) -> None:
        """``match(name, core)`` maps a name written in metadata to a project name (None: unknown)."""
        self.root = root
        self.projects = {p.name: p for p in projects}
        self.match = match
        self.stats = Stats()
        self._repos: dict[str, _Repo] = {}
        self._deps: dict[Candidate, tuple[list[Constraint], list[str], list[str]]] = {}

    def _repo(self, project: str) -> _Repo:
        found = self._repos.get(project)
        if found is None:
            info = self.projects[project]
            where = self.root / info.path
            if not where.exists():
                raise ResolveError(
                    f"project {project} ({info.path}) is not in the workspace yet; run 'ukws sync'"
                )
            found = _Repo(project=info, repo=git.open_repo(where))
            self._repos[project] = found
        return found

    # -- reads --
    def tags(self, project: str) -> Mapping[str, str]:
        """Tag name -> commit, read once."""
        r = self._repo(project)
        if r.tags is None:
            self.stats.tag_lists += 1
            listed = git.list_tags(r.repo)
            r.tags = {t.name: t.commit for t in listed}
            r.releases = releases_from_tags(project, listed, r.project.tag_pattern)
        return r.tags

    def read(self, project: str, commit: str, path: str) -> bytes | None:
        r = self._repo(project)
        key = (commit, path)
        if key not in r.blobs:
            self.stats.blob_reads += 1
            r.blobs[key] = git.read_blob(r.repo, commit, path)
        return r.blobs[key]

    def list_files(self, project: str, commit: str, name: str) -> list[str]:
        r = self._repo(project)
        key = (commit, name)
        if key not in r.files:
            r.files[key] = git.list_files(r.repo, commit, name)
        return r.files[key]

    def branch(self, project: str, name: str) -> str | None:
        return git.branch_commit(self._repo(project).repo, name)

    def _version_at(self, project: str, commit: str) -> tuple[Version | None, tuple[str, ...]]:
        self.tags(project)
        releases = self._repo(project).releases or []
        for cand in releases:
            if cand.commit == commit:
                return cand.version, cand.tags
        return None, ()

    # -- CandidateSource --
    def releases(self, project: str) -> Sequence[Candidate]:
        self.tags(project)
        return self._repo(project).releases or []

    def channel(self, project: str, name: str) -> Candidate | None:
        commit = self.branch(project, name)
        if commit is None:
            return None
        version, tags = self._version_at(project, commit)
        return Candidate(project=project, commit=commit, version=version, tags=tags, channel=name)

    def commit(self, project: str, sha: str) -> Candidate | None:
        if not git.has_commit(self._repo(project).repo, sha):
            return None
        version, tags = self._version_at(project, sha)
        return Candidate(project=project, commit=sha, version=version, tags=tags)

    def constraints(self, candidate: Candidate) -> Sequence[Constraint]:
        return self._metadata(candidate)[0]

    def notes(self, candidate: Candidate) -> Sequence[str]:
        """What was skipped in the candidate's metadata (bad files, unknown names, bad values)."""
        return self._metadata(candidate)[1]

    def infos(self, candidate: Candidate) -> Sequence[str]:
        """What was read but is not enforced, by design (a Kraftfile's kraft channels): for -v."""
        return self._metadata(candidate)[2]

    def _metadata(self, candidate: Candidate) -> tuple[list[Constraint], list[str], list[str]]:
        found = self._deps.get(candidate)
        if found is not None:
            return found
        self.stats.metadata_reads += 1
        info = self.projects[candidate.project]
        prefix = f"{info.meta_dir.strip('/')}/" if info.meta_dir.strip("/") else ""
        parsed: list[Metadata] = []
        data = self.read(candidate.project, candidate.commit, prefix + METADATA_FILE)
        if data is not None:
            parsed.append(parse_ukws_toml(data, prefix + METADATA_FILE))
        for name in KRAFTFILES:
            data = self.read(candidate.project, candidate.commit, prefix + name)
            if data is not None:
                parsed.append(parse_kraftfile(data, prefix + name))
                break
        constraints: list[Constraint] = []
        notes: list[str] = []
        infos: list[str] = []
        who = f"{candidate.project} {candidate.label}"
        for meta in parsed:
            notes.extend(f"{who}: {p}" for p in meta.problems)
            for wish in meta.wishes:
                where = f"{who}: {wish.file}:{wish.line}"
                target = self.match(wish.name, wish.core)
                if target is None:
                    notes.append(f"{where}: {wish.name} is not a project of the manifest; ignored")
                    continue
                pattern = self.projects[target].tag_pattern if target in self.projects else "{version}"
                try:
                    spec, channel = parse_request(wish.text, pattern)
                except ValueError as e:
                    notes.append(f"{where}: {e}; ignored")
                    continue
                if channel is not None and wish.kraft:
                    infos.append(f"{where}: {wish.name}: {channel} is a kraft channel; not enforced")
                    continue
                origin = Origin(
                    kind="metadata",
                    file=wish.file,
                    line=wish.line,
                    project=candidate.project,
                    version=candidate.label,
                )
                if channel is not None:
                    constraints.append(Constraint(project=target, channel=channel, origin=origin))
                elif spec is not None:
                    constraints.append(Constraint(project=target, specifier=spec, origin=origin))
        found = (constraints, notes, infos)
        self._deps[candidate] = found
        return found
