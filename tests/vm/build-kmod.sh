#!/bin/bash
# Builds kmod/ (virthw.ko), or the test module foreignhv.ko, against one test kernel's headers, out of the source tree.
#
# Usage: tests/vm/build-kmod.sh [--foreignhv] KERNEL   (a name from tests/vm/kernels)
#   --foreignhv   build tests/vm/foreignhv/ (foreignhv.ko, the stand-in for
#                 an out-of-tree hypervisor) instead, in out/foreignhv/<kver>/
# Copies kmod/'s sources to tests/vm/out/kmod/<kver>/ (one directory per
# kernel, so two builds never share objects), runs
# `make -C /usr/src/linux-headers-<kver> M=<that dir> W=1` there, chrooted in
# the build root of the kernel's suite (buildroot.sh: that suite's libc and
# the compiler the headers were made with; the headers unpacked into it),
# and prints the path of the resulting virthw.ko on stdout (the build's
# output goes to stderr).  The kernel is fetched first if the cache lacks it.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

name=virthw src=$REPO_ROOT/kmod outsub=kmod
if [ "${1:-}" = --foreignhv ]; then
	name=foreignhv src=$VM_DIR/foreignhv outsub=foreignhv
	shift
fi
[ $# -eq 1 ] || die "usage: $0 [--foreignhv] KERNEL (one of: ${FLAVORS[*]})"
flavor=$1
check_kernel "$flavor"
kver=$(fetched_kver "$flavor")
kdir=/usr/src/linux-headers-$kver
compiler=$(cat "$(kernel_dir "$flavor")/compiler" 2>/dev/null) && [ -n "$compiler" ] ||
	die "$(kernel_dir "$flavor")/compiler is missing: run tests/vm/fetch-kernels.sh $flavor"
mapfile -t hdebs <"$(kernel_dir "$flavor")/headers.debs"
# The build root of the kernel's suite, with the compiler its headers name;
# the headers are unpacked into it (once per kernel release).
suite=$(kernel_field "$flavor" root)
# shellcheck disable=SC2046 # one word per package
broot=$("$VM_DIR/buildroot.sh" "$suite" $(root_kernel_packages "$compiler")) ||
	die "no $suite build root (output above)"
(
	flock 9
	if [ "$(cat "$broot/.virtd-headers-$kver" 2>/dev/null)" != "${hdebs[*]}" ]; then
		log "unpacking the headers of $kver into $broot"
		# Not dpkg -x: it would replace the root's merged-/usr symlinks (lib ->
		# usr/lib) with the directories of packages that still ship /lib.
		for d in "${hdebs[@]}"; do
			dpkg-deb --fsys-tarfile "$d" | tar -x -C "$broot" --keep-directory-symlink ||
				die "could not unpack $d into $broot"
		done
		echo "${hdebs[*]}" >"$broot/.virtd-headers-$kver"
	fi
) 9>"$broot.headers.lock"
[ -f "$broot$kdir/Makefile" ] || die "the headers of $kver left no $kdir/Makefile in $broot"
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
kmake() {
	in_root "$broot" "$build" make -C "$kdir" M=/work "$@" >&2
}
kmake W=1 modules || die "module build against $kver failed (output above)"
if [ -f "$build/$name.ko" ] && ! vermagic_ok; then
	# Objects from another kernel's build: start over.
	log "$build/$name.ko is not for $kver: rebuilding from clean"
	kmake clean
	kmake W=1 modules ||
		die "module build against $kver failed (output above)"
fi
[ -f "$build/$name.ko" ] || die "the build left no $build/$name.ko"
vermagic_ok || die "$build/$name.ko has vermagic '$(modinfo -F vermagic "$build/$name.ko")', not $kver"
echo "$build/$name.ko"
