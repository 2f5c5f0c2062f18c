"""A small Unikraft-like world of real git repositories for resolver tests.

``build_world(root)`` creates, at workspace paths under ``root``:

- ``unikraft`` (core): RELEASE-0.4 (two-part), RELEASE-0.12.0 (annotated), 0.13.0, 0.13.1, 0.14.0,
  a ``latest`` tag that is not a version, a ``stable`` branch one commit after 0.14.0 and a
  ``staging`` branch after that. Config.uk sources lib/Config.uk, which sources lib/uk*/Config.uk.
- ``libs/a`` (lib-a): 0.12.0 ... 0.14.0; LIBA selects LIBB; at 0.14.0 its ukws.toml needs unikraft >=0.14.
- ``libs/b`` (lib-b): 0.12.0, 0.13.0 = 0.13.1 (one commit, two tags), 0.14.0; LIBB selects LIBC.
- ``libs/c`` (lib-c): 0.12.0 and 0.14.0 only (no 0.13.x); LIBC selects LIBUKALLOC (core); branch stable.
- ``libs/unused`` (lib-unused): 0.12.0 ... 0.14.0; nothing selects it.
- ``apps/hello`` (app-hello): 0.13.0, 0.14.0; APPHELLO selects LIBA; a Kraftfile at 0.14.0.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pygit2
import pytest

from tests.gitutil import commit, init_repo, tag

CORE_CONFIG = {
    "Config.uk": 'mainmenu "Unikraft"\nsource "$(UK_BASE)/lib/Config.uk"\n',
    "lib/Config.uk": 'source "$(UK_BASE)/lib/ukalloc/Config.uk"\nsource "$(UK_BASE)/lib/ukdebug/Config.uk"\n'
    "config HAVE_LIBC\n\tbool\n",
    "lib/ukalloc/Config.uk": 'menuconfig LIBUKALLOC\n\tbool "ukalloc"\n',
    "lib/ukdebug/Config.uk": 'menuconfig LIBUKDEBUG\n\tbool "ukdebug"\n\tdefault y\n',
}


def _lib_config(symbol: str, selects: str = "") -> str:
    sel = "".join(f"\tselect {s}\n" for s in selects.split())
    return f'menuconfig {symbol}\n\tbool "{symbol.lower()}"\n{sel}'


def _releases(
    path: Path,
    versions: list[str],
    files: dict[str, str],
    extra: dict[str, dict[str, str]] | None = None,
    same: dict[str, str] | None = None,
) -> dict[str, str]:
    repo = init_repo(path)
    shas: dict[str, str] = {}
    for i, version in enumerate(versions):
        content = dict(files) if i == 0 else {}
        content[f"VERSION-{version}"] = version
        content.update((extra or {}).get(version, {}))
        sha = commit(repo, content, f"release {version}")
        tag(repo, f"RELEASE-{version}", sha, annotated=version.endswith(".12.0"))
        shas[version] = sha
    for alias, target in (same or {}).items():
        tag(repo, f"RELEASE-{alias}", shas[target])
        shas[alias] = shas[target]
    return shas


def build_world(root: Path) -> dict[str, dict[str, str]]:
    """Create the repositories under ``root``; returns project -> version -> commit."""
    out: dict[str, dict[str, str]] = {}
    core = init_repo(root / "unikraft")
    shas: dict[str, str] = {}
    first = commit(core, {**CORE_CONFIG, "VERSION": "0.4"}, "0.4")
    tag(core, "RELEASE-0.4", first)
    shas["0.4.0"] = first
    for version in ("0.12.0", "0.13.0", "0.13.1", "0.14.0"):
        sha = commit(core, {"VERSION": version}, version)
        tag(core, f"RELEASE-{version}", sha, annotated=version == "0.12.0")
        shas[version] = sha
    tag(core, "latest", shas["0.14.0"])
    stable = commit(core, {"VERSION": "0.14.0+stable"}, "stable fix")
    core.references.create("refs/heads/stable", pygit2.Oid(hex=stable))
    core.references.create("refs/heads/staging", pygit2.Oid(hex=stable))
    shas["stable"] = stable
    shas["staging"] = commit(core, {"VERSION": "0.15.0.dev"}, "staging work", branch="staging")
    out["unikraft"] = shas

    out["lib-a"] = _releases(
        root / "libs/a",
        ["0.12.0", "0.13.0", "0.13.1", "0.14.0"],
        {"Config.uk": _lib_config("LIBA", "LIBB")},
        extra={"0.14.0": {"ukws.toml": '# lib-a needs the newest core\n[requires]\nunikraft = ">=0.14"\n'}},
    )
    out["lib-b"] = _releases(
        root / "libs/b",
        ["0.12.0", "0.13.0", "0.14.0"],
        {"Config.uk": _lib_config("LIBB", "LIBC")},
        same={"0.13.1": "0.13.0"},
    )
    out["lib-c"] = _releases(
        root / "libs/c", ["0.12.0", "0.14.0"], {"Config.uk": _lib_config("LIBC", "LIBUKALLOC")}
    )
    crepo = pygit2.Repository(str(root / "libs/c"))
    crepo.references.create("refs/heads/stable", pygit2.Oid(hex=out["lib-c"]["0.14.0"]))
    out["lib-c"]["stable"] = commit(crepo, {"STABLE": "yes"}, "stable", branch="stable")
    out["lib-unused"] = _releases(
        root / "libs/unused",
        ["0.12.0", "0.13.0", "0.13.1", "0.14.0"],
        {"Config.uk": _lib_config("LIBUNUSED")},
    )
    out["app-hello"] = _releases(
        root / "apps/hello",
        ["0.13.0", "0.14.0"],
        {"Config.uk": "config APPHELLO\n\tbool\n\tdefault y\n\tselect LIBA\n\tselect LIBUKDEBUG\n"},
        extra={
            "0.14.0": {"Kraftfile": "spec: v0.6\nunikraft:\n  version: stable\nlibraries:\n  a: '>=0.13'\n"}
        },
    )
    return out


REMOTE = '<remote name="origin" fetch="https://example.org/unikraft/"/>\n'


def manifest_xml(
    *,
    default_revision: str = "refs/tags/RELEASE-0.13.1",
    policy: str | None = None,
    core: str = "",
    app: str = "",
    app_body: str = "",
    libs: tuple[str, ...] = ("a", "b", "c", "unused"),
    lib_attrs: dict[str, str] | None = None,
    extra: str = "",
) -> str:
    """A manifest body over the world: core, the libraries, and app-hello."""
    lines = [REMOTE, f'<default remote="origin" revision="{default_revision}"/>']
    if policy:
        lines.append(f'<x-ukws library-policy="{policy}"/>')
    lines.append(f'<project name="unikraft" path="unikraft" x-role="core" {core}/>')
    for lib in libs:
        attrs = (lib_attrs or {}).get(lib, "")
        lines.append(f'<project name="lib-{lib}" path="libs/{lib}" x-role="library" {attrs}/>')
    lines.append(
        f'<project name="app-hello" path="apps/hello" x-role="application" {app}>{app_body}</project>'
    )
    lines.append(extra)
    return "\n".join(lines)


def copy_world(template: Path, dest: Path) -> Path:
    shutil.copytree(template, dest, symlinks=True)
    return dest


World = tuple[Path, dict[str, dict[str, str]]]
_BUILT: list[World] = []


def shared_world(factory: pytest.TempPathFactory) -> World:
    """The world, built once per test process (session fixtures in each test module call this);
    tests that add commits copy it with :func:`copy_world`."""
    if not _BUILT:
        root = factory.mktemp("world")
        _BUILT.append((root, build_world(root)))
    return _BUILT[0]
