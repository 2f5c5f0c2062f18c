"""The error hierarchy. Every error a user can cause derives from :class:`UkwsError`.

The CLI maps them to exit codes in one place: :class:`UsageError` is 2, every other
:class:`UkwsError` is 1. Each error renders as one or more single lines, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Location:
    """Where a value came from: a file and a 1-based line (0 when unknown)."""

    file: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One thing wrong with an input, with the place it was found."""

    loc: Location
    message: str

    def __str__(self) -> str:
        return f"{self.loc}: {printable(self.message)}"


def printable(text: str) -> str:
    """``text`` on one line: control characters and invisible format characters are escaped."""
    out: list[str] = []
    for ch in text:
        code = ord(ch)
        if ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif code < 0x20 or code == 0x7F or 0x200B <= code <= 0x200F or 0x202A <= code <= 0x202E \
                or 0x2066 <= code <= 0x206F or code == 0xFEFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


class UkwsError(Exception):
    """Root of every error a user can cause; its lines are printed, one per line, on stderr."""

    def lines(self) -> list[str]:
        return [str(self)]


class UsageError(UkwsError):
    """The command line itself is wrong (exit code 2)."""


class ManifestError(UkwsError):
    """One or more problems in a manifest; all of them are reported together."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


class WorkspaceError(UkwsError):
    """The workspace is missing, damaged, or cannot do what was asked."""


class GitError(UkwsError):
    """A git operation failed; the message names the project and what to do."""


class ResolveError(UkwsError):
    """No set of versions satisfies every constraint, or a dependency cannot be found."""


class BuildError(UkwsError):
    """A build, or the origin archives it needs, failed; ``details`` (make's last lines) follow the message."""

    def __init__(self, message: str, details: tuple[str, ...] = ()) -> None:
        self.message = message
        self.details = details
        super().__init__(message)

    def lines(self) -> list[str]:
        return [self.message, *(f"  {printable(d)}" for d in self.details)]
