"""``ukws manifest`` and ``ukws manifest validate``: show and check manifests.

They work on a manifest given with ``-m FILE`` (a path or the name of a shipped manifest) and,
without ``-m``, on the manifest of the workspace around the current directory.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ukws.cli import common
from ukws.cli.common import JsonOpt
from ukws.cli.listrun import load_manifest

ManifestOpt = Annotated[
    Optional[str],  # noqa: UP045 - typer needs Optional at runtime on 3.11
    typer.Option("-m", "--manifest", help="A manifest file, or the name of a shipped manifest.", metavar="FILE"),
]


GroupsOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("-g", "--groups", help="Group selectors, e.g. 'default,-notdefault'.", metavar="GROUPS"),
]


manifest_app = typer.Typer(
    help="Print the effective manifest (includes and local manifests merged), or validate files.",
    invoke_without_command=True,
    no_args_is_help=False,
)


@manifest_app.callback()
def manifest_show(
    ctx: typer.Context,
    manifest: ManifestOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the effective manifest as XML (or JSON)."""
    if ctx.invoked_subcommand is not None:
        return
    m = common.run(lambda: load_manifest(manifest))
    if as_json:
        common.emit_json(m)
        return
    from ukws.manifest import write

    sys.stdout.write(write(m).decode("utf-8"))


@manifest_app.command("validate")
def manifest_validate(
    files: Annotated[
        list[Path],
        # readable=False: an unreadable file is a problem of that file (exit 1), reported with the rest
        typer.Argument(help="Manifest files to check.", metavar="FILE...", readable=False),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Check manifest files without a workspace; every problem is printed as FILE:LINE: message."""
    from ukws.errors import ManifestError
    from ukws.manifest import load

    results: list[dict[str, object]] = []
    failed = False
    for f in files:
        path = common.resolve_dir(f)
        try:
            m = load(path, display=str(f))
        except ManifestError as e:
            failed = True
            results.append({"file": str(f), "ok": False, "problems": e.lines()})
            if not as_json:
                for line in e.lines():
                    common.err(line)
            continue
        results.append({"file": str(f), "ok": True, "projects": len(m.projects), "problems": []})
        if not as_json:
            common.info(f"{f}: ok ({len(m.projects)} projects)")
    if as_json:
        common.emit_json(results)
    if failed:
        raise typer.Exit(common.EXIT_FAILURE)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.add_typer(manifest_app, name="manifest")
