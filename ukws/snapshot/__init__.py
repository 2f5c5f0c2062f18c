"""Release snapshots: the snapshot manifest (:mod:`.manifest`), the workspace checks that make one
(:mod:`.collect`), the reproducible source archive (:mod:`.archive`), ``ukws snapshot`` itself
(:mod:`.release`), and ``verify`` and ``diff-snapshots`` (:mod:`.verify`). The records of patch-app and
the origin cache they read are the build stage's, read with its readers (:mod:`ukws.build.patchstate`,
:mod:`ukws.build.origins`). See docs/snapshot.md.
"""

from __future__ import annotations
