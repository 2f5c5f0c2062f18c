"""Workspace commands: ``init``, ``sync``, ``status``, ``diff``, ``forall``, ``info``.

Every command but ``init`` works from any folder inside the workspace (or the one ``-C`` names).
Reports go to stderr as plain lines, or as a live rich display on a terminal; ``--json`` prints
the command's result on stdout instead.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from ukws.cli import common
from ukws.cli.common import JsonOpt

if TYPE_CHECKING:
    from ukws.git import ManifestCheckout
    from ukws.sync.engine import ProgressEvent, ProjectOutcome, SyncResult
    from ukws.sync.rewrite import Rewrite
    from ukws.workspace import Workspace

ProjectsArg = Annotated[
    Optional[list[str]],  # noqa: UP045 - typer needs Optional at runtime on 3.11
    typer.Argument(help="Project names or paths (default: every selected project).", metavar="PROJECT..."),
]


def _user_rules() -> tuple[Rewrite, ...]:
    from ukws import workspace

    return workspace.read_user_rewrites(workspace.user_config_path(os.environ))


def _workspace() -> Workspace:
    from ukws import workspace

    return workspace.find_workspace(common.STATE.cwd)


def fancy_output() -> bool:
    """A live display only on a terminal, outside CI, and unless ``-q``."""
    if common.STATE.verbosity < 0 or common.env_flag("CI") or os.environ.get("TERM") == "dumb":
        return False
    return sys.stderr.isatty()


# -- init ----------------------------------------------------------------------------------------


def init_cmd(
    directory: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Argument(help="The workspace folder (default: the workspace around you, else here).", metavar="DIR"),
    ] = None,
    manifest: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "-m",
            "--manifest",
            help="Without -u: a shipped manifest name or a manifest file. With -u: a file in the repository "
            "(default default.xml).",
            metavar="NAME",
        ),
    ] = None,
    url: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "-u", "--manifest-url", help="Clone this manifest repository into .ukws/manifests.", metavar="URL"
        ),
    ] = None,
    revision: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "-b", "--manifest-branch", help="Branch, tag or commit of the manifest repository.", metavar="REV"
        ),
    ] = None,
    groups: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("-g", "--groups", help="Group selection, e.g. 'default,-notdefault,tools'.", metavar="GROUPS"),
    ] = None,
    depth: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("--depth", help="Clone with this much history (0: full history).", metavar="N"),
    ] = None,
    reference: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--reference", help="Borrow objects from this mirror workspace.", metavar="DIR"),
    ] = None,
    mirror: Annotated[
        Optional[bool],  # noqa: UP045
        typer.Option("--mirror/--no-mirror", help="Hold bare mirrors of every project (set at first init)."),
    ] = None,
    rewrite: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            "--rewrite",
            help="PREFIX=REPLACEMENT: fetch URLs starting with PREFIX from REPLACEMENT (repeatable; rules for "
            "one prefix are fallback mirrors, in order). Replaces the workspace's rules.",
            metavar="PREFIX=URL",
        ),
    ] = None,
    no_rewrites: Annotated[bool, typer.Option("--no-rewrites", help="Remove the workspace's rewrite rules.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create a workspace, or switch the one you are in to another manifest."""
    from ukws import workspace
    from ukws.errors import UsageError
    from ukws.sync.rewrite import parse_rule

    def go() -> workspace.InitResult:
        if rewrite and no_rewrites:
            raise UsageError("--rewrite and --no-rewrites cannot be combined")
        rules = tuple(parse_rule(r) for r in rewrite) if rewrite else (() if no_rewrites else None)
        if directory is not None:
            root = common.resolve_dir(directory)
        else:
            root = workspace.find_root(common.STATE.cwd) or common.STATE.cwd
        request = workspace.InitRequest(
            manifest=manifest,
            url=url,
            revision=revision,
            groups=groups,
            depth=depth,
            reference=reference,
            mirror=mirror,
            rewrites=rules,
        )
        return workspace.init(root=root, request=request, cwd=common.STATE.cwd, user_rules=_user_rules())

    result = common.run(go)
    if as_json:
        common.emit_json(result)
        return
    for failure in result.url_failures:
        common.info(f"warning: {failure}; trying the next URL")
    if result.url_failures:
        common.info(f"manifest repository fetched from {result.url_used}")
    verb = "switched" if result.reinit and result.manifest_changed else "reconfigured" if result.reinit else "created"
    at = f" at {result.manifest_sha[:12]}" if result.manifest_sha else ""
    common.info(
        f"workspace {verb}: {result.root}\n"
        f"manifest: {result.source.describe()}{at} ({result.project_count} projects selected, groups "
        f"{result.config.groups})"
    )
    if result.lock_set_aside is not None:
        common.info(f"the lock pinned the previous manifest's projects; kept as {result.lock_set_aside}")
    here = common.STATE.cwd.resolve()
    inside = here == result.root or result.root in here.parents
    common.info("next: ukws sync" if inside else f"next: cd {_shown(result.root, here)} && ukws sync")


def _shown(path: Path, cwd: Path) -> str:
    """``path`` relative to ``cwd`` when it is below it, else absolute."""
    try:
        return str(path.relative_to(cwd))
    except ValueError:
        return str(path)


# -- sync ----------------------------------------------------------------------------------------


class SyncView:
    """Renders sync progress: a rich overall bar with the projects in flight, or plain lines."""

    def __init__(self, total: int, *, fancy: bool, console: Any = None) -> None:
        self.total = total
        self.fancy = fancy
        self.console = console
        self.done = 0
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
            )
            self._progress.start()
            self._overall = self._progress.add_task("sync", total=self.total)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def __call__(self, event: ProgressEvent) -> None:
        if event.phase == "done" and event.outcome is not None:
            self.done += 1
            self._finished(event.outcome)
            return
        if self._progress is None:
            return
        task = self._tasks.get(event.path)
        total = event.total_objects or None
        if task is None:
            self._tasks[event.path] = self._progress.add_task(f"  {event.path}", total=total)
        else:
            self._progress.update(task, total=total, completed=event.received_objects)

    def _finished(self, outcome: ProjectOutcome) -> None:
        line = outcome_line(outcome)
        show = outcome.action != "unchanged" or bool(outcome.message) or common.STATE.verbosity > 0
        if self._progress is not None:
            task = self._tasks.pop(outcome.path, None)
            if task is not None:
                self._progress.remove_task(task)
            self._progress.advance(self._overall)
            if show and common.STATE.verbosity >= 0:
                self._progress.console.print(line, markup=False, highlight=False)
        elif show:
            common.info(line)


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
    lines = [f"sync: {len(result.outcomes)} projects in {seconds:.1f}s: {', '.join(parts) or 'nothing to do'}"]
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
    as_json: JsonOpt = False,
) -> None:
    """Clone, fetch and check out the workspace's projects; never loses local work."""
    from ukws import workspace
    from ukws.errors import UsageError
    from ukws.sync import engine as sync

    started = time.monotonic()

    def go() -> tuple[ManifestCheckout | None, SyncResult]:
        if network_only and local_only:
            raise UsageError("-n/--network-only and -l/--local-only cannot be combined")
        if jobs < 0:
            raise UsageError(f"-j {jobs}: must be 0 or more")
        ws = _workspace()
        user = _user_rules()
        manifest_update = None if local_only else workspace.update_manifest(ws, user)
        if manifest_update is not None and not as_json:
            _report_manifest_update(manifest_update)
        manifest = workspace.load_workspace_manifest(ws)
        if not as_json:
            from ukws.manifest.unsupported import unsupported_features

            for note in unsupported_features(manifest):
                common.info(f"ukws: note: {note}")
        count = len(projects) if projects else len(manifest.projects)
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
            )
            result = sync.sync(root=ws.root, state_dir=ws.state_dir, manifest=manifest, options=options)
        return manifest_update, result

    manifest_update, result = common.run(go)
    manifest_ok = manifest_update is None or manifest_update.action != "failed"
    if as_json:
        common.emit_json({"manifest": manifest_update, "ok": result.ok and manifest_ok, "outcomes": result.outcomes})
    else:
        limit = None if common.STATE.verbosity > 0 else SUMMARY_LIMIT
        for line in summary_lines(result, time.monotonic() - started, limit):
            common.info(line)
        if not manifest_ok:
            common.info(
                "  the manifest repository could not be fetched (see above); projects follow the manifest as it was"
            )
    if not (result.ok and manifest_ok):
        raise typer.Exit(common.EXIT_FAILURE)


def _report_manifest_update(update: ManifestCheckout) -> None:
    for failure in update.failures:
        common.info(f"warning: manifest repository: {failure}; trying the next URL")
    if update.failures:
        common.info(f"manifest repository fetched from {update.url}")
    if update.action == "updated":
        common.info(f"manifest repository updated to {update.sha[:12]}")
    elif update.action in ("skipped", "failed"):
        common.info(f"warning: manifest repository not updated: {update.message}")


# -- status, diff --------------------------------------------------------------------------------


def status_cmd(projects: ProjectsArg = None, as_json: JsonOpt = False) -> None:
    """Show each project's checkout: branch, commit, ahead/behind, local changes, pin."""
    from ukws import status, workspace

    def go() -> tuple[Any, ...]:
        ws = _workspace()
        manifest = _only(workspace.load_workspace_manifest(ws), projects)
        return status.project_status(root=ws.root, manifest=manifest, pins=workspace.read_pins(ws))

    rows = common.run(go)
    if as_json:
        common.emit_json(rows)
        return
    width = max((len(r.path) for r in rows), default=0)
    for r in rows:
        sys.stdout.write(f"{r.path:<{width}}  {status_text(r)}\n")


def status_text(r: Any) -> str:
    """One project's status in a few words."""
    if r.error:
        return f"error: {r.error}"
    if not r.synced:
        return "not synced"
    where = f"on {r.branch}" if r.branch else "detached"
    words = [f"{where} at {(r.head_sha or '')[:12]}"]
    if r.ahead or r.behind:
        words.append(f"ahead {r.ahead}, behind {r.behind}")
    if r.pin_sha and not r.at_pin:
        words.append(f"not at {r.pin_sha[:12]} (its {'pin' if r.revision == r.pin_sha else r.revision})")
    if r.dirty:
        words.append("local changes")
    if r.untracked:
        words.append("untracked files")
    return "; ".join(words)


def diff_cmd(projects: ProjectsArg = None, as_json: JsonOpt = False) -> None:
    """Show uncommitted changes of every project, as patches with paths from the workspace root."""
    from ukws import status, workspace

    def go() -> tuple[Any, ...]:
        ws = _workspace()
        manifest = _only(workspace.load_workspace_manifest(ws), projects)
        return status.project_diff(root=ws.root, manifest=manifest)

    diffs = common.run(go)
    if as_json:
        common.emit_json(diffs)
        return
    for d in diffs:
        if d.patch:
            sys.stdout.write(f"project {d.path}/\n{d.patch}")
            if not d.patch.endswith("\n"):
                sys.stdout.write("\n")


def _only(manifest: Any, projects: list[str] | None) -> Any:
    """The manifest restricted to the named projects (names or paths)."""
    if not projects:
        return manifest
    from dataclasses import replace

    from ukws.errors import UsageError

    wanted = set(projects)
    known = {p.name for p in manifest.projects} | {p.path for p in manifest.projects}
    unknown = sorted(wanted - known)
    if unknown:
        raise UsageError(f"no project named {unknown[0]!r} in the workspace's manifest (see 'ukws list')")
    return replace(manifest, projects=tuple(p for p in manifest.projects if p.name in wanted or p.path in wanted))


# -- forall --------------------------------------------------------------------------------------


def forall_cmd(
    projects: ProjectsArg = None,
    command: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("-c", "--command", help="Shell command to run in each project (sh -c).", metavar="CMD"),
    ] = None,
    groups: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("-g", "--groups", help="Only projects these group selectors pick.", metavar="GROUPS"),
    ] = None,
    header: Annotated[bool, typer.Option("-p", help="Print a 'project PATH/' header before each output.")] = False,
    jobs: Annotated[int, typer.Option("-j", "--jobs", help="Commands at once (output is collected).")] = 1,
    abort_on_errors: Annotated[
        bool, typer.Option("-e", "--abort-on-errors", help="Start no command after one failed.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Run a shell command in every synced project, with UKWS_* and REPO_* variables set."""
    from ukws import forall, git, workspace
    from ukws.errors import UsageError

    def report(run: forall.ForallRun) -> None:
        if as_json:
            return
        if run.skipped:
            common.debug(f"skipping {run.path}: {run.skipped}")
            return
        if run.output is not None:
            if header and run.output:
                sys.stdout.write(f"project {run.path}/\n")
            sys.stdout.write(run.output)
            sys.stdout.flush()
        if run.returncode:
            common.err(f"{run.path}: command exited with {run.returncode}")

    def go() -> forall.ForallResult:
        if not command:
            raise UsageError("forall needs -c CMD")
        if jobs < 1:
            raise UsageError(f"-j {jobs}: must be 1 or more")
        ws = _workspace()
        manifest = _only(workspace.load_workspace_manifest(ws, groups=groups), projects)
        heads = {p.path: git.checked_out_commit(ws.root / p.path) for p in manifest.projects}
        sys.stdout.flush()
        return forall.forall(
            root=ws.root,
            projects=manifest.projects,
            command=command,
            heads=heads,
            base_env=os.environ,
            pins=workspace.read_pins(ws),
            jobs=jobs,
            capture=header or as_json,
            abort_on_error=abort_on_errors,
            report=report,
        )

    result = common.run(go)
    if as_json:
        common.emit_json(result.runs)
    if not result.ok:
        raise typer.Exit(common.EXIT_FAILURE)


# -- info ----------------------------------------------------------------------------------------


def info_cmd(as_json: JsonOpt = False) -> None:
    """Show the workspace: root, manifest source, settings, rewrite rules, lock."""
    from ukws import workspace

    info = common.run(lambda: workspace.workspace_info(_workspace(), _user_rules()))
    if as_json:
        common.emit_json(info)
        return
    out = sys.stdout.write
    out(f"workspace:       {info.root}\n")
    out(f"manifest:        {info.manifest.describe()}\n")
    out(f"manifest file:   {info.manifest_file}\n")
    if info.manifest_sha:
        on = f" on {info.manifest_branch}" if info.manifest_branch else " (detached)"
        out(f"manifest commit: {info.manifest_sha[:12]}{on}\n")
    if info.manifest_error:
        out(f"manifest error:  {info.manifest_error}\n")
    else:
        out(f"projects:        {info.projects} selected of {info.projects_total}\n")
    out(f"groups:          {info.groups}\n")
    out(f"depth:           {info.depth or 'full history'}\n")
    out(f"mirror:          {'yes' if info.mirror else 'no'}\n")
    if info.reference:
        out(f"reference:       {info.reference}\n")
    for r in info.rewrites:
        out(f"rewrite:         {r} ({r.origin})\n")
    if info.local_manifests:
        out(f"local manifests: {', '.join(info.local_manifests)}\n")
    out(f"lock:            {info.lock or 'none'}\n")


def fetch_cmd(
    projects: ProjectsArg = None,
    jobs: Annotated[int, typer.Option("-j", "--jobs", help="Projects at once (0: the manifest's sync-j, else 4).")] = 0,
    fail_fast: Annotated[bool, typer.Option("--fail-fast", help="Stop at the first project that fails.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """The network stage alone: fetch every branch and tag of every project (same as sync -n)."""
    sync_cmd(projects=projects, jobs=jobs, network_only=True, local_only=False, fail_fast=fail_fast, rebase=False,
             prune=False, as_json=as_json)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("init")(init_cmd)
    app.command("sync")(sync_cmd)
    app.command("fetch")(fetch_cmd)
    app.command("status")(status_cmd)
    app.command("diff")(diff_cmd)
    app.command("forall")(forall_cmd)
    app.command("info")(info_cmd)
