"""ukws's own manifest data, kept under the ``x-`` prefix that repo leaves to users.

On ``<project>`` (and ``<extend-project>``): ``x-role``, ``x-tags``, ``x-version``, and the child
elements ``<x-requires>`` and ``<x-app>`` (with ``<x-patch>`` and ``<x-target>``). At the top
level: ``<x-ukws library-policy=...>`` and any number of ``<x-origin>`` (a library's origin archive
replaced for builds). Elements are validated against the shipped RELAX NG
schema; attribute values (roles, specifiers, paths) are checked here.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Sequence
from typing import Any

from lxml import etree

from ukws.errors import Location, Problem
from ukws.manifest.model import (
    DEFAULT_TAG_PATTERN,
    AppSpec,
    LibraryPolicy,
    OriginReplacement,
    Patch,
    Project,
    Requirement,
    Role,
    Target,
)
from ukws.manifest.paths import check_path
from ukws.manifest.xmlutil import line_of

TOP_ELEMENT = "x-ukws"
ORIGIN_ELEMENT = "x-origin"
#: Schemes an origin archive may be downloaded from.
ORIGIN_SCHEMES = ("https://", "http://", "ftp://", "file://")
_ROLES = ", ".join(r.value for r in Role)


@functools.cache
def _schema() -> etree.RelaxNG:
    from importlib import resources  # only when the schema is first needed

    text = resources.files("ukws.manifest").joinpath("schema/ukws-extensions.rng").read_bytes()
    return etree.RelaxNG(etree.fromstring(text))


def _validate(el: etree._Element, file: str, problems: list[Problem]) -> bool:
    """Validate one x- element (a detached copy, so line numbers are kept) against the schema."""
    schema = _schema()
    if schema.validate(el):
        return True
    for entry in schema.error_log:
        line = entry.line if entry.line and entry.line > 0 else line_of(el)
        problems.append(Problem(loc=Location(file=file, line=line), message=f"<{el.tag}>: {entry.message}"))
    return False


def check_specifier(value: str) -> str | None:
    # packaging is imported here, not at start-up: most manifests carry no specifier.
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        SpecifierSet(value)
    except InvalidSpecifier:
        return f"'{value}' is not a PEP 440 version specifier (e.g. '>=0.13,<0.14')"
    return None


def check_tag_pattern(value: str) -> str | None:
    if value.count("{version}") != 1:
        return f"tag pattern '{value}' must contain '{{version}}' exactly once"
    return None


def project_extensions(
    el: etree._Element, file: str, problems: list[Problem], project: str, *, only_given: bool = False, base: str = ""
) -> dict[str, Any]:
    """The extension fields of a ``<project>`` (all of them, defaults included) or of an
    ``<extend-project>`` (``only_given``: just those it sets).

    ``base`` is the folder of the file ``el`` is written in, relative to the top-level manifest's
    folder: patch and defconfig paths are written relative to their own file and stored relative
    to the top-level manifest's folder."""
    fields: dict[str, Any] = {}
    role, tags, version = el.get("x-role"), el.get("x-tags"), el.get("x-version")
    if role is None and tags is None and version is None and len(el) == 0:
        # A plain project, as nearly all of a large manifest are: nothing to read.
        if not only_given:
            fields["tag_pattern"] = DEFAULT_TAG_PATTERN
        return fields
    loc = Location(file=file, line=line_of(el))
    if role is not None:
        try:
            fields["role"] = Role(role)
        except ValueError:
            problems.append(Problem(loc=loc, message=f"project {project}: x-role=\"{role}\": expected one of {_ROLES}"))
    if tags is not None:
        if why := check_tag_pattern(tags):
            problems.append(Problem(loc=loc, message=f"project {project}: x-tags: {why}"))
        else:
            fields["tag_pattern"] = tags
    if version is not None:
        if why := check_specifier(version):
            problems.append(Problem(loc=loc, message=f"project {project}: x-version: {why}"))
        else:
            fields["version"] = version
    requires: list[Requirement] = []
    app: AppSpec | None = None
    seen_app = False
    for child in el:
        if child.tag == "x-requires":
            if req := _requirement(child, file, problems, project):
                requires.append(req)
        elif child.tag == "x-app":
            if seen_app:
                problems.append(Problem(loc=Location(file=file, line=line_of(child)),
                                        message=f"project {project}: only one <x-app> is allowed"))
            else:
                seen_app = True
                app = _app(child, file, problems, project, base)
    if requires:
        fields["requires"] = tuple(requires)
    if app is not None:
        fields["app"] = app
    if not only_given:
        fields.setdefault("tag_pattern", DEFAULT_TAG_PATTERN)
    return fields


def _requirement(el: etree._Element, file: str, problems: list[Problem], project: str) -> Requirement | None:
    loc = Location(file=file, line=line_of(el))
    if not el.get("project"):
        problems.append(Problem(loc=loc, message=f"project {project}: <x-requires> needs a project attribute"))
        return None
    if not _validate(el, file, problems):
        return None
    spec = el.get("version", "")
    if why := check_specifier(spec):
        problems.append(Problem(loc=loc, message=f"project {project}: <x-requires>: {why}"))
        return None
    return Requirement(project=el.get("project", ""), specifier=spec, loc=loc)


_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_WORD = re.compile(r"^[A-Za-z0-9_]+$")


def _app(el: etree._Element, file: str, problems: list[Problem], project: str, base: str) -> AppSpec | None:
    loc = Location(file=file, line=line_of(el))
    ok = _check_app_children(el, file, problems, project) and _validate(el, file, problems)
    subdir = (el.get("subdir") or "").strip("/")
    if subdir and (why := check_path(subdir)):
        problems.append(Problem(loc=loc, message=f"project {project}: <x-app subdir=\"{subdir}\">: {why}"))
        ok = False
    patches: list[Patch] = []
    targets: list[Target] = []
    for child in el:
        cloc = Location(file=file, line=line_of(child))
        if child.tag == "x-patch":
            path = child.get("path", "")
            if not path:
                continue
            if why := check_path(path):
                problems.append(Problem(loc=cloc, message=f"project {project}: <x-patch path=\"{path}\">: {why}"))
                ok = False
                continue
            patches.append(Patch(path=_rebase(base, path), sha256=child.get("sha256", ""), loc=cloc))
        elif child.tag == "x-target":
            defconfig = child.get("defconfig") or None
            if defconfig and (why := check_path(defconfig)):
                problems.append(
                    Problem(loc=cloc, message=f"project {project}: <x-target defconfig=\"{defconfig}\">: {why}")
                )
                ok = False
                continue
            targets.append(
                Target(
                    plat=child.get("plat", ""),
                    arch=child.get("arch", ""),
                    defconfig=_rebase(base, defconfig) if defconfig else None,
                    name=child.get("name") or None,
                    loc=cloc,
                )
            )
    labels = [t.label for t in targets]
    for label in sorted({x for x in labels if labels.count(x) > 1}):
        problems.append(Problem(loc=loc, message=f"project {project}: two <x-target> are named '{label}'"))
        ok = False
    if not ok:
        return None
    libraries = tuple((el.get("libraries") or "").replace(",", " ").split())
    return AppSpec(subdir=subdir, libraries=libraries, patches=tuple(patches), targets=tuple(targets), loc=loc)


def _rebase(base: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(base, path)) if base else path


def _check_app_children(el: etree._Element, file: str, problems: list[Problem], project: str) -> bool:
    """Clear messages for the mistakes the schema would report obscurely."""
    ok = True
    for child in el:
        if not isinstance(child.tag, str):
            continue
        cloc = Location(file=file, line=line_of(child))

        def bad(message: str, cloc: Location = cloc) -> None:
            nonlocal ok
            ok = False
            problems.append(Problem(loc=cloc, message=f"project {project}: {message}"))

        if child.tag == "x-patch":
            if not child.get("path"):
                bad("<x-patch> needs a path attribute")
            sha = child.get("sha256")
            if sha is None:
                bad("<x-patch> needs a sha256 attribute (64 lowercase hex digits)")
            elif not _SHA256.match(sha):
                bad(f"<x-patch sha256=\"{sha}\">: expected 64 lowercase hex digits")
        elif child.tag == "x-target":
            for attr in ("plat", "arch"):
                value = child.get(attr)
                if value is None:
                    bad(f"<x-target> needs the {attr} attribute")
                elif not _WORD.match(value):
                    bad(f"<x-target {attr}=\"{value}\">: letters, digits and '_' only")
        else:
            bad(f"<{child.tag}> is not allowed inside <x-app> (use <x-patch> and <x-target>)")
    return ok


def top_level(el: etree._Element, file: str, problems: list[Problem]) -> LibraryPolicy:
    policy = el.get("library-policy", LibraryPolicy.LOCKSTEP.value)
    if policy not in {p.value for p in LibraryPolicy}:
        problems.append(Problem(loc=Location(file=file, line=line_of(el)),
                                message=f"<x-ukws library-policy=\"{policy}\">: expected lockstep or independent"))
        return LibraryPolicy.LOCKSTEP
    if not _validate(el, file, problems):
        return LibraryPolicy.LOCKSTEP
    return LibraryPolicy(el.get("library-policy", LibraryPolicy.LOCKSTEP.value))


def check_references(projects: Sequence[Project], problems: list[Problem]) -> None:
    """Every project that ``<x-requires>`` or ``<x-app libraries>`` names must exist."""
    known = {p.name for p in projects} | {p.path for p in projects}
    for p in projects:
        for req in p.requires:
            if req.project not in known:
                problems.append(Problem(loc=req.loc, message=f"project {p.name}: <x-requires> names unknown "
                                        f"project '{req.project}'"))
        if p.app is not None:
            for lib in p.app.libraries:
                if lib not in known:
                    problems.append(Problem(loc=p.app.loc, message=f"project {p.name}: <x-app libraries> names "
                                            f"unknown project '{lib}'"))


def origin(el: etree._Element, file: str, problems: list[Problem], *, base: str = "") -> OriginReplacement | None:
    """``<x-origin library="libnewlibc" url="URL make asks for" sha256="..." (replacement="URL" | file="PATH")/>``."""
    loc = Location(file=file, line=line_of(el))

    def bad(message: str) -> None:
        problems.append(Problem(loc=loc, message=f"<x-origin>: {message}"))

    library, url, sha = el.get("library", ""), el.get("url", ""), el.get("sha256")
    replacement, path = el.get("replacement") or None, el.get("file") or None
    count = len(problems)
    if not library or not _WORD.match(library):
        bad("needs a library attribute: the library as its Makefile.uk names it for make (e.g. libnewlibc)")
    if not url.startswith(ORIGIN_SCHEMES):
        bad(f"url=\"{url}\": needs the https, http, ftp or file URL the library's make downloads")
    if sha is None or not _SHA256.match(sha):
        bad("needs a sha256 attribute (64 lowercase hex digits) naming the replacement's content")
    if (replacement is None) == (path is None):
        bad("needs exactly one of replacement=\"URL\" and file=\"PATH\"")
    elif replacement is not None and not replacement.startswith(ORIGIN_SCHEMES):
        bad(f"replacement=\"{replacement}\": only https, http, ftp and file URLs")
    elif path is not None and (why := check_path(path)):
        bad(f"file=\"{path}\": {why}")
    if len(problems) > count or not _validate(el, file, problems):
        return None
    return OriginReplacement(
        library=library,
        url=url,
        sha256=sha or "",
        replacement_url=replacement,
        file=_rebase(base, path) if path else None,
        loc=loc,
    )


def unique_origins(origins: list[OriginReplacement], problems: list[Problem]) -> tuple[OriginReplacement, ...]:
    """One replacement per library and URL."""
    seen: dict[tuple[str, str], OriginReplacement] = {}
    for o in origins:
        first = seen.setdefault((o.library, o.url), o)
        if first is not o:
            problems.append(Problem(loc=o.loc, message=f"<x-origin>: {o.library} {o.url} is already replaced at "
                                    f"{first.loc}"))
    return tuple(seen.values())
