"""``ukws status`` and ``ukws info``'s reports, shared by the full command line and
:mod:`ukws.cli.quick`: nothing here needs the CLI framework."""

from __future__ import annotations

import sys

from ukws.cli import output as common
from ukws.cli.output import find_workspace, only, user_rules

TYPE_CHECKING = False  # the typing module is not loaded on the quick path
if TYPE_CHECKING:
    from typing import Any


def status_report(projects: list[str] | None, *, manifest_urls: bool = False, as_json: bool = False) -> None:
    """Print each project's checkout: branch, commit, ahead/behind, pin, changed and untracked
    files, URL (the manifest's with ``manifest_urls``), and its patch series."""
    from ukws import status, workspace
    from ukws.build import patch

    def go() -> tuple[tuple[Any, ...], dict[str, Any]]:
        ws = find_workspace()
        manifest = only(workspace.load_workspace_manifest(ws), projects)
        urls = workspace.rewriter(ws, user_rules())
        rows = status.project_status(root=ws.root, manifest=manifest, pins=workspace.read_pins(ws), urls=urls)
        return rows, patch.workspace_series(ws, manifest)

    rows, series = common.run(go)
    if as_json:
        common.emit_json([{**common.to_jsonable(r), "patch_series": series.get(r.path)} for r in rows])
        return
    from ukws.status import SHORT_LIMIT, bounded

    limit = None if common.STATE.verbosity > 0 else SHORT_LIMIT
    width = max((len(r.path) for r in rows), default=0)
    for r in rows:
        url = r.manifest_url if manifest_urls else r.url
        words = status_text(r) + (f"; {series_text(series[r.path])}" if r.path in series else "")
        sys.stdout.write(f"{r.path:<{width}}  {words}; from {url}\n")
        for line in bounded(r.changes, limit):
            sys.stdout.write(f"  {line}\n")


def series_words(s: Any) -> list[str]:
    """An applied patch series in a few words: how many patches, the files it added, edits since."""
    n = len(s.patches)
    words = [f"{n} patch{'es' if n != 1 else ''}" if n else "no patches, Makefile pointed"]
    if s.added:
        words.append(f"adds {', '.join(s.added)}")
    if s.edited:
        words.append(f"edited since: {', '.join(s.edited)}")
    return words


def series_text(s: Any) -> str:
    return f"patch series applied ({'; '.join(series_words(s))})"


def status_text(r: Any) -> str:
    """One project's status in a few words."""
    if r.error:
        return f"error: {r.error}"
    if not r.synced:
        return "not synced"
    if r.head_sha is None:
        return "nothing checked out yet (ukws sync checks it out)"
    where = f"on {r.branch}" if r.branch else "detached"
    words = [f"{where} at {r.head_sha[:12]}"]
    if r.ahead or r.behind:
        words.append(f"ahead {r.ahead}, behind {r.behind}")
    if r.pin_sha and not r.at_pin:
        words.append(f"not at {r.pin_sha[:12]} (its {'pin' if r.revision == r.pin_sha else r.revision})")
    if r.state == "sync pending":
        words.append("sync pending")
    if r.dirty:
        words.append("local changes")
    if r.untracked:
        words.append("untracked files")
    return "; ".join(words)


def diff_report(projects: list[str] | None, *, untracked: bool = False, as_json: bool = False) -> None:
    """Print the uncommitted changes of every project (untracked files too with ``untracked``), as
    patches with paths from the workspace root, and each applied patch series."""
    from ukws import status, workspace
    from ukws.build import patch

    def go() -> tuple[tuple[Any, ...], dict[str, Any]]:
        ws = find_workspace()
        manifest = only(workspace.load_workspace_manifest(ws), projects)
        diffs = status.project_diff(root=ws.root, manifest=manifest, untracked=untracked)
        return diffs, patch.workspace_series(ws, manifest)

    diffs, series = common.run(go)
    if as_json:
        common.emit_json([{**common.to_jsonable(d), "patch_series": series.get(d.path)} for d in diffs])
        return
    for d in diffs:
        if d.patch or d.path in series:
            sys.stdout.write(f"project {d.path}/\n")
        if d.path in series:
            # Files the series added are untracked, so the patch below does not show them.
            first, *rest = series_words(series[d.path])
            first += " applied" if series[d.path].patches else ""
            sys.stdout.write(f"# ukws patch-app: {'; '.join([first, *rest])}\n")
        if d.patch:
            sys.stdout.write(d.patch)
            if not d.patch.endswith("\n"):
                sys.stdout.write("\n")
    left_out = [d for d in diffs if d.untracked]
    if left_out:
        count = sum(len(d.untracked) for d in left_out)
        where = ", ".join(d.path for d in left_out[:3]) + (", ..." if len(left_out) > 3 else "")
        common.info(
            f"ukws: note: {count} untracked file(s) not shown ({where}); "
            "ukws status names them, ukws diff --untracked shows them"
        )


def info_report(*, as_json: bool = False) -> None:
    """Print the workspace: root, manifest source, settings, rewrite rules, lock."""
    from ukws import workspace

    info = common.run(lambda: workspace.workspace_info(find_workspace(), user_rules()))
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
    out(f"timeout:         {info.timeout:g} s\n")
    out(f"mirror:          {'yes' if info.mirror else 'no'}\n")
    if info.reference:
        out(f"reference:       {info.reference}\n")
    for r in info.rewrites:
        out(f"rewrite:         {r} ({r.origin})\n")
    if info.local_manifests:
        out(f"local manifests: {', '.join(info.local_manifests)}\n")
    out(f"lock:            {info.lock or 'none'}\n")
