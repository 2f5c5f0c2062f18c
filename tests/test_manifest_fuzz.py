"""Whatever bytes or XML a manifest holds, loading gives a manifest or a ManifestError, never a crash."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from ukws.errors import ManifestError
from ukws.manifest import load, write

ELEMENTS = ["remote", "default", "project", "include", "extend-project", "remove-project", "copyfile",
            "linkfile", "annotation", "notice", "contactinfo", "superproject", "repo-hooks", "submanifest",
            "manifest-server", "x-ukws", "x-requires", "x-app", "x-patch", "x-target", "unknown"]
ATTRS = ["name", "path", "remote", "revision", "fetch", "groups", "src", "dest", "value", "dest-path",
         "base-rev", "clone-depth", "sync-j", "optional", "x-role", "x-version", "x-tags", "project",
         "version", "sha256", "plat", "arch", "defconfig", "libraries", "subdir", "in-project", "enabled-list",
         "library-policy", "keep", "url", "bugurl"]
VALUES = st.one_of(
    st.sampled_from(["", "a", "origin", "main", "../x", "/abs", "x/.git", "1", "0", "-1", "true", "core",
                     ">=1", "RELEASE-{version}", "https://example.org/", "ext::sh", "a//b", "inc.xml",
                     "a" * 64, "refs/tags/v1", "x86_64"]),
    st.text(max_size=12),
)


def _xml_text(s: str) -> str:
    return "".join(c for c in s if c in "\t\n\r" or (0x20 <= ord(c) < 0xD800) or 0xE000 <= ord(c) < 0xFFFE)


@st.composite
def elements(draw: st.DrawFn, depth: int = 0) -> etree._Element:
    el = etree.Element(draw(st.sampled_from(ELEMENTS)))
    for attr in draw(st.lists(st.sampled_from(ATTRS), max_size=4, unique=True)):
        el.set(attr, _xml_text(draw(VALUES)))
    if depth < 2:
        for child in draw(st.lists(elements(depth + 1), max_size=3)):
            el.append(child)
    return el


@st.composite
def manifests(draw: st.DrawFn) -> bytes:
    root = etree.Element("manifest")
    if draw(st.booleans()):
        etree.SubElement(root, "remote", name="origin", fetch="https://example.org/")
        etree.SubElement(root, "default", remote="origin", revision="main")
    for child in draw(st.lists(elements(), max_size=8)):
        root.append(child)
    return bytes(etree.tostring(root))


def _load(data: bytes, extra: dict[str, bytes] | None = None) -> None:
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        (folder / "manifest.xml").write_bytes(data)
        for name, body in (extra or {}).items():
            (folder / name).write_bytes(body)
        try:
            m = load(folder / "manifest.xml")
        except ManifestError as e:
            assert e.problems and all(str(p).count("\n") == 0 for p in e.problems)
            return
        # A manifest that loads also writes, and what it writes loads to the same model.
        (folder / "again.xml").write_bytes(write(m))
        assert load(folder / "again.xml") == m


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_random_bytes_never_crash(data: bytes) -> None:
    _load(data)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(manifests(), manifests())
def test_random_manifests_never_crash(data: bytes, included: bytes) -> None:
    _load(data, {"inc.xml": included})
