"""What a build of one application target uses: core, application folder, libraries in ``L=`` order,
configuration fragment and build folder, all absolute.

Targets come from the application's ``<x-target>`` elements, else from the ``targets`` of its
Kraftfile. The libraries are the lock's ``<x-build>`` order for the application.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ukws.errors import UsageError, WorkspaceError
from ukws.manifest.model import Manifest, OriginReplacement, Project, Role, Target
from ukws.workspace import Workspace

#: Build folders live here, in the workspace root: ``build/<app project>/<target>/``.
BUILD_DIR = "build"
#: Kraftfile platform names -> Unikraft platform folders.
KRAFT_PLATS = {"qemu": "kvm", "fc": "kvm", "firecracker": "kvm", "kvm": "kvm", "xen": "xen", "linuxu": "linuxu"}
#: Architectures whose Kconfig symbol is not ``ARCH_<ARCH>``.
ARCH_SYMBOLS = {"arm64": "ARCH_ARM_64", "arm": "ARCH_ARM_32", "x86_64": "ARCH_X86_64"}


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildTarget:
    """One target of one application, with every path make is given."""

    app: str
    """The application's project name."""
    name: str
    """The target's name: ``<x-target name>`` or ``<plat>-<arch>``."""
    plat: str
    arch: str
    core: Path
    app_dir: Path
    """``A=``: the project folder, or its ``<x-app subdir>``."""
    libraries: tuple[Path, ...]
    """``L=``, in the lock's order."""
    build_dir: Path
    """``O=``; the configuration is ``C=<build_dir>/.config``."""
    fragment: bytes
    """The defconfig fragment ukws hands make: platform and architecture, then the target's own fragment."""
    origins: tuple[OriginReplacement, ...] = ()
    """The manifest's origin replacements."""
    patches: tuple[str, ...] = ()
    """The sha256 of each patch of the application's series, in order."""
    unapplied: tuple[str, ...] = ()
    """The series' patch paths while ``ukws patch-app`` has not applied it: the application's build
    files (its ``Makefile.uk``, ``Config.uk``) may not be there yet."""

    @property
    def key(self) -> str:
        """``<app>/<target>``, as origin needs and messages name it."""
        return f"{self.app}/{self.name}"

    @property
    def config(self) -> Path:
        return self.build_dir / ".config"

    @property
    def state_dir(self) -> Path:
        """ukws's own files of this build (fragment, hook plan and log), inside the build folder."""
        return self.build_dir / ".ukws"

    def make_args(self) -> list[str]:
        """The variables every make run of this target gets."""
        return [
            f"A={self.app_dir}",
            f"L={':'.join(str(p) for p in self.libraries)}",
            f"C={self.config}",
            f"O={self.build_dir}",
        ]

    def config_key(self) -> str:
        """Changes whenever the configuration must be made again."""
        data = {"fragment": self.fragment.decode("utf-8", "replace"), "args": self.make_args(), "core": str(self.core)}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def vprefix(library: str) -> str:
    """Unikraft's ``vprefix_lib``: the library name upper-cased (a-z only), so ``libnewlibc`` ->
    ``LIBNEWLIBC`` and its checksum variable is ``LIBNEWLIBC_ORIGIN_SHA256``."""
    return "".join(c.upper() if "a" <= c <= "z" else c for c in library)


def fragment_for(plat: str, arch: str, own: bytes | None) -> bytes:
    """``CONFIG_PLAT_<PLAT>=y`` and the architecture's symbol, then the target's fragment (later lines
    win). A line the fragment has already is not written twice: Kconfig warns of every symbol set
    again ("override: reassigning to symbol")."""
    arch_symbol = ARCH_SYMBOLS.get(arch, f"ARCH_{arch.upper()}")
    given = {line.strip() for line in own.split(b"\n")} if own else set()
    lines = (f"CONFIG_PLAT_{plat.upper()}=y".encode(), f"CONFIG_{arch_symbol}=y".encode())
    head = b"".join(line + b"\n" for line in lines if line not in given)
    if not own:
        return head
    return head + own + (b"" if own.endswith(b"\n") else b"\n")


def applications(manifest: Manifest) -> tuple[Project, ...]:
    return tuple(p for p in manifest.projects if p.role is Role.APPLICATION or p.app is not None)


def pick_app(manifest: Manifest, app: str | None) -> tuple[Project, ...]:
    """The application named (project name or path), or every application of the manifest."""
    apps = applications(manifest)
    if app is None:
        if not apps:
            raise WorkspaceError(
                "the manifest has no application (a project with x-role=\"application\"); see docs/manifest.md"
            )
        return apps
    for p in apps:
        if app in (p.name, p.path):
            return (p,)
    known = ", ".join(p.name for p in apps) or "none"
    raise UsageError(f"{app}: not an application of the manifest (applications: {known})")


def kraftfile_targets(app_dir: Path) -> list[Target]:
    """``targets:`` of the application's Kraftfile (``qemu/x86_64`` or ``{plat: qemu, arch: x86_64}``)."""
    for name in ("Kraftfile", "kraft.yaml", "kraft.yml"):
        path = app_dir / name
        if path.is_file():
            break
    else:
        return []
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise WorkspaceError(f"{path}: cannot read the Kraftfile ({str(e).splitlines()[0]})") from None
    found: list[Target] = []
    for entry in (data or {}).get("targets") or () if isinstance(data, dict) else ():
        if isinstance(entry, str) and "/" in entry:
            plat, _, arch = entry.partition("/")
        elif isinstance(entry, dict):
            plat = str(entry.get("plat") or entry.get("platform") or "")
            arch = str(entry.get("arch") or entry.get("architecture") or "")
        else:
            continue
        plat = KRAFT_PLATS.get(plat, plat)
        if plat and arch and all(c.isalnum() or c == "_" for c in plat + arch):
            found.append(Target(plat=plat, arch=arch))
    return found


def plan(
    *,
    root: Path,
    manifest: Manifest,
    lock_builds: dict[str, tuple[str, ...]],
    app: str | None = None,
    targets: Sequence[str] = (),
) -> tuple[BuildTarget, ...]:
    """Every target to build: of the application named (default: all), narrowed to ``targets``.

    ``lock_builds`` maps an application's project name to its libraries' workspace paths in ``L=``
    order (the lock's ``<x-build>``)."""
    cores = manifest.by_role(Role.CORE)
    if len(cores) != 1:
        raise WorkspaceError(
            "a build needs exactly one core project (x-role=\"core\") in the manifest; found "
            f"{len(cores) or 'none'}"
        )
    core = _checked_out(root, cores[0])
    manifest_dir = Path(manifest.source).parent
    out: list[BuildTarget] = []
    seen: set[str] = set()
    for project in pick_app(manifest, app):
        spec = project.app
        project_dir = _checked_out(root, project)
        app_dir = project_dir / spec.subdir if spec and spec.subdir else project_dir
        declared = list(spec.targets) if spec else []
        own = declared or kraftfile_targets(app_dir)
        if not own:
            raise WorkspaceError(
                f"{project.name}: no build targets: add <x-target plat=\"kvm\" arch=\"x86_64\"/> to its <x-app> "
                "in the manifest, or targets to its Kraftfile"
            )
        if project.name not in lock_builds:
            raise WorkspaceError(f"{project.name}: the lock has no build order for it; run 'ukws resolve'")
        libraries = tuple(_library(root, path) for path in lock_builds[project.name])
        for t in own:
            seen.add(t.label)
            if targets and t.label not in targets:
                continue
            fragment: bytes | None = None
            if t.defconfig:
                frag_path = manifest_dir / t.defconfig
                try:
                    fragment = frag_path.read_bytes()
                except OSError as e:
                    raise WorkspaceError(f"{t.loc}: defconfig {t.defconfig}: cannot read ({e.strerror})") from None
            out.append(
                BuildTarget(
                    app=project.name,
                    name=t.label,
                    plat=t.plat,
                    arch=t.arch,
                    core=core,
                    app_dir=app_dir,
                    libraries=libraries,
                    build_dir=root / BUILD_DIR / project.name / t.label,
                    fragment=fragment_for(t.plat, t.arch, fragment),
                    origins=manifest.origins,
                    patches=tuple(x.sha256 for x in spec.patches) if spec else (),
                )
            )
    unknown = sorted(set(targets) - seen)
    if unknown:
        raise UsageError(f"-t {unknown[0]}: no such target (targets: {', '.join(sorted(seen))})")
    return tuple(out)


def _checked_out(root: Path, project: Project) -> Path:
    path = root / project.path
    if not path.is_dir():
        raise WorkspaceError(f"{project.name} ({project.path}): not checked out; run 'ukws sync'")
    return path


def _library(root: Path, rel: str) -> Path:
    path = root / rel
    if not path.is_dir():
        raise WorkspaceError(f"{rel}: a library on L= is not checked out; run 'ukws sync'")
    return path


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """The workspace's manifest turned into build targets, and the commits they are built from."""

    targets: tuple[BuildTarget, ...]
    commits: Mapping[str, str | None]
    manifest_dir: Path


def context(ws: Workspace, *, app: str | None = None, targets: Sequence[str] = ()) -> Context:
    """Targets of the workspace (needs a lock: ``ukws resolve``)."""
    from ukws import git, workspace
    from ukws.build import patchstate

    manifest = workspace.load_workspace_manifest(ws)
    builds = build_orders(ws)
    if builds is None:
        raise WorkspaceError(f"{ws.root}: no lock yet; run 'ukws resolve' (it orders each application's libraries)")
    found = plan(root=ws.root, manifest=manifest, lock_builds=builds, app=app, targets=targets)
    state = patchstate.State(ws.state_dir)
    pending = {p.name: patchstate.unapplied(state, p) for p in applications(manifest)}
    found = tuple(dataclasses.replace(t, unapplied=pending.get(t.app, ())) for t in found)
    commits = {p.path: git.checked_out_commit(ws.root / p.path) for p in manifest.projects}
    return Context(targets=found, commits=commits, manifest_dir=Path(manifest.source).parent)


def build_orders(ws: Workspace) -> dict[str, tuple[str, ...]] | None:
    """Application project name -> its libraries' workspace paths in ``L=`` order: the lock's
    ``<x-build>``, or, in a workspace made from a snapshot that has no lock, the snapshot's. None
    when neither is there."""
    from ukws.lock import read_lock
    from ukws.workspace import SourceKind

    if ws.lock_path.is_file():
        return {b.app: b.libraries for b in read_lock(ws.lock_path).builds}
    if ws.config.manifest.kind is SourceKind.SNAPSHOT and ws.manifest_path.is_file():
        return {b.app: b.libraries for b in read_lock(ws.manifest_path).builds}
    return None
