"""The program make runs as ``$(WGET)`` when ukws drives a build: it never touches the network.

Unikraft's make calls ``$(WGET) -q --show-progress --progress=bar -O FILE URL``. ukws passes
``WGET=<build>/.ukws/wget``, a small script running ``python -m ukws.build.wget_hook --plan PLAN``.
The plan (JSON, written by ukws) says which URL gets which file of the origin cache:

    {"cache": DIR, "serve": {URL: SHA256}, "names": {BASENAME: SHA256}, "log": FILE, "fetch_hint": bool}

A URL the plan serves is copied from ``DIR/<sha256>`` to FILE; any other request fails (exit 1)
and, with ``fetch_hint``, says ``make tried to download URL; run 'ukws fetch'``. Every request is
appended to the log as one JSON line, which is how ``ukws fetch`` learns what make needs.

Only the standard library is imported: this runs once per download.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path


def parse_args(args: list[str]) -> tuple[str | None, str | None]:
    """(output file, URL) from a wget command line."""
    out: str | None = None
    url: str | None = None
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-O" and i + 1 < len(args):
            out = args[i + 1]
            i += 2
            continue
        if a.startswith("--output-document="):
            out = a.split("=", 1)[1]
        elif a.startswith("-O") and len(a) > 2:
            out = a[2:]
        elif not a.startswith("-"):
            url = a
        i += 1
    return out, url


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "--plan":
        sys.stderr.write("usage: python -m ukws.build.wget_hook --plan PLAN [wget arguments]\n")
        return 2
    plan = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    out, url = parse_args(argv[2:])
    if out is None or url is None:
        sys.stderr.write(f"ukws: make ran $(WGET) {' '.join(argv[2:])}: expected -O FILE URL\n")
        return 2
    name = url.rstrip("/").rsplit("/", 1)[-1]
    sha = plan.get("serve", {}).get(url) or plan.get("names", {}).get(name)
    blob = Path(plan["cache"]) / sha if sha else None
    served = blob is not None and blob.is_file()
    record = {"url": url, "file": out, "sha256": sha if served else None}
    with open(plan["log"], "a", encoding="utf-8") as log:
        log.write(json.dumps(record) + "\n")
    if not served or blob is None:
        if plan.get("fetch_hint", True):
            sys.stderr.write(f"ukws: make tried to download {url}; run 'ukws fetch'\n")
        return 1
    dest = Path(out)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
    os.close(fd)
    shutil.copyfile(blob, tmp)
    os.chmod(tmp, 0o644)
    os.replace(tmp, dest)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
