"""Which external libraries an application needs, from Kconfig, and their ``L=`` order.

Unikraft's make builds a library when its folder is on ``L=`` and one of its symbols ends up
enabled, and a library whose symbol is selected must be on ``L=``. :func:`discover` puts every
library of the manifest on ``L=`` in thought, computes the configuration Kconfig would produce
from the core's, the libraries' and the application's ``Config.uk`` files and each target's
defconfig fragment (:mod:`ukws.kconfig.evaluate`), and keeps the libraries with an enabled symbol
(and those the manifest states). Dropping the others changes nothing: their symbols were all off.
It records why each library is on (``select``, ``imply``, its own ``default``, the defconfig, the
manifest), warns about ``select``/``imply`` of symbols no project defines (Kconfig ignores them),
and orders the libraries dependencies first.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ukws.errors import Location
from ukws.kconfig.evaluate import UserValue, Values, evaluate_config
from ukws.kconfig.expr import Expr, both, evaluate, render, symbols_in
from ukws.kconfig.parse import ProjectKconfig


@dataclass(frozen=True, slots=True, kw_only=True)
class Edge:
    """A Kconfig tie between two projects: ``source`` project's ``symbol`` needs ``target``'s."""

    source: str
    target: str
    symbol: str
    """The symbol of the source project that refers (or the project name for stated libraries)."""
    kind: str
    """``select``, ``depends``, ``imply``, ``stated`` (listed in the manifest's x-app),
    ``defconfig`` (enabled in a target's defconfig fragment) or ``default`` (the target's own
    symbol is ``default y`` and its dependencies hold; source and target are the library)."""
    target_symbol: str
    loc: Location | None = None
    cond: str = ""
    """The ``if`` condition of a conditional ``select``/``imply``, as written; for ``default``,
    the dependencies of the symbol that hold."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Missing:
    """A ``select``/``imply`` (that applies) of a symbol no project defines: Kconfig ignores it."""

    symbol: str
    project: str
    kind: str
    loc: Location

    def __str__(self) -> str:
        verb = "selects" if self.kind == "select" else "implies"
        return (
            f"{self.loc}: {self.project} {verb} {self.symbol}, which no project in the manifest defines; "
            "ignored, as Kconfig does"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Discovery:
    """The libraries an application needs, in ``L=`` order, and what ties them."""

    app: str
    libraries: tuple[str, ...]
    """Needed libraries, dependencies before the libraries that need them, ties in the stated order, then
    manifest order."""
    edges: tuple[Edge, ...] = ()
    missing: tuple[Missing, ...] = ()
    unused: tuple[str, ...] = ()
    """Libraries the manifest lists that nothing enables or states."""
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def discover(
    *,
    app: ProjectKconfig,
    libraries: Sequence[ProjectKconfig],
    core: ProjectKconfig | None,
    stated: Sequence[str] = (),
    defconfigs: Sequence[Mapping[str, UserValue]] = (),
) -> Discovery:
    """Find the libraries ``app`` needs.

    ``libraries`` is in manifest order; in ``L=``, ties keep the order of ``stated`` (the
    application's ``<x-app libraries>``), then manifest order. ``defconfigs`` holds the user values
    of each target's fragment (no targets: one configuration without user values). A library is
    needed when it is stated or when one of its symbols is enabled in the configuration of any
    target. A library the manifest states also has its top-level ``menuconfig`` symbols set to ``y`` (as kraft does
    for a Kraftfile's libraries), unless the fragment sets them.
    """
    projects = [*([core] if core else []), *libraries, app]
    owner: dict[str, str] = {}
    warnings: list[str] = []
    notes: list[str] = []
    for pk in projects:
        for sym in pk.symbols:
            prev = owner.setdefault(sym.name, pk.project)
            if prev != pk.project and pk is not app:
                warnings.append(f"{sym.loc}: {sym.name} is defined by both {prev} and {pk.project}; using {prev}")
    lib_names = [lib.project for lib in libraries]
    by_name = {lib.project: lib for lib in libraries}
    stated_here = list(dict.fromkeys(n for n in stated if n in by_name))
    # Ties in L= keep the order the application states its libraries in, then manifest order:
    # include folders reach the compiler in L= order, so a library whose headers must shadow
    # another's (pthread-embedded's pthread.h over newlib's) is stated first.
    ties = [*stated_here, *(n for n in lib_names if n not in stated_here)]
    order = {name: i for i, name in enumerate(ties)}
    all_symbols = [s for pk in projects for s in pk.symbols]
    all_choices = [c for pk in projects for c in pk.choices]
    top_level: dict[str, UserValue] = {}
    for name in stated_here:
        for sym in by_name[name].symbols:
            if sym.menu and sym.dep is None and sym.name not in top_level:
                top_level[sym.name] = UserValue(value="y", loc=sym.loc)

    configs: list[tuple[Values, Mapping[str, UserValue]]] = []
    for fragment in defconfigs or ({},):
        user = {**top_level, **fragment}
        values = evaluate_config(all_symbols, all_choices, user)
        if not values.settled:
            warnings.append(f"{app.project}: the Kconfig symbols depend on each other in a loop; values may be off")
        configs.append((values, fragment))

    def on(name: str) -> bool:
        return any(v.on(name) for v, _ in configs)

    needed = set(stated_here)
    for lib in libraries:
        if any(on(sym.name) for sym in lib.symbols):
            needed.add(lib.project)

    edges: dict[tuple[str, str, str, str, str], Edge] = {}
    missing: dict[tuple[str, int, str], Missing] = {}

    def add(edge: Edge) -> None:
        edges.setdefault((edge.source, edge.target, edge.symbol, edge.kind, edge.target_symbol), edge)

    for name in stated_here:
        add(Edge(source=app.project, target=name, symbol=app.project, kind="stated", target_symbol=""))
    for values, fragment in configs:
        for name, given in fragment.items():
            target = owner.get(name)
            if target in needed and name in values.from_user and values.on(name):
                add(
                    Edge(
                        source=app.project,
                        target=target,
                        symbol="",
                        kind="defconfig",
                        target_symbol=name,
                        loc=given.loc,
                    )
                )

    sources = [(app.project, app), *((n, by_name[n]) for n in lib_names if n in needed)]
    if core is not None:
        sources.append((core.project, core))
    reachable = {*needed, *([core.project] if core else [])}
    for project, pk in sources:
        for sym in pk.symbols:
            active = [v for v, _ in configs if v.on(sym.name)]
            if project == app.project:
                for ref in sym.refs:
                    if ref.kind == "depends" and ref.symbol not in owner:
                        notes.append(
                            f"{ref.loc}: {sym.name} depends on {ref.symbol}, which no project in the "
                            "manifest defines; it is off, as in Kconfig"
                        )
            if not active:
                continue
            for ref in sym.refs:
                cond = both(ref.cond, sym.dep) if ref.kind != "depends" else None
                holds = [v for v in active if _holds(cond, v)]
                if not holds:
                    continue
                target = owner.get(ref.symbol)
                if target is None:
                    if ref.kind != "depends" and (core is None or project != core.project):
                        key = (str(ref.loc.file), ref.loc.line, ref.symbol)
                        missing.setdefault(key, Missing(symbol=ref.symbol, project=project, kind=ref.kind, loc=ref.loc))
                    continue
                if target == project or target not in reachable:
                    continue
                if ref.kind != "select" and not any(v.on(ref.symbol) for v in holds):
                    continue
                add(
                    Edge(
                        source=project,
                        target=target,
                        symbol=sym.name,
                        kind=ref.kind,
                        target_symbol=ref.symbol,
                        loc=ref.loc,
                        cond=ref.cond_text,
                    )
                )

    # A library nothing else turns on is on through its own defaults: say which.
    pulled = {e.target for e in edges.values()}
    for name in lib_names:
        if name not in needed or name in pulled:
            continue
        own = {s.name for s in by_name[name].symbols}
        for sym in by_name[name].symbols:
            if any(s in own for s in symbols_in(sym.dep)):
                continue
            for values, _ in configs:
                if values.on(sym.name) and sym.name not in values.selected and sym.name not in values.from_user:
                    loc = next((d.loc for d in sym.defaults if _holds(both(d.cond, sym.dep), values)), sym.loc)
                    add(
                        Edge(
                            source=name,
                            target=name,
                            symbol=sym.name,
                            kind="default",
                            target_symbol=sym.name,
                            loc=loc,
                            cond=render(sym.dep) if sym.dep is not None else "",
                        )
                    )

    needed_list = [n for n in lib_names if n in needed]
    deps: dict[str, set[str]] = {n: set() for n in needed_list}
    for e in edges.values():
        if e.kind in ("select", "depends", "imply") and e.source in deps and e.target in deps:
            deps[e.source].add(e.target)
    ordered, cycle = _toposort(needed_list, deps, order)
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
        notes=tuple(dict.fromkeys(notes)),
    )


def _holds(cond: Expr, values: Values) -> bool:
    return evaluate(cond, lambda n: values.tri.get(n, 0), lambda n: values.text.get(n, n)) > 0


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
            rest = sorted((n for n in names if n not in out and (order[n], n) not in heap), key=order.__getitem__)
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
