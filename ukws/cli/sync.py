"""``ukws sync`` and ``ukws fetch``: the network stage and the checkout, with live progress on a
terminal (the run and its report are :mod:`ukws.cli.syncrun`'s)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ukws.cli import common
from ukws.cli.common import JsonOpt, ProjectsArg, fancy_output, find_workspace, user_rules
from ukws.cli.syncrun import SyncView, finish, run_sync, summary_lines

__all__ = ["SyncView", "fetch_cmd", "register", "summary_lines", "sync_cmd"]

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
        lambda: run_sync(projects, jobs, not local_only, not network_only, fail_fast, rebase, prune, timeout, as_json)
    )
    if not finish(outcome, as_json):
        raise typer.Exit(common.EXIT_FAILURE)


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
    outcome = common.run(lambda: run_sync(projects, jobs, True, False, fail_fast, False, False, timeout, as_json))
    with_origins = not no_origins and not projects
    if as_json:
        found = _fetch_origins(jobs, as_json) if with_origins else None
        ok = finish(outcome, as_json, {"origins": found})
    else:
        ok = finish(outcome, as_json)
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
