#!/bin/sh
# The Xenstore stub domain of manifests/xenstore.xml built the way a user builds it: with ukws,
# from an empty folder, against local mirrors and without the network; then the no-op runs, and
# the image checked (size, undefined symbols, entry point, Xen ELF notes).
#
# Usage:
#   bench/xenstore_up.sh MIRROR ARCHIVES [WORKDIR]
#
#   MIRROR    one folder holding the four repositories under the names the manifest's URLs end
#             in (bare clones, or symlinks to them):
#               MIRROR/unikraft  MIRROR/lib-newlib  MIRROR/lib-pthread-embedded  MIRROR/xen.git
#             Both remotes are rewritten to it:
#               --rewrite https://github.com/unikraft/=file://MIRROR/
#               --rewrite https://xenbits.xen.org/git-http/=file://MIRROR/
#   ARCHIVES  folder with the libraries' origin archives:
#               newlib-2.5.0.20170922.tar.gz                   (sourceware's, or a git archive)
#               44b41d760a433915d70a7be9809651b0a65e001d.zip   (pthread-embedded)
#             A missing one is made with `git archive` when its repository is given:
#               NEWLIB_GIT            newlib's git repository (tag newlib-snapshot-20170922)
#               PTHREAD_EMBEDDED_GIT  pthread-embedded's git repository (commit 44b41d76...)
#   WORKDIR   where the workspace goes (default: ./xenstore-up); it is emptied first.
#
# UKWS names the ukws program (default: ukws on PATH). The pthread-embedded zip is seeded into the
# workspace's cache with `ukws fetch --add-origin`; the newlib archive is named by an <x-origin>
# in a local manifest (its own sha256: a git archive is not byte for byte sourceware's tarball, so
# lib-newlib's checksum would refuse it). That is what a site without internet access does.
#
# Needs: ukws, make, gcc, flex, bison, python3, unzip, patch, tar, gzip, binutils (readelf, nm, size).
set -u

if [ $# -lt 2 ]; then
	sed -n '2,/^set -u/p' "$0" | sed -e '/^set -u/d' -e 's/^# \{0,1\}//'
	exit 2
fi
abspath() { (cd "$1" && pwd); }
MIRROR=$(abspath "$1")
ARCHIVES=$(abspath "$2")
WORKDIR=${3:-xenstore-up}
UKWS=${UKWS:-ukws}

NEWLIB_TGZ=newlib-2.5.0.20170922.tar.gz
PTE_COMMIT=44b41d760a433915d70a7be9809651b0a65e001d
PTE_ZIP=$PTE_COMMIT.zip
if [ ! -f "$ARCHIVES/$NEWLIB_TGZ" ] && [ -n "${NEWLIB_GIT:-}" ]; then
	git -C "$NEWLIB_GIT" archive --prefix=newlib-2.5.0.20170922/ newlib-snapshot-20170922 \
		| gzip -n > "$ARCHIVES/$NEWLIB_TGZ"
fi
if [ ! -f "$ARCHIVES/$PTE_ZIP" ] && [ -n "${PTHREAD_EMBEDDED_GIT:-}" ]; then
	git -C "$PTHREAD_EMBEDDED_GIT" archive --format=zip --prefix="pthread-embedded-$PTE_COMMIT/" \
		"$PTE_COMMIT" > "$ARCHIVES/$PTE_ZIP"
fi
for f in "$NEWLIB_TGZ" "$PTE_ZIP"; do
	[ -f "$ARCHIVES/$f" ] || { echo "no $ARCHIVES/$f (see the usage: NEWLIB_GIT, PTHREAD_EMBEDDED_GIT)" >&2; exit 1; }
done

rm -rf "$WORKDIR"
mkdir -p "$WORKDIR"
W=$(abspath "$WORKDIR")
cd "$W" || exit 1

# timed COMMAND...: run it, then say its exit status and wall time.
timed() {
	start=$(date +%s.%N)
	"$@"
	rc=$?
	end=$(date +%s.%N)
	printf '[exit %s, %s s]\n' "$rc" "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')"
	return $rc
}
step() { printf '\n== %s\n' "$*"; }

step "ukws init (empty folder, remotes rewritten to $MIRROR)"
timed "$UKWS" init -m xenstore --rewrite "https://github.com/unikraft/=file://$MIRROR/" \
	--rewrite "https://xenbits.xen.org/git-http/=file://$MIRROR/" ws || exit 1
cd ws || exit 1

step "origin archives: seed pthread-embedded's zip, name newlib's archive in a local manifest"
cat > .ukws/local_manifests/origins.xml <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<manifest>
  <x-origin library="libnewlibc" url="http://sourceware.org/pub/newlib/$NEWLIB_TGZ"
            replacement="file://$ARCHIVES/$NEWLIB_TGZ"
            sha256="$(sha256sum "$ARCHIVES/$NEWLIB_TGZ" | cut -d' ' -f1)"/>
</manifest>
EOF
timed "$UKWS" fetch --add-origin "$ARCHIVES/$PTE_ZIP" || exit 1

step "ukws up (sync, resolve, pin, patch-app, fetch, build with make -jN)"
timed "$UKWS" up || exit 1
step "ukws build again (nothing changed)"
timed "$UKWS" build
step "ukws up again (nothing to do)"
timed "$UKWS" up
step "ukws run (prints how to start the image as the Xenstore domain)"
timed "$UKWS" run

B=build/xen.git/xen-x86_64
IMG=$B/xenstored_xen-x86_64
step "the image"
printf '  %-28s %s bytes\n' "$(basename "$IMG")" "$(stat -c %s "$IMG")" \
	"$(basename "$IMG").gz" "$(stat -c %s "$IMG.gz")"
size "$IMG" | sed 's/^/  /'
printf '  undefined symbols (nm -u on %s.dbg): %s\n' "$(basename "$IMG")" "$(nm -u "$IMG.dbg" | wc -l)"
readelf -h "$IMG" | grep -E 'Type|Machine|Entry' | sed 's/^ */  /'
printf '  entry symbol: %s\n' "$(nm "$IMG.dbg" | awk '$1 ~ /^0+$/ && $3 == "_libxenplat_start" { print $3 }')"
readelf -n "$IMG" | sed 's/^/  /'
