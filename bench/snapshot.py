"""Time ``ukws snapshot`` with ``--archive`` on a 100-project workspace and on one large repository,
next to ``git archive --format=tar.gz`` of the same trees (the floor), and report peak memory.

- corpus: 100 projects of 60 small files each, pinned by the manifest to full SHAs;
- large: one project of ``--large-files`` files, ``--large-mb`` MB of incompressible-ish source in all.

Each snapshot runs in a child process so that its peak resident memory (``ru_maxrss``) is its own;
the floor is the sum of one ``git archive`` per project. Run:
``.venv/bin/python bench/snapshot.py [--large-mb 100] [--large-files 8000]``. Workspaces are built
once under bench/out/snapshot/ (ignored by git).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pygit2

from ukws import git

OUT = Path(__file__).resolve().parent / "out" / "snapshot"
SIG = pygit2.Signature("bench", "bench@ukws.invalid", 1_704_067_200, 0)


def make_project(top: Path, files: dict[str, bytes]) -> str:
    """A repository at ``top`` with one commit of ``files``, checked out, and a remote-tracking
    branch on it (as a sync leaves it: the commit counts as pushed)."""
    repo = pygit2.init_repository(str(top), initial_head="main")
    index = pygit2.Index()
    for name, data in files.items():
        index.add(pygit2.IndexEntry(name, repo.create_blob(data), pygit2.enums.FileMode.BLOB))
    tree = index.write_tree(repo)
    sha = str(repo.create_commit("refs/heads/main", SIG, SIG, "bench", tree, []))
    repo.references.create("refs/remotes/origin/main", pygit2.Oid(hex=sha))
    git.checkout(repo, sha)
    return sha


def build(ws: Path, projects: dict[str, dict[str, bytes]]) -> None:
    if (ws / ".ukws").is_dir():
        return
    shutil.rmtree(ws, ignore_errors=True)
    ws.mkdir(parents=True)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<manifest>",
             '  <remote name="origin" fetch="https://example.org/"/>', '  <default remote="origin" revision="main"/>']
    for path, files in projects.items():
        sha = make_project(ws / path, files)
        lines.append(f'  <project name="{path}" path="{path}" revision="{sha}" upstream="main"/>')
    lines.append("</manifest>")
    manifest = ws.parent / f"{ws.name}.xml"
    manifest.write_text("\n".join(lines) + "\n")
    subprocess.run([sys.executable, "-m", "ukws", "-C", str(ws), "init", "-m", str(manifest), "."], check=True)


def corpus() -> dict[str, dict[str, bytes]]:
    rng = random.Random(1)
    return {
        f"libs/lib-{i:03d}": {
            f"src/{j:02d}/file{j}.c": (f"/* lib {i} file {j} */\n" + "int x;\n" * rng.randint(10, 400)).encode()
            for j in range(60)
        }
        for i in range(100)
    }


def large(mb: int, count: int) -> dict[str, dict[str, bytes]]:
    rng = random.Random(2)
    size = mb * 1024 * 1024 // count
    words = [f"w{n}" for n in range(5000)]
    files: dict[str, bytes] = {}
    for i in range(count):
        text = " ".join(rng.choice(words) for _ in range(size // 5))
        files[f"tree/{i % 50:02d}/{i % 7}/f{i}.c"] = text.encode()[:size]
    return {"xen": files}


def peak_rss_kb() -> int:
    """This process's peak resident memory: VmHWM on Linux (ru_maxrss there also counts the parent's
    memory at fork time, before exec), else ru_maxrss."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child(ws: Path, archive: Path) -> None:
    """Run one snapshot in this process and print its time and peak memory as JSON."""
    from ukws import __version__
    from ukws.snapshot.release import make_snapshot
    from ukws.workspace import open_workspace

    start = time.perf_counter()
    result = make_snapshot(open_workspace(ws), output=ws.parent / f"{ws.name}.snapshot.xml", archive=archive,
                           ukws_version=__version__)  # fmt: skip
    seconds = time.perf_counter() - start
    assert result.archive is not None
    peak_kb = peak_rss_kb()
    print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024, "size": result.archive.size,
                      "members": result.archive.members}))  # fmt: skip


def floor(ws: Path, paths: list[str]) -> float:
    start = time.perf_counter()
    for path in paths:
        subprocess.run(["git", "-C", str(ws / path), "archive", "--format=tar.gz", f"--prefix={path}/",
                        "-o", str(OUT / "floor.tar.gz"), "HEAD"], check=True)  # fmt: skip
    return time.perf_counter() - start


def measure(name: str, ws: Path, paths: list[str]) -> None:
    archive = OUT / f"{name}.tar.gz"
    out = subprocess.run([sys.executable, __file__, "--child", str(ws), str(archive)], check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    r = json.loads(out)
    base = floor(ws, paths)
    source_mb = sum(f.stat().st_size for p in paths for f in (ws / p).rglob("*") if f.is_file()
                    and ".git" not in f.parts) / 1e6  # fmt: skip
    print(f"{name:<8} {len(paths):>4} projects {source_mb:8.1f} MB source  snapshot+archive {r['seconds']:7.2f} s  "
          f"git archive {base:7.2f} s  ratio {r['seconds'] / base:5.2f}  archive {r['size'] / 1e6:7.1f} MB "
          f"({r['members']} members)  peak RSS {r['peak_mb']:6.1f} MB")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--large-mb", type=int, default=100)
    ap.add_argument("--large-files", type=int, default=8000)
    ap.add_argument("--child", nargs=2, type=Path)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    OUT.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1704067200")
    c = corpus()
    build(OUT / "corpus", c)
    big = large(args.large_mb, args.large_files)
    build(OUT / f"large-{args.large_mb}", big)
    measure("corpus", OUT / "corpus", list(c))
    measure("large", OUT / f"large-{args.large_mb}", list(big))


if __name__ == "__main__":
    main()
