"""Small helpers over lxml elements."""

from __future__ import annotations

from lxml import etree


def line_of(el: etree._Element) -> int:
    """The element's line in its file (0 when lxml does not know it)."""
    line = el.sourceline
    return line if isinstance(line, int) else 0
