"""Small helpers over lxml elements."""

from __future__ import annotations

from typing import Any

from lxml import etree

from ukws.errors import Location


def line_of(el: etree._Element) -> int:
    """The element's line in its file (0 when lxml does not know it)."""
    line = el.sourceline
    return line if isinstance(line, int) else 0


_new: Any = object.__new__
_set_file: Any = Location.__dict__["file"].__set__
_set_line: Any = Location.__dict__["line"].__set__


def location(file: str, el: etree._Element) -> Location:
    """``Location(file=file, line=line_of(el))``, stored through Location's slots: the frozen
    dataclass's own ``__init__`` costs about twice as much, and a manifest has an element per
    project."""
    line = el.sourceline
    loc: Location = _new(Location)
    _set_file(loc, file)
    _set_line(loc, line if isinstance(line, int) else 0)
    return loc
