"""Fetch URLs: joining a remote's base with a project name, and refusing dangerous transports.

A manifest may name any transport git knows, as repo allows: ``persistent-https://``, ``sso://``
and other schemes git reaches through a remote helper load. Only the transports that run commands
or use file descriptors (``ext::``, ``fd::``) and option-like values are refused here; which
transports a sync actually fetches through is decided there (see ``ukws.git.fetch``).
"""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_HELPER = re.compile(r"^([A-Za-z0-9][A-Za-z0-9+.-]*)::")
#: git's scp-like syntax, ``[user@]host:path``: a colon before any slash (a one-letter host is left
#: alone: it reads as a drive letter).
_SCP = re.compile(r"^(?:([^@/:]+)@)?([^@/:]{2,}):(?!//)(.*)$")
#: Transports that run a command (``ext``) or talk over file descriptors (``fd``): never.
FORBIDDEN = frozenset({"ext", "fd"})


def transport_of(url: str) -> str | None:
    """The transport git would use for ``url``: the scheme, the helper of a ``helper::address``,
    ``ssh`` for scp-like addresses, None for plain paths."""
    m = _HELPER.match(url)
    if m:
        return m.group(1).lower()
    m = _SCHEME.match(url)
    if m:
        return m.group(1).lower()
    if _SCP.match(url):
        return "ssh"
    return None


def check_url(url: str) -> str | None:
    """Why ``url`` may not stand in a manifest, or None when it may.

    Refused: empty or option-like values, control characters, and the ``ext`` and ``fd``
    transports (as ``ext::…`` or ``ext://…``). Every other scheme, scp-like ``user@host:path`` and
    plain paths load.
    """
    if not url:
        return "empty URL"
    if url.startswith("-"):
        return f"URL {url!r} starts with '-' (option injection)"
    if any(ord(c) < 0x20 or c == "\x7f" for c in url):
        return "URL contains control characters"
    transport = transport_of(url)
    if transport in FORBIDDEN:
        how = "runs a command" if transport == "ext" else "uses file descriptors"
        return f"URL {url!r} uses the '{transport}' transport, which {how}; not allowed"
    return None


def normalize(url: str) -> str:
    """``url`` without trailing slashes, an scp-like ``user@host:path`` written as
    ``ssh://user@host/path`` (as repo does before joining, so that relative bases join the way
    git reads the address)."""
    url = url.rstrip("/")
    m = None if _SCHEME.match(url) or _HELPER.match(url) else _SCP.match(url)
    if m is None:
        return url
    user, host, path = m.groups()
    return f"ssh://{user + '@' if user else ''}{host}/{path.lstrip('/')}"


def join_fetch(base: str, manifest_url: str | None, manifest_dir: Path) -> str:
    """Resolve a remote's ``fetch`` against the manifest repository URL, as repo does.

    Without a manifest URL (a manifest given as a file), a relative fetch base is resolved against
    the manifest file's directory as a ``file://`` URL.
    """
    url = normalize(base)
    if _SCHEME.match(url) or _HELPER.match(url) or url.startswith("/"):
        return url
    anchor = manifest_dir.resolve().as_uri() + "/manifest" if manifest_url is None else normalize(manifest_url)
    # urljoin only joins schemes it knows (not ssh or git), and none at all for a plain path; so
    # join under a borrowed scheme it knows, then put the real one back.
    m = _SCHEME.match(anchor)
    scheme = m.group(1) if m else None
    rest = anchor[m.end():] if m else anchor
    joined = urllib.parse.urljoin("gopher://" + rest, url).removeprefix("gopher://")
    return f"{scheme}://{joined}" if scheme else joined


def project_url(fetch_base: str, name: str) -> str:
    return f"{fetch_base.rstrip('/')}/{name}"
