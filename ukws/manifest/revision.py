"""Revisions as a manifest writes them, and how ukws reads each form.

- 40 or 64 hex digits: a commit SHA (SHA-1 or SHA-256). A shorter hex string is *not* a SHA; it is
  read as a name like any other.
- ``refs/tags/NAME``: a tag. ``refs/heads/NAME``: a branch. Any other ``refs/...``: that ref.
- A bare name (``staging``, ``RELEASE-0.13.1``): a branch of that name on the remote if there is
  one, else a tag of that name (repo's order).
"""

from __future__ import annotations

import enum
import functools
import re

_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")


class RevisionKind(enum.StrEnum):
    SHA = "sha"
    TAG = "tag"
    BRANCH = "branch"
    REF = "ref"
    NAME = "name"


def is_sha(revision: str) -> bool:
    return bool(_SHA.match(revision))


def revision_kind(revision: str) -> RevisionKind:
    if is_sha(revision):
        return RevisionKind.SHA
    if revision.startswith("refs/tags/"):
        return RevisionKind.TAG
    if revision.startswith("refs/heads/"):
        return RevisionKind.BRANCH
    if revision.startswith("refs/"):
        return RevisionKind.REF
    return RevisionKind.NAME


_BAD_CHAR = re.compile(r"[\s\x00-\x1f\x7f~^:?*\[\\]")
_BAD_SEQUENCE = re.compile(r"\.\.|//|@\{|(?:\.|/|\.lock)$")


@functools.lru_cache(maxsize=4096)
def check_revision(revision: str) -> str | None:
    """Why ``revision`` is unusable, or None."""
    if revision.startswith("-"):
        return f"revision {revision!r} starts with '-' (option injection)"
    if _BAD_CHAR.search(revision):
        return f"revision {revision!r} contains a character git does not allow in a ref name"
    if _BAD_SEQUENCE.search(revision):
        return f"revision {revision!r} is not a valid ref name"
    return None
