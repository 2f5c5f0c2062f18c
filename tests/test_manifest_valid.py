"""Repo's behaviours as data: each folder in tests/data/valid/ holds a manifest (with includes and
local manifests) and ``expected.xml``, the effective manifest ``ukws manifest`` must print for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.manifestutil import assert_repo_vocabulary
from ukws.manifest import load, write

CASES = Path(__file__).parent / "data" / "valid"


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_effective_manifest(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = CASES / case
    monkeypatch.chdir(folder)
    m = load(Path("manifest.xml"), local_manifests=Path("local_manifests"),
             manifest_url="https://example.org/manifest")
    out = write(m)
    assert out.decode("utf-8") == (folder / "expected.xml").read_text(encoding="utf-8")
    assert_repo_vocabulary(out)
