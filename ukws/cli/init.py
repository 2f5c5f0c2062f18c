"""``ukws init``: set up a workspace from a shipped manifest, a file, or a manifest repository."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from ukws.cli import common
from ukws.cli.common import JsonOpt, user_rules

if TYPE_CHECKING:
    pass


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
    timeout: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option(
            "--timeout",
            help="Seconds a server may take to answer before sync gives up on it (default 60; 0: back to the "
            "default).",
            metavar="SECONDS",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a workspace, or switch the one you are in to another manifest."""
    from ukws import workspace, workspace_init
    from ukws.errors import UsageError
    from ukws.sync.rewrite import parse_rule

    def go() -> workspace_init.InitResult:
        if rewrite and no_rewrites:
            raise UsageError("--rewrite and --no-rewrites cannot be combined")
        rules = tuple(parse_rule(r) for r in rewrite) if rewrite else (() if no_rewrites else None)
        if directory is not None:
            root = common.resolve_dir(directory)
        else:
            root = workspace.find_root(common.STATE.cwd) or common.STATE.cwd
        request = workspace_init.InitRequest(
            manifest=manifest,
            url=url,
            revision=revision,
            groups=groups,
            depth=depth,
            reference=reference,
            mirror=mirror,
            rewrites=rules,
            timeout=timeout,
        )
        return workspace_init.init(root=root, request=request, cwd=common.STATE.cwd, user_rules=user_rules())

    result = common.run(go)
    if as_json:
        common.emit_json(result)
        return
    for failure in result.url_failures:
        common.info(f"ukws: warning: {failure}; trying the next URL")
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


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("init")(init_cmd)
