"""``forall``: the command runs in each synced project with repo's and ukws's variables."""

from __future__ import annotations

import json
from pathlib import Path

import pygit2

from tests.gitutil import file_url
from tests.wsutil import serve_projects
from ukws.forall import forall, local_revision, project_env
from ukws.manifest.model import Annotation, Project


def _project(name: str, url: str, **kw: object) -> Project:
    return Project(name=name, path=f"libs/{name}", remote="origin", revision="main", fetch_url=url, **kw)  # type: ignore[arg-type]


def test_project_env_has_ukws_and_repo_names(tmp_path: Path) -> None:
    p = _project(
        "lib-a",
        "https://h/lib-a",
        upstream="main",
        dest_branch="review",
        annotations=(Annotation(name="owner", value="net"),),
    )
    env = project_env(p, root=tmp_path, sha="a" * 40, index=1, count=3)
    assert env == {
        "UKWS_ROOT": str(tmp_path),
        "UKWS_PROJECT": "lib-a",
        "UKWS_PATH": "libs/lib-a",
        "UKWS_REVISION": "main",
        "UKWS_SHA": "a" * 40,
        "UKWS_REMOTE_URL": "https://h/lib-a",
        "UKWS__owner": "net",
        "REPO_PROJECT": "lib-a",
        "REPO_PATH": "libs/lib-a",
        "REPO_REMOTE": "origin",
        "REPO_LREV": "refs/remotes/origin/main",
        "REPO_RREV": "main",
        "REPO_UPSTREAM": "main",
        "REPO_DEST_BRANCH": "review",
        "REPO_I": "2",
        "REPO_COUNT": "3",
        "REPO__owner": "net",
    }


def _checkouts(tmp_path: Path, names: list[str]) -> tuple[Path, list[Project], dict[str, str | None]]:
    heads = serve_projects(tmp_path / "srv", names)
    root = tmp_path / "ws"
    projects = [_project(n, file_url(tmp_path / "srv" / n)) for n in names]
    for p in projects[:-1]:  # the last one is not synced
        pygit2.clone_repository(p.fetch_url, str(root / p.path))
    return root, projects, {p.path: heads[p.name] if (root / p.path).exists() else None for p in projects}


def test_runs_in_each_synced_project_with_its_environment(tmp_path: Path) -> None:
    root, projects, heads = _checkouts(tmp_path, ["a", "b", "c"])
    cmd = 'printf "%s %s %s %s\\n" "$PWD" "$UKWS_PROJECT" "$UKWS_SHA" "$1" > forall.out'
    result = forall(
        root=root, projects=projects, command=cmd, args=["x"], heads=heads, base_env={"PATH": "/usr/bin:/bin"}
    )
    assert result.ok
    assert [(r.path, r.returncode, r.skipped) for r in result.runs] == [
        ("libs/a", 0, ""),
        ("libs/b", 0, ""),
        ("libs/c", None, "not synced"),
    ]
    for p in projects[:2]:
        line = (root / p.path / "forall.out").read_text().split()
        assert line == [str(root / p.path), p.name, heads[p.path], "x"]


def test_captured_output_failures_and_abort(tmp_path: Path) -> None:
    root, projects, heads = _checkouts(tmp_path, ["a", "b", "c", "d"])
    env = {"PATH": "/usr/bin:/bin"}
    cmd = 'echo "$REPO_PROJECT"; [ "$REPO_PROJECT" != a ]'
    seen: list[str] = []
    result = forall(
        root=root,
        projects=projects,
        command=cmd,
        heads=heads,
        base_env=env,
        capture=True,
        report=lambda r: seen.append(r.path),
    )
    assert not result.ok
    assert [(r.returncode, r.output) for r in result.runs[:3]] == [(1, "a\n"), (0, "b\n"), (0, "c\n")]
    assert seen == [p.path for p in projects]
    aborted = forall(root=root, projects=projects, command=cmd, heads=heads, base_env=env, abort_on_error=True)
    assert [r.returncode for r in aborted.runs] == [1, None, None, None]
    assert aborted.runs[1].skipped == "not run after an earlier failure"


def test_parallel_runs_keep_project_order(tmp_path: Path) -> None:
    root, projects, heads = _checkouts(tmp_path, ["a", "b", "c", "d"])
    result = forall(
        root=root,
        projects=projects,
        command='printf "%s" "$REPO_I/$REPO_COUNT"',
        heads=heads,
        base_env={"PATH": "/usr/bin:/bin"},
        jobs=3,
    )
    assert [r.output for r in result.runs] == ["1/4", "2/4", "3/4", None]
    assert json.dumps([r.returncode for r in result.runs]) == "[0, 0, 0, null]"


def test_local_revision_follows_repo() -> None:
    def rev(revision: str) -> Project:
        return Project(name="p", path="p", remote="up", revision=revision, fetch_url="https://h/p")

    assert local_revision(rev("main")) == "refs/remotes/up/main"
    assert local_revision(rev("refs/heads/stable")) == "refs/remotes/up/stable"
    assert local_revision(rev("refs/tags/RELEASE-0.13.1")) == "refs/tags/RELEASE-0.13.1"
    assert local_revision(rev("c" * 40)) == "c" * 40
    assert local_revision(rev("main"), pin="d" * 40) == "d" * 40
