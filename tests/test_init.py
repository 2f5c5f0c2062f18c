"""``init``: creating a workspace from a shipped manifest, a manifest file or a manifest repository,
and switching it to another manifest safely."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import pygit2
import pytest

from tests.gitutil import file_url
from tests.servers import GitServer
from tests.wsutil import manifest_xml, push_manifest, serve_workspace
from ukws import workspace, workspace_init
from ukws.errors import GitError, ManifestError, UsageError, WorkspaceError
from ukws.sync.rewrite import parse_rule
from ukws.workspace import SourceKind
from ukws.workspace_init import InitRequest


def _init(root: Path, **kw: object) -> workspace_init.InitResult:
    return workspace_init.init(root=root, request=InitRequest(**kw), cwd=root.parent)  # type: ignore[arg-type]


def test_init_shipped_manifest(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    result = _init(root, manifest="helloworld")
    assert result.source.kind is SourceKind.SHIPPED
    assert result.source.name == "helloworld.xml"
    assert result.manifest_file == root / ".ukws" / "manifests" / "helloworld.xml"
    assert result.manifest_file.is_file()
    assert result.project_count == 2
    assert not result.reinit
    assert (root / ".ukws" / "local_manifests").is_dir()
    data = json.loads((root / ".ukws" / "config.json").read_text())
    assert data["manifest"] == {"kind": "shipped", "name": "helloworld.xml", "url": None, "revision": None}
    assert data["groups"] == f"default,platform-{platform.system().lower()}"
    (root / "deep" / "er").mkdir(parents=True)
    ws = workspace.find_workspace(root / "deep" / "er")
    assert ws.root == root.resolve()
    names = [p.name for p in workspace.load_workspace_manifest(ws).projects]
    assert names == ["unikraft", "app-helloworld"]


def test_init_shipped_default(tmp_path: Path) -> None:
    result = _init(tmp_path / "ws", manifest="default")
    assert result.manifest_file.name == "default.xml"
    assert result.manifest_file.is_file()


def test_init_manifest_file_is_used_where_it_is(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv")
    mine = tmp_path / "mine.xml"
    mine.write_text(manifest_xml(["core"], fetch=file_url(served.root)))
    root = tmp_path / "ws"
    result = _init(root, manifest="mine.xml")
    assert result.source == workspace.ManifestSource(kind=SourceKind.FILE, name=str(mine.resolve()))
    ws = workspace.find_workspace(root)
    assert ws.manifest_path == mine.resolve()
    mine.write_text(manifest_xml(["core", "lib-a"], fetch=file_url(served.root)))
    projects = workspace.load_workspace_manifest(ws).projects
    assert [p.fetch_url for p in projects] == [file_url(served.root) + "/core", file_url(served.root) + "/lib-a"]


def test_init_needs_a_manifest(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="needs -m NAME"):
        _init(tmp_path / "ws")
    assert not (tmp_path / "ws" / ".ukws").exists()


def test_revision_needs_url(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="-b REV needs -u URL"):
        _init(tmp_path / "ws", manifest="helloworld", revision="main")


def test_unknown_manifest_lists_shipped(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"-m nosuch: no such manifest file.*shipped: .*helloworld"):
        _init(tmp_path / "ws", manifest="nosuch")
    assert not (tmp_path / "ws" / ".ukws").exists()


def test_manifest_that_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "adir").mkdir(parents=True)
    with pytest.raises(UsageError, match="-m adir: not a file"):
        _init(tmp_path / "ws", manifest="adir")


def test_invalid_manifest_leaves_no_workspace(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text("<manifest><project/></manifest>\n")
    with pytest.raises(ManifestError):
        _init(tmp_path / "ws", manifest=str(bad))
    assert not (tmp_path / "ws" / ".ukws").exists()


def test_init_from_manifest_repository(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv")
    root = tmp_path / "ws"
    url = file_url(served.root / "manifest")
    result = _init(root, url=url)
    assert result.source == workspace.ManifestSource(kind=SourceKind.REPO, name="default.xml", url=url)
    assert result.manifest_sha == served.manifest_sha
    assert result.url_used == url
    clone = root / ".ukws" / "manifests"
    assert pygit2.Repository(str(clone)).head.shorthand == "main"
    ws = workspace.find_workspace(root)
    projects = workspace.load_workspace_manifest(ws).projects
    # fetch="." resolves against the manifest repository's URL
    assert [p.fetch_url for p in projects] == [file_url(served.root) + "/core", file_url(served.root) + "/lib-a"]


@pytest.mark.parametrize("transport", ["daemon", "http"])
def test_init_from_served_manifest_repository(transport: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    server: GitServer = request.getfixturevalue({"daemon": "git_daemon", "http": "http_git"}[transport])
    served = serve_workspace(server.root)
    result = _init(tmp_path / "ws", url=server.url("manifest"))
    assert result.manifest_sha == served.manifest_sha
    projects = workspace.load_workspace_manifest(workspace.find_workspace(tmp_path / "ws")).projects
    assert [p.fetch_url for p in projects] == [server.url("core"), server.url("lib-a")]


def test_revision_and_name_in_manifest_repository(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv", files={"other.xml": manifest_xml(["lib-a"])})
    push_manifest(served.root, {"other.xml": manifest_xml(["core", "lib-a"])})
    url = file_url(served.root / "manifest")
    result = _init(tmp_path / "ws", url=url, revision="v1", manifest="other.xml")
    assert result.manifest_sha == served.manifest_sha
    assert result.project_count == 1
    assert pygit2.Repository(str(tmp_path / "ws" / ".ukws" / "manifests")).head_is_detached


def test_unknown_revision(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv")
    with pytest.raises(GitError, match="no branch, tag or commit 'nope'; check -b"):
        _init(tmp_path / "ws", url=file_url(served.root / "manifest"), revision="nope")
    assert not (tmp_path / "ws" / ".ukws").exists()


def test_repo_name_must_stay_inside(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="NAME is a file inside the manifest repository"):
        _init(tmp_path / "ws", url="file:///nowhere", manifest="../x.xml")


def test_unreachable_manifest_repository(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="cannot clone the manifest repository: file:///"):
        _init(tmp_path / "ws", url=file_url(tmp_path / "absent"))
    assert not (tmp_path / "ws" / ".ukws").exists()


def test_rewrites_apply_to_manifest_url_with_fallback(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv")
    rules = (
        parse_rule(f"https://example.invalid/={file_url(tmp_path / 'dead')}/"),
        parse_rule(f"https://example.invalid/={file_url(served.root)}/"),
    )
    result = _init(tmp_path / "ws", url="https://example.invalid/manifest", rewrites=rules)
    assert result.url_used == file_url(served.root) + "/manifest"
    assert len(result.url_failures) == 1
    assert result.url_failures[0].startswith(file_url(tmp_path / "dead"))
    ws = workspace.find_workspace(tmp_path / "ws")
    assert ws.config.rewrites == rules
    # Relative fetch URLs resolve against the manifest URL as given; rewriting happens on fetch.
    core = workspace.load_workspace_manifest(ws).projects[0]
    assert core.fetch_url == "https://example.invalid/core"
    assert workspace.rewriter(ws)(core) == (file_url(tmp_path / "dead") + "/core", file_url(served.root) + "/core")


def test_reinit_switches_manifest_and_keeps_settings(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv")
    root = tmp_path / "ws"
    _init(root, manifest="helloworld", groups="all,-notdefault", depth=1)
    (root / ".ukws" / "lock.xml").write_text("<lock/>\n")
    (root / ".ukws" / "local_manifests" / "mine.xml").write_text("<manifest/>\n")
    (root / "sub").mkdir()
    request = InitRequest(url=file_url(served.root / "manifest"))
    result = workspace_init.init(root=root, request=request, cwd=root / "sub")
    assert result.reinit and result.manifest_changed
    assert result.config.groups == "all,-notdefault"
    assert result.config.depth == 1
    assert result.lock_set_aside == root / ".ukws" / "lock.xml.old"
    assert not (root / ".ukws" / "lock.xml").exists()
    assert (root / ".ukws" / "local_manifests" / "mine.xml").exists()
    assert sorted(p.name for p in (root / ".ukws").iterdir()) == [
        "config.json",
        "local_manifests",
        "lock.xml.old",
        "manifests",
        "state",  # the workspace lock a re-init takes
    ]
    ws = workspace.find_workspace(root)
    assert ws.is_repo
    assert (ws.manifests_dir / ".git").is_dir()


def test_reinit_same_source_keeps_lock(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    _init(root, manifest="helloworld")
    (root / ".ukws" / "lock.xml").write_text("<lock/>\n")
    result = _init(root, groups="all", depth=0)
    assert result.reinit and not result.manifest_changed
    assert result.lock_set_aside is None
    assert (root / ".ukws" / "lock.xml").exists()
    assert result.config.groups == "all"
    assert result.config.depth is None


def test_reinit_with_broken_manifest_changes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    _init(root, manifest="helloworld")
    before = (root / ".ukws" / "config.json").read_text()
    bad = tmp_path / "bad.xml"
    bad.write_text('<manifest><project name="x" remote="nowhere"/></manifest>\n')
    with pytest.raises(ManifestError, match=r"bad\.xml:1"):
        _init(root, manifest=str(bad))
    assert (root / ".ukws" / "config.json").read_text() == before
    names = sorted(p.name for p in (root / ".ukws").iterdir())
    assert names == ["config.json", "local_manifests", "manifests", "state"]
    assert [p.name for p in (root / ".ukws" / "state").rglob("*")] == ["sync", "lock"]  # only the lock


def test_reinit_refuses_to_drop_local_work_in_manifest_repository(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv")
    root = tmp_path / "ws"
    _init(root, url=file_url(served.root / "manifest"))
    (root / ".ukws" / "manifests" / "default.xml").write_text("edited\n")
    with pytest.raises(WorkspaceError, match=r"changed or untracked file default.xml; commit and push it"):
        _init(root, manifest="helloworld")
    assert (root / ".ukws" / "manifests" / "default.xml").read_text() == "edited\n"


def test_reinit_refuses_local_commits(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv")
    root = tmp_path / "ws"
    _init(root, url=file_url(served.root / "manifest"))
    from tests.gitutil import commit

    clone = pygit2.Repository(str(root / ".ukws" / "manifests"))
    commit(clone, {"x.xml": "<manifest/>\n"})
    clone.checkout_head(strategy=pygit2.enums.CheckoutStrategy.FORCE)  # type: ignore[no-untyped-call]
    with pytest.raises(WorkspaceError, match="has commits that no remote branch or tag has"):
        _init(root, url=file_url(served.root / "manifest"))


def test_no_nested_workspace(tmp_path: Path) -> None:
    _init(tmp_path / "ws", manifest="helloworld")
    with pytest.raises(WorkspaceError, match=r"inside the workspace at .*ws; run 'ukws init' there"):
        _init(tmp_path / "ws" / "apps" / "inner", manifest="helloworld")


def test_mirror_cannot_change(tmp_path: Path) -> None:
    _init(tmp_path / "ws", manifest="helloworld", mirror=True)
    with pytest.raises(WorkspaceError, match="is a mirror workspace; --mirror cannot change"):
        _init(tmp_path / "ws", mirror=False)
    assert workspace.find_workspace(tmp_path / "ws").config.mirror


def test_reference_must_exist(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="--reference nowhere: no such folder"):
        _init(tmp_path / "ws", manifest="helloworld", reference=Path("nowhere"))
    (tmp_path / "m").mkdir()
    result = _init(tmp_path / "ws", manifest="helloworld", reference=Path("m"))
    assert result.config.reference == str((tmp_path / "m").resolve())


def test_negative_depth(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--depth -1"):
        _init(tmp_path / "ws", manifest="helloworld", depth=-1)


def test_group_selection_and_local_manifests(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv", ["core", "lib-a", "extra"], groups={"extra": "notdefault,tools"})
    root = tmp_path / "ws"
    _init(root, url=file_url(served.root / "manifest"))
    ws = workspace.find_workspace(root)
    assert [p.name for p in workspace.load_workspace_manifest(ws).projects] == ["core", "lib-a"]
    assert [p.name for p in workspace.load_workspace_manifest(ws, groups="tools").projects] == ["extra"]
    assert [p.name for p in workspace.load_workspace_manifest(ws, groups="all,-name:core").projects] == [
        "lib-a",
        "extra",
    ]
    (ws.local_manifests_dir / "10-remove.xml").write_text('<manifest><remove-project name="lib-a"/></manifest>\n')
    assert [p.name for p in workspace.load_workspace_manifest(ws).projects] == ["core"]


def test_killed_reinit_leaves_old_or_new_workspace(tmp_path: Path) -> None:
    """Kill ``ukws init`` switching manifests at several moments: the next command always finds a
    whole workspace, on the old manifest or on the new one."""
    import signal
    import subprocess
    import sys
    import time

    served = serve_workspace(tmp_path / "srv")
    url = file_url(served.root / "manifest")
    root = tmp_path / "ws"
    for delay in (0.05, 0.2, 0.35, 0.5, 0.8):
        _init(root, manifest="helloworld")
        proc = subprocess.Popen(
            [sys.executable, "-m", "ukws", "-C", str(root), "init", "-u", url],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        ws = workspace.find_workspace(root)
        assert ws.config.manifest.kind in (SourceKind.SHIPPED, SourceKind.REPO)
        assert ws.manifest_path.is_file()
        assert len(workspace.load_workspace_manifest(ws).projects) == 2
        assert sorted(p.name for p in ws.dot.iterdir() if p.name.startswith("manifests")) == ["manifests"]
        assert not (ws.dot / "config.json.new").exists()


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"url": "ext::sh -c touch% /tmp/pwned"}, "transport 'ext' is not allowed"),
        ({"url": "--upload-pack=touch /tmp/pwned"}, "option-like"),
        ({"url": "file:///nowhere", "revision": "--force"}, "refusing revision '--force'"),
    ],
)
def test_dangerous_manifest_url_or_revision(tmp_path: Path, kw: dict[str, str], message: str) -> None:
    with pytest.raises(GitError, match=message):
        _init(tmp_path / "ws", **kw)
    assert not (tmp_path / "ws" / ".ukws").exists()


def test_failed_first_init_keeps_prepared_local_manifests(tmp_path: Path) -> None:
    local = tmp_path / "ws" / ".ukws" / "local_manifests"
    local.mkdir(parents=True)
    (local / "mine.xml").write_text("<manifest/>\n")
    with pytest.raises(UsageError):
        _init(tmp_path / "ws", manifest="nosuch")
    with pytest.raises(GitError):
        _init(tmp_path / "ws", url=file_url(tmp_path / "absent"))
    assert (local / "mine.xml").read_text() == "<manifest/>\n"
    result = _init(tmp_path / "ws", manifest="helloworld")
    assert result.project_count == 2


def test_reinit_within_the_manifest_repository(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv", files={"other.xml": manifest_xml(["lib-a"])})
    url = file_url(served.root / "manifest")
    root = tmp_path / "ws"
    _init(root, url=url)
    # -m alone names another file of the manifest repository
    result = _init(root, manifest="other.xml")
    assert result.source == workspace.ManifestSource(kind=SourceKind.REPO, name="other.xml", url=url)
    assert result.project_count == 1
    # -b alone picks another revision of it
    result = _init(root, revision="v1")
    assert result.source == workspace.ManifestSource(kind=SourceKind.REPO, name="other.xml", url=url, revision="v1")
    # a name the repository does not have is looked up as usual: a shipped manifest
    result = _init(root, manifest="helloworld")
    assert result.source.kind is SourceKind.SHIPPED
    with pytest.raises(UsageError, match="-b REV needs -u URL"):
        _init(root, revision="v1")
