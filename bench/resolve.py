"""Time version resolution of 200 projects x 50 release tags each, in memory and over git.

The problem: one core and 198 libraries, each tagged RELEASE-0.{i}.0 for i in 0..49, under the
lockstep policy, plus an application that needs the core below 0.45 and selects a chain of
libraries in Kconfig. Every library release from 0.40.0 on carries a ukws.toml that needs a core
>= its own version + 5 (so the newest releases are out, and the resolver must backtrack to find
versions that fit together).

Prints:
- the pure resolver over in-memory candidates (no I/O);
- the git-backed resolution of a workspace (tags read once per repository, metadata and Config.uk
  read lazily from git objects, the lock rendered), next to the floor of plain ``git for-each-ref
  refs/tags`` over the same 200 repositories, as a ratio;
- a pathological problem (every release of each of 12 libraries excludes every release of the
  next), which must end with a clear message in bounded time.

Target: each resolution <= 1 s. Run: ``.venv/bin/python bench/resolve.py [--projects N] [--tags T]``.
Repositories are built once under bench/out/ (ignored by git) and packed with ``git gc``, as a
clone or fetch leaves them.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pygit2
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from timing import timed

from ukws.errors import ResolveError
from ukws.manifest import load
from ukws.resolve.solver import Candidate, Constraint, MemorySource, Origin, Problem, resolve

OUT = Path(__file__).resolve().parent / "out" / "resolve"
SIG = pygit2.Signature("bench", "bench@ukws.invalid", 1_704_067_200, 0)



def names(projects: int) -> list[str]:
    return ["unikraft", *(f"lib-{i:03d}" for i in range(projects - 2)), "app"]


def needs_core(version: int, tags: int) -> int | None:
    """The core minor version a library release needs (None: no ukws.toml)."""
    return version + 5 if version >= tags - 10 else None


# ----------------------------------------------------------------------------- in memory


def memory_problem(projects: int, tags: int) -> tuple[Problem, MemorySource]:
    rels: dict[str, list[Candidate]] = {}
    deps: dict[Candidate, list[Constraint]] = {}
    all_names = names(projects)
    for name in all_names:
        cands = []
        for v in reversed(range(tags)):
            sha = hashlib.sha1(f"{name}/{v}".encode()).hexdigest()
            cand = Candidate(
                project=name, commit=sha, version=Version(f"0.{v}.0"), tags=(f"RELEASE-0.{v}.0",)
            )
            cands.append(cand)
            need = needs_core(v, tags)
            if name.startswith("lib-") and need is not None:
                origin = Origin(kind="metadata", file="ukws.toml", line=2, project=name, version=f"0.{v}.0")
                deps[cand] = [
                    Constraint(project="unikraft", specifier=SpecifierSet(f">=0.{need}"), origin=origin)
                ]
        rels[name] = cands
    manifest = Origin(kind="manifest", file="bench.xml", line=3, project="app")
    problem = Problem(
        projects=tuple(all_names),
        core="unikraft",
        lockstep=tuple(n for n in all_names if n.startswith("lib-")),
        constraints=(
            Constraint(project="unikraft", specifier=SpecifierSet(f"<0.{tags - 5}"), origin=manifest),
        ),
    )
    return problem, MemorySource(release_map=rels, deps=deps)


def pathological(libs: int = 12, versions: int = 30) -> tuple[Problem, MemorySource]:
    """Each release of lib i needs lib i+1 at a version no release of it has (>=1.0 against 0.x),
    except through a window the last library closes: the search space is versions ** libs."""
    rels: dict[str, list[Candidate]] = {}
    deps: dict[Candidate, list[Constraint]] = {}
    all_names = [f"l{i:02d}" for i in range(libs)]
    for i, name in enumerate(all_names):
        rels[name] = [
            Candidate(
                project=name,
                commit=hashlib.sha1(f"{name}/{v}".encode()).hexdigest(),
                version=Version(f"0.{v}.0"),
            )
            for v in reversed(range(versions))
        ]
        for cand in rels[name]:
            origin = Origin(
                kind="metadata", file="ukws.toml", line=1, project=name, version=str(cand.version)
            )
            target = all_names[(i + 1) % libs]
            v = cand.version.minor if cand.version else 0
            spec = f"!=0.{v}.0" if i + 1 < libs else "<0"
            deps[cand] = [Constraint(project=target, specifier=SpecifierSet(spec), origin=origin)]
    return Problem(projects=tuple(all_names)), MemorySource(release_map=rels, deps=deps)


# ----------------------------------------------------------------------------- git


def build_repos(root: Path, projects: int, tags: int) -> None:
    """200 repositories at root/<name>, each with ``tags`` tagged commits (idempotent)."""
    stamp = root / f".built-{projects}-{tags}-packed"
    if stamp.exists():
        return
    if root.exists():
        shutil.rmtree(root)
    all_names = names(projects)
    libs = [n for n in all_names if n.startswith("lib-")]
    for name in all_names:
        repo = pygit2.init_repository(str(root / name), bare=False, initial_head="main")
        parent: list[pygit2.Oid] = []
        for v in range(tags):
            files: dict[str, bytes] = {"VERSION": f"0.{v}.0\n".encode()}
            if name == "unikraft":
                files["lib/ukalloc/Config.uk"] = b"config LIBUKALLOC\n\tbool\n"
            elif name.startswith("lib-"):
                idx = libs.index(name)
                sym = f"LIB{idx:03d}"
                nxt = f"\tselect LIB{idx + 1:03d}\n" if idx % 10 != 9 and idx + 1 < len(libs) else ""
                files["Config.uk"] = f'menuconfig {sym}\n\tbool "{name}"\n\tselect LIBUKALLOC\n{nxt}'.encode()
                need = needs_core(v, tags)
                if need is not None:
                    files["ukws.toml"] = f'[requires]\nunikraft = ">=0.{need}"\n'.encode()
            else:
                files["Config.uk"] = b"config APP\n\tbool\n\tdefault y\n" + b"".join(
                    f"\tselect LIB{i:03d}\n".encode() for i in range(0, len(libs), 10)
                )
            index = pygit2.Index()
            if parent:
                parent_commit = repo[parent[0]]
                assert isinstance(parent_commit, pygit2.Commit)
                index.read_tree(parent_commit.tree)
            for path, data in files.items():
                index.add(pygit2.IndexEntry(path, repo.create_blob(data), pygit2.enums.FileMode.BLOB))
            tree = index.write_tree(repo)
            oid = repo.create_commit("refs/heads/main", SIG, SIG, f"0.{v}.0", tree, parent)
            repo.references.create(f"refs/tags/RELEASE-0.{v}.0", oid)
            parent = [oid]
    git = shutil.which("git")
    if git is not None:
        # As after a clone or fetch: objects in a pack, refs in packed-refs.
        for name in all_names:
            subprocess.run([git, "-C", str(root / name), "gc", "-q"], check=True)
    stamp.write_text("ok\n")


def manifest_file(root: Path, projects: int, tags: int) -> Path:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<manifest>",
        '  <remote name="origin" fetch="https://example.org/"/>',
        f'  <default remote="origin" revision="refs/tags/RELEASE-0.{tags - 1}.0"/>',
    ]
    for name in names(projects):
        if name == "unikraft":
            lines.append('  <project name="unikraft" x-role="core" x-version="&gt;=0.1"/>')
        elif name == "app":
            lines.append(
                f'  <project name="app" x-role="application">'
                f'<x-requires project="unikraft" version="&lt;0.{tags - 5}"/><x-app/></project>'
            )
        else:
            lines.append(f'  <project name="{name}" x-role="library"/>')
    lines.append("</manifest>")
    path = root / "bench.xml"
    path.write_text("\n".join(lines) + "\n")
    return path


def git_floor(root: Path, projects: int) -> float:
    git = shutil.which("git")
    if git is None:
        return float("nan")
    start = time.perf_counter()
    for name in names(projects):
        subprocess.run(
            [git, "-C", str(root / name), "for-each-ref", "refs/tags"], check=True, stdout=subprocess.DEVNULL
        )
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--projects", type=int, default=200)
    ap.add_argument("--tags", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    n, t = args.projects, args.tags

    problem, source = memory_problem(n, t)
    res = resolve(problem, source)
    pure = timed(lambda: resolve(problem, source), args.repeat)
    core = res.chosen["unikraft"].label
    print(f"in memory  {n} projects x {t} tags: {pure * 1000:7.1f} ms  (core {core}; target <= 1000 ms)")

    from ukws.lock import render
    from ukws.resolve.plan import resolve_workspace

    build_start = time.perf_counter()
    build_repos(OUT / "repos", n, t)
    built = time.perf_counter() - build_start
    manifest = load(manifest_file(OUT, n, t))

    def over_git() -> object:
        result = resolve_workspace(root=OUT / "repos", manifest=manifest)
        return render(manifest, result.lock())

    first = resolve_workspace(root=OUT / "repos", manifest=manifest)
    git_time = timed(over_git, args.repeat)
    floor = git_floor(OUT / "repos", n)
    libs = len(first.builds[0].libraries) if first.builds else 0
    print(
        f"over git   {n} projects x {t} tags: {git_time * 1000:7.1f} ms  (core {first.pin('unikraft').label}, "
        f"{libs} libraries on L=; lock rendered; target <= 1000 ms)"
    )
    print(
        f"  floor: git for-each-ref refs/tags in each repository: {floor * 1000:7.1f} ms  "
        f"(ukws / floor = {git_time / floor:.2f}x)"
        + (f"  [repositories built in {built:.1f} s]" if built > 1 else "")
    )

    bad_problem, bad_source = pathological()
    start = time.perf_counter()
    try:
        resolve(bad_problem, bad_source, max_seconds=5.0)
        message = "resolved (unexpected)"
    except ResolveError as e:
        message = e.lines()[0]
    took = time.perf_counter() - start
    print(f"pathological (12 libraries x 30 versions): ended in {took:.2f} s with: {message}")
    busy = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"(machine load average {busy:.1f} on {os.cpu_count()} CPUs while measuring)")
    sys.exit(0 if pure <= 1.0 and git_time <= 1.0 else 1)


if __name__ == "__main__":
    main()
