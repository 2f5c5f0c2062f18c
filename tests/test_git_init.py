"""``git.init`` with a model: the skeleton copied from one libgit2 init is a repository like libgit2's own."""

from __future__ import annotations

from pathlib import Path

import pygit2
import pytest

from tests.gitutil import commit
from ukws import git


@pytest.mark.parametrize("bare", [False, True])
def test_init_from_a_model_equals_libgit2_init(tmp_path: Path, bare: bool) -> None:
    plain = git.init(tmp_path / "plain", bare=bare)
    model = tmp_path / "scratch" / "model"
    first = git.init(tmp_path / "scratch" / "a", bare=bare, model=model)
    second = git.init(tmp_path / "scratch" / "b", bare=bare, model=model)
    assert model.is_dir()
    for repo in (first, second):
        assert repo.is_bare is bare
        assert repo.head_is_unborn
        assert Path(repo.path, "config").read_text() == Path(plain.path, "config").read_text()
        assert Path(repo.path, "HEAD").read_text() == Path(plain.path, "HEAD").read_text()
        assert {e.name: e.value for e in repo.config} == {e.name: e.value for e in plain.config}
    # A working repository: objects, refs and a checkout.
    sha = commit(second, {"README": "hello\n"}, "first")
    assert second.head.target == pygit2.Oid(hex=sha)
    if not bare:
        git.checkout(second, sha)
        assert (tmp_path / "scratch" / "b" / "README").read_text() == "hello\n"


def test_init_from_a_model_refuses_an_existing_repository(tmp_path: Path) -> None:
    model = tmp_path / "model"
    git.init(tmp_path / "a", model=model)
    with pytest.raises(FileExistsError):
        git.init(tmp_path / "a", model=model)
