"""The package keeps the layout of the pipeline it implements (docs/architecture.md).

Every import in ``ukws/`` is read from the source, those inside functions and under ``TYPE_CHECKING``
included, and checked against four rules: wings import only wings below them; pygit2 and lxml stay in
their owners; no module imports itself back through others; no module grows past the size limit.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ukws"

RANKS: Mapping[str, int] = {
    "__init__": 0,  # ukws/__init__.py: the version, nothing else
    "errors": 0,
    "fileops": 1,
    "shipped": 1,
    "manifest": 2,
    "git": 2,
    "kconfig": 3,
    "lock": 3,
    "resolve": 4,
    "sync": 4,
    "workspace": 5,
    "forall": 5,
    "listing": 5,
    "status": 6,
    "workspace_init": 6,
    "build": 7,
    "snapshot": 8,
    "cli": 9,
    "entry": 10,
    "__main__": 11,
}
"""Each wing (a subpackage, or a module at the top of ``ukws/``) and its layer: a wing imports only
wings of a lower layer. Wings of one layer never import each other."""

OWNERS: Mapping[str, frozenset[str]] = {
    "pygit2": frozenset({"git"}),
    "lxml": frozenset({"manifest", "lock", "snapshot"}),
}
"""Third-party packages only some wings may import."""

MAX_LINES = 600

# Modules past the limit for now, each with the reason.
OVERSIZE_ALLOWED: Mapping[str, str] = {}


@dataclass(frozen=True, slots=True, kw_only=True)
class Import:
    source: str
    """The importing module, dotted (``ukws.sync.engine``)."""
    target: str
    """The imported module, dotted (``ukws.git``, ``pygit2``)."""
    line: int


def module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(root: Path) -> Iterator[Import]:
    """Every import statement under ``root`` (a package folder), wherever it stands."""
    for path in sorted(root.rglob("*.py")):
        source = module_name(root, path)
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Import(source=source, target=alias.name, line=node.lineno)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = source.split(".") if is_package else source.split(".")[:-1]
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                if base == root.name:  # from ukws import git, workspace (or __version__, an attribute)
                    for alias in node.names:
                        sub = root / alias.name
                        is_module = sub.is_dir() or sub.with_suffix(".py").is_file()
                        target = f"{base}.{alias.name}" if is_module else base
                        yield Import(source=source, target=target, line=node.lineno)
                else:
                    yield Import(source=source, target=base, line=node.lineno)


def wing(module: str) -> str:
    """``ukws.sync.engine`` -> ``sync``; ``ukws.lock`` -> ``lock``; ``ukws`` -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def layer_violations(root: Path, ranks: Mapping[str, int]) -> list[str]:
    found = []
    for imp in imports_of(root):
        if imp.target.split(".")[0] != root.name:
            continue
        a, b = wing(imp.source), wing(imp.target)
        if a == b:
            continue
        if a not in ranks or b not in ranks:
            found.append(f"{imp.source}:{imp.line}: wing {a if a not in ranks else b!r} has no layer")
        elif ranks[b] >= ranks[a]:
            found.append(f"{imp.source}:{imp.line}: {a} (layer {ranks[a]}) imports {b} (layer {ranks[b]})")
    return found


def owner_violations(root: Path, owners: Mapping[str, frozenset[str]]) -> list[str]:
    found = []
    for imp in imports_of(root):
        top = imp.target.split(".")[0]
        if top in owners and wing(imp.source) not in owners[top]:
            found.append(f"{imp.source}:{imp.line}: imports {top}, which only {sorted(owners[top])} may")
    return found


def cycles(root: Path) -> list[list[str]]:
    """Import cycles between modules (type-only and function-level imports count)."""
    modules = {module_name(root, p) for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for imp in imports_of(root):
        target = imp.target
        while target and target not in modules:  # from ukws.git.repo import X -> ukws.git.repo
            target = target.rpartition(".")[0]
        # A module importing its own package's __init__ (re-exports) is not a cycle through it.
        if target and target != imp.source and not imp.source.startswith(target + "."):
            graph[imp.source].add(target)
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                found.append([*stack[stack.index(n) :], n])
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    return found


def oversize(root: Path, limit: int) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        count = len(path.read_text(encoding="utf-8").splitlines())
        name = module_name(root, path)
        if count > limit and name not in OVERSIZE_ALLOWED:
            found.append(f"{name}: {count} lines (limit {limit})")
    return found


def test_wings_import_only_wings_below() -> None:
    assert layer_violations(PACKAGE, RANKS) == []


def test_pygit2_and_lxml_stay_with_their_owners() -> None:
    assert owner_violations(PACKAGE, OWNERS) == []


def test_no_import_cycles() -> None:
    assert cycles(PACKAGE) == []


def test_no_module_past_the_size_limit() -> None:
    assert oversize(PACKAGE, MAX_LINES) == []


def test_every_wing_has_a_layer() -> None:
    wings = {wing(module_name(PACKAGE, p)) for p in PACKAGE.rglob("*.py")}
    assert sorted(wings - set(RANKS)) == []


# -- the checks catch what they are for ----------------------------------------------------------


def _package(tmp_path: Path, files: Mapping[str, str]) -> Path:
    root = tmp_path / "ukws"
    for name, text in {"__init__.py": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {"git/__init__.py": "", "git/repo.py": "from ukws.sync import engine\n", "sync/__init__.py": "",
             "sync/engine.py": ""},
            ["ukws.git.repo:1: git (layer 2) imports sync (layer 4)"],
            id="upward",
        ),
        pytest.param(
            {"sync/__init__.py": "", "sync/engine.py": "", "resolve/__init__.py": "",
             "resolve/plan.py": "def f():\n    from ukws.sync import engine\n"},
            ["ukws.resolve.plan:2: resolve (layer 4) imports sync (layer 4)"],
            id="sideways-inside-a-function",
        ),
        pytest.param(
            {"lock.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ukws.resolve.plan import X\n",
             "resolve/__init__.py": "", "resolve/plan.py": ""},
            ["ukws.lock:3: lock (layer 3) imports resolve (layer 4)"],
            id="type-only",
        ),
        pytest.param(
            {"cli/__init__.py": "from ukws import workspace\n", "workspace.py": ""},
            [],
            id="downward",
        ),
        pytest.param(
            {"sync/__init__.py": "", "sync/engine.py": "from .. import status\n", "status.py": ""},
            ["ukws.sync.engine:1: sync (layer 4) imports status (layer 6)"],
            id="relative",
        ),
    ],
)
def test_layer_check_catches_wrong_imports(tmp_path: Path, files: dict[str, str], expected: list[str]) -> None:
    assert layer_violations(_package(tmp_path, files), RANKS) == expected


def test_owner_check_catches_pygit2_outside_git(tmp_path: Path) -> None:
    files = {"status.py": "def f():\n    import pygit2.enums\n", "git/__init__.py": "import pygit2\n"}
    root = _package(tmp_path, files)
    assert owner_violations(root, OWNERS) == ["ukws.status:2: imports pygit2, which only ['git'] may"]


def test_cycle_check_catches_a_type_only_cycle(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "lock.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ukws.plan import P\n",
            "plan.py": "from ukws.lock import Lock\n",
        },
    )
    assert cycles(root) == [["ukws.lock", "ukws.plan", "ukws.lock"]]


def test_size_check_catches_a_long_module(tmp_path: Path) -> None:
    root = _package(tmp_path, {"big.py": "x = 1\n" * 601, "small.py": "x = 1\n" * 600})
    assert oversize(root, MAX_LINES) == ["ukws.big: 601 lines (limit 600)"]
