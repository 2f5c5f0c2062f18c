"""Sync says which parts of a manifest it keeps but does not act on, with file and line."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tests.gitutil import file_url
from tests.wsutil import serve_workspace
from ukws.cli import app


def test_sync_names_unsupported_elements(tmp_path: Path) -> None:
    served = serve_workspace(tmp_path / "srv", ("core",))
    runner = CliRunner()
    init = runner.invoke(app, ["-C", str(tmp_path), "init", "-u", file_url(served.root / "manifest"), "ws"])
    assert init.exit_code == 0
    local = tmp_path / "ws" / ".ukws" / "local_manifests" / "extra.xml"
    local.write_text('<manifest>\n  <submanifest name="other" path="other"/>\n</manifest>\n')
    r = runner.invoke(app, ["-C", str(tmp_path / "ws"), "sync"], catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    notes = [line for line in r.stderr.splitlines() if "note:" in line]
    assert len(notes) == 1
    assert notes[0].endswith('extra.xml:2: <submanifest name="other">: submanifests are not supported; its projects '
                             "are not synced (list them in this manifest or an include)")
