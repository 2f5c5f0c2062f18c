"""Unikraft's ``Config.uk`` files: a Kconfig parser that keeps the file and line of everything.

Unikraft states dependencies between libraries only in Kconfig (``select``, ``depends on``,
``imply``), and a selected library's folder must already be on ``L=``. :func:`parse` reads one file
(``config``, ``menuconfig``, ``choice``, ``menu``, ``if``/``endif``, ``source``, attributes and help
text); every symbol and every reference keeps its file and line. Constructs it does not know are
noted and skipped, never fatal. :func:`load_project` parses a project's files through a reader
function (the caller reads git objects), following ``source`` lines that stay inside the project.
:mod:`ukws.kconfig.discovery` finds, from these, the libraries an application needs.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ukws.errors import Location

_SYMBOL = re.compile(r"[A-Za-z0-9_]+")
_VAR = re.compile(r"\$\((\w+)\)|\$\{(\w+)\}|\$(\w+)")
_LITERALS = frozenset({"y", "n", "m"})
_TYPES = frozenset({"bool", "tristate", "string", "int", "hex"})
_IGNORED_ATTRS = frozenset({"range", "option", "modules", "transitional", "visible", "optional", "mainmenu"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Ref:
    """A reference from a symbol to another: ``select``, ``imply`` or ``depends on``."""

    symbol: str
    kind: str
    """``select``, ``imply`` or ``depends``."""
    cond: tuple[str, ...] = ()
    """Symbols that must be enabled for a conditional ``select X if A && B`` to apply."""
    loc: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class Symbol:
    """One ``config``/``menuconfig`` definition."""

    name: str
    loc: Location
    type: str | None = None
    menu: bool = False
    refs: tuple[Ref, ...] = ()
    requires: tuple[str, ...] = ()
    """Symbols that must be enabled for this one to be: its own ``depends on`` (the AND of plain
    symbols; alternatives and negations are not requirements) and the enclosing ``if``/``menu``."""
    default_y: bool = False
    default_cond: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """A ``source`` line: the path as written, and the ``if`` context it appears in."""

    path: str
    loc: Location
    relative: bool = False
    """``rsource``/``orsource``: relative to the file, not the tree."""
    optional: bool = False
    context: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedFile:
    path: str
    symbols: tuple[Symbol, ...] = ()
    sources: tuple[Source, ...] = ()
    notes: tuple[str, ...] = ()
    """Constructs skipped (unknown keywords, unbalanced blocks), as ``file:line: what``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectKconfig:
    """Every symbol a project defines, from all of its ``Config.uk`` files and what they source."""

    project: str
    symbols: tuple[Symbol, ...] = ()
    files: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


# --------------------------------------------------------------------------- parsing


def _strip_comment(line: str) -> str:
    quote: str | None = None
    for i, ch in enumerate(line):
        if quote:
            if ch == "\\":
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return line[:i]
    return line


def _indent(line: str) -> int:
    return len(line.expandtabs(8)) - len(line.expandtabs(8).lstrip())


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def _split_top(expr: str, op: str) -> list[str] | None:
    """Split at top-level ``op``; None when the parentheses do not balance."""
    parts: list[str] = []
    depth = 0
    start = 0
    i = 0
    while i < len(expr):
        ch = expr[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return None
        elif depth == 0 and expr.startswith(op, i):
            parts.append(expr[start:i])
            i += len(op)
            start = i
            continue
        i += 1
    if depth != 0:
        return None
    parts.append(expr[start:])
    return parts


def required_symbols(expr: str) -> tuple[str, ...]:
    """The plain symbols an expression needs enabled: the AND of positive terms. ``A && (B || C)``
    needs only A; ``!A``, ``A = n`` and ``A || B`` need nothing."""
    expr = expr.strip()
    alternatives = _split_top(expr, "||")
    terms = _split_top(expr, "&&")
    if alternatives is None or terms is None or len(alternatives) > 1:
        return ()
    out: list[str] = []
    for raw in terms:
        term = raw.strip()
        if term.startswith("!"):
            continue
        if term.startswith("(") and term.endswith(")"):
            if _split_top(term[1:-1], "||") is not None:
                out.extend(required_symbols(term[1:-1]))
            continue
        if "!=" in term:
            left, right = (s.strip() for s in term.split("!=", 1))
            if right.strip("\"'") == "n" and _SYMBOL.fullmatch(left):
                out.append(left)
            continue
        if "=" in term:
            left, right = (s.strip() for s in term.split("=", 1))
            if right.strip("\"'") in ("y", "m") and _SYMBOL.fullmatch(left):
                out.append(left)
            continue
        if _SYMBOL.fullmatch(term) and term not in _LITERALS:
            out.append(term)
    return tuple(dict.fromkeys(out))


def _split_if(text: str) -> tuple[str, str | None]:
    """``X if EXPR`` -> (X, EXPR); a quoted prompt may contain ' if '."""
    match = re.match(r'^\s*("(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|\S+)\s*(?:if\s+(.*))?$', text)
    if match is None:
        return text.strip(), None
    return match.group(1), match.group(2)


@dataclass(slots=True)
class _Entry:
    name: str
    loc: Location
    menu: bool
    context: tuple[str, ...]
    type: str | None = None
    refs: list[Ref] = field(default_factory=list)
    requires: list[str] = field(default_factory=list)
    default_y: bool = False
    default_cond: tuple[str, ...] = ()
    has_default: bool = False

    def freeze(self) -> Symbol:
        return Symbol(
            name=self.name,
            loc=self.loc,
            type=self.type,
            menu=self.menu,
            refs=tuple(self.refs),
            requires=tuple(dict.fromkeys([*self.context, *self.requires])),
            default_y=self.default_y,
            default_cond=self.default_cond,
        )


@dataclass(slots=True)
class _Block:
    """An ``if``, ``menu`` or ``choice`` block: the symbols everything inside needs."""

    kind: str
    loc: Location
    requires: list[str] = field(default_factory=list)


def _logical_lines(text: str) -> Iterable[tuple[int, str]]:
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        start = i
        line = lines[i]
        while line.endswith("\\") and i + 1 < len(lines):
            i += 1
            line = line[:-1] + " " + lines[i].strip()
        yield start + 1, line
        i += 1


def parse(text: str, file: str, *, context: Sequence[str] = ()) -> ParsedFile:
    """Parse one Config.uk. ``context`` holds the symbols of the ``if`` blocks the file is sourced in."""
    symbols: list[Symbol] = []
    sources: list[Source] = []
    notes: list[str] = []
    blocks: list[_Block] = []
    current: _Entry | None = None
    current_block: _Block | None = None  # a menu/choice/comment taking attributes
    help_from: int | None = None  # indentation of the 'help' keyword while reading help text
    help_indent: int | None = None
    choice_defaults: dict[str, tuple[str, ...]] = {}

    def ctx() -> tuple[str, ...]:
        out = list(context)
        for b in blocks:
            out.extend(b.requires)
        return tuple(dict.fromkeys(out))

    def close() -> None:
        nonlocal current
        if current is not None:
            symbols.append(current.freeze())
            current = None

    for lineno, raw in _logical_lines(text):
        loc = Location(file=file, line=lineno)
        if help_from is not None:
            if not raw.strip():
                continue
            ind = _indent(raw)
            if help_indent is None:
                if ind > help_from:
                    help_indent = ind
                    continue
            elif ind >= help_indent:
                continue
            help_from = help_indent = None
        line = _strip_comment(raw).strip()
        if not line:
            continue
        word, _, rest = line.partition(" ")
        if "\t" in word:
            word, _, more = word.partition("\t")
            rest = f"{more} {rest}".strip()
        rest = rest.strip()
        if word in ("config", "menuconfig"):
            close()
            current_block = None
            name = rest.split()[0] if rest else ""
            if not _SYMBOL.fullmatch(name):
                notes.append(f"{loc}: {word} without a symbol name")
                continue
            current = _Entry(name=name, loc=loc, menu=word == "menuconfig", context=ctx())
        elif word in ("if", "menu", "choice"):
            close()
            block = _Block(kind=word, loc=loc)
            if word == "if":
                block.requires.extend(required_symbols(rest))
            blocks.append(block)
            current_block = block if word != "if" else None
        elif word in ("endif", "endmenu", "endchoice"):
            close()
            current_block = None
            kind = word[3:]
            if blocks and blocks[-1].kind == kind:
                blocks.pop()
            else:
                notes.append(f"{loc}: {word} without a matching {kind}")
        elif word in ("source", "rsource", "osource", "orsource"):
            close()
            current_block = None
            sources.append(
                Source(
                    path=_unquote(rest),
                    loc=loc,
                    relative=word.startswith(("r", "or")),
                    optional=word.startswith("o"),
                    context=ctx(),
                )
            )
        elif word in ("comment", "mainmenu"):
            close()
            current_block = _Block(kind="comment", loc=loc)
        elif word in ("help", "---help---") or line.startswith("--- help ---"):
            help_from = _indent(raw)
            help_indent = None
        elif word == "depends" and rest.startswith("on"):
            needs = required_symbols(rest[2:])
            if current is not None:
                current.requires.extend(needs)
                current.refs.extend(Ref(symbol=s, kind="depends", loc=loc) for s in needs)
            elif current_block is not None:
                current_block.requires.extend(needs)
        elif word in ("select", "imply"):
            target, cond = _split_if(rest)
            if current is None:
                notes.append(f"{loc}: {word} outside a config entry")
            elif _SYMBOL.fullmatch(target):
                current.refs.append(
                    Ref(symbol=target, kind=word, loc=loc, cond=required_symbols(cond) if cond else ())
                )
        elif word in _TYPES or word in ("def_bool", "def_tristate", "prompt", "default"):
            if current is None:
                # A choice's type or prompt, or its default: the member chosen unless the user
                # picks another, so it counts as enabled by default.
                if word == "default" and current_block is not None and current_block.kind == "choice":
                    value, cond = _split_if(rest)
                    if _SYMBOL.fullmatch(value) and value not in _LITERALS:
                        choice_defaults.setdefault(value, required_symbols(cond) if cond else ())
                continue
            if word in _TYPES:
                current.type = word
            elif word in ("def_bool", "def_tristate", "default"):
                if word != "default":
                    current.type = "bool" if word == "def_bool" else "tristate"
                value, cond = _split_if(rest)
                if not current.has_default:
                    current.has_default = True
                    if value in ("y", "m"):
                        current.default_y = True
                        current.default_cond = required_symbols(cond) if cond else ()
        elif word in _IGNORED_ATTRS:
            continue
        else:
            notes.append(f"{loc}: unknown construct {word!r} skipped")
    close()
    for block in blocks:
        notes.append(f"{block.loc}: {block.kind} without end{block.kind}")
    symbols = [
        dataclasses.replace(sym, default_y=True, default_cond=choice_defaults[sym.name])
        if sym.name in choice_defaults and not sym.default_y
        else sym
        for sym in symbols
    ]
    return ParsedFile(path=file, symbols=tuple(symbols), sources=tuple(sources), notes=tuple(notes))


def resolve_source(source: Source, *, including: str, variables: Mapping[str, str]) -> str | None:
    """The project-relative path a ``source`` line names, or None when it points outside the
    project or uses a variable that is not known. ``variables`` maps e.g. ``UK_BASE`` to ``""``
    (the project root) for the core."""
    unknown = False

    def sub(match: re.Match[str]) -> str:
        nonlocal unknown
        name = match.group(1) or match.group(2) or match.group(3)
        if name in variables:
            return variables[name] or "."
        unknown = True
        return ""

    path = _VAR.sub(sub, source.path)
    if unknown or not path or "$" in path:
        return None  # a variable we do not know, or a macro such as $(shell,...)
    base = posixpath.dirname(including) if source.relative else ""
    joined = posixpath.normpath(posixpath.join(base, path.lstrip("/") if path.startswith("./") else path))
    if path.startswith("/") or joined.startswith("..") or joined == ".":
        return None
    return joined


def load_project(
    project: str,
    files: Sequence[str],
    read: Callable[[str], bytes | None],
    *,
    variables: Mapping[str, str] | None = None,
    label: str | None = None,
) -> ProjectKconfig:
    """Parse a project's ``Config.uk`` files (paths relative to its root) and what they source
    inside the project. ``label`` prefixes paths in locations (e.g. the project's path)."""
    known = dict(variables or {})
    prefix = f"{label}/" if label else ""
    done: set[str] = set()
    symbols: list[Symbol] = []
    notes: list[str] = []
    order = sorted(files, key=lambda p: (p.count("/"), p))

    def visit(path: str, context: tuple[str, ...], loc: Location | None) -> None:
        if path in done:
            return
        done.add(path)
        data = read(path)
        if data is None:
            if loc is not None:
                notes.append(f"{loc}: sourced file {path} is not in the project")
            return
        parsed = parse(data.decode("utf-8", "replace"), f"{prefix}{path}", context=context)
        symbols.extend(parsed.symbols)
        notes.extend(parsed.notes)
        for src in parsed.sources:
            target = resolve_source(src, including=path, variables=known)
            if target is None:
                continue
            visit(target, src.context, None if src.optional else src.loc)

    for path in order:
        visit(path, (), None)
    return ProjectKconfig(
        project=project, symbols=tuple(symbols), files=tuple(sorted(done)), notes=tuple(notes)
    )
