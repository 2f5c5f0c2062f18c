"""``ukws init``: create a workspace, or switch one to another manifest source, safely.

Re-running ``init`` stages the new manifest source next to the old one, checks that it loads, and then
swaps it in, so an interrupted re-init leaves the old workspace, or the new one, never a mix (the next
command finishes or undoes the swap; see :func:`ukws.workspace.open_workspace`).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ukws.errors import UsageError, WorkspaceError
from ukws.sync.journal import workspace_lock
from ukws.sync.rewrite import Rewrite, UrlRewriter
from ukws.workspace import (
    CONFIG_FILE,
    CONFIG_NEW,
    DEFAULT_REPO_MANIFEST,
    DEFAULT_TIMEOUT,
    DOT,
    LOCAL_MANIFESTS_DIR,
    LOCK_FILE,
    MANIFESTS_DIR,
    OLD_DIR,
    STAGING_DIR,
    STATE_DIR,
    Config,
    ManifestSource,
    SourceKind,
    Workspace,
    config_json,
    find_root,
    include_root,
    load_manifest_file,
    manifest_file,
    open_workspace,
    repair,
    write_json_atomic,
)

if TYPE_CHECKING:
    pass


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
    timeout: float | None = None
    """Seconds a server may take to answer; 0 returns to the default."""


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
    if not dot.is_dir():
        return _init(root=root, request=request, cwd=cwd, user_rules=user_rules)
    # An existing workspace: no sync (or other init) may run while its manifest and settings change.
    with workspace_lock(dot / STATE_DIR / "sync"):
        return _init(root=root, request=request, cwd=cwd, user_rules=user_rules)


def _init(*, root: Path, request: InitRequest, cwd: Path, user_rules: tuple[Rewrite, ...]) -> InitResult:
    dot = root / DOT
    old: Workspace | None = open_workspace(root) if (dot / CONFIG_FILE).is_file() else None
    if old is None and dot.is_dir():
        repair(dot)
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
    if request.timeout is not None and request.timeout < 0:
        raise UsageError(f"--timeout {request.timeout:g}: must be a number of seconds above 0 (0: the default)")
    timeout = request.timeout if request.timeout is not None else (previous.timeout if previous else None)
    base = previous or Config(manifest=source)
    config = Config(
        manifest=source,
        groups=request.groups if request.groups is not None else base.groups,
        depth=depth or None,
        mirror=mirror,
        reference=reference,
        rewrites=request.rewrites if request.rewrites is not None else base.rewrites,
        timeout=timeout or None,
    )
    if (dot / MANIFESTS_DIR / ".git").exists():
        from ukws import git

        blocked = git.manifest_repo_local_work(dot / MANIFESTS_DIR)
        if blocked is not None:
            raise WorkspaceError(f"{blocked}; commit and push it, or move it away, then run init again")

    created = not dot.exists()
    dot.mkdir(parents=True, exist_ok=True)
    staging = dot / STAGING_DIR
    shutil.rmtree(staging, ignore_errors=True)
    sha: str | None = None
    url_used: str | None = None
    failures: tuple[str, ...] = ()
    try:
        if source.kind is SourceKind.REPO:
            from ukws import git

            assert source.url is not None
            urls = UrlRewriter(rules=(*config.rewrites, *user_rules)).candidates(source.url)
            checkout = git.clone_manifest_repo(
                urls, staging, source.revision, timeout=config.timeout or DEFAULT_TIMEOUT
            )
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
            includes=include_root(staging, source),
        )
        from ukws import manifest as loader

        selected = loader.select_groups(manifest, config.groups)
        write_json_atomic(dot / CONFIG_NEW, config_json(config))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        (dot / CONFIG_NEW).unlink(missing_ok=True)
        if created:
            shutil.rmtree(dot, ignore_errors=True)
        raise
    # The swap: each step is a rename; repair() finishes or undoes it after a crash.
    manifests = dot / MANIFESTS_DIR
    if manifests.exists():
        shutil.rmtree(dot / OLD_DIR, ignore_errors=True)
        manifests.rename(dot / OLD_DIR)
    staging.rename(manifests)
    (dot / CONFIG_NEW).replace(dot / CONFIG_FILE)
    shutil.rmtree(dot / OLD_DIR, ignore_errors=True)
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


def _copy_snapshot(snapshot: Path, dest: Path) -> None:
    """Copy a snapshot and lay out the files it embeds next to the copy (all inside ``dest``'s folder)."""
    from ukws.manifest.embedded import embedded_files

    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(snapshot, dest)
    for rel, data in embedded_files(snapshot):
        target = dest.parent / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
