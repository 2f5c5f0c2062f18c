"""Fetch URLs: joining a remote's base with a project name, and refusing dangerous transports."""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

SCHEMES = frozenset({"https", "http", "ssh", "git", "file", "git+ssh", "ssh+git"})
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_SCP = re.compile(r"^(?:[^@/:]+@)?[^@/:]+:(?!//)")


def check_url(url: str) -> str | None:
    """Why ``url`` may not be fetched from, or None when it is acceptable.

    Accepted: https, http, ssh, git and file URLs, scp-like ``user@host:path``, and plain paths.
    Refused: option-like values, ``transport::address`` forms (``ext::`` runs commands, ``fd::``
    uses file descriptors) and any other scheme.
    """
    if not url:
        return "empty URL"
    if url.startswith("-"):
        return f"URL {url!r} starts with '-' (option injection)"
    if any(c in url for c in "\r\n\0") or any(ord(c) < 0x20 for c in url):
        return "URL contains control characters"
    if "::" in url.split("/", 1)[0] or re.match(r"^[A-Za-z0-9+.-]+::", url):
        return f"URL {url!r} uses a remote helper transport ('::'); not allowed"
    m = _SCHEME.match(url)
    if m:
        scheme = m.group(1).lower()
        if scheme not in SCHEMES:
            return f"URL scheme '{scheme}' not allowed (use https, http, ssh, git or file)"
        return None
    return None  # scp-like or a plain path


def join_fetch(base: str, manifest_url: str | None, manifest_dir: Path) -> str:
    """Resolve a remote's ``fetch`` against the manifest repository URL, as repo does.

    Without a manifest URL (a manifest given as a file), a relative fetch base is resolved against
    the manifest file's directory as a ``file://`` URL.
    """
    url = base.rstrip("/")
    if _SCHEME.match(url) or _SCP.match(url) or url.startswith("/"):
        return url
    anchor = manifest_dir.resolve().as_uri() + "/manifest" if manifest_url is None else manifest_url.rstrip("/")
    # urljoin only joins schemes it knows (not ssh or git), and none at all for host:path; so
    # join under a borrowed scheme it knows, then put the real one back.
    m = _SCHEME.match(anchor)
    scheme = m.group(1) if m else None
    rest = anchor[m.end():] if m else anchor
    joined = urllib.parse.urljoin("gopher://" + rest, url).removeprefix("gopher://")
    return f"{scheme}://{joined}" if scheme else joined


def project_url(fetch_base: str, name: str) -> str:
    return f"{fetch_base.rstrip('/')}/{name}"
