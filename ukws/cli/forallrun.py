"""``ukws forall``'s run, shared by the full command line and :mod:`ukws.cli.quick`: nothing here
needs the CLI framework."""

from __future__ import annotations

import os
import sys

from ukws.cli import output as common
from ukws.cli.output import find_workspace, only

TYPE_CHECKING = False  # the typing module is not loaded on the quick path
if TYPE_CHECKING:
    from ukws import forall


def forall_run(
    projects: list[str] | None,
    *,
    command: str | None,
    groups: str | None = None,
    header: bool = False,
    jobs: int = 1,
    abort_on_errors: bool = False,
    as_json: bool = False,
) -> int:
    """Run ``command`` in every synced project (those ``projects`` name, those ``groups`` select),
    print what it prints, and return the exit status: 0 when every command succeeded."""
    from ukws import forall, workspace
    from ukws.errors import UsageError

    def report(run: forall.ForallRun) -> None:
        if as_json:
            return
        if run.skipped:
            common.debug(f"skipping {run.path}: {run.skipped}")
            return
        if run.output is not None:
            if header and run.output:
                sys.stdout.write(f"project {run.path}/\n")
            sys.stdout.write(run.output)
            sys.stdout.flush()
        if run.returncode:
            common.err(f"{run.path}: command exited with {run.returncode}")

    def go() -> forall.ForallResult:
        if not command:
            raise UsageError("forall needs -c CMD")
        if jobs < 1:
            raise UsageError(f"-j {jobs}: must be 1 or more")
        ws = find_workspace()
        manifest = only(workspace.load_workspace_manifest(ws, groups=groups), projects)
        heads = workspace.checked_out(ws, manifest)
        sys.stdout.flush()
        return forall.forall(
            root=ws.root,
            projects=manifest.projects,
            command=command,
            heads=heads,
            base_env=os.environ,
            pins=workspace.read_pins(ws),
            jobs=jobs,
            capture=header or as_json,
            abort_on_error=abort_on_errors,
            report=report,
        )

    result = common.run(go)
    if as_json:
        common.emit_json(result.runs)
    return common.EXIT_OK if result.ok else common.EXIT_FAILURE
