"""The manifest model: immutable values, each knowing the file and line it came from.

A :class:`Manifest` is the *effective* manifest: includes merged, ``extend-project`` and
``remove-project`` applied, every project's remote, revision and fetch URL resolved. Locations
(``loc``) are not part of equality, so ``parse(write(m)) == m`` holds.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from ukws.errors import Location
from ukws.manifest.fastinit import direct_init

NOWHERE = Location(file="<model>", line=0)

#: The tag pattern used when a project does not name one.
DEFAULT_TAG_PATTERN = "RELEASE-{version}"


class Role(enum.StrEnum):
    """What a project is to a Unikraft build."""

    CORE = "core"
    LIBRARY = "library"
    APPLICATION = "application"


class LibraryPolicy(enum.StrEnum):
    """How library versions follow the core's version."""

    LOCKSTEP = "lockstep"
    """Library tag ``RELEASE-X`` goes with core ``X`` (or the newest tag below X, with a warning)."""
    INDEPENDENT = "independent"
    """Libraries are resolved from their own constraints only."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Annotation:
    """``<annotation name value keep>``: a name-value pair on a project or remote (``keep``, as in
    repo: whether a manifest written out keeps it)."""

    name: str
    value: str
    keep: bool = True
    loc: Location = field(default=NOWHERE, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class CopyFile:
    """``<copyfile src dest>``: src is relative to the project, dest to the workspace."""

    src: str
    dest: str
    loc: Location = field(default=NOWHERE, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkFile:
    """``<linkfile src dest>``: a symlink at dest (workspace-relative) to src (project-relative)."""

    src: str
    dest: str
    loc: Location = field(default=NOWHERE, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Remote:
    """``<remote>``: a server the projects are fetched from, by name."""

    name: str
    fetch: str
    """The fetch base exactly as written (may be relative to the manifest repository's URL)."""
    alias: str | None = None
    pushurl: str | None = None
    review: str | None = None
    revision: str | None = None
    annotations: tuple[Annotation, ...] = ()
    loc: Location = field(default=NOWHERE, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Default:
    """``<default>``: what a project without its own remote, revision or sync options takes."""

    remote: str | None = None
    revision: str | None = None
    dest_branch: str | None = None
    upstream: str | None = None
    sync_j: int | None = None
    sync_c: bool = False
    sync_s: bool = False
    sync_tags: bool = True
    loc: Location = field(default=NOWHERE, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Requirement:
    """A version constraint on another project: ``<x-requires project="..." version="..."/>``."""

    project: str
    """The name of the project constrained."""
    specifier: str
    """A PEP 440 specifier set, e.g. ``>=0.13,<0.14`` (empty: any version)."""
    loc: Location = field(default=NOWHERE, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Patch:
    """A patch file in the manifest repository, applied to an application's build files."""

    path: str
    """Relative to the top-level manifest's folder (written relative to the file it is in)."""
    sha256: str
    loc: Location = field(default=NOWHERE, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """A build target of an application: platform, architecture and a defconfig fragment."""

    plat: str
    arch: str
    defconfig: str | None = None
    """A Kconfig fragment, relative to the top-level manifest's folder (written relative to its file)."""
    name: str | None = None
    loc: Location = field(default=NOWHERE, compare=False)

    @property
    def label(self) -> str:
        return self.name or f"{self.plat}-{self.arch}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AppSpec:
    """Application data of a project (``<x-app>``)."""

    subdir: str = ""
    """Where the application lives inside the project (``tools/xenstored`` in xen.git); '' is the root."""
    libraries: tuple[str, ...] = ()
    """Library project names the application needs, as stated (more may be discovered from Kconfig)."""
    patches: tuple[Patch, ...] = ()
    targets: tuple[Target, ...] = ()
    loc: Location = field(default=NOWHERE, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class OriginReplacement:
    """``<x-origin>``: builds get another archive where a library's make downloads ``url``."""

    library: str
    """The library as make names it (``libnewlibc``)."""
    url: str
    """The URL the library's Makefile.uk asks make to download."""
    sha256: str
    """The replacement's sha256 (lowercase hex); passed to make as ``LIB<NAME>_ORIGIN_SHA256``."""
    replacement_url: str | None = None
    """Where the replacement is downloaded from (URL rewriting applies)."""
    file: str | None = None
    """Or: a file relative to the top-level manifest's folder (written relative to its own file)."""
    loc: Location = field(default=NOWHERE, compare=False)


@direct_init  # built once per project of a manifest: see ukws.manifest.fastinit
@dataclass(frozen=True, slots=True, kw_only=True)
class Project:
    """A ``<project>`` as the effective manifest has it: remote, revision and fetch URL resolved,
    ``extend-project`` applied, and ukws's ``x-`` data."""

    name: str
    path: str
    """Workspace-relative, '/'-separated."""
    remote: str
    """The name of the remote (after fallback to ``<default remote>``)."""
    revision: str
    """Effective revision: the project's own, else its remote's, else the default's."""
    fetch_url: str
    """The fully resolved URL to fetch from (remote fetch base joined with the name)."""
    dest_branch: str | None = None
    upstream: str | None = None
    groups: tuple[str, ...] = ()
    """Groups as written (plus those inherited from an ``<include groups>``); see :meth:`all_groups`."""
    sync_c: bool = False
    sync_s: bool = False
    sync_tags: bool = True
    clone_depth: int | None = None
    copyfiles: tuple[CopyFile, ...] = ()
    linkfiles: tuple[LinkFile, ...] = ()
    annotations: tuple[Annotation, ...] = ()
    parent: str | None = None
    """For a nested project, the name of the project it is nested in."""
    # ukws extensions (x- attributes and elements)
    role: Role | None = None
    tag_pattern: str = DEFAULT_TAG_PATTERN
    version: str | None = None
    """A PEP 440 specifier set the manifest puts on this project's own version."""
    requires: tuple[Requirement, ...] = ()
    app: AppSpec | None = None
    loc: Location = field(default=NOWHERE, compare=False)

    def all_groups(self) -> frozenset[str]:
        """The groups repo gives a project: its own plus ``all``, ``name:N``, ``path:P`` and,
        unless it is in ``notdefault``, ``default``."""
        groups = set(self.groups)
        groups.update(("all", f"name:{self.name}", f"path:{self.path}"))
        if "notdefault" not in groups:
            groups.add("default")
        return frozenset(groups)


@dataclass(frozen=True, slots=True, kw_only=True)
class RepoHooks:
    """``<repo-hooks>``: the project that holds repo's hooks, and the hooks enabled (read, not run)."""

    in_project: str
    enabled_list: tuple[str, ...] = ()
    loc: Location = field(default=NOWHERE, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Superproject:
    """``<superproject>``: a repository that records every project's commit (read, not used)."""

    name: str
    remote: str
    revision: str | None = None
    loc: Location = field(default=NOWHERE, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Submanifest:
    """``<submanifest>``: another manifest to check out below this one (read, not followed)."""

    name: str
    remote: str | None = None
    project: str | None = None
    manifest_name: str | None = None
    revision: str | None = None
    path: str | None = None
    groups: tuple[str, ...] = ()
    default_groups: tuple[str, ...] = ()
    loc: Location = field(default=NOWHERE, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Manifest:
    """The effective manifest: every element of the file, its includes and local manifests,
    processed (see the module's docstring)."""

    remotes: tuple[Remote, ...] = ()
    default: Default = Default()
    projects: tuple[Project, ...] = ()
    notice: str | None = None
    contactinfo: str | None = None
    """The ``bugurl`` of ``<contactinfo>``."""
    manifest_server: str | None = None
    superproject: Superproject | None = None
    repo_hooks: RepoHooks | None = None
    submanifests: tuple[Submanifest, ...] = ()
    library_policy: LibraryPolicy = LibraryPolicy.LOCKSTEP
    origins: tuple[OriginReplacement, ...] = ()
    """``<x-origin>`` replacements of libraries' origin archives."""
    source: str = field(default="<model>", compare=False)
    """The top-level manifest file this was loaded from."""

    def project(self, name_or_path: str) -> Project:
        """The project with this name or path; raises ``KeyError`` when there is none or the name
        is ambiguous (repo allows one name at several paths)."""
        by_path = [p for p in self.projects if p.path == name_or_path]
        if by_path:
            return by_path[0]
        by_name = [p for p in self.projects if p.name == name_or_path]
        if len(by_name) == 1:
            return by_name[0]
        raise KeyError(name_or_path)

    def remote(self, name: str) -> Remote:
        for r in self.remotes:
            if r.name == name:
                return r
        raise KeyError(name)

    def by_role(self, role: Role) -> tuple[Project, ...]:
        return tuple(p for p in self.projects if p.role is role)
