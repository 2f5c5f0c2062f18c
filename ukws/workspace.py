"""The workspace: a folder holding ``.ukws/`` and the projects of one manifest.

Layout of ``.ukws/``::

    config.json          what ``ukws init`` was given (manifest source, groups, depth, rewrites, timeout, ...)
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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ukws.errors import UsageError, WorkspaceError
from ukws.manifest.groups import default_selection
from ukws.manifest.model import Manifest, Project
from ukws.sync.rewrite import Rewrite, UrlRewriter, parse_rule

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
DEFAULT_GROUPS = default_selection()
"""``default,platform-<os>``, as in repo."""
DEFAULT_TIMEOUT = 60.0
"""Seconds a server may take to answer or a transfer may stall, unless ``--timeout`` says otherwise."""

STAGING_DIR = MANIFESTS_DIR + ".new"
OLD_DIR = MANIFESTS_DIR + ".old"
CONFIG_NEW = CONFIG_FILE + ".new"


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
    timeout: float | None = None
    """Seconds a connection or a stalled transfer may take (None: :data:`DEFAULT_TIMEOUT`)."""


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


def include_root(manifests_dir: Path, source: ManifestSource) -> Path | None:
    """The folder include names are relative to: the top of the manifest repository (or of the
    shipped manifests), as in repo; None for a plain file (its own folder)."""
    return None if source.kind is SourceKind.FILE else manifests_dir


# -- shipped manifests ---------------------------------------------------------------------------






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
    repair(dot)
    config_path = dot / CONFIG_FILE
    if not config_path.is_file():
        raise WorkspaceError(f"{config_path}: missing; run 'ukws init -m NAME' in {root} again")
    return Workspace(root=root, config=read_config(config_path))


def repair(dot: Path) -> None:
    """Finish or undo a swap of the manifest source that was interrupted (see :func:`init`)."""
    staging, old, manifests = dot / STAGING_DIR, dot / OLD_DIR, dot / MANIFESTS_DIR
    config_new = dot / CONFIG_NEW
    if staging.exists():
        # Interrupted before the new source was in place: undo.
        if old.exists() and not manifests.exists():
            old.rename(manifests)
        _remove_tree(staging)
        config_new.unlink(missing_ok=True)
    elif config_new.exists():
        # The new source is in place: finish.
        config_new.replace(dot / CONFIG_FILE)
    if old.exists() and manifests.exists():
        _remove_tree(old)


def _remove_tree(path: Path) -> None:
    import shutil  # here: a workspace with nothing to repair (every command's case) does not load it

    shutil.rmtree(path, ignore_errors=True)


# -- configuration -------------------------------------------------------------------------------


def config_json(config: Config) -> dict[str, Any]:
    m = config.manifest
    return {
        "version": CONFIG_VERSION,
        "manifest": {"kind": m.kind.value, "name": m.name, "url": m.url, "revision": m.revision},
        "groups": config.groups,
        "depth": config.depth,
        "mirror": config.mirror,
        "reference": config.reference,
        "rewrites": [str(r) for r in config.rewrites],
        "timeout": config.timeout,
    }


def read_config(path: Path) -> Config:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        m = data["manifest"]
        source = ManifestSource(
            kind=SourceKind(m["kind"]), name=str(m["name"]), url=m.get("url"), revision=m.get("revision")
        )
        depth = data.get("depth")
        timeout = data.get("timeout")
        if timeout is not None and (isinstance(timeout, bool) or float(timeout) <= 0):
            raise ValueError(f"timeout {timeout!r} must be a number of seconds above 0")
        return Config(
            manifest=source,
            groups=str(data.get("groups") or DEFAULT_GROUPS),
            depth=int(depth) if depth is not None else None,
            mirror=bool(data.get("mirror", False)),
            reference=data.get("reference"),
            rewrites=tuple(parse_rule(str(r)) for r in data.get("rewrites", ())),
            timeout=float(timeout) if timeout is not None else None,
        )
    except OSError as e:
        raise WorkspaceError(f"{path}: cannot read ({e.strerror or e})") from None
    except (ValueError, KeyError, TypeError, UsageError) as e:
        raise WorkspaceError(f"{path}: not a valid ukws configuration ({e}); run 'ukws init' again") from None


def write_json_atomic(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` to a temporary file next to ``path`` and rename it over ``path``."""
    import tempfile  # here: the commands that only read a workspace do not load it

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
    write_json_atomic(path, config_json(config))


def rewriter(ws: Workspace, user_rules: tuple[Rewrite, ...] = ()) -> UrlRewriter:
    """The workspace's rules, then the user's."""
    return UrlRewriter(rules=(*ws.config.rewrites, *user_rules))


# -- loading the manifest ------------------------------------------------------------------------


def load_manifest_file(
    path: Path,
    *,
    local_manifests: Path | None,
    manifest_url: str | None,
    display: Path | None = None,
    includes: Path | None = None,
    files: list[Path] | None = None,
) -> Manifest:
    """Load ``path`` with the local manifests (a folder, used when it exists); ``display`` is the
    name messages give the file (default: ``path``); ``includes`` the folder include names are
    relative to (default: the file's folder); ``files`` gets every file read appended."""
    from ukws import manifest as loader

    if not path.is_file():
        shown = display or path
        raise WorkspaceError(f"{shown}: manifest file not found; run 'ukws init -m NAME' to choose one")
    local = local_manifests if local_manifests is not None and local_manifests.is_dir() else None
    return loader.load(
        path,
        local_manifests=local,
        manifest_url=manifest_url,
        display=str(display) if display else None,
        include_root=includes,
        files=files,
    )


def load_workspace_manifest(ws: Workspace, *, groups: str | None = None, files: list[Path] | None = None) -> Manifest:
    """The workspace's manifest with its local manifests merged, restricted to the selected groups
    (the configured selection unless ``groups`` is given); ``files`` gets every file read appended."""
    from ukws import manifest as loader

    m = load_manifest_file(
        ws.manifest_path,
        local_manifests=ws.local_manifests_dir,
        manifest_url=ws.config.manifest.repo_url,
        includes=include_root(ws.manifests_dir, ws.config.manifest),
        files=files,
    )
    return loader.select_groups(m, groups if groups is not None else ws.config.groups)


# -- init ----------------------------------------------------------------------------------------














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
    timeout: float
    """Seconds a server may take to answer (the workspace's setting, else the default)."""
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
    from ukws import manifest as loader
    from ukws.errors import UkwsError

    head: tuple[str, str | None] | None = None
    if ws.is_repo:  # only a manifest repository needs git (and pygit2)
        from ukws import git

        head = git.manifest_repo_head(ws.manifests_dir)
    selected = total = 0
    problem: str | None = None
    try:
        full = load_manifest_file(
            ws.manifest_path,
            local_manifests=ws.local_manifests_dir,
            manifest_url=ws.config.manifest.repo_url,
            includes=include_root(ws.manifests_dir, ws.config.manifest),
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
        timeout=ws.config.timeout or DEFAULT_TIMEOUT,
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


def checked_out(ws: Workspace, manifest: Manifest) -> dict[str, str | None]:
    """Project path -> the commit its working tree has checked out (None: not synced)."""
    from ukws import git

    return {p.path: git.checked_out_commit(ws.root / p.path) for p in manifest.projects}


def read_pins(ws: Workspace) -> dict[str, str]:
    """Project path -> commit, from the lock; empty when the workspace has no lock."""
    if not ws.lock_path.is_file():
        return {}
    from ukws.lock import read_lock

    return read_lock(ws.lock_path).pins


# -- sync ----------------------------------------------------------------------------------------


def timeout_of(ws: Workspace, timeout: float | None = None) -> float:
    """The network time-out in seconds: ``timeout`` when given, else the workspace's, else the default."""
    if timeout is not None and timeout <= 0:
        raise UsageError(f"--timeout {timeout:g}: must be a number of seconds above 0")
    return timeout or ws.config.timeout or DEFAULT_TIMEOUT


def update_manifest(
    ws: Workspace, user_rules: tuple[Rewrite, ...] = (), *, timeout: float | None = None
) -> ManifestCheckout | None:
    """Fetch the manifest repository of a ``-u`` workspace and move it to its revision (None for
    other workspaces). A fetch that fails is returned with action ``failed``, not raised: sync then
    follows the manifest as it was. ``timeout``: seconds (default: the workspace's setting)."""
    from ukws import git
    from ukws.errors import GitError

    source = ws.config.manifest
    if source.kind is not SourceKind.REPO or source.url is None:
        return None
    try:
        return git.update_manifest_repo(
            ws.manifests_dir,
            rewriter(ws, user_rules).candidates(source.url),
            source.revision,
            timeout=timeout_of(ws, timeout),
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
    before_move: Callable[[Project], None] | None = None,
    timeout: float | None = None,
    on_noop: Callable[[Path, Mapping[str, str]], None] | None = None,
) -> SyncOptions:
    """Sync options from the command line's choices plus what the workspace's configuration and
    lock say: depth, mirror, reference, URL rewriting (workspace rules, then ``user_rules``), pins,
    the network time-out (``timeout`` when given, else the workspace's)."""
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
        before_move=before_move,
        depth=c.depth,
        mirror=c.mirror,
        reference=Path(c.reference) if c.reference else None,
        urls=rewriter(ws, user_rules),
        pins=read_pins(ws),
        timeout=timeout_of(ws, timeout),
        on_noop=on_noop,
    )
