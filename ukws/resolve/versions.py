"""Versions from release tags, and channels from branches.

A project's release tags map to versions through its tag pattern (``RELEASE-{version}`` by default):
``RELEASE-0.13.1`` is 0.13.1 and the two-part ``RELEASE-0.4`` is 0.4.0. Tags that do not match the
pattern, or whose version part is not a PEP 440 version, are skipped. Branches (``stable``,
``staging``) are *channels*: a project follows one only when it is asked for by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from ukws.errors import UkwsError

PLACEHOLDER = "{version}"
_SHA = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")


class TagPatternError(UkwsError):
    """A tag pattern without exactly one ``{version}``."""


@lru_cache(maxsize=256)
def _pattern_regex(pattern: str) -> re.Pattern[str]:
    if pattern.count(PLACEHOLDER) != 1:
        raise TagPatternError(f"tag pattern {pattern!r} must contain {PLACEHOLDER} exactly once")
    head, tail = pattern.split(PLACEHOLDER)
    return re.compile(f"{re.escape(head)}(?P<version>.+?){re.escape(tail)}")


def check_pattern(pattern: str) -> None:
    """Raise :class:`TagPatternError` when ``pattern`` cannot map tags to versions."""
    _pattern_regex(pattern)


def normalize(version: Version) -> Version:
    """Pad a release to at least three parts: 0.4 becomes 0.4.0 (they compare equal anyway)."""
    if len(version.release) >= 3:
        return version
    release = ".".join(str(p) for p in version.release + (0,) * (3 - len(version.release)))
    epoch = f"{version.epoch}!" if version.epoch else ""
    rest = str(version).split("!", 1)[-1].removeprefix(".".join(str(p) for p in version.release))
    return Version(f"{epoch}{release}{rest}")


@lru_cache(maxsize=65536)
def tag_version(tag: str, pattern: str) -> Version | None:
    """The version a tag names under ``pattern``, or None when the tag is not a release tag.
    (Cached: libraries in lockstep carry the same tag names, and versions are immutable.)"""
    match = _pattern_regex(pattern).fullmatch(tag)
    if match is None:
        return None
    text = match.group("version")
    try:
        version = Version(text)
    except InvalidVersion:
        return None
    if version.local is not None:
        return None
    return normalize(version)


def version_tag(version: Version, pattern: str) -> str:
    """The tag name for ``version`` under ``pattern`` (three parts: ``RELEASE-0.4.0``)."""
    check_pattern(pattern)
    return pattern.replace(PLACEHOLDER, str(version))


def parse_specifier(text: str) -> SpecifierSet:
    """A PEP 440 specifier set; raises ``ValueError`` with the text when it is not one."""
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        raise ValueError(f"not a version specifier: {text!r}") from None


def is_sha(revision: str) -> bool:
    """A full commit id (SHA-1 or SHA-256), lower-case hex."""
    return _SHA.fullmatch(revision) is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class RevisionKind:
    """What a manifest revision names: a commit, a tag or a branch (channel)."""

    kind: str
    """``sha``, ``tag`` or ``branch``."""
    name: str
    """The SHA, the tag name (without ``refs/tags/``) or the branch name (without ``refs/heads/``)."""


def classify_revision(revision: str, tags: frozenset[str] | set[str] = frozenset()) -> RevisionKind:
    """Classify a manifest revision. A bare name is a tag when the repository has such a tag,
    else a branch; ``refs/tags/X`` is always a tag and ``refs/heads/X`` always a branch."""
    if is_sha(revision):
        return RevisionKind(kind="sha", name=revision)
    if revision.startswith("refs/tags/"):
        return RevisionKind(kind="tag", name=revision.removeprefix("refs/tags/"))
    if revision.startswith("refs/heads/"):
        return RevisionKind(kind="branch", name=revision.removeprefix("refs/heads/"))
    if revision in tags:
        return RevisionKind(kind="tag", name=revision)
    return RevisionKind(kind="branch", name=revision)


def parse_request(text: str, pattern: str) -> tuple[SpecifierSet | None, str | None]:
    """Read a version request as written in project metadata or a Kraftfile.

    Returns ``(specifier, None)`` for a version or a specifier (``0.13.1``, ``v0.13.1``,
    ``RELEASE-0.13.1``, ``>=0.13,<0.14``), ``(None, channel)`` for a branch name such as
    ``stable``, and raises ``ValueError`` for anything else.
    """
    text = text.strip()
    if not text or text == "*":
        return SpecifierSet(), None
    as_tag = tag_version(text, pattern)
    if as_tag is not None:
        return SpecifierSet(f"=={as_tag}"), None
    bare = text[1:] if text[:1] in ("v", "V") and text[1:2].isdigit() else text
    try:
        return SpecifierSet(f"=={normalize(Version(bare))}"), None
    except InvalidVersion:
        pass
    try:
        return SpecifierSet(text), None
    except InvalidSpecifier:
        pass
    if _WORD.fullmatch(text) and not text[0].isdigit():
        return None, text.removeprefix("refs/heads/")
    raise ValueError(f"not a version, specifier or channel: {text!r}")
