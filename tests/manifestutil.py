"""Write manifest files for tests."""

from __future__ import annotations

from pathlib import Path

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


def write_manifest(folder: Path, body: str, name: str = "manifest.xml") -> Path:
    """Write ``<manifest>body</manifest>`` to ``folder/name`` and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"{HEAD}<manifest>\n{body}\n</manifest>\n", encoding="utf-8")
    return path


ORIGIN = '<remote name="origin" fetch="https://example.org/base/"/>\n<default remote="origin" revision="main"/>\n'
