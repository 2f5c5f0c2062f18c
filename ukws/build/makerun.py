"""Every make run of ukws goes through here: the command line, the environment, and the ``$(WGET)`` hook."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ukws.build.targets import BuildTarget
from ukws.errors import WorkspaceError


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """One download make asked for (a line of the hook's log)."""

    url: str
    file: Path
    sha256: str | None
    """What was served, or None when the request failed."""

    @property
    def library(self) -> str:
        """The library: make writes origins to ``$(O)/<library>/<file>``."""
        return self.file.parent.name


KCONFIG_TOOLS = {"gcc": "gcc", "flex": "flex", "lex": "flex", "bison": "bison", "yacc": "bison"}
"""The host programs Unikraft's make runs to build its Kconfig tools at a build folder's first
configuration, each with its Debian package (the kconfig of Unikraft 0.13 runs make's default
``lex`` and ``yacc``; later cores pass ``flex`` and ``bison``)."""

BUILD_TOOLS = {"gcc": "gcc", "unzip": "unzip", "tar": "tar", "gzip": "gzip", "patch": "patch"}
"""The host programs Unikraft's make runs while it builds, whatever the target architecture: the
compiler of its host tools, and what unpacks and patches the libraries' origin archives."""


def missing_tools(tools: Mapping[str, str]) -> tuple[str, ...]:
    """Those of ``tools`` that are not on the ``PATH`` make runs with (ukws's own)."""
    return tuple(name for name in tools if shutil.which(name) is None)


def tools_note(missing: Sequence[str]) -> str:
    """What to add to a failed make step's message when host programs it may need are missing."""
    if not missing:
        return ""
    known = {**KCONFIG_TOOLS, **BUILD_TOOLS}
    packages = " ".join(dict.fromkeys(known.get(name, name) for name in missing))
    names = f"{', '.join(missing[:-1])} and {missing[-1]}" if len(missing) > 1 else missing[0]
    verb = "is" if len(missing) == 1 else "are"
    return f"; {names} {verb} not installed, which Unikraft's make runs (Debian: apt-get install {packages})"


def make_program() -> str:
    found = shutil.which("make")
    if found is None:
        raise WorkspaceError("make is not installed; install GNU make (Debian: apt-get install make)")
    return found


def write_hook(
    state_dir: Path,
    *,
    cache: Path,
    serve: Mapping[str, str],
    names: Mapping[str, str] | None = None,
    fetch_hint: bool = True,
) -> tuple[Path, Path]:
    """The ``$(WGET)`` program for one make run and its (emptied) request log."""
    state_dir.mkdir(parents=True, exist_ok=True)
    log = state_dir / "wget.log"
    log.write_text("", encoding="utf-8")
    plan = state_dir / "wget.json"
    plan.write_text(
        json.dumps(
            {"cache": str(cache), "serve": dict(serve), "names": dict(names or {}), "log": str(log),
             "fetch_hint": fetch_hint},
            indent=1,
        ),
        encoding="utf-8",
    )
    script = state_dir / "wget"
    script.write_text(
        "#!/bin/sh\n# make's $(WGET) in ukws builds: serves origin archives from the workspace's cache only.\n"
        f"exec {shlex.quote(sys.executable)} -m ukws.build.wget_hook --plan {shlex.quote(str(plan))} \"$@\"\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script, log


def read_requests(log: Path) -> list[Request]:
    if not log.is_file():
        return []
    out: list[Request] = []
    for line in log.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            out.append(Request(url=str(d["url"]), file=Path(d["file"]), sha256=d.get("sha256")))
    return out


def checksum_vars(target: BuildTarget) -> list[str]:
    """``LIB<NAME>_ORIGIN_SHA256=…`` for every replaced origin archive (command-line values win in make)."""
    from ukws.build.targets import vprefix

    return sorted({f"{vprefix(o.library)}_ORIGIN_SHA256={o.sha256}" for o in target.origins})


def run_make(
    target: BuildTarget,
    goals: Sequence[str],
    *,
    wget: Path,
    extra: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    output: Path | None = None,
) -> int:
    """``make -C <core> A= L= C= O= WGET= [checksums] [extra] goals`` from the application folder,
    with ``PWD`` set to it. Output streams through, or goes to ``output`` (appended)."""
    argv = [make_program(), "-C", str(target.core), *target.make_args(), f"WGET={wget}",
            *checksum_vars(target), *extra, *goals]
    environ = dict(os.environ)
    environ.update(env or {})
    environ["PWD"] = str(target.app_dir)
    environ.pop("MAKEFLAGS", None)
    environ.pop("MFLAGS", None)
    if output is None:
        return subprocess.run(argv, cwd=target.app_dir, env=environ, check=False, stdin=subprocess.DEVNULL).returncode
    output.parent.mkdir(parents=True, exist_ok=True)
    with open(output, "ab") as f:
        f.write(("$ " + shlex.join(argv) + "\n").encode())
        f.flush()
        return subprocess.run(
            argv, cwd=target.app_dir, env=environ, check=False, stdin=subprocess.DEVNULL, stdout=f,
            stderr=subprocess.STDOUT,
        ).returncode


def tail(path: Path, lines: int = 15) -> tuple[str, ...]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ()
    return tuple(text.splitlines()[-lines:])


def configure(target: BuildTarget, *, wget: Path, output: Path | None = None, force: bool = False) -> bool:
    """``UK_DEFCONFIG=<fragment> make … defconfig`` unless the configuration is already made from the
    same fragment and paths. Returns whether make ran."""
    state = target.state_dir
    key_file = state / "config-key"
    key = target.config_key()
    if not force and target.config.is_file() and key_file.is_file() and key_file.read_text() == key:
        return False
    state.mkdir(parents=True, exist_ok=True)
    fragment = state / "defconfig"
    fragment.write_bytes(target.fragment)
    key_file.unlink(missing_ok=True)
    rc = run_make(target, ["defconfig"], wget=wget, env={"UK_DEFCONFIG": str(fragment)}, output=output)
    if rc != 0:
        where = f"; make's output is in {output}" if output is not None else ""
        note = tools_note(missing_tools(KCONFIG_TOOLS))
        raise WorkspaceError(f"{target.key}: make defconfig failed (exit status {rc}){where}{note}")
    key_file.write_text(key)
    return True
