"""Google repo's readings of real manifests that ukws follows (AOSP, chromium): URLs, includes,
groups, nested paths."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest

from tests.gitutil import file_url
from tests.manifestutil import ORIGIN, write_manifest
from tests.wsutil import manifest_xml, serve_workspace
from ukws import workspace, workspace_init
from ukws.errors import ManifestError
from ukws.manifest import load, select_groups
from ukws.workspace_init import InitRequest

RELATIVE = '<remote name="aosp" fetch=".."/><default remote="aosp" revision="main"/><project name="platform/build"/>'


@pytest.mark.parametrize(
    ("manifest_url", "expected"),
    [
        ("git@host:platform/manifest", "ssh://git@host/platform/build"),
        ("git@host:platform/manifest/", "ssh://git@host/platform/build"),
        ("host.example.org:platform/manifest", "ssh://host.example.org/platform/build"),
        ("ssh://git@host/platform/manifest", "ssh://git@host/platform/build"),
        ("https://android.googlesource.com/platform/manifest", "https://android.googlesource.com/platform/build"),
        ("persistent-https://android.googlesource.com/platform/manifest",
         "persistent-https://android.googlesource.com/platform/build"),
        ("sso://android/platform/manifest", "sso://android/platform/build"),
        ("/srv/mirror/platform/manifest", "/srv/mirror/platform/build"),
    ],
)
def test_relative_fetch_joins_as_repo_joins(manifest_url: str, expected: str, tmp_path: Path) -> None:
    m = load(write_manifest(tmp_path, RELATIVE), manifest_url=manifest_url)
    assert m.projects[0].fetch_url == expected


def test_scp_like_fetch_is_read_as_ssh_as_repo_reads_it(tmp_path: Path) -> None:
    m = load(write_manifest(tmp_path, '<remote name="gh" fetch="git@github.com:unikraft/"/>'
                                      '<default remote="gh" revision="main"/><project name="unikraft"/>'))
    assert m.projects[0].fetch_url == "ssh://git@github.com/unikraft/unikraft"
    assert m.remotes[0].fetch == "git@github.com:unikraft/"  # written back as it was written


def test_helper_schemes_load(tmp_path: Path) -> None:
    m = load(write_manifest(tmp_path, '<remote name="p" fetch="persistent-https://a.example.org/"/>'
                                      '<remote name="s" fetch="sso://b/"/><default remote="p" revision="main"/>'
                                      '<project name="x"/><project name="y" remote="s"/>'))
    assert [p.fetch_url for p in m.projects] == ["persistent-https://a.example.org/x", "sso://b/y"]


def test_includes_are_named_from_the_manifest_repository_top(tmp_path: Path) -> None:
    """``-m sub/top.xml`` with ``<include name="sub/inc.xml">`` reads sub/inc.xml, as repo does."""
    write_manifest(tmp_path / "sub", '<project name="inc"/>', name="inc.xml")
    write_manifest(tmp_path / "sub", ORIGIN + '<include name="sub/inc.xml"/>', name="top.xml")
    m = load(tmp_path / "sub" / "top.xml", include_root=tmp_path, display="sub/top.xml")
    assert [p.name for p in m.projects] == ["inc"]
    with pytest.raises(ManifestError) as info:
        load(tmp_path / "sub" / "top.xml", display="sub/top.xml")
    assert info.value.lines() == ["sub/top.xml:5: cannot read manifest sub/sub/inc.xml: no such file"]


def test_init_from_repository_reads_includes_from_its_top(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv", files={
        "sub/top.xml": manifest_xml([], extra='<include name="sub/inc.xml"/>'),
        "sub/inc.xml": '<manifest><project name="lib-a"/></manifest>\n',
    })
    workspace_init.init(root=tmp_path / "ws", cwd=tmp_path,
                        request=InitRequest(url=file_url(served.root / "manifest"), manifest="sub/top.xml"))
    ws = workspace.find_workspace(tmp_path / "ws")
    assert [p.name for p in workspace.load_workspace_manifest(ws).projects] == ["lib-a"]


def test_default_groups_are_default_and_this_platform(tmp_path: Path) -> None:
    """AOSP branches mark host prebuilts ``notdefault,platform-linux``: repo syncs them on Linux."""
    here = f"platform-{platform.system().lower()}"
    m = load(write_manifest(tmp_path, ORIGIN + f"""
      <project name="plain"/>
      <project name="prebuilts/host" groups="notdefault,{here}"/>
      <project name="prebuilts/other" groups="notdefault,platform-plan9"/>
    """))
    assert [p.name for p in select_groups(m, None).projects] == ["plain", "prebuilts/host"]
    assert [p.name for p in select_groups(m, "default").projects] == ["plain"]
    assert f"default,{here}" == workspace.DEFAULT_GROUPS
