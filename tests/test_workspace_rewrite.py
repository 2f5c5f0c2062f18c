"""URL rewriting: git's insteadOf (longest prefix wins) with fallback mirrors for one prefix."""

from __future__ import annotations

from pathlib import Path

import pytest

from ukws.errors import UsageError
from ukws.manifest.model import Project
from ukws.sync.rewrite import Rewrite, RuleOrigin, UrlRewriter, candidates, parse_rule


def _rules(*texts: str) -> tuple[Rewrite, ...]:
    return tuple(parse_rule(t) for t in texts)


def test_no_rule_keeps_url() -> None:
    assert candidates("https://github.com/unikraft/unikraft", ()) == ("https://github.com/unikraft/unikraft",)
    assert candidates("https://gitlab.com/x", _rules("https://github.com/=file:///m/")) == ("https://gitlab.com/x",)


def test_prefix_replaced() -> None:
    rules = _rules("https://github.com/unikraft/=file:///srv/mirror/")
    assert candidates("https://github.com/unikraft/lib-newlib", rules) == ("file:///srv/mirror/lib-newlib",)


def test_longest_prefix_wins_whatever_the_order() -> None:
    rules = _rules("https://github.com/=file:///all/", "https://github.com/unikraft/=file:///uk/")
    assert candidates("https://github.com/unikraft/app", rules) == ("file:///uk/app",)
    assert candidates("https://github.com/xen/xen", rules) == ("file:///all/xen/xen",)
    assert candidates("https://github.com/unikraft/app", tuple(reversed(rules))) == ("file:///uk/app",)


def test_same_prefix_gives_fallback_mirrors_in_order() -> None:
    rules = _rules(
        "https://github.com/=file:///first/",
        "https://github.com/=git://127.0.0.1/",
        "https://github.com/=file:///first/",
        "https://github.com/=https://github.com/",
    )
    assert candidates("https://github.com/a/b", rules) == (
        "file:///first/a/b",
        "git://127.0.0.1/a/b",
        "https://github.com/a/b",
    )


def test_split_at_first_equals_sign() -> None:
    rule = parse_rule("https://h/=file:///m/?a=b")
    assert (rule.prefix, rule.replacement) == ("https://h/", "file:///m/?a=b")
    assert str(rule) == "https://h/=file:///m/?a=b"
    assert rule.origin is RuleOrigin.WORKSPACE
    assert parse_rule("a=b", origin=RuleOrigin.USER).origin is RuleOrigin.USER


@pytest.mark.parametrize("text", ["no-equals", "=file:///m/", "https://h/="])
def test_malformed_rule(text: str) -> None:
    with pytest.raises(UsageError, match="expected PREFIX=REPLACEMENT"):
        parse_rule(text)


@pytest.mark.parametrize("text", ["https://h/=ext::sh -c evil", "https://h/=FD::3"])
def test_command_transports_refused(text: str) -> None:
    with pytest.raises(UsageError, match="transport runs commands; not allowed"):
        parse_rule(text)


def test_rewriter_gives_project_candidates() -> None:
    project = Project(name="lib", path="lib", remote="r", revision="main", fetch_url="https://h/lib")
    rewriter = UrlRewriter(rules=_rules("https://h/=file:///a/", "https://h/=file:///b/"))
    assert rewriter(project) == ("file:///a/lib", "file:///b/lib")
    assert rewriter.candidates("https://h/x") == ("file:///a/x", "file:///b/x")


def test_file_url_finds_bare_mirror(tmp_path: Path) -> None:
    (tmp_path / "lib.git").mkdir()
    (tmp_path / "plain").mkdir()
    rules = _rules(f"https://h/={tmp_path.as_uri()}/")
    assert candidates("https://h/lib", rules) == (f"{tmp_path.as_uri()}/lib.git",)
    assert candidates("https://h/plain", rules) == (f"{tmp_path.as_uri()}/plain",)
    assert candidates("https://h/absent", rules) == (f"{tmp_path.as_uri()}/absent",)
