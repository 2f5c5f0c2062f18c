"""What a release's application looks like after ``ukws patch-app``, worked out from the snapshot alone.

The archive holds each application as ``ukws patch-app`` leaves it in a workspace synced to the
snapshot: the ``<x-patch>`` series applied to the pinned tree (in memory, by libgit2, from the
patch bytes the snapshot embeds, so the working tree is never read), then the Makefile pointed at
the workspace's core and libraries, or written when the application has none. The Makefile edit
names folders relative to the Makefile (``$(abspath $(CURDIR)/../../unikraft)``), in the ``L=``
order of the snapshot's ``<x-build>``, so it depends on the snapshot only, and an unpacked archive
builds with a plain ``make`` in the application folder, as the workspace does.

Nothing is written to the project's repository: the series is applied in a scratch repository
that reads its objects.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass

from ukws import git
from ukws.build import makefile
from ukws.errors import WorkspaceError
from ukws.manifest.model import Project
from ukws.snapshot.manifest import Snapshot
from ukws.workspace import Workspace


class OverlayError(WorkspaceError):
    """The series cannot be applied to the pinned tree (the reason in one line)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseFiles:
    """The files ``ukws patch-app`` changes in one application, with their content after it."""

    files: Mapping[str, bytes | None]
    """Project-relative path -> content (None: removed), the series' files and the Makefile edit."""
    executable: frozenset[str] = frozenset()
    """The files of ``files`` that are executable after the series."""
    makefile: str | None = None
    """The Makefile pointed at the workspace (or written), when there is one."""


def _libraries(snap: Snapshot, p: Project) -> tuple[str, ...]:
    """The ``L=`` order of the snapshot's ``<x-build>``, else the libraries ``<x-app>`` names."""
    for b in snap.builds:
        if b.app == p.name:
            return b.libraries
    assert p.app is not None
    paths = {x.name: x.path for x in snap.manifest.projects}
    return tuple(paths[name] for name in p.app.libraries if name in paths)


def release_files(ws: Workspace, snap: Snapshot, p: Project) -> ReleaseFiles:
    """Application ``p`` at its pin (``p.revision``) after ``ukws patch-app``, from the snapshot's
    patches. Raises :class:`OverlayError` when a patch is not in the snapshot or does not apply."""
    assert p.app is not None
    datas: list[bytes] = []
    for patch in p.app.patches:
        embedded = snap.file(patch.path)
        if embedded is None:
            raise OverlayError(f"{p.name}: patch {patch.path} is not in the snapshot")
        datas.append(git.lf_normalised(embedded.data))
    repo = git.open_repo(ws.root / p.path)
    try:
        changed = git.series_files(repo, p.revision, datas)
    except git.PatchError as e:
        bad = p.app.patches[e.index or 0]
        raise OverlayError(f"{p.name}: patch {bad.path} does not apply at {p.revision[:12]}: {e}") from None
    files: dict[str, bytes | None] = {c.path: c.data for c in changed}
    executable = {c.path for c in changed if c.data is not None and c.mode == git.EXECUTABLE_MODE}

    def final(rel: str) -> bytes | None:
        if rel in files:
            return files[rel]
        return git.read_blob(repo, p.revision, rel)

    subdir = p.app.subdir
    mk_rel = posixpath.join(subdir, "Makefile") if subdir else "Makefile"
    layout = makefile.layout_for(snap.manifest, p, _libraries(snap, p))
    content = final(mk_rel)
    mk: str | None = None
    if content is not None and makefile.is_unikraft_makefile(content):
        mk = mk_rel
        pointed = makefile.point(content, layout).text
        if pointed != content:
            files[mk_rel] = pointed
    elif content is None and mk_rel not in files and any(
        final(posixpath.join(subdir, name) if subdir else name) is not None for name in makefile.APP_MARKERS
    ):
        mk = mk_rel
        files[mk_rel] = makefile.generate(layout)
    return ReleaseFiles(files=files, executable=frozenset(executable), makefile=mk)
