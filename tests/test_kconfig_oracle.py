"""ukws's library discovery agrees with kconfiglib, the reference Kconfig implementation.

Each case is a Kconfig tree shaped like Unikraft's: a core whose top-level ``Config.uk`` sources
the architecture, the platforms, the libraries and the application through generated files (as
Unikraft's make does with ``KCONFIG_LIB_IN`` and friends), external libraries, an application and
a defconfig fragment. kconfiglib loads the tree and the fragment as ``make defconfig`` does; the
libraries with an enabled bool symbol are the ones the build compiles. ukws reads the same files
and must find exactly those libraries.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import kconfiglib  # type: ignore[import-untyped]  # kconfiglib ships no type information
import pytest

from ukws.kconfig.discovery import Discovery, discover
from ukws.kconfig.evaluate import read_defconfig
from ukws.kconfig.parse import load_project

CORE_TOP = """\
mainmenu "Unikraft/$(UK_FULLVERSION) Configuration"
config NO_APP
\tdef_bool $(shell,test $(UK_BASE) = $(UK_APP) && echo y || echo n)

menu "Architecture Selection"
\tsource "$(UK_BASE)/arch/Config.uk"
endmenu
menu "Platform Configuration"
\tsource "$(KCONFIG_PLAT_IN)"
endmenu
menu "Library Configuration"
\tsource "$(KCONFIG_LIB_IN)"
endmenu
if !NO_APP
\tmenu "Application Options"
\t\tsource "$(KCONFIG_APP_IN)"
\tendmenu
endif
"""
ARCH = """\
choice
\tprompt "Architecture"
\tdefault ARCH_X86_64
config ARCH_X86_64
\tbool "x86-64"
config ARCH_ARM_64
\tbool "Armv8"
endchoice
"""
PLAT = """\
menuconfig PLAT_KVM
\tbool "KVM guest"
\tdefault n
menuconfig PLAT_XEN
\tbool "Xen guest"
\tdefault n
if PLAT_XEN
config XEN_PV
\tbool "PV"
\tdefault n if ARCH_ARM_64
\tdefault y
\tselect LIBXENBUS if PLAT_XEN
endif
"""
CORE_LIB = """\
config HAVE_LIBC
\tbool
\tdefault n
config HAVE_SCHED
\tbool
\tdefault n
"""
CORE_LIBS = {
    "ukalloc": 'menuconfig LIBUKALLOC\n\tbool "ukalloc"\n\tdefault n\n',
    "ukdebug": (
        'menuconfig LIBUKDEBUG\n\tbool "ukdebug"\n\tdefault y\n\thelp\n\tDebugging.\n'
        "\tif unsure, say N\n\n\tMore text.\nif LIBUKDEBUG\nconfig LIBUKDEBUG_PRINTK\n\tbool\n"
        "\tdefault y\nendif\n"
    ),
    "uksched": 'menuconfig LIBUKSCHED\n\tbool "uksched"\n\tselect HAVE_SCHED\n',
    "syscall_shim": (
        'menuconfig LIBSYSCALL_SHIM\n\tbool "syscall shim"\n\tdefault n if !HAVE_LIBC\n\tdefault y\n'
        "\tdepends on LIBUKDEBUG\n"
    ),
}


def write_tree(
    root: Path,
    libs: Mapping[str, str],
    app: str,
    fragment: str,
    core_libs: Mapping[str, str] = CORE_LIBS,
    plat: str = PLAT,
) -> None:
    files = {
        "unikraft/Config.uk": CORE_TOP,
        "unikraft/arch/Config.uk": ARCH,
        "unikraft/plat/Config.uk": plat,
        "unikraft/lib/Config.uk": CORE_LIB,
        **{f"unikraft/lib/{name}/Config.uk": text for name, text in core_libs.items()},
        **{f"libs/{name}/Config.uk": text for name, text in libs.items()},
        "app/Config.uk": app,
        "defconfig": fragment,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    build = root / "build/kconfig"
    build.mkdir(parents=True, exist_ok=True)
    lib_in = [root / "unikraft/lib/Config.uk", *(root / f"unikraft/lib/{n}/Config.uk" for n in sorted(core_libs))]
    lib_in += [root / f"libs/{n}/Config.uk" for n in libs]
    (build / "libs.uk").write_text("".join(f'source "{p}"\n' for p in lib_in))
    (build / "plat.uk").write_text(f'source "{root / "unikraft/plat/Config.uk"}"\n')
    (build / "app.uk").write_text(f'source "{root / "app/Config.uk"}"\n')


@pytest.fixture
def kconfig_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    build = tmp_path / "build/kconfig"
    monkeypatch.setenv("UK_BASE", str(tmp_path / "unikraft"))
    monkeypatch.setenv("UK_APP", str(tmp_path / "app"))
    monkeypatch.setenv("UK_FULLVERSION", "0.13.1")
    monkeypatch.setenv("KCONFIG_LIB_IN", str(build / "libs.uk"))
    monkeypatch.setenv("KCONFIG_PLAT_IN", str(build / "plat.uk"))
    monkeypatch.setenv("KCONFIG_APP_IN", str(build / "app.uk"))
    monkeypatch.delenv("srctree", raising=False)
    return tmp_path


def oracle(root: Path, libs: Mapping[str, str]) -> set[str]:
    """The libraries kconfiglib turns on: those with an enabled bool symbol after defconfig."""
    kconf = kconfiglib.Kconfig(str(root / "unikraft/Config.uk"), warn=False)
    kconf.load_config(str(root / "defconfig"))
    found: set[str] = set()
    for sym in kconf.unique_defined_syms:
        if sym.type not in (kconfiglib.BOOL, kconfiglib.TRISTATE) or not sym.tri_value:
            continue
        for node in sym.nodes:
            for name in libs:
                if Path(node.filename).resolve() == (root / f"libs/{name}/Config.uk").resolve():
                    found.add(name)
    return found


def ukws_discover(root: Path, libs: Mapping[str, str]) -> Discovery:
    def reader(base: Path) -> Callable[[str], bytes | None]:
        return lambda rel: (base / rel).read_bytes() if (base / rel).is_file() else None

    core_files = sorted(str(p.relative_to(root / "unikraft")) for p in (root / "unikraft").rglob("Config.uk"))
    core = load_project("unikraft", core_files, reader(root / "unikraft"), variables={"UK_BASE": ""}, label="unikraft")
    projects = [load_project(f"lib-{n}", ["Config.uk"], reader(root / f"libs/{n}"), label=f"libs/{n}") for n in libs]
    app = load_project("app", ["Config.uk"], reader(root / "app"), variables={"APP_BASE": ""}, label="app")
    fragment = read_defconfig((root / "defconfig").read_text(), "defconfig")
    return discover(app=app, libraries=projects, core=core, defconfigs=[fragment])


def agree(root: Path, libs: Mapping[str, str], app: str, fragment: str = "") -> Discovery:
    """Write the tree, and check that ukws and kconfiglib turn on the same libraries."""
    write_tree(root, libs, app, fragment)
    expected = oracle(root, libs)
    found = ukws_discover(root, libs)
    assert set(found.libraries) == {f"lib-{n}" for n in expected}, (libs, app, fragment)
    return found


NEWLIB = """\
menuconfig LIBNEWLIBC
\tbool "newlib - a C standard library"
\tdefault n
\tselect HAVE_LIBC
\tselect LIBUKALLOC
\tselect LIBUKTIME
\tselect LIBPTHREAD_EMBEDDED if PLAT_KVM
\thelp
\tNewlib, with help lines indented like 'help'.
\tif unsure, say N
\tconfig NOT_A_SYMBOL

if LIBNEWLIBC
config LIBNEWLIBM
\tbool "libm"
\tdefault y
endif
"""
MUSL = 'menuconfig LIBMUSL\n\tbool "musl"\n\tselect HAVE_LIBC\n\tselect LIBKUALLOC\n'
PTHREAD = 'menuconfig LIBPTHREAD_EMBEDDED\n\tbool "pthread-embedded"\n\tselect LIBUKSCHED\n'
ZLIB = (
    'menuconfig LIBZLIB\n\tbool "zlib: compression library"\n\tdefault y\n\tdepends on HAVE_LIBC\n'
    "if LIBZLIB\nconfig LIBZLIB_TEST\n\tbool\n\tdefault n\nendif\n"
)
LWIP = 'menuconfig LIBLWIP\n\tbool "lwip"\n\tselect LIBUKSCHED\n'
PYTHON = (
    'menuconfig LIBPYTHON3\n\tbool "python3"\n\timply LIBMUSL\n\timply LIBLWIP\n'
    "\timply LIBCOMPILER_RT\n\tselect LIBUKALLOC\n"
)
RT = 'menuconfig LIBCOMPILER_RT\n\tbool "compiler-rt"\n\tdepends on HAVE_LIBC\n'
APP_NEWLIB = "config APPX\n\tbool\n\tdefault y\n\tselect LIBNEWLIBC\n"


def test_a_select_of_an_undefined_symbol_is_a_warning_and_the_rest_builds(kconfig_env: Path) -> None:
    found = agree(kconfig_env, {"newlib": NEWLIB, "musl": MUSL, "pthread-embedded": PTHREAD}, APP_NEWLIB)
    assert found.libraries == ("lib-newlib",)
    assert [str(m) for m in found.missing] == [
        "libs/newlib/Config.uk:6: lib-newlib selects LIBUKTIME, which no project in the manifest defines; "
        "ignored, as Kconfig does"
    ]
    found = agree(
        kconfig_env,
        {"newlib": NEWLIB, "musl": MUSL, "pthread-embedded": PTHREAD},
        "config APPX\n\tbool\n\tdefault y\n\tselect LIBMUSL\n\tselect LIBUKSCHED\n",
    )
    assert found.libraries == ("lib-musl",)
    assert [m.symbol for m in found.missing] == ["LIBKUALLOC"]


def test_help_text_ends_where_kconfig_ends_it(kconfig_env: Path) -> None:
    found = agree(kconfig_env, {"newlib": NEWLIB}, APP_NEWLIB)
    assert found.libraries == ("lib-newlib",)
    lib = load_project("lib-newlib", ["Config.uk"], {"Config.uk": NEWLIB.encode()}.get)
    assert [s.name for s in lib.symbols] == ["LIBNEWLIBC", "LIBNEWLIBM"]
    assert lib.symbols[1].dep == ("sym", "LIBNEWLIBC")  # 'if unsure' opened no block
    assert lib.notes == ()


def test_a_conditional_select_and_a_dependency_on_an_undefined_symbol(kconfig_env: Path) -> None:
    libs = {"newlib": NEWLIB, "pthread-embedded": PTHREAD}
    found = agree(kconfig_env, libs, APP_NEWLIB)
    assert found.libraries == ("lib-newlib",)  # select LIBPTHREAD_EMBEDDED if PLAT_KVM: off
    found = agree(kconfig_env, libs, APP_NEWLIB, "CONFIG_PLAT_KVM=y\n")
    assert found.libraries == ("lib-pthread-embedded", "lib-newlib")
    ghost = "config APPX\n\tbool\n\tdefault y\n\tdepends on LIBGHOST\n\tselect LIBNEWLIBC\n"
    found = agree(kconfig_env, libs, ghost)
    assert found.libraries == ()
    assert found.notes == (
        "app/Config.uk:4: APPX depends on LIBGHOST, which no project in the manifest defines; it is off, as in Kconfig",
    )


def test_default_y_libraries_with_their_dependencies_and_a_fragment_turning_them_off(kconfig_env: Path) -> None:
    libs = {"newlib": NEWLIB, "zlib": ZLIB}
    found = agree(kconfig_env, libs, "config APPX\n\tbool\n\tdefault y\n")
    assert found.libraries == ()  # no libc: zlib's dependency does not hold
    found = agree(kconfig_env, libs, APP_NEWLIB)
    assert found.libraries == ("lib-newlib", "lib-zlib")
    assert [(e.kind, e.target_symbol, e.loc.line if e.loc else 0) for e in found.edges if e.target == "lib-zlib"] == [
        ("default", "LIBZLIB", 3)
    ]
    found = agree(kconfig_env, libs, APP_NEWLIB, "# CONFIG_LIBZLIB is not set\n")
    assert found.libraries == ("lib-newlib",)


def test_imply_turns_a_library_on_unless_the_fragment_says_no(kconfig_env: Path) -> None:
    libs = {"musl": MUSL, "lwip": LWIP, "compiler-rt": RT, "python3": PYTHON}
    app = "config APPPY\n\tbool\n\tdefault y\n\tselect LIBPYTHON3\n"
    found = agree(kconfig_env, libs, app)
    assert found.libraries == ("lib-musl", "lib-lwip", "lib-compiler-rt", "lib-python3")
    assert {(e.source, e.target, e.kind) for e in found.edges if e.kind == "imply"} == {
        ("lib-python3", "lib-musl", "imply"),
        ("lib-python3", "lib-lwip", "imply"),
        ("lib-python3", "lib-compiler-rt", "imply"),
    }
    found = agree(kconfig_env, libs, app, "# CONFIG_LIBLWIP is not set\nCONFIG_LIBMUSL=n\n")
    assert found.libraries == ("lib-python3",)  # compiler-rt depends on a libc, and musl is off


def test_every_default_counts_with_its_condition(kconfig_env: Path) -> None:
    xenbus = 'menuconfig LIBXENBUS\n\tbool "xenbus"\n'
    assert agree(kconfig_env, {"xenbus": xenbus}, "", "CONFIG_PLAT_XEN=y\n").libraries == ("lib-xenbus",)
    assert agree(kconfig_env, {"xenbus": xenbus}, "", "CONFIG_PLAT_XEN=y\nCONFIG_ARCH_ARM_64=y\n").libraries == ()
    found = agree(
        kconfig_env,
        {"xenbus": xenbus, "zlib": ZLIB, "newlib": NEWLIB},
        "config APPX\n\tbool\n\tdefault y\n\tselect LIBSYSCALL_SHIM\n\tselect LIBXENBUS if LIBSYSCALL_SHIM\n",
    )
    assert found.libraries == ("lib-xenbus",)


# --------------------------------------------------------------------------- random trees

_CORE_SYMBOLS = ["HAVE_LIBC", "HAVE_SCHED", "LIBUKALLOC", "LIBUKDEBUG", "LIBUKSCHED", "ARCH_ARM_64", "PLAT_XEN"]


def _random_case(rng: random.Random) -> tuple[dict[str, str], str, str]:
    """Libraries, an application and a fragment, without dependency loops: every symbol has a
    rank; it depends on lower ranks and selects or implies higher ranks (or undefined symbols)."""
    count = rng.randint(2, 6)
    lib_syms = {f"l{i}": [f"LIBL{i}", *(f"LIBL{i}_OPT{j}" for j in range(rng.randint(0, 2)))] for i in range(count)}
    ranked = [*_CORE_SYMBOLS, *(s for syms in lib_syms.values() for s in syms), "APPX", "APPY", "GHOST"]
    rng.shuffle(ranked)
    a, b = ranked.index("LIBUKSCHED"), ranked.index("HAVE_SCHED")  # LIBUKSCHED selects HAVE_SCHED
    ranked[min(a, b)], ranked[max(a, b)] = "LIBUKSCHED", "HAVE_SCHED"
    rank = {s: i for i, s in enumerate(ranked)}

    def lower(sym: str) -> list[str]:
        return [s for s in ranked if rank[s] < rank[sym]]

    def higher(sym: str) -> list[str]:
        return [s for s in ranked if rank[s] > rank[sym] and not s.startswith("APP") and s not in _CORE_SYMBOLS[:2]]

    def cond(sym: str) -> str:
        pool = lower(sym)
        if not pool:
            return ""
        a = rng.choice(pool)
        shape = rng.randrange(5)
        if shape == 0:
            return f"!{a}"
        if shape == 1 and len(pool) > 1:
            return f"{a} && {rng.choice(pool)}"
        if shape == 2 and len(pool) > 1:
            return f"({a} || !{rng.choice(pool)})"
        return a

    def entry(sym: str, keyword: str = "config", parent: str | None = None) -> str:
        out = [f"{keyword} {sym}"]
        out.append(f'\tbool "{sym.lower()}"' if rng.random() < 0.7 else "\tbool")
        for _ in range(rng.randint(0, 2)):
            c = cond(sym)
            value = rng.choice(["y", "n", "y"])
            out.append(f"\tdefault {value} if {c}" if c and rng.random() < 0.5 else f"\tdefault {value}")
        if rng.random() < 0.4 and (c := cond(sym)):
            out.append(f"\tdepends on {c}")
        for kind in ("select", "imply"):
            for _ in range(rng.randint(0, 2)):
                targets = [t for t in higher(sym) if t != parent]
                if not targets:
                    break
                target = rng.choice(targets)
                c = cond(target) if rng.random() < 0.3 else ""
                if c and all(rank[s] < rank[target] for s in _names(c)):
                    out.append(f"\t{kind} {target} if {c}")
                else:
                    out.append(f"\t{kind} {target}")
        if rng.random() < 0.3:
            out += ["\thelp", "\tText indented like help.", "\tif unsure, say N", "", "\t  deeper"]
        return "\n".join(out) + "\n"

    libs: dict[str, str] = {}
    for name, syms in lib_syms.items():
        main, *opts = syms
        text = entry(main, "menuconfig")
        if opts:
            text += f"if {main}\n" + "".join(entry(o, parent=main) for o in opts if rank[o] > rank[main]) + "endif\n"
        libs[name] = text
    app = "".join(entry(s) for s in ("APPX", "APPY"))
    lines = []
    for sym in rng.sample(ranked, rng.randint(0, 4)):
        lines.append(rng.choice([f"CONFIG_{sym}=y", f"# CONFIG_{sym} is not set", f"CONFIG_{sym}=n"]))
    return libs, app, "\n".join(lines) + "\n"


def _names(expr: str) -> Iterator[str]:
    yield from (w for w in expr.replace("!", " ").replace("(", " ").replace(")", " ").split() if w.isupper())


@pytest.mark.parametrize("seed", range(80))
def test_random_trees_agree_with_kconfiglib(kconfig_env: Path, seed: int) -> None:
    libs, app, fragment = _random_case(random.Random(seed))
    agree(kconfig_env, libs, app, fragment)
