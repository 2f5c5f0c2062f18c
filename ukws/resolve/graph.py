"""The dependency graph of a resolved workspace: core, libraries and applications with their
versions, and the Kconfig symbols that tie them. Rendered as text, Graphviz dot or JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from ukws.resolve.plan import WorkspaceResolution

_ROLE_ORDER = {"application": 0, "library": 1, "core": 2}


@dataclass(frozen=True, slots=True, kw_only=True)
class Node:
    name: str
    path: str
    role: str
    version: str
    """The resolved version, channel or short commit."""
    commit: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Tie:
    """``source`` needs ``target``: the kinds of reference and the target's symbols involved."""

    source: str
    target: str
    kinds: tuple[str, ...]
    symbols: tuple[str, ...]
    conditions: tuple[str, ...] = ()
    """Conditional references as ``SYMBOL if CONDITION`` (``select X if Y``)."""

    def labels(self) -> list[str]:
        """The symbols, each with its condition when the reference is conditional."""
        conds: dict[str, list[str]] = {}
        for item in self.conditions:
            sym, _, cond = item.partition(" if ")
            conds.setdefault(sym, []).append(cond)
        return [f"{s} if {' || '.join(conds[s])}" if s in conds else s for s in self.symbols]


@dataclass(frozen=True, slots=True, kw_only=True)
class Graph:
    nodes: tuple[Node, ...]
    ties: tuple[Tie, ...]
    builds: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Application -> library paths in ``L=`` order."""


def build_graph(res: WorkspaceResolution) -> Graph:
    """The projects with a role and every Kconfig tie between them."""
    with_role = [(p, p.role.value) for p in res.pins if p.role is not None]
    with_role.sort(key=lambda pr: _ROLE_ORDER.get(pr[1], 3))
    nodes = tuple(
        Node(name=p.name, path=p.path, role=role, version=p.label, commit=p.commit) for p, role in with_role
    )
    names = {n.name for n in nodes}
    merged: dict[tuple[str, str], tuple[list[str], list[str], list[str], list[str]]] = {}
    for build in res.builds:
        for e in build.edges:
            if e.source not in names or e.target not in names or e.source == e.target:
                continue
            kinds, symbols, plain, conds = merged.setdefault((e.source, e.target), ([], [], [], []))
            if e.kind not in kinds:
                kinds.append(e.kind)
            if e.target_symbol and e.target_symbol not in symbols:
                symbols.append(e.target_symbol)
            if e.target_symbol and e.cond and e.kind in ("select", "imply"):
                if f"{e.target_symbol} if {e.cond}" not in conds:
                    conds.append(f"{e.target_symbol} if {e.cond}")
            elif e.target_symbol:
                plain.append(e.target_symbol)
    ties = tuple(
        Tie(
            source=s,
            target=t,
            kinds=tuple(k),
            symbols=tuple(sorted(sym)),
            # A symbol also referenced without a condition is not conditional.
            conditions=tuple(sorted(c for c in conds if c.partition(" if ")[0] not in plain)),
        )
        for (s, t), (k, sym, plain, conds) in merged.items()
    )
    builds = tuple((b.app, b.paths) for b in res.builds)
    return Graph(nodes=nodes, ties=ties, builds=builds)


def render_text(graph: Graph) -> str:
    lines: list[str] = []
    width = max((len(n.name) for n in graph.nodes), default=0)
    by_source: dict[str, list[Tie]] = {}
    for tie in graph.ties:
        by_source.setdefault(tie.source, []).append(tie)
    for node in graph.nodes:
        lines.append(f"{node.name:<{width}}  {node.role:<11}  {node.version}")
        for tie in by_source.get(node.name, []):
            kinds = "/".join(tie.kinds)
            detail = f"{kinds}: {', '.join(tie.labels())}" if tie.symbols else kinds
            lines.append(f"{'':<{width}}    -> {tie.target} ({detail})")
    for app, paths in graph.builds:
        lines.append(f"L= for {app}: {':'.join(paths) if paths else '(no libraries)'}")
    return "\n".join(lines) + "\n"


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


_SHAPES = {"core": "box3d", "library": "box", "application": "component"}


def render_dot(graph: Graph) -> str:
    """Graphviz dot: one node per project (label: name and version), one edge per tie (label: symbols)."""
    out = [
        "digraph ukws {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica"];',
        '  edge [fontname="Helvetica"];',
    ]
    for node in graph.nodes:
        out.append(
            f"  {_q(node.name)} [label={_q(node.name + chr(10) + node.version)}, "
            f"shape={_SHAPES.get(node.role, 'box')}];"
        )
    for tie in graph.ties:
        label = "\n".join(tie.labels()) if tie.symbols else "/".join(tie.kinds)
        conditional = tie.conditions and len(tie.conditions) == len(tie.symbols)
        style = ", style=dashed" if set(tie.kinds) <= {"imply"} or conditional else ""
        out.append(f"  {_q(tie.source)} -> {_q(tie.target)} [label={_q(label)}{style}];")
    out.append("}")
    return "\n".join(out) + "\n"


def render_json(graph: Graph) -> str:
    def nodes(items: Iterable[Node]) -> list[dict[str, str]]:
        return [
            {"name": n.name, "path": n.path, "role": n.role, "version": n.version, "commit": n.commit}
            for n in items
        ]

    data = {
        "nodes": nodes(graph.nodes),
        "edges": [
            {
                "from": t.source,
                "to": t.target,
                "kinds": list(t.kinds),
                "symbols": list(t.symbols),
                "conditions": list(t.conditions),
            }
            for t in graph.ties
        ],
        "builds": [{"app": app, "libraries": list(paths)} for app, paths in graph.builds],
    }
    return json.dumps(data, indent=2) + "\n"
