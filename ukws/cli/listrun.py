"""``ukws list``'s rows and their rendering, and the manifest a command reads, shared by the full
command line and :mod:`ukws.cli.quick`: nothing here needs the CLI framework."""

from __future__ import annotations

from pathlib import Path

from ukws.cli import output as common
from ukws.cli.output import user_rules

TYPE_CHECKING = False  # the typing module is not loaded on the quick path
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import TypeVar

    from ukws.listing import ProjectRow, TableRow
    from ukws.manifest.model import Manifest, Project

    R = TypeVar("R")


def load_manifest(name: str | None) -> Manifest:
    """The manifest named by ``-m``, or the workspace's."""
    from ukws.errors import UsageError
    from ukws.manifest import load
    from ukws.shipped import find_manifest, shipped_names

    if name is not None:
        path = find_manifest(name, common.STATE.cwd)
        if path is None:
            raise UsageError(
                f"-m {name}: no such file, and no shipped manifest of that name (shipped: {', '.join(shipped_names())})"
            )
        given = Path(name)
        from_cwd = (given if given.is_absolute() else common.STATE.cwd / given).is_file()
        return load(path, display=name if from_cwd else str(path))
    from ukws import workspace

    ws = workspace.find_workspace(common.STATE.cwd)
    return workspace.load_workspace_manifest(ws, groups="all")


def list_rows(manifest: str | None, groups: str | None) -> tuple[ProjectRow, ...]:
    """``ukws list --json``'s rows: of the manifest named by ``-m``, else of the workspace's."""
    from ukws.listing import list_projects

    return _listing(manifest, groups, list_projects)


def list_text(manifest: str | None, groups: str | None, *, manifest_urls: bool = False) -> str:
    """``ukws list``'s output: aligned columns, the state column only inside a workspace; URLs after
    rewriting, or as the manifest gives them with ``manifest_urls``."""
    from ukws.listing import list_table

    def table(m: Manifest, g: str | None, urls: Callable[[Project], Sequence[str]] | None,
              state: Mapping[str, tuple[bool, bool, str]] | None) -> list[TableRow]:
        return list_table(m, g, urls, state, manifest_urls=manifest_urls)

    return render_table(_listing(manifest, groups, table))


def _listing(manifest: str | None, groups: str | None, build: Callable[..., R]) -> R:
    """``build(manifest, groups, urls, state)`` over the manifest named by ``-m`` (no state), else
    over the workspace's (every project its groups select, with its state)."""
    from ukws.sync.rewrite import UrlRewriter

    def rewriting(urls: UrlRewriter) -> UrlRewriter | None:
        return urls if urls.rules else None  # no rules: every URL as the manifest gives it

    if manifest is not None:
        return build(load_manifest(manifest), groups, rewriting(UrlRewriter(rules=user_rules())), None)
    from ukws import workspace
    from ukws.listing import sync_states

    ws = workspace.find_workspace(common.STATE.cwd)
    m = workspace.load_workspace_manifest(ws, groups=groups)
    urls = rewriting(workspace.rewriter(ws, user_rules()))
    state = sync_states(root=ws.root, manifest=m, pins=workspace.read_pins(ws))
    return build(m, "all", urls, state)


def render_table(table: Sequence[TableRow]) -> str:
    """Aligned columns; a column empty in every row is left out."""
    widths = [max(map(len, column), default=0) for column in zip(*table, strict=True)]
    # One format per line.
    line = "  ".join(f"{{{i}:<{w}}}" for i, w in enumerate(widths) if w)
    return "".join(line.format(*row).rstrip() + "\n" for row in table)
