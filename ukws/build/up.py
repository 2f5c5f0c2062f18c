"""``ukws up``: init, sync, resolve, patch-app, fetch and build in one command (and run, when asked).

Every stage is idempotent and quick when there is nothing to do, so resuming after an
interruption is running ``ukws up`` again: each stage carries on from what is on disk. Each stage
reports one line on success through ``say`` as it ends, and leaves a :class:`Stage` in the
:class:`UpResult`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ukws.build.make import BuildResult
from ukws.build.run import RunResult
from ukws.errors import BuildError, WorkspaceError
from ukws.sync.rewrite import Rewrite
from ukws.workspace import SourceKind, Workspace, find_root, open_workspace
from ukws.workspace_init import InitRequest

Say = Callable[[str], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Stage:
    """One stage of ``ukws up`` that ran to its end."""

    name: str
    """``init``, ``sync``, ``resolve``, ``pin``, ``patch``, ``fetch``, ``build`` or ``run``."""
    summary: str
    """What it did, in words (its line without the stage's name and time)."""
    seconds: float
    images: tuple[Path, ...] = ()
    """build: each target's image."""
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class UpResult:
    root: Path
    stages: tuple[Stage, ...] = ()
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


def _stage(name: str, summary: str, started: float, say: Say, *, timed: bool = True,
           images: tuple[Path, ...] = (), warnings: tuple[str, ...] = ()) -> Stage:
    """The stage that ends now, said in one line (``name:`` in 8 columns, then ``summary (N.Ns)``)."""
    seconds = time.monotonic() - started
    say(f"{name + ':':<8} {summary}" + (f" ({seconds:.1f}s)" if timed else ""))
    return Stage(name=name, summary=summary, seconds=round(seconds, 3), images=images, warnings=warnings)


def _init(
    root: Path, request: InitRequest, cwd: Path, user_rules: tuple[Rewrite, ...], say: Say
) -> tuple[Workspace, Stage]:
    from ukws import workspace_init

    started = time.monotonic()
    existing = find_root(root)
    if existing is not None and request.manifest is None and request.url is None:
        stage = _stage("init", f"workspace {existing} (as it is)", started, say, timed=False)
        return open_workspace(existing), stage
    if existing is not None and existing != root.resolve():
        root = existing
    result = workspace_init.init(root=root, request=request, cwd=cwd, user_rules=user_rules)
    verb = "reconfigured" if result.reinit else "created"
    ws = open_workspace(result.root)
    return ws, _stage("init", f"workspace {verb} at {result.root}: {result.source.describe()}, "
                      f"{result.project_count} projects", started, say)


def _sync(ws: Workspace, user_rules: tuple[Rewrite, ...], *, fetch: bool, jobs: int, say: Say, label: str) -> Stage:
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
    return _stage(label, f"{len(result.outcomes)} projects: {summary}", started, say)


def _resolve(ws: Workspace, say: Say) -> Stage:
    from ukws import workspace
    from ukws.resolve import plan

    started = time.monotonic()
    manifest = workspace.load_workspace_manifest(ws)
    result = plan.resolve_and_lock(root=ws.root, manifest=manifest, lock_path=ws.lock_path)
    pins = ", ".join(f"{p.name} {p.label}" for p in result.resolution.pins if p.role is not None)
    state = "written" if result.written else "unchanged"
    return _stage("resolve", f"lock {state}: {pins}", started, say)


def _fetch(ws: Workspace, user_rules: tuple[Rewrite, ...], jobs: int, say: Say) -> Stage:
    from ukws.build import origins

    started = time.monotonic()
    result = origins.fetch_origins(ws, user_rules, jobs=jobs)
    count = len({n.sha256 for t in result.targets for n in t.needs})
    got = len(result.downloaded)
    return _stage("fetch", f"{count} origin archive(s) for {len(result.targets)} target(s), {got} downloaded",
                  started, say)


def _patch(ws: Workspace, say: Say) -> Stage:
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
    warnings = tuple(f"{a.name} ({a.path}): {w}" for a in result.apps if a.action in ("applied", "updated")
                     for w in a.warnings)
    stage = _stage("patch", ', '.join(done) or 'nothing to patch', started, say, warnings=warnings)
    for warning in warnings:
        say(f"patch:   warning: {warning}")
    return stage


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
    out: BinaryIO | None = None,
    say: Say,
) -> UpResult:
    """Carry the workspace at (or around) ``root`` from nothing to a built, and with ``run`` booted, image
    (its output on ``out``, default stdout)."""
    from ukws.build import make
    from ukws.build.run import run_image

    ws, stage = _init(root, request, cwd, user_rules, say)
    stages = [stage, _sync(ws, user_rules, fetch=True, jobs=jobs, say=say, label="sync")]
    if ws.config.manifest.kind is SourceKind.SNAPSHOT:
        stages.append(_stage("resolve", "none: the snapshot pins every project and orders the libraries",
                             time.monotonic(), say, timed=False))
    else:
        stages.append(_resolve(ws, say))
        stages.append(_sync(ws, user_rules, fetch=False, jobs=jobs, say=say, label="pin"))
    # Before fetch: the application's Makefile.uk and Config.uk may come from its patches.
    stages.append(_patch(ws, say))
    stages.append(_fetch(ws, user_rules, jobs or 4, say))
    started = time.monotonic()
    # As kraft builds: make -j with one job per CPU this process may use, unless told otherwise.
    built = make.build(ws, jobs=make_jobs or _cpus(), quiet=True)
    for b in built.builds:
        if b.returncode:
            if b.missing:
                raise BuildError(f"build: {b.target}: make tried to download {b.missing[0]}; run 'ukws fetch'")
            raise BuildError(f"build: {b.failure}; last lines of {b.log}:", b.tail)
    images = ", ".join(str(i.relative_to(ws.root)) + (" (up to date)" if b.up_to_date else "")
                       for b in built.builds for i in b.images[:1])
    stages.append(_stage("build", f"{len(built.builds)} target(s): {images}", started, say,
                         images=tuple(i for b in built.builds for i in b.images[:1])))
    if not run:
        return UpResult(root=ws.root, stages=tuple(stages), build=built)
    from ukws.build.targets import context

    first = context(ws).targets[0]
    started = time.monotonic()
    say(f"run:     {first.key}")
    ran = run_image(first, timeout=timeout, out=out, say=say)
    if ran.xl_config:
        say(ran.xl_config.rstrip())
    # Said before the guest starts (its output follows); recorded when it has stopped.
    if ran.xl_config:
        did = "xl configuration given (ukws does not boot Xen images)"
    else:
        did = f"booted ({ran.how}), " + ("stopped by --timeout" if ran.timed_out else f"exit status {ran.returncode}")
    stages.append(Stage(name="run", summary=f"{first.key}: {did}",
                        seconds=round(time.monotonic() - started, 3), images=(ran.image,)))
    return UpResult(root=ws.root, stages=tuple(stages), build=built, run=ran)
