"""The mistakes a new user makes, run as the user runs them: each ends with its reason on stderr
(``ukws: …``, one line per problem), a non-zero exit status, no traceback, and the workspace as it
was."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.buildutil import ORIGINS, ukws, workspace
from ukws.build.demo import demo_manifest

MISMATCH = "0" * 64
PATCH = "--- a/Makefile\n+++ b/Makefile\n@@ -1 +1,2 @@\n {first}\n+# patched\n"


def _manifest_with_a_wrong_checksum() -> str:
    body = demo_manifest()
    assert "<x-app>" in body
    return body.replace("<x-app>", f'<x-app>\n      <x-patch path="fix.patch" sha256="{MISMATCH}"/>', 1)


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo, synced and resolved, never fetched nor built; its application names a patch whose
    sha256 is wrong."""
    tmp = tmp_path_factory.mktemp("errors")
    demo, root = workspace(tmp, manifest=_manifest_with_a_wrong_checksum())
    first = (root / "apps/demo/Makefile").read_text(encoding="utf-8").splitlines()[0]
    (demo.manifest.parent / "fix.patch").write_text(PATCH.format(first=first), encoding="utf-8")
    return root


def _files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[:2] == (".ukws", "state") or rel.parts[:1] == ("build",):
            continue  # ukws's own records and build output
        if ".git" in rel.parts and rel.parts[rel.parts.index(".git") + 1: rel.parts.index(".git") + 2] not in (
                ("HEAD",), ("refs",)):
            continue  # git's object store and index may be refreshed by reading them
        yield path


def _tree(root: Path) -> dict[str, str]:
    """Every file and link of the workspace a command may not change, with what it holds."""
    return {
        p.relative_to(root).as_posix(): (f"-> {p.readlink()}" if p.is_symlink() else
                                         hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir")
        for p in _files(root)
    }


def _assert_user_error(r: subprocess.CompletedProcess[str], code: int) -> list[str]:
    """stderr's lines, once they are shown to be the user error they should be: the exit status
    ``code``, no traceback, every line ukws's (or make's last lines, indented, under one)."""
    assert r.returncode == code, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.splitlines()
    assert lines and all(line.startswith(("ukws: ", "  ")) for line in lines), r.stderr
    return lines


@pytest.mark.parametrize("args", [
    ("status", "nope"), ("diff", "nope"), ("sync", "nope"), ("fetch", "nope"), ("forall", "nope", "-c", "true"),
    ("patch-app", "nope"), ("build", "nope"), ("run", "nope"), ("resolve", "--why", "nope"),
    ("resolve", "--update", "nope"),
], ids=lambda a: " ".join(a))
def test_an_unknown_project_is_a_usage_error(ws: Path, args: tuple[str, ...]) -> None:
    before = _tree(ws)
    lines = _assert_user_error(ukws(ws, *args), 2)
    assert len(lines) == 1 and "nope" in lines[0], lines
    assert _tree(ws) == before


@pytest.mark.parametrize("command", ["status", "list", "sync", "build", "run", "patch-app", "snapshot", "verify",
                                     "resolve", "info"])
def test_a_workspace_command_outside_a_workspace(tmp_path: Path, command: str) -> None:
    lines = _assert_user_error(ukws(tmp_path, command), 1)
    assert lines == [f"ukws: {tmp_path}: not inside a ukws workspace (no .ukws/ here or above); "
                     "run 'ukws init -m NAME'"]
    assert list(tmp_path.iterdir()) == []


def test_a_bad_manifest_names_file_and_line_and_makes_no_workspace(tmp_path: Path) -> None:
    (tmp_path / "bad.xml").write_text(
        '<manifest>\n  <remote name="r" fetch="x"/>\n  <project name="a" remote="nope"/>\n</manifest>\n',
        encoding="utf-8")
    lines = _assert_user_error(ukws(tmp_path, "init", "-m", "bad.xml", "ws"), 1)
    assert f"ukws: {tmp_path / 'bad.xml'}:3: project a: unknown remote 'nope'" in lines
    assert not (tmp_path / "ws" / ".ukws").exists()
    assert _assert_user_error(ukws(tmp_path, "manifest", "validate", "bad.xml"), 1)[0].startswith("ukws: bad.xml:3: ")


def test_build_before_fetch_says_to_fetch_and_exits_1(tmp_path: Path) -> None:
    _, ws = workspace(tmp_path)  # no patch series: build would refuse an unapplied one first
    before = _tree(ws)
    r = ukws(ws, "-q", "build")
    lines = _assert_user_error(r, 1)
    assert lines[0] == (f"ukws: app-demo/linuxu-x86_64: make tried to download {ORIGINS}shout-2.0.tar.gz; "
                        "run 'ukws fetch'")
    assert lines[1].startswith("ukws: app-demo/linuxu-x86_64: make failed (exit status 2)"), lines
    assert _tree(ws) == before
    assert not (ws / "build/app-demo/linuxu-x86_64/demo_linuxu-x86_64").exists()


def test_run_before_build(ws: Path) -> None:
    before = _tree(ws)
    lines = _assert_user_error(ukws(ws, "run", "-t", "linuxu-x86_64"), 1)
    assert len(lines) == 1 and lines[0].endswith("; run 'ukws build'"), lines
    assert _tree(ws) == before


def test_snapshot_of_a_dirty_tree_writes_nothing(tmp_path: Path) -> None:
    _, ws = workspace(tmp_path)
    source = ws / "libs/shout/Makefile.uk"
    source.write_bytes(source.read_bytes() + b"# mine\n")
    before = _tree(ws)
    lines = _assert_user_error(ukws(ws, "snapshot", "-o", "release.xml"), 1)
    assert lines == ["ukws: lib-shout (libs/shout): 1 changed or untracked file(s) (Makefile.uk); commit, push and "
                     "resolve them, or move them away",
                     "ukws: nothing written; fix the above, or record it anyway with --allow-dirty"]
    assert not (ws / "release.xml").exists()
    assert _tree(ws) == before


def test_patch_app_with_a_checksum_mismatch_applies_nothing(ws: Path) -> None:
    before = _tree(ws)
    lines = _assert_user_error(ukws(ws, "patch-app"), 1)
    assert len(lines) == 1, lines
    assert ":12: patch fix.patch has sha256 " in lines[0], lines
    assert f"the manifest says {MISMATCH}; nothing was applied" in lines[0], lines
    assert _tree(ws) == before
