"""``python -m ukws``."""

from __future__ import annotations

from ukws.entry import main

if __name__ == "__main__":
    main()
