"""Kconfig expressions: parsed into small tuples, evaluated as Kconfig evaluates them.

An expression is ``None`` (no condition: always ``y``) or a tuple:

- ``("sym", NAME)``: a symbol, or a constant written bare (``y``, ``n``, ``m``, ``42``);
- ``("const", TEXT)``: a quoted string, or a macro (``$(shell,...)``) ukws cannot expand;
- ``("not", E)``, ``("and", A, B)``, ``("or", A, B)``;
- ``("cmp", OP, A, B)`` with OP one of ``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=`` (A and B atoms);
- ``("choice", ID)``: the mode of the choice a member belongs to (built by the parser, never read).

Values are Kconfig's tristates: 0 (n), 1 (m), 2 (y). ``&&`` is the minimum, ``||`` the maximum,
``!`` is 2 minus the value, and a comparison is 2 or 0 (numbers compare as numbers, anything else as
text), as in Kconfig's own implementation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

Expr = tuple[Any, ...] | None
"""A parsed expression; the tuple shapes are listed above (``Any``: the parts are nested tuples)."""

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<op>&&|\|\||!=|<=|>=|[!=<>()])
      | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<macro>\$\((?:[^()]|\([^()]*\))*\))
      | (?P<word>[A-Za-z0-9_.+-]+)
    )""",
    re.VERBOSE,
)
_COMPARE = frozenset({"=", "!=", "<", "<=", ">", ">="})


class ExprError(ValueError):
    """Text that is not a Kconfig expression."""


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ExprError(f"cannot read {text[pos:]!r}")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def parse_expr(text: str) -> Expr:
    """Parse ``text``; raises :class:`ExprError` when it is not an expression."""
    toks = _tokens(text)
    if not toks:
        raise ExprError("empty expression")
    pos = 0

    def peek() -> tuple[str, str] | None:
        return toks[pos] if pos < len(toks) else None

    def take() -> tuple[str, str]:
        nonlocal pos
        if pos >= len(toks):
            raise ExprError("expression ends too early")
        pos += 1
        return toks[pos - 1]

    def atom() -> tuple[Any, ...]:
        kind, value = take()
        if kind == "word":
            return ("sym", value)
        if kind == "str":
            return ("const", value[1:-1])
        if kind == "macro":
            return ("const", "")
        raise ExprError(f"unexpected {value!r}")

    def primary() -> Expr:
        tok = peek()
        if tok == ("op", "!"):
            take()
            return ("not", primary())
        if tok == ("op", "("):
            take()
            inner = disjunction()
            if take() != ("op", ")"):
                raise ExprError("unbalanced parentheses")
            return inner
        left = atom()
        tok = peek()
        if tok is not None and tok[0] == "op" and tok[1] in _COMPARE:
            take()
            return ("cmp", tok[1], left, atom())
        return left

    def conjunction() -> Expr:
        expr = primary()
        while peek() == ("op", "&&"):
            take()
            expr = ("and", expr, primary())
        return expr

    def disjunction() -> Expr:
        expr = conjunction()
        while peek() == ("op", "||"):
            take()
            expr = ("or", expr, conjunction())
        return expr

    result = disjunction()
    if pos != len(toks):
        raise ExprError(f"unexpected {toks[pos][1]!r}")
    return result


def both(a: Expr, b: Expr) -> Expr:
    """``a && b``, where None is ``y``."""
    if a is None:
        return b
    if b is None:
        return a
    return ("and", a, b)


def symbols_in(expr: Expr) -> Iterator[str]:
    """Every symbol name an expression reads (constants y/n/m and numbers excluded)."""
    if expr is None:
        return
    kind = expr[0]
    if kind == "sym":
        name = str(expr[1])
        if name not in ("y", "n", "m") and not _number(name):
            yield name
    elif kind == "not":
        yield from symbols_in(expr[1])
    elif kind in ("and", "or"):
        yield from symbols_in(expr[1])
        yield from symbols_in(expr[2])
    elif kind == "cmp":
        yield from symbols_in(expr[2])
        yield from symbols_in(expr[3])


def required(expr: Expr) -> tuple[str, ...]:
    """The plain symbols ``expr`` needs enabled: the AND of its positive terms (``A && (B || C)``
    needs A; ``!A`` and ``A || B`` need nothing)."""
    if expr is None:
        return ()
    kind = expr[0]
    if kind == "sym":
        return tuple(symbols_in(expr))
    if kind == "and":
        return tuple(dict.fromkeys([*required(expr[1]), *required(expr[2])]))
    if kind == "cmp" and expr[2][0] == "sym":
        op, right = expr[1], expr[3]
        value = str(right[1])
        if (op == "=" and value in ("y", "m")) or (op == "!=" and value == "n"):
            return tuple(symbols_in(expr[2]))
    return ()


def _number(text: str) -> int | None:
    try:
        return int(text, 16) if text[:2].lower() == "0x" else int(text)
    except ValueError:
        return None


def evaluate(expr: Expr, tri: Callable[[str], int], text: Callable[[str], str]) -> int:
    """The tristate value of ``expr``; ``tri(name)`` gives a symbol's value in a logical context,
    ``text(name)`` its value as text (for comparisons)."""
    if expr is None:
        return 2
    kind = expr[0]
    if kind == "sym":
        name = str(expr[1])
        return {"y": 2, "m": 1, "n": 0}.get(name, 0) if name in ("y", "m", "n") else tri(name)
    if kind == "const":
        return 0
    if kind == "not":
        return 2 - evaluate(expr[1], tri, text)
    if kind == "and":
        first = evaluate(expr[1], tri, text)
        return 0 if first == 0 else min(first, evaluate(expr[2], tri, text))
    if kind == "or":
        first = evaluate(expr[1], tri, text)
        return 2 if first == 2 else max(first, evaluate(expr[2], tri, text))
    if kind == "cmp":
        left, right = _text_of(expr[2], text), _text_of(expr[3], text)
        a, b = _number(left), _number(right)
        order = (a > b) - (a < b) if a is not None and b is not None else (left > right) - (left < right)
        return 2 if _HOLDS[str(expr[1])](order) else 0
    if kind == "choice":
        return tri(f"<choice {expr[1]}>")
    return 0


def _text_of(atom: tuple[Any, ...], text: Callable[[str], str]) -> str:
    name = str(atom[1])
    if atom[0] == "const" or name in ("y", "m", "n") or _number(name) is not None:
        return name
    return text(name)


_HOLDS: dict[str, Callable[[int], bool]] = {
    "=": lambda c: c == 0,
    "!=": lambda c: c != 0,
    "<": lambda c: c < 0,
    "<=": lambda c: c <= 0,
    ">": lambda c: c > 0,
    ">=": lambda c: c >= 0,
}


def render(expr: Expr) -> str:
    """Kconfig text for ``expr`` (for messages)."""
    if expr is None:
        return "y"
    kind = expr[0]
    if kind == "sym":
        return str(expr[1])
    if kind == "const":
        return f'"{expr[1]}"'
    if kind == "not":
        inner = render(expr[1])
        return f"!{inner}" if expr[1][0] in ("sym", "const") else f"!({inner})"
    if kind in ("and", "or"):
        op = " && " if kind == "and" else " || "
        parts = []
        for sub in (expr[1], expr[2]):
            piece = render(sub)
            parts.append(f"({piece})" if kind == "and" and sub[0] == "or" else piece)
        return op.join(parts)
    if kind == "cmp":
        return f"{render(expr[2])} {expr[1]} {render(expr[3])}"
    return f"<choice {expr[1]}>"
