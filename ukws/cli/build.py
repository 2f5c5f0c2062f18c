"""``ukws build``, ``ukws run``, ``ukws up`` and ``ukws demo``: from a workspace to a running unikernel."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from ukws.cli import common
from ukws.cli.common import JsonOpt, find_workspace, user_rules

if TYPE_CHECKING:
    from ukws.build.make import BuildResult
    from ukws.build.run import RunResult
    from ukws.build.up import UpResult

TargetOpt = Annotated[
    Optional[list[str]],  # noqa: UP045 - typer needs Optional at runtime on 3.11
    typer.Option("-t", "--target", help="Only this target (<x-target name> or PLAT-ARCH; repeatable).",
                 metavar="TARGET"),
]
WordsArg = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Argument(help="The application (project name or path; default: all), then -- and what to pass on.",
                   metavar="[APP] [-- ARGS...]"),
]
TimeoutOpt = Annotated[
    Optional[float],  # noqa: UP045
    typer.Option("--timeout", help="Stop the guest after this many seconds (exit status 124).", metavar="SECONDS"),
]


def split_words(words: list[str] | None, argv: list[str] | None = None) -> tuple[str | None, list[str]]:
    """``[APP] [-- ARGS]``: what follows ``--`` on the command line is passed on, never taken for APP."""
    words = list(words or [])
    argv = sys.argv if argv is None else argv
    after = len(argv) - argv.index("--") - 1 if "--" in argv else 0
    before = words[: len(words) - after] if after <= len(words) else []
    rest = words[len(before):]
    if len(before) > 1:
        from ukws.errors import UsageError

        raise UsageError(f"one application at most (got {' '.join(before)}); pass make's arguments after --")
    return (before[0] if before else None), rest


def build_cmd(
    words: WordsArg = None,
    target: TargetOpt = None,
    jobs: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("-j", "--jobs", help="make -j N.", metavar="N"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Build application targets with the core's make, offline: ukws build [APP] [-t TARGET]... [-- MAKE-ARGS]."""
    from ukws.build import make

    quiet = common.STATE.verbosity < 0 or as_json

    def go() -> BuildResult:
        app, make_args = split_words(words)
        ws = find_workspace()

        def started(t: object) -> None:
            key = getattr(t, "key", "")
            if not quiet:
                common.info(f"ukws: building {key} in {getattr(t, 'build_dir', '')}")

        return make.build(ws, app=app, targets=tuple(target or ()), jobs=jobs, make_args=make_args, quiet=quiet,
                          started=started)

    result = common.run(go)
    if as_json:
        common.emit_json(result)
    for b in result.builds:
        for url in b.missing:
            common.err(f"{b.target}: make tried to download {url}; run 'ukws fetch'")
        if b.returncode:
            if b.tail and not as_json:
                common.err(f"{b.failure}; last lines of {b.log}:")
                for line in b.tail:
                    sys.stderr.write(f"  {line}\n")
            else:
                common.err(b.failure)
        elif not as_json:
            for image in b.images:
                if b.up_to_date:
                    sys.stderr.write(f"ukws: up to date {b.target}: {image} (nothing changed since the last build; "
                                     "make was not run)\n")
                else:
                    sys.stderr.write(f"ukws: built {b.target}: {image}\n")
    if result.returncode:
        # make's own status is in the message; ukws's is 1, as for every failure (2 means usage).
        raise typer.Exit(common.EXIT_FAILURE)


def run_cmd(
    words: WordsArg = None,
    target: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("-t", "--target", help="The target to boot (default: the application's first).",
                     metavar="TARGET"),
    ] = None,
    memory: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option("-m", "--memory", help="Guest memory in MiB (kvm, xen; default 64, a Xenstore domain 16).",
                     metavar="MIB"),
    ] = None,
    timeout: TimeoutOpt = None,
    accel: Annotated[
        str,
        typer.Option(
            "--accel", help="kvm images: auto (KVM when it works, else TCG), kvm or tcg.", metavar="auto|kvm|tcg"
        ),
    ] = "auto",
) -> None:
    """Boot a built image: ukws run [APP] [-t TARGET] [-- ARGS]. Xen images: print their xl configuration."""
    from ukws.build import run
    from ukws.build.targets import context
    from ukws.errors import UsageError

    def go() -> RunResult:
        app, args = split_words(words)
        if accel not in ("auto", "kvm", "tcg"):
            raise UsageError(f"--accel {accel}: expected auto, kvm or tcg")
        ws = find_workspace()
        targets = context(ws, app=app, targets=(target,) if target else ()).targets
        apps = sorted({t.app for t in targets})
        if len(apps) > 1:
            raise UsageError(f"several applications ({', '.join(apps)}): name one (ukws run APP)")
        return run.run_image(targets[0], args=args, memory=memory, timeout=timeout, accel=accel, say=common.info)

    result = common.run(go)
    if result.xl_config:
        sys.stdout.write(result.xl_config)
    if result.timed_out:
        common.err(f"stopped after {timeout:g}s (--timeout)" if timeout else "stopped")
    raise typer.Exit(result.returncode)


def up_cmd(
    directory: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Argument(help="The workspace folder (default: the one you are in, else here).", metavar="[DIR]"),
    ] = None,
    manifest: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("-m", "--manifest", help="A shipped manifest name or a manifest file (as ukws init -m).",
                     metavar="NAME"),
    ] = None,
    url: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("-u", "--manifest-url", help="A manifest repository (as ukws init -u).", metavar="URL"),
    ] = None,
    rewrite: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--rewrite", help="PREFIX=REPLACEMENT URL rewriting (as ukws init --rewrite).",
                     metavar="PREFIX=URL"),
    ] = None,
    run: Annotated[bool, typer.Option("--run", help="Boot the first target's image at the end.")] = False,
    jobs: Annotated[int, typer.Option("-j", "--jobs", help="Projects and downloads at once (0: default).")] = 0,
    timeout: TimeoutOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """init, sync, resolve, patch-app, fetch and build (and --run) in one command; run it again to resume."""
    result = common.run(lambda: _up(directory, manifest, url, rewrite, run, jobs, timeout, as_json))
    if as_json:
        common.emit_json(result)
    raise typer.Exit(result.returncode)


def _up(
    directory: Path | None,
    manifest: str | None,
    url: str | None,
    rewrite: list[str] | None,
    run: bool,
    jobs: int,
    timeout: float | None,
    as_json: bool,
) -> UpResult:
    from ukws import workspace
    from ukws.build import up
    from ukws.sync.rewrite import parse_rule
    from ukws.workspace_init import InitRequest

    rules = tuple(parse_rule(r) for r in rewrite) if rewrite else None
    root = common.resolve_dir(directory) if directory is not None else (
        workspace.find_root(common.STATE.cwd) or common.STATE.cwd
    )
    request = InitRequest(manifest=manifest, url=url, rewrites=rules)
    # With --json stdout holds the JSON document only: the guest's output goes to stderr, as progress does.
    return up.up(root=root, request=request, cwd=common.STATE.cwd, user_rules=user_rules(), run=run, jobs=jobs,
                 timeout=timeout, out=sys.stderr.buffer if as_json else None, say=common.info)


def demo_cmd(
    directory: Annotated[Path, typer.Argument(help="Where to write the demo (created).", metavar="DIR")],
    up_too: Annotated[bool, typer.Option("--up", help="Then ukws up over it, in DIR/ws.")] = False,
    run: Annotated[bool, typer.Option("--run", help="Then ukws up --run over it: build and boot the demo.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Write a small local ecosystem (core, two libraries, an application, a manifest) that needs no network."""
    from dataclasses import replace

    from ukws.build import demo

    target = common.resolve_dir(directory)
    made = common.run(lambda: demo.create_demo(target))
    common.info(f"demo:    {len(made.commits)} repositories and their origin archives in {made.upstream}; "
                f"manifest {made.manifest}")
    if not (up_too or run):
        common.info(f"next:    ukws up -m {made.manifest} --rewrite {made.rewrite} {target / 'ws'} --run")
        if as_json:
            common.emit_json(made)
        return
    result = common.run(
        lambda: _up(target / "ws", str(made.manifest), None, [made.rewrite], run, 0, 60.0 if run else None, as_json)
    )
    if as_json:
        common.emit_json(replace(made, up=result))
    raise typer.Exit(result.returncode)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("build")(build_cmd)
    app.command("run")(run_cmd)
    app.command("up")(up_cmd)
    app.command("demo")(demo_cmd)
