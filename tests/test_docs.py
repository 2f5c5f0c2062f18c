"""The documentation stays true to the program: every command and option of the command line is in
docs/commands.md, every option docs/commands.md names exists, and every relative link of README.md
and docs/ leads to a file and heading that exist."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from ukws.cli import app

ROOT = Path(__file__).resolve().parent.parent
COMMANDS_MD = ROOT / "docs" / "commands.md"
GLOBAL_OPTIONS = frozenset({"-C", "-q", "--quiet", "-v", "--verbose", "-h", "--help"})
"""Options every command takes; documented once, at the top of docs/commands.md."""

_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.M | re.S)
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.M)
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")


def _commands() -> list[tuple[str, Any]]:
    """Every command of the command line as (``ukws manifest validate``, its command object)."""
    root = typer.main.get_command(app)
    found: list[tuple[str, Any]] = []

    def walk(command: Any, ctx: Any, path: str) -> None:
        if path != "ukws":
            found.append((path, command))
        if hasattr(command, "list_commands"):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None and not sub.hidden:
                    walk(sub, sub.make_context(name, [], parent=ctx, resilient_parsing=True), f"{path} {name}")

    walk(root, root.make_context("ukws", [], resilient_parsing=True), "ukws")
    return found


def _option_names(command: Any) -> set[str]:
    return {name for p in command.params if p.param_type_name == "option" for name in (*p.opts, *p.secondary_opts)}


def _strip_code_blocks(text: str) -> str:
    """The text with fenced blocks blanked (their lines kept, so that nothing in them counts as a
    heading or a link)."""
    return _FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def _sections() -> dict[str, str]:
    """docs/commands.md's ``## `ukws CMD …` `` sections by command path (``ukws manifest validate``),
    each with its heading."""
    text = _strip_code_blocks(COMMANDS_MD.read_text(encoding="utf-8"))
    sections: dict[str, str] = {}
    for m in re.finditer(r"^## `(ukws(?: [a-z][a-z-]*)+)(?=[ `])[^\n]*$", text, re.M):
        following = re.compile(r"^#{1,2} ", re.M).search(text, m.end())
        end = following.start() if following else len(text)
        assert m.group(1) not in sections, f"docs/commands.md: two sections for {m.group(1)}"
        sections[m.group(1)] = text[m.start():end]
    return sections


def _with_options(line: str) -> bool:
    return bool(re.match(r"\s*(\|\s*`-|[-*]\s+`-)", line))


def _documented_options(section: str) -> set[str]:
    """The options a section says its command takes: those of its heading, of its option table's
    first column and of list items that start with an option (prose may name other commands')."""
    heading, _, body = section.partition("\n")
    places = [heading] + [re.split(r"`\s*[:|]", line.lstrip("|-* "), maxsplit=1)[0] for line in body.splitlines()
                          if _with_options(line)]
    return {name for place in places for name in _OPTION.findall(place)}


COMMANDS = _commands()


def test_the_command_line_has_commands() -> None:
    names = {path for path, _ in COMMANDS}
    assert {"ukws init", "ukws sync", "ukws build", "ukws manifest validate"} <= names


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[path for path, _ in COMMANDS])
def test_every_command_and_option_is_documented(path: str, command: Any) -> None:
    sections = _sections()
    assert path in sections, f"docs/commands.md has no '## `{path} …`' section"
    section = sections[path]
    missing = sorted(name for name in _option_names(command) - GLOBAL_OPTIONS
                     if not re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", section))
    assert not missing, f"docs/commands.md, section {path}: options not described: {missing}"
    heading = section.partition("\n")[0]
    for param in command.params:
        if param.param_type_name == "argument":
            metavar = (param.metavar or param.name.upper()).rstrip(".").removesuffix("...")
            assert metavar.split()[0].strip("[]").rstrip(".") in heading.replace("…", ""), (
                f"docs/commands.md: the heading of {path} does not name the argument {metavar}")


@pytest.mark.parametrize("path", sorted(_sections()))
def test_every_documented_option_exists(path: str) -> None:
    commands = dict(COMMANDS)
    assert path in commands, f"docs/commands.md documents '{path}', which is not a command"
    unknown = sorted(_documented_options(_sections()[path]) - _option_names(commands[path]) - GLOBAL_OPTIONS)
    assert not unknown, f"docs/commands.md, section {path}: documents options the command lacks: {unknown}"


def test_the_global_options_are_documented() -> None:
    root = typer.main.get_command(app)
    intro = COMMANDS_MD.read_text(encoding="utf-8").split("\n## ", 1)[0]
    for name in _option_names(root) - {"-h", "--help"}:
        assert re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", intro), f"docs/commands.md: {name} not described"


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its text without markup, lower-cased, punctuation other than
    '-' and '_' dropped, spaces made '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = text.replace("`", "").replace("*", "").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(document: Path) -> set[str]:
    seen: dict[str, int] = {}
    anchors: set[str] = set()
    for m in _HEADING.finditer(_strip_code_blocks(document.read_text(encoding="utf-8"))):
        slug = _slug(m.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _links(document: Path) -> Iterator[str]:
    for m in _LINK.finditer(_strip_code_blocks(document.read_text(encoding="utf-8"))):
        target = m.group(1)
        if not re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: lead elsewhere
            yield target


@pytest.mark.parametrize("document", _documents(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_resolve(document: Path) -> None:
    broken = []
    for target in _links(document):
        file, _, anchor = target.partition("#")
        linked = (document.parent / file).resolve() if file else document
        if not linked.exists() or not linked.resolve().is_relative_to(ROOT):
            broken.append(f"{target}: no such file")
        elif anchor and (linked.suffix != ".md" or anchor not in _anchors(linked)):
            broken.append(f"{target}: no such heading in {linked.relative_to(ROOT).as_posix()}")
    assert not broken, f"{document.relative_to(ROOT).as_posix()}: broken links: {broken}"


def test_the_link_checker_sees_anchors_as_github_makes_them() -> None:
    assert _slug("`ukws verify [SNAPSHOT] [--archive FILE] [--json]`") == "ukws-verify-snapshot---archive-file---json"
    assert _slug("`ukws status`, `ukws diff` and `ukws sync`") == "ukws-status-ukws-diff-and-ukws-sync"
    assert _slug("Interruptions and crashes") == "interruptions-and-crashes"
    assert "errors" in _anchors(ROOT / "docs" / "manifest.md")
