#!/bin/bash
# Builds kmod/ (virthw.ko), or the test module foreignhv.ko, against one test kernel's headers, out of the source tree.
#
# Usage: tests/vm/build-kmod.sh [--foreignhv] <6.1|6.12>
#   --foreignhv   build tests/vm/foreignhv/ (foreignhv.ko, the stand-in for
#                 an out-of-tree hypervisor) instead, in out/foreignhv/<kver>/
# Copies kmod/'s sources to tests/vm/out/kmod/<kver>/ (one directory per
# kernel, so the two builds never share objects), runs
# `make -C /usr/src/linux-headers-<kver> M=<that dir> W=1` there and prints the
# path of the resulting virthw.ko on stdout (the build's output goes to stderr).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

name=virthw src=$REPO_ROOT/kmod outsub=kmod
if [ "${1:-}" = --foreignhv ]; then
	name=foreignhv src=$VM_DIR/foreignhv outsub=foreignhv
	shift
fi
[ $# -eq 1 ] || die "usage: $0 [--foreignhv] <${FLAVORS[*]// /|}>"
flavor=$1
image_meta "$flavor" >/dev/null
kver=$(fetched_kver "$flavor")
kdir=/usr/src/linux-headers-$kver
[ -f "$kdir/Makefile" ] ||
	die "no headers in $kdir: run scripts/install-deps.sh (or apt-get install $(headers_meta "$flavor"))"
if [ "$flavor" != 6.1 ] && ! command -v pahole >/dev/null; then
	die "pahole is missing (6.12's headers need it for BTF): apt-get install dwarves"
fi
[ -f "$src/Kbuild" ] || die "no $src/Kbuild: the module's sources are missing"

build=$VM_OUT/$outsub/$kver
mkdir -p "$build"
# One build per directory at a time (the suite, the demo and a developer may
# run side by side).
exec 9>"$build.lock"
flock 9
# Mirror the sources, keeping mtimes so that kbuild rebuilds only what changed;
# sources removed from kmod/ are removed from the copy.
(cd "$src" && find . -type f \( -name '*.c' -o -name '*.h' -o -name '*.S' -o -name Kbuild -o -name Makefile \)) |
	sort >"$build/.sources.new"
while IFS= read -r f; do
	if ! cmp -s "$src/$f" "$build/$f"; then
		mkdir -p "$(dirname "$build/$f")"
		cp -p "$src/$f" "$build/$f"
	fi
done <"$build/.sources.new"
if [ -f "$build/.sources" ]; then
	comm -23 "$build/.sources" "$build/.sources.new" | while IFS= read -r f; do
		rm -f "$build/$f" "$build/${f%.c}.o"
	done
fi
mv "$build/.sources.new" "$build/.sources"

vermagic_ok() {
	[ "$(modinfo -F vermagic "$build/$name.ko" 2>/dev/null | cut -d' ' -f1)" = "$kver" ]
}
log "building $name.ko for $kver in $build"
make -C "$kdir" M="$build" W=1 modules >&2 ||
	die "module build against $kver failed (output above)"
if [ -f "$build/$name.ko" ] && ! vermagic_ok; then
	# Objects from another kernel's build: start over.
	log "$build/$name.ko is not for $kver: rebuilding from clean"
	make -C "$kdir" M="$build" clean >&2
	make -C "$kdir" M="$build" W=1 modules >&2 ||
		die "module build against $kver failed (output above)"
fi
[ -f "$build/$name.ko" ] || die "the build left no $build/$name.ko"
vermagic_ok || die "$build/$name.ko has vermagic '$(modinfo -F vermagic "$build/$name.ko")', not $kver"
echo "$build/$name.ko"
