"""``ukws up``: init, sync, resolve, patch-app, fetch and build in one command (and run, when asked).

Every stage is idempotent and quick when there is nothing to do, so resuming after an
interruption is running ``ukws up`` again: each stage carries on from what is on disk. Each stage
reports one line on success through ``say``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ukws.build.make import BuildResult
from ukws.build.run import RunResult
from ukws.errors import BuildError, WorkspaceError
from ukws.sync.rewrite import Rewrite
from ukws.workspace import SourceKind, Workspace, find_root, open_workspace
from ukws.workspace_init import InitRequest

Say = Callable[[str], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class UpResult:
    root: Path
    build: BuildResult | None = None
    run: RunResult | None = None

    @property
    def returncode(self) -> int:
        if self.build is not None and self.build.returncode:
            return self.build.returncode
        return self.run.returncode if self.run is not None else 0


def _cpus() -> int:
    """The CPUs this process may run on (all of them where the system cannot say)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _took(started: float) -> str:
    return f"{time.monotonic() - started:.1f}s"


def _init(root: Path, request: InitRequest, cwd: Path, user_rules: tuple[Rewrite, ...], say: Say) -> Workspace:
    from ukws import workspace_init

    started = time.monotonic()
    existing = find_root(root)
    if existing is not None and request.manifest is None and request.url is None:
        say(f"init:    workspace {existing} (as it is)")
        return open_workspace(existing)
    if existing is not None and existing != root.resolve():
        root = existing
    result = workspace_init.init(root=root, request=request, cwd=cwd, user_rules=user_rules)
    verb = "reconfigured" if result.reinit else "created"
    say(f"init:    workspace {verb} at {result.root}: {result.source.describe()}, "
        f"{result.project_count} projects ({_took(started)})")
    return open_workspace(result.root)


def _sync(ws: Workspace, user_rules: tuple[Rewrite, ...], *, fetch: bool, jobs: int, say: Say, label: str) -> None:
    from ukws import workspace
    from ukws.build import patch
    from ukws.sync import engine

    started = time.monotonic()
    if fetch:
        workspace.update_manifest(ws, user_rules)
    manifest = workspace.load_workspace_manifest(ws)
    options = workspace.sync_options(ws, user_rules, jobs=jobs, fetch=fetch, before_move=patch.suspend_for_move(ws))
    result = engine.sync(root=ws.root, state_dir=ws.state_dir, manifest=manifest, options=options)
    resumed = patch.resume_after_sync(ws, manifest)
    bad = [o for o in result.outcomes if o.action in ("skipped", "failed")]
    failed = [f"{r.name} ({r.path}): {r.message}" for r in resumed if not r.ok]
    if bad or failed:
        lines = [f"{o.name} ({o.path}): {o.action}: {o.message}" for o in bad] + failed
        raise WorkspaceError(f"{label}: " + "; ".join(lines) + "; see 'ukws status', then run 'ukws up' again")
    counts: dict[str, int] = {}
    for o in result.outcomes:
        counts[str(o.action)] = counts.get(str(o.action), 0) + 1
    summary = ", ".join(f"{n} {a}" for a, n in sorted(counts.items()))
    say(f"{label + ':':<8} {len(result.outcomes)} projects: {summary} ({_took(started)})")


def _resolve(ws: Workspace, say: Say) -> None:
    from ukws import workspace
    from ukws.resolve import plan

    started = time.monotonic()
    manifest = workspace.load_workspace_manifest(ws)
    result = plan.resolve_and_lock(root=ws.root, manifest=manifest, lock_path=ws.lock_path)
    pins = ", ".join(f"{p.name} {p.label}" for p in result.resolution.pins if p.role is not None)
    state = "written" if result.written else "unchanged"
    say(f"resolve: lock {state}: {pins} ({_took(started)})")


def _fetch(ws: Workspace, user_rules: tuple[Rewrite, ...], jobs: int, say: Say) -> None:
    from ukws.build import origins

    started = time.monotonic()
    result = origins.fetch_origins(ws, user_rules, jobs=jobs)
    count = len({n.sha256 for t in result.targets for n in t.needs})
    got = len(result.downloaded)
    say(f"fetch:   {count} origin archive(s) for {len(result.targets)} target(s), {got} downloaded "
        f"({_took(started)})")


def _patch(ws: Workspace, say: Say) -> None:
    from ukws.build.patch import patch_app

    started = time.monotonic()
    result = patch_app(ws)
    done: list[str] = []
    for a in result.apps:
        count = f"{len(a.patches)} patch{'es' if len(a.patches) != 1 else ''}"
        if a.action in ("applied", "updated"):
            done.append(f"{a.name}: {count} {a.action}" if a.patches else f"{a.name}: Makefile pointed")
        elif a.patches:
            done.append(f"{a.name}: {count} already applied")
        elif a.applied:
            done.append(f"{a.name}: Makefile already pointed")
    say(f"patch:   {', '.join(done) or 'nothing to patch'} ({_took(started)})")
    for a in result.apps:
        if a.action in ("applied", "updated"):
            for warning in a.warnings:
                say(f"patch:   warning: {a.name} ({a.path}): {warning}")


def up(
    *,
    root: Path,
    request: InitRequest,
    cwd: Path,
    user_rules: tuple[Rewrite, ...] = (),
    run: bool = False,
    jobs: int = 0,
    make_jobs: int | None = None,
    timeout: float | None = None,
    say: Say,
) -> UpResult:
    """Carry the workspace at (or around) ``root`` from nothing to a built, and with ``run`` booted, image."""
    from ukws.build import make
    from ukws.build.run import run_image

    ws = _init(root, request, cwd, user_rules, say)
    _sync(ws, user_rules, fetch=True, jobs=jobs, say=say, label="sync")
    if ws.config.manifest.kind is SourceKind.SNAPSHOT:
        say("resolve: none: the snapshot pins every project and orders the libraries")
    else:
        _resolve(ws, say)
        _sync(ws, user_rules, fetch=False, jobs=jobs, say=say, label="pin")
    _patch(ws, say)  # before fetch: the application's Makefile.uk and Config.uk may come from its patches
    _fetch(ws, user_rules, jobs or 4, say)
    started = time.monotonic()
    # As kraft builds: make -j with one job per CPU this process may use, unless told otherwise.
    built = make.build(ws, jobs=make_jobs or _cpus(), quiet=True)
    for b in built.builds:
        if b.returncode:
            if b.missing:
                raise BuildError(f"build: {b.target}: make tried to download {b.missing[0]}; run 'ukws fetch'")
            raise BuildError(f"build: {b.target}: make failed (exit status {b.returncode}); last lines of {b.log}:",
                             b.tail)
    images = ", ".join(str(i.relative_to(ws.root)) + (" (up to date)" if b.up_to_date else "")
                       for b in built.builds for i in b.images[:1])
    say(f"build:   {len(built.builds)} target(s): {images} ({_took(started)})")
    if not run:
        return UpResult(root=ws.root, build=built)
    from ukws.build.targets import context

    first = context(ws).targets[0]
    say(f"run:     {first.key}")
    ran = run_image(first, timeout=timeout, say=say)
    if ran.xl_config:
        say(ran.xl_config.rstrip())
    return UpResult(root=ws.root, build=built, run=ran)
