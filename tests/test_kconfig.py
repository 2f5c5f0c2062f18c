"""The Config.uk parser (locations, blocks, help text, sources) and library discovery from it."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ukws.errors import Location
from ukws.kconfig.discovery import discover
from ukws.kconfig.evaluate import read_defconfig
from ukws.kconfig.expr import ExprError, parse_expr, required
from ukws.kconfig.parse import (
    ProjectKconfig,
    Source,
    load_project,
    parse,
    resolve_source,
)

NEWLIB = """\
# newlib's options
menuconfig LIBNEWLIBC
\tbool "newlib - a C standard library"
\tdefault n
\tselect HAVE_LIBC
\tselect LIBUKALLOC
\tselect LIBPTHREAD_EMBEDDED if !LIBPOSIX_PTHREAD
\thelp
\t  Newlib. This help text mentions
\t  select LIBFAKE and config FAKE
\t    and deeper indentation.

if LIBNEWLIBC
config LIBNEWLIBM
\tbool "libm"
\tdefault y
\tdepends on LIBUKALLOC && (ARCH_X86_64 || ARCH_ARM_64) && !LIBFOO
\timply LIBUKDEBUG

config LIBNEWLIBC_WANT_IO_C99_FORMATS
\tbool "C99 formats"
\tdefault n
endif
"""


def test_parse_symbols_refs_and_locations() -> None:
    parsed = parse(NEWLIB, "libs/newlib/Config.uk")
    assert [s.name for s in parsed.symbols] == ["LIBNEWLIBC", "LIBNEWLIBM", "LIBNEWLIBC_WANT_IO_C99_FORMATS"]
    main, libm, _ = parsed.symbols
    assert main.loc == Location(file="libs/newlib/Config.uk", line=2)
    assert main.menu and main.type == "bool" and main.prompt
    assert [(d.value, d.cond, d.loc.line) for d in main.defaults] == [(("sym", "n"), None, 4)]
    assert [(r.symbol, r.kind, r.loc.line, r.cond_text) for r in main.refs] == [
        ("HAVE_LIBC", "select", 5, ""),
        ("LIBUKALLOC", "select", 6, ""),
        ("LIBPTHREAD_EMBEDDED", "select", 7, "!LIBPOSIX_PTHREAD"),
    ]
    assert libm.requires == ("LIBNEWLIBC", "LIBUKALLOC")
    assert [d.value for d in libm.defaults] == [("sym", "y")]
    assert [(r.symbol, r.kind) for r in libm.refs] == [("LIBUKALLOC", "depends"), ("LIBUKDEBUG", "imply")]
    assert parsed.notes == ()


def test_unknown_constructs_and_unbalanced_blocks_are_noted_not_fatal() -> None:
    text = "frobnicate THIS\nconfig A\n\tbool\nendif\nif B\nconfig C\n\tbool\nchoice\nconfig D\n\tbool\nendchoice\n"
    parsed = parse(text, "Config.uk")
    assert [s.name for s in parsed.symbols] == ["A", "C", "D"]
    assert parsed.symbols[2].requires == ("B",)
    assert parsed.notes == (
        "Config.uk:1: unknown construct 'frobnicate' skipped",
        "Config.uk:4: endif without a matching if",
        "Config.uk:5: if without endif",
    )


def test_continuation_comments_quotes_and_def_bool() -> None:
    text = (
        'config A\n\tdef_bool y if B && \\\n\t\tC\n\tprompt "with # hash" # comment\n'
        "\tselect X if Y\n"
        'menu "M"\n\tdepends on Z\nconfig E\n\tbool\nendmenu\n'
    )
    a, e = parse(text, "Config.uk").symbols
    assert a.type == "bool" and a.prompt
    assert [(d.value, d.cond) for d in a.defaults] == [(("sym", "y"), ("and", ("sym", "B"), ("sym", "C")))]
    assert a.refs[0].cond == ("sym", "Y")
    assert e.requires == ("Z",)


@pytest.mark.parametrize(
    ("expr", "needed"),
    [
        ("A", ("A",)),
        ("A && B", ("A", "B")),
        ("A && (B || C)", ("A",)),
        ("(A && B) && C", ("A", "B", "C")),
        ("A || B", ()),
        ("!A", ()),
        ("A = y && B != n && C = n", ("A", "B")),
        ("y", ()),
        ("COUNT > 1 && $(shell,echo y)", ()),
    ],
)
def test_required_symbols(expr: str, needed: tuple[str, ...]) -> None:
    assert required(parse_expr(expr)) == needed


@pytest.mark.parametrize("text", ["(A", "A &&", "A B", "", "A @ B"])
def test_expressions_that_are_not_expressions(text: str) -> None:
    with pytest.raises(ExprError):
        parse_expr(text)


def test_help_text_ends_at_the_first_line_indented_less_than_its_first_line() -> None:
    # Help lines indented like 'help' (unikraft staging's lib/ukdebug) are still help text, and
    # 'if unsure, say N' in them opens no block.
    text = (
        'config A\n\tbool "a"\n\thelp\n\tFirst line.\n\tif unsure, say N\n\n\t  deeper\n'
        "config B\n\tbool\n\t---help---\n\t\tTwo tabs.\n\tconfig NOT_HELP\n\t\tbool\n"
        "config C\n\tbool\n\thelp\nconfig D\n\tbool\n"
    )
    parsed = parse(text, "Config.uk")
    assert [(s.name, s.dep) for s in parsed.symbols] == [
        ("A", None),
        ("B", None),
        ("NOT_HELP", None),
        ("C", None),
        ("D", None),
    ]
    assert parsed.notes == ()


def test_bad_expressions_are_noted_and_ignored() -> None:
    parsed = parse("config A\n\tbool\n\tdepends on (B\n\tselect C if D &&\n", "Config.uk")
    assert parsed.symbols[0].dep is None and parsed.symbols[0].refs[0].cond is None
    assert parsed.notes == (
        "Config.uk:3: cannot read the expression '(B' (expression ends too early); ignored",
        "Config.uk:4: cannot read the expression 'D &&' (expression ends too early); ignored",
    )


def test_source_paths_stay_inside_the_project() -> None:
    loc = Location(file="Config.uk", line=1)

    def src(path: str, relative: bool = False) -> Source:
        return Source(path=path, loc=loc, relative=relative)

    core = {"UK_BASE": ""}
    assert resolve_source(src("$(UK_BASE)/lib/Config.uk"), including="Config.uk", variables=core) == "lib/Config.uk"
    assert (
        resolve_source(src("lib/ukboot/Config.uk"), including="lib/Config.uk", variables={}) == "lib/ukboot/Config.uk"
    )
    assert resolve_source(src("sub/Config.uk", True), including="lib/Config.uk", variables={}) == "lib/sub/Config.uk"
    assert resolve_source(src("$(UK_BASE)/lib/Config.uk"), including="Config.uk", variables={}) is None
    assert resolve_source(src("../other/Config.uk"), including="Config.uk", variables={}) is None
    assert resolve_source(src("/etc/Config.uk"), including="Config.uk", variables={}) is None


def test_load_project_follows_sources_with_if_context() -> None:
    files: Mapping[str, bytes] = {
        "Config.uk": b'if HAVE_X\nsource "$(UK_BASE)/lib/extra.uk"\nendif\nsource "$(NOPE)/x.uk"\n'
        b'osource "missing.uk"\nsource "gone.uk"\n',
        "lib/extra.uk": b"config EXTRA\n\tbool\n",
        "lib/a/Config.uk": b"config A\n\tbool\n",
    }
    pk = load_project("core", ["lib/a/Config.uk", "Config.uk"], files.get, variables={"UK_BASE": ""}, label="unikraft")
    assert [(s.name, s.requires, str(s.loc)) for s in pk.symbols] == [
        ("EXTRA", ("HAVE_X",), "unikraft/lib/extra.uk:1"),
        ("A", (), "unikraft/lib/a/Config.uk:1"),
    ]
    assert pk.files == ("Config.uk", "gone.uk", "lib/a/Config.uk", "lib/extra.uk", "missing.uk")
    assert pk.notes == ("unikraft/Config.uk:6: sourced file gone.uk is not in the project",)


def project(name: str, text: str) -> ProjectKconfig:
    parsed = parse(text, f"{name}/Config.uk")
    return ProjectKconfig(project=name, symbols=parsed.symbols, choices=parsed.choices)


CORE = project("unikraft", "config HAVE_LIBC\n\tbool\nconfig LIBUKALLOC\n\tbool\nconfig LIBUKDEBUG\n\tbool\n")


def test_discovery_across_three_levels_orders_dependencies_first() -> None:
    app = project("app", "config APPX\n\tbool\n\tdefault y\n\tselect LIBA\n")
    liba = project("lib-a", "menuconfig LIBA\n\tbool\n\tselect LIBB\n\tselect HAVE_LIBC\n\tdepends on LIBD\n")
    # lib-b's main symbol needs nothing; a default-y sub-option pulls in lib-c, and an option
    # that depends on a library nothing selects stays off. lib-a depends on LIBD, which the
    # defconfig turns on.
    libb = project(
        "lib-b",
        "config LIBB\n\tbool\nif LIBB\nconfig LIBB_NET\n\tbool\n\tdefault y\n\tselect LIBC\n"
        "config LIBB_UNUSED\n\tbool\n\tdefault y\n\tdepends on LIBUNUSED\nendif\n",
    )
    libc = project("lib-c", "config LIBC\n\tbool\n\timply LIBUKDEBUG\n")
    libd = project("lib-d", 'config LIBD\n\tbool "d"\n\timply LIBC\n')
    unused = project("lib-unused", "config LIBUNUSED\n\tbool\n")
    libs = [libc, unused, liba, libb, libd]
    found = discover(app=app, libraries=libs, core=CORE, defconfigs=[read_defconfig("CONFIG_LIBD=y\n", "x.config")])
    assert found.libraries == ("lib-c", "lib-b", "lib-d", "lib-a")
    assert found.unused == ("lib-unused",)
    assert found.missing == ()
    ties = {(e.source, e.target, e.kind, e.target_symbol) for e in found.edges}
    assert ties == {
        ("app", "lib-a", "select", "LIBA"),
        ("app", "lib-d", "defconfig", "LIBD"),
        ("lib-a", "lib-b", "select", "LIBB"),
        ("lib-a", "unikraft", "select", "HAVE_LIBC"),
        ("lib-a", "lib-d", "depends", "LIBD"),
        ("lib-b", "lib-c", "select", "LIBC"),
        ("lib-c", "unikraft", "imply", "LIBUKDEBUG"),
        ("lib-d", "lib-c", "imply", "LIBC"),
    }
    # Without LIBD, the app's select still turns LIBA on (Kconfig warns about the unmet
    # dependency), but LIBA's own selects carry its dependency and do nothing.
    found = discover(app=app, libraries=libs, core=CORE)
    assert (found.libraries, found.unused) == (("lib-a",), ("lib-c", "lib-unused", "lib-b", "lib-d"))


def test_stated_libraries_keep_manifest_order_and_count_their_top_level_selects() -> None:
    app = project("app", "config APP\n\tbool\n")
    l1 = project("lib-1", "config L1\n\tbool\n")
    l2 = project("lib-2", 'menuconfig L2\n\tbool "l2"\n\tselect L1\n')
    found = discover(app=app, libraries=[l2, l1], core=CORE, stated=["lib-2"])
    assert found.libraries == ("lib-1", "lib-2")
    assert any(e.kind == "stated" and e.target == "lib-2" for e in found.edges)


def test_a_select_of_an_undefined_symbol_is_reported_with_file_and_line() -> None:
    app = project(
        "app",
        "config APP\n\tbool\n\tdefault y\n\tselect LIBA\n\tselect LIBGHOST if LIBA\n\tselect NOT_NEEDED if OFF\n"
        "\timply LIBSHADOW\nconfig APP_OFF\n\tbool\n\tselect LIBNEVER\n",
    )
    liba = project("lib-a", "config LIBA\n\tbool\n")
    found = discover(app=app, libraries=[liba], core=CORE)
    assert found.libraries == ("lib-a",)
    assert [str(m) for m in found.missing] == [
        "app/Config.uk:5: app selects LIBGHOST, which no project in the manifest defines; ignored, as Kconfig does",
        "app/Config.uk:7: app implies LIBSHADOW, which no project in the manifest defines; ignored, as Kconfig does",
    ]


def test_defconfig_enables_library_symbols() -> None:
    app = project("app", "config APP\n\tbool\n")
    lwip = project("lib-lwip", 'config LIBLWIP\n\tbool "lwip"\n\tselect LIBUKALLOC\n')
    found = discover(
        app=app, libraries=[lwip], core=CORE, defconfigs=[read_defconfig("# x\nCONFIG_LIBLWIP=y\n", "x.config")]
    )
    assert found.libraries == ("lib-lwip",)
    assert [(e.kind, e.target_symbol, str(e.loc)) for e in found.edges if e.target == "lib-lwip"] == [
        ("defconfig", "LIBLWIP", "x.config:2")
    ]
    # Two targets: a library either of them turns on is on L=.
    off = read_defconfig("# CONFIG_LIBLWIP is not set\n", "y.config")
    assert discover(app=app, libraries=[lwip], core=CORE, defconfigs=[off]).libraries == ()
    on = read_defconfig("CONFIG_LIBLWIP=y\n", "x.config")
    assert discover(app=app, libraries=[lwip], core=CORE, defconfigs=[off, on]).libraries == ("lib-lwip",)


def test_select_cycle_keeps_manifest_order_with_a_warning() -> None:
    app = project("app", "config APP\n\tbool\n\tdefault y\n\tselect LA\n\tselect LB\n")
    la = project("lib-a", "config LA\n\tbool\n\tdepends on LB\n")
    lb = project("lib-b", "config LB\n\tbool\n\tdepends on LA\n")
    found = discover(app=app, libraries=[lb, la], core=CORE)
    assert found.libraries == ("lib-b", "lib-a")
    assert found.warnings == ("libraries select each other (lib-b, lib-a); they keep manifest order",)


CORE_TOP = """\
mainmenu "Unikraft/$(UK_FULLVERSION) Configuration"
config NO_APP
\tdef_bool $(shell,test $(UK_BASE) = $(UK_APP) && echo y || echo n)

menu "Library Configuration"
\tsource "$(shell,$(UK_BASE)/support/scripts/configure.sh -e '$(KCONFIG_LIB_DIR)')"
endmenu

menu "Build Options"
choice
\tprompt "Optimization level"
\tdefault OPTIMIZE_PERF
\thelp
\t  Set the optimization level

config OPTIMIZE_PERF
\tbool "Optimize for performance"
endchoice

comment "Hint: a CPU type helps"
\tdepends on OPTIMIZE_PERF && (MARCH_X86_64_GENERIC || MARCH_ARM64_GENERIC)
endmenu

if !NO_APP
\tmenu "Application Options"
\t\tsource "$(shell,$(UK_BASE)/support/scripts/configure.sh -a '$(KCONFIG_APP_DIR)')"
\tendmenu
endif
"""


def test_the_cores_generated_sources_and_macros_are_skipped_quietly() -> None:
    files = {"Config.uk": CORE_TOP.encode(), "lib/ukalloc/Config.uk": b"config LIBUKALLOC\n\tbool\n"}
    pk = load_project("unikraft", ["Config.uk", "lib/ukalloc/Config.uk"], files.get, variables={"UK_BASE": ""})
    assert [s.name for s in pk.symbols] == ["NO_APP", "OPTIMIZE_PERF", "LIBUKALLOC"]
    assert pk.notes == ()
    assert pk.symbols[0].defaults[0].value == ("const", "")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "config A",
                "menuconfig B",
                '\tbool "x"',
                "\tdefault y if C",
                "\tselect D if !E",
                "\tdepends on (F || G) && H",
                "if I",
                "endif",
                'menu "m"',
                "endmenu",
                "choice",
                "endchoice",
                "\thelp",
                "\t  text select Z",
                'source "x"',
                'comment "c"',
                "# comment",
                "",
                "garbage here",
                "\\",
                "config",
                "select",
                "imply J",
                "def_bool $(shell,x)",
            ]
        ),
        max_size=25,
    ),
    st.text(max_size=40),
)
def test_parser_never_fails_and_keeps_lines(lines: list[str], noise: str) -> None:
    text = "\n".join([*lines, noise])
    parsed = parse(text, "Config.uk")
    count = len(text.splitlines())
    for sym in parsed.symbols:
        assert 1 <= sym.loc.line <= max(count, 1)
        assert all(1 <= r.loc.line <= max(count, 1) for r in sym.refs)
        assert all(1 <= d.loc.line <= max(count, 1) for d in sym.defaults)


def test_a_choice_default_counts_as_enabled_by_default() -> None:
    text = (
        'menuconfig LIBNET\n\tbool\nif LIBNET\nchoice\n\tprompt "mode"\n\tdefault NET_THREADS\n'
        'config NET_LOOP\n\tbool "loop"\nconfig NET_THREADS\n\tbool "threads"\n\tselect LIBSCHED\nendchoice\nendif\n'
    )
    parsed = parse(text, "Config.uk")
    loop, threads = parsed.symbols[1:]
    assert (loop.choice, threads.choice, threads.requires) == ("Config.uk:4", "Config.uk:4", ("LIBNET",))
    assert [(c.members, c.defaults) for c in parsed.choices] == [
        (("NET_LOOP", "NET_THREADS"), (("NET_THREADS", None),))
    ]
    app = project("app", "config APP\n\tbool\n\tdefault y\n\tselect LIBNET\n")
    net = project("lib-net", text)
    sched = project("lib-sched", "config LIBSCHED\n\tbool\n")
    assert discover(app=app, libraries=[net, sched], core=CORE).libraries == ("lib-sched", "lib-net")
    # The user's choice in the defconfig wins over the choice's default.
    picked = read_defconfig("CONFIG_NET_LOOP=y\n", "x.config")
    assert discover(app=app, libraries=[net, sched], core=CORE, defconfigs=[picked]).libraries == ("lib-net",)
