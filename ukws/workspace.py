"""The workspace: a folder holding ``.ukws/`` and the projects of one manifest.

Layout of ``.ukws/``::

    config.json          what ``ukws init`` was given (manifest source, groups, depth, rewrites, ...)
    manifests/           the manifest source: a clone of the manifest repository (``-u URL``),
                         a copy of the shipped manifests (``-m NAME``), or empty when ``-m`` named
                         a manifest file outside the workspace (used where it is)
    local_manifests/     extra ``*.xml`` manifests merged in sorted order (repo's local manifests)
    lock.xml             the lock: every project pinned to a commit
    state/               sync's own bookkeeping

Every function here takes the workspace root (or a start folder) explicitly; only the CLI looks
at the current directory and the environment. Re-running ``init`` stages the new manifest source
next to the old one, checks that it loads, and then swaps it in, so an interrupted re-init leaves
the old workspace, or the new one, never a mix (the next command finishes or undoes the swap).
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ukws.errors import UsageError, WorkspaceError
from ukws.manifest.model import Manifest
from ukws.sync.rewrite import Rewrite, RuleOrigin, UrlRewriter, parse_rule

if TYPE_CHECKING:
    from ukws.git import ManifestCheckout
    from ukws.sync.engine import ProgressEvent, SyncOptions

DOT = ".ukws"
CONFIG_FILE = "config.json"
MANIFESTS_DIR = "manifests"
LOCAL_MANIFESTS_DIR = "local_manifests"
LOCK_FILE = "lock.xml"
STATE_DIR = "state"
CONFIG_VERSION = 1
DEFAULT_REPO_MANIFEST = "default.xml"
DEFAULT_GROUPS = "default"

_STAGING = MANIFESTS_DIR + ".new"
_OLD = MANIFESTS_DIR + ".old"
_CONFIG_NEW = CONFIG_FILE + ".new"


class SourceKind(enum.StrEnum):
    """Where a workspace's manifest comes from."""

    SHIPPED = "shipped"
    """One of the manifests shipped with ukws, copied into ``.ukws/manifests/``."""
    FILE = "file"
    """A manifest file named by path, used where it is."""
    REPO = "repo"
    """A file in a manifest repository cloned into ``.ukws/manifests/``."""
    SNAPSHOT = "snapshot"
    """A ukws snapshot, copied into ``.ukws/manifests/`` with the patch and defconfig files it embeds."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ManifestSource:
    kind: SourceKind
    name: str
    """The manifest file: relative to ``.ukws/manifests/`` (shipped, repo) or absolute (file)."""
    url: str | None = None
    """The manifest repository's URL (repo), or the snapshot file that was copied (snapshot)."""
    revision: str | None = None
    """The revision of the manifest repository asked for with ``-b`` (None: its default branch)."""

    @property
    def repo_url(self) -> str | None:
        """The manifest repository's URL, against which relative remote fetch bases resolve."""
        return self.url if self.kind is SourceKind.REPO else None

    def describe(self) -> str:
        if self.kind is SourceKind.REPO:
            at = f" at {self.revision}" if self.revision else ""
            return f"{self.name} from {self.url}{at}"
        if self.kind is SourceKind.SHIPPED:
            return f"{self.name} (shipped with ukws)"
        if self.kind is SourceKind.SNAPSHOT:
            return f"{self.url} (snapshot, copied as {self.name})"
        return self.name


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """``.ukws/config.json``."""

    manifest: ManifestSource
    groups: str = DEFAULT_GROUPS
    """Group selection, repo's syntax: comma-separated, ``-name`` excludes, read left to right."""
    depth: int | None = None
    mirror: bool = False
    reference: str | None = None
    """A mirror workspace whose objects new clones borrow."""
    rewrites: tuple[Rewrite, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Workspace:
    root: Path
    config: Config

    @property
    def dot(self) -> Path:
        return self.root / DOT

    @property
    def config_path(self) -> Path:
        return self.dot / CONFIG_FILE

    @property
    def manifests_dir(self) -> Path:
        return self.dot / MANIFESTS_DIR

    @property
    def local_manifests_dir(self) -> Path:
        return self.dot / LOCAL_MANIFESTS_DIR

    @property
    def lock_path(self) -> Path:
        return self.dot / LOCK_FILE

    @property
    def state_dir(self) -> Path:
        return self.dot / STATE_DIR

    @property
    def manifest_path(self) -> Path:
        """The top-level manifest file."""
        return manifest_file(self.dot / MANIFESTS_DIR, self.config.manifest)

    @property
    def is_repo(self) -> bool:
        return self.config.manifest.kind is SourceKind.REPO


def manifest_file(manifests_dir: Path, source: ManifestSource) -> Path:
    if source.kind is SourceKind.FILE:
        return Path(source.name)
    return manifests_dir / source.name


# -- shipped manifests ---------------------------------------------------------------------------


def shipped_manifest(name: str) -> Path:
    """The shipped manifest called ``name`` (``helloworld``, ``helloworld.xml`` or ``default``)."""
    from ukws import shipped

    if "/" in name or "\\" in name or name.startswith("."):
        raise UsageError(f"-m {name}: no such manifest file, and not a shipped manifest name")
    stem = name if name.endswith(".xml") else f"{name}.xml"
    found = shipped.find_manifest(stem, shipped.shipped_dir())
    if found is None:
        known = ", ".join(n.removesuffix(".xml") for n in shipped.shipped_names())
        raise UsageError(f"-m {name}: no such manifest file, and not a shipped manifest (shipped: {known})")
    return found


def _copy_shipped(dest: Path) -> None:
    """Copy every shipped manifest (and the files next to them: patches, defconfigs) into ``dest``."""
    from ukws import shipped

    shutil.copytree(shipped.shipped_dir(), dest)
    # In ukws's own tree default.xml sits beside manifests/ and includes manifests/NAME; in this
    # copy the manifests sit beside it, so its includes name them directly.
    text = shipped_manifest("default.xml").read_text(encoding="utf-8")
    (dest / "default.xml").write_text(text.replace('name="manifests/', 'name="'), encoding="utf-8")


def _copy_snapshot(snapshot: Path, dest: Path) -> None:
    """Copy a snapshot and lay out the files it embeds next to the copy (all inside ``dest``'s folder)."""
    from ukws.manifest.embedded import embedded_files

    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(snapshot, dest)
    for rel, data in embedded_files(snapshot):
        target = dest.parent / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


# -- finding and opening -------------------------------------------------------------------------


def find_root(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding ``.ukws/``, or None."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / DOT).is_dir():
            return folder
    return None


def find_workspace(start: Path) -> Workspace:
    """The workspace ``start`` is in (walking up to the nearest ``.ukws/``)."""
    root = find_root(start)
    if root is None:
        raise WorkspaceError(f"{start}: not inside a ukws workspace (no {DOT}/ here or above); run 'ukws init -m NAME'")
    return open_workspace(root)


def open_workspace(root: Path) -> Workspace:
    """The workspace at ``root``, finishing or undoing an interrupted re-init first."""
    dot = root / DOT
    _repair(dot)
    config_path = dot / CONFIG_FILE
    if not config_path.is_file():
        raise WorkspaceError(f"{config_path}: missing; run 'ukws init -m NAME' in {root} again")
    return Workspace(root=root, config=read_config(config_path))


def _repair(dot: Path) -> None:
    """Finish or undo a swap of the manifest source that was interrupted (see :func:`init`)."""
    staging, old, manifests = dot / _STAGING, dot / _OLD, dot / MANIFESTS_DIR
    config_new = dot / _CONFIG_NEW
    if staging.exists():
        # Interrupted before the new source was in place: undo.
        if old.exists() and not manifests.exists():
            old.rename(manifests)
        shutil.rmtree(staging, ignore_errors=True)
        config_new.unlink(missing_ok=True)
    elif config_new.exists():
        # The new source is in place: finish.
        config_new.replace(dot / CONFIG_FILE)
    if old.exists() and manifests.exists():
        shutil.rmtree(old, ignore_errors=True)


# -- configuration -------------------------------------------------------------------------------


def _config_json(config: Config) -> dict[str, Any]:
    m = config.manifest
    return {
        "version": CONFIG_VERSION,
        "manifest": {"kind": m.kind.value, "name": m.name, "url": m.url, "revision": m.revision},
        "groups": config.groups,
        "depth": config.depth,
        "mirror": config.mirror,
        "reference": config.reference,
        "rewrites": [str(r) for r in config.rewrites],
    }


def read_config(path: Path) -> Config:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        m = data["manifest"]
        source = ManifestSource(
            kind=SourceKind(m["kind"]), name=str(m["name"]), url=m.get("url"), revision=m.get("revision")
        )
        depth = data.get("depth")
        return Config(
            manifest=source,
            groups=str(data.get("groups") or DEFAULT_GROUPS),
            depth=int(depth) if depth is not None else None,
            mirror=bool(data.get("mirror", False)),
            reference=data.get("reference"),
            rewrites=tuple(parse_rule(str(r)) for r in data.get("rewrites", ())),
        )
    except OSError as e:
        raise WorkspaceError(f"{path}: cannot read ({e.strerror or e})") from None
    except (ValueError, KeyError, TypeError, UsageError) as e:
        raise WorkspaceError(f"{path}: not a valid ukws configuration ({e}); run 'ukws init' again") from None


def write_json_atomic(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` to a temporary file next to ``path`` and rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_config(path: Path, config: Config) -> None:
    write_json_atomic(path, _config_json(config))


def user_config_path(environ: Mapping[str, str]) -> Path:
    """``$XDG_CONFIG_HOME/ukws/config.json``, else ``~/.config/ukws/config.json``."""
    base = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME") or Path.home()) / ".config")
    return Path(base) / "ukws" / "config.json"


def read_user_rewrites(path: Path) -> tuple[Rewrite, ...]:
    """The ``rewrites`` of the per-user configuration file (none when it does not exist)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        rules = data.get("rewrites", []) if isinstance(data, dict) else None
        if not isinstance(rules, list):
            raise ValueError("'rewrites' must be a list of \"PREFIX=REPLACEMENT\" strings")
        return tuple(parse_rule(str(r), origin=RuleOrigin.USER) for r in rules)
    except FileNotFoundError:
        return ()
    except (OSError, UnicodeDecodeError) as e:
        raise WorkspaceError(f"{path}: cannot read ({e})") from None
    except (ValueError, UsageError) as e:
        raise WorkspaceError(f"{path}: not a valid ukws user configuration ({e})") from None


def rewriter(ws: Workspace, user_rules: tuple[Rewrite, ...] = ()) -> UrlRewriter:
    """The workspace's rules, then the user's."""
    return UrlRewriter(rules=(*ws.config.rewrites, *user_rules))


# -- loading the manifest ------------------------------------------------------------------------


def load_manifest_file(
    path: Path, *, local_manifests: Path | None, manifest_url: str | None, display: Path | None = None
) -> Manifest:
    """Load ``path`` with the local manifests (a folder, used when it exists); ``display`` is the
    name messages give the file (default: ``path``)."""
    from ukws import manifest as loader

    if not path.is_file():
        shown = display or path
        raise WorkspaceError(f"{shown}: manifest file not found; run 'ukws init -m NAME' to choose one")
    local = local_manifests if local_manifests is not None and local_manifests.is_dir() else None
    return loader.load(
        path, local_manifests=local, manifest_url=manifest_url, display=str(display) if display else None
    )


def load_workspace_manifest(ws: Workspace, *, groups: str | None = None) -> Manifest:
    """The workspace's manifest with its local manifests merged, restricted to the selected groups
    (the configured selection unless ``groups`` is given)."""
    from ukws import manifest as loader

    m = load_manifest_file(
        ws.manifest_path, local_manifests=ws.local_manifests_dir, manifest_url=ws.config.manifest.repo_url
    )
    return loader.select_groups(m, groups if groups is not None else ws.config.groups)


# -- init ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class InitRequest:
    """What ``ukws init`` was asked; None means: keep the workspace's value (or the default)."""

    manifest: str | None = None
    """``-m``: a shipped manifest name or a path (without ``url``), a file in the repository (with)."""
    url: str | None = None
    revision: str | None = None
    groups: str | None = None
    depth: int | None = None
    reference: Path | None = None
    mirror: bool | None = None
    rewrites: tuple[Rewrite, ...] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InitResult:
    root: Path
    manifest_file: Path
    source: ManifestSource
    config: Config
    reinit: bool
    """The workspace existed and its configuration was replaced."""
    manifest_changed: bool
    project_count: int
    manifest_sha: str | None = None
    """The manifest repository's commit (``-u``)."""
    url_used: str | None = None
    url_failures: tuple[str, ...] = ()
    """Mirrors of the manifest repository that were tried first and failed."""
    lock_set_aside: Path | None = None
    """The previous lock, moved aside because it pinned another manifest's projects."""


def resolve_source(
    request: InitRequest, *, cwd: Path, previous: ManifestSource | None, manifests_dir: Path | None = None
) -> ManifestSource:
    """The manifest source ``request`` names (paths relative to ``cwd``).

    In a workspace on a manifest repository (``previous``, cloned at ``manifests_dir``), ``-b``
    alone picks another revision of it, and ``-m NAME`` alone another file in it when it has one.
    """
    if request.url is not None:
        name = request.manifest or DEFAULT_REPO_MANIFEST
        _check_repo_name(name)
        return ManifestSource(kind=SourceKind.REPO, name=name, url=request.url, revision=request.revision)
    if previous is not None and previous.kind is SourceKind.REPO:
        in_repo = (
            request.manifest is not None and manifests_dir is not None and _repo_has(manifests_dir, request.manifest)
        )
        if request.revision is not None or in_repo or request.manifest is None:
            name = request.manifest or previous.name
            _check_repo_name(name)
            revision = request.revision if request.revision is not None else previous.revision
            return ManifestSource(kind=SourceKind.REPO, name=name, url=previous.url, revision=revision)
    if request.revision is not None:
        raise UsageError("-b REV needs -u URL (it selects the manifest repository's revision)")
    if request.manifest is None:
        if previous is None:
            raise UsageError("a new workspace needs -m NAME (a shipped manifest or a file) or -u URL")
        return previous
    given = Path(request.manifest).expanduser()
    file = given if given.is_absolute() else cwd / given
    if file.is_file():
        from ukws.manifest.embedded import is_snapshot

        if is_snapshot(file):
            return ManifestSource(kind=SourceKind.SNAPSHOT, name=file.name, url=str(file.resolve()))
        return ManifestSource(kind=SourceKind.FILE, name=str(file.resolve()))
    if file.exists():
        raise UsageError(f"-m {request.manifest}: not a file")
    shipped = shipped_manifest(request.manifest)
    return ManifestSource(kind=SourceKind.SHIPPED, name=shipped.name)


def _repo_has(manifests_dir: Path, name: str) -> bool:
    parts = Path(name).parts
    return bool(parts) and ".." not in parts and not Path(name).is_absolute() and (manifests_dir / name).is_file()


def _check_repo_name(name: str) -> None:
    parts = Path(name).parts
    if Path(name).is_absolute() or ".." in parts or not parts:
        raise UsageError(f"-m {name}: with -u, NAME is a file inside the manifest repository")


def init(
    *,
    root: Path,
    request: InitRequest,
    cwd: Path,
    user_rules: tuple[Rewrite, ...] = (),
) -> InitResult:
    """Create the workspace at ``root``, or switch an existing one to another manifest source.

    The new manifest source is staged in ``.ukws/manifests.new/`` and must load (with the local
    manifests) before anything of the old workspace changes. Projects are not touched: ``sync``
    brings them in line with the new manifest.
    """
    root = root.resolve()
    outer = find_root(root.parent) if root.parent != root else None
    if outer is not None and not (root / DOT).is_dir():
        raise WorkspaceError(f"{root}: inside the workspace at {outer}; run 'ukws init' there to switch its manifest")
    if root.exists() and not root.is_dir():
        raise WorkspaceError(f"{root}: not a folder")
    dot = root / DOT
    old: Workspace | None = open_workspace(root) if (dot / CONFIG_FILE).is_file() else None
    if old is None and dot.is_dir():
        _repair(dot)
    previous = old.config if old is not None else None

    source = resolve_source(
        request, cwd=cwd, previous=previous.manifest if previous else None, manifests_dir=dot / MANIFESTS_DIR
    )
    mirror = request.mirror if request.mirror is not None else (previous.mirror if previous else False)
    if previous is not None and request.mirror is not None and request.mirror != previous.mirror:
        kind = "a mirror" if previous.mirror else "not a mirror"
        raise WorkspaceError(f"{root}: is {kind} workspace; --mirror cannot change on re-init; init a new folder")
    reference: str | None = previous.reference if previous else None
    if request.reference is not None:
        ref = request.reference if request.reference.is_absolute() else cwd / request.reference
        if not ref.is_dir():
            raise WorkspaceError(f"--reference {request.reference}: no such folder")
        reference = str(ref.resolve())
    if request.depth is not None and request.depth < 0:
        raise UsageError(f"--depth {request.depth}: must be 0 (full history) or more")
    depth = request.depth if request.depth is not None else (previous.depth if previous else None)
    base = previous or Config(manifest=source)
    config = Config(
        manifest=source,
        groups=request.groups if request.groups is not None else base.groups,
        depth=depth or None,
        mirror=mirror,
        reference=reference,
        rewrites=request.rewrites if request.rewrites is not None else base.rewrites,
    )
    if (dot / MANIFESTS_DIR / ".git").exists():
        from ukws import git

        blocked = git.manifest_repo_local_work(dot / MANIFESTS_DIR)
        if blocked is not None:
            raise WorkspaceError(f"{blocked}; commit and push it, or move it away, then run init again")

    created = not dot.exists()
    dot.mkdir(parents=True, exist_ok=True)
    staging = dot / _STAGING
    shutil.rmtree(staging, ignore_errors=True)
    sha: str | None = None
    url_used: str | None = None
    failures: tuple[str, ...] = ()
    try:
        if source.kind is SourceKind.REPO:
            from ukws import git

            assert source.url is not None
            urls = UrlRewriter(rules=(*config.rewrites, *user_rules)).candidates(source.url)
            checkout = git.clone_manifest_repo(urls, staging, source.revision)
            sha, url_used, failures = checkout.sha, checkout.url, checkout.failures
        elif source.kind is SourceKind.SHIPPED:
            _copy_shipped(staging)
        elif source.kind is SourceKind.SNAPSHOT:
            _copy_snapshot(Path(source.url or ""), staging / source.name)
        else:
            staging.mkdir()
        manifest = load_manifest_file(
            manifest_file(staging, source),
            local_manifests=dot / LOCAL_MANIFESTS_DIR,
            manifest_url=source.repo_url,
            display=manifest_file(dot / MANIFESTS_DIR, source),
        )
        from ukws import manifest as loader

        selected = loader.select_groups(manifest, config.groups)
        write_json_atomic(dot / _CONFIG_NEW, _config_json(config))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        (dot / _CONFIG_NEW).unlink(missing_ok=True)
        if created:
            shutil.rmtree(dot, ignore_errors=True)
        raise
    # The swap: each step is a rename; _repair() finishes or undoes it after a crash.
    manifests = dot / MANIFESTS_DIR
    if manifests.exists():
        shutil.rmtree(dot / _OLD, ignore_errors=True)
        manifests.rename(dot / _OLD)
    staging.rename(manifests)
    (dot / _CONFIG_NEW).replace(dot / CONFIG_FILE)
    shutil.rmtree(dot / _OLD, ignore_errors=True)
    (dot / LOCAL_MANIFESTS_DIR).mkdir(exist_ok=True)

    changed = previous is None or previous.manifest != source
    lock_aside: Path | None = None
    lock = dot / LOCK_FILE
    if previous is not None and previous.manifest != source and lock.exists():
        lock_aside = dot / (LOCK_FILE + ".old")
        lock.replace(lock_aside)
    return InitResult(
        root=root,
        manifest_file=manifest_file(manifests, source),
        source=source,
        config=config,
        reinit=previous is not None,
        manifest_changed=changed,
        project_count=len(selected.projects),
        manifest_sha=sha,
        url_used=url_used,
        url_failures=failures,
        lock_set_aside=lock_aside,
    )


# -- info ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkspaceInfo:
    """What ``ukws info`` reports."""

    root: Path
    manifest: ManifestSource
    manifest_file: Path
    manifest_sha: str | None
    """The manifest repository's checked-out commit (``-u`` workspaces)."""
    manifest_branch: str | None
    groups: str
    depth: int | None
    mirror: bool
    reference: str | None
    rewrites: tuple[Rewrite, ...]
    """Workspace rules, then the user's."""
    local_manifests: tuple[str, ...]
    lock: Path | None
    """The lock file, when there is one."""
    projects: int
    """Projects the group selection picks (0 when the manifest does not load)."""
    projects_total: int
    manifest_error: str | None = None
    """Why the manifest does not load, if it does not."""


def workspace_info(ws: Workspace, user_rules: tuple[Rewrite, ...] = ()) -> WorkspaceInfo:
    from ukws import git
    from ukws import manifest as loader
    from ukws.errors import UkwsError

    head = git.manifest_repo_head(ws.manifests_dir) if ws.is_repo else None
    selected = total = 0
    problem: str | None = None
    try:
        full = load_manifest_file(
            ws.manifest_path, local_manifests=ws.local_manifests_dir, manifest_url=ws.config.manifest.repo_url
        )
        total = len(full.projects)
        selected = len(loader.select_groups(full, ws.config.groups).projects)
    except UkwsError as e:
        problem = "; ".join(e.lines())
    local = (
        tuple(sorted(p.name for p in ws.local_manifests_dir.glob("*.xml"))) if ws.local_manifests_dir.is_dir() else ()
    )
    return WorkspaceInfo(
        root=ws.root,
        manifest=ws.config.manifest,
        manifest_file=ws.manifest_path,
        manifest_sha=head[0] if head else None,
        manifest_branch=head[1] if head else None,
        groups=ws.config.groups,
        depth=ws.config.depth,
        mirror=ws.config.mirror,
        reference=ws.config.reference,
        rewrites=(*ws.config.rewrites, *user_rules),
        local_manifests=local,
        lock=ws.lock_path if ws.lock_path.is_file() else None,
        projects=selected,
        projects_total=total,
        manifest_error=problem,
    )


# -- lock ----------------------------------------------------------------------------------------


def read_pins(ws: Workspace) -> dict[str, str]:
    """Project path -> commit, from the lock; empty when the workspace has no lock."""
    if not ws.lock_path.is_file():
        return {}
    from ukws.lock import read_lock

    return read_lock(ws.lock_path).pins


# -- sync ----------------------------------------------------------------------------------------


def update_manifest(ws: Workspace, user_rules: tuple[Rewrite, ...] = ()) -> ManifestCheckout | None:
    """Fetch the manifest repository of a ``-u`` workspace and move it to its revision (None for
    other workspaces). A fetch that fails is returned with action ``failed``, not raised: sync then
    follows the manifest as it was."""
    from ukws import git
    from ukws.errors import GitError

    source = ws.config.manifest
    if source.kind is not SourceKind.REPO or source.url is None:
        return None
    try:
        return git.update_manifest_repo(
            ws.manifests_dir, rewriter(ws, user_rules).candidates(source.url), source.revision
        )
    except GitError as e:
        return git.ManifestCheckout(url="", sha="", action="failed", message=str(e))


def sync_options(
    ws: Workspace,
    user_rules: tuple[Rewrite, ...] = (),
    *,
    jobs: int = 0,
    fetch: bool = True,
    checkout: bool = True,
    fail_fast: bool = False,
    rebase: bool = False,
    prune: bool = False,
    only: tuple[str, ...] = (),
    progress: Callable[[ProgressEvent], None] | None = None,
) -> SyncOptions:
    """Sync options from the command line's choices plus what the workspace's configuration and
    lock say: depth, mirror, reference, URL rewriting (workspace rules, then ``user_rules``), pins."""
    from ukws.sync.engine import SyncOptions

    c = ws.config
    return SyncOptions(
        jobs=jobs,
        fetch=fetch,
        checkout=checkout,
        fail_fast=fail_fast,
        rebase=rebase,
        prune=prune,
        only=only,
        progress=progress,
        depth=c.depth,
        mirror=c.mirror,
        reference=Path(c.reference) if c.reference else None,
        urls=rewriter(ws, user_rules),
        pins=read_pins(ws),
    )
