"""The manifest-reading commands, run as a user runs them: ``python -m ukws`` in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.manifestutil import ORIGIN, write_manifest


def ukws(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ukws", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, check=False)


def test_version_and_help() -> None:
    r = ukws("--version")
    assert r.returncode == 0 and r.stdout.startswith("ukws ")
    r = ukws("--help")
    assert r.returncode == 0 and "manifest" in r.stdout and "list" in r.stdout


def test_list_shipped_manifest_text_and_json(tmp_path: Path) -> None:
    r = ukws("list", "-m", "xenstore.xml", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "libs/newlib" in r.stdout and "refs/tags/RELEASE-0.13.1" in r.stdout
    rows = json.loads(ukws("list", "-m", "xenstore", "--json", cwd=tmp_path).stdout)
    assert {row["path"] for row in rows} == {"unikraft", "libs/newlib", "libs/pthread-embedded", "apps/xen"}
    assert {row["role"] for row in rows} == {"core", "library", "application"}


def test_list_groups_and_dash_c(tmp_path: Path) -> None:
    write_manifest(tmp_path / "ws", ORIGIN + '<project name="a" groups="x"/><project name="b" groups="notdefault"/>')
    r = ukws("-C", str(tmp_path / "ws"), "list", "-m", "manifest.xml", "--json")
    assert [row["name"] for row in json.loads(r.stdout)] == ["a"]
    r = ukws("-C", str(tmp_path / "ws"), "list", "-m", "manifest.xml", "-g", "all,-x", "--json")
    assert [row["name"] for row in json.loads(r.stdout)] == ["b"]
    r = ukws("-C", str(tmp_path / "missing"), "list")
    assert r.returncode == 2 and "no such directory" in r.stderr


def test_manifest_prints_effective_xml_and_json(tmp_path: Path) -> None:
    write_manifest(tmp_path, '<project name="inc"/>', name="inc.xml")
    write_manifest(tmp_path, ORIGIN + '<include name="inc.xml"/><project name="a"/>')
    r = ukws("manifest", "-m", "manifest.xml", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "<include" not in r.stdout and '<project name="inc" remote="origin" revision="main"/>' in r.stdout
    data = json.loads(ukws("manifest", "-m", "manifest.xml", "--json", cwd=tmp_path).stdout)
    assert [p["name"] for p in data["projects"]] == ["inc", "a"]


def test_validate_reports_every_problem_on_one_line_each(tmp_path: Path) -> None:
    good = write_manifest(tmp_path, ORIGIN + '<project name="a"/>', name="good.xml")
    write_manifest(tmp_path, ORIGIN + '<project name="a" path="../a"/>\n<project name="b" remote="zz"/>',
                   name="bad.xml")
    r = ukws("manifest", "validate", "good.xml", "bad.xml", cwd=tmp_path)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert "good.xml: ok (1 projects)" in lines
    assert "ukws: bad.xml:5: <project path=\"../a\">: '..' component not allowed" in lines
    assert "ukws: bad.xml:6: project b: unknown remote 'zz'" in lines
    assert "Traceback" not in r.stderr
    r = ukws("manifest", "validate", "--json", str(good), cwd=tmp_path)
    assert r.returncode == 0 and json.loads(r.stdout)[0]["ok"] is True


def test_unknown_manifest_name_is_a_usage_error(tmp_path: Path) -> None:
    r = ukws("list", "-m", "nonexistent.xml", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "no shipped manifest of that name" in r.stderr


def test_reading_commands_do_not_import_pygit2(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from ukws.cli import app\n"
        "for argv in (['--version'], ['list', '-m', 'xenstore'], ['manifest', 'validate', 'x.xml']):\n"
        "    try:\n"
        "        app(argv, prog_name='ukws')\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('pygit2' in sys.modules)\n"
    )
    write_manifest(tmp_path, ORIGIN + '<project name="a"/>', name="x.xml")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert r.stdout.strip().splitlines()[-1] == "False", r.stdout + r.stderr


def test_usage_errors_are_one_line_with_exit_2(tmp_path: Path) -> None:
    for args, text in (
        (("list", "--bogus"), "ukws list: No such option: --bogus"),
        (("manifest", "validate"), "ukws manifest validate: Missing argument"),
        (("no-such-command",), "ukws: No such command 'no-such-command'"),
    ):
        r = ukws(*args, cwd=tmp_path)
        assert r.returncode == 2, args
        assert r.stderr.count("\n") == 1 and r.stderr.startswith(text), r.stderr
        assert "╭" not in r.stderr and "Traceback" not in r.stderr
