"""Parts of repo's format that ukws reads and keeps but does not act on, said where they are used."""

from __future__ import annotations

from ukws.errors import Problem
from ukws.manifest.model import Manifest


def unsupported_features(m: Manifest) -> tuple[Problem, ...]:
    """One note per element the manifest uses that ukws will not act on, with its file and line."""
    notes: list[Problem] = []
    for sub in m.submanifests:
        notes.append(Problem(loc=sub.loc, message=f'<submanifest name="{sub.name}">: submanifests are not '
                             "supported; its projects are not synced (list them in this manifest or an include)"))
    if m.superproject is not None:
        notes.append(Problem(loc=m.superproject.loc, message="<superproject>: not used; ukws syncs each project "
                             "at its own revision"))
    if m.repo_hooks is not None:
        notes.append(Problem(loc=m.repo_hooks.loc, message="<repo-hooks>: repo hooks are not run by ukws"))
    return tuple(notes)
