"""Time the sync engine against plain git on generated repositories.

    python bench/sync_engine.py [--repos 50] [--commits 300] [--jobs 8]

Prints seconds for ukws and for plain git run in parallel with the same job count (``git clone``
for a cold sync, ``git fetch`` in every clone for a no-op) over file:// and ``git daemon``, and
their ratio; then the times of a no-op sync with SHA pins (no network) and of an incremental sync
(one new commit in every repository).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.servers import serve_git_daemon
from ukws.manifest.model import Manifest, Project
from ukws.sync.engine import SyncOptions, sync


def make_repos(base: Path, count: int, commits: int) -> list[Path]:
    """``count`` bare repositories of ``commits`` commits each (git fast-import: quick)."""
    repos = []
    for i in range(count):
        path = base / f"r{i:03d}.git"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
        chunks = []
        for c in range(commits):
            data = "".join(f"line {c} {j} {i}\n" for j in range(40))
            message = f"commit {c}\n"
            chunks.append(
                f"commit refs/heads/main\ncommitter B <b@x> {1_700_000_000 + c} +0000\n"
                f"data {len(message)}\n{message}"
                f"M 644 inline src/f{c % 50}.c\ndata {len(data)}\n{data}\n"
            )
        subprocess.run(["git", "-C", str(path), "fast-import", "--quiet"], input="".join(chunks).encode(),
                       check=True)
        subprocess.run(["git", "-C", str(path), "gc", "-q"], check=True)
        repos.append(path)
    return repos


def manifest(urls: list[str], revisions: list[str] | None = None) -> Manifest:
    return Manifest(projects=tuple(
        Project(name=f"r{i:03d}", path=f"r{i:03d}", remote="origin", fetch_url=u,
                revision=revisions[i] if revisions else "main")
        for i, u in enumerate(urls)
    ))


def timed(fn: Callable[..., object], *args: object) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def git_clones(urls: list[str], dest: Path, jobs: int) -> None:
    def one(i_url: tuple[int, str]) -> None:
        subprocess.run(["git", "clone", "-q", i_url[1], str(dest / f"r{i_url[0]:03d}")], check=True)
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, enumerate(urls)))


def git_fetches(dest: Path, count: int, jobs: int) -> None:
    """The plain-git baseline of a no-op sync: ``git fetch`` in every clone, ``jobs`` at a time."""
    def one(i: int) -> None:
        subprocess.run(["git", "-C", str(dest / f"r{i:03d}"), "fetch", "-q", "origin", "main"], check=True)
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, range(count)))


def ukws_sync(root: Path, m: Manifest, jobs: int) -> None:
    result = sync(root=root, state_dir=root / ".ukws", manifest=m, options=SyncOptions(jobs=jobs))
    if not result.ok:
        raise SystemExit("\n".join(o.message for o in result.outcomes if o.message))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repos", type=int, default=50)
    ap.add_argument("--commits", type=int, default=300)
    ap.add_argument("--jobs", type=int, default=8)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        repos = make_repos(tmp / "src", args.repos, args.commits)
        rows: list[tuple[str, float, float | None]] = []
        with serve_git_daemon(tmp / "src") as daemon:
            for label, urls in (("file://", [p.as_uri() for p in repos]),
                                ("git daemon", [daemon.url(p.name) for p in repos])):
                git_t = timed(git_clones, urls, tmp / "git", args.jobs)
                git_noop = timed(git_fetches, tmp / "git", len(urls), args.jobs)
                shutil.rmtree(tmp / "git")
                root = tmp / "ws"
                root.mkdir()
                m = manifest(urls)
                cold = timed(ukws_sync, root, m, args.jobs)
                rows.append((f"cold sync, {label}", cold, git_t))
                noop = timed(ukws_sync, root, m, args.jobs)
                rows.append((f"no-op sync (branches), {label}", noop, git_noop))
                shas = [subprocess.run(["git", "-C", str(p), "rev-parse", "main"], capture_output=True, text=True,
                                       check=True).stdout.strip() for p in repos]
                pinned = manifest(urls, shas)
                ukws_sync(root, pinned, args.jobs)
                rows.append((f"no-op sync (SHA pins), {label}", timed(ukws_sync, root, pinned, args.jobs),
                             None))
                for p in repos:
                    subprocess.run(["git", "-C", str(p), "fetch", "-q", ".", "main:tmp-bench"], check=True)
                shutil.rmtree(root)
        # incremental: one new commit in every repository
        root = tmp / "ws"
        root.mkdir()
        urls = [p.as_uri() for p in repos]
        ukws_sync(root, manifest(urls), args.jobs)
        for p in repos:
            tip = subprocess.run(["git", "-C", str(p), "commit-tree", "-m", "bench", "-p", "main", "main^{tree}"],
                                 capture_output=True, text=True, check=True).stdout.strip()
            subprocess.run(["git", "-C", str(p), "update-ref", "refs/heads/main", tip], check=True)
        rows.append(("incremental sync, file://", timed(ukws_sync, root, manifest(urls), args.jobs), None))
    print(f"{args.repos} repositories x {args.commits} commits, {args.jobs} jobs")
    for label, t, base in rows:
        ratio = f"  plain git {base:6.2f}s  ratio {t / base:5.2f}" if base else ""
        print(f"  {label:36s} {t:6.2f}s{ratio}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS of this process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
