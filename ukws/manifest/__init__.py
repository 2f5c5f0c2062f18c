"""The manifest engine: repo's XML format with ukws's ``x-`` extensions."""

from __future__ import annotations

from ukws.manifest.groups import matches_groups, select_groups
from ukws.manifest.model import (
    DEFAULT_TAG_PATTERN,
    Annotation,
    AppSpec,
    CopyFile,
    Default,
    LibraryPolicy,
    LinkFile,
    Manifest,
    Patch,
    Project,
    Remote,
    Requirement,
    Role,
    Target,
)
from ukws.manifest.parse import load
from ukws.manifest.write import write

__all__ = [
    "DEFAULT_TAG_PATTERN",
    "Annotation",
    "AppSpec",
    "CopyFile",
    "Default",
    "LibraryPolicy",
    "LinkFile",
    "Manifest",
    "Patch",
    "Project",
    "Remote",
    "Requirement",
    "Role",
    "Target",
    "load",
    "matches_groups",
    "select_groups",
    "write",
]
