"""Release snapshot commands: ``snapshot``, ``verify``, ``diff-snapshots``. See docs/snapshot.md."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from ukws.cli import common
from ukws.cli.common import JsonOpt

if TYPE_CHECKING:
    from ukws.snapshot.release import SnapshotResult
    from ukws.snapshot.verify import ProjectChange, SnapshotDiff, VerifyResult


def _source_date_epoch() -> int | None:
    from ukws.errors import UsageError

    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise UsageError(f"SOURCE_DATE_EPOCH={value}: expected a number of seconds since 1970-01-01 UTC")
    return int(value)


def snapshot_cmd(
    output: Annotated[
        Optional[Path],  # noqa: UP045 - typer needs Optional at runtime on 3.11
        typer.Option("-o", "--output", help="Write the snapshot manifest to FILE (default: stdout).", metavar="FILE"),
    ] = None,
    archive: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--archive", help="Also write the release's source archive (.tar.gz).", metavar="FILE"),
    ] = None,
    with_origins: Annotated[
        bool, typer.Option("--with-origins", help="Put the libraries' origin archives into the archive too.")
    ] = False,
    allow_dirty: Annotated[
        bool,
        typer.Option("--allow-dirty", help="Record what can be recorded and say what was recorded instead."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Write a snapshot that rebuilds this release: every project at its commit, patches, origins."""
    from ukws import __version__

    def go() -> SnapshotResult:
        from ukws import workspace
        from ukws.snapshot.release import make_snapshot

        ws = workspace.find_workspace(common.STATE.cwd)
        return make_snapshot(
            ws,
            output=common.resolve_dir(output) if output is not None else None,
            archive=common.resolve_dir(archive) if archive is not None else None,
            with_origins=with_origins,
            allow_dirty=allow_dirty,
            source_date_epoch=_source_date_epoch(),
            ukws_version=__version__,
        )

    result = common.run(go)
    if as_json:
        a = result.archive
        common.emit_json({
            "snapshot": str(result.snapshot_path) if result.snapshot_path else None,
            "written": result.written,
            "projects": result.projects,
            "caveats": result.caveats,
            "archive": None if a is None else {
                "path": str(a.path), "sha256": a.sha256, "size": a.size, "members": a.members, "mtime": a.mtime,
            },
        })  # fmt: skip
        return
    for line in result.caveats:
        common.err(f"warning: {line}")
    if result.snapshot_path is None:
        sys.stdout.buffer.write(result.snapshot_bytes)
        sys.stdout.flush()
    elif result.written:
        common.info(f"wrote {result.snapshot_path} ({result.projects} projects)")
    else:
        common.info(f"{result.snapshot_path} is up to date ({result.projects} projects)")
    if result.archive is not None:
        a = result.archive
        common.info(f"wrote {a.path}: {a.members} members, {a.size} bytes, sha256 {a.sha256}")


def verify_cmd(
    snapshot: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Argument(help="The snapshot (default: the workspace's manifest, when it is one).", metavar="SNAPSHOT"),
    ] = None,
    archive: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--archive", help="Check this archive instead of the workspace.", metavar="FILE"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List every difference between the workspace (or an archive) and a snapshot; exit 1 on any."""

    def go() -> VerifyResult:
        from ukws import workspace
        from ukws.snapshot import verify

        ws = workspace.find_workspace(common.STATE.cwd)
        path = common.resolve_dir(snapshot) if snapshot is not None else ws.manifest_path
        if archive is not None:
            return verify.verify_archive(ws, path, common.resolve_dir(archive))
        return verify.verify_workspace(ws, path)

    result = common.run(go)
    if as_json:
        common.emit_json({
            "snapshot": str(result.snapshot), "checked": result.checked, "ok": result.ok,
            "differences": result.differences,
        })  # fmt: skip
    else:
        for d in result.differences:
            sys.stdout.write(f"{d}\n")
        what = "the workspace" if result.checked == "workspace" else result.checked
        if result.ok:
            common.info(f"{what} matches {result.snapshot}")
        else:
            common.info(f"{what}: {len(result.differences)} difference(s) from {result.snapshot}")
    if not result.ok:
        raise typer.Exit(common.EXIT_FAILURE)


def _change_lines(c: ProjectChange) -> list[str]:
    old = f"{c.old[:12]}" + (f" ({c.old_version})" if c.old_version else "") if c.old else ""
    new = f"{c.new[:12]}" + (f" ({c.new_version})" if c.new_version else "") if c.new else ""
    moved = f", moved from {c.moved_from}" if c.moved_from else ""
    lines = [f"  {c.name} ({c.path}): {old} -> {new}{moved}"]
    if c.added is None:
        lines.append("    (commits not listed: the workspace does not hold both commits)")
        return lines
    lines.extend(f"    + {x.sha[:12]} {x.subject}" for x in c.added)
    lines.extend(f"    - {x.sha[:12]} {x.subject}" for x in c.dropped or ())
    return lines


def diff_snapshots_cmd(
    a: Annotated[Path, typer.Argument(help="The first snapshot.", metavar="A")],
    b: Annotated[Path, typer.Argument(help="The second snapshot.", metavar="B")],
    as_json: JsonOpt = False,
) -> None:
    """Projects added, removed and changed from snapshot A to B, with the commits between pins."""

    def go() -> SnapshotDiff:
        from ukws import workspace
        from ukws.errors import WorkspaceError
        from ukws.snapshot.verify import diff_snapshots

        try:
            root: Path | None = workspace.find_workspace(common.STATE.cwd).root
        except WorkspaceError:
            root = None  # outside a workspace: no object store to read commits from
        return diff_snapshots(common.resolve_dir(a), common.resolve_dir(b), root=root)

    d = common.run(go)
    if as_json:
        common.emit_json(d)
        return
    out: list[str] = []
    if d.added:
        out.append("added:")
        out.extend(f"  {c.name} ({c.path}) at {c.new[:12] if c.new else ''}" for c in d.added)
    if d.removed:
        out.append("removed:")
        out.extend(f"  {c.name} ({c.path}) was at {c.old[:12] if c.old else ''}" for c in d.removed)
    if d.changed:
        out.append("changed:")
        for c in d.changed:
            out.extend(_change_lines(c))
    if d.files:
        out.append("patch and defconfig files:")
        out.extend(f"  {line}" for line in d.files)
    if d.origins:
        out.append("origin archives:")
        out.extend(f"  {line}" for line in d.origins)
    sys.stdout.write("".join(f"{line}\n" for line in out))
    if d.same:
        common.info("the snapshots pin the same projects, files and origins")


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("snapshot")(snapshot_cmd)
    app.command("verify")(verify_cmd)
    app.command("diff-snapshots")(diff_snapshots_cmd)
