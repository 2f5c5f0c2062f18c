"""``ukws sync``: clone, fetch and check out every project of a manifest, without losing work.

Each project is handled on its own (in a worker thread; libgit2 releases the GIL while it
transfers and checks out); a project that fails or cannot be updated safely is reported and the
others carry on. See docs/sync.md for the rules, in the words a user reads them.
"""

from __future__ import annotations

import contextlib
import queue
import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ukws import git
from ukws.errors import GitError, UkwsError, UsageError, WorkspaceError
from ukws.fileops import is_inside, workspace_path
from ukws.manifest.model import Manifest, Project
from ukws.sync import files as syncfiles
from ukws.sync import journal as syncstate
from ukws.sync import nested, noop, rebuild, worktree
from ukws.sync.model import (
    BAD,
    RECOVERY_PREFIX,
    SYNCED_REF,
    Action,
    Context,
    ProgressEvent,
    ProjectOutcome,
    Skip,
    SyncOptions,
    SyncResult,
    dest_rel,
    outcome_of,
    remote_name,
)

__all__ = [
    "RECOVERY_PREFIX",
    "SYNCED_REF",
    "Action",
    "ProgressEvent",
    "ProjectOutcome",
    "SyncOptions",
    "SyncResult",
    "sync",
]

DEFAULT_JOBS = 4
"""Projects at once unless ``-j`` or the manifest's ``sync-j`` say otherwise. More connections than
this at once overflow the listen queue of ``git daemon`` (it accepts 5 pending connections): the
connections dropped are retried by the kernel only after a second. A no-op is bound by the
interpreter, a cold sync by checkouts on the machine's cores: more jobs gain nothing there."""


def sync(*, root: Path, state_dir: Path, manifest: Manifest, options: SyncOptions) -> SyncResult:
    """Bring every selected project of ``manifest`` to its revision under ``root``."""
    projects = _select(manifest, options.only)
    if options.mirror:  # one mirror per repository, however many paths check it out
        firsts: dict[str, Project] = {}
        for p in projects:
            firsts.setdefault(dest_rel(p, options), p)
        projects = list(firsts.values())
    sync_dir = state_dir / "sync"
    with syncstate.workspace_lock(sync_dir):
        noop.forget(sync_dir)
        syncstate.clean_scratch(sync_dir)
        state, warnings = _load_state(root, sync_dir, manifest, options)
        if options.fetch:
            git.set_timeouts(options.timeout)
        ctx = Context(
            root=root,
            sync_dir=sync_dir,
            options=options,
            journals=syncstate.journal_keys(sync_dir),
            nested={} if options.mirror else nested.inner_paths(manifest.projects),
        )
        outcomes = _run_all(ctx, projects, manifest)
        for bare in (False, True):
            shutil.rmtree(_model(sync_dir, bare=bare), ignore_errors=True)
        files = state.files
        if options.checkout and not options.mirror:
            placed: dict[str, syncstate.Placed] = {}
            before = {f.dest: f for f in state.files}
            outcomes = [
                syncfiles.place_files(ctx, p, o, placed, before) for p, o in zip(projects, outcomes, strict=True)
            ]
            done = {p.path for p, o in zip(projects, outcomes, strict=True) if o.action not in BAD}
            if not options.only:
                done |= {e.path for e in state.projects} - {p.path for p in manifest.projects}
            files = syncfiles.retire_files(ctx, state.files, placed, done)
        kept, removed = (
            syncfiles.removed_projects(ctx, state, manifest, projects) if not options.only else (state.projects, [])
        )
        present = {e.path: e for e in kept}
        for p in projects:
            rel = dest_rel(p, options)
            if git.git_dir(ctx.root / rel) is not None:
                present[rel] = syncstate.Entry(path=rel, name=p.name, mirror=options.mirror)
        new_state = syncstate.State(projects=tuple(present.values()), files=files)
        changed = warnings or not syncstate.same_state(new_state, state)
        if changed:  # a no-op run writes nothing
            syncstate.save_state(sync_dir, new_state)
        every = options.checkout and not options.only and not options.mirror
        if options.on_noop is not None and every and not changed and not removed and _quiet(outcomes):
            options.on_noop(sync_dir, options.pins)
    all_outcomes = (*outcomes, *removed)
    return SyncResult(
        outcomes=all_outcomes, ok=not any(o.action in BAD for o in all_outcomes), warnings=tuple(warnings)
    )


def _quiet(outcomes: Sequence[ProjectOutcome]) -> bool:
    """Every project unchanged, and nothing said about any."""
    return all(o.action is Action.UNCHANGED and not o.message and o.recovery_ref is None for o in outcomes)


def _load_state(
    root: Path, sync_dir: Path, manifest: Manifest, options: SyncOptions
) -> tuple[syncstate.State, list[str]]:
    """The recorded state, or one rebuilt from the workspace (with a warning) when the record is
    damaged, or missing while the workspace holds projects already."""
    state, problem = syncstate.load_state(sync_dir)
    if state is not None:
        return state, []
    rebuilt = rebuild.rebuild_state(root, manifest, options)
    if not problem and not rebuilt.projects:
        return rebuilt, []  # a new workspace: nothing was lost
    shown = (sync_dir / syncstate.STATE_FILE).relative_to(root) if is_inside(sync_dir, root) else sync_dir
    why = f"could not be read ({problem})" if problem else "was missing"
    return rebuilt, [
        f"{shown} {why}; rebuilt it from the workspace: {rebuild.describe(rebuilt)}; projects that left the "
        "manifest before are no longer known (they are not reported, nor pruned)"
    ]


def _select(manifest: Manifest, only: Sequence[str]) -> list[Project]:
    if not only:
        return list(manifest.projects)
    chosen: dict[str, Project] = {}
    for item in only:
        matches = [p for p in manifest.projects if item in (p.name, p.path)]
        if not matches:
            raise UsageError(f"no project {item!r} in the workspace's manifest (see 'ukws list')")
        for p in matches:
            chosen[p.path] = p
    return [p for p in manifest.projects if p.path in chosen]


# --------------------------------------------------------------------------------------------------
# Scheduling
# --------------------------------------------------------------------------------------------------


def _run_all(ctx: Context, projects: list[Project], manifest: Manifest) -> list[ProjectOutcome]:
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
    children: dict[str | None, list[Project]] = {}
    for p in projects:
        children.setdefault(parent[p.path], []).append(p)
    results: dict[str, ProjectOutcome] = {}
    progress: dict[str, git.Progress] = {p.path: git.Progress() for p in projects}
    queued: dict[str, Project] = {}
    stop = threading.Event()
    last: dict[str, tuple[int, int, int]] = {}
    workers = max(1, min(jobs, len(projects) or 1))
    todo: queue.SimpleQueue[Project | None] = queue.SimpleQueue()
    finished: queue.SimpleQueue[tuple[Project, ProjectOutcome | None]] = queue.SimpleQueue()

    def worker() -> None:
        while (p := todo.get()) is not None:
            if stop.is_set():
                finished.put((p, None))
                continue
            outcome = _guarded(ctx, p, progress[p.path])
            if options.fail_fast and outcome.action in BAD:
                stop.set()  # here, not in the main thread: no worker may start another project first
            finished.put((p, outcome))

    def enqueue(ps: list[Project]) -> None:
        for p in ps:
            queued[p.path] = p
            todo.put(p)

    # Every project that can start is queued at once (the workers take them in manifest order); a
    # nested project is queued when the one containing it is done. Daemon threads: an interrupted
    # sync returns at once; a transfer still running dies with the process, and the next sync
    # repairs what it left (see docs/sync.md).
    threads = [threading.Thread(target=worker, name=f"ukws-sync-{i}", daemon=True) for i in range(workers)]
    enqueue(children.get(None, []))
    for t in threads:
        t.start()
    try:
        while queued:
            try:
                done = [finished.get(timeout=0.1)]
                while not finished.empty():
                    done.append(finished.get())
            except queue.Empty:
                done = []
            for p, outcome in done:
                del queued[p.path]
                if outcome is None:  # not started: --fail-fast stopped the run
                    results[p.path] = outcome_of(
                        p, Action.SKIPPED, f"{p.name} ({p.path}): not synced: stopped after a failure (--fail-fast)"
                    )
                else:
                    results[p.path] = outcome
                    _report(options, p, "done", progress[p.path], outcome)
                enqueue(children.get(p.path, []))
            if options.progress is not None:
                for p in queued.values():
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


def _guarded(ctx: Context, p: Project, progress: git.Progress) -> ProjectOutcome:
    """One project, every error turned into a failed outcome naming the project."""
    try:
        return _sync_project(ctx, p, progress)
    except Skip as e:
        return outcome_of(p, Action.SKIPPED, f"{p.name} ({p.path}): {e}")
    except UkwsError as e:
        return outcome_of(p, Action.FAILED, f"{p.name} ({p.path}): {e}")
    except Exception as e:  # a bug or an unexpected libgit2 error must not stop the other projects
        text = " ".join(str(e).split())
        return outcome_of(p, Action.FAILED, f"{p.name} ({p.path}): {type(e).__name__}: {text}")


# --------------------------------------------------------------------------------------------------
# One project
# --------------------------------------------------------------------------------------------------


def _sync_project(ctx: Context, p: Project, progress: git.Progress) -> ProjectOutcome:
    options = ctx.options
    rev = options.pins.get(p.path) or p.revision
    git.check_revision(rev)
    urls = tuple(options.urls(p)) if options.urls is not None else (p.fetch_url,)
    for url in urls:
        git.check_url(url)
    dest = workspace_path(ctx.root, dest_rel(p, options), "project path", real_root=ctx.real_root)
    if dest.is_symlink() and not is_inside(dest.resolve(), ctx.real_root):  # the path itself is a symlink
        raise WorkspaceError(f"project path {p.path!r} leads outside the workspace through a symlink")
    fetcher = _Fetcher(
        p=p,
        urls=urls,
        depth=options.depth or p.clone_depth or 0,
        progress=progress,
        allowed=options.fetch,
        checkout=options.checkout,
        timeout=options.timeout,
    )
    gitdir = git.git_dir(dest)
    if gitdir is None:
        return _noted(_clone(ctx, p, rev, dest, fetcher), p, fetcher.notes)
    journal = syncstate.Journal(ctx.sync_dir, p.path)
    repo = git.open_repo(gitdir)
    nested.ignore_inner(repo, ctx.nested.get(p.path, ()))
    note = worktree.repair(ctx, repo, journal, gitdir) if journal.key in ctx.journals else ""
    notes = [note] if note else []
    if options.mirror:
        fetcher.journal = journal
        try:
            fetcher.mirror(repo)
        finally:
            journal.clear()
        return _noted(outcome_of(p, Action.FETCHED, sha=_resolve_local(repo, rev, p)), p, [*notes, *fetcher.notes])
    target, fetched = _resolve(repo, rev, p, fetcher, journal)
    if not options.checkout:
        journal.clear()
        outcome = outcome_of(p, Action.FETCHED if fetched else Action.UNCHANGED, sha=target)
        return _noted(outcome, p, [*notes, *fetcher.notes])
    outcome = worktree.update(ctx, repo, p, rev, target, journal)
    journal.clear()
    if fetched and outcome.action is Action.UNCHANGED and not outcome.message:
        outcome = replace(outcome, action=Action.FETCHED)
    return _noted(outcome, p, [*notes, *fetcher.notes])


def _noted(outcome: ProjectOutcome, p: Project, notes: Sequence[str]) -> ProjectOutcome:
    """``outcome`` with ``notes`` added to its message, each as ``NAME (PATH): note``."""
    if not notes:
        return outcome
    parts = [outcome.message] if outcome.message else []
    parts += [f"{p.name} ({p.path}): {n}" for n in notes]
    return replace(outcome, message="; ".join(parts))


@dataclass(slots=True, kw_only=True)
class _Fetcher:
    """Fetches for one project, trying each candidate URL in turn."""

    p: Project
    urls: tuple[str, ...]
    depth: int
    progress: git.Progress
    allowed: bool
    """False with ``--local-only``."""
    checkout: bool
    """False with ``--network-only``."""
    timeout: float = 60.0
    """The time-out in effect (named in the message when a server did not answer in time)."""
    journal: syncstate.Journal | None = None
    """Written before the first fetch that may write to the repository."""
    order: tuple[str, ...] = ()
    """The URLs in the order to try them (``urls``, the last one that worked first)."""

    notes: list[str] = field(default_factory=list)
    """``fetched from URL2 (URL1 failed: reason)`` when a fallback URL had to be used."""

    def __call__(self, repo: git.Repository, refspecs: Sequence[str], what: str) -> None:
        if not self.allowed:
            raise GitError(f"{what} is not present locally; sync without --local-only to fetch it")
        if git.refs_current(repo, self.urls[0], refspecs):
            return
        if self.journal is not None and not self.journal.written:
            self.journal.write(op="fetch")
            git.ensure_remote(repo, remote_name(self.p), self.urls[0])
        errors: list[tuple[str, str]] = []
        for i, url in enumerate(self.order):
            try:
                git.fetch(repo, url, refspecs, depth=self.depth, progress=self.progress, follow_tags=self.p.sync_tags)
            except GitError as e:
                reason = str(e)
                if "timed out" in reason:
                    reason += f" (no answer within {self.timeout:g} s; sync --timeout SECONDS allows more)"
                errors.append((url, reason))
                continue
            if errors:
                failed = "; ".join(f"{u} failed: {reason}" for u, reason in errors)
                note = f"fetched from {url} ({failed})"
                if note not in self.notes:
                    self.notes.append(note)
            if i:  # later fetches of this project start with the URL that worked
                self.order = (url, *(u for u in self.order if u != url))
            return
        url, reason = errors[0]
        others = f" (and {len(errors) - 1} other URLs)" if len(errors) > 1 else ""
        raise GitError(
            f"cannot fetch {what} from {url}: {reason}{others}; check the URL and the network, then sync again"
        )

    def __post_init__(self) -> None:
        self.order = self.order or self.urls

    def mirror(self, repo: git.Repository) -> None:
        self(repo, ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"], "the repository")


def _resolve_local(repo: git.Repository, rev: str, p: Project) -> str | None:
    """The commit ``rev`` names with what the repository holds already (no network). The refs read
    here are the ones :func:`ukws.sync.noop._candidates` lists: change both together."""
    remote = remote_name(p)
    if git.is_sha(rev):
        return git.commit_of(repo, rev)
    # Branches name commits: their target is read without loading the object; tags are peeled.
    if rev.startswith("refs/heads/"):
        return git.ref_target(repo, f"refs/remotes/{remote}/{rev.removeprefix('refs/heads/')}") or git.ref_target(
            repo, rev
        )
    if rev.startswith("refs/tags/"):
        return git.commit_of(repo, rev)
    if rev.startswith("refs/"):
        return git.commit_of(repo, f"refs/ukws/fetched/{rev.removeprefix('refs/')}")
    return (
        git.ref_target(repo, f"refs/remotes/{remote}/{rev}")
        or git.commit_of(repo, f"refs/tags/{rev}")
        or git.ref_target(repo, f"refs/heads/{rev}")
    )


def _resolve(
    repo: git.Repository, rev: str, p: Project, fetch: _Fetcher, journal: syncstate.Journal
) -> tuple[str, bool]:
    """The commit to check out, fetching only what is missing. Returns (sha, whether it fetched).

    A SHA or a tag already present needs no network; a branch is always fetched. With
    ``--network-only`` (the explicit network refresh) the remote is always fetched, so that new
    branches and release tags show up whatever the pins say.
    """
    remote = remote_name(p)
    is_tag = rev.startswith("refs/tags/") or (
        not rev.startswith("refs/")
        and repo.references.get(f"refs/tags/{rev}") is not None
        and repo.references.get(f"refs/remotes/{remote}/{rev}") is None
    )
    refresh = fetch.allowed and not fetch.checkout
    if git.is_sha(rev) and not refresh and git.head(repo).sha == rev:
        return rev, False  # checked out already: present, and no object needs reading
    before = _resolve_local(repo, rev, p)
    if (git.is_sha(rev) or is_tag) and before is not None and not refresh:
        return before, False
    if not fetch.allowed:
        sha = before
        if sha is None:
            raise GitError(f"{rev} is not present locally; sync without --local-only to fetch it")
        return sha, False
    fetch.journal = journal
    try:
        _fetch_revision(repo, rev, p, fetch)
    except Exception:
        journal.clear()  # the fetch returned an error: libgit2 has released what it locked
        raise
    sha = _resolve_local(repo, rev, p)
    if sha is None:
        raise GitError(f"revision {rev} not found at {fetch.urls[0]}; check the manifest's revision")
    return sha, sha != before


def _fetch_revision(repo: git.Repository, rev: str, p: Project, fetch: _Fetcher) -> None:
    """Fetch what ``rev`` needs and, like repo, every branch and tag of the remote (the resolver
    reads release tags and channel branches from the workspace), unless the project asks for its
    revision only (``sync-c``, or a clone depth) or for no tags (``sync-tags="false"``)."""
    remote = remote_name(p)
    heads = f"+refs/heads/*:refs/remotes/{remote}/*"
    tags = "+refs/tags/*:refs/tags/*"
    wide: list[str] = []
    shallow = fetch.depth > 0 and git.local_source(fetch.urls[0]) is None  # no depth for local sources
    if not (p.sync_c or shallow):
        wide = [heads, tags] if p.sync_tags else [heads]
    if git.is_sha(rev):
        if wide:
            fetch(repo, wide, rev)
        if git.commit_of(repo, rev) is None:
            with contextlib.suppress(GitError):
                fetch(repo, [rev], rev)
        if git.commit_of(repo, rev) is None and not wide:
            fetch(repo, [heads, tags], rev)
        return
    if rev.startswith("refs/heads/"):
        own = [f"+{rev}:refs/remotes/{remote}/{rev.removeprefix('refs/heads/')}"]
    elif rev.startswith("refs/tags/"):
        own = [f"+{rev}:{rev}"]
    elif rev.startswith("refs/"):
        own = [f"+{rev}:refs/ukws/fetched/{rev.removeprefix('refs/')}"]
    else:
        own = [f"+refs/heads/{rev}:refs/remotes/{remote}/{rev}", f"+refs/tags/{rev}:refs/tags/{rev}"]
    covered = {heads: "+refs/heads/", tags: "+refs/tags/"}
    own = [spec for spec in own if not any(w in wide and spec.startswith(pre) for w, pre in covered.items())]
    fetch(repo, own + wide, rev)


def _clone(ctx: Context, p: Project, rev: str, dest: Path, fetch: _Fetcher) -> ProjectOutcome:
    """Build the clone in scratch space, then rename it into place (an interrupted or failed clone
    leaves nothing in the workspace). A folder that holds only inner projects' checkouts gets the
    clone built around them."""
    options = ctx.options
    inner = ctx.nested.get(p.path, ())
    around = False  # the folder holds inner projects: the clone is built around them
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        if dest.is_symlink() or not dest.is_dir() or not nested.holds_only_inner(dest, inner):
            raise Skip(f"{p.path} exists and is not a git repository; move it away and sync again")
        around = True
    if not options.fetch:
        raise GitError("not cloned yet; sync without --local-only to clone it")
    tmp = syncstate.scratch_dir(ctx.sync_dir, "tmp", p.path)
    around = around and not options.mirror
    try:
        sha = _build_clone(ctx, p, rev, tmp, fetch, inner, checkout=options.checkout and not around)
    except Exception:
        shutil.rmtree(tmp, ignore_errors=True)  # a failed clone leaves nothing behind, not even a partial pack
        raise
    if around:
        assert sha is not None
        nested.clone_around(ctx.sync_dir, p, tmp, dest, sha, checkout=options.checkout)
        return outcome_of(p, Action.CLONED, sha=sha)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.is_dir():
        dest.rmdir()
    tmp.rename(dest)
    return outcome_of(p, Action.CLONED, sha=sha)


def _build_clone(
    ctx: Context, p: Project, rev: str, tmp: Path, fetch: _Fetcher, inner: tuple[str, ...], *, checkout: bool
) -> str | None:
    """Make the clone in ``tmp``: a repository with the revision fetched, and checked out when
    ``checkout``. Returns the commit."""
    options = ctx.options
    repo = git.init(tmp, bare=options.mirror, model=_model(ctx.sync_dir, bare=options.mirror))
    nested.ignore_inner(repo, inner)
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
    repo.remotes.create(remote_name(p), fetch.urls[0])
    if options.mirror:
        fetch.mirror(repo)
        return _resolve_local(repo, rev, p)
    journal = syncstate.Journal(ctx.sync_dir, p.path)
    sha, _ = _resolve(repo, rev, p, fetch, journal)
    journal.clear()
    if checkout:  # with --network-only, HEAD stays unborn: nothing is checked out yet
        git.checkout(repo, sha)
        git.set_ref(repo, SYNCED_REF, sha)
    return sha


def _model(sync_dir: Path, *, bare: bool) -> Path:
    """The empty repository whose skeleton new clones copy (see :func:`ukws.git.init`): in scratch
    space, made by the first clone of a run and removed at its end."""
    return sync_dir / "tmp" / ("model.git" if bare else "model")


def _refspecs_for(rev: str, p: Project, *, mirror: bool) -> list[str]:
    remote = remote_name(p)
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
