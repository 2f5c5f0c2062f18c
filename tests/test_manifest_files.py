"""Which files a manifest is read from: only regular files of bounded size inside the manifest
repository; an unreadable one is reported like any other problem of a manifest."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import pygit2
import pytest

from tests.gitutil import file_url
from tests.manifestutil import ORIGIN, write_manifest
from tests.wsutil import manifest_xml, serve_workspace
from ukws import workspace_init
from ukws.errors import ManifestError
from ukws.manifest import Manifest, load
from ukws.manifest.read import MAX_MANIFEST_BYTES
from ukws.workspace_init import InitRequest


def _load_in_thread(path: Path, **kw: Any) -> BaseException | Manifest:
    """``load`` in a thread given 20 s: a loader that blocks (a FIFO) or reads without end
    (/dev/zero) fails the test instead of hanging the run."""
    out: list[BaseException | Manifest] = []

    def target() -> None:
        try:
            out.append(load(path, **kw))
        except BaseException as e:  # handed to the test
            out.append(e)

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(20)
    assert out, "the loader did not return"
    return out[0]


def test_include_symlink_out_of_the_repository_is_refused(tmp_path: Path) -> None:
    """A manifest repository can carry a symlink to /dev/zero: it is refused like any path
    leading outside, never read."""
    default = manifest_xml(["core"], extra='<include name="zero.xml"/>')
    served = serve_workspace(tmp_path / "srv", files={"default.xml": default})
    repo = pygit2.Repository(str(served.root / "manifest"))
    tree = repo.TreeBuilder(repo.head.peel(pygit2.Commit).tree)
    tree.insert("zero.xml", repo.create_blob(b"/dev/zero"), pygit2.enums.FileMode.LINK)
    sig = pygit2.Signature("t", "t@example.org", 1700000000, 0)
    repo.create_commit("refs/heads/main", sig, sig, "zero", tree.write(), [repo.head.target])
    with pytest.raises(ManifestError) as info:
        workspace_init.init(root=tmp_path / "ws", cwd=tmp_path,
                            request=InitRequest(url=file_url(served.root / "manifest")))
    assert [line.split(": ", 1)[1] for line in info.value.lines()] == [
        '<include name="zero.xml">: leads outside the manifest repository through a symlink']
    assert not (tmp_path / "ws" / ".ukws").exists()


def test_include_symlink_inside_the_repository_is_followed(tmp_path: Path) -> None:
    write_manifest(tmp_path, '<project name="real"/>', name="real.xml")
    (tmp_path / "alias.xml").symlink_to("real.xml")
    m = load(write_manifest(tmp_path, ORIGIN + '<include name="alias.xml"/>'))
    assert [p.name for p in m.projects] == ["real"]


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "too-big"])
def test_only_regular_files_of_bounded_size_are_read(kind: str, tmp_path: Path) -> None:
    inc = tmp_path / "inc.xml"
    if kind == "fifo":
        os.mkfifo(inc)
        reason = "not a regular file (a FIFO)"
    elif kind == "dev-zero":
        inc.symlink_to("/dev/zero")
        reason = "not a regular file (a character device)"
    else:
        with inc.open("wb") as f:
            f.truncate(MAX_MANIFEST_BYTES + 1)
        reason = "larger than 16 MiB"
    got = _load_in_thread(inc, display="inc.xml")
    assert isinstance(got, ManifestError) and got.lines() == [f"inc.xml: cannot read manifest inc.xml: {reason}"]
    if kind == "dev-zero":  # as an include, it is refused before that: it leads outside
        return
    top = write_manifest(tmp_path, ORIGIN + '<include name="inc.xml"/>')
    got = _load_in_thread(top, display="manifest.xml")
    assert isinstance(got, ManifestError), got
    assert got.lines() == [f"manifest.xml:5: cannot read manifest inc.xml: {reason}"]


def test_an_include_of_dev_zero_inside_the_root_is_not_read_either(tmp_path: Path) -> None:
    top = write_manifest(tmp_path, ORIGIN + '<include name="dev/zero"/>')
    got = _load_in_thread(top, include_root=Path("/"), display="manifest.xml")
    assert isinstance(got, ManifestError), got
    assert got.lines()[0].endswith("/dev/zero: not a regular file (a character device)")


def _ukws(*args: str, cwd: Path, user: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if user:
        # Another user cannot write this run's coverage data (it belongs to the caller): measuring
        # that process would add a traceback to its stderr at exit.
        env = {k: v for k, v in env.items() if not k.startswith(("COVERAGE_", "COV_CORE_"))}
    return subprocess.run([*(user or []), sys.executable, "-m", "ukws", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60, check=False, env=env)


def test_validate_refuses_devices_and_fifos_at_once(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.xml")
    good = write_manifest(tmp_path, ORIGIN + '<project name="a"/>', name="good.xml")
    r = _ukws("manifest", "validate", "/dev/zero", "fifo.xml", str(good), cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert r.stderr.splitlines() == [
        "ukws: /dev/zero: cannot read manifest /dev/zero: not a regular file (a character device)",
        "ukws: fifo.xml: cannot read manifest fifo.xml: not a regular file (a FIFO)",
        f"{good}: ok (1 projects)",
    ]


def test_validate_of_an_unreadable_file_exits_1() -> None:
    """Run as an unprivileged user (root reads every file): the file is a problem of the manifest
    (exit 1, one line), not a usage error (exit 2)."""
    user: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: no way to be refused a file")
        user = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    folder = Path(tempfile.mkdtemp(prefix="ukws-unreadable-"))  # reachable by that user
    try:
        folder.chmod(0o755)
        secret = write_manifest(folder, ORIGIN + '<project name="a"/>', name="secret.xml")
        secret.chmod(0)
        r = _ukws("manifest", "validate", "secret.xml", cwd=folder, user=user)
        if r.returncode != 0 and "No module named" in r.stderr:
            pytest.skip("ukws is not importable by the unprivileged user here")
        assert (r.returncode, r.stderr) == (1, "ukws: secret.xml: cannot read manifest secret.xml: Permission denied\n")
    finally:
        shutil.rmtree(folder)


def test_top_level_manifest_symlink_out_of_the_repository_is_refused(tmp_path: Path) -> None:
    outside = write_manifest(tmp_path / "elsewhere", ORIGIN + '<project name="a"/>')
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "default.xml").symlink_to(outside)
    with pytest.raises(ManifestError) as info:
        load(tmp_path / "repo" / "default.xml", include_root=tmp_path / "repo", display="default.xml")
    assert info.value.lines() == ["default.xml: leads outside the manifest repository through a symlink"]
    assert [p.name for p in load(tmp_path / "repo" / "default.xml").projects] == ["a"]  # a file named by the user
