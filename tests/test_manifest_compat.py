"""Google repo's readings of real manifests that ukws follows (AOSP, chromium): URLs, includes,
groups, nested paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.manifestutil import write_manifest
from ukws.manifest import load

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
