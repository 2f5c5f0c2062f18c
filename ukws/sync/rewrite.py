"""URL rewriting with git's ``insteadOf`` meaning, plus fallback mirrors.

A rule ``PREFIX=REPLACEMENT`` says: a URL that starts with PREFIX is fetched from REPLACEMENT
followed by the rest of the URL. As in git, when several prefixes match, the longest one wins.
Unlike git, several rules may share one prefix: their replacements are fallback mirrors, tried
in the order the rules were given (workspace rules before the user's). The original URL is not
tried unless a rule maps the prefix to itself.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ukws.errors import UsageError, WorkspaceError
from ukws.manifest.model import Project

#: Transports that run commands or use inherited file descriptors: never accepted.
FORBIDDEN_SCHEMES = ("ext::", "fd::")


class RuleOrigin(enum.StrEnum):
    """Where a rule was set."""

    WORKSPACE = "workspace"
    USER = "user"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rewrite:
    """One ``insteadOf`` rule."""

    prefix: str
    """The start of the URL as the manifest gives it."""
    replacement: str
    """What the prefix is replaced with."""
    origin: RuleOrigin = RuleOrigin.WORKSPACE

    def __str__(self) -> str:
        return f"{self.prefix}={self.replacement}"


def parse_rule(text: str, *, origin: RuleOrigin = RuleOrigin.WORKSPACE) -> Rewrite:
    """A rule from its ``PREFIX=REPLACEMENT`` spelling (split at the first ``=``)."""
    prefix, sep, replacement = text.partition("=")
    if not sep or not prefix or not replacement:
        raise UsageError(f"--rewrite {text!r}: expected PREFIX=REPLACEMENT, e.g. https://github.com/=file:///mirror/")
    if replacement.lower().startswith(FORBIDDEN_SCHEMES):
        scheme = replacement.split("::")[0]
        raise UsageError(f"--rewrite {text!r}: the {scheme}:: transport runs commands; not allowed")
    return Rewrite(prefix=prefix, replacement=replacement, origin=origin)


def candidates(url: str, rules: Iterable[Rewrite]) -> tuple[str, ...]:
    """The URLs to try for ``url``, best first: the replacements of the longest matching prefix,
    in rule order (duplicates dropped), or ``url`` itself when no rule matches."""
    matching = [r for r in rules if url.startswith(r.prefix)]
    if not matching:
        return (url,)
    longest = max(len(r.prefix) for r in matching)
    rest = url[longest:]
    found: list[str] = []
    for rule in matching:
        candidate = _bare_suffix(rule.replacement + rest)
        if len(rule.prefix) == longest and candidate not in found:
            found.append(candidate)
    return tuple(found)


def _bare_suffix(url: str) -> str:
    """A ``file://`` URL of a folder that does not exist, when ``<folder>.git`` does, names the
    latter (git's own lookup does the same; libgit2's does not): a mirror workspace keeps its
    projects as ``<name>.git``, so rules can point at it directly."""
    if not url.startswith("file://") or url.endswith((".git", "/")):
        return url
    path = Path(unquote(urlsplit(url).path))
    if not path.exists() and path.with_name(path.name + ".git").is_dir():
        return url + ".git"
    return url


@dataclass(frozen=True, slots=True, kw_only=True)
class UrlRewriter:
    """The candidate URLs of a project, as ``SyncOptions.urls`` wants them."""

    rules: tuple[Rewrite, ...] = ()

    def __call__(self, project: Project) -> Sequence[str]:
        if not self.rules:
            return (project.fetch_url,)
        return candidates(project.fetch_url, self.rules)

    def candidates(self, url: str) -> tuple[str, ...]:
        return candidates(url, self.rules)


# -- the user's rules -----------------------------------------------------------------------------


def user_config_path(environ: Mapping[str, str]) -> Path:
    """``$XDG_CONFIG_HOME/ukws/config.json``, else ``~/.config/ukws/config.json``."""
    base = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME") or Path.home()) / ".config")
    return Path(base) / "ukws" / "config.json"


def read_user_rewrites(path: Path) -> tuple[Rewrite, ...]:
    """The ``rewrites`` of the per-user configuration file (none when it does not exist)."""
    try:
        text = path.read_text(encoding="utf-8")
        import json  # here: most users have no such file, and json is not loaded for nothing

        data = json.loads(text)
        rules = data.get("rewrites", []) if isinstance(data, dict) else None
        if not isinstance(rules, list):
            raise ValueError("'rewrites' must be a list of \"PREFIX=REPLACEMENT\" strings")
        return tuple(parse_rule(str(r), origin=RuleOrigin.USER) for r in rules)
    except FileNotFoundError:
        return ()
    except (OSError, UnicodeDecodeError) as e:
        raise WorkspaceError(f"{path}: cannot read ({e})") from None
    except (ValueError, UsageError) as e:
        raise WorkspaceError(f"{path}: not a valid ukws user configuration ({e})") from None
