"""Release snapshots: the snapshot manifest (:mod:`.manifest`), the workspace checks that make one
(:mod:`.collect`), the reproducible source archive (:mod:`.archive`), ``ukws snapshot`` itself
(:mod:`.release`), ``verify`` and ``diff-snapshots`` (:mod:`.verify`), and the records of patch-app and
the origin cache they read (:mod:`.records`). See docs/snapshot.md.
"""

from __future__ import annotations
