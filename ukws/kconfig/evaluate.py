"""The values Kconfig gives every symbol, from the parsed ``Config.uk`` files and a defconfig.

This follows Kconfig's rules (those of ``conf`` and of kconfiglib, the reference implementation
in Python) for configurations without modules:

- a symbol's *visibility* is the highest of its prompts' conditions (with its dependencies);
- a visible symbol with a user value (``CONFIG_X=y`` or ``# CONFIG_X is not set`` in the
  defconfig) takes that value, capped by its visibility;
- otherwise the first ``default`` whose condition holds (dependencies included) gives the value,
  and an ``imply`` from an enabled symbol raises it to ``y`` when the symbol's own dependencies hold;
- a ``select`` from an enabled symbol (its condition and the selecting definition's dependencies
  holding) raises it to ``y`` whatever else holds; a ``select`` or ``imply`` of a symbol no file
  defines does nothing;
- a ``choice`` (not optional) whose prompt is visible is on, and exactly one of its visible members
  is ``y``: the user's, else the first default whose condition holds, else the first visible one;
- a symbol nobody defines is ``n``; a string, int or hex symbol reads as ``n`` in a logical context
  and by its text in a comparison; a macro ukws cannot expand (``$(shell,...)``) is empty.

Kconfig computes these lazily and recursively; here they are computed by repeating passes over all
symbols until nothing changes, which gives the same values for any tree without dependency loops
(which Kconfig rejects) and ends in bounded time on any input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ukws.errors import Location
from ukws.kconfig.expr import Expr, both, evaluate, symbols_in
from ukws.kconfig.parse import Choice, Symbol

_BOOL = frozenset({"bool", "tristate"})


@dataclass(frozen=True, slots=True, kw_only=True)
class UserValue:
    """A value a defconfig fragment gives a symbol, and where."""

    value: str
    """``y``, ``n``, ``m``, or the text of a string/int/hex value (unquoted)."""
    loc: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class Values:
    """The result: the tristate of every bool symbol and the text of every symbol."""

    tri: Mapping[str, int]
    """Also holds each choice's mode under ``<choice ID>``, as member conditions read it."""
    text: Mapping[str, str]
    visible: Mapping[str, int] = field(default_factory=dict)
    selected: frozenset[str] = frozenset()
    """Symbols some ``select`` forces on."""
    from_user: frozenset[str] = frozenset()
    """Symbols whose user value took effect."""
    settled: bool = True
    """False when the passes did not settle (a dependency loop, which Kconfig refuses)."""

    def on(self, name: str) -> bool:
        return self.tri.get(name, 0) > 0


def read_defconfig(text: str, file: str) -> dict[str, UserValue]:
    """User values of a defconfig fragment: ``CONFIG_X=VALUE`` and ``# CONFIG_X is not set``;
    a later line for the same symbol wins, as when Kconfig loads it."""
    out: dict[str, UserValue] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        loc = Location(file=file, line=lineno)
        unset = re.match(r"^\s*#\s*CONFIG_([A-Za-z0-9_]+) is not set\s*$", line)
        if unset:
            out[unset.group(1)] = UserValue(value="n", loc=loc)
            continue
        match = re.match(r"^\s*CONFIG_([A-Za-z0-9_]+)=(.*?)\s*$", line)
        if match:
            value = match.group(2)
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            out[match.group(1)] = UserValue(value=value, loc=loc)
    return out


@dataclass(slots=True)
class _Sym:
    name: str
    type: str | None = None
    prompts: list[Expr] = field(default_factory=list)
    defaults: list[tuple[Expr, Expr]] = field(default_factory=list)
    direct: list[Expr] = field(default_factory=list)
    selects: list[tuple[str, Expr]] = field(default_factory=list)
    """(selecting symbol, condition with the selecting definition's dependencies)"""
    implies: list[tuple[str, Expr]] = field(default_factory=list)
    choice: str | None = None


def _any(items: Sequence[Expr]) -> Expr:
    if not items or any(i is None for i in items):
        return None
    out = items[0]
    for item in items[1:]:
        out = ("or", out, item)
    return out


def evaluate_config(symbols: Sequence[Symbol], choices: Sequence[Choice], user: Mapping[str, UserValue]) -> Values:
    """Every symbol's value, with ``user`` values applied as Kconfig applies a defconfig."""
    table: dict[str, _Sym] = {}
    for sym in symbols:
        entry = table.setdefault(sym.name, _Sym(name=sym.name))
        entry.type = entry.type or sym.type
        entry.choice = entry.choice or sym.choice
        if sym.prompt:
            entry.prompts.append(both(sym.prompt_cond, sym.dep))
        entry.defaults.extend((d.value, both(d.cond, sym.dep)) for d in sym.defaults)
        entry.direct.append(sym.dep)
    for sym in symbols:
        for ref in sym.refs:
            target = table.get(ref.symbol)
            if target is None or ref.kind == "depends":
                continue
            cond = both(ref.cond, sym.dep)
            (target.selects if ref.kind == "select" else target.implies).append((sym.name, cond))
    direct = {name: _any(e.direct) for name, e in table.items()}
    merged: dict[str, Choice] = {}
    for choice in choices:
        merged.setdefault(choice.id, choice)

    tri: dict[str, int] = {name: 0 for name in table}
    text: dict[str, str] = {name: "" if (e.type or "") not in _BOOL else "n" for name, e in table.items()}
    vis: dict[str, int] = {}
    selected: set[str] = set()
    from_user: set[str] = set()

    def tri_of(name: str) -> int:
        if name.startswith("<choice "):
            return tri.get(name, 0)
        entry = table.get(name)
        if entry is None or (entry.type or "") not in _BOOL:
            return 0
        return tri[name]

    def text_of(name: str) -> str:
        return text.get(name, name)

    def ev(expr: Expr) -> int:
        return evaluate(expr, tri_of, text_of)

    def promote(value: int) -> int:
        return 2 if value == 1 else value  # no modules: m counts as y

    order = _dependency_order(table, merged)
    settled = False
    for _ in range(len(table) + len(merged) + 2):
        changed = False
        for cid, choice in merged.items():
            cvis = promote(min(ev(choice.prompt_cond), ev(choice.dep))) if choice.prompt else 0
            mode = 0 if choice.optional else cvis
            key = f"<choice {cid}>"
            if tri.get(key) != mode:
                tri[key] = mode
                changed = True
        for name in order:
            e = table[name]
            v = promote(max((ev(p) for p in e.prompts), default=0))
            vis[name] = v
            is_bool = (e.type or "") in _BOOL
            chosen = user.get(name)
            new_text: str
            if is_bool and e.choice is not None:
                new = 0
                if v == 2 and tri.get(f"<choice {e.choice}>", 0) == 2:
                    new = 2 if _selection(merged[e.choice], table, user, vis, ev) == name else 0
            elif is_bool:
                new = 0
                if v and chosen is not None and chosen.value in ("y", "m", "n"):
                    new = min({"y": 2, "m": 1, "n": 0}[chosen.value], v)
                    from_user.add(name)
                else:
                    from_user.discard(name)
                    for value, cond in e.defaults:
                        dep = ev(cond)
                        if dep:
                            new = min(ev(value), dep)
                            break
                    weak = max((min(tri_of(s), ev(c)) for s, c in e.implies), default=0)
                    if weak and ev(direct[name]):
                        new = max(new, weak)
                forced = max((min(tri_of(s), ev(c)) for s, c in e.selects), default=0)
                if forced:
                    selected.add(name)
                    new = max(new, forced)
                else:
                    selected.discard(name)
                new = promote(new)
            else:
                new = 0
                if v and chosen is not None:
                    new_text = chosen.value
                else:
                    new_text = ""
                    for value, cond in e.defaults:
                        if ev(cond):
                            new_text = _text_value(value, text_of)
                            break
                if text[name] != new_text:
                    text[name] = new_text
                    changed = True
                continue
            if tri[name] != new:
                tri[name] = new
                text[name] = "y" if new == 2 else "m" if new == 1 else "n"
                changed = True
        if not changed:
            settled = True
            break
    return Values(
        tri=tri,
        text=text,
        visible=vis,
        selected=frozenset(selected),
        from_user=frozenset(from_user),
        settled=settled,
    )


def _text_value(value: Expr, text_of: Callable[[str], str]) -> str:
    if value is None:
        return "y"
    if value[0] == "const":
        return str(value[1])
    if value[0] == "sym":
        name = str(value[1])
        if name in ("y", "n", "m") or re.fullmatch(r"-?(0[xX][0-9a-fA-F]+|[0-9]+)", name):
            return name
        return text_of(name)
    return ""


def _selection(
    choice: Choice,
    table: Mapping[str, _Sym],
    user: Mapping[str, UserValue],
    vis: Mapping[str, int],
    ev: Callable[[Expr], int],
) -> str | None:
    # Kconfig keeps the last member a defconfig sets to y; it counts only while visible.
    chosen = [(u.loc.line, m) for m in choice.members if (u := user.get(m)) is not None and u.value == "y"]
    if chosen:
        member = max(chosen)[1]
        if vis.get(member, 0):
            return member
    for member, cond in choice.defaults:
        if member in table and ev(cond) and vis.get(member, 0):
            return member
    for member in choice.members:
        if vis.get(member, 0):
            return member
    return None


def _dependency_order(table: Mapping[str, _Sym], choices: Mapping[str, Choice]) -> list[str]:
    """The symbols, each after the symbols its value reads where possible (a depth-first
    post-order; members of a loop in any order), so that one pass settles a tree without loops
    and the next pass only confirms it."""
    reads: dict[str, list[str]] = {}
    for name, e in table.items():
        found: list[str] = []
        for expr in (*e.prompts, *e.direct, *(x for d in e.defaults for x in d)):
            found.extend(symbols_in(expr))
        for selector, cond in (*e.selects, *e.implies):
            found.append(selector)
            found.extend(symbols_in(cond))
        choice = choices.get(e.choice) if e.choice is not None else None
        if choice is not None:
            for member in choice.members:
                other = table.get(member)
                if other is not None and member != name:
                    found.extend(s for p in other.prompts for s in symbols_in(p))
            found.extend(symbols_in(choice.prompt_cond))
            found.extend(symbols_in(choice.dep))
        reads[name] = [r for r in dict.fromkeys(found) if r in table and r != name]
    out: list[str] = []
    state: dict[str, int] = {}  # 1: on the stack, 2: placed
    for start in table:
        if start in state:
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        state[start] = 1
        while stack:
            node, i = stack.pop()
            deps = reads[node]
            if i < len(deps):
                stack.append((node, i + 1))
                nxt = deps[i]
                if nxt not in state:
                    state[nxt] = 1
                    stack.append((nxt, 0))
            else:
                state[node] = 2
                out.append(node)
    return out
