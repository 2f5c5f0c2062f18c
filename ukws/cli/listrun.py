"""``ukws list``'s rows and their rendering, and the manifest a command reads, shared by the full
command line and :mod:`ukws.cli.quick`: nothing here needs the CLI framework."""

from __future__ import annotations

from pathlib import Path

from ukws.cli import output as common
from ukws.cli.output import user_rules

TYPE_CHECKING = False  # the typing module is not loaded on the quick path
if TYPE_CHECKING:
    from ukws.listing import ProjectRow
    from ukws.manifest.model import Manifest


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
    from ukws.listing import list_projects
    from ukws.sync.rewrite import UrlRewriter

    if manifest is not None:
        return list_projects(load_manifest(manifest), groups, UrlRewriter(rules=user_rules()))
    from ukws import status, workspace

    ws = workspace.find_workspace(common.STATE.cwd)
    m = workspace.load_workspace_manifest(ws, groups=groups)
    urls = workspace.rewriter(ws, user_rules())
    state = status.sync_states(root=ws.root, manifest=m, pins=workspace.read_pins(ws))
    return list_projects(m, "all", urls, state)


def render_rows(rows: tuple[ProjectRow, ...], *, manifest_urls: bool = False) -> str:
    """Aligned columns; the state column only inside a workspace. URLs after rewriting, or as the
    manifest gives them."""
    table = [
        (r.path, r.name, r.revision, r.state or "", r.manifest_url if manifest_urls else r.url, r.role or "",
         ",".join(r.groups))
        for r in rows
    ]  # fmt: skip
    widths = [max(map(len, column), default=0) for column in zip(*table, strict=True)]
    # One format per line; a column empty in every row is left out.
    line = "  ".join(f"{{{i}:<{w}}}" for i, w in enumerate(widths) if w)
    return "".join(line.format(*row).rstrip() + "\n" for row in table)
