"""ukws: a workspace manager for Unikraft unikernels."""

from __future__ import annotations

__version__ = "0.1.0"
