"""Time loading a generated 10,000-project manifest spread over includes.

Prints ukws's load time next to the floor: lxml parsing the same files and doing nothing else;
and next to what the model alone costs: building every project's value (a frozen, slotted
dataclass, as the code's style asks) from attributes already read, with no reading or checking.
Target: load <= 1 s. Run: ``.venv/bin/python bench/manifest_parse.py [--projects N] [--includes K]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from pathlib import Path

from lxml import etree
from timing import timed

from ukws.manifest import Project, load, write


def generate(folder: Path, projects: int, includes: int) -> Path:
    per = projects // includes
    for i in range(includes):
        lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<manifest>"]
        for j in range(per):
            n = i * per + j
            lines.append(
                f'  <project name="platform/group{i}/project{n}" path="group{i}/p{n}" groups="g{i % 7},pdk"'
                f' revision="refs/tags/android-{n % 40}"'
                + (f' clone-depth="1"><copyfile src="f" dest="out/c{n}"/></project>' if n % 50 == 0 else "/>")
            )
        lines.append("</manifest>")
        (folder / f"inc{i}.xml").write_text("\n".join(lines) + "\n")
    top = ['<?xml version="1.0" encoding="UTF-8"?>', "<manifest>",
           '  <remote name="aosp" fetch=".." review="https://review.example.org/"/>',
           '  <default revision="main" remote="aosp" sync-j="4"/>']
    top += [f'  <include name="inc{i}.xml" groups="inc{i}"/>' for i in range(includes)]
    top += ['  <remove-project name="platform/group0/project0"/>', "</manifest>"]
    (folder / "default.xml").write_text("\n".join(top) + "\n")
    return folder / "default.xml"



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--projects", type=int, default=10_000)
    ap.add_argument("--includes", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    url = "https://android.example.org/platform/manifest"
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        top = generate(folder, args.projects, args.includes)
        files = sorted(folder.glob("*.xml"))

        def floor() -> None:
            for f in files:
                etree.parse(str(f))

        m = load(top, manifest_url=url)
        assert len(m.projects) == args.projects - 1
        t_floor = timed(floor, args.repeat)
        fields = [{f.name: getattr(p, f.name) for f in dataclasses.fields(p)} for p in m.projects]
        t_model = timed(lambda: [Project(**f) for f in fields], args.repeat)
        t_load = timed(lambda: load(top, manifest_url=url), args.repeat)
        t_write = timed(lambda: write(m), args.repeat)
    verdict = "met" if t_load <= 1.0 else "MISSED"
    print(f"manifest: {args.projects} projects in {args.includes} includes (median of {args.repeat})")
    print(f"  lxml parse only (floor) {t_floor * 1000:8.1f} ms")
    ratio = t_load / t_floor
    print(f"  ukws load               {t_load * 1000:8.1f} ms  ratio {ratio:5.1f}x  target <= 1000 ms: {verdict}")
    print(f"  the model alone         {t_model * 1000:8.1f} ms  ({len(m.projects)} Project values built, nothing read)")
    print(f"  ukws write              {t_write * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
