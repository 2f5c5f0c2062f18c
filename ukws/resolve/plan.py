"""Resolve a workspace: manifest constraints + tags and metadata from git -> pinned commits and L= order.

How a project is chosen (documented in docs/resolve.md):

- A project with a role is *resolved* when the manifest gives it a range (``x-version``), another
  project's ``<x-requires>`` names it, or it is a library under the ``lockstep`` policy. Otherwise its
  revision decides: a tag or SHA pins it, a branch puts it on that channel.
- A revision written on the project itself (not inherited from ``<default>`` or its remote) is an
  explicit pin and always wins; it is still checked against every range.
- Projects without a role are pinned to the commit their revision names.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.specifiers import SpecifierSet

from ukws import git
from ukws.errors import Location, ResolveError, UsageError
from ukws.kconfig.discovery import Discovery, Edge, Missing, discover
from ukws.kconfig.evaluate import UserValue, read_defconfig
from ukws.kconfig.parse import ProjectKconfig, load_project
from ukws.lock import Lock, LockedBuild, LockedProject
from ukws.manifest.model import LibraryPolicy, Manifest, Project, Role
from ukws.resolve.solver import Candidate, Constraint, Origin, Problem, resolve
from ukws.resolve.sources import GitSource, SourceProject
from ukws.resolve.versions import is_sha, tag_version


@dataclass(frozen=True, slots=True, kw_only=True)
class Pin:
    """One project's resolved commit."""

    name: str
    path: str
    commit: str
    upstream: str
    """The revision the manifest gives."""
    upstream_ref: str | None = None
    """``upstream`` as the lock writes it, read by repo as ukws read it (a bare tag name is
    ``refs/tags/NAME`` there: repo takes a bare name for a branch); None: ``upstream`` as is."""
    role: Role | None = None
    version: str | None = None
    channel: str | None = None
    tags: tuple[str, ...] = ()
    previous: str | None = None
    """The commit the lock had before, when it changed."""
    previous_version: str | None = None
    """The version the lock had before, when it changed and had one."""

    @property
    def label(self) -> str:
        if self.channel is not None:
            return f"{self.channel} ({self.version})" if self.version else self.channel
        return self.version or self.commit[:12]


@dataclass(frozen=True, slots=True, kw_only=True)
class Build:
    """What an application's build needs: its libraries in ``L=`` order, and why."""

    app: str
    libraries: tuple[str, ...]
    """Library project names, dependencies first."""
    paths: tuple[str, ...]
    """Their workspace-relative paths (the ``L=`` order)."""
    unused: tuple[str, ...] = ()
    edges: tuple[Edge, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkspaceResolution:
    pins: tuple[Pin, ...]
    """Every project of the manifest, in manifest order."""
    builds: tuple[Build, ...] = ()
    constraints: Mapping[str, tuple[Constraint, ...]] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    """Shown with -v: kraft channels not enforced, Config.uk constructs that were skipped,
    dependencies on symbols nothing defines."""

    def pin(self, name: str) -> Pin:
        for p in self.pins:
            if p.name == name or p.path == name:
                return p
        raise KeyError(name)

    def lock(self) -> Lock:
        """The pins and builds as the lock records them."""
        return Lock(
            projects=tuple(
                LockedProject(
                    name=p.name,
                    path=p.path,
                    revision=p.commit,
                    upstream=(p.upstream_ref or p.upstream) if p.upstream != p.commit else None,
                    version=p.version,
                )
                for p in self.pins
            ),
            builds=tuple(LockedBuild(app=b.app, libraries=b.paths) for b in self.builds),
        )


def _explicit(manifest: Manifest, p: Project) -> bool:
    """Whether the project's revision was written on it rather than inherited."""
    inherited = {manifest.default.revision}
    with contextlib.suppress(KeyError):
        inherited.add(manifest.remote(p.remote).revision)
    return p.revision not in inherited


def _revision_loc(manifest: Manifest, p: Project) -> Location:
    if _explicit(manifest, p):
        return p.loc
    try:
        remote = manifest.remote(p.remote)
        if remote.revision == p.revision:
            return remote.loc
    except KeyError:
        pass
    return manifest.default.loc


def _matcher(manifest: Manifest, names: Sequence[str], core: str | None) -> dict[str, str]:
    """Names a project's metadata may use for a manifest project: its name, its path, its path's
    last part, and that part without ``lib-`` (Kraftfile style); ``unikraft``/``core`` for the core."""
    table: dict[str, str] = {}
    projects = [manifest.project(n) for n in names]
    for p in projects:
        base = p.path.rsplit("/", 1)[-1]
        for alias in (base.removeprefix("lib-"), f"lib-{base.removeprefix('lib-')}", base):
            table.setdefault(alias, p.name)
    for p in projects:
        table[p.path] = p.name
    for p in projects:
        table[p.name] = p.name
    if core is not None:
        table.setdefault("unikraft", core)
        table.setdefault("core", core)
    return table


def _specifier(text: str) -> SpecifierSet:
    return SpecifierSet(text)


def build_problem(
    manifest: Manifest,
    source: GitSource,
    *,
    lock: Lock | None = None,
    update: Sequence[str] = (),
    update_all: bool = False,
) -> Problem:
    """The resolver's input from the manifest, the repositories' refs and the lock."""
    role_projects = [p for p in manifest.projects if p.role is not None]
    names = [p.name for p in role_projects]
    cores = [p.name for p in role_projects if p.role is Role.CORE]
    if len(cores) > 1:
        raise ResolveError(
            f'{manifest.source}: more than one core project ({", ".join(cores)}); keep one x-role="core"'
        )
    core = cores[0] if cores else None
    required = {r.project for p in manifest.projects for r in p.requires}
    constraints: list[Constraint] = []
    lockstep: list[str] = []
    prereleases: set[str] = set()

    for p in manifest.projects:
        for r in p.requires:
            spec = _specifier(r.specifier)
            target = r.project
            if target not in names:
                raise ResolveError(
                    f"{r.loc}: project {p.name}: <x-requires project=\"{target}\"> names a project without "
                    "x-role, whose version ukws does not resolve; give it x-role"
                )
            constraints.append(
                Constraint(
                    project=target,
                    specifier=spec,
                    origin=Origin(
                        kind="manifest", file=r.loc.file, line=r.loc.line, project=p.name, note="x-requires"
                    ),
                )
            )
            if spec.prereleases:
                prereleases.add(target)

    for p in role_projects:
        follows_core = (
            p.role is Role.LIBRARY and manifest.library_policy is LibraryPolicy.LOCKSTEP and core is not None
        )
        floating = p.version is not None or p.name in required or follows_core
        explicit = _explicit(manifest, p)
        if p.version is not None:
            spec = _specifier(p.version)
            constraints.append(
                Constraint(
                    project=p.name,
                    specifier=spec,
                    origin=Origin(
                        kind="manifest", file=p.loc.file, line=p.loc.line, project=p.name, note="x-version"
                    ),
                )
            )
            if spec.prereleases:
                prereleases.add(p.name)
        if not floating or explicit:
            constraints.append(_revision_constraint(manifest, p, source))
        elif follows_core:
            lockstep.append(p.name)

    preferred: dict[str, str] = {}
    if lock is not None and not update_all:
        by_path = lock.pins
        for p in role_projects:
            if p.name in update or p.path in update:
                continue
            sha = by_path.get(p.path)
            if sha is not None:
                preferred[p.name] = sha
    return Problem(
        projects=tuple(names),
        constraints=tuple(constraints),
        core=core,
        lockstep=tuple(dict.fromkeys(lockstep)),
        preferred=preferred,
        prereleases=frozenset(prereleases),
    )


def _revision_constraint(manifest: Manifest, p: Project, source: GitSource) -> Constraint:
    loc = _revision_loc(manifest, p)
    origin = Origin(
        kind="revision", file=loc.file, line=loc.line, project=p.name, note=f"revision {p.revision}"
    )
    rev = p.revision
    if is_sha(rev):
        return Constraint(project=p.name, commit=rev, origin=origin)
    if rev.startswith("refs/heads/"):
        return Constraint(project=p.name, channel=rev.removeprefix("refs/heads/"), origin=origin)
    if not rev.startswith("refs/tags/") and source.branch(p.name, rev) is not None:
        return Constraint(project=p.name, channel=rev, origin=origin)
    tag = rev.removeprefix("refs/tags/")
    commit = source.tags(p.name).get(tag)
    if commit is None:
        if rev.startswith("refs/") and not rev.startswith("refs/tags/"):
            raise ResolveError(f"{loc}: project {p.name}: revision {rev} is not a tag, branch or commit")
        raise ResolveError(
            f"{loc}: project {p.name}: revision {rev} names no tag or branch in {p.path}; "
            "fix the revision or run 'ukws sync'"
        )
    # Several release tags may name one commit (RELEASE-0.13.0, 0.13.1 and 0.14.0 in
    # lib-pthread-embedded): the revision's own tag names the version.
    version = tag_version(tag, p.tag_pattern)
    spec = SpecifierSet(f"=={version}") if version is not None else SpecifierSet()
    return Constraint(project=p.name, commit=commit, specifier=spec, origin=origin)


def resolve_workspace(
    *,
    root: Path,
    manifest: Manifest,
    lock: Lock | None = None,
    update: tuple[str, ...] = (),
    update_all: bool = False,
    max_seconds: float = 10.0,
) -> WorkspaceResolution:
    """Pin every project of ``manifest`` (repositories at ``root/<path>``) and order each
    application's libraries. ``lock`` is kept where it still satisfies every constraint, except
    for the projects in ``update`` (or all of them with ``update_all``)."""
    for name in update:
        try:
            manifest.project(name)
        except KeyError:
            raise UsageError(f"--update {name}: no such project in the manifest") from None
    role_projects = [p for p in manifest.projects if p.role is not None]
    seen: dict[str, Project] = {}
    for p in role_projects:
        if p.name in seen:
            raise ResolveError(
                f"{p.loc}: project {p.name} appears twice with a role ({seen[p.name].path} and {p.path}); "
                "give only one of them x-role"
            )
        seen[p.name] = p
    core = next((p.name for p in role_projects if p.role is Role.CORE), None)
    table = _matcher(manifest, [p.name for p in role_projects], core)
    libraries = {p.name for p in role_projects if p.role is Role.LIBRARY}

    def match(name: str, is_core: bool) -> str | None:
        return core if is_core else table.get(name)

    source = GitSource(
        root=root,
        projects=[
            SourceProject(
                name=p.name,
                path=p.path,
                tag_pattern=p.tag_pattern,
                meta_dir=p.app.subdir if p.app is not None else "",
            )
            for p in role_projects
        ],
        match=match,
    )
    problem = build_problem(manifest, source, lock=lock, update=update, update_all=update_all)
    result = resolve(problem, source, max_seconds=max_seconds)
    warnings = list(result.warnings)
    infos: list[str] = []
    for chosen in result.chosen.values():
        warnings.extend(source.notes(chosen))
        infos.extend(source.infos(chosen))
    previous = lock.pins if lock is not None else {}

    pins: list[Pin] = []
    for p in manifest.projects:
        cand = result.chosen.get(p.name) if p.role is not None else None
        pin = _pin_of(p, cand) if cand is not None else _plain_pin(root, manifest, p)
        # The lock's upstream must read in repo as it did here (a bare tag name would be a branch).
        pin = dataclasses.replace(pin, upstream_ref=git.upstream_ref(git.open_repo(root / p.path), pin.upstream))
        old = previous.get(p.path)
        if old is not None and old != pin.commit and lock is not None:
            pin = dataclasses.replace(pin, previous=old, previous_version=lock.project(p.path).version)
        pins.append(pin)

    builds, more, notes = _builds(root, manifest, source, result.chosen, libraries, core)
    warnings.extend(more)
    return WorkspaceResolution(
        pins=tuple(pins),
        builds=tuple(builds),
        constraints=result.constraints,
        warnings=tuple(dict.fromkeys(warnings)),
        notes=tuple(dict.fromkeys([*infos, *notes])),
    )


def _pin_of(p: Project, cand: Candidate) -> Pin:
    return Pin(
        name=p.name,
        path=p.path,
        commit=cand.commit,
        upstream=p.revision,
        role=p.role,
        version=str(cand.version) if cand.version is not None else None,
        channel=cand.channel,
        tags=cand.tags,
    )


def _plain_pin(root: Path, manifest: Manifest, p: Project) -> Pin:
    where = root / p.path
    if not where.exists():
        raise ResolveError(f"project {p.name} ({p.path}) is not in the workspace yet; run 'ukws sync'")
    commit = git.revision_commit(git.open_repo(where), p.revision)
    if commit is None:
        raise ResolveError(
            f"{_revision_loc(manifest, p)}: project {p.name}: revision {p.revision} names nothing in {p.path}; "
            "fix the revision or run 'ukws sync'"
        )
    return Pin(name=p.name, path=p.path, commit=commit, upstream=p.revision, role=p.role)


def patch_new_files(text: str) -> dict[str, bytes]:
    """Files a unified diff creates (``--- /dev/null``), path (without ``b/``) -> content."""
    out: dict[str, bytes] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("--- /dev/null") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            path = lines[i + 1][4:].split("\t")[0].strip()
            path = path[2:] if path.startswith("b/") else path
            i += 2
            body: list[str] = []
            while i < len(lines) and not lines[i].startswith(("--- ", "diff ")):
                line = lines[i]
                if line.startswith("+") and not line.startswith("+++ "):
                    body.append(line[1:])
                elif line == "-- ":
                    break  # a git format-patch signature
                i += 1
            out[path] = ("\n".join(body) + "\n").encode() if body else b""
            continue
        i += 1
    return out


def _kconfig(
    source: GitSource,
    project: Project,
    commit: str,
    *,
    subdir: str = "",
    core: bool = False,
    overlay: Mapping[str, bytes] | None = None,
) -> ProjectKconfig:
    """A project's Kconfig at ``commit``; ``overlay`` adds files (project-relative) that the
    application's patches create."""
    prefix = f"{subdir.strip('/')}/" if subdir.strip("/") else ""
    extra = {k.removeprefix(prefix): v for k, v in (overlay or {}).items() if k.startswith(prefix)}
    in_git = [
        f.removeprefix(prefix)
        for f in source.list_files(project.name, commit, "Config.uk")
        if f.startswith(prefix)
    ]
    files = sorted({*in_git, *(f for f in extra if f.rsplit("/", 1)[-1] == "Config.uk")})
    label = f"{project.path}/{prefix}".rstrip("/")

    def read(path: str) -> bytes | None:
        if path in extra:
            return extra[path]
        return source.read(project.name, commit, prefix + path)

    variables = (
        {"UK_BASE": ""} if core else {"APP_BASE": ""} if subdir or project.role is Role.APPLICATION else {}
    )
    return load_project(project.name, files, read, variables=variables, label=label)


def _builds(
    root: Path,
    manifest: Manifest,
    source: GitSource,
    chosen: Mapping[str, Candidate],
    libraries: set[str],
    core: str | None,
) -> tuple[list[Build], list[str], list[str]]:
    builds: list[Build] = []
    warnings: list[str] = []
    notes: list[str] = []
    missing: list[Missing] = []
    cache: dict[str, ProjectKconfig] = {}

    def kc(name: str) -> ProjectKconfig:
        if name not in cache:
            p = manifest.project(name)
            cache[name] = _kconfig(source, p, chosen[name].commit, core=p.role is Role.CORE)
            notes.extend(cache[name].notes)
        return cache[name]

    manifest_dir = Path(manifest.source).parent
    lib_order = [p.name for p in manifest.projects if p.name in libraries]
    by_path = {p.path: p.name for p in manifest.projects}  # <x-app libraries> may name a project by path
    for p in manifest.projects:
        if p.role is not Role.APPLICATION or p.name not in chosen:
            continue
        spec = p.app
        overlay: dict[str, bytes] = {}
        for patch in spec.patches if spec else ():
            patch_file = manifest_dir / patch.path
            if patch_file.is_file():
                overlay.update(patch_new_files(patch_file.read_text(encoding="utf-8", errors="replace")))
        app_kc = _kconfig(
            source, p, chosen[p.name].commit, subdir=spec.subdir if spec else "", overlay=overlay
        )
        notes.extend(app_kc.notes)
        defconfigs: list[dict[str, UserValue]] = []
        for target in spec.targets if spec else ():
            frag = manifest_dir / target.defconfig if target.defconfig else None
            if frag is not None and frag.is_file():
                text = frag.read_text(encoding="utf-8", errors="replace")
                defconfigs.append(read_defconfig(text, str(frag)))
            else:
                defconfigs.append({})
        found: Discovery = discover(
            app=app_kc,
            libraries=[kc(n) for n in lib_order],
            core=kc(core) if core is not None and core in chosen else None,
            stated=[by_path.get(n, n) for n in spec.libraries] if spec else (),
            defconfigs=defconfigs,
        )
        missing.extend(found.missing)
        warnings.extend(found.warnings)
        notes.extend(found.notes)
        if found.unused:
            warnings.append(
                f"{p.name}: the manifest lists libraries that nothing selects: {', '.join(found.unused)}"
            )
        builds.append(
            Build(
                app=p.name,
                libraries=found.libraries,
                paths=tuple(manifest.project(n).path for n in found.libraries),
                unused=found.unused,
                edges=found.edges,
            )
        )
    if missing and core is None:
        # Without a core project the core's own symbols look undefined too: say so.
        warnings.append(
            'the manifest has no core project (x-role="core"), so Kconfig symbols of the core '
            "cannot be told from missing ones"
        )
    # Kconfig ignores a select or imply of a symbol nothing defines (lib-musl's LIBKUALLOC,
    # lib-newlib 0.13.1's LIBUKTIME) and the build goes on: a warning, never an error.
    warnings.extend(dict.fromkeys(str(m) for m in missing))
    return builds, warnings, notes


# --------------------------------------------------------------------------- commands


@dataclass(frozen=True, slots=True, kw_only=True)
class LockResult:
    """What ``ukws resolve`` did: the resolution, and whether the lock file changed."""

    resolution: WorkspaceResolution
    lock_path: Path | None
    written: bool
    """False when the lock already said exactly this (or nothing was to be written)."""


def resolve_and_lock(
    *,
    root: Path,
    manifest: Manifest,
    lock_path: Path | None,
    update: tuple[str, ...] = (),
    update_all: bool = False,
    write: bool = True,
) -> LockResult:
    """Resolve against the current lock (kept where it still fits, except for ``update``) and
    write the new lock atomically. Without ``lock_path`` nothing is read or written."""
    from ukws.lock import read_lock, write_lock

    lock = read_lock(lock_path) if lock_path is not None and lock_path.is_file() else None
    res = resolve_workspace(root=root, manifest=manifest, lock=lock, update=update, update_all=update_all)
    written = write_lock(lock_path, manifest, res.lock()) if write and lock_path is not None else False
    return LockResult(resolution=res, lock_path=lock_path, written=written)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reason:
    constraint: str
    """What is asked: ``unikraft >=0.13``, ``unikraft on channel stable``, ``unikraft at commit ...``."""
    origin: str
    """Where it comes from: ``file:line``, or a project at a version and its metadata file."""
    kind: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Why:
    """Every constraint on one project, and what was chosen."""

    project: str
    chosen: str
    commit: str
    reasons: tuple[Reason, ...]
    needed_by: tuple[str, ...] = ()
    """Kconfig ties that make an application need the project: ``app-x: select LIBFOO (file:line)``."""


def why(res: WorkspaceResolution, name: str) -> Why:
    """Explain one project's pin."""
    try:
        pin = res.pin(name)
    except KeyError:
        raise UsageError(f"--why {name}: no such project in the manifest") from None
    reasons = tuple(
        Reason(constraint=c.describe(), origin=str(c.origin), kind=c.origin.kind)
        for c in res.constraints.get(pin.name, ())
    )
    if pin.role is None:
        reasons = (
            Reason(
                constraint=f"{pin.name} at revision {pin.upstream}",
                origin="the manifest (a project without x-role keeps its revision)",
                kind="revision",
            ),
        )
    ties: list[str] = []
    for build in res.builds:
        for e in build.edges:
            if e.target != pin.name:
                continue
            where = f" ({e.loc})" if e.loc is not None else ""
            if e.kind == "default":
                holds = f", and {e.cond} holds" if e.cond else ""
                line = f"{e.source}: {e.target_symbol} is default y{where}{holds}"
            else:
                what = f"{e.kind} {e.target_symbol}" if e.target_symbol else e.kind
                what += f" if {e.cond}" if e.cond else ""
                line = f"{e.source}: {what}{where}"
            if line not in ties:
                ties.append(line)
    return Why(project=pin.name, chosen=pin.label, commit=pin.commit, reasons=reasons, needed_by=tuple(ties))
