"""``ukws patch-app``: apply an application's ``<x-patch>`` series and point its Makefile at the workspace.

The series is applied to the project's HEAD tree in memory first (every patch's sha256 checked,
every path checked, every hunk applied by libgit2); only when the whole series applies, and no file
it writes holds local changes, are the files written, under a journal (see
:mod:`ukws.build.patchstate`). The result is recorded in the patch-state record, which makes a
second run a no-op, lets ``--revert`` restore exactly the files the series and the Makefile edit
touched, and lets ``ukws sync`` set the series aside while it moves the checkout and re-apply it
after. No network, no ``git`` command, nothing outside the application project is written.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ukws import git
from ukws.build import makefile
from ukws.build.patchstate import (
    AppliedPatch,
    FileState,
    Record,
    SeriesState,
    State,
    Step,
    check_rel,
    roll_forward,
    run_transition,
    series_state,
    workspace_series,
)
from ukws.errors import UkwsError, UsageError, WorkspaceError
from ukws.fileops import is_inside
from ukws.manifest.model import Manifest, Patch, Project, Role
from ukws.workspace import SourceKind, Workspace, load_workspace_manifest

BUILD_FILE_NAMES = frozenset(
    {
        "Makefile", "makefile", "GNUmakefile", "Makefile.uk", "Makefile.rules", "Config.uk", "Kraftfile",
        "kraft.yaml", "kraft.yml", "configure", "configure.ac", "configure.in", "Makefile.am", "Makefile.in",
        "aclocal.m4", "config.mk", "Rules.mk", "Config.mk",
    }
)  # fmt: skip
BUILD_FILE_SUFFIXES = (".mk", ".m4", ".ld", ".lds", ".uk")


def is_build_file(rel: str) -> bool:
    """Makefiles, Kconfig and Kraft files, configure scripts, autotools files and linker scripts."""
    name = posixpath.basename(rel)
    return name in BUILD_FILE_NAMES or name.endswith(BUILD_FILE_SUFFIXES) or name.startswith("configure")


@dataclass(frozen=True, slots=True, kw_only=True)
class PatchStatus:
    path: str
    """The patch file, relative to the top-level manifest's folder."""
    sha256: str
    applied: bool
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class FileChange:
    path: str
    """Relative to the project's root."""
    change: str
    """``added``, ``changed`` or ``removed``."""
    by: str
    """``series`` or ``makefile``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AppResult:
    name: str
    path: str
    """The project's workspace path."""
    app_dir: str
    """The application's folder, workspace-relative."""
    action: str
    """``applied``, ``updated``, ``unchanged``, ``reverted``, ``not applied``, ``would apply``,
    ``would revert``, ``checked``."""
    base: str | None
    """The commit the series is (or would be) applied on."""
    patches: tuple[PatchStatus, ...]
    files: tuple[FileChange, ...]
    """What the command changed (or would change)."""
    makefile: str = ""
    """What happened to the application's Makefile, in words ('' when nothing)."""
    warnings: tuple[str, ...] = ()
    applied: bool = False
    """The series (and Makefile edit) is in place after the command."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PatchResult:
    apps: tuple[AppResult, ...]
    ok: bool
    """False for ``--check`` when an application is not fully patched."""


# -- planning ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _Plan:
    project: Project
    project_dir: Path
    repo: git.Repository
    base: str
    record: Record | None
    new: Record | None
    steps: tuple[Step, ...]
    patches: tuple[PatchStatus, ...]
    makefile: str
    warnings: tuple[str, ...]
    series_changes: frozenset[str] = field(default_factory=frozenset)

    @property
    def unchanged(self) -> bool:
        return not self.steps and self.record is not None and self.new is not None and (
            self.record.to_json() == self.new.to_json()
        )


def _manifest_root(ws: Workspace) -> Path:
    """The folder patch paths may not leave: the manifest repository (or the shipped copy), or the
    folder of a ``-m FILE`` manifest."""
    if ws.config.manifest.kind is SourceKind.FILE:
        return ws.manifest_path.parent
    return ws.manifests_dir


def _read_patch(ws: Workspace, patch: Patch) -> bytes:
    where = patch.loc
    root = _manifest_root(ws)
    file = ws.manifest_path.parent / patch.path
    if not is_inside(file.resolve(), root.resolve()):
        raise WorkspaceError(f"{where}: patch {patch.path} leads outside the manifest repository; refused")
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise WorkspaceError(f"{where}: patch {patch.path} not found (looked for {file})") from None
    except OSError as e:
        raise WorkspaceError(f"{where}: patch {patch.path}: cannot read ({e.strerror or e})") from None
    normal = git.lf_normalised(data)
    digest = hashlib.sha256(normal).hexdigest()
    if digest != patch.sha256:
        raise WorkspaceError(
            f"{where}: patch {patch.path} has sha256 {digest}, the manifest says {patch.sha256}; "
            "nothing was applied (fix the patch or the manifest's sha256)"
        )
    return normal


def _check_deltas(p: Project, patch: Patch, data: bytes, warnings: list[str]) -> None:
    try:
        deltas = git.patch_deltas(data)
    except git.PatchError as e:
        raise WorkspaceError(f"{patch.loc}: patch {patch.path} {e}") from None
    others: list[str] = []
    for d in deltas:
        for rel in d.paths:
            try:
                check_rel(rel)
            except WorkspaceError:
                raise WorkspaceError(
                    f"{patch.loc}: patch {patch.path} touches {rel!r}, outside the application project "
                    f"{p.name} ({p.path}); refused, nothing was applied"
                ) from None
            # A file the patch adds changes no application source (a platform layer next to it).
            if d.status != "A" and not is_build_file(rel) and rel not in others:
                others.append(rel)
        if d.new_mode in (git.SYMLINK_MODE, git.GITLINK_MODE):
            raise WorkspaceError(
                f"{patch.loc}: patch {patch.path} makes {d.new_path} a symlink or submodule; refused"
            )
    if others:
        warnings.append(f"patch {patch.path} changes files that are not build files: {', '.join(others)}")


def _libraries(ws: Workspace, manifest: Manifest, p: Project, warnings: list[str]) -> tuple[str, ...]:
    """The ``L=`` order: the lock's, else the libraries ``<x-app>`` names (in that order)."""
    assert p.app is not None
    from ukws.build.targets import build_orders

    builds = build_orders(ws)
    if builds is not None and p.name in builds:
        return builds[p.name]
    stated: list[str] = []
    for name in p.app.libraries:
        try:
            stated.append(manifest.project(name).path)
        except KeyError:
            warnings.append(f"<x-app libraries> names {name!r}, which the selected groups leave out; not in LIBS")
    if stated or manifest.by_role(Role.LIBRARY):
        warnings.append(
            "no resolved library order in the lock (run 'ukws resolve'); LIBS lists the libraries "
            "<x-app libraries> names, in that order"
        )
    return tuple(stated)


def _plan(ws: Workspace, manifest: Manifest, p: Project, state: State, *, revert: bool, dry_run: bool) -> _Plan:
    assert p.app is not None
    project_dir = ws.root / p.path
    if git.git_dir(project_dir) is None:
        raise WorkspaceError(f"{p.name} ({p.path}): not synced; run 'ukws sync' first")
    repo = git.open_repo(project_dir)
    if not dry_run:
        roll_forward(state, repo, project=p.name, project_dir=project_dir)
    elif state.journal_path(p.name).exists():
        raise WorkspaceError(f"{p.name} ({p.path}): an earlier patch-app was interrupted; run 'ukws patch-app' "
                             "to finish it")
    head = git.head(repo).sha
    if head is None:
        raise WorkspaceError(f"{p.name} ({p.path}): no commit checked out; run 'ukws sync' first")
    record = state.record(p.name)
    current: dict[str, str | None] = {}

    def now(rel: str) -> str | None:
        if rel not in current:
            current[rel] = git.worktree_blob(repo, rel)
        return current[rel]

    def edited(rel: str) -> WorkspaceError:
        return WorkspaceError(
            f"{p.path}/{rel}: edited since 'ukws patch-app' applied the series; nothing was changed (save "
            "your edit elsewhere and restore the file, or commit it)"
        )

    if revert:
        steps: list[Step] = []
        if record is not None:
            for rel, fs in sorted(record.files.items()):
                if now(rel) != fs.after:
                    raise edited(rel)
                steps.append(Step(path=rel, src=fs.after, dest=fs.before, mode=fs.mode))
        return _Plan(project=p, project_dir=project_dir, repo=repo, base=head, record=record, new=None,
                     steps=tuple(steps), patches=(), makefile="", warnings=())  # fmt: skip

    warnings: list[str] = []
    datas: list[bytes] = []
    for patch in p.app.patches:
        data = _read_patch(ws, patch)
        _check_deltas(p, patch, data, warnings)
        datas.append(data)
    base_tree = git.commit_tree(repo, head)
    try:
        trees = git.apply_series_to_tree(repo, base_tree, datas) if datas else [base_tree]
    except git.PatchError as e:
        bad = p.app.patches[e.index or 0]
        raise WorkspaceError(
            f"{bad.loc}: patch {bad.path} does not apply to {p.name} ({p.path}) at {head[:12]}: {e}; "
            "nothing was applied"
        ) from None
    final_tree = trees[-1]
    new_files: dict[str, FileState] = {
        c.path: FileState(before=c.before, after=c.after, mode=c.mode)
        for c in git.tree_changes(repo, base_tree, final_tree)
    }
    series_paths = frozenset(new_files)

    def pristine(rel: str) -> tuple[str | None, bytes | None]:
        """The file as it was before any patch-app: its blob and content."""
        if record is not None and rel in record.files:
            before = record.files[rel].before
            return before, git.blob_data(repo, before) if before else None
        blob = now(rel)
        if blob is None or blob == git.NOT_A_FILE:
            return blob, None
        return git.worktree_data(repo, rel)

    # The Makefile
    subdir = p.app.subdir
    app_dir = posixpath.join(p.path, subdir) if subdir else p.path
    mk_rel = posixpath.join(subdir, "Makefile") if subdir else "Makefile"
    layout = makefile.layout_for(manifest, p, _libraries(ws, manifest, p, warnings))
    mk_note = ""
    mk_generated = False
    if mk_rel in new_files:
        mk_before, after_blob = new_files[mk_rel].before, new_files[mk_rel].after
        content = git.blob_data(repo, after_blob) if after_blob else None
        mk_mode = new_files[mk_rel].mode
    else:
        mk_before, content = pristine(mk_rel)
        entry = git.tree_blob(repo, base_tree, mk_rel)
        mk_mode = entry[1] if entry else 0o100644
    mk_path: str | None = None
    if mk_before == git.NOT_A_FILE:
        warnings.append(f"{app_dir}/Makefile is not a regular file; left as it is")
    elif content is not None:
        if makefile.is_unikraft_makefile(content):
            pointed = makefile.point(content, layout)
            mk_path = mk_rel
            if pointed.text != content:
                new_files[mk_rel] = FileState(before=mk_before, after=git.add_blob(repo, pointed.text), mode=mk_mode)
            mk_note = f"{app_dir}/Makefile points at the workspace ({', '.join(pointed.variables)})"
        else:
            warnings.append(
                f"{app_dir}/Makefile does not set UK_ROOT (not a Unikraft application Makefile); left as it is"
            )
    elif mk_before is None and (mk_rel not in new_files) and _is_unikraft_app(repo, final_tree, subdir, now):
        new_files[mk_rel] = FileState(before=None, after=git.add_blob(repo, makefile.generate(layout)))
        mk_path, mk_generated = mk_rel, True
        mk_note = f"{app_dir}/Makefile written (the application had none)"

    # Check every file the new state writes, and build the transition.
    steps = []
    for rel in sorted(set(new_files) | set(record.files if record else ())):
        check_rel(rel)
        old = record.files.get(rel) if record else None
        new = new_files.get(rel)
        dest = new.after if new is not None else (old.before if old is not None else None)
        if old is not None and now(rel) != old.after and now(rel) != dest:
            raise edited(rel)
        if old is None and new is not None and now(rel) != new.before:
            what = "exists, but the series adds it" if new.before is None else "has local changes"
            raise WorkspaceError(
                f"{p.path}/{rel}: {what}; the patch series writes this file, so nothing was applied "
                "(commit, stash or move your change away, then run 'ukws patch-app' again)"
            )
        if now(rel) != dest:
            steps.append(Step(path=rel, src=now(rel), dest=dest,
                              mode=new.mode if new is not None else (old.mode if old else 0o100644)))  # fmt: skip
    applied_patches = tuple(AppliedPatch(path=x.path, sha256=x.sha256) for x in p.app.patches)
    new_record = Record(project=p.name, path=p.path, base=head, patches=applied_patches, files=new_files,
                        makefile=mk_path, makefile_generated=mk_generated)  # fmt: skip
    done = {(x.path, x.sha256) for x in record.patches} if record is not None else set()
    intact = record is not None and all(now(r) == fs.after for r, fs in record.files.items())
    statuses = tuple(
        PatchStatus(path=x.path, sha256=x.sha256, applied=intact and (x.path, x.sha256) in done)
        for x in p.app.patches
    )
    return _Plan(project=p, project_dir=project_dir, repo=repo, base=head, record=record, new=new_record,
                 steps=tuple(steps), patches=statuses, makefile=mk_note, warnings=tuple(warnings),
                 series_changes=series_paths)  # fmt: skip


def _is_unikraft_app(
    repo: git.Repository, tree: str, subdir: str, now: Callable[[str], str | None]
) -> bool:
    for name in makefile.APP_MARKERS:
        rel = posixpath.join(subdir, name) if subdir else name
        if git.tree_blob(repo, tree, rel) is not None or now(rel) not in (None, git.NOT_A_FILE):
            return True
    return False


def _changes(plan: _Plan) -> tuple[FileChange, ...]:
    out = []
    for s in plan.steps:
        change = "added" if s.src is None else ("removed" if s.dest is None else "changed")
        by = "series" if s.path in plan.series_changes or (plan.record and s.path in plan.record.files
                                                          and s.path != plan.record.makefile) else "makefile"
        out.append(FileChange(path=s.path, change=change, by=by))
    return tuple(out)


# -- the command ---------------------------------------------------------------------------------


def _apps(manifest: Manifest, app: str | None) -> list[Project]:
    apps = [p for p in manifest.projects if p.app is not None]
    if app is not None:
        chosen = [p for p in manifest.projects if app in (p.name, p.path)]
        if not chosen:
            raise UsageError(f"no project {app!r} in the workspace's manifest (see 'ukws list')")
        if chosen[0].app is None:
            raise UsageError(f"project {app!r} has no <x-app> in the manifest; nothing to patch")
        return chosen[:1]
    if not apps:
        raise WorkspaceError("the workspace's manifest has no application (a project with <x-app>)")
    return apps


def patch_app(
    ws: Workspace, *, app: str | None = None, check: bool = False, revert: bool = False, dry_run: bool = False
) -> PatchResult:
    """Apply (or check, or revert) the patch series of ``app`` (a project name or path; default:
    every application of the manifest), and point its Makefile at the workspace."""
    if check and revert:
        raise UsageError("--check and --revert cannot be combined")
    manifest = load_workspace_manifest(ws)
    projects = _apps(manifest, app)
    state = State(ws.state_dir)
    if check or dry_run:
        return _report(ws, manifest, projects, state, check=check, revert=revert)
    from ukws.sync.journal import workspace_lock

    with workspace_lock(ws.state_dir / "sync"):
        plans = [_plan(ws, manifest, p, state, revert=revert, dry_run=False) for p in projects]
        results = []
        for plan in plans:
            results.append(_execute(state, plan, revert=revert))
    return PatchResult(apps=tuple(results), ok=True)


def _execute(state: State, plan: _Plan, *, revert: bool) -> AppResult:
    p = plan.project
    changes = _changes(plan)
    if revert:
        if plan.record is not None:
            run_transition(state, plan.repo, project=p.name, project_dir=plan.project_dir, steps=plan.steps,
                           record=None, record_action="delete", keep=())  # fmt: skip
        return _result(plan, "reverted" if plan.record is not None else "not applied", changes, applied=False)
    if plan.unchanged:
        return _result(plan, "unchanged", (), applied=True)
    assert plan.new is not None
    keep = tuple(b for fs in plan.new.files.values() for b in (fs.before, fs.after) if b)
    run_transition(state, plan.repo, project=p.name, project_dir=plan.project_dir, steps=plan.steps,
                   record=plan.new, record_action="write", keep=keep)  # fmt: skip
    return _result(plan, "updated" if plan.record is not None else "applied", changes, applied=True)


def _result(plan: _Plan, action: str, changes: tuple[FileChange, ...], *, applied: bool) -> AppResult:
    p = plan.project
    assert p.app is not None
    subdir = p.app.subdir
    patches = plan.patches
    if applied:
        patches = tuple(PatchStatus(path=x.path, sha256=x.sha256, applied=True) for x in patches)
    return AppResult(
        name=p.name, path=p.path, app_dir=posixpath.join(p.path, subdir) if subdir else p.path, action=action,
        base=plan.base, patches=patches, files=changes, makefile=plan.makefile, warnings=plan.warnings,
        applied=applied,
    )  # fmt: skip


def _report(
    ws: Workspace, manifest: Manifest, projects: list[Project], state: State, *, check: bool, revert: bool
) -> PatchResult:
    """``--check`` and ``--dry-run``: plan, write nothing."""
    results: list[AppResult] = []
    ok = True
    for p in projects:
        try:
            plan = _plan(ws, manifest, p, state, revert=revert, dry_run=True)
        except UkwsError as e:
            if not check:
                raise
            ok = False
            assert p.app is not None
            record = state.record(p.name)
            done = {(x.path, x.sha256) for x in record.patches} if record else set()
            statuses = tuple(
                PatchStatus(path=x.path, sha256=x.sha256, applied=(x.path, x.sha256) in done, detail=str(e))
                for x in p.app.patches
            )
            subdir = p.app.subdir
            results.append(AppResult(name=p.name, path=p.path, app_dir=posixpath.join(p.path, subdir) if subdir
                                     else p.path, action="checked", base=None, patches=statuses, files=(),
                                     applied=False))  # fmt: skip
            continue
        changes = _changes(plan)
        if check:
            applied = plan.unchanged
            ok = ok and applied
            statuses = tuple(
                x if x.applied else PatchStatus(path=x.path, sha256=x.sha256, applied=False, detail="applies cleanly")
                for x in plan.patches
            )
            results.append(
                AppResult(
                    name=p.name,
                    path=p.path,
                    app_dir=_result(plan, "", (), applied=False).app_dir,
                    action="checked",
                    base=plan.base,
                    patches=statuses,
                    files=changes,
                    makefile=plan.makefile,
                    warnings=plan.warnings,
                    applied=applied,
                )
            )
        elif revert:
            action = "would revert" if plan.record is not None else "not applied"
            results.append(_result(plan, action, changes, applied=plan.record is not None))
        else:
            action = "unchanged" if plan.unchanged else "would apply"
            results.append(_result(plan, action, changes if not plan.unchanged else (), applied=plan.unchanged))
    return PatchResult(apps=tuple(results), ok=ok)


# -- sync ----------------------------------------------------------------------------------------


def suspend_for_move(ws: Workspace) -> Callable[[Project], None]:
    """What ``ukws sync`` calls before it moves a project's checkout: an applied series is reverted
    and its record set aside (:func:`resume_after_sync` applies it again). Raises when a file of the
    series was edited since, naming it (sync then leaves the project where it is)."""
    state = State(ws.state_dir)

    def suspend(p: Project) -> None:
        if p.app is None:
            return
        project_dir = ws.root / p.path
        record = state.record(p.name)
        if record is None and not state.journal_path(p.name).exists():
            return
        repo = git.open_repo(project_dir)
        roll_forward(state, repo, project=p.name, project_dir=project_dir)
        record = state.record(p.name)
        if record is None:
            return
        steps = []
        for rel, fs in sorted(record.files.items()):
            if git.worktree_blob(repo, rel) != fs.after:
                raise WorkspaceError(
                    f"{p.path}/{rel}: edited since 'ukws patch-app' applied the series; not moved (save your edit "
                    "elsewhere and run 'ukws patch-app --revert', then sync again)"
                )
            steps.append(Step(path=rel, src=fs.after, dest=fs.before, mode=fs.mode))
        run_transition(state, repo, project=p.name, project_dir=project_dir, steps=tuple(steps), record=record,
                       record_action="suspend", keep=())  # fmt: skip

    return suspend


@dataclass(frozen=True, slots=True, kw_only=True)
class Resumed:
    name: str
    path: str
    ok: bool
    message: str


def resume_after_sync(ws: Workspace, manifest: Manifest, *, checkout: bool = True) -> tuple[Resumed, ...]:
    """Apply again every series :func:`suspend_for_move` set aside (at the commit now checked out).
    In a workspace made from a snapshot, which records its applications patched, an application
    checked out at its pin with no series applied gets it (and its Makefile pointed), unless the
    sync checked nothing out (``checkout`` False)."""
    state = State(ws.state_dir)
    out: list[Resumed] = []
    snapshot = checkout and ws.config.manifest.kind is SourceKind.SNAPSHOT
    for p in manifest.projects:
        if p.app is None or git.git_dir(ws.root / p.path) is None:
            continue
        first = (
            snapshot and state.record(p.name) is None and git.head(git.open_repo(ws.root / p.path)).sha == p.revision
        )
        if not first and state.suspended(p.name) is None and not state.journal_path(p.name).exists():
            continue
        try:
            plan = _plan(ws, manifest, p, state, revert=False, dry_run=False)
            if state.suspended(p.name) is None and not (first and state.record(p.name) is None):
                continue
            _execute(state, plan, revert=False)
            what = "applied, as the snapshot records it," if first else "applied again"
            out.append(Resumed(name=p.name, path=p.path, ok=True,
                               message=f"patch series {what} at {plan.base[:12]}"))  # fmt: skip
        except UkwsError as e:
            state.suspended_path(p.name).unlink(missing_ok=True)
            out.append(Resumed(name=p.name, path=p.path, ok=False,
                               message=f"patch series not applied again: {e}; fix it, then run 'ukws patch-app'"))
    return tuple(out)


__all__ = [
    "AppResult",
    "FileChange",
    "PatchResult",
    "PatchStatus",
    "Resumed",
    "SeriesState",
    "patch_app",
    "resume_after_sync",
    "series_state",
    "suspend_for_move",
    "workspace_series",
]
