"""Project metadata: ukws.toml and Kraftfile entries, with lines; bad files are skipped with a reason."""

from __future__ import annotations

import pytest

from ukws.resolve.metadata import parse_kraftfile, parse_ukws_toml


def test_ukws_toml_requires_with_lines() -> None:
    text = b'# needs\n[other]\nunikraft = "x"\n[requires]\nunikraft = ">=0.13"\n"lib-musl" = "0.13.1"\n'
    meta = parse_ukws_toml(text, "ukws.toml")
    assert [(w.name, w.text, w.line, w.kraft) for w in meta.wishes] == [
        ("unikraft", ">=0.13", 5, False),
        ("lib-musl", "0.13.1", 6, False),
    ]
    assert meta.problems == ()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (b"[requires\n", "ukws.toml: not valid TOML"),
        (b'requires = "x"\n', 'ukws.toml: [requires] must be a table of project = "version"; ignored'),
        (b"[requires]\nunikraft = 13\n", "ukws.toml:2: requires.unikraft must be a string; ignored"),
    ],
)
def test_bad_ukws_toml(text: bytes, problem: str) -> None:
    meta = parse_ukws_toml(text, "ukws.toml")
    assert meta.problems[0].startswith(problem)
    assert meta.wishes == ()


def test_kraftfile_unikraft_and_libraries_in_both_forms() -> None:
    text = (
        b"spec: v0.6\nname: hello\nunikraft:\n  source: https://example.org/unikraft\n  version: 0.16.1\n"
        b"libraries:\n  musl: stable\n  lwip:\n    version: '>=0.16'\n  empty: {}\ntargets:\n  - qemu/x86_64\n"
    )
    meta = parse_kraftfile(text, "Kraftfile")
    assert [(w.name, w.text, w.line, w.core) for w in meta.wishes] == [
        ("unikraft", "0.16.1", 5, True),
        ("musl", "stable", 7, False),
        ("lwip", ">=0.16", 9, False),
    ]
    assert all(w.kraft for w in meta.wishes)
    assert parse_kraftfile(b"unikraft: staging\n", "kraft.yaml").wishes[0].text == "staging"
    assert parse_kraftfile(b"", "Kraftfile").wishes == ()


def test_bad_kraftfile_names_the_line() -> None:
    meta = parse_kraftfile(b"spec: v0.6\nunikraft: [\n", "Kraftfile")
    assert meta.problems == ("Kraftfile:3: not valid YAML; ignored",)
