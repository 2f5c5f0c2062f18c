"""Write manifest files for tests."""

from __future__ import annotations

from pathlib import Path

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


def write_manifest(folder: Path, body: str, name: str = "manifest.xml") -> Path:
    """Write ``<manifest>body</manifest>`` to ``folder/name`` and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"{HEAD}<manifest>\n{body}\n</manifest>\n", encoding="utf-8")
    return path


ORIGIN = '<remote name="origin" fetch="https://example.org/base/"/>\n<default remote="origin" revision="main"/>\n'


# Google repo's manifest vocabulary (docs/manifest-format.md of git-repo): anything else must carry
# the x- prefix repo leaves to users, so that repo loads these manifests too.
REPO_ATTRIBUTES = {
    "manifest": set(),
    "notice": set(),
    "remote": {"name", "alias", "fetch", "pushurl", "review", "revision"},
    "default": {"remote", "revision", "dest-branch", "upstream", "sync-j", "sync-c", "sync-s", "sync-tags"},
    "manifest-server": {"url"},
    "submanifest": {"name", "remote", "project", "manifest-name", "revision", "path", "groups", "default-groups"},
    "project": {"name", "path", "remote", "revision", "dest-branch", "groups", "sync-c", "sync-s", "sync-tags",
                "upstream", "clone-depth", "force-path"},
    "annotation": {"name", "value", "keep"},
    "copyfile": {"src", "dest"},
    "linkfile": {"src", "dest"},
    "extend-project": {"name", "path", "dest-path", "groups", "revision", "remote", "dest-branch", "upstream",
                       "base-rev"},
    "remove-project": {"name", "path", "optional", "base-rev"},
    "repo-hooks": {"in-project", "enabled-list"},
    "superproject": {"name", "remote", "revision"},
    "contactinfo": {"bugurl"},
    "include": {"name", "groups", "revision"},
}




def assert_repo_vocabulary(xml: bytes) -> None:
    """Every element and attribute is one Google repo knows, or carries the x- prefix."""
    from lxml import etree

    def walk(el: etree._Element, inside_x: bool) -> None:
        tag = el.tag
        assert isinstance(tag, str)
        is_x = inside_x or tag.startswith("x-")
        if not is_x:
            assert tag in REPO_ATTRIBUTES, f"<{tag}> is not a repo element"
            for attr in el.attrib:
                assert attr in REPO_ATTRIBUTES[tag] or str(attr).startswith("x-"), f"<{tag} {attr!s}>"
        for child in el:
            if isinstance(child.tag, str):
                walk(child, is_x)

    walk(etree.fromstring(xml), False)
