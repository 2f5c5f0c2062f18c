"""``ukws sync``: clone, fetch and check out every project of a manifest, without losing work.

Each project is handled on its own (in a worker thread; libgit2 releases the GIL while it
transfers and checks out); a project that fails or cannot be updated safely is reported and the
others carry on. See docs/sync.md for the rules, in the words a user reads them.
"""

from __future__ import annotations

import contextlib
import enum
import queue
import re
import shutil
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ukws import git, syncstate
from ukws.errors import GitError, UkwsError, UsageError, WorkspaceError
from ukws.fileops import copy_file, is_inside, link_file, placed_digest, workspace_path
from ukws.manifest.model import Manifest, Project

DEFAULT_JOBS = 8
SYNCED_REF = "refs/ukws/synced"
"""The commit the last sync checked out; commits beyond it on a detached HEAD are the user's."""
RECOVERY_PREFIX = "refs/ukws/recovery/"
_REMOTE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class Action(enum.StrEnum):
    CLONED = "cloned"
    FETCHED = "fetched"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    FAILED = "failed"
    REMOVED = "removed"
    PRUNED = "pruned"


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectOutcome:
    name: str
    path: str
    action: Action
    sha: str | None = None
    message: str = ""
    """One line; for skipped and failed projects it names the project, the cause and what to do."""
    recovery_ref: str | None = None
    """Where commits of a detached HEAD were kept before it moved (see docs/sync.md)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgressEvent:
    """A throttled progress report, delivered on the thread that called :func:`sync`."""

    name: str
    path: str
    phase: str
    """``fetch`` while objects arrive, ``done`` when the project is finished (``outcome`` set)."""
    received_objects: int = 0
    total_objects: int = 0
    received_bytes: int = 0
    outcome: ProjectOutcome | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncOptions:
    jobs: int = 0
    """Projects handled at once; 0: the manifest's ``sync-j``, else 8."""
    fetch: bool = True
    """False for ``--local-only``: no network access at all."""
    checkout: bool = True
    """False for ``--network-only``: fetch, touch no working tree."""
    fail_fast: bool = False
    rebase: bool = False
    prune: bool = False
    depth: int | None = None
    """Overrides every project's clone-depth."""
    only: tuple[str, ...] = ()
    """Project names or paths; empty: every project of the manifest."""
    mirror: bool = False
    """Keep bare mirrors (``<name>.git``) instead of checkouts."""
    reference: Path | None = None
    """A mirror (or another workspace) to borrow objects from when cloning."""
    urls: Callable[[Project], Sequence[str]] | None = None
    """Candidate URLs of a project, tried in order; default ``(project.fetch_url,)``."""
    pins: Mapping[str, str] = field(default_factory=dict)
    """Project path -> full commit SHA (from the lock); overrides the manifest revision."""
    progress: Callable[[ProgressEvent], None] | None = None
    timeout: float = 60.0
    """Seconds a connection or a stalled transfer may take before it fails."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncResult:
    outcomes: tuple[ProjectOutcome, ...]
    ok: bool
    """False when any project was skipped or failed (the CLI exits 1)."""


_BAD = frozenset({Action.SKIPPED, Action.FAILED})


def sync(*, root: Path, state_dir: Path, manifest: Manifest, options: SyncOptions) -> SyncResult:
    """Bring every selected project of ``manifest`` to its revision under ``root``."""
    projects = _select(manifest, options.only)
    if options.mirror:  # one mirror per repository, however many paths check it out
        firsts: dict[str, Project] = {}
        for p in projects:
            firsts.setdefault(_dest_rel(p, options), p)
        projects = list(firsts.values())
    sync_dir = state_dir / "sync"
    with syncstate.workspace_lock(sync_dir):
        syncstate.clean_scratch(sync_dir)
        state = syncstate.load_state(sync_dir)
        if options.fetch:
            git.set_timeouts(options.timeout)
        ctx = _Context(root=root, sync_dir=sync_dir, options=options)
        outcomes = _run_all(ctx, projects, manifest)
        files = state.files
        if options.checkout and not options.mirror:
            placed: dict[str, syncstate.Placed] = {}
            outcomes = [_place_files(ctx, p, o, placed) for p, o in zip(projects, outcomes, strict=True)]
            done = {p.path for p, o in zip(projects, outcomes, strict=True) if o.action not in _BAD}
            if not options.only:
                done |= {e.path for e in state.projects} - {p.path for p in manifest.projects}
            files = _retire_files(ctx, state.files, placed, done)
        kept, removed = _removed(ctx, state, manifest, projects) if not options.only else (state.projects, [])
        present = {e.path: e for e in kept}
        for p in projects:
            rel = _dest_rel(p, options)
            if git.git_dir(ctx.root / rel) is not None:
                present[rel] = syncstate.Entry(path=rel, name=p.name, mirror=options.mirror)
        syncstate.save_state(sync_dir, syncstate.State(projects=tuple(present.values()), files=files))
    all_outcomes = (*outcomes, *removed)
    return SyncResult(outcomes=all_outcomes, ok=not any(o.action in _BAD for o in all_outcomes))


def _select(manifest: Manifest, only: Sequence[str]) -> list[Project]:
    if not only:
        return list(manifest.projects)
    chosen: dict[str, Project] = {}
    for item in only:
        matches = [p for p in manifest.projects if item in (p.name, p.path)]
        if not matches:
            raise UsageError(f"no project {item!r} in the manifest")
        for p in matches:
            chosen[p.path] = p
    return [p for p in manifest.projects if p.path in chosen]


def _dest_rel(p: Project, options: SyncOptions) -> str:
    if options.mirror:
        return p.name if p.name.endswith(".git") else f"{p.name}.git"
    return p.path


@dataclass(slots=True, kw_only=True)
class _Context:
    root: Path
    sync_dir: Path
    options: SyncOptions


# --------------------------------------------------------------------------------------------------
# Scheduling
# --------------------------------------------------------------------------------------------------


def _run_all(ctx: _Context, projects: list[Project], manifest: Manifest) -> list[ProjectOutcome]:
    """Run every project in a thread pool, a nested project after the one containing it; report
    progress from this thread while the workers run."""
    options = ctx.options
    jobs = options.jobs or manifest.default.sync_j or DEFAULT_JOBS
    paths = {p.path for p in projects}
    parent: dict[str, str | None] = {}
    for p in projects:
        parts = p.path.split("/")
        parent[p.path] = next(
            ("/".join(parts[:i]) for i in range(len(parts) - 1, 0, -1) if "/".join(parts[:i]) in paths), None
        )
    results: dict[str, ProjectOutcome] = {}
    progress: dict[str, git.Progress] = {p.path: git.Progress() for p in projects}
    waiting = list(projects)
    running: dict[str, Project] = {}
    stop = False
    last: dict[str, tuple[int, int, int]] = {}
    workers = max(1, min(jobs, len(projects) or 1))
    todo: queue.SimpleQueue[Project | None] = queue.SimpleQueue()
    finished: queue.SimpleQueue[tuple[Project, ProjectOutcome]] = queue.SimpleQueue()

    def worker() -> None:
        while (p := todo.get()) is not None:
            finished.put((p, _guarded(ctx, p, progress[p.path])))

    # Daemon threads: an interrupted sync returns at once; a transfer still running dies with the
    # process, and the next sync repairs what it left (see docs/sync.md).
    threads = [threading.Thread(target=worker, name=f"ukws-sync-{i}", daemon=True) for i in range(workers)]
    for t in threads:
        t.start()
    try:
        while waiting or running:
            if not stop:
                ready = [p for p in waiting if parent[p.path] is None or parent[p.path] in results]
                for p in ready[: max(0, workers - len(running))]:
                    waiting.remove(p)
                    running[p.path] = p
                    todo.put(p)
            try:
                done = [finished.get(timeout=0.1)]
                while not finished.empty():
                    done.append(finished.get())
            except queue.Empty:
                done = []
            for p, outcome in done:
                del running[p.path]
                results[p.path] = outcome
                if options.fail_fast and outcome.action in _BAD:
                    stop = True
                _report(options, p, "done", progress[p.path], outcome)
            if stop and not running:
                for p in waiting:
                    results[p.path] = _outcome(p, Action.SKIPPED, "not synced: stopped after a failure (--fail-fast)")
                waiting = []
            if options.progress is not None:
                for p in running.values():
                    now = progress[p.path].sample()
                    if now != last.get(p.path) and now[1]:
                        last[p.path] = now
                        _report(options, p, "fetch", progress[p.path], None)
    finally:
        for _ in threads:
            todo.put(None)
    return [results[p.path] for p in projects]


def _report(options: SyncOptions, p: Project, phase: str, pr: git.Progress, outcome: ProjectOutcome | None) -> None:
    if options.progress is not None:
        options.progress(
            ProgressEvent(
                name=p.name,
                path=p.path,
                phase=phase,
                received_objects=pr.received_objects,
                total_objects=pr.total_objects,
                received_bytes=pr.received_bytes,
                outcome=outcome,
            )
        )


def _outcome(
    p: Project, action: Action, message: str = "", *, sha: str | None = None, recovery_ref: str | None = None
) -> ProjectOutcome:
    return ProjectOutcome(name=p.name, path=p.path, action=action, message=message, sha=sha, recovery_ref=recovery_ref)


def _guarded(ctx: _Context, p: Project, progress: git.Progress) -> ProjectOutcome:
    """One project, every error turned into a failed outcome naming the project."""
    try:
        return _sync_project(ctx, p, progress)
    except _Skip as e:
        return _outcome(p, Action.SKIPPED, f"{p.name} ({p.path}): {e}")
    except UkwsError as e:
        return _outcome(p, Action.FAILED, f"{p.name} ({p.path}): {e}")
    except Exception as e:  # a bug or an unexpected libgit2 error must not stop the other projects
        text = " ".join(str(e).split())
        return _outcome(p, Action.FAILED, f"{p.name} ({p.path}): {type(e).__name__}: {text}")


class _Skip(UkwsError):
    """The project cannot be updated without risking the user's work."""


# --------------------------------------------------------------------------------------------------
# One project
# --------------------------------------------------------------------------------------------------


def _sync_project(ctx: _Context, p: Project, progress: git.Progress) -> ProjectOutcome:
    options = ctx.options
    rev = options.pins.get(p.path) or p.revision
    git.check_revision(rev)
    urls = tuple(options.urls(p)) if options.urls is not None else (p.fetch_url,)
    for url in urls:
        git.check_url(url)
    dest = workspace_path(ctx.root, _dest_rel(p, options), "project path")
    if not is_inside(dest.resolve(), ctx.root.resolve()):  # pragma: no cover - workspace_path checked it
        raise WorkspaceError(f"{p.path} leads outside the workspace")
    fetcher = _Fetcher(
        p=p, urls=urls, depth=options.depth or p.clone_depth or 0, progress=progress, allowed=options.fetch
    )
    gitdir = git.git_dir(dest)
    if gitdir is None:
        return _clone(ctx, p, rev, dest, fetcher)
    journal = syncstate.Journal(ctx.sync_dir, p.path)
    repo = git.open_repo(dest)
    note = _repair(ctx, repo, journal, gitdir)
    if options.mirror:
        fetcher.journal = journal
        try:
            fetcher.mirror(repo)
        finally:
            journal.clear()
        return _outcome(p, Action.FETCHED, sha=_resolve_local(repo, rev, p))
    target, fetched = _resolve(repo, rev, p, fetcher, journal)
    if not options.checkout:
        journal.clear()
        return _outcome(p, Action.FETCHED if fetched else Action.UNCHANGED, sha=target)
    outcome = _update(ctx, repo, p, rev, target, journal)
    journal.clear()
    if note:
        outcome = replace(outcome, message="; ".join(m for m in (outcome.message, f"{p.name} ({p.path}): {note}") if m))
    if fetched and outcome.action is Action.UNCHANGED and not outcome.message:
        return replace(outcome, action=Action.FETCHED)
    return outcome


@dataclass(slots=True, kw_only=True)
class _Fetcher:
    """Fetches for one project, trying each candidate URL in turn."""

    p: Project
    urls: tuple[str, ...]
    depth: int
    progress: git.Progress
    allowed: bool
    journal: syncstate.Journal | None = None
    """Written before the first fetch that may write to the repository."""

    def __call__(self, repo: git.Repository, refspecs: Sequence[str], what: str) -> None:
        if not self.allowed:
            raise GitError(f"{what} is not present locally; sync without --local-only to fetch it")
        if git.refs_current(repo, self.urls[0], refspecs):
            return
        if self.journal is not None and not self.journal.written:
            self.journal.write(op="fetch")
            git.ensure_remote(repo, _remote_name(self.p), self.urls[0])
        errors: list[str] = []
        for url in self.urls:
            try:
                git.fetch(repo, url, refspecs, depth=self.depth, progress=self.progress)
                return
            except GitError as e:
                errors.append(f"{url}: {e}")
        others = f" (and {len(errors) - 1} other URLs)" if len(errors) > 1 else ""
        raise GitError(f"cannot fetch {what} from {errors[0]}{others}; check the URL and the network, then sync again")

    def mirror(self, repo: git.Repository) -> None:
        self(repo, ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"], "the repository")


def _remote_name(p: Project) -> str:
    return p.remote if _REMOTE_NAME.fullmatch(p.remote) else "origin"


def _resolve_local(repo: git.Repository, rev: str, p: Project) -> str | None:
    """The commit ``rev`` names with what the repository holds already (no network)."""
    remote = _remote_name(p)
    if git.is_sha(rev):
        return git.commit_of(repo, rev)
    if rev.startswith("refs/heads/"):
        return git.commit_of(repo, f"refs/remotes/{remote}/{rev.removeprefix('refs/heads/')}") or git.commit_of(
            repo, rev
        )
    if rev.startswith("refs/tags/"):
        return git.commit_of(repo, rev)
    if rev.startswith("refs/"):
        return git.commit_of(repo, f"refs/ukws/fetched/{rev.removeprefix('refs/')}")
    return (
        git.commit_of(repo, f"refs/remotes/{remote}/{rev}")
        or git.commit_of(repo, f"refs/tags/{rev}")
        or git.commit_of(repo, f"refs/heads/{rev}")
    )


def _resolve(
    repo: git.Repository, rev: str, p: Project, fetch: _Fetcher, journal: syncstate.Journal
) -> tuple[str, bool]:
    """The commit to check out, fetching only what is missing. Returns (sha, whether it fetched).

    A SHA or a tag already present needs no network; a branch is always fetched.
    """
    remote = _remote_name(p)
    is_tag = rev.startswith("refs/tags/") or (
        not rev.startswith("refs/")
        and repo.references.get(f"refs/tags/{rev}") is not None
        and repo.references.get(f"refs/remotes/{remote}/{rev}") is None
    )
    before = _resolve_local(repo, rev, p)
    if (git.is_sha(rev) or is_tag) and before is not None:
        return before, False
    if not fetch.allowed:
        sha = before
        if sha is None:
            raise GitError(f"{rev} is not present locally; sync without --local-only to fetch it")
        return sha, False
    fetch.journal = journal
    try:
        _fetch_revision(repo, rev, remote, fetch)
    except Exception:
        journal.clear()  # the fetch returned an error: libgit2 has released what it locked
        raise
    sha = _resolve_local(repo, rev, p)
    if sha is None:
        raise GitError(f"revision {rev} not found at {fetch.urls[0]}; check the manifest's revision")
    return sha, sha != before


def _fetch_revision(repo: git.Repository, rev: str, remote: str, fetch: _Fetcher) -> None:
    if git.is_sha(rev):
        with contextlib.suppress(GitError):
            fetch(repo, [rev], rev)
        if git.commit_of(repo, rev) is None:
            fetch(repo, [f"+refs/heads/*:refs/remotes/{remote}/*", "+refs/tags/*:refs/tags/*"], rev)
    elif rev.startswith("refs/heads/"):
        fetch(repo, [f"+{rev}:refs/remotes/{remote}/{rev.removeprefix('refs/heads/')}"], rev)
    elif rev.startswith("refs/tags/"):
        fetch(repo, [f"+{rev}:{rev}"], rev)
    elif rev.startswith("refs/"):
        fetch(repo, [f"+{rev}:refs/ukws/fetched/{rev.removeprefix('refs/')}"], rev)
    else:
        fetch(repo, [f"+refs/heads/{rev}:refs/remotes/{remote}/{rev}", f"+refs/tags/{rev}:refs/tags/{rev}"], rev)


def _clone(ctx: _Context, p: Project, rev: str, dest: Path, fetch: _Fetcher) -> ProjectOutcome:
    """Build the clone in scratch space, then rename it into place (an interrupted clone leaves
    nothing in the workspace)."""
    options = ctx.options
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise _Skip(f"{p.path} exists and is not a git repository; move it away and sync again")
    if not options.fetch:
        raise GitError("not cloned yet; sync without --local-only to clone it")
    tmp = syncstate.scratch_dir(ctx.sync_dir, "tmp", p.path)
    repo = git.init(tmp, bare=options.mirror)
    if options.reference is not None:
        borrowed = _reference_repo(options.reference, p)
        if borrowed is not None:
            git.add_alternate(repo, (borrowed / "objects").resolve())
            with contextlib.suppress(GitError):
                git.fetch(repo, str(borrowed), _refspecs_for(rev, p, mirror=options.mirror))
    for url in fetch.urls[:1]:
        source = git.local_source(url)
        if source is not None:
            git.seed_objects(repo, source)
    repo.remotes.create(_remote_name(p), fetch.urls[0])
    if options.mirror:
        fetch.mirror(repo)
        sha = _resolve_local(repo, rev, p)
    else:
        journal = syncstate.Journal(ctx.sync_dir, p.path)
        sha, _ = _resolve(repo, rev, p, fetch, journal)
        journal.clear()
        if options.checkout:  # with --network-only, HEAD stays unborn: nothing is checked out yet
            git.checkout(repo, sha)
            git.set_ref(repo, SYNCED_REF, sha)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.is_dir():
        dest.rmdir()
    tmp.rename(dest)
    return _outcome(p, Action.CLONED, sha=sha)


def _refspecs_for(rev: str, p: Project, *, mirror: bool) -> list[str]:
    remote = _remote_name(p)
    if mirror:
        return ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"]
    return [f"+refs/heads/*:refs/remotes/{remote}/*", "+refs/tags/*:refs/tags/*"]


def _reference_repo(reference: Path, p: Project) -> Path | None:
    """The git directory in ``reference`` holding ``p``: a mirror (``<name>.git``, ``<name>``) or a
    checkout at the project's path."""
    base = p.name.removesuffix(".git")
    for candidate in (reference / f"{base}.git", reference / base, reference / p.path):
        found = git.git_dir(candidate)
        if found is not None:
            return found
    return None


def _repair(ctx: _Context, repo: git.Repository, journal: syncstate.Journal, gitdir: Path) -> str:
    """Finish what a killed sync was doing to this repository. Returns a note for the user ('' when
    there is nothing to say)."""
    entry = journal.read()
    if entry is None:
        return ""
    git.remove_stale_locks(gitdir)
    note = ""
    if entry.get("op") == "checkout":
        new = str(entry.get("to"))
        old = entry.get("from")
        branch = entry.get("branch")
        head = git.head(repo)
        if head.sha != new or head.branch != branch:
            keep = ctx.sync_dir / "rescued" / time.strftime("%Y%m%d-%H%M%S", time.gmtime()) / journal.path
            kept = git.finish_interrupted_checkout(
                repo, str(old) if old else None, new, branch=str(branch) if branch else None, keep_dir=keep
            )
            if kept:
                rel = keep.relative_to(ctx.root) if is_inside(keep, ctx.root) else keep
                note = (
                    f"finished an interrupted checkout; {len(kept)} file(s) it was writing were copied to {rel} "
                    "first, in case they held your edits"
                )
        git.set_ref(repo, SYNCED_REF, new)
    journal.clear()
    return note


def _update(
    ctx: _Context, repo: git.Repository, p: Project, rev: str, target: str, journal: syncstate.Journal
) -> ProjectOutcome:
    """Move the working tree to ``target`` without losing anything (see docs/sync.md)."""
    head = git.head(repo)
    synced = git.commit_of(repo, SYNCED_REF)
    if head.sha == target:
        if synced != target:
            git.set_ref(repo, SYNCED_REF, target)
        return _outcome(p, Action.UNCHANGED, sha=target)
    if head.branch is not None and head.sha is not None:
        return _update_branch(ctx, repo, p, rev, target, head.branch, head.sha, synced, journal)
    recovery = None
    message = ""
    if head.sha is not None and head.sha != synced and not _kept_elsewhere(repo, p, head.sha, target):
        ahead, _ = git.ahead_behind(repo, head.sha, target)
        recovery = _recovery_ref(repo, head.sha)
        message = (
            f"{p.name} ({p.path}): {ahead} commit(s) on the detached HEAD are not in {rev}; kept at "
            f"{recovery} (get them back: git -C {p.path} switch -c <branch> {recovery})"
        )
    journal.write(op="checkout", **{"from": head.sha, "to": target, "branch": None})
    try:
        git.checkout(repo, target)
    except git.CheckoutConflict as e:
        journal.clear()
        if recovery is not None:
            git.delete_ref(repo, recovery)
        raise _Skip(f"not updated to {rev}: {e}; commit or stash them, then sync again") from None
    git.set_ref(repo, SYNCED_REF, target)
    return _outcome(p, Action.UPDATED, message, sha=target, recovery_ref=recovery)


def _update_branch(
    ctx: _Context,
    repo: git.Repository,
    p: Project,
    rev: str,
    target: str,
    branch: str,
    tip: str,
    synced: str | None,
    journal: syncstate.Journal,
) -> ProjectOutcome:
    """HEAD is on a local branch: fast-forward it when it holds no commits of its own; with
    ``--rebase`` replay its commits onto the target; otherwise leave it alone."""
    if git.is_ancestor(repo, tip, target):
        journal.write(op="checkout", **{"from": tip, "to": target, "branch": branch})
        try:
            git.checkout(repo, target, branch=branch)
        except git.CheckoutConflict as e:
            journal.clear()
            raise _Skip(
                f"branch {branch} not fast-forwarded to {rev}: {e}; commit or stash them, then sync again"
            ) from None
        git.set_ref(repo, SYNCED_REF, target)
        return _outcome(p, Action.UPDATED, f"{p.name} ({p.path}): fast-forwarded branch {branch} to {rev}", sha=target)
    ahead, _ = git.ahead_behind(repo, tip, target)
    if git.is_ancestor(repo, target, tip):
        return _outcome(
            p,
            Action.UNCHANGED,
            f"{p.name} ({p.path}): branch {branch} is {ahead} commit(s) ahead of {rev}",
            sha=tip,
        )
    if not ctx.options.rebase:
        return _outcome(
            p,
            Action.UNCHANGED,
            f"{p.name} ({p.path}): branch {branch} has {ahead} commit(s) not "
            f"in {rev}; left as it is (sync --rebase replays them onto {rev})",
            sha=tip,
        )
    try:
        new_tip = git.replay(repo, tip, target, hide=[synced] if synced else [])
    except git.RebaseConflict as e:
        raise _Skip(f"rebase of branch {branch} onto {rev} aborted, branch unchanged: {e}; rebase by hand") from None
    journal.write(op="checkout", **{"from": tip, "to": new_tip, "branch": branch})
    try:
        git.checkout(repo, new_tip, branch=branch)
    except git.CheckoutConflict as e:
        journal.clear()
        raise _Skip(
            f"rebase of branch {branch} onto {rev} aborted, branch unchanged: {e}; "
            "commit or stash them, then sync again"
        ) from None
    git.set_ref(repo, SYNCED_REF, target)
    return _outcome(
        p,
        Action.UPDATED,
        f"{p.name} ({p.path}): rebased {ahead} commit(s) of branch {branch} onto {rev}",
        sha=new_tip,
    )


def _kept_elsewhere(repo: git.Repository, p: Project, sha: str, target: str) -> bool:
    """Whether commit ``sha`` stays reachable once HEAD leaves it: from the target, a local or
    remote-tracking branch, or a tag."""
    if git.is_ancestor(repo, sha, target):
        return True
    for prefix in ("refs/heads/", f"refs/remotes/{_remote_name(p)}/", RECOVERY_PREFIX):
        for ref in git.refs_under(repo, prefix):
            tip = git.commit_of(repo, ref)
            if tip is not None and git.is_ancestor(repo, sha, tip):
                return True
    return any(git.commit_of(repo, ref) == sha for ref in git.refs_under(repo, "refs/tags/"))


def _recovery_ref(repo: git.Repository, sha: str) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    name = f"{RECOVERY_PREFIX}{stamp}"
    n = 1
    while repo.references.get(name) is not None:
        n += 1
        name = f"{RECOVERY_PREFIX}{stamp}-{n}"
    git.set_ref(repo, name, sha, "ukws sync: commits of a detached HEAD")
    return name


# --------------------------------------------------------------------------------------------------
# Copy/link files, removed projects
# --------------------------------------------------------------------------------------------------


def _place_files(
    ctx: _Context, p: Project, outcome: ProjectOutcome, placed: dict[str, syncstate.Placed]
) -> ProjectOutcome:
    """Write the project's copy and link files; record each in ``placed``."""
    if outcome.action in _BAD or not (p.copyfiles or p.linkfiles):
        return outcome
    project_dir = ctx.root / p.path
    try:
        for c in p.copyfiles:
            target = copy_file(root=ctx.root, project_dir=project_dir, src=c.src, dest=c.dest)
            _record(placed, target, c.dest, p.path, "copy")
        for link in p.linkfiles:
            target = link_file(root=ctx.root, project_dir=project_dir, src=link.src, dest=link.dest)
            _record(placed, target, link.dest, p.path, "link")
    except (UkwsError, OSError) as e:
        return replace(outcome, action=Action.FAILED, message=f"{p.name} ({p.path}): {e}")
    return outcome


def _record(placed: dict[str, syncstate.Placed], target: Path, dest: str, project: str, kind: str) -> None:
    digest = placed_digest(target, kind)
    if digest is not None:
        placed[dest] = syncstate.Placed(dest=dest, project=project, kind=kind, digest=digest)


def _retire_files(
    ctx: _Context, before: tuple[syncstate.Placed, ...], placed: dict[str, syncstate.Placed], done: set[str]
) -> tuple[syncstate.Placed, ...]:
    """Delete copy and link files of earlier syncs that the manifest no longer declares, when they
    are still exactly what sync wrote (a file changed since is left alone and forgotten)."""
    keep = dict(placed)
    for old in before:
        if old.dest in placed:
            continue
        if old.project not in done:
            keep[old.dest] = old  # its project was not synced this time: decide later
            continue
        try:
            target = workspace_path(ctx.root, old.dest, "dest")
        except WorkspaceError:
            continue
        if placed_digest(target, old.kind) == old.digest:
            target.unlink(missing_ok=True)
    return tuple(keep.values())


def _removed(
    ctx: _Context, state: syncstate.State, manifest: Manifest, projects: list[Project]
) -> tuple[list[syncstate.Entry], list[ProjectOutcome]]:
    """Projects synced before but gone from the manifest: reported, deleted with --prune when they
    hold no work. Returns the entries still present and the outcomes."""
    wanted = {_dest_rel(p, ctx.options) for p in manifest.projects}
    kept: list[syncstate.Entry] = []
    outcomes: list[ProjectOutcome] = []
    for entry in state.projects:
        if entry.path in wanted:
            continue
        try:
            dest = workspace_path(ctx.root, entry.path, "project path")
        except WorkspaceError:
            continue
        if git.git_dir(dest) is None:
            continue
        label = f"{entry.name} ({entry.path})"
        if not ctx.options.prune:
            kept.append(entry)
            outcomes.append(
                ProjectOutcome(
                    name=entry.name,
                    path=entry.path,
                    action=Action.REMOVED,
                    message=f"{label}: no longer in the manifest; kept (sync --prune deletes it when it holds no work)",
                )
            )
            continue
        work = _work_in(dest, bare=entry.mirror)
        if work:
            kept.append(entry)
            outcomes.append(
                ProjectOutcome(
                    name=entry.name,
                    path=entry.path,
                    action=Action.SKIPPED,
                    message=f"{label}: no longer in the manifest, not pruned: it holds "
                    f"{work}; save or delete that, then sync --prune again",
                )
            )
            continue
        trash = syncstate.scratch_dir(ctx.sync_dir, "trash", entry.path)
        dest.rename(trash)
        shutil.rmtree(trash, ignore_errors=True)
        outcomes.append(
            ProjectOutcome(
                name=entry.name,
                path=entry.path,
                action=Action.PRUNED,
                message=f"{label}: no longer in the manifest; deleted",
            )
        )
    return kept, outcomes


def _work_in(dest: Path, *, bare: bool) -> str:
    """What in the repository at ``dest`` is not kept anywhere else; '' when nothing is."""
    repo = git.open_repo(dest)
    found: list[str] = []
    if not bare:
        ws = git.work_state(repo, ignored=True)
        for what, paths in (("changed", ws.dirty), ("untracked", ws.untracked), ("ignored", ws.ignored)):
            if paths:
                found.append(f"{len(paths)} {what} file(s)")
    if git.has_stash(repo):
        found.append("a stash")
    if git.refs_under(repo, RECOVERY_PREFIX):
        found.append("recovery refs")
    upstream = [
        sha
        for ref in git.refs_under(repo, "refs/remotes/") + git.refs_under(repo, "refs/tags/")
        if (sha := git.commit_of(repo, ref)) is not None
    ]
    synced = git.commit_of(repo, SYNCED_REF)
    if synced is not None:
        upstream.append(synced)
    if not bare:
        tips = dict(git.local_branches(repo))
        head = git.head(repo)
        if head.branch is None and head.sha is not None:
            tips["HEAD"] = head.sha
        for name, tip in sorted(tips.items()):
            if not any(git.is_ancestor(repo, tip, u) for u in upstream):
                found.append(f"local commits on {name}")
    return ", ".join(found)
