"""The graph of a resolution: nodes with versions, ties with Kconfig symbols; text, dot and JSON."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from ukws.errors import Location
from ukws.kconfig.discovery import Edge
from ukws.manifest.model import Role
from ukws.resolve.graph import build_graph, render_dot, render_json, render_text
from ukws.resolve.plan import Build, Pin, WorkspaceResolution

SHA = "0123456789abcdef0123456789abcdef01234567"


def resolution() -> WorkspaceResolution:
    loc = Location(file="apps/x/Config.uk", line=3)
    edges = (
        Edge(source="app-x", target="lib-a", symbol="APPX", kind="select", target_symbol="LIBA", loc=loc),
        Edge(source="app-x", target="lib-a", symbol="APPX", kind="depends", target_symbol="LIBA_NET", loc=loc),
        Edge(source="lib-a", target='lib-"b"', symbol="LIBA", kind="imply", target_symbol="LIBB"),
        Edge(source="app-x", target="lib-a", symbol="app-x", kind="stated", target_symbol=""),
        Edge(source="lib-a", target="unikraft", symbol="LIBA", kind="select", target_symbol="LIBUKALLOC"),
        Edge(source="lib-a", target="elsewhere", symbol="LIBA", kind="select", target_symbol="GONE"),
    )
    pins = (
        Pin(
            name="unikraft",
            path="unikraft",
            commit=SHA,
            upstream="staging",
            role=Role.CORE,
            channel="staging",
        ),
        Pin(name="lib-a", path="libs/a", commit=SHA, upstream="main", role=Role.LIBRARY, version="0.13.1"),
        Pin(name='lib-"b"', path="libs/b", commit=SHA, upstream="main", role=Role.LIBRARY, version="0.13.0"),
        Pin(name="tools", path="tools", commit=SHA, upstream="main"),
        Pin(name="app-x", path="apps/x", commit=SHA, upstream="main", role=Role.APPLICATION),
    )
    build = Build(app="app-x", libraries=("lib-a",), paths=("libs/a",), edges=edges)
    return WorkspaceResolution(pins=pins, builds=(build,))


def test_graph_nodes_ordered_application_libraries_core_with_merged_ties() -> None:
    g = build_graph(resolution())
    assert [(n.name, n.role, n.version) for n in g.nodes] == [
        ("app-x", "application", SHA[:12]),
        ("lib-a", "library", "0.13.1"),
        ('lib-"b"', "library", "0.13.0"),
        ("unikraft", "core", "staging"),
    ]
    ties = {(t.source, t.target): (t.kinds, t.symbols) for t in g.ties}
    assert ties == {
        ("app-x", "lib-a"): (("select", "depends", "stated"), ("LIBA", "LIBA_NET")),
        ("lib-a", 'lib-"b"'): (("imply",), ("LIBB",)),
        ("lib-a", "unikraft"): (("select",), ("LIBUKALLOC",)),
    }


def test_text_rendering() -> None:
    text = render_text(build_graph(resolution()))
    assert text.splitlines()[:3] == [
        "app-x     application  0123456789ab",
        "            -> lib-a (select/depends/stated: LIBA, LIBA_NET)",
        "lib-a     library      0.13.1",
    ]
    assert text.endswith("L= for app-x: libs/a\n")


def test_json_rendering() -> None:
    data = json.loads(render_json(build_graph(resolution())))
    assert data["builds"] == [{"app": "app-x", "libraries": ["libs/a"]}]
    assert data["nodes"][3] == {
        "name": "unikraft",
        "path": "unikraft",
        "role": "core",
        "version": "staging",
        "commit": SHA,
    }


def test_dot_quotes_names_and_renders_with_graphviz() -> None:
    dot = render_dot(build_graph(resolution()))
    assert '"lib-a" -> "lib-\\"b\\"" [label="LIBB", style=dashed];' in dot
    assert '"app-x" -> "lib-a" [label="LIBA\\nLIBA_NET"];' in dot
    assert '"unikraft" [label="unikraft\\nstaging", shape=box3d];' in dot
    if shutil.which("dot") is None:
        pytest.skip("Graphviz is not installed; the dot text was checked above")
    out = subprocess.run(["dot", "-Tplain"], input=dot.encode(), capture_output=True, check=True).stdout.decode()
    assert out.startswith("graph ") and "edge" in out


def test_a_conditional_select_shows_as_conditional() -> None:
    loc = Location(file="libs/n/Config.uk", line=4)
    edges = (
        Edge(
            source="lib-n",
            target="lib-p",
            symbol="LIBN",
            kind="select",
            target_symbol="LIBP",
            loc=loc,
            cond="!LIBPOSIX_PTHREAD",
        ),
        Edge(
            source="lib-n",
            target="unikraft",
            symbol="LIBN",
            kind="select",
            target_symbol="FPSIMD",
            loc=loc,
            cond="ARCH_ARM_64",
        ),
        Edge(source="lib-n", target="unikraft", symbol="LIBN", kind="select", target_symbol="LIBUKALLOC", loc=loc),
        Edge(
            source="lib-n",
            target="unikraft",
            symbol="LIBN_X",
            kind="select",
            target_symbol="LIBUKALLOC",
            loc=loc,
            cond="LIBN_X_ALLOC",
        ),
    )
    pins = (
        Pin(name="unikraft", path="unikraft", commit=SHA, upstream="main", role=Role.CORE, version="0.13.1"),
        Pin(name="lib-n", path="libs/n", commit=SHA, upstream="main", role=Role.LIBRARY, version="0.13.1"),
        Pin(name="lib-p", path="libs/p", commit=SHA, upstream="main", role=Role.LIBRARY, version="0.13.1"),
    )
    res = WorkspaceResolution(pins=pins, builds=(Build(app="a", libraries=(), paths=(), edges=edges),))
    g = build_graph(res)
    text = render_text(g)
    assert "    -> lib-p (select: LIBP if !LIBPOSIX_PTHREAD)" in text
    # LIBUKALLOC is also selected unconditionally: not conditional.
    assert "    -> unikraft (select: FPSIMD if ARCH_ARM_64, LIBUKALLOC)" in text
    assert '"lib-n" -> "lib-p" [label="LIBP if !LIBPOSIX_PTHREAD", style=dashed];' in render_dot(g)
    edge = next(e for e in json.loads(render_json(g))["edges"] if e["to"] == "lib-p")
    assert edge["conditions"] == ["LIBP if !LIBPOSIX_PTHREAD"]


def test_why_says_how_kconfig_turns_a_library_on() -> None:
    from ukws.resolve.plan import why

    edges = (
        Edge(
            source="lib-zlib",
            target="lib-zlib",
            symbol="LIBZLIB",
            kind="default",
            target_symbol="LIBZLIB",
            loc=Location(file="libs/zlib/Config.uk", line=3),
            cond="HAVE_LIBC",
        ),
        Edge(
            source="lib-py",
            target="lib-zlib",
            symbol="LIBPY",
            kind="imply",
            target_symbol="LIBZLIB",
            loc=Location(file="libs/py/Config.uk", line=7),
            cond="LIBPY_ZIP",
        ),
    )
    pins = (Pin(name="lib-zlib", path="libs/zlib", commit=SHA, upstream="main", role=Role.LIBRARY, version="0.16.0"),)
    res = WorkspaceResolution(pins=pins, builds=(Build(app="a", libraries=(), paths=(), edges=edges),))
    assert why(res, "lib-zlib").needed_by == (
        "lib-zlib: LIBZLIB is default y (libs/zlib/Config.uk:3), and HAVE_LIBC holds",
        "lib-py: imply LIBZLIB if LIBPY_ZIP (libs/py/Config.uk:7)",
    )
