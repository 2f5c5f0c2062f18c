"""Path and URL checks: whatever a manifest says, an accepted path stays inside its folder."""

from __future__ import annotations

import posixpath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ukws.manifest.paths import INVISIBLE, check_path, path_rules
from ukws.manifest.urls import check_url

PIECES = st.sampled_from(["a", "b", "..", ".", "", ".git", ".GIT", " .git", ".repo", ".repoX", ".ukws", "~",
                          "\\", "x\\..", "/", "//", "\n", "\u200c", "\ufeff", "c:", "lib-newlib", "x y"])


@settings(max_examples=400, deadline=None)
@given(st.lists(PIECES, min_size=1, max_size=6).map("/".join) | st.text(max_size=20))
def test_accepted_paths_stay_inside_and_avoid_git_dirs(path: str) -> None:
    if check_path(path) is not None:
        return
    norm = posixpath.normpath(posixpath.join("/ws", path))
    assert norm.startswith("/ws/"), path
    parts = path.split("/")
    assert all(p.strip().lower() != ".git" and p not in (".", "..", "") for p in parts), path
    assert not INVISIBLE.intersection(path) and "\\" not in path and "~" not in path


@settings(max_examples=400, deadline=None)
@given(
    st.lists(PIECES | st.sampled_from(["-x", "x-", "a.b", "A_Z", "@,=+", "a:b", "..x", ".x"]), min_size=1,
             max_size=5).map("/".join)
    | st.from_regex(r"[a-z.\-/]{0,12}", fullmatch=True),
    st.booleans(),
    st.booleans(),
)
def test_plain_path_shortcut_agrees_with_every_rule(path: str, dir_ok: bool, dot_ok: bool) -> None:
    assert check_path(path, dir_ok=dir_ok, dot_ok=dot_ok) == path_rules(path, dir_ok=dir_ok, dot_ok=dot_ok)


@pytest.mark.parametrize(
    ("path", "ok"),
    [("libs/newlib", True), ("a/b/c", True), ("apps/xen", True), (".", False), ("a/.", False),
     ("a/./b", False), ("a/", False), ("/a", False), ("a\\b", False), ("C:/x", False), ("x/.git/y", False),
     ("x/.Git ", False), (".repo", False), (".repo_x/y", False), (".ukws", False), (".ukwsx", False),
     ("~root", False), ("a//b", False), ("", False), ("a\u202eb", False), ("a\rb", False), (".gitignore", True),
     (".github/x", True), ("repo/x", True)],
)
def test_check_path_cases(path: str, ok: bool) -> None:
    assert (check_path(path) is None) is ok


def test_linkfile_src_may_be_dot_or_a_folder() -> None:
    assert check_path(".", dot_ok=True) is None
    assert check_path("dir/", dir_ok=True) is None
    assert check_path("./x", dot_ok=True) is not None


@pytest.mark.parametrize(
    ("url", "ok"),
    [("https://github.com/unikraft/unikraft", True), ("http://x/y", True), ("ssh://git@x/y", True),
     ("git://x/y", True), ("file:///srv/mirror/x", True), ("git@github.com:unikraft/unikraft", True),
     ("/srv/mirror/x", True), ("ext::sh -c evil", False), ("fd::3", False), ("EXT::sh", False),
     ("ext://sh", False), ("svn://x/y", True), ("-uevil", False), ("--upload-pack=evil", False),
     ("ftp://x/y", True), ("https://x/\ny", False), ("", False), ("persistent-https://x/y", True),
     ("sso://host/x", True), ("hg::https://x/y", True), ("https://x/\x7fy", False)],
)
def test_check_url_cases(url: str, ok: bool) -> None:
    assert (check_url(url) is None) is ok
