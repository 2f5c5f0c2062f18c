"""Served project repositories and manifest repositories for workspace, init and CLI tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pygit2

from tests.gitutil import commit, init_repo, tag


@dataclass(frozen=True, slots=True, kw_only=True)
class Served:
    """A folder of bare repositories: projects ``<name>`` and the manifest repository ``manifest``."""

    root: Path
    heads: Mapping[str, str]
    """Project name -> SHA of its ``main`` branch."""
    manifest_sha: str


def manifest_xml(
    projects: Sequence[str],
    *,
    fetch: str = ".",
    revision: str = "main",
    extra: str = "",
    groups: Mapping[str, str] | None = None,
) -> str:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<manifest>",
        f'  <remote name="origin" fetch="{fetch}"/>',
        f'  <default remote="origin" revision="{revision}"/>',
    ]
    for name in projects:
        g = f' groups="{groups[name]}"' if groups and name in groups else ""
        lines.append(f'  <project name="{name}" path="{name}"{g}/>')
    lines.append(extra)
    lines.append("</manifest>")
    return "\n".join(lines) + "\n"


def serve_projects(root: Path, names: Sequence[str], *, commits: int = 2) -> dict[str, str]:
    """Bare repositories ``root/<name>`` with a few commits on ``main`` and a tag on the first."""
    heads: dict[str, str] = {}
    for name in names:
        repo = init_repo(root / name, bare=True)
        first = commit(repo, {"README": f"{name} 0\n"}, f"{name}: first")
        tag(repo, "RELEASE-0.1.0", first)
        head = first
        for i in range(1, commits):
            head = commit(repo, {"README": f"{name} {i}\n", f"src/{i}.c": f"int x{i};\n"}, f"{name}: {i}")
        heads[name] = head
    return heads


def serve_workspace(
    root: Path,
    names: Sequence[str] = ("core", "lib-a"),
    *,
    files: Mapping[str, str] | None = None,
    groups: Mapping[str, str] | None = None,
) -> Served:
    """Project repositories and a manifest repository.

    Its ``default.xml`` says ``fetch="."``: as in repo, relative to the manifest repository's folder."""
    heads = serve_projects(root, names)
    manifest = init_repo(root / "manifest", bare=True)
    content: dict[str, bytes | str | None] = {"default.xml": manifest_xml(names, groups=groups)}
    content.update(files or {})
    sha = commit(manifest, content, "manifest")
    tag(manifest, "v1", sha)
    return Served(root=root, heads=heads, manifest_sha=sha)


def push_manifest(root: Path, files: Mapping[str, str | None], *, branch: str = "main") -> str:
    """A new commit in the served manifest repository."""
    return commit(pygit2.Repository(str(root / "manifest")), dict(files), "manifest change", branch=branch)
