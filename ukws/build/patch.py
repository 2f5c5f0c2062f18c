"""PLACEHOLDER for ``ukws patch-app`` (replaced by the real module at merge).

It keeps ``ukws up``'s call working: with no ``<x-patch>`` in the manifest there is nothing to do;
otherwise it says that this build of ukws cannot apply patches.
"""

from __future__ import annotations

from dataclasses import dataclass

from ukws.errors import UkwsError
from ukws.workspace import Workspace


@dataclass(frozen=True, slots=True, kw_only=True)
class PatchResult:
    applied: tuple[str, ...] = ()
    """Applications whose patch series was applied."""


def patch_app(
    ws: Workspace, *, app: str | None = None, check: bool = False, revert: bool = False, dry_run: bool = False
) -> PatchResult:
    from ukws import workspace

    manifest = workspace.load_workspace_manifest(ws)
    patched = [
        p.name
        for p in manifest.projects
        if p.app is not None and p.app.patches and (app is None or app in (p.name, p.path))
    ]
    if patched:
        raise UkwsError(f"{patched[0]}: has <x-patch> elements, but this ukws cannot apply patches yet (patch-app)")
    return PatchResult()
