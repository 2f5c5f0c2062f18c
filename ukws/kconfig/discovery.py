"""Which external libraries an application needs, from Kconfig, and their ``L=`` order.

Unikraft states dependencies between libraries only in Kconfig (``select``, ``depends on``), and a
selected library's folder must already be on ``L=``. :func:`discover` follows the references of the
application and of every enabled library symbol across the projects' parsed ``Config.uk`` files
(:mod:`ukws.kconfig.parse`), reports symbols no project defines, and orders the libraries found.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ukws.errors import Location, ResolveError
from ukws.kconfig.parse import ProjectKconfig, Symbol


@dataclass(frozen=True, slots=True, kw_only=True)
class Edge:
    """A Kconfig tie between two projects: ``source`` project's ``symbol`` needs ``target``'s."""

    source: str
    target: str
    symbol: str
    """The symbol of the source project that refers (or the project name for stated libraries)."""
    kind: str
    """``select``, ``depends``, ``imply``, ``stated`` (listed in the manifest's x-app) or
    ``defconfig`` (enabled in a target's defconfig fragment)."""
    target_symbol: str
    loc: Location | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Missing:
    """A symbol that is selected or depended on but no project defines."""

    symbol: str
    project: str
    loc: Location

    def __str__(self) -> str:
        return f"{self.loc}: {self.project} needs {self.symbol}, which no project in the manifest defines"


@dataclass(frozen=True, slots=True, kw_only=True)
class Discovery:
    """The libraries an application needs, in ``L=`` order, and what ties them."""

    app: str
    libraries: tuple[str, ...]
    """Needed libraries, dependencies before the libraries that need them, ties in manifest order."""
    edges: tuple[Edge, ...] = ()
    missing: tuple[Missing, ...] = ()
    unused: tuple[str, ...] = ()
    """Libraries the manifest lists that nothing selects or states."""
    warnings: tuple[str, ...] = ()


class MissingProvider(ResolveError):
    def __init__(self, missing: Sequence[Missing]) -> None:
        self.missing = tuple(missing)
        super().__init__("\n".join(str(m) for m in self.missing))

    def lines(self) -> list[str]:
        return [str(m) for m in self.missing]


def discover(
    *,
    app: ProjectKconfig,
    libraries: Sequence[ProjectKconfig],
    core: ProjectKconfig | None,
    stated: Sequence[str] = (),
    enabled: Iterable[str] = (),
) -> Discovery:
    """Find the libraries ``app`` needs.

    Every ``select``/``depends on`` of the application's symbols counts (its options are what the
    user builds); a needed library contributes the references of its enabled symbols: those
    selected or depended on, those enabled in a defconfig (``enabled``), its top-level symbols when
    the manifest states the library, and ``default y`` symbols whose requirements are enabled.
    ``libraries`` is in manifest order. A symbol no project defines is reported in ``missing``.
    """
    owner: dict[str, str] = {}
    defs: dict[str, list[Symbol]] = {}
    warnings: list[str] = []
    kinds = [*([core] if core else []), *libraries, app]
    for pk in kinds:
        for sym in pk.symbols:
            defs.setdefault(sym.name, []).append(sym)
            prev = owner.setdefault(sym.name, pk.project)
            if prev != pk.project and pk is not app:
                warnings.append(
                    f"{sym.loc}: {sym.name} is defined by both {prev} and {pk.project}; using {prev}"
                )
    lib_names = [lib.project for lib in libraries]
    order = {name: i for i, name in enumerate(lib_names)}
    by_name = {lib.project: lib for lib in libraries}

    on: set[str] = set(enabled)
    needed: list[str] = []
    edges: dict[tuple[str, str, str, str, str], Edge] = {}
    missing: dict[tuple[str, int, str], Missing] = {}

    def need(name: str) -> bool:
        if name in by_name and name not in needed:
            needed.append(name)
            return True
        return False

    for name in stated:
        if name in by_name:
            need(name)
            edges[(app.project, name, app.project, "stated", "")] = Edge(
                source=app.project, target=name, symbol=app.project, kind="stated", target_symbol=""
            )
    app_syms = {s.name for s in app.symbols}
    for name in sorted(on):
        target = owner.get(name)
        if target in by_name:
            need(target)
            edges.setdefault(
                (app.project, target, "", "defconfig", name),
                Edge(source=app.project, target=target, symbol="", kind="defconfig", target_symbol=name),
            )

    changed = True
    while changed:
        changed = False
        # Symbols enabled by being top-level in a stated/needed library, or default y.
        for lib_name in list(needed):
            for sym in by_name[lib_name].symbols:
                if sym.name in on:
                    continue
                top = not sym.requires and sym.menu and lib_name in stated
                dflt = sym.default_y and all(r in on for r in (*sym.requires, *sym.default_cond))
                if top or dflt:
                    on.add(sym.name)
                    changed = True
        # Follow references of enabled symbols (every application symbol counts).
        # The core's own references are its business: it is on every build.
        active = [*app.symbols, *(s for n in needed for s in by_name[n].symbols if s.name in on)]
        for sym in active:
            src_project = owner.get(sym.name, app.project) if sym.name not in app_syms else app.project
            for ref in sym.refs:
                if ref.kind == "imply":
                    continue
                if ref.cond and not all(c in on for c in ref.cond):
                    continue
                target = owner.get(ref.symbol)
                if target is None:
                    key = (str(ref.loc.file), ref.loc.line, ref.symbol)
                    if ref.kind == "select" and core is not None and ref.symbol.startswith("LIBUK"):
                        # A core library the core no longer has (lib-newlib 0.13.1 selects LIBUKTIME):
                        # Kconfig ignores the select and the build goes on, so this only warns.
                        note = (f"{ref.loc}: {src_project} selects {ref.symbol}, which the core does not define; "
                                "Kconfig ignores that select")
                        if note not in warnings:
                            warnings.append(note)
                        continue
                    if key not in missing:
                        missing[key] = Missing(symbol=ref.symbol, project=src_project, loc=ref.loc)
                    continue
                if ref.symbol not in on:
                    on.add(ref.symbol)
                    changed = True
                if need(target):
                    changed = True
                if target != src_project and (
                    target in by_name or target == (core.project if core else None)
                ):
                    k = (src_project, target, sym.name, ref.kind, ref.symbol)
                    edges.setdefault(
                        k,
                        Edge(
                            source=src_project,
                            target=target,
                            symbol=sym.name,
                            kind=ref.kind,
                            target_symbol=ref.symbol,
                            loc=ref.loc,
                        ),
                    )
    # imply edges between projects that are on the build anyway (informational).
    for sym in [*app.symbols, *(s for n in needed for s in by_name[n].symbols if s.name in on)]:
        src_project = app.project if sym.name in app_syms else owner.get(sym.name, app.project)
        for ref in sym.refs:
            target = owner.get(ref.symbol)
            if ref.kind == "imply" and target is not None and target != src_project and target in needed:
                edges.setdefault(
                    (src_project, target, sym.name, "imply", ref.symbol),
                    Edge(
                        source=src_project,
                        target=target,
                        symbol=sym.name,
                        kind="imply",
                        target_symbol=ref.symbol,
                        loc=ref.loc,
                    ),
                )

    deps: dict[str, set[str]] = {n: set() for n in needed}
    for e in edges.values():
        if (
            e.kind in ("select", "depends", "defconfig")
            and e.source in deps
            and e.target in deps
            and e.source != e.target
        ):
            deps[e.source].add(e.target)
    ordered, cycle = _toposort(needed, deps, order)
    if cycle:
        warnings.append("libraries select each other (" + ", ".join(cycle) + "); they keep manifest order")
    unused = tuple(n for n in lib_names if n not in needed)
    return Discovery(
        app=app.project,
        libraries=tuple(ordered),
        edges=tuple(edges.values()),
        missing=tuple(missing.values()),
        unused=unused,
        warnings=tuple(warnings),
    )


def _toposort(
    names: Sequence[str], deps: Mapping[str, set[str]], order: Mapping[str, int]
) -> tuple[list[str], list[str]]:
    """Dependencies first, ties in manifest order; members of a cycle are placed in manifest order."""
    remaining = {n: set(deps[n]) for n in names}
    users: dict[str, set[str]] = {n: set() for n in names}
    for n, ds in remaining.items():
        for d in ds:
            users[d].add(n)
    heap = [(order[n], n) for n in names if not remaining[n]]
    heapq.heapify(heap)
    out: list[str] = []
    cycle: list[str] = []
    while len(out) < len(names):
        if not heap:
            # A cycle: release the earliest remaining library in manifest order.
            rest = sorted(
                (n for n in names if n not in out and (order[n], n) not in heap), key=order.__getitem__
            )
            stuck = [n for n in rest if remaining[n]]
            cycle = cycle or stuck
            first = stuck[0] if stuck else rest[0]
            remaining[first] = set()
            heapq.heappush(heap, (order[first], first))
        _, n = heapq.heappop(heap)
        if n in out:
            continue
        out.append(n)
        for u in users[n]:
            remaining[u].discard(n)
            if not remaining[u] and u not in out:
                heapq.heappush(heap, (order[u], u))
    return out, cycle


def defconfig_symbols(text: str) -> frozenset[str]:
    """Symbols a defconfig fragment enables (``CONFIG_FOO=y`` or ``=m``)."""
    out: set[str] = set()
    for line in text.splitlines():
        match = re.match(r"^\s*CONFIG_([A-Za-z0-9_]+)=([ym])\s*$", line)
        if match:
            out.add(match.group(1))
    return frozenset(out)
