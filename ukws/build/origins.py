"""Origin archives in the network stage: the workspace's content-addressed cache and ``ukws fetch``'s
origin pass.

The cache is ``.ukws/origins/``: ``<sha256>`` files hold the bytes; ``index.json`` says which URL
gave which bytes (``{"version": 1, "urls": {URL: {"sha256", "name", "size"}}, "files": {NAME: ...}}``;
``files`` holds archives a user added by hand, found by their file name). What each application
target needs is ``.ukws/state/origins/needs.json``
(``{"version": 1, "targets": {"<app>/<target>": [{"library", "url", "file", "sha256"}]}}``).

To learn what a target needs, ukws asks make: it configures the target in a scratch build folder
and runs its ``fetch`` goal with a ``$(WGET)`` that serves what the cache has and records the rest
(see :mod:`ukws.build.wget_hook`); it then downloads what is missing, in parallel, with URL
rewriting and fallback mirrors, and runs ``fetch`` again, so that make itself checks every archive
against the library's checksum. An archive whose checksum fails leaves the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ukws.build import makerun
from ukws.build.targets import BuildTarget
from ukws.errors import BuildError, WorkspaceError
from ukws.manifest.model import OriginReplacement
from ukws.sync.rewrite import Rewrite
from ukws.workspace import Workspace

INDEX = "index.json"
NEEDS = "needs.json"
KEYS = "keys.json"
#: Bumped when what a target's key covers changes.
KEY_VERSION = 2
CHUNK = 1 << 16
DOWNLOAD_TIMEOUT = 60


class OriginError(BuildError):
    """An origin archive could not be had, or is not what it should be (one line per problem)."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))

    def lines(self) -> list[str]:
        return list(self.problems)


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    sha256: str
    name: str
    size: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Index:
    urls: Mapping[str, Entry] = field(default_factory=dict)
    files: Mapping[str, Entry] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Need:
    """One origin archive a target needs, as make asked for it."""

    library: str
    url: str
    file: str
    sha256: str


# -- the cache -----------------------------------------------------------------------------------------


def cache_dir(dot: Path) -> Path:
    return dot / "origins"


def state_dir(dot: Path) -> Path:
    return dot / "state" / "origins"


def _entry(d: Mapping[str, Any]) -> Entry:
    return Entry(sha256=str(d["sha256"]), name=str(d.get("name", "")), size=int(d.get("size", 0)))


def read_index(cache: Path) -> Index:
    path = cache / INDEX
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Index(
            urls={u: _entry(e) for u, e in data.get("urls", {}).items()},
            files={n: _entry(e) for n, e in data.get("files", {}).items()},
        )
    except FileNotFoundError:
        return Index()
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise WorkspaceError(f"{path}: not a valid origin index ({e}); remove it and run 'ukws fetch'") from None


def write_index(cache: Path, index: Index) -> None:
    from ukws.workspace import write_json_atomic

    def as_dict(m: Mapping[str, Entry]) -> dict[str, Any]:
        return {k: {"sha256": e.sha256, "name": e.name, "size": e.size} for k, e in sorted(m.items())}

    write_json_atomic(cache / INDEX, {"version": 1, "urls": as_dict(index.urls), "files": as_dict(index.files)})


def cached_file(cache: Path, sha: str) -> Path | None:
    """The cache file holding the archive with this sha256, or None when it is not cached (or
    ``sha`` is not a sha256: 64 lowercase hex digits)."""
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        return None
    path = cache / sha
    return path if path.is_file() else None


def has_blob(cache: Path, sha: str) -> bool:
    return cached_file(cache, sha) is not None


def store(cache: Path, chunks: Iterable[bytes], *, expected: str | None = None, what: str = "") -> tuple[str, int]:
    """Stream bytes into the cache (temporary file, then renamed to its sha256). Returns (sha256, size)."""
    cache.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    fd, tmp = tempfile.mkstemp(prefix=".download.", dir=cache)
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                f.write(chunk)
        sha = digest.hexdigest()
        if expected is not None and sha != expected:
            raise OriginError([f"{what}: sha256 is {sha}, the manifest says {expected}"])
        os.chmod(tmp, 0o644)
        os.replace(tmp, cache / sha)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return sha, size


def add_file(cache: Path, path: Path, *, url: str | None = None) -> Entry:
    """``ukws fetch --add-origin FILE``: put a file the user has into the cache, found by its name
    (or as what ``url`` gives)."""
    try:
        with open(path, "rb") as f:
            sha, size = store(cache, iter(lambda: f.read(CHUNK), b""))
    except OSError as e:
        raise WorkspaceError(f"--add-origin {path}: cannot read ({e.strerror or e})") from None
    entry = Entry(sha256=sha, name=path.name, size=size)
    index = read_index(cache)
    urls, files = dict(index.urls), dict(index.files)
    if url is not None:
        urls[url] = entry
    else:
        files[path.name] = entry
    write_index(cache, Index(urls=urls, files=files))
    return entry


def _forget(cache: Path, url: str, sha: str | None) -> None:
    """Drop what ``url`` gave (and a hand-added file with the same bytes) from the index."""
    index = read_index(cache)
    urls = {u: e for u, e in index.urls.items() if u != url}
    files = {n: e for n, e in index.files.items() if e.sha256 != sha}
    write_index(cache, Index(urls=urls, files=files))


# -- downloads ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Download:
    """A download to make: ``url`` (its candidates after rewriting), expected sha256 when known."""

    url: str
    candidates: tuple[str, ...]
    library: str
    expected: str | None = None


OFFLINE_HINT = (
    "without the network: put a copy in the cache with 'ukws fetch --add-origin FILE' (found by its file "
    "name; the library's checksum still applies), or name your own archive with an <x-origin> in a local "
    "manifest (.ukws/local_manifests/)"
)

Progress = Callable[[str, int, int | None], None]
"""(url, bytes received, total or None); called from worker threads."""


def _fetch_one(cache: Path, d: Download, progress: Progress | None) -> tuple[str, int, str]:
    failures: list[str] = []
    for candidate in d.candidates:
        try:
            with urllib.request.urlopen(candidate, timeout=DOWNLOAD_TIMEOUT) as response:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                received = 0

                def chunks(response: Any = response, total: int | None = total) -> Iterable[bytes]:
                    nonlocal received
                    while chunk := response.read(CHUNK):
                        received += len(chunk)
                        if progress is not None:
                            progress(d.url, received, total)
                        yield chunk

                sha, size = store(cache, chunks(), expected=d.expected, what=f"{d.library}: {candidate}")
                return sha, size, candidate
        except (urllib.error.URLError, OSError, ValueError) as e:
            reason = getattr(e, "reason", None) or e
            failures.append(f"{candidate}: {reason}")
    raise OriginError([f"{d.library}: cannot download {d.url} ({'; '.join(failures)})"])


def download(
    cache: Path, downloads: list[Download], *, jobs: int = 4, progress: Progress | None = None
) -> dict[str, Entry]:
    """Download in parallel into the cache; returns URL -> entry. Every failure is reported together."""
    for d in downloads:
        for c in d.candidates:
            if not c.startswith(("https://", "http://", "ftp://", "file://")):
                raise OriginError([f"{d.library}: {c}: only https, http, ftp and file URLs are downloaded"])
    got: dict[str, Entry] = {}
    problems: list[str] = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {d.url: pool.submit(_fetch_one, cache, d, progress) for d in downloads}
        for url, fut in futures.items():
            try:
                sha, size, _used = fut.result()
                got[url] = Entry(sha256=sha, name=url.rstrip("/").rsplit("/", 1)[-1], size=size)
            except OriginError as e:
                problems.extend(e.problems)
    if problems:
        if any(": cannot download " in p for p in problems):
            problems.append(OFFLINE_HINT)
        raise OriginError(problems)
    return got


# -- what a target needs ------------------------------------------------------------------------------


def read_needs(dot: Path) -> dict[str, tuple[Need, ...]]:
    """``<app>/<target>`` -> the origin archives it needs, as the last origin pass recorded them
    (empty when none did)."""
    path = state_dir(dot) / NEEDS
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("version") != 1:
            raise ValueError("not a version 1 list of needed origins")
        return {
            str(key): tuple(
                Need(library=str(n["library"]), url=str(n["url"]), file=str(n["file"]), sha256=str(n["sha256"]))
                for n in needs
            )
            for key, needs in dict(data["targets"]).items()
        }
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise WorkspaceError(f"{path}: not valid ({e}); remove it and run 'ukws fetch'") from None


def _write_state(dot: Path, name: str, data: Mapping[str, Any]) -> None:
    from ukws.workspace import write_json_atomic

    write_json_atomic(state_dir(dot) / name, data)


def write_needs(dot: Path, needs: Mapping[str, tuple[Need, ...]]) -> None:
    _write_state(
        dot,
        NEEDS,
        {
            "version": 1,
            "targets": {
                key: [{"library": n.library, "url": n.url, "file": n.file, "sha256": n.sha256} for n in items]
                for key, items in sorted(needs.items())
            },
        },
    )


def replacement_for(target: BuildTarget, library: str, url: str) -> OriginReplacement | None:
    for o in target.origins:
        if o.library == library and o.url == url:
            return o
    return None


def serve_map(target: BuildTarget, index: Index, cache: Path) -> dict[str, str]:
    """URL -> sha256 of what the cache can give make for this target: replacements first."""
    serve = {u: e.sha256 for u, e in index.urls.items() if has_blob(cache, e.sha256)}
    for o in target.origins:
        if has_blob(cache, o.sha256):
            serve[o.url] = o.sha256
        else:
            serve.pop(o.url, None)
    return serve


def target_key(target: BuildTarget, commits: Mapping[str, str | None]) -> str:
    """Changes whenever what the target downloads may change: commits, fragment, replacements, the
    application's patch series."""
    data = {
        "version": KEY_VERSION,
        "config": target.config_key(),
        "patches": list(target.patches),
        "commits": dict(sorted(commits.items())),
        "origins": sorted([o.library, o.url, o.sha256] for o in target.origins),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetOrigins:
    """What the origin pass found for one target."""

    target: str
    needs: tuple[Need, ...]
    downloaded: tuple[str, ...] = ()
    """URLs fetched in this run."""
    missing: tuple[str, ...] = ()
    """With ``check``: URLs a build would still have to download."""
    up_to_date: bool = False
    """Nothing changed since the last pass: make was not asked again."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OriginsResult:
    targets: tuple[TargetOrigins, ...]

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(sorted({u for t in self.targets for u in t.missing}))

    @property
    def downloaded(self) -> tuple[str, ...]:
        return tuple(sorted({u for t in self.targets for u in t.downloaded}))


def _replacement_download(
    o: OriginReplacement, manifest_dir: Path, cache: Path, candidates: Callable[[str], tuple[str, ...]]
) -> Download | None:
    """A replacement that is a file is stored at once; one that is a URL becomes a download."""
    if o.file is not None:
        path = manifest_dir / o.file
        try:
            with open(path, "rb") as f:
                store(cache, iter(lambda: f.read(CHUNK), b""), expected=o.sha256, what=f"{o.loc}: {o.file}")
        except OSError as e:
            raise OriginError([f"{o.loc}: <x-origin file=\"{o.file}\">: cannot read ({e.strerror or e})"]) from None
        return None
    assert o.replacement_url is not None
    return Download(url=o.replacement_url, candidates=candidates(o.replacement_url), library=o.library,
                    expected=o.sha256)


def origins_pass(
    *,
    dot: Path,
    targets: tuple[BuildTarget, ...],
    commits: Mapping[str, str | None],
    candidates: Callable[[str], tuple[str, ...]],
    manifest_dir: Path,
    check: bool = False,
    jobs: int = 4,
    progress: Progress | None = None,
    pinned: Mapping[str, str] | None = None,
) -> OriginsResult:
    """Make every origin archive the targets need available in the cache (``check``: only list
    what is missing, without the network), and record the needs. ``pinned`` (URL -> sha256, a
    snapshot's origins) is what a download of that URL must hold."""
    cache = cache_dir(dot)
    needs = read_needs(dot)
    keys_path = state_dir(dot) / KEYS
    try:
        keys: dict[str, str] = json.loads(keys_path.read_text(encoding="utf-8")).get("targets", {})
    except (FileNotFoundError, ValueError):
        keys = {}
    results: list[TargetOrigins] = []
    unpatched: list[str] = []
    for target in targets:
        if target.unapplied:
            # Its Makefile.uk or Config.uk may come from the series: make cannot be asked yet.
            unpatched.append(
                f"{target.key}: the application's patches are not applied ({', '.join(target.unapplied)}); "
                "run 'ukws patch-app', then 'ukws fetch' again"
            )
            continue
        key = target_key(target, commits)
        have = needs.get(target.key)
        if have is not None and keys.get(target.key) == key and all(has_blob(cache, n.sha256) for n in have):
            results.append(TargetOrigins(target=target.key, needs=have, up_to_date=True))
            continue
        found = _ask_make(target, dot=dot, cache=cache, candidates=candidates, manifest_dir=manifest_dir,
                          check=check, jobs=jobs, progress=progress, pinned=pinned or {})
        results.append(found)
        if not check:
            needs[target.key] = found.needs
            keys[target.key] = key
            write_needs(dot, needs)
            _write_state(dot, KEYS, {"version": 1, "targets": keys})
    if unpatched:
        raise OriginError(unpatched)
    return OriginsResult(targets=tuple(results))


ROUNDS = 4


def _ask_make(
    target: BuildTarget,
    *,
    dot: Path,
    cache: Path,
    candidates: Callable[[str], tuple[str, ...]],
    manifest_dir: Path,
    check: bool,
    jobs: int,
    progress: Progress | None,
    pinned: Mapping[str, str],
) -> TargetOrigins:
    """Configure the target in a scratch folder and run make's ``fetch`` until every request is served."""
    from dataclasses import replace

    scratch = state_dir(dot) / "scratch" / target.app / target.name
    work = replace(target, build_dir=scratch)
    log = scratch / ".ukws" / "make.log"
    # make asks $(WGET) only for archives not already in the build folder: an earlier pass (one
    # that failed, or was killed before it recorded the needs) must leave none behind.
    shutil.rmtree(scratch, ignore_errors=True)
    wget, _ = makerun.write_hook(work.state_dir, cache=cache, serve={}, fetch_hint=False)
    makerun.configure(work, wget=wget, output=log)
    downloaded: list[str] = []
    seen: dict[str, makerun.Request] = {}
    """Every request of every round: make does not ask again for what an earlier round served."""
    for _round in range(ROUNDS):
        index = read_index(cache)
        names = {n: e.sha256 for n, e in index.files.items() if has_blob(cache, e.sha256)}
        wget, hook_log = makerun.write_hook(
            work.state_dir, cache=cache, serve=serve_map(work, index, cache), names=names, fetch_hint=False
        )
        rc = makerun.run_make(work, ["-k", "fetch"], wget=wget, output=log)
        requests = makerun.read_requests(hook_log)
        seen.update((r.url, r) for r in requests)
        missing = [r for r in requests if r.sha256 is None]
        if not missing:
            _check_verified(work, list(seen.values()), rc, cache, log)
            break
        if check:
            return TargetOrigins(target=target.key, needs=(), missing=tuple(dict.fromkeys(r.url for r in missing)))
        todo: dict[str, Download] = {}
        for r in missing:
            rep = replacement_for(work, r.library, r.url)
            if rep is not None:
                d = _replacement_download(rep, manifest_dir, cache, candidates)
                if d is not None:
                    todo[d.url] = d
            else:
                todo[r.url] = Download(url=r.url, candidates=candidates(r.url), library=r.library,
                                       expected=pinned.get(r.url))
            # Make's markers for a failed download must not survive into the next round.
            shutil.rmtree(r.file.parent, ignore_errors=True)
        got = download(cache, list(todo.values()), jobs=jobs, progress=progress)
        downloaded.extend(got)
        index = read_index(cache)
        urls = dict(index.urls)
        urls.update((u, e) for u, e in got.items() if u not in {o.replacement_url for o in work.origins})
        for o in work.origins:
            if o.replacement_url in got:
                urls[o.replacement_url] = got[o.replacement_url]
        write_index(cache, Index(urls=urls, files=index.files))
    else:
        raise OriginError([f"{target.key}: make kept asking for new downloads; see {log}"])
    _empty_but_log(scratch)
    needs = tuple(
        Need(library=r.library, url=r.url, file=r.file.name, sha256=r.sha256 or "")
        for r in seen.values()
    )
    return TargetOrigins(target=target.key, needs=needs, downloaded=tuple(downloaded))


def _empty_but_log(scratch: Path) -> None:
    """After a pass that succeeded, the scratch build folder keeps only its ``.ukws`` (make's log):
    the archives make unpacked and patched there (newlib's: 135 MB) serve nothing, as every build
    unpacks its own."""
    for entry in scratch.iterdir():
        if entry.name == ".ukws":
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _check_verified(
    work: BuildTarget, requests: list[makerun.Request], rc: int, cache: Path, log: Path
) -> None:
    """Make checked each archive (``$(O)/<lib>/.chksum`` exists only then); a failed one leaves the cache."""
    problems: list[str] = []
    for r in requests:
        if not (r.file.parent / ".chksum").exists():
            rep = replacement_for(work, r.library, r.url)
            if rep is None:
                _forget(cache, r.url, r.sha256)
            whose = f"the manifest's <x-origin> at {rep.loc}" if rep is not None else "the library's checksum"
            problems.append(
                f"{work.key}: {r.library}: {r.url}: checksum mismatch against {whose}; the download was "
                "dropped from the cache (see make's output in " + str(log) + ")"
            )
    if problems:
        raise OriginError(problems)
    if rc != 0:
        shown = "; ".join(makerun.tail(log, 5))
        raise OriginError([f"{work.key}: make fetch failed (exit status {rc}): {shown} (full output: {log})"])


def fetch_origins(
    ws: Workspace,
    user_rules: tuple[Rewrite, ...] = (),
    *,
    check: bool = False,
    jobs: int = 4,
    progress: Progress | None = None,
) -> OriginsResult:
    """``ukws fetch``'s origin pass over every application target of the workspace."""
    from ukws import workspace
    from ukws.build.targets import context

    ctx = context(ws)
    rewriter = workspace.rewriter(ws, user_rules)
    pinned: dict[str, str] = {}
    if ws.config.manifest.kind is workspace.SourceKind.SNAPSHOT:
        from ukws.manifest.embedded import snapshot_origins

        pinned = snapshot_origins(ws.manifest_path)
    return origins_pass(
        dot=ws.dot,
        targets=ctx.targets,
        commits=ctx.commits,
        candidates=rewriter.candidates,
        manifest_dir=ctx.manifest_dir,
        check=check,
        jobs=jobs,
        progress=progress,
        pinned=pinned,
    )
