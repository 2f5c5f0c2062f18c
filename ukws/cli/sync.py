"""``ukws sync`` and ``ukws fetch``: the network stage and the checkout, with live progress on a terminal.

Reports go to stderr as plain lines, or as a live rich display on a terminal; ``--json`` prints the
result on stdout instead.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from ukws.cli import common
from ukws.cli.common import JsonOpt, ProjectsArg, fancy_output, find_workspace, user_rules

if TYPE_CHECKING:
    from ukws.build.patch import Resumed
    from ukws.git import ManifestCheckout
    from ukws.sync.engine import ProgressEvent, ProjectOutcome, SyncResult

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


def summary_lines(result: SyncResult, seconds: float, limit: int | None = SUMMARY_LIMIT) -> list[str]:
    """The closing summary: counts per action, then the projects that need attention."""
    counts: dict[str, int] = {}
    for o in result.outcomes:
        counts[str(o.action)] = counts.get(str(o.action), 0) + 1
    order = ["cloned", "fetched", "updated", "unchanged", "removed", "pruned", "skipped", "failed"]
    parts = [f"{counts[a]} {a}" for a in order if counts.get(a)]
    n = len(result.outcomes)
    lines = [f"sync: {n} project{'' if n == 1 else 's'} in {seconds:.1f}s: {', '.join(parts) or 'nothing to do'}"]
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


TimeoutOpt = Annotated[
    Optional[float],  # noqa: UP045 - typer needs Optional at runtime on 3.11
    typer.Option(
        "--timeout",
        help="Seconds a server may take to answer, or a transfer may stall (default: ukws init --timeout, else 60).",
        metavar="SECONDS",
    ),
]


def sync_cmd(
    projects: ProjectsArg = None,
    jobs: Annotated[int, typer.Option("-j", "--jobs", help="Projects at once (0: the manifest's sync-j, else 4).")] = 0,
    network_only: Annotated[
        bool,
        typer.Option(
            "-n", "--network-only", help="Fetch every branch and tag, pinned projects too; leave working trees alone."
        ),
    ] = False,
    local_only: Annotated[
        bool, typer.Option("-l", "--local-only", help="No network: check out what was fetched before.")
    ] = False,
    fail_fast: Annotated[bool, typer.Option("--fail-fast", help="Stop at the first project that fails.")] = False,
    rebase: Annotated[bool, typer.Option("--rebase", help="Rebase local commits on a branch onto the update.")] = False,
    prune: Annotated[
        bool, typer.Option("--prune", help="Delete projects the manifest dropped (only when they hold no work).")
    ] = False,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Clone, fetch and check out the workspace's projects; never loses local work."""
    outcome = common.run(
        lambda: _sync(projects, jobs, not local_only, not network_only, fail_fast, rebase, prune, timeout, as_json)
    )
    if not _finish(outcome, as_json):
        raise typer.Exit(common.EXIT_FAILURE)


def _sync(
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
    manifest = workspace.load_workspace_manifest(ws)
    if not as_json:
        from ukws.manifest.unsupported import unsupported_features

        for note in unsupported_features(manifest):
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
        )
        result = sync.sync(root=ws.root, state_dir=ws.state_dir, manifest=manifest, options=options)
    # Patch series set aside while their checkout moved are applied again (at the new commit).
    resumed = patch.resume_after_sync(ws, manifest, checkout=not network_only) if has_apps else ()
    return manifest_update, result, resumed


def _finish(
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


def fetch_cmd(
    projects: ProjectsArg = None,
    jobs: Annotated[int, typer.Option("-j", "--jobs", help="Projects at once (0: the manifest's sync-j, else 4).")] = 0,
    fail_fast: Annotated[bool, typer.Option("--fail-fast", help="Stop at the first project that fails.")] = False,
    check: Annotated[
        bool, typer.Option("--check", help="No network: list the origin archives a build would still download.")
    ] = False,
    add_origin: Annotated[
        Optional[list[Path]],  # noqa: UP045 - typer needs Optional at runtime on 3.11
        typer.Option("--add-origin", help="Put this archive into the origin cache (repeatable; no network).",
                     metavar="FILE"),
    ] = None,
    no_origins: Annotated[bool, typer.Option("--no-origins", help="Fetch git projects only.")] = False,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The network stage: fetch every branch and tag of every project (as sync -n), then every origin
    archive the application targets download during their build."""
    if add_origin:
        _add_origins(add_origin, as_json)
        return
    if check:
        _check_origins(as_json)
        return
    outcome = common.run(lambda: _sync(projects, jobs, True, False, fail_fast, False, False, timeout, as_json))
    with_origins = not no_origins and not projects
    if as_json:
        found = _fetch_origins(jobs, as_json) if with_origins else None
        ok = _finish(outcome, as_json, {"origins": found})
    else:
        ok = _finish(outcome, as_json)
        if with_origins:
            _fetch_origins(jobs, as_json)
    if not ok:
        raise typer.Exit(common.EXIT_FAILURE)


def _add_origins(files: list[Path], as_json: bool) -> None:
    from ukws.build import origins

    def go() -> list[tuple[Path, origins.Entry]]:
        ws = find_workspace()
        return [(f, origins.add_file(origins.cache_dir(ws.dot), common.resolve_dir(f))) for f in files]

    added = common.run(go)
    if as_json:
        common.emit_json([{"file": f, "entry": e} for f, e in added])
        return
    for f, e in added:
        common.info(f"origin cache: added {e.name} ({e.size} bytes, sha256 {e.sha256[:16]}) from {f}")


def _origins_context() -> Any:
    """The workspace, or None before it has a lock (origins follow the lock's build order; a
    snapshot's own build order stands in for it)."""
    from ukws.build.targets import build_orders

    ws = find_workspace()
    return ws if build_orders(ws) is not None else None


def _check_origins(as_json: bool) -> None:
    from ukws.build import origins

    def go() -> origins.OriginsResult | None:
        ws = _origins_context()
        return None if ws is None else origins.fetch_origins(ws, user_rules(), check=True)

    result = common.run(go)
    if result is None:
        common.fail("no lock yet: run 'ukws resolve' first (the build order tells which libraries download)")
    if as_json:
        common.emit_json(result)
    else:
        for t in result.targets:
            for url in t.missing:
                sys.stdout.write(f"{t.target}: {url}\n")
        if not result.missing:
            common.info(f"origin archives: every target has what it needs ({len(result.targets)} target(s))")
    if result.missing:
        raise typer.Exit(common.EXIT_FAILURE)


def _fetch_origins(jobs: int, as_json: bool) -> Any:
    """The origin pass after the git fetch: reported here, returned for --json (None: no lock yet)."""
    from ukws.build import origins

    def go() -> origins.OriginsResult | None:
        ws = _origins_context()
        if ws is None:
            return None
        with DownloadView(fancy=fancy_output() and not as_json) as view:
            return origins.fetch_origins(ws, user_rules(), jobs=jobs or 4, progress=view)

    started = time.monotonic()
    result = common.run(go)
    if result is None:
        if not as_json:
            common.info("origin archives: no lock yet; run 'ukws resolve', then 'ukws fetch' again")
        return None
    if as_json:
        return result
    for url in result.downloaded:
        common.info(f"downloaded {url}")
    count = len({n.sha256 for t in result.targets for n in t.needs})
    common.info(f"origins: {len(result.targets)} target(s) need {count} archive(s), {len(result.downloaded)} "
                f"downloaded in {time.monotonic() - started:.1f}s")
    return result


class DownloadView:
    """Download progress: one rich bar per archive on a terminal, nothing otherwise."""

    def __init__(self, *, fancy: bool) -> None:
        self.fancy = fancy
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> DownloadView:
        if self.fancy:
            from rich.console import Console
            from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

            self._progress = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                                      console=Console(stderr=True), transient=True)
            self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def __call__(self, url: str, received: int, total: int | None) -> None:
        if self._progress is None:
            return
        task = self._tasks.get(url)
        if task is None:
            task = self._tasks[url] = self._progress.add_task(url.rsplit("/", 1)[-1], total=total)
        self._progress.update(task, completed=received, total=total)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("sync")(sync_cmd)
    app.command("fetch")(fetch_cmd)
