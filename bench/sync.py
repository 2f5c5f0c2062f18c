"""Time ``ukws sync`` against plain git on a generated corpus, over file:// and a local git daemon.

The corpus: ``--repos`` bare repositories of ``--commits`` commits each, plus one large repository
(``--large-commits`` commits of ``--large-files`` files). For each transport the script times

- **cold**: ``ukws sync -j J`` into an empty workspace, next to ``git clone`` of every repository
  in J parallel jobs, and the ``git clone --local`` floor (hard links, file:// only); west and
  Google repo too when they are installed (a line says so when not), whose second run right after
  is their no-op (Google repo fetches its own code on ``repo init``: offline, set ``REPO_URL`` to
  a clone of git-repo and ``REPO_REV`` to one of its tags);
- **no-op**: ``ukws sync`` again with nothing changed (fetches to find out), ``ukws sync -l``
  (no network; answered from the no-op record the sync before it left, see docs/sync.md), ``ukws
  -v sync -l`` (the full local sync: ``-v`` does not use the record), and ``ukws sync`` with every
  project pinned by a lock to the commit it has (no network needed);
- **incremental**: ``ukws sync`` after 5 repositories got new commits (anew before each round),
  next to ``git pull`` of every clone in J parallel jobs;
- **peak memory** of the ukws process (max RSS).

and prints each figure with its ratio to the baseline and the target
(cold <= 1.2x the parallel ``git clone --local`` floor over file://; no-op <= 0.35 s, <= 0.12 s
without network, for the default 101 repositories; incremental <= 0.6 s; peak memory <= 100 MB). Beside the
no-op sits its floor through the same library: a Python process that imports pygit2 and fetches
every clone in J threads, and does nothing else; over the git daemon, also the floor of the
transport: a Python process that imports pygit2 and reads every repository's ref advertisement over
plain sockets (what any client must do at the least to learn that nothing changed).

Every figure is the median of ``--repeat`` (at least 3) rounds, interleaved: each round runs ukws
and its baselines one after the other, so that a change in the machine's load hits them alike.
The load average is printed beside each figure.

Each ukws figure is given twice: the whole command (process start, imports and CLI included) and
the sync itself measured in-process (what the CLI's ``sync`` command does after its imports:
manifest repository update, manifest load, :func:`ukws.sync.sync`). The start-up floor, Python
importing pygit2 and lxml and nothing else, is printed too. ukws's bytecode is compiled
first, as an installed ukws has it.

Run from the source checkout: ``.venv/bin/python bench/sync.py [--repos N] [--commits N] ...``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pygit2

SIG_TIME = 1_704_067_200
CLEAN_ENV = {
    **os.environ,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_TERMINAL_PROMPT": "0",
    "CI": "1",  # plain output from ukws
}


# -- corpus --------------------------------------------------------------------------------------


def _commit_series(path: Path, commits: int, files: int, size: int, seed: int) -> None:
    """A bare repository with ``commits`` commits on ``main``, each rewriting one of ``files`` files
    (written as one pack by ``git fast-import``)."""
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True, env=CLEAN_ENV)
    out = bytearray()

    def data(payload: bytes) -> None:
        out.extend(b"data %d\n" % len(payload))
        out.extend(payload)
        out.extend(b"\n")

    for n in range(commits):
        out.extend(b"commit refs/heads/main\nmark :%d\n" % (n + 1))
        out.extend(b"committer bench <bench@ukws.invalid> %d +0000\n" % (SIG_TIME + n))
        data(b"change %d" % n)
        if n:
            out.extend(b"from :%d\n" % n)
            changed = [n % files]
        else:
            out.extend(b"M 100644 inline README\n")
            data(b"repository %d\n" % seed)
            changed = list(range(files))
        for f in changed:
            out.extend(b"M 100644 inline src/f%03d.c\n" % f)
            data(_text(seed, f, n, size))
    out.extend(b"reset refs/tags/RELEASE-0.1.0\nfrom :%d\n\n" % commits)
    subprocess.run(["git", "-C", str(path), "fast-import", "--quiet"], input=bytes(out), check=True, env=CLEAN_ENV)


def _text(seed: int, file: int, rev: int, size: int) -> bytes:
    line = f"/* repo {seed} file {file} rev {rev} */ int v{file}_{rev} = {seed * 7919 + rev};\n".encode()
    return line * max(1, size // len(line))


def _more_commits(path: Path, count: int) -> None:
    repo = pygit2.Repository(str(path))
    head = repo.references["refs/heads/main"].peel(pygit2.Commit)
    parent = head.id
    for n in range(count):
        index = pygit2.Index()
        index.read_tree(repo[parent].peel(pygit2.Tree))
        blob = repo.create_blob(f"moved after {parent}\n".encode() * 20)  # new content each time it moves
        index.add(pygit2.IndexEntry(f"moved{n}.txt", blob, pygit2.enums.FileMode.BLOB))
        sig = pygit2.Signature("bench", "bench@ukws.invalid", SIG_TIME + 10_000_000 + n, 0)
        parent = repo.create_commit("refs/heads/main", sig, sig, "moved", index.write_tree(repo), [parent])


def make_corpus(root: Path, repos: int, commits: int, large_commits: int, large_files: int) -> list[str]:
    root.mkdir(parents=True)
    names = [f"lib-{i:03}" for i in range(repos)]
    jobs = [(root / n, commits, 20, 600, i) for i, n in enumerate(names)]
    if large_commits:
        names.append("large")
        jobs.append((root / "large", large_commits, large_files, 4000, 999))
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(lambda a: _commit_series(*a), jobs))
    return names


def write_manifest(path: Path, base_url: str, names: Sequence[str], jobs: int) -> None:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<manifest>",
        f'  <remote name="bench" fetch="{base_url}"/>',
        f'  <default remote="bench" revision="main" sync-j="{jobs}"/>',
    ]
    lines += [f'  <project name="{n}" path="p/{n}"/>' for n in names]
    lines.append("</manifest>")
    path.write_text("\n".join(lines) + "\n")


# -- measuring -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Run:
    seconds: float
    max_rss_mb: float


_MEASURE = """
import os, sys, time
out, argv = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(argv[0], argv)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(out, "w") as f:
    f.write(f"{seconds} {usage.ru_maxrss}")
sys.exit(os.waitstatus_to_exitcode(status))
"""
"""Runs a command from a small process and writes its wall time and peak memory. Linux counts a
process's peak memory from the one it was forked from: measured straight from this script (which
holds the in-process syncs' memory), every command would show this script's size."""


def run(argv: Sequence[str], cwd: Path) -> Run:
    """Run a command to completion; its wall time and peak resident memory."""
    with tempfile.NamedTemporaryFile(prefix="ukws-bench-", suffix=".txt") as out:
        wrapped = [sys.executable, "-c", _MEASURE, out.name, *argv]
        proc = subprocess.run(wrapped, cwd=cwd, env=CLEAN_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr.decode()}")
        seconds, rss_kb = Path(out.name).read_text().split()
    return Run(seconds=float(seconds), max_rss_mb=int(rss_kb) / 1024)


def _plain(argv: Sequence[str], cwd: Path) -> None:
    proc = subprocess.run(argv, cwd=cwd, env=CLEAN_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr.decode()}")


def parallel(commands: Sequence[Sequence[str]], cwd: Path, jobs: int) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(lambda c: _plain(c, cwd), commands))
    return time.perf_counter() - start


def ukws(*args: str) -> list[str]:
    return [sys.executable, "-m", "ukws", *args]


def in_process(ws: Path, *args: str) -> float:
    """Seconds of the sync of ``ukws sync ARGS`` in ``ws`` without process start and imports
    (see :func:`measure`)."""
    proc = subprocess.run(
        [sys.executable, __file__, "--measure", str(ws), *args], env=CLEAN_ENV, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise SystemExit(f"in-process sync in {ws} failed:\n{proc.stderr}")
    return float(proc.stdout.split()[-1])


def measure(ws: Path, args: Sequence[str]) -> None:
    """Print the seconds the CLI's sync takes after its imports (``-j N`` and ``-l`` understood)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from ukws.cli import output
    from ukws.cli.syncrun import run_sync

    jobs = int(args[args.index("-j") + 1]) if "-j" in args else 0
    local = "-l" in args
    output.STATE.cwd = ws
    start = time.perf_counter()
    # What the CLI's sync does after its imports (the full sync: it records a no-op as the command does).
    _, result, _ = run_sync(None, jobs, not local, True, False, False, False, None, True)
    seconds = time.perf_counter() - start
    if not result.ok:
        raise SystemExit("\n".join(o.message for o in result.outcomes if o.message))
    print(f"{seconds:.4f}")


_IN_THREADS = """
lock = threading.Lock()
def work():
    while True:
        with lock:
            if not todo:
                return
            item = todo.pop()
        job(item)
threads = [threading.Thread(target=work) for _ in range(jobs)]
for t in threads:
    t.start()
for t in threads:
    t.join()
"""
"""The end of a floor script: ``job`` over every item of ``todo`` in ``jobs`` threads."""

PYGIT2_FETCH = """
import os, sys, threading
import pygit2
root, remote, jobs = sys.argv[1], sys.argv[2], int(sys.argv[3])
todo = sorted(os.path.join(root, d) for d in os.listdir(root))
def job(path):
    pygit2.Repository(path).remotes[remote].fetch()
""" + _IN_THREADS
"""The no-op floor through pygit2: a process that imports pygit2 and fetches every clone's remote in
J threads, and does nothing else (no manifest, no checks, no state)."""


def pygit2_fetch(folder: Path, jobs: int) -> float:
    """Seconds of :data:`PYGIT2_FETCH` over the clones in ``folder`` (a ukws workspace's ``p``)."""
    return run([sys.executable, "-c", PYGIT2_FETCH, str(folder), "bench", str(jobs)], folder).seconds


ADVERTISEMENTS = """
import socket, sys, threading
import pygit2
host, port, jobs, todo = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
def read_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise SystemExit("the daemon closed the connection")
        data += chunk
    return data
def job(name):
    with socket.create_connection((host, port)) as sock:
        request = f"git-upload-pack /{name}\\0host={host}:{port}\\0".encode()
        sock.sendall(b"%04x" % (len(request) + 4) + request)
        while (size := int(read_exactly(sock, 4), 16)) != 0:  # pkt-lines up to the flush packet
            read_exactly(sock, size - 4)
        sock.sendall(b"0000")  # want nothing
""" + _IN_THREADS
"""The no-op floor of the transport itself: a process that imports pygit2 (as every sync must), then
reads the git daemon's ref advertisement of every repository over plain sockets in J threads and
asks for nothing: what any client must do at the least to learn that nothing changed."""


def advertisements(base_url: str, names: Sequence[str], jobs: int, cwd: Path) -> float:
    """Seconds of :data:`ADVERTISEMENTS` against the git daemon at ``base_url``."""
    host, _, port = base_url.removeprefix("git://").strip("/").partition(":")
    return run([sys.executable, "-c", ADVERTISEMENTS, host, port, str(jobs), *names], cwd).seconds


def median_run(runs: Sequence[Run]) -> Run:
    """The run of median wall time (its memory figure comes with it)."""
    ordered = sorted(runs, key=lambda r: r.seconds)
    return ordered[(len(ordered) - 1) // 2]


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


@contextlib.contextmanager
def daemon(root: Path) -> Iterator[str]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.servers import serve_git_daemon

    with serve_git_daemon(root) as server:
        yield server.base_url


# -- the benchmark -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Figures:
    transport: str
    cold: Run
    git_clone: float
    git_local: float | None
    west: float | None
    repo: float | None
    west_noop: float | None
    """A second ``west update`` right after the cold one."""
    repo_noop: float | None
    """A second ``repo sync`` right after the cold one."""
    noop: Run
    noop_local: Run
    """``sync -l`` as users run it: answered from the no-op record the sync before it left."""
    noop_local_full: Run
    noop_pinned: Run
    incremental: Run
    git_pull: float
    git_fetch: float
    """``git fetch`` in every clone, nothing new: the plain-git no-op."""
    pygit2_fetch: float
    """The no-op floor: pygit2 imported and every clone fetched, nothing else (:data:`PYGIT2_FETCH`)."""
    advertisements: float | None
    """Over the git daemon, the transport's floor: pygit2 imported and every advertisement read over
    plain sockets (:data:`ADVERTISEMENTS`)."""
    inproc: dict[str, float]
    """In-process seconds of cold, noop, noop_local, noop_pinned, incremental."""
    loads: dict[str, str]
    """The load average when each figure was taken (its last round)."""


def bench_transport(
    transport: str, base_url: str, corpus: Path, names: Sequence[str], work: Path, jobs: int, repeat: int
) -> Figures:
    ws = work / f"ws-{transport}"
    ws.mkdir()
    write_manifest(work / f"{transport}.xml", base_url, names, jobs)
    run(ukws("init", "-m", str(work / f"{transport}.xml"), str(ws)), work)
    loads: dict[str, str] = {}

    def empty_workspace() -> None:
        shutil.rmtree(ws / "p", ignore_errors=True)
        shutil.rmtree(ws / ".ukws" / "state", ignore_errors=True)

    # cold: each round runs ukws (whole command, then in-process) and every baseline once
    colds: list[Run] = []
    cold_in: list[float] = []
    clones: list[float] = []
    locals_: list[float] = []
    wests: list[tuple[float, float]] = []
    repos: list[tuple[float, float]] = []
    use_west = shutil.which("west") is not None and transport == "file"
    use_repo = shutil.which("repo") is not None
    for i in range(repeat):
        empty_workspace()
        colds.append(run(ukws("sync", "-j", str(jobs)), ws))
        empty_workspace()
        cold_in.append(in_process(ws, "-j", str(jobs)))
        dest = work / f"git-{transport}-{i}"
        dest.mkdir()
        clones.append(parallel([["git", "clone", "-q", f"{base_url.rstrip('/')}/{n}", n] for n in names], dest, jobs))
        if i < repeat - 1:
            shutil.rmtree(dest)
        if transport == "file":
            local = work / "git-local"
            shutil.rmtree(local, ignore_errors=True)
            local.mkdir()
            commands = [["git", "clone", "-q", "--local", str(corpus / n), n] for n in names]
            locals_.append(parallel(commands, local, jobs))
        if use_west:
            wests.append(bench_west(work / f"west-{i}", base_url, names, jobs))
        if use_repo:
            repos.append(bench_repo(work / f"repo-{transport}-{i}", base_url, names, jobs))
        loads["cold"] = load()
    inproc: dict[str, float] = {"cold": statistics.median(cold_in)}
    git_dir = work / f"git-{transport}-{repeat - 1}"

    # no-op: nothing changed; ukws and git fetch alternate
    noops: list[Run] = []
    noop_in: list[float] = []
    noop_locals: list[Run] = []
    noop_local_in: list[float] = []
    noop_local_fulls: list[Run] = []
    """``sync -l -v``: -v lists every project, which the full sync does (the record is not used)."""
    fetches: list[float] = []
    floors: list[float] = []
    adverts: list[float] = []
    for _ in range(repeat):
        noops.append(run(ukws("sync", "-j", str(jobs)), ws))
        floors.append(pygit2_fetch(ws / "p", jobs))
        if transport == "daemon":
            adverts.append(advertisements(base_url, names, jobs, ws))
        noop_in.append(in_process(ws, "-j", str(jobs)))
        noop_local_in.append(in_process(ws, "-l"))
        noop_locals.append(run(ukws("sync", "-l"), ws))
        noop_local_fulls.append(run(ukws("-v", "sync", "-l"), ws))
        fetches.append(parallel([["git", "-C", n, "fetch", "-q"] for n in names], git_dir, jobs))
    loads["noop"] = loads["noop_local"] = load()
    inproc["noop"], inproc["noop_local"] = statistics.median(noop_in), statistics.median(noop_local_in)
    # Every project pinned to a commit it already has (a lock): no network needed, none used.
    write_lock(ws, names)
    pinned = [run(ukws("sync", "-j", str(jobs)), ws) for _ in range(repeat)]
    inproc["noop_pinned"] = statistics.median(in_process(ws, "-j", str(jobs)) for _ in range(repeat))
    loads["noop_pinned"] = load()
    (ws / ".ukws" / "lock.xml").unlink()

    # incremental: 5 repositories move, anew before each run (ukws, git pull, ukws in-process)
    moved = [n for n in names if n != "large"][:: max(1, (len(names) - 1) // 5)][:5]
    incrementals: list[Run] = []
    pulls: list[float] = []
    incremental_in: list[float] = []
    for _ in range(repeat):
        for n in moved:
            _more_commits(corpus / n, 3)
        incrementals.append(run(ukws("sync", "-j", str(jobs)), ws))
        pulls.append(parallel([["git", "-C", n, "pull", "-q", "--ff-only"] for n in names], git_dir, jobs))
        for n in moved:
            _more_commits(corpus / n, 3)
        incremental_in.append(in_process(ws, "-j", str(jobs)))
    incremental, git_pull = median_run(incrementals), statistics.median(pulls)
    inproc["incremental"] = statistics.median(incremental_in)
    loads["incremental"] = load()
    return Figures(
        transport=transport,
        cold=median_run(colds),
        git_clone=statistics.median(clones),
        git_local=statistics.median(locals_) if locals_ else None,
        west=statistics.median(c for c, _ in wests) if wests else None,
        repo=statistics.median(c for c, _ in repos) if repos else None,
        west_noop=statistics.median(n for _, n in wests) if wests else None,
        repo_noop=statistics.median(n for _, n in repos) if repos else None,
        noop=median_run(noops),
        noop_local=median_run(noop_locals),
        noop_local_full=median_run(noop_local_fulls),
        noop_pinned=median_run(pinned),
        incremental=incremental,
        git_pull=git_pull,
        git_fetch=statistics.median(fetches),
        pygit2_fetch=statistics.median(floors),
        advertisements=statistics.median(adverts) if adverts else None,
        inproc=inproc,
        loads=loads,
    )


def write_lock(ws: Path, names: Sequence[str]) -> None:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<manifest>", '  <remote name="bench" fetch="."/>']
    for n in names:
        sha = str(pygit2.Repository(str(ws / "p" / n)).head.target)
        lines.append(f'  <project name="{n}" path="p/{n}" remote="bench" revision="{sha}" upstream="main"/>')
    lines.append("</manifest>")
    (ws / ".ukws" / "lock.xml").write_text("\n".join(lines) + "\n")


def bench_west(work: Path, base_url: str, names: Sequence[str], jobs: int) -> tuple[float, float]:
    """west: the same projects in a ``west.yml``, ``west init -l``, then a timed ``west update``
    (cold) and a second one (no-op). Seconds of each."""
    top = work / "west-ws"
    manifest = top / "manifest"
    manifest.mkdir(parents=True)
    lines = [
        "manifest:",
        "  remotes:",
        f"    - name: bench\n      url-base: {base_url.rstrip('/')}",
        "  defaults:",
        "    remote: bench",
        "    revision: main",
        "  projects:",
    ]
    lines += [f"    - name: {n}\n      path: p/{n}" for n in names]
    (manifest / "west.yml").write_text("\n".join(lines) + "\n")
    run(["west", "init", "-l", str(manifest)], top)
    cold = run(["west", "update", "-o=-q"], top).seconds
    return cold, run(["west", "update", "-o=-q"], top).seconds


def bench_repo(work: Path, base_url: str, names: Sequence[str], jobs: int) -> tuple[float, float]:
    """Google repo: the same manifest in a manifest repository, ``repo init``, then a timed
    ``repo sync -jJ`` (cold) and a second one (no-op); seconds of each. repo fetches its own code
    from ``$REPO_URL`` (at ``$REPO_REV``) during init, as usual: without a network, point them at a
    local clone of git-repo."""
    source = work / "manifest"
    source.mkdir(parents=True)
    write_manifest(source / "default.xml", base_url, names, jobs)
    for argv in (["git", "init", "-q", "-b", "main"], ["git", "add", "default.xml"], ["git", "commit", "-qm", "bench"]):
        subprocess.run(argv, cwd=source, env={**CLEAN_ENV, **IDENTITY}, check=True)
    top = work / "top"
    top.mkdir()
    run(["repo", "init", "-q", "-u", source.as_uri(), "-b", "main", "--no-repo-verify"], top)
    cold = run(["repo", "sync", "-q", f"-j{jobs}"], top).seconds
    return cold, run(["repo", "sync", "-q", f"-j{jobs}"], top).seconds


IDENTITY = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@ukws.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@ukws.invalid",
}


def report(f: Figures, projects: int) -> list[str]:
    # The targets are the issue's, set for the default corpus (101 repositories); on another size
    # they are printed but not judged, as start-up does not scale with the number of projects.
    judged = projects == 101

    t = f.transport
    ip = f.inproc

    def check(ok: bool, *, any_size: bool = False) -> str:
        if not (judged or any_size):
            return "not judged: the targets are for 101 repositories"
        return "ok" if ok else "MISSED"

    def both(whole: float, key: str) -> str:
        return f"{whole:.2f}s whole command, {ip[key]:.2f}s in-process"

    rows = [
        f"[{t}] cold: ukws {both(f.cold.seconds, 'cold')}; git clone x{projects} (parallel) {f.git_clone:.2f}s"
        f" -> ratio {f.cold.seconds / f.git_clone:.2f} whole, {ip['cold'] / f.git_clone:.2f} in-process"
        f" [load {f.loads['cold']}]",
    ]
    if f.git_local is not None:
        rows.append(
            f"[{t}] floor: git clone --local x{projects} (parallel) {f.git_local:.2f}s -> ukws is"
            f" {f.cold.seconds / f.git_local:.2f}x whole, {ip['cold'] / f.git_local:.2f}x in-process"
            f" (target <= 1.2: {check(f.cold.seconds <= 1.2 * f.git_local, any_size=True)}) [load {f.loads['cold']}]"
        )
    if f.west is not None:
        rows.append(f"[{t}] west update {f.west:.2f}s -> ukws is {f.cold.seconds / f.west:.2f}x")
    if f.repo is not None:
        rows.append(f"[{t}] repo sync {f.repo:.2f}s -> ukws is {f.cold.seconds / f.repo:.2f}x")
    versus = f"; git fetch x{projects} (parallel) {f.git_fetch:.2f}s -> ratio {f.noop.seconds / f.git_fetch:.2f}"
    rows.append(
        f"[{t}] no-op: {both(f.noop.seconds, 'noop')}{versus} (target <= 0.35s: whole"
        f" {check(f.noop.seconds <= 0.35)}, in-process {check(ip['noop'] <= 0.35)}) [load {f.loads['noop']}]"
    )
    # A sync that needs no network is answered from the no-op record before ukws's imports: there
    # is no in-process figure of that; the in-process one is of the full sync it stands for.
    for label, run_, key in (
        ("no-op, no network (sync -l)", f.noop_local, "noop_local"),
        ("no-op, pinned by a lock (sync)", f.noop_pinned, "noop_pinned"),
    ):
        rows.append(
            f"[{t}] {label}: {run_.seconds:.2f}s whole command, answered from the no-op record (target <="
            f" 0.12s: {check(run_.seconds <= 0.12)}); the full sync it stands for {ip[key]:.2f}s in-process"
            f" [load {f.loads[key]}]"
        )
    rows.append(
        f"[{t}] no-op, no network, the full sync (-v sync -l, which does not use the record):"
        f" {f.noop_local_full.seconds:.2f}s whole command [load {f.loads['noop_local']}]"
    )
    for peer, seconds in (("west update", f.west_noop), ("repo sync", f.repo_noop)):
        if seconds is not None:
            rows.append(f"[{t}] no-op: {peer} {seconds:.2f}s -> ukws is {f.noop.seconds / seconds:.2f}x")
    rows.append(
        f"[{t}] no-op floor: pygit2 imported and every clone fetched in {f.pygit2_fetch:.2f}s, nothing else"
        f" -> ukws is {f.noop.seconds / f.pygit2_fetch:.2f}x"
    )
    if f.advertisements is not None:
        where = "above" if f.advertisements < 0.35 else "below"
        rows.append(
            f"[{t}] no-op floor of the transport: pygit2 imported and every repository's ref advertisement read"
            f" over plain sockets in {f.advertisements:.2f}s, nothing else"
            + (f" (the 0.35s target is {where} it)" if judged else "")
            + f" -> ukws is {f.noop.seconds / f.advertisements:.2f}x"
        )
    rows += [
        f"[{t}] incremental (5 moved): ukws {both(f.incremental.seconds, 'incremental')}; git pull x{projects}"
        f" (parallel) {f.git_pull:.2f}s -> ratio {f.incremental.seconds / f.git_pull:.2f} (target <= 0.6 s:"
        f" whole {check(f.incremental.seconds <= 0.6)}, in-process {check(ip['incremental'] <= 0.6)})"
        f" [load {f.loads['incremental']}]",
        f"[{t}] peak memory: cold {f.cold.max_rss_mb:.0f} MB, no-op {f.noop.max_rss_mb:.0f} MB, "
        f"incremental {f.incremental.max_rss_mb:.0f} MB (target <= 100: "
        f"{check(max(f.cold.max_rss_mb, f.noop.max_rss_mb, f.incremental.max_rss_mb) <= 100, any_size=True)})",
    ]
    return rows


def main() -> None:
    if sys.argv[1:2] == ["--measure"]:
        measure(Path(sys.argv[2]), sys.argv[3:])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repos", type=int, default=100, help="small repositories (default 100)")
    ap.add_argument("--commits", type=int, default=200, help="commits per small repository (default 200)")
    ap.add_argument("--large-commits", type=int, default=20_000, help="commits of the large repository (0: none)")
    ap.add_argument("--large-files", type=int, default=200, help="files of the large repository")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="parallel jobs for ukws and git (default 2)")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved rounds per figure (>= 3); the median is kept")
    ap.add_argument("--transports", default="file,daemon", help="comma-separated: file, daemon")
    ap.add_argument("--keep", type=Path, help="build everything in this folder and keep it")
    args = ap.parse_args()
    if args.repeat < 3:
        ap.error("--repeat: at least 3 rounds (the median of fewer says little on a busy machine)")
    if shutil.which("git") is None:
        raise SystemExit("git is needed for the baselines")

    with contextlib.ExitStack() as stack:
        if args.keep:
            work = args.keep.resolve()
            work.mkdir(parents=True)
        else:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ukws-bench-")))
        started = time.perf_counter()
        names = make_corpus(work / "corpus", args.repos, args.commits, args.large_commits, args.large_files)
        print(f"corpus: {len(names)} repositories in {time.perf_counter() - started:.1f}s", flush=True)
        package = Path(__file__).resolve().parent.parent / "ukws"
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True, stdout=subprocess.DEVNULL)
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
        startup = statistics.median(run(ukws("--version"), work).seconds for _ in range(3))
        floor = statistics.median(
            run([sys.executable, "-c", "import pygit2, lxml.etree"], work).seconds for _ in range(3)
        )
        print(
            f"start-up: ukws --version {startup:.2f}s; floor of a sync (python importing pygit2 and lxml)"
            f" {floor:.2f}s, part of every whole-command figure",
            flush=True,
        )
        for transport in args.transports.split(","):
            # Each transport gets its own copy of the corpus: the incremental step moves repositories.
            corpus = work / f"corpus-{transport}"
            shutil.copytree(work / "corpus", corpus)
            if transport == "file":
                figures = bench_transport("file", corpus.as_uri(), corpus, names, work, args.jobs, args.repeat)
            elif transport == "daemon":
                with daemon(corpus) as url:
                    figures = bench_transport("daemon", url, corpus, names, work, args.jobs, args.repeat)
            else:
                raise SystemExit(f"unknown transport {transport!r}")
            for line in report(figures, len(names)):
                print(line, flush=True)
        if not shutil.which("west"):
            print("west: not installed, skipped (pip install west to compare)")
        if not shutil.which("repo"):
            print("Google repo: not installed, skipped (put git-repo's repo script on PATH to compare)")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
