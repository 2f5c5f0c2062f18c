"""Version resolution commands: ``resolve`` (write the lock, ``--update``, ``--why``) and ``graph``.

Both work on the workspace around the current directory (projects at their paths, lock at
``.ukws/lock.xml``), or with ``-m FILE`` on that manifest over the projects under ``-C DIR``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from ukws.cli import common
from ukws.cli.common import JsonOpt

if TYPE_CHECKING:
    from ukws.manifest.model import Manifest
    from ukws.resolve.plan import LockResult, Why

ManifestOpt = Annotated[
    Optional[str],  # noqa: UP045 - typer needs Optional at runtime on 3.11
    typer.Option(
        "-m",
        "--manifest",
        help="Resolve this manifest over the projects under -C DIR instead of the workspace's.",
        metavar="FILE",
    ),
]
LockOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option("--lock", help="The lock file (default: the workspace's .ukws/lock.xml).", metavar="FILE"),
]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Target:
    root: Path
    manifest: Manifest
    lock_path: Path | None
    """None with -m and no --lock: another manifest never reads or writes the workspace's lock."""


def _target(manifest: str | None, lock: Path | None) -> _Target:
    from ukws.cli.listrun import load_manifest

    if manifest is not None:
        m = load_manifest(manifest)
        from ukws import workspace
        from ukws.errors import WorkspaceError

        try:
            root = workspace.find_workspace(common.STATE.cwd).root
        except WorkspaceError:  # outside a workspace, the projects are under -C DIR
            root = common.STATE.cwd
        default_lock: Path | None = None
    else:
        from ukws import workspace

        ws = workspace.find_workspace(common.STATE.cwd)
        # The projects of the groups the workspace selected: the others are not synced.
        m = workspace.load_workspace_manifest(ws)
        root, default_lock = ws.root, ws.lock_path
    return _Target(
        root=root, manifest=m, lock_path=common.resolve_dir(lock) if lock is not None else default_lock
    )


def _warn(lines: tuple[str, ...], notes: tuple[str, ...] = ()) -> None:
    for line in lines:
        common.info(f"ukws: warning: {line}")
    for line in notes:
        common.debug(f"ukws: note: {line}")


def resolve_cmd(
    projects: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Argument(help="With --update: the projects to move (default: all).", metavar="PROJECT..."),
    ] = None,
    update: Annotated[
        bool,
        typer.Option("--update", help="Move the named projects (or all) to the newest versions that fit."),
    ] = False,
    why_project: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--why", help="List every constraint on PROJECT and where it came from.", metavar="PROJECT"
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Resolve and report, but do not write the lock.")
    ] = False,
    manifest: ManifestOpt = None,
    lock: LockOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Choose versions that work together, order each application's libraries (L=), and write the lock."""
    from ukws.errors import UsageError

    names = tuple(projects or ())

    def work() -> LockResult | Why:
        from ukws.resolve import plan as resolution

        if names and not update:
            raise UsageError("projects are named only with --update (ukws resolve --update PROJECT...)")
        t = _target(manifest, lock)
        result = resolution.resolve_and_lock(
            root=t.root,
            manifest=t.manifest,
            lock_path=t.lock_path,
            update=names,
            update_all=update and not names,
            write=not dry_run and why_project is None,
        )
        if why_project is not None:
            return resolution.why(result.resolution, why_project)
        return result

    out = common.run(work)
    from ukws.resolve.plan import LockResult

    if isinstance(out, LockResult):
        _render_lock(out, as_json=as_json, dry_run=dry_run)
    else:
        _render_why(out, as_json=as_json)


def _render_lock(result: LockResult, *, as_json: bool, dry_run: bool) -> None:
    res = result.resolution
    if as_json:
        common.emit_json(
            {
                "lock": str(result.lock_path) if result.lock_path is not None else None,
                "written": result.written,
                "projects": res.pins,
                "builds": [{"app": b.app, "libraries": b.paths, "unused": b.unused} for b in res.builds],
                "warnings": res.warnings,
                "notes": res.notes,
            }
        )
        return
    _warn(res.warnings, res.notes)
    width = max((len(p.name) for p in res.pins), default=0)
    for p in res.pins:
        moved = f"  (was {p.previous_version or p.previous[:12]})" if p.previous else ""
        sys.stdout.write(f"{p.name:<{width}}  {p.label:<16} {p.commit[:12]}{moved}\n")
    for b in res.builds:
        sys.stdout.write(f"L= for {b.app}: {':'.join(b.paths) if b.paths else '(no libraries)'}\n")
    if result.lock_path is None:
        common.info("no lock written: with -m, name the lock file with --lock FILE")
    elif dry_run:
        common.info("dry run: the lock was not written")
    elif result.written:
        common.info(f"wrote {result.lock_path}")
    else:
        common.info(f"{result.lock_path} is up to date")


def _render_why(w: Why, *, as_json: bool) -> None:
    if as_json:
        common.emit_json(w)
        return
    sys.stdout.write(f"{w.project}: {w.chosen} ({w.commit[:12]})\n")
    if not w.reasons:
        sys.stdout.write("  no constraints: the newest release was chosen\n")
    for r in w.reasons:
        sys.stdout.write(f"  {r.constraint}  <- {r.origin}\n")
    for line in w.needed_by:
        sys.stdout.write(f"  needed by {line}\n")


def graph_cmd(
    fmt: Annotated[
        str, typer.Option("--format", help="text, dot (Graphviz) or json.", metavar="FORMAT")
    ] = "text",
    manifest: ManifestOpt = None,
    lock: LockOpt = None,
) -> None:
    """Show core, libraries and applications with their versions and the Kconfig symbols that tie them."""
    from ukws.errors import UsageError

    def work() -> str:
        if fmt not in ("text", "dot", "json"):
            raise UsageError(f"--format {fmt}: expected text, dot or json")
        from ukws.resolve import graph
        from ukws.resolve import plan as resolution

        t = _target(manifest, lock)
        result = resolution.resolve_and_lock(
            root=t.root, manifest=t.manifest, lock_path=t.lock_path, write=False
        )
        _warn(result.resolution.warnings, result.resolution.notes)
        g = graph.build_graph(result.resolution)
        if fmt == "dot":
            return graph.render_dot(g)
        if fmt == "json":
            return graph.render_json(g)
        return graph.render_text(g)

    sys.stdout.write(common.run(work))


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("resolve")(resolve_cmd)
    app.command("graph")(graph_cmd)
