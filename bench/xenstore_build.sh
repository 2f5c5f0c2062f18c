#!/bin/sh
# Build the Xenstore stub domain of manifests/xenstore.xml with plain git, patch and make,
# and report build time, image size and the image's Xen ELF notes.
#
# This is what `ukws up -m xenstore --rewrite ...` (sync, fetch, patch-app, build) does for
# that manifest, spelled out step by step so the result can be measured and reproduced
# without ukws.
#
# Usage:
#   bench/xenstore_build.sh [-j JOBS] MIRRORS ARCHIVES [WORKDIR]
#
#   MIRRORS   folder with the repositories, laid out as the manifest's remotes:
#               MIRRORS/unikraft/unikraft[.git]
#               MIRRORS/unikraft/lib-newlib[.git]
#               MIRRORS/unikraft/lib-pthread-embedded[.git]
#               MIRRORS/xen/xen[.git]
#             (the same folders `--rewrite https://github.com/unikraft/=file:///MIRRORS/unikraft/`
#             and `--rewrite https://xenbits.xen.org/git-http/=file:///MIRRORS/xen/` point at).
#             Each repository may also be given on its own, overriding MIRRORS:
#               UNIKRAFT_REPO, NEWLIB_REPO, PTHREAD_EMBEDDED_REPO, XEN_REPO (path or git URL).
#   ARCHIVES  folder with the libraries' origin archives, named as Unikraft's make downloads them:
#               newlib-2.5.0.20170922.tar.gz
#               44b41d760a433915d70a7be9809651b0a65e001d.zip   (pthread-embedded)
#             A missing archive is made with `git archive` when its upstream repository is given:
#               NEWLIB_GIT            newlib's git repository (tag newlib-snapshot-20170922)
#               PTHREAD_EMBEDDED_GIT  pthread-embedded's git repository (commit 44b41d76...)
#   WORKDIR   where trees and build output go (default: ./xenstore-build); it is emptied first.
#
# Nothing is downloaded: make runs with WGET=false. When the newlib archive is not byte for
# byte sourceware's release tarball (a `git archive` of the same snapshot is not), its own
# sha256 is passed as LIBNEWLIBC_ORIGIN_SHA256, and the script says so.
#
# Needs: git, patch, make, gcc, flex, bison, python3 (xen/foreign headers), unzip, binutils.
set -eu

JOBS=2
if [ "${1:-}" = "-j" ]; then JOBS=$2; shift 2; fi
if [ $# -lt 2 ]; then
	sed -n '2,/^set -eu/p' "$0" | sed -e '/^set -eu/d' -e 's/^# \{0,1\}//'
	exit 2
fi

abspath() { (cd "$1" && pwd); }
MIRRORS=$1
ARCHIVES=$(abspath "$2")
WORKDIR=${3:-xenstore-build}

HERE=$(cd "$(dirname "$0")/.." && pwd)
MANIFEST=$HERE/manifests/xenstore.xml
FRAGMENT=$HERE/manifests/xenstore/xen-x86_64.config

UK_TAG=RELEASE-0.13.1
XEN_TAG=RELEASE-4.19.0
NEWLIB_VERSION=2.5.0.20170922
NEWLIB_TAG=newlib-snapshot-20170922
PTE_COMMIT=44b41d760a433915d70a7be9809651b0a65e001d

# repo NAME REMOTE_FOLDER OVERRIDE: the repository to clone
repo() {
	if [ -n "$3" ]; then echo "$3"; return; fi
	for cand in "$MIRRORS/$2/$1" "$MIRRORS/$2/$1.git"; do
		if [ -d "$cand" ]; then abspath "$cand"; return; fi
	done
	echo "no repository $1 under $MIRRORS/$2 (set it explicitly)" >&2
	exit 1
}
UNIKRAFT_SRC=$(repo unikraft unikraft "${UNIKRAFT_REPO:-}")
NEWLIB_SRC=$(repo lib-newlib unikraft "${NEWLIB_REPO:-}")
PTE_SRC=$(repo lib-pthread-embedded unikraft "${PTHREAD_EMBEDDED_REPO:-}")
XEN_SRC=$(repo xen xen "${XEN_REPO:-}")

rm -rf "$WORKDIR"
mkdir -p "$WORKDIR"
W=$(abspath "$WORKDIR")
UK=$W/unikraft
LIBS=$W/libs
XEN=$W/xen
APP=$XEN/tools/xenstored
B=$W/build

step() { printf '\n== %s\n' "$*"; }

step "checking out trees"
git clone -q "$UNIKRAFT_SRC" "$UK"
git -C "$UK" -c advice.detachedHead=false checkout -q "$UK_TAG"
git clone -q "$NEWLIB_SRC" "$LIBS/newlib"
git -C "$LIBS/newlib" -c advice.detachedHead=false checkout -q "$UK_TAG"
git clone -q "$PTE_SRC" "$LIBS/pthread-embedded"
git -C "$LIBS/pthread-embedded" -c advice.detachedHead=false checkout -q "$UK_TAG"
git clone -q --no-checkout "$XEN_SRC" "$XEN"
git -C "$XEN" -c advice.detachedHead=false checkout -q "$XEN_TAG"
for t in "$UK" "$LIBS/newlib" "$LIBS/pthread-embedded" "$XEN"; do
	printf '  %-40s %s\n' "${t#$W/}" "$(git -C "$t" describe --tags --always)"
done

step "applying the manifest's patches (checking their sha256)"
for rel in $(sed -n 's/.*<x-patch path="\([^"]*\)".*/\1/p' "$MANIFEST"); do
	want=$(grep -A1 "path=\"$rel\"" "$MANIFEST" | sed -n 's/.*sha256="\([0-9a-f]*\)".*/\1/p')
	have=$(sha256sum "$HERE/manifests/$rel" | cut -d' ' -f1)
	if [ "$want" != "$have" ]; then
		echo "  $rel: sha256 $have, manifest says $want" >&2
		exit 1
	fi
	patch -s -p1 -d "$XEN" < "$HERE/manifests/$rel"
	echo "  $rel"
done

step "origin archives"
mkdir -p "$B/libnewlibc" "$B/libpthread-embedded"
NEWLIB_TGZ=newlib-$NEWLIB_VERSION.tar.gz
PTE_ZIP=$PTE_COMMIT.zip
if [ ! -f "$ARCHIVES/$NEWLIB_TGZ" ] && [ -n "${NEWLIB_GIT:-}" ]; then
	git -C "$NEWLIB_GIT" archive --prefix="newlib-$NEWLIB_VERSION/" "$NEWLIB_TAG" \
		| gzip -n > "$ARCHIVES/$NEWLIB_TGZ"
fi
if [ ! -f "$ARCHIVES/$PTE_ZIP" ] && [ -n "${PTHREAD_EMBEDDED_GIT:-}" ]; then
	git -C "$PTHREAD_EMBEDDED_GIT" archive --format=zip \
		--prefix="pthread-embedded-$PTE_COMMIT/" "$PTE_COMMIT" > "$ARCHIVES/$PTE_ZIP"
fi
cp "$ARCHIVES/$NEWLIB_TGZ" "$B/libnewlibc/"
cp "$ARCHIVES/$PTE_ZIP" "$B/libpthread-embedded/"
NEWLIB_SHA=$(sha256sum "$ARCHIVES/$NEWLIB_TGZ" | cut -d' ' -f1)
LIB_SHA=$(sed -n 's/^LIBNEWLIBC_ORIGIN_SHA256=//p' "$LIBS/newlib/Makefile.uk")
SHA_OVERRIDE=
if [ "$NEWLIB_SHA" != "$LIB_SHA" ]; then
	echo "  $NEWLIB_TGZ is not the release tarball lib-newlib names ($LIB_SHA);"
	echo "  building with its own checksum $NEWLIB_SHA"
	SHA_OVERRIDE="LIBNEWLIBC_ORIGIN_SHA256=$NEWLIB_SHA"
fi

MAKE_ARGS="-C $UK A=$APP L=$LIBS/pthread-embedded:$LIBS/newlib O=$B C=$B/.config WGET=false"

step "defconfig ($(basename "$FRAGMENT"))"
make $MAKE_ARGS UK_DEFCONFIG="$FRAGMENT" defconfig > "$W/defconfig.log" 2>&1 \
	|| { tail -20 "$W/defconfig.log"; exit 1; }
grep -E '^CONFIG_(PLAT_XEN|APPXENSTORED|LIBNEWLIBC|LIBPTHREAD_EMBEDDED|XEN_GNTTAB)=|XEN_XENBUS' "$B/.config" \
	| sed 's/^/  /'

step "build (make -j$JOBS; log in build.log)"
start=$(date +%s.%N)
# shellcheck disable=SC2086  # MAKE_ARGS and SHA_OVERRIDE are word lists
if ! make $MAKE_ARGS $SHA_OVERRIDE -j"$JOBS" > "$W/build.log" 2>&1; then
	grep -E 'error|undefined reference' "$W/build.log" | head -30
	echo "build failed, see $W/build.log" >&2
	exit 1
fi
end=$(date +%s.%N)

IMG=$B/xenstored_xen-x86_64
step "result"
printf '  build time     %s s (make -j%s, from unpacking the archives to the image)\n' \
	"$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')" "$JOBS"
printf '  image          %s: %s bytes (gzip: %s bytes)\n' "$(basename "$IMG")" \
	"$(stat -c %s "$IMG")" "$(stat -c %s "$IMG.gz")"
printf '  undefined      %s symbols (nm -u on the unstripped image)\n' \
	"$(nm -u "$IMG.dbg" | wc -l)"
echo "  size:"
size "$IMG" | sed 's/^/    /'
echo "  readelf -n:"
readelf -n "$IMG" | sed 's/^/    /'
echo "  Xen ELF notes (types of xen/include/public/elfnote.h):"
readelf -n "$IMG" | python3 -c '
import re, sys
names = ("ENTRY HYPERCALL_PAGE VIRT_BASE PADDR_OFFSET XEN_VERSION GUEST_OS GUEST_VERSION "
         "LOADER PAE_MODE FEATURES BSD_SYMTAB HV_START_LOW L1_MFN_VALID SUSPEND_CANCEL "
         "INIT_P2M MOD_START_PFN SUPPORTED_FEATURES PHYS32_ENTRY").split()
known = {"NT_VERSION": 1, "NT_ARCH": 2}  # readelf names types 1 and 2 generically
kind = None
for line in sys.stdin:
    f = line.split()
    if f and f[0] == "Xen":
        m = re.search(r"\(0x([0-9a-f]+)\)", line)
        kind = int(m.group(1), 16) if m else known.get(f[2])
    elif "description data:" in line and kind:
        data = bytes(int(x, 16) for x in line.split(":", 1)[1].split())
        text = data.rstrip(b"\0")
        if text and all(32 <= c < 127 for c in text):
            value = "\"%s\"" % text.decode()
        else:
            value = hex(int.from_bytes(data, "little"))
        print("    XEN_ELFNOTE_%-14s %s" % (names[kind - 1], value))
'
echo "  compiler warnings in build.log: $(grep -c ': warning:' "$W/build.log")"
