"""``ukws build``: each application target built by the core's own make, offline.

For each target: the build folder ``build/<app>/<target>/`` (outside every checkout), configured
with ``UK_DEFCONFIG=<fragment> make … defconfig`` when its fragment or paths changed, the origin
archives ``ukws fetch`` recorded placed from the cache, then ``make`` with ``WGET=`` a program that
serves the cache only and fails loudly for anything else, so a build never reaches the network.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ukws.build import makerun, origins
from ukws.build.targets import BuildTarget, Context, context
from ukws.errors import WorkspaceError
from ukws.workspace import Workspace

#: An image is a file ``<name>_<plat>-<arch>`` at the top of the build folder (no extension).
IMAGE = re.compile(r"^[^./][^/]*_[A-Za-z0-9]+-([A-Za-z0-9_]+)$")
#: Markers Unikraft's make leaves for an unpacked origin archive; removed when the archive changes.
MARKERS = (".chksum", ".origin", ".patched")


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetBuild:
    target: str
    """``<app>/<target>``."""
    build_dir: Path
    images: tuple[Path, ...] = ()
    returncode: int = 0
    """make's exit status (1 when make tried to download something)."""
    missing: tuple[str, ...] = ()
    """URLs make tried to download: the workspace lacks a ``ukws fetch``."""
    up_to_date: bool = False
    """Nothing the build reads changed since it last succeeded: make was not run."""
    configured: bool = False
    log: Path | None = None
    """With ``quiet``: make's output."""
    tail: tuple[str, ...] = ()
    """With ``quiet``, on failure: make's last lines."""
    missing_tools: tuple[str, ...] = ()
    """On failure: host programs Unikraft's make runs that are not installed (see
    :data:`ukws.build.makerun.BUILD_TOOLS`)."""

    @property
    def failure(self) -> str:
        """``APP/TARGET: make failed (exit status N)``, with what is missing on the host."""
        return f"{self.target}: make failed (exit status {self.returncode}){makerun.tools_note(self.missing_tools)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildResult:
    builds: tuple[TargetBuild, ...]

    @property
    def returncode(self) -> int:
        return next((b.returncode for b in self.builds if b.returncode), 0)


def find_images(build_dir: Path, arch: str) -> tuple[Path, ...]:
    """The images a build produced: ``<name>_<plat>-<arch>`` files at the top of the build folder."""
    if not build_dir.is_dir():
        return ()
    found = [
        p for p in build_dir.iterdir()
        if p.is_file() and (m := IMAGE.match(p.name)) is not None and m.group(1) == arch
    ]
    return tuple(sorted(found, key=lambda p: (-p.stat().st_mtime, p.name)))


def _sha256(path: Path) -> str | None:
    try:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 16), b""):
                h.update(chunk)
        return h.hexdigest()
    except OSError:
        return None


def place_origins(target: BuildTarget, needs: Sequence[origins.Need], cache: Path) -> None:
    """Put each archive the target needs at ``$(O)/<library>/<file>``; one that changed makes make
    unpack and patch it again."""
    missing = [n for n in needs if not origins.has_blob(cache, n.sha256)]
    if missing:
        raise WorkspaceError(
            f"{target.key}: the origin cache lacks {missing[0].file} ({missing[0].url}); run 'ukws fetch'"
        )
    for n in needs:
        folder = target.build_dir / n.library
        dest = folder / n.file
        if dest.is_file() and _sha256(dest) == n.sha256:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        for marker in MARKERS:
            (folder / marker).unlink(missing_ok=True)
        shutil.rmtree(folder / "origin", ignore_errors=True)
        tmp = folder / f".{n.file}.ukws"
        shutil.copyfile(cache / n.sha256, tmp)
        os.replace(tmp, dest)


def _check_in_the_way(root: Path, build_dir: Path) -> None:
    """A file of the user's where the build folder (or one above it) goes is never replaced."""
    here = build_dir
    while here != root:
        if here.exists() and not here.is_dir():
            raise WorkspaceError(f"{here}: a file is in the way of the build folder {build_dir}; move it away")
        here = here.parent


def build_target(
    ws: Workspace,
    target: BuildTarget,
    needs: Sequence[origins.Need],
    *,
    jobs: int | None = None,
    make_args: Sequence[str] = (),
    quiet: bool = False,
    env: Mapping[str, str] | None = None,
) -> TargetBuild:
    cache = origins.cache_dir(ws.dot)
    state = target.state_dir
    _check_in_the_way(ws.root, target.build_dir)
    state.mkdir(parents=True, exist_ok=True)
    log = state / "make.log" if quiet else None
    previous = b""  # the last make run's output, kept when make does not run this time
    if log is not None:
        with contextlib.suppress(OSError):
            previous = log.read_bytes()
        log.write_bytes(b"")
    serve = {n.url: n.sha256 for n in needs}
    wget, hook_log = makerun.write_hook(state, cache=cache, serve=serve)
    configured = makerun.configure(target, wget=wget, output=log)
    place_origins(target, needs, cache)
    stamp_file = state / STAMP
    before = build_stamp(target, needs, make_args, env)
    images = find_images(target.build_dir, target.arch)
    if before is not None and images and _read(stamp_file) == before:
        if log is not None:
            # The log keeps what make printed when it last ran (unless it configured just now).
            kept = log.read_bytes() if configured else previous
            log.write_bytes(kept.removesuffix(_NOT_RUN) + _NOT_RUN)
        return TargetBuild(target=target.key, build_dir=target.build_dir, images=images, up_to_date=True,
                           log=log)
    stamp_file.unlink(missing_ok=True)
    extra = [f"-j{jobs}"] if jobs else []
    rc = makerun.run_make(target, [*extra, *make_args], wget=wget, output=log, env=env)
    missing = tuple(dict.fromkeys(r.url for r in makerun.read_requests(hook_log) if r.sha256 is None))
    if missing and rc == 0:
        rc = 1
    if rc == 0 and before is not None and build_stamp(target, needs, make_args, env) == before:
        stamp_file.write_text(before, encoding="utf-8")
    return TargetBuild(
        target=target.key,
        build_dir=target.build_dir,
        images=find_images(target.build_dir, target.arch) if rc == 0 else (),
        returncode=rc,
        missing=missing,
        configured=configured,
        log=log,
        tail=makerun.tail(log) if log is not None and rc != 0 else (),
        missing_tools=makerun.missing_tools(makerun.BUILD_TOOLS) if rc != 0 else (),
    )


_NOT_RUN = b"ukws: nothing changed since the last build; make was not run\n"

STAMP = "build-stamp"
"""In the build's ``.ukws/``: :func:`build_stamp` of the last build that succeeded."""


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def build_stamp(
    target: BuildTarget, needs: Sequence[origins.Need], make_args: Sequence[str], env: Mapping[str, str] | None
) -> str | None:
    """What a build reads, as one digest: the paths and fragment, the configuration make keeps, the
    origin archives, the sources of the core, libraries and application (commit and changed or
    untracked files), the make program and ``SOURCE_DATE_EPOCH``. None (always run make) when make
    is given arguments of the user's (a goal such as ``clean``, ``V=1``) or there is no configuration
    yet.

    Unikraft's make re-creates its configuration header at every run (it marks ``C=`` phony), so
    it compiles everything again even when nothing changed; ukws does not run it then."""
    from ukws import git

    if make_args or not target.config.is_file():
        return None
    data = {
        "config": target.config_key(),
        "dotconfig": _sha256(target.config),
        "needs": sorted([n.library, n.url, n.sha256] for n in needs),
        "checksums": makerun.checksum_vars(target),
        "make": makerun.make_program(),
        "epoch": (env or {}).get("SOURCE_DATE_EPOCH") or os.environ.get("SOURCE_DATE_EPOCH", ""),
        "sources": [git.worktree_fingerprint(p) for p in (target.core, *target.libraries, target.app_dir)],
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def build(
    ws: Workspace,
    *,
    app: str | None = None,
    targets: Sequence[str] = (),
    jobs: int | None = None,
    make_args: Sequence[str] = (),
    quiet: bool = False,
    started: Callable[[BuildTarget], None] | None = None,
) -> BuildResult:
    """Build every target asked for, in order; stops at the first that fails."""
    ctx = context(ws, app=app, targets=targets)
    for target in ctx.targets:
        if target.unapplied:
            raise WorkspaceError(
                f"{target.key}: the application's patches are not applied ({', '.join(target.unapplied)}); "
                "run 'ukws patch-app' first"
            )
    needs = origins.read_needs(ws.dot)
    env = reproducible_env(ws, ctx)
    done: list[TargetBuild] = []
    for target in ctx.targets:
        if started is not None:
            started(target)
        result = build_target(
            ws, target, needs.get(target.key, ()), jobs=jobs, make_args=make_args, quiet=quiet, env=env
        )
        done.append(result)
        if result.returncode:
            break
    return BuildResult(builds=tuple(done))


PREFIX_MAP_VARIABLES = ("CFLAGS_EXTRA", "ASFLAGS_EXTRA", "CXXFLAGS_EXTRA")
"""Unikraft's compile rules (``support/build/Makefile.rules``) append these to every C, assembler
and C++ command line; the core never assigns them, so they come from the environment (or make's
command line, which wins)."""


def prefix_map_env(root: Path) -> dict[str, str]:
    """``-ffile-prefix-map=<workspace>=.`` (and ``-fdebug-prefix-map``) added to the compile flags,
    so that the workspace's location does not reach the image through ``__FILE__`` or debug
    information. A path with white space cannot be passed in a make variable: nothing then."""
    top = str(root.resolve())
    if any(c.isspace() for c in top):
        return {}
    flags = f"-ffile-prefix-map={top}=. -fdebug-prefix-map={top}=."
    return {name: f"{os.environ[name]} {flags}" if os.environ.get(name) else flags for name in PREFIX_MAP_VARIABLES}


def reproducible_env(ws: Workspace, ctx: Context) -> dict[str, str]:
    """``SOURCE_DATE_EPOCH``, when unset, from the newest commit the build is made of, and the
    workspace's path mapped away in the compilers' output."""
    env = prefix_map_env(ws.root)
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return env
    from ukws import git

    newest = 0
    for path, sha in ctx.commits.items():
        if sha is None:
            continue
        when = git.commit_time_at(ws.root / path, sha)
        newest = max(newest, when or 0)
    return {**env, "SOURCE_DATE_EPOCH": str(newest)} if newest else env
