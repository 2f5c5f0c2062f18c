"""Patches applied to git trees (ukws.git.apply) and Makefiles pointed at a workspace (ukws.build.makefile)."""

from __future__ import annotations

from pathlib import Path

import pygit2
import pytest

from tests.gitutil import commit, init_repo
from tests.patchutil import ADD_CONFIG, CHANGE_MAKEFILE_UK, MAKEFILE_013, MAKEFILE_UK
from ukws import git
from ukws.build import makefile
from ukws.build.patch import is_build_file


def _repo(tmp_path: Path, files: dict[str, bytes | str | None]) -> tuple[pygit2.Repository, str]:
    repo = init_repo(tmp_path / "r")
    sha = commit(repo, files)
    return repo, git.commit_tree(repo, sha)


def _read(repo: pygit2.Repository, tree: str, path: str) -> bytes | None:
    entry = git.tree_blob(repo, tree, path)
    return git.blob_data(repo, entry[0]) if entry else None


def test_plain_and_git_patches_apply_to_a_tree(tmp_path: Path) -> None:
    repo, tree = _repo(tmp_path, {"Makefile.uk": MAKEFILE_UK})
    status = repo.status()
    trees = git.apply_series_to_tree(repo, tree, [ADD_CONFIG.encode(), CHANGE_MAKEFILE_UK.encode()])
    assert len(trees) == 2
    assert _read(repo, trees[0], "Config.uk") == b'config APPHELLO\n\tbool "hello"\n\tdefault y\n'
    assert _read(repo, trees[0], "Makefile.uk") == MAKEFILE_UK.encode()
    assert _read(repo, trees[1], "Makefile.uk") == (MAKEFILE_UK + "APPHELLO_CFLAGS-y += -DHELLO=1\n").encode()
    changes = git.tree_changes(repo, tree, trees[1])
    assert [(c.path, c.before is None, c.after is None) for c in changes] == [
        ("Config.uk", True, False),
        ("Makefile.uk", False, False),
    ]
    assert repo.status() == status  # no working tree or index touched
    assert git.apply_to_tree(repo, tree, CHANGE_MAKEFILE_UK.replace("\n", "\r\n").encode()) == git.apply_to_tree(
        repo, tree, CHANGE_MAKEFILE_UK.encode()
    )


def test_what_a_patch_touches() -> None:
    deltas = git.patch_deltas((ADD_CONFIG + CHANGE_MAKEFILE_UK).encode())
    assert [(d.status, d.old_path, d.new_path) for d in deltas] == [
        ("A", None, "Config.uk"),
        ("M", "Makefile.uk", "Makefile.uk"),
    ]
    with pytest.raises(git.PatchError, match="holds no file changes"):
        git.patch_deltas(b"just some text\n")


def test_failures_name_the_file_and_write_nothing(tmp_path: Path) -> None:
    repo, tree = _repo(tmp_path, {"Makefile.uk": "something else\n", "Config.uk": "x\n"})
    status = repo.status()
    with pytest.raises(git.PatchError, match=r"Makefile\.uk: hunk at line 1 did not apply") as e:
        git.apply_series_to_tree(repo, tree, [CHANGE_MAKEFILE_UK.encode()])
    assert e.value.index == 0
    with pytest.raises(git.PatchError, match=r"Config\.uk: the patch adds it, but it exists already") as e:
        git.apply_series_to_tree(repo, tree, [ADD_CONFIG.encode()])
    gone = "--- a/gone.c\n+++ b/gone.c\n@@ -1 +1 @@\n-a\n+b\n"
    with pytest.raises(git.PatchError, match=r"gone\.c: no such file to patch"):
        git.apply_to_tree(repo, tree, gone.encode())
    assert repo.status() == status


@pytest.mark.parametrize(
    ("layout", "before"),
    [
        ("0.13", MAKEFILE_013),
        ("0.14", MAKEFILE_013.replace("../../unikraft", ".unikraft/unikraft").replace("../../libs", ".unikraft/libs")),
        (
            "0.15",
            "UK_ROOT ?= $(PWD)/workdir/unikraft\nUK_LIBS ?= $(PWD)/workdir/libs\nUK_BUILD ?= $(PWD)/workdir/build\n"
            "LIBS :=\n\nall:\n\t@$(MAKE) -C $(UK_ROOT) A=$(PWD) L=$(LIBS) O=$(UK_BUILD)\n",
        ),
    ],
)
def test_the_three_makefile_layouts(layout: str, before: str) -> None:
    lay = makefile.Layout.of(
        "apps/hello", core="unikraft", libraries=["libs/pthread", "libs/newlib"],
        all_libraries=["libs/newlib", "libs/pthread"], build="build/app-hello/make",
    )  # fmt: skip
    pointed = makefile.point(before.encode(), lay)
    text = pointed.text.decode()
    assert "UK_ROOT ?= $(abspath $(CURDIR)/../../unikraft)\n" in text
    assert "UK_LIBS ?= $(abspath $(CURDIR)/../../libs)\n" in text
    assert "LIBS := $(UK_LIBS)/pthread:$(UK_LIBS)/newlib\n" in text
    assert "$(PWD)" not in text and "A=$(CURDIR)" in text
    if layout == "0.15":
        assert "UK_BUILD ?= $(abspath $(CURDIR)/../../build/app-hello/make)\n" in text
        assert pointed.variables == ("UK_ROOT", "UK_LIBS", "UK_BUILD", "LIBS")
    else:
        assert "UK_BUILD" not in text
    # only the matched lines change
    assert [a == b for a, b in zip(before.splitlines(), text.splitlines(), strict=True)].count(False) == 5
    assert makefile.point(pointed.text, lay).text == pointed.text


def test_makefile_edits_keep_comments_line_endings_and_other_lines() -> None:
    lay = makefile.Layout.of("app", core="core", libraries=["other/lib-x"], all_libraries=["libs/a", "other/lib-x"],
                             build="build/app/make")  # fmt: skip
    before = (
        b"# my app\r\nUK_ROOT ?= $(PWD)/../unikraft   # the core\r\nLIBS := $(UK_LIBS)/a:\\\r\n"
        b"   $(UK_LIBS)/b # two\r\nCFLAGS += -O2\r\n\techo A=$(PWD)\r\n"
    )
    after = makefile.point(before, lay).text
    assert after == (
        b"# my app\r\nUK_ROOT ?= $(abspath $(CURDIR)/../core)   # the core\r\n"
        b"LIBS := $(abspath $(CURDIR)/../other/lib-x) # two\r\nCFLAGS += -O2\r\n\techo A=$(CURDIR)\r\n"
    )
    assert not makefile.is_unikraft_makefile(b"all:\n\tcc -o x x.c\n")
    generated = makefile.generate(lay).decode()
    assert "UK_ROOT ?= $(abspath $(CURDIR)/../core)\n" in generated
    assert "\t@$(MAKE) -C $(UK_ROOT) A=$(CURDIR) L=$(LIBS) O=$(UK_BUILD)\n" in generated


def test_build_files() -> None:
    for name in ("Makefile", "x/Makefile.uk", "Config.uk", "configure", "configure.ac", "Makefile.am",
                 "Makefile.in", "m4/ax.m4", "link.ld", "a/b.lds", "Kraftfile", "kraft.yaml"):  # fmt: skip
        assert is_build_file(name), name
    for name in ("main.c", "include/x.h", "README.md"):
        assert not is_build_file(name), name
