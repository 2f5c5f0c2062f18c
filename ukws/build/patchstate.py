"""What ``ukws patch-app`` keeps under ``.ukws/state/``, and the crash-safe way it changes files.

Layout::

    .ukws/state/patches/<key>.json          the series applied to an application (the patch-state record)
    .ukws/state/patch-journal/<key>.json    written before any file is touched, removed when done
    .ukws/state/patch-suspended/<key>.json  a record set aside while sync moves the checkout

``<key>`` is the application project's name with ``/`` replaced by ``%``. Every change of files is a
*transition*: for each path, the blob it holds now (``from``) and the blob it must hold (``to``;
None: no file). The journal names the transition and what happens to the record afterwards; the
blobs are in the project's object database, kept reachable by ``refs/ukws/patch-app``. A killed run
leaves the journal, and the next run rolls it forward: files already at ``to`` are left, files
at ``from`` are written, the record is written or removed, the journal deleted.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ukws import git
from ukws.errors import GitError, WorkspaceError
from ukws.fileops import atomic_write, clean_temporaries, is_inside
from ukws.manifest.model import Manifest, Project
from ukws.workspace import Workspace, write_json_atomic

RECORD_VERSION = 1
RECORDS_DIR = "patches"
JOURNAL_DIR = "patch-journal"
SUSPENDED_DIR = "patch-suspended"
KEEP_REF = "refs/ukws/patch-app"
"""Keeps every blob a record or journal names reachable (``git gc`` never prunes them)."""


def record_key(project: str) -> str:
    return project.replace("/", "%")


@dataclass(frozen=True, slots=True, kw_only=True)
class FileState:
    before: str | None
    """The blob before the series (None: the series added the file)."""
    after: str | None
    """The blob after it (None: the series removed the file)."""
    mode: int = 0o100644
    """The file's git mode after the series (``0o100755`` for an executable)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AppliedPatch:
    path: str
    """Relative to the top-level manifest's folder."""
    sha256: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Record:
    """``.ukws/state/patches/<key>.json``."""

    project: str
    path: str
    """The project's workspace path."""
    base: str
    """The commit the series was applied on."""
    patches: tuple[AppliedPatch, ...]
    files: Mapping[str, FileState]
    """Project-relative path -> its blobs: the series' files and the Makefile ukws pointed or wrote."""
    makefile: str | None = None
    """The Makefile (project-relative) whose variables ukws pointed at the workspace, if any."""
    makefile_generated: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "version": RECORD_VERSION,
            "project": self.project,
            "path": self.path,
            "base": self.base,
            "patches": [{"path": p.path, "sha256": p.sha256} for p in self.patches],
            "files": {
                k: {"before": v.before, "after": v.after, "mode": oct(v.mode)} for k, v in sorted(self.files.items())
            },
            "makefile": self.makefile,
            "makefile_generated": self.makefile_generated,
        }

    @staticmethod
    def from_json(data: Any) -> Record:
        """The record of ``data`` (parsed JSON); ValueError, KeyError, TypeError or WorkspaceError
        when it is not one."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a JSON {type(data).__name__}, not an object")
        if data.get("version") != RECORD_VERSION:
            raise ValueError(f"version {data.get('version')!r} (this ukws reads {RECORD_VERSION})")
        files = {
            str(k): FileState(before=v["before"], after=v["after"], mode=int(str(v.get("mode", "0o100644")), 0))
            for k, v in dict(data["files"]).items()
        }
        for rel in files:
            check_rel(rel)
        makefile = data.get("makefile")
        if makefile is not None:
            makefile = str(makefile)
            check_rel(makefile)
        return Record(
            project=str(data["project"]),
            path=str(data["path"]),
            base=str(data["base"]),
            patches=tuple(AppliedPatch(path=str(p["path"]), sha256=str(p["sha256"])) for p in data["patches"]),
            files=files,
            makefile=makefile,
            makefile_generated=bool(data.get("makefile_generated", False)),
        )


def check_rel(rel: str) -> None:
    """A project-relative path a patch or record may name: relative, no '..', nothing in .git."""
    pure = PurePosixPath(rel)
    if not rel or pure.is_absolute() or "\\" in rel or "\0" in rel or rel != pure.as_posix():
        raise WorkspaceError(f"{rel!r}: not a plain relative path")
    if any(part in ("..", ".") for part in pure.parts) or any(p.lower() == ".git" for p in pure.parts):
        raise WorkspaceError(f"{rel!r}: leads outside the project or into its .git folder")


def file_path(project_dir: Path, rel: str) -> Path:
    """``project_dir/rel`` after checking that no symlinked folder on the way leads out of the project."""
    check_rel(rel)
    target = project_dir / rel
    parent = target.parent
    while not parent.exists() and parent != project_dir:
        parent = parent.parent
    if not is_inside(parent.resolve(), project_dir.resolve()):
        raise WorkspaceError(f"{rel}: a symlinked folder on the way leads outside the project")
    return target


class State:
    """The files of one workspace's patch state."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir

    def record_path(self, project: str) -> Path:
        return self.state_dir / RECORDS_DIR / f"{record_key(project)}.json"

    def journal_path(self, project: str) -> Path:
        return self.state_dir / JOURNAL_DIR / f"{record_key(project)}.json"

    def suspended_path(self, project: str) -> Path:
        return self.state_dir / SUSPENDED_DIR / f"{record_key(project)}.json"

    def read(self, path: Path) -> Record | None:
        try:
            return Record.from_json(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError, WorkspaceError) as e:
            raise WorkspaceError(
                f"{path}: not a valid patch-state record ({e}); restore the files it names by hand "
                "(git -C PROJECT status), delete it, then run 'ukws patch-app' again"
            ) from None

    def record(self, project: str) -> Record | None:
        return self.read(self.record_path(project))

    def suspended(self, project: str) -> Record | None:
        return self.read(self.suspended_path(project))


def unapplied(state: State, project: Project) -> tuple[str, ...]:
    """The paths of ``project``'s patches when ``ukws patch-app`` has not applied its series as the
    manifest has it now (or was interrupted doing so); ``()`` when it has, or there is none."""
    patches = project.app.patches if project.app is not None else ()
    if not patches:
        return ()
    record = state.record(project.name)
    done = [(x.path, x.sha256) for x in record.patches] if record is not None else None
    if done == [(x.path, x.sha256) for x in patches] and not state.journal_path(project.name).exists():
        return ()
    return tuple(x.path for x in patches)


@dataclass(frozen=True, slots=True, kw_only=True)
class SeriesState:
    """What an applied series did to a project, for ``ukws status`` and ``ukws diff``."""

    patches: tuple[str, ...]
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    edited: tuple[str, ...]
    """Files changed again since the series was applied."""
    makefile: str | None = None


def series_state(record: Record, current: Mapping[str, str | None]) -> SeriesState:
    """What ``record`` did, given the blob each of its files holds now (pure)."""
    files = record.files
    return SeriesState(
        patches=tuple(p.path for p in record.patches),
        added=tuple(k for k, v in sorted(files.items()) if v.before is None),
        changed=tuple(k for k, v in sorted(files.items()) if v.before is not None and v.after is not None),
        removed=tuple(k for k, v in sorted(files.items()) if v.after is None),
        edited=tuple(k for k, v in sorted(files.items()) if current.get(k) != v.after),
        makefile=record.makefile,
    )


def workspace_series(ws: Workspace, manifest: Manifest) -> dict[str, SeriesState]:
    """Project path -> the state of its applied series, for every application that has one."""
    state = State(ws.state_dir)
    out: dict[str, SeriesState] = {}
    for p in manifest.projects:
        if p.app is None:
            continue
        record = state.record(p.name)
        if record is None or git.git_dir(ws.root / p.path) is None:
            continue
        repo = git.open_repo(ws.root / p.path)
        out[p.path] = series_state(record, {rel: git.worktree_blob(repo, rel) for rel in record.files})
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One file of a transition."""

    path: str
    src: str | None
    """The blob the file holds now (None: no file)."""
    dest: str | None
    """The blob it must hold (None: removed)."""
    mode: int = 0o100644


def run_transition(
    state: State,
    repo: git.Repository,
    *,
    project: str,
    project_dir: Path,
    steps: tuple[Step, ...],
    record: Record | None,
    record_action: str,
    keep: tuple[str, ...],
) -> None:
    """Journal, then change the files, then write (``record_action`` ``write``), remove
    (``delete``) or set aside (``suspend``) the record, then drop the journal."""
    if keep:
        git.keep_blobs(repo, KEEP_REF, keep, f"ukws patch-app: blobs of {project}")
    journal = {
        "version": RECORD_VERSION,
        "project": project,
        "steps": [{"path": s.path, "from": s.src, "to": s.dest, "mode": oct(s.mode)} for s in steps],
        "record": record.to_json() if record is not None else None,
        "record_action": record_action,
    }
    write_json_atomic(state.journal_path(project), journal)
    roll_forward(state, repo, project=project, project_dir=project_dir)


def roll_forward(state: State, repo: git.Repository, *, project: str, project_dir: Path) -> bool:
    """Finish the transition a journal names (nothing when there is none). True when there was one."""
    path = state.journal_path(project)
    try:
        journal = json.loads(path.read_text(encoding="utf-8"))
        steps = [
            Step(path=str(s["path"]), src=s["from"], dest=s["to"], mode=int(str(s["mode"]), 0))
            for s in journal["steps"]
        ]
        action = str(journal["record_action"])
        record = Record.from_json(journal["record"]) if journal["record"] is not None else None
    except FileNotFoundError:
        return False
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise WorkspaceError(f"{path}: damaged patch journal ({e}); delete it, then check the project with "
                             "'ukws status'") from None
    for step in steps:
        _write_step(repo, project_dir, step)
    if action == "write" and record is not None:
        write_json_atomic(state.record_path(project), record.to_json())
        state.suspended_path(project).unlink(missing_ok=True)
    elif action == "suspend" and record is not None:
        write_json_atomic(state.suspended_path(project), record.to_json())
        state.record_path(project).unlink(missing_ok=True)
    else:
        state.record_path(project).unlink(missing_ok=True)
        state.suspended_path(project).unlink(missing_ok=True)
        with contextlib.suppress(GitError):
            git.keep_blobs(repo, KEEP_REF, (), "")
    path.unlink(missing_ok=True)
    return True


def _write_step(repo: git.Repository, project_dir: Path, step: Step) -> None:
    target = file_path(project_dir, step.path)
    clean_temporaries(target.parent, target.name)
    now = git.worktree_blob(repo, step.path)
    if now == step.dest:
        return
    if now != step.src:
        raise WorkspaceError(
            f"{target}: changed while ukws patch-app was changing it; move your version away, then run "
            "'ukws patch-app' again"
        )
    if step.dest is None:
        target.unlink()
        _remove_empty_parents(target.parent, project_dir)
        return
    data = git.checkout_bytes(repo, step.dest, step.path)
    executable = step.mode == git.EXECUTABLE_MODE
    mode = target.stat().st_mode & 0o777 if target.exists() else (0o755 if executable else 0o644)
    atomic_write(target, data, mode=mode)


def _remove_empty_parents(folder: Path, stop: Path) -> None:
    while folder != stop and is_inside(folder, stop):
        try:
            os.rmdir(folder)
        except OSError:
            return
        folder = folder.parent
