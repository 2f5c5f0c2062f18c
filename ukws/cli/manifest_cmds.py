"""Commands that only read manifests: ``manifest``, ``manifest validate``, ``list``."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
