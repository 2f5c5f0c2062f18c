"""``ukws forall``: run a shell command in every project, with repo's environment variables.

Each command runs with the project's folder as its working directory and with:

- ``UKWS_PROJECT`` (name), ``UKWS_PATH`` (workspace-relative path), ``UKWS_REVISION`` (manifest
  revision), ``UKWS_SHA`` (the commit checked out), ``UKWS_REMOTE_URL`` (fetch URL),
  ``UKWS_ROOT`` (the workspace), ``UKWS__<name>`` per annotation;
- repo's names, so that scripts written for ``repo forall`` keep working: ``REPO_PROJECT``,
  ``REPO_PATH``, ``REPO_REMOTE``, ``REPO_LREV``, ``REPO_RREV``, ``REPO_UPSTREAM``,
  ``REPO_DEST_BRANCH``, ``REPO_I``, ``REPO_COUNT``, ``REPO__<name>`` per annotation.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ukws.manifest.model import Project

#: Called with each finished run, in project order, as soon as it and the runs before it are done.
Report = Callable[["ForallRun"], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class ForallRun:
    name: str
    path: str
    returncode: int | None
    """None when the project was not run (see ``skipped``)."""
    output: str | None = None
    """Captured stdout and stderr (only when output is captured)."""
    skipped: str = ""
    """Why the command did not run here (e.g. the project is not synced)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ForallResult:
    runs: tuple[ForallRun, ...]

    @property
    def ok(self) -> bool:
        return all(r.returncode in (0, None) for r in self.runs)


def local_revision(project: Project, pin: str | None = None) -> str:
    """repo's ``REPO_LREV``: the revision as the checkout knows it. A lock pin or a commit id as is,
    a tag as its ref, a branch as its remote-tracking ref (``refs/remotes/REMOTE/BRANCH``)."""
    if pin:
        return pin
    rev = project.revision
    if _is_commit_id(rev) or (rev.startswith("refs/") and not rev.startswith("refs/heads/")):
        return rev
    return f"refs/remotes/{project.remote}/{rev.removeprefix('refs/heads/')}"


def _is_commit_id(rev: str) -> bool:
    return len(rev) in (40, 64) and all(c in "0123456789abcdef" for c in rev)


def project_env(
    project: Project, *, root: Path, sha: str | None, index: int, count: int, pin: str | None = None
) -> dict[str, str]:
    """The environment variables ``forall`` sets for ``project`` (the ``index``-th of ``count``;
    ``sha`` is the commit checked out, ``pin`` the lock's commit for it, if any)."""
    env = {
        "UKWS_ROOT": str(root),
        "UKWS_PROJECT": project.name,
        "UKWS_PATH": project.path,
        "UKWS_REVISION": project.revision,
        "UKWS_SHA": sha or "",
        "UKWS_REMOTE_URL": project.fetch_url,
        "REPO_PROJECT": project.name,
        "REPO_PATH": project.path,
        "REPO_REMOTE": project.remote,
        "REPO_LREV": local_revision(project, pin),
        "REPO_RREV": project.revision,
        "REPO_UPSTREAM": project.upstream or "",
        "REPO_DEST_BRANCH": project.dest_branch or "",
        "REPO_I": str(index + 1),
        "REPO_COUNT": str(count),
    }
    for a in project.annotations:
        env[f"UKWS__{a.name}"] = a.value
        env[f"REPO__{a.name}"] = a.value
    return env


def forall(
    *,
    root: Path,
    projects: Sequence[Project],
    command: str,
    args: Sequence[str] = (),
    heads: Mapping[str, str | None],
    base_env: Mapping[str, str],
    pins: Mapping[str, str] | None = None,
    jobs: int = 1,
    capture: bool = False,
    abort_on_error: bool = False,
    report: Report | None = None,
) -> ForallResult:
    """Run ``sh -c COMMAND sh ARGS...`` in each project folder that exists.

    ``heads`` maps a project path to the commit it has checked out (None: not synced), ``pins`` to
    the lock's commit for it. Output is
    captured (and reported with each run) when ``capture`` is set or ``jobs`` > 1; otherwise the
    command writes straight to the terminal. With ``abort_on_error``, no command starts after one failed.
    """
    capture = capture or jobs > 1
    stop = threading.Event()
    count = len(projects)

    def run_one(index: int, p: Project) -> ForallRun:
        folder = root / p.path
        if stop.is_set():
            return ForallRun(name=p.name, path=p.path, returncode=None, skipped="not run after an earlier failure")
        if heads.get(p.path) is None or not folder.is_dir():
            return ForallRun(name=p.name, path=p.path, returncode=None, skipped="not synced")
        pin = (pins or {}).get(p.path)
        own = project_env(p, root=root, sha=heads.get(p.path), index=index, count=count, pin=pin)
        env = {**base_env, **own}
        argv = ["sh", "-c", command, "sh", *args]
        if capture:
            done = subprocess.run(argv, cwd=folder, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=False)
            output = (done.stdout + done.stderr).decode("utf-8", "replace")
            run = ForallRun(name=p.name, path=p.path, returncode=done.returncode, output=output)
        else:
            code = subprocess.run(argv, cwd=folder, env=env, check=False).returncode
            run = ForallRun(name=p.name, path=p.path, returncode=code)
        if run.returncode != 0 and abort_on_error:
            stop.set()
        return run

    runs: list[ForallRun] = []
    if jobs <= 1:
        for i, p in enumerate(projects):
            run = run_one(i, p)
            runs.append(run)
            if report is not None:
                report(run)
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(run_one, i, p) for i, p in enumerate(projects)]
            for f in futures:
                run = f.result()
                runs.append(run)
                if report is not None:
                    report(run)
    return ForallResult(runs=tuple(runs))
