"""Unikraft's ``Config.uk`` files: a Kconfig parser that keeps the file and line of everything.

Unikraft states dependencies between libraries only in Kconfig (``select``, ``depends on``,
``imply``), and a selected library's folder must already be on ``L=``. :func:`parse` reads one file
(``config``, ``menuconfig``, ``choice``, ``menu``, ``if``/``endif``, ``source``, attributes and help
text, ended where Kconfig ends it); every symbol keeps its file and line, its prompts, its defaults
(each with its condition, in order), its ``select``/``imply`` (with ``if``) and its dependencies
as expressions (:mod:`ukws.kconfig.expr`), with the enclosing ``if``/``menu``/``choice``
dependencies folded in as Kconfig propagates them. Constructs it does not know are noted and
skipped, never fatal. :func:`load_project` parses a project's files through a reader
function (the caller reads git objects), following ``source`` lines that stay inside the project.
:mod:`ukws.kconfig.discovery` finds, from these, the libraries an application needs.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ukws.errors import Location
from ukws.kconfig.expr import Expr, ExprError, both, parse_expr, render, required

_SYMBOL = re.compile(r"[A-Za-z0-9_]+")
_VAR = re.compile(r"\$\((\w+)\)|\$\{(\w+)\}|\$(\w+)")
_TYPES = frozenset({"bool", "tristate", "string", "int", "hex"})
_IGNORED_ATTRS = frozenset({"range", "option", "modules", "transitional", "optional", "mainmenu"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Ref:
    """A reference from a symbol to another: ``select``, ``imply`` or ``depends on``."""

    symbol: str
    kind: str
    """``select``, ``imply`` or ``depends``."""
    cond: Expr = None
    """For ``select``/``imply``: the ``if`` condition as written (None: unconditional). The
    definition's dependencies apply too (:attr:`Symbol.dep`)."""
    loc: Location

    @property
    def cond_text(self) -> str:
        """The ``if`` condition as Kconfig text, '' when unconditional."""
        return render(self.cond) if self.cond is not None else ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Default:
    """One ``default``/``def_bool`` line: the value and its ``if`` condition as written."""

    value: Expr
    cond: Expr = None
    loc: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class Symbol:
    """One ``config``/``menuconfig`` definition (a symbol may have several)."""

    name: str
    loc: Location
    type: str | None = None
    menu: bool = False
    prompt: bool = False
    """Whether this definition has a prompt (only then can a user value set it)."""
    prompt_cond: Expr = None
    """The prompt's ``if`` condition, with enclosing menus' ``visible if``."""
    dep: Expr = None
    """Everything this definition depends on: its own ``depends on`` and the enclosing ``if``,
    ``menu`` and ``choice`` (a choice appears as ``("choice", ID)``)."""
    defaults: tuple[Default, ...] = ()
    refs: tuple[Ref, ...] = ()
    choice: str | None = None
    """The ID of the choice this symbol is a member of."""

    @property
    def requires(self) -> tuple[str, ...]:
        """The plain symbols that must be enabled for this definition to be available."""
        return required(self.dep)


@dataclass(frozen=True, slots=True, kw_only=True)
class Choice:
    """A ``choice`` block: its members in order, its defaults, and when it is visible."""

    id: str
    """``file:line`` of the ``choice`` keyword."""
    loc: Location
    prompt: bool = False
    prompt_cond: Expr = None
    dep: Expr = None
    optional: bool = False
    defaults: tuple[tuple[str, Expr], ...] = ()
    """(member, condition as written), in order."""
    members: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """A ``source`` line: the path as written, and the dependencies it appears under."""

    path: str
    loc: Location
    relative: bool = False
    """``rsource``/``orsource``: relative to the file, not the tree."""
    optional: bool = False
    dep: Expr = None
    visible: Expr = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedFile:
    path: str
    symbols: tuple[Symbol, ...] = ()
    choices: tuple[Choice, ...] = ()
    sources: tuple[Source, ...] = ()
    notes: tuple[str, ...] = ()
    """Constructs skipped (unknown keywords, unbalanced blocks), as ``file:line: what``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectKconfig:
    """Every symbol a project defines, from all of its ``Config.uk`` files and what they source."""

    project: str
    symbols: tuple[Symbol, ...] = ()
    choices: tuple[Choice, ...] = ()
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


def _split_if(text: str) -> tuple[str, str | None]:
    """``X if EXPR`` -> (X, EXPR); a quoted prompt may contain ' if '."""
    text = text.strip()
    start = 0
    if text[:1] in "\"'":
        i = 1
        while i < len(text) and text[i] != text[0]:
            i += 2 if text[i] == "\\" else 1
        start = i + 1
    match = re.search(r"(?:^|\s)if(?:\s|$)", text[start:])
    if match is None:
        return text, None
    return text[: start + match.start()].strip(), text[start + match.end() :].strip()


@dataclass(slots=True)
class _Entry:
    name: str
    loc: Location
    menu: bool
    dep: Expr
    visible: Expr
    choice: str | None
    type: str | None = None
    prompt: bool = False
    prompt_cond: Expr = None
    depends: list[Expr] = field(default_factory=list)
    defaults: list[Default] = field(default_factory=list)
    refs: list[Ref] = field(default_factory=list)

    def freeze(self) -> Symbol:
        dep = self.dep
        for d in self.depends:
            dep = both(dep, d)
        return Symbol(
            name=self.name,
            loc=self.loc,
            type=self.type,
            menu=self.menu,
            prompt=self.prompt,
            prompt_cond=both(self.prompt_cond, self.visible),
            dep=dep,
            defaults=tuple(self.defaults),
            refs=tuple(self.refs),
            choice=self.choice,
        )


@dataclass(slots=True)
class _Block:
    """An ``if``, ``menu``, ``choice`` or ``comment``: what everything inside depends on."""

    kind: str
    loc: Location
    dep: Expr = None
    visible: Expr = None
    choice_id: str = ""
    prompt: bool = False
    prompt_cond: Expr = None
    optional: bool = False
    defaults: list[tuple[str, Expr]] = field(default_factory=list)
    members: list[str] = field(default_factory=list)


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


def parse(text: str, file: str, *, dep: Expr = None, visible: Expr = None) -> ParsedFile:
    """Parse one Config.uk. ``dep`` and ``visible`` are the dependencies and ``visible if`` of the
    blocks the file is sourced in."""
    symbols: list[Symbol] = []
    choices: list[Choice] = []
    sources: list[Source] = []
    notes: list[str] = []
    blocks: list[_Block] = []
    current: _Entry | None = None
    current_block: _Block | None = None  # a menu/choice/comment taking attributes
    in_help = False
    help_indent: int | None = None  # indentation of the first help line, once seen

    def expr(text: str, loc: Location) -> Expr:
        try:
            return parse_expr(text)
        except ExprError as e:
            notes.append(f"{loc}: cannot read the expression {text.strip()!r} ({e}); ignored")
            return None

    def ctx() -> tuple[Expr, Expr, str | None]:
        d, v, choice = dep, visible, None
        for b in blocks:
            if b.kind == "choice":
                d = both(d, ("choice", b.choice_id))
                choice = b.choice_id
            else:
                d = both(d, b.dep)
                choice = None
            v = both(v, b.visible)
        return d, v, choice

    def close() -> None:
        nonlocal current
        if current is not None:
            symbols.append(current.freeze())
            current = None

    for lineno, raw in _logical_lines(text):
        loc = Location(file=file, line=lineno)
        if in_help:
            # Kconfig: help text ends at the first non-blank line indented less than the first
            # help line (or not indented at all), whatever the indentation of 'help' itself.
            if not raw.strip():
                continue
            ind = _indent(raw)
            if help_indent is None and ind > 0:
                help_indent = ind
                continue
            if help_indent is not None and ind >= help_indent:
                continue
            in_help = False
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
            d, v, choice = ctx()
            current = _Entry(name=name, loc=loc, menu=word == "menuconfig", dep=d, visible=v, choice=choice)
            if choice is not None:
                blocks[-1].members.append(name)
        elif word in ("if", "menu", "choice"):
            close()
            block = _Block(kind=word, loc=loc)
            if word == "if":
                block.dep = expr(rest, loc)
            elif word == "choice":
                name = rest.split()[0] if rest else ""
                block.choice_id = name if _SYMBOL.fullmatch(name) else str(loc)
                block.dep = ctx()[0]
            blocks.append(block)
            current_block = block if word != "if" else None
        elif word in ("endif", "endmenu", "endchoice"):
            close()
            current_block = None
            kind = word[3:]
            if blocks and blocks[-1].kind == kind:
                done = blocks.pop()
                if kind == "choice":
                    choices.append(
                        Choice(
                            id=done.choice_id,
                            loc=done.loc,
                            prompt=done.prompt,
                            prompt_cond=both(done.prompt_cond, ctx()[1]),
                            dep=done.dep,
                            optional=done.optional,
                            defaults=tuple(done.defaults),
                            members=tuple(done.members),
                        )
                    )
            else:
                notes.append(f"{loc}: {word} without a matching {kind}")
        elif word in ("source", "rsource", "osource", "orsource"):
            close()
            current_block = None
            d, v, _choice = ctx()
            sources.append(
                Source(
                    path=_unquote(rest),
                    loc=loc,
                    relative=word.startswith(("r", "or")),
                    optional=word.startswith("o"),
                    dep=d,
                    visible=v,
                )
            )
        elif word in ("comment", "mainmenu"):
            close()
            current_block = _Block(kind="comment", loc=loc)
        elif word in ("help", "---help---") or line.startswith("--- help ---"):
            in_help = True
            help_indent = None
        elif word == "depends" and rest.startswith("on"):
            needs = expr(rest[2:], loc)
            if current is not None:
                current.depends.append(needs)
                current.refs.extend(Ref(symbol=s, kind="depends", loc=loc) for s in required(needs))
            elif current_block is not None:
                current_block.dep = both(current_block.dep, needs)
        elif word == "visible" and rest.startswith("if"):
            if current_block is not None and current_block.kind == "menu":
                current_block.visible = both(current_block.visible, expr(rest[2:], loc))
        elif word in ("select", "imply"):
            target, cond = _split_if(rest)
            if current is None:
                notes.append(f"{loc}: {word} outside a config entry")
            elif _SYMBOL.fullmatch(target):
                current.refs.append(Ref(symbol=target, kind=word, loc=loc, cond=expr(cond, loc) if cond else None))
        elif word in _TYPES or word in ("def_bool", "def_tristate", "prompt", "default"):
            value, cond = _split_if(rest)
            target_block = current_block if current is None and current_block is not None else None
            if current is None:
                if target_block is not None and target_block.kind == "choice":
                    if word == "default" and _SYMBOL.fullmatch(value):
                        target_block.defaults.append((value, expr(cond, loc) if cond else None))
                    elif word == "prompt" or (word in _TYPES and value):
                        target_block.prompt = True
                        target_block.prompt_cond = expr(cond, loc) if cond else None
                continue
            if word in _TYPES or word in ("def_bool", "def_tristate"):
                current.type = {"def_bool": "bool", "def_tristate": "tristate"}.get(word, word)
            if word in ("def_bool", "def_tristate", "default"):
                current.defaults.append(
                    Default(value=expr(value, loc), cond=expr(cond, loc) if cond else None, loc=loc)
                )
            elif word == "prompt" or (word in _TYPES and value):
                current.prompt = True
                current.prompt_cond = expr(cond, loc) if cond else None
        elif word == "optional":
            if current_block is not None and current_block.kind == "choice":
                current_block.optional = True
        elif word in _IGNORED_ATTRS:
            continue
        else:
            notes.append(f"{loc}: unknown construct {word!r} skipped")
    close()
    for block in blocks:
        notes.append(f"{block.loc}: {block.kind} without end{block.kind}")
    return ParsedFile(
        path=file, symbols=tuple(symbols), choices=tuple(choices), sources=tuple(sources), notes=tuple(notes)
    )


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
    choices: list[Choice] = []
    notes: list[str] = []
    order = sorted(files, key=lambda p: (p.count("/"), p))

    def visit(path: str, dep: Expr, visible: Expr, loc: Location | None) -> None:
        if path in done:
            return
        done.add(path)
        data = read(path)
        if data is None:
            if loc is not None:
                notes.append(f"{loc}: sourced file {path} is not in the project")
            return
        parsed = parse(data.decode("utf-8", "replace"), f"{prefix}{path}", dep=dep, visible=visible)
        symbols.extend(parsed.symbols)
        choices.extend(parsed.choices)
        notes.extend(parsed.notes)
        for src in parsed.sources:
            target = resolve_source(src, including=path, variables=known)
            if target is None:
                continue
            visit(target, src.dep, src.visible, None if src.optional else src.loc)

    for path in order:
        visit(path, None, None, None)
    return ProjectKconfig(
        project=project,
        symbols=tuple(symbols),
        choices=tuple(choices),
        files=tuple(sorted(done)),
        notes=tuple(notes),
    )
