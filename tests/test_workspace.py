"""Finding and opening a workspace, its configuration files, shipped manifests, crash repair."""

from __future__ import annotations

import json
from pathlib import Path

import pygit2
import pytest

from tests.gitutil import file_url
from tests.servers import GitServer
from tests.wsutil import manifest_xml, push_manifest, serve_workspace
from ukws import git, workspace, workspace_init
from ukws.errors import GitError, UsageError, WorkspaceError
from ukws.sync.rewrite import RuleOrigin, parse_rule, read_user_rewrites, user_config_path
from ukws.workspace import Config, ManifestSource, SourceKind
from ukws.workspace_init import InitRequest


def _new(root: Path, **kw: object) -> workspace.Workspace:
    workspace_init.init(root=root, request=InitRequest(**kw), cwd=root.parent)  # type: ignore[arg-type]
    return workspace.find_workspace(root)


def test_find_from_any_folder_inside(tmp_path: Path) -> None:
    ws = _new(tmp_path / "ws", manifest="helloworld")
    deep = tmp_path / "ws" / "apps" / "x" / "y"
    deep.mkdir(parents=True)
    assert workspace.find_root(deep) == ws.root
    assert workspace.find_workspace(deep).root == ws.root
    assert ws.lock_path == ws.root / ".ukws" / "lock.xml"
    assert ws.state_dir == ws.root / ".ukws" / "state"
    assert ws.local_manifests_dir == ws.root / ".ukws" / "local_manifests"
    assert ws.manifest_path == ws.root / ".ukws" / "manifests" / "helloworld.xml"
    assert not ws.is_repo


def test_find_outside_any_workspace(tmp_path: Path) -> None:
    assert workspace.find_root(tmp_path) is None
    with pytest.raises(WorkspaceError, match=r"not inside a ukws workspace .*; run 'ukws init -m NAME'"):
        workspace.find_workspace(tmp_path)


def test_missing_config(tmp_path: Path) -> None:
    (tmp_path / ".ukws").mkdir()
    with pytest.raises(WorkspaceError, match=r"config.json: missing; run 'ukws init -m NAME'"):
        workspace.find_workspace(tmp_path)


@pytest.mark.parametrize(
    "content",
    [
        "{",
        "[]",
        '{"manifest": {"kind": "weird", "name": "x"}}',
        '{"manifest": {"kind": "file"}}',
        '{"manifest": {"kind": "file", "name": "x"}, "rewrites": ["bad"]}',
    ],
)
def test_invalid_config(tmp_path: Path, content: str) -> None:
    (tmp_path / ".ukws").mkdir()
    (tmp_path / ".ukws" / "config.json").write_text(content)
    with pytest.raises(WorkspaceError, match=r"config.json: not a valid ukws configuration .*run 'ukws init' again"):
        workspace.find_workspace(tmp_path)


def test_config_round_trip(tmp_path: Path) -> None:
    config = Config(
        manifest=ManifestSource(kind=SourceKind.REPO, name="x.xml", url="https://h/m", revision="v1"),
        groups="all,-tools",
        depth=3,
        mirror=True,
        reference="/srv/mirror",
        rewrites=(parse_rule("https://h/=file:///m/"), parse_rule("https://h/=file:///n/")),
    )
    path = tmp_path / "c" / "config.json"
    workspace.write_config(path, config)
    assert workspace.read_config(path) == config
    assert json.loads(path.read_text())["version"] == 1
    assert [p.name for p in path.parent.iterdir()] == ["config.json"]  # no temporary file left


def test_user_config(tmp_path: Path) -> None:
    assert user_config_path({"XDG_CONFIG_HOME": "/x"}) == Path("/x/ukws/config.json")
    assert user_config_path({"HOME": "/h"}) == Path("/h/.config/ukws/config.json")
    path = tmp_path / "config.json"
    assert read_user_rewrites(path) == ()
    path.write_text(json.dumps({"rewrites": ["https://h/=file:///u/"]}))
    (rule,) = read_user_rewrites(path)
    assert rule.origin is RuleOrigin.USER
    ws = _new(tmp_path / "ws", manifest="helloworld", rewrites=(parse_rule("https://h/=file:///w/"),))
    assert workspace.rewriter(ws, (rule,)).candidates("https://h/p") == ("file:///w/p", "file:///u/p")


@pytest.mark.parametrize("content", ["{", '{"rewrites": "x"}', '{"rewrites": ["nope"]}'])
def test_invalid_user_config(tmp_path: Path, content: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(content)
    with pytest.raises(WorkspaceError, match="not a valid ukws user configuration"):
        read_user_rewrites(path)


def test_shipped_manifest_names(repo_root: Path) -> None:
    assert workspace_init.shipped_manifest("helloworld") == repo_root / "manifests" / "helloworld.xml"
    assert workspace_init.shipped_manifest("helloworld.xml") == repo_root / "manifests" / "helloworld.xml"
    assert workspace_init.shipped_manifest("default") == repo_root / "default.xml"
    assert workspace_init.shipped_manifest("helloworld").name == "helloworld.xml"
    with pytest.raises(UsageError, match="not a shipped manifest name"):
        workspace_init.shipped_manifest("../pyproject")


def test_manifest_file_gone(tmp_path: Path) -> None:
    mine = tmp_path / "mine.xml"
    mine.write_text((Path(workspace_init.shipped_manifest("helloworld"))).read_text())
    ws = _new(tmp_path / "ws", manifest=str(mine))
    mine.unlink()
    with pytest.raises(WorkspaceError, match=r"mine.xml: manifest file not found; run 'ukws init -m NAME'"):
        workspace.load_workspace_manifest(ws)


def test_repair_undoes_swap_interrupted_before_new_source_in_place(tmp_path: Path) -> None:
    ws = _new(tmp_path / "ws", manifest="helloworld")
    dot = ws.dot
    (dot / "manifests").rename(dot / "manifests.old")
    (dot / "manifests.new").mkdir()
    (dot / "config.json.new").write_text("{}")
    assert workspace.find_workspace(ws.root) == ws
    assert sorted(p.name for p in dot.iterdir()) == ["config.json", "local_manifests", "manifests"]
    assert ws.manifest_path.is_file()


def test_repair_finishes_swap_once_new_source_is_in_place(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv")
    ws = _new(tmp_path / "ws", manifest="helloworld")
    dot = ws.dot
    # As if init -u was interrupted right after renaming the staged clone into place.
    pygit2.clone_repository(file_url(served.root / "manifest"), str(dot / "manifests.tmp"))
    (dot / "manifests").rename(dot / "manifests.old")
    (dot / "manifests.tmp").rename(dot / "manifests")
    new = Config(
        manifest=ManifestSource(kind=SourceKind.REPO, name="default.xml", url=file_url(served.root / "manifest"))
    )
    workspace.write_config(dot / "config.json.new", new)
    reopened = workspace.find_workspace(ws.root)
    assert reopened.config == new
    assert sorted(p.name for p in dot.iterdir()) == ["config.json", "local_manifests", "manifests"]


def test_update_manifest_repository(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv")
    ws = _new(tmp_path / "ws", url=file_url(served.root / "manifest"))
    url = file_url(served.root / "manifest")
    same = git.update_manifest_repo(ws.manifests_dir, [url], None)
    assert (same.action, same.sha) == ("unchanged", served.manifest_sha)
    newer = push_manifest(served.root, {"README": "x\n"})
    moved = git.update_manifest_repo(ws.manifests_dir, [file_url(tmp_path / "dead"), url], None)
    assert (moved.action, moved.sha, moved.url) == ("updated", newer, url)
    assert len(moved.failures) == 1
    assert (ws.manifests_dir / "README").read_text() == "x\n"
    (ws.manifests_dir / "README").write_text("mine\n")
    push_manifest(served.root, {"README": "y\n"})
    kept = git.update_manifest_repo(ws.manifests_dir, [url], None)
    assert kept.action == "skipped"
    assert "changed or untracked file README" in kept.message
    assert (ws.manifests_dir / "README").read_text() == "mine\n"
    with pytest.raises(GitError, match="cannot fetch the manifest repository"):
        git.update_manifest_repo(ws.manifests_dir, [file_url(tmp_path / "dead")], None)


def test_update_follows_the_chosen_branch_or_tag(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv")
    url = file_url(served.root / "manifest")
    dev = push_manifest(served.root, {"default.xml": manifest_xml(["core"]), "dev.txt": "1\n"}, branch="dev")
    ws = _new(tmp_path / "ws", url=url, revision="dev")
    assert git.manifest_repo_head(ws.manifests_dir) == (dev, "dev")
    newer = push_manifest(served.root, {"dev.txt": "2\n"}, branch="dev")
    push_manifest(served.root, {"main.txt": "x\n"})
    moved = git.update_manifest_repo(ws.manifests_dir, [url], "dev")
    assert (moved.action, moved.sha) == ("updated", newer)
    assert git.manifest_repo_head(ws.manifests_dir) == (newer, "dev")
    # A tag stays where it is until it is moved upstream.
    tagged = _new(tmp_path / "tagged", url=url, revision="v1")
    assert git.manifest_repo_head(tagged.manifests_dir) == (served.manifest_sha, None)
    same = git.update_manifest_repo(tagged.manifests_dir, [url], "v1")
    assert (same.action, same.sha) == ("unchanged", served.manifest_sha)
    assert git.checked_out_commit(tagged.manifests_dir) == served.manifest_sha
    assert git.checked_out_commit(tmp_path / "nowhere") is None
    assert git.manifest_repo_head(tmp_path / "nowhere") is None


@pytest.mark.parametrize("transport", ["file", "daemon", "http"])
def test_manifest_repository_fetches_like_a_project(
    transport: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Clone and update of the manifest repository go through the projects' fetch: URL and
    revision checks, the remote's default branch followed, deleted branches pruned."""
    if transport == "file":
        root, url = tmp_path / "srv", file_url(tmp_path / "srv" / "manifest")
    else:
        server: GitServer = request.getfixturevalue({"daemon": "git_daemon", "http": "http_git"}[transport])
        root, url = server.root, server.url("manifest")
    served = serve_workspace(root)
    dest = tmp_path / "clone"
    cloned = git.clone_manifest_repo(["ext::sh -c evil", url], dest, None, timeout=5)
    assert (cloned.url, cloned.sha) == (url, served.manifest_sha)
    assert "transport 'ext' is not allowed" in cloned.failures[0]
    assert git.manifest_repo_head(dest) == (served.manifest_sha, "main")
    repo = pygit2.Repository(str(dest))
    assert repo.references["refs/remotes/origin/HEAD"].resolve().name == "refs/remotes/origin/main"
    assert repo.branches.local["main"].upstream.name == "refs/remotes/origin/main"
    dev = push_manifest(root, {"dev.txt": "1\n"}, branch="dev")
    assert git.update_manifest_repo(dest, [url], "dev").sha == dev
    assert git.manifest_repo_head(dest) == (dev, "dev")
    with pytest.raises(GitError, match="refusing revision"):
        git.update_manifest_repo(dest, [url], "--upload-pack=evil")
    pygit2.Repository(str(root / "manifest")).references["refs/heads/dev"].delete()
    with pytest.raises(GitError, match="no branch, tag or commit 'dev'"):
        git.update_manifest_repo(dest, [url], "dev")
    assert "refs/remotes/origin/dev" not in pygit2.Repository(str(dest)).references
    kept = git.update_manifest_repo(dest, [url], "main")  # HEAD's commits are now only local
    assert (kept.action, git.manifest_repo_head(dest)) == ("skipped", (dev, "dev"))
