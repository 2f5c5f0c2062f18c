"""Tag patterns, two-part versions, channels and version requests."""

from __future__ import annotations

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from ukws.resolve.versions import (
    TagPatternError,
    check_pattern,
    classify_revision,
    is_sha,
    normalize,
    parse_request,
    tag_version,
    version_tag,
)


@pytest.mark.parametrize(
    ("tag", "pattern", "expected"),
    [
        ("RELEASE-0.13.1", "RELEASE-{version}", "0.13.1"),
        ("RELEASE-0.4", "RELEASE-{version}", "0.4.0"),
        ("RELEASE-0.2", "RELEASE-{version}", "0.2.0"),
        ("RELEASE-1.0.0rc1", "RELEASE-{version}", "1.0.0rc1"),
        ("v4.19.0", "v{version}", "4.19.0"),
        ("qemu-v8.2.0-ukws", "qemu-v{version}-ukws", "8.2.0"),
        ("RELEASE-latest", "RELEASE-{version}", None),
        ("RELEASE-", "RELEASE-{version}", None),
        ("release-0.13.1", "RELEASE-{version}", None),
        ("RELEASE-0.13.1+local", "RELEASE-{version}", None),
        ("stable", "RELEASE-{version}", None),
    ],
)
def test_tag_version(tag: str, pattern: str, expected: str | None) -> None:
    got = tag_version(tag, pattern)
    assert (str(got) if got is not None else None) == expected


def test_two_part_version_equals_three_part() -> None:
    assert tag_version("RELEASE-0.4", "RELEASE-{version}") == Version("0.4.0")
    assert str(normalize(Version("1!0.4rc1"))) == "1!0.4.0rc1"
    assert normalize(Version("0.13.1")) == Version("0.13.1")


def test_version_tag_round_trip() -> None:
    assert version_tag(Version("0.13.1"), "RELEASE-{version}") == "RELEASE-0.13.1"


@pytest.mark.parametrize("pattern", ["RELEASE", "{version}-{version}", ""])
def test_bad_pattern(pattern: str) -> None:
    with pytest.raises(TagPatternError, match="exactly once"):
        check_pattern(pattern)


def test_classify_revision() -> None:
    sha = "a" * 40
    assert is_sha(sha) and not is_sha("A" * 40) and not is_sha("abc")
    assert classify_revision(sha).kind == "sha"
    assert classify_revision("refs/tags/RELEASE-0.13.1").name == "RELEASE-0.13.1"
    assert classify_revision("refs/heads/stable").kind == "branch"
    assert classify_revision("stable").kind == "branch"
    assert classify_revision("RELEASE-0.13.1", {"RELEASE-0.13.1"}).kind == "tag"


@pytest.mark.parametrize(
    ("text", "spec", "channel"),
    [
        ("0.13.1", "==0.13.1", None),
        ("v0.13.1", "==0.13.1", None),
        ("RELEASE-0.13", "==0.13.0", None),
        (">=0.13,<0.14", "<0.14,>=0.13", None),
        ("*", "", None),
        ("", "", None),
        ("stable", None, "stable"),
        ("refs/heads/staging", None, "staging"),
    ],
)
def test_parse_request(text: str, spec: str | None, channel: str | None) -> None:
    got_spec, got_channel = parse_request(text, "RELEASE-{version}")
    assert got_channel == channel
    assert (str(got_spec) if got_spec is not None else None) == (
        str(SpecifierSet(spec)) if spec is not None else None
    )


def test_parse_request_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="not a version, specifier or channel"):
        parse_request(">=banana", "RELEASE-{version}")
