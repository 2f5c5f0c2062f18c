"""The sync run and its report, shared by ``ukws sync`` and ``ukws fetch`` on the full command line
and by :mod:`ukws.cli.quick`: nothing here needs the CLI framework.

Reports go to stderr as plain lines, or as a live rich display on a terminal; ``--json`` prints the
result on stdout instead.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from ukws.cli import output as common
from ukws.cli.output import fancy_output, find_workspace, user_rules

TYPE_CHECKING = False  # the typing module is not loaded on the quick path
if TYPE_CHECKING:
    from typing import Any

    from ukws.build.patch import Resumed
    from ukws.git import ManifestCheckout
    from ukws.manifest.model import Manifest
    from ukws.sync.engine import ProgressEvent, ProjectOutcome, SyncResult
    from ukws.workspace import Workspace

SyncOutcome = tuple["ManifestCheckout | None", "SyncResult", "tuple[Resumed, ...]"]
"""What a sync run gives the report: the manifest repository's update, the projects', the patch series'."""


class SyncView:
    """Renders sync progress as it happens.

    On a terminal: an overall bar with the projects in flight, and above it, as they finish, the
    projects that need attention (failed, skipped, work kept, branches moved, fallback URLs: every
    outcome with a message). Elsewhere the same lines, plain. ``-v`` adds a line for every project.
    The bar is updated from the same events as the lines, under one lock, and redrawn whenever an
    event arrives, so the count never lags the lines printed above it.
    """

    def __init__(self, total: int, *, fancy: bool, console: Any = None) -> None:
        self.total = total
        self.fancy = fancy
        self.console = console
        self.done = 0
        self._lock = threading.Lock()
        self._progress: Any = None
        self._overall: Any = None
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> SyncView:
        if self.fancy:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console or Console(stderr=True),
                transient=True,
                refresh_per_second=4,  # the clock; events redraw at once
            )
            self._progress.start()
            self._overall = self._progress.add_task("sync", total=self.total)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            with self._lock:
                self._progress.stop()

    def __call__(self, event: ProgressEvent) -> None:
        with self._lock:
            if event.phase == "done" and event.outcome is not None:
                self.done += 1
                self._finished(event.outcome)
            elif self._progress is not None:
                task = self._tasks.get(event.path)
                total = event.total_objects or None
                if task is None:
                    self._tasks[event.path] = self._progress.add_task(f"  {event.path}", total=total)
                else:
                    self._progress.update(task, total=total, completed=event.received_objects)
            if self._progress is not None:
                self._progress.refresh()

    def _finished(self, outcome: ProjectOutcome) -> None:
        line = outcome_line(outcome) if shown_live(outcome, common.STATE.verbosity) else None
        if self._progress is None:
            if line is not None:
                sys.stderr.write(line + "\n")
            return
        task = self._tasks.pop(outcome.path, None)
        if task is not None:
            self._progress.remove_task(task)
        self._progress.update(self._overall, completed=self.done)
        if line is not None:
            self._progress.console.print(line, markup=False, highlight=False, soft_wrap=True)


def needs_attention(o: ProjectOutcome) -> bool:
    """Failed or skipped, or anything said about it: work kept, a branch moved, a fallback URL."""
    return o.action in ("skipped", "failed") or bool(o.message) or o.recovery_ref is not None


def shown_live(o: ProjectOutcome, verbosity: int) -> bool:
    """Whether a project's line is printed as it finishes: every project with ``-v``; those that
    need attention by default; with ``-q`` only failed and skipped ones (they are errors)."""
    if verbosity < 0:
        return o.action in ("skipped", "failed")
    return verbosity > 0 or needs_attention(o)


def _label(o: ProjectOutcome) -> str:
    return f"{o.name} ({o.path})"


def _detail(o: ProjectOutcome) -> str:
    """The outcome's message without the ``NAME (PATH):`` each of its parts starts with (the
    line already names the project)."""
    label = f"{_label(o)}: "
    return "; ".join(part.removeprefix(label) for part in o.message.split("; " + label)) if o.message else ""


def outcome_line(o: ProjectOutcome) -> str:
    """``updated   NAME (PATH) SHA: message``."""
    sha = f" {o.sha[:12]}" if o.sha else ""
    detail = _detail(o)
    return f"{o.action:<9} {_label(o)}{sha}{': ' + detail if detail else ''}"


SUMMARY_LIMIT = 20


"""Projects needing attention listed in the summary (all of them with ``-v``), to keep it to one screen."""


def count_line(counts: dict[str, int], seconds: float) -> str:
    """The summary's first line: ``sync: N projects in S s: ...`` with the count of each action."""
    order = ["cloned", "fetched", "updated", "unchanged", "removed", "pruned", "skipped", "failed"]
    parts = [f"{counts[a]} {a}" for a in order if counts.get(a)]
    n = sum(counts.values())
    return f"sync: {n} project{'' if n == 1 else 's'} in {seconds:.1f}s: {', '.join(parts) or 'nothing to do'}"


def summary_lines(result: SyncResult, seconds: float, limit: int | None = SUMMARY_LIMIT) -> list[str]:
    """The closing summary: counts per action, then the projects that need attention."""
    counts: dict[str, int] = {}
    for o in result.outcomes:
        counts[str(o.action)] = counts.get(str(o.action), 0) + 1
    lines = [count_line(counts, seconds)]
    attention: list[str] = []
    for o in result.outcomes:
        if o.action in ("skipped", "failed"):
            attention.append(f"  {o.action} {_label(o)}: {_detail(o)}")
        if o.recovery_ref:
            attention.append(f"  {_label(o)}: earlier commits kept at {o.recovery_ref}")
    if limit is not None and len(attention) > limit:
        more = len(attention) - limit
        attention = [*attention[:limit], f"  ... and {more} more (ukws -v sync lists them all)"]
    return lines + attention


def run_sync(
    projects: list[str] | None,
    jobs: int,
    fetch: bool,
    checkout: bool,
    fail_fast: bool,
    rebase: bool,
    prune: bool,
    timeout: float | None,
    as_json: bool,
) -> SyncOutcome:
    from ukws import workspace
    from ukws.errors import UsageError
    from ukws.sync import engine as sync

    network_only, local_only = not checkout, not fetch
    if network_only and local_only:
        raise UsageError("-n/--network-only and -l/--local-only cannot be combined")
    if jobs < 0:
        raise UsageError(f"-j {jobs}: must be 0 or more")
    ws = find_workspace()
    user = user_rules()
    manifest_update = None if local_only else workspace.update_manifest(ws, user, timeout=timeout)
    if manifest_update is not None and not as_json:
        _report_manifest_update(manifest_update)
    files: list[Path] = []
    started_ns = time.time_ns()  # what the run reads from here on must not change before it ends
    manifest = workspace.load_workspace_manifest(ws, files=files)
    from ukws.manifest.unsupported import unsupported_features

    notes = unsupported_features(manifest)
    if not as_json:
        for note in notes:
            common.info(f"ukws: note: {note}")
    count = len(projects) if projects else len(manifest.projects)
    # Patch series exist on applications only: without one, the patch machinery is not loaded.
    has_apps = any(p.app is not None for p in manifest.projects)
    if has_apps:
        from ukws.build import patch
    with SyncView(count, fancy=fancy_output() and not as_json) as view:
        options = workspace.sync_options(
            ws,
            user,
            jobs=jobs,
            fetch=not local_only,
            checkout=not network_only,
            fail_fast=fail_fast,
            rebase=rebase,
            prune=prune,
            only=tuple(projects or ()),
            progress=None if as_json else view,
            before_move=patch.suspend_for_move(ws) if has_apps and not network_only else None,
            timeout=timeout,
            on_noop=None if notes else _noop_recorder(ws, manifest, files, started_ns),
        )
        result = sync.sync(root=ws.root, state_dir=ws.state_dir, manifest=manifest, options=options)
    # Patch series set aside while their checkout moved are applied again (at the new commit).
    resumed = patch.resume_after_sync(ws, manifest, checkout=not network_only) if has_apps else ()
    return manifest_update, result, resumed


def _noop_recorder(
    ws: Workspace, manifest: Manifest, files: list[Path], started_ns: int
) -> Callable[[Path, Mapping[str, str]], None]:
    """What records a local sync that did nothing, so that the next one is answered from the record
    (:mod:`ukws.sync.noop`): the workspace's files the run read are part of the proof."""

    def record(sync_dir: Path, pins: Mapping[str, str]) -> None:
        from ukws.build.patchstate import JOURNAL_DIR, RECORDS_DIR, SUSPENDED_DIR
        from ukws.sync import noop
        from ukws.sync.rewrite import user_config_path

        inputs = [ws.dot, ws.config_path, ws.lock_path, ws.local_manifests_dir, *files,
                  user_config_path(os.environ),
                  *(ws.state_dir / d for d in (RECORDS_DIR, JOURNAL_DIR, SUSPENDED_DIR))]  # fmt: skip
        source = ws.config.manifest
        noop.record(sync_dir, os.environ, root=ws.root, manifest=manifest, pins=pins, inputs=inputs,
                    manifest_repository=ws.is_repo and source.url is not None, since_ns=started_ns)

    return record


def finish(
    outcome: SyncOutcome,
    as_json: bool,
    extra: dict[str, Any] | None = None,
) -> bool:
    """Report a sync (with ``extra`` in the JSON); True when it went well."""
    manifest_update, result, resumed = outcome
    manifest_ok = manifest_update is None or manifest_update.action != "failed"
    ok = result.ok and manifest_ok and all(r.ok for r in resumed)
    if as_json:
        report = {
            "manifest": manifest_update,
            "ok": ok,
            "outcomes": result.outcomes,
            "warnings": result.warnings,
            "patch_series": resumed,
        }
        common.emit_json({**report, **(extra or {})})
    else:
        for warning in result.warnings:
            common.info(f"ukws: warning: {warning}")
        for r in resumed:
            common.info(f"{'patched' if r.ok else 'ukws: warning:'} {r.name} ({r.path}): {r.message}")
        limit = None if common.STATE.verbosity > 0 else SUMMARY_LIMIT
        for line in summary_lines(result, common.elapsed(), limit):
            common.info(line)
        if not manifest_ok:
            common.info(
                "  the manifest repository could not be fetched (see above); projects follow the manifest as it was"
            )
    return ok


def _report_manifest_update(update: ManifestCheckout) -> None:
    for failure in update.failures:
        common.info(f"ukws: warning: manifest repository: {failure}; trying the next URL")
    if update.failures:
        common.info(f"manifest repository fetched from {update.url}")
    if update.action == "updated":
        common.info(f"manifest repository updated to {update.sha[:12]}")
    elif update.action in ("skipped", "failed"):
        common.info(f"ukws: warning: manifest repository not updated: {update.message}")
