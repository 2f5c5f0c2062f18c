"""Every invalid manifest in tests/data/invalid/ must produce exactly the problems in its expected.txt.

A case is a folder: ``manifest.xml`` (plus any files it includes and an optional
``local_manifests/`` folder) and ``expected.txt``, one ``file:line: message`` per line, in the order
ukws reports them; a line may end in ``*`` to match any rest (for messages that come from libxml2).
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest

from ukws.errors import ManifestError
from ukws.manifest import load

CASES = Path(__file__).parent / "data" / "invalid"


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_invalid_manifest_reports_every_problem(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = CASES / case
    monkeypatch.chdir(folder)
    expected = (folder / "expected.txt").read_text(encoding="utf-8").splitlines()
    with pytest.raises(ManifestError) as info:
        load(Path("manifest.xml"), local_manifests=Path("local_manifests"), local_display="local_manifests")
    got = info.value.lines()
    assert len(got) == len(expected), "\n".join(got)
    for line, pattern in zip(got, expected, strict=True):
        assert "\n" not in line
        assert fnmatch.fnmatchcase(line, pattern) if pattern.endswith("*") else line == pattern


def test_corpus_covers_each_rule() -> None:
    """The corpus keeps at least one case per rule family (guards against cases being dropped)."""
    names = {p.name for p in CASES.iterdir()}
    for required in ("bad-paths", "bad-urls", "include-cycle", "extend-dest-path-outside",
                     "extend-dest-path-replaces", "remove-base-rev", "extensions", "not-a-manifest"):
        assert required in names
    assert all((CASES / n / "expected.txt").stat().st_size > 0 for n in names if (CASES / n).is_dir())
