#!/bin/bash
# Builds VirtualBox's host driver vboxdrv.ko from Debian's virtualbox-dkms sources against one test kernel, and prints its path.
#
# Usage: tests/vm/vbox/build-vboxdrv.sh KERNEL   (a name from tests/vm/kernels)
# The sources (fetch.sh) are copied to $VIRTD_TEST_CACHE/vbox/vboxdrv/KVER-KEY,
# KEY a digest of the sources' package, the kernel's headers and this script,
# and built there with `make -C vboxdrv KERN_DIR=... KERN_VER=...` chrooted in
# the kernel's build root (build-kmod.sh makes it and unpacks the headers
# into it).  VirtualBox's code, not ours: no W=1.  A build that is there is
# not made again.  The build's output goes to stderr and to build.log.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$(dirname "$0")/../common.sh"
# shellcheck source=common.sh
. "$VM_DIR/vbox/common.sh"

[ $# -eq 1 ] || die "usage: $0 KERNEL (one of: ${FLAVORS[*]})"
flavor=$1
check_kernel "$flavor"
kver=$(fetched_kver "$flavor")
src=$("$VBOX_DIR/fetch.sh") || die "tests/vm/vbox/fetch.sh failed (output above)"
key=$( { cat "$src/.unpacked" "$(kernel_dir "$flavor")/headers.debs" "$0"; } | sha256sum | cut -c1-12)
build=$VBOX_CACHE/vboxdrv/$kver-$key
ko=$build/vboxdrv/vboxdrv.ko
mkdir -p "$VBOX_CACHE/vboxdrv"
exec 9>"$build.lock"
flock 9
if [ -f "$build/.built" ] && [ -f "$ko" ]; then
	echo "$ko"
	exit 0
fi
# The kernel's build root with its headers: build-kmod.sh sets both up (and
# builds virthw, which the guest needs all the same).
"$VM_DIR/build-kmod.sh" "$flavor" >/dev/null || die "tests/vm/build-kmod.sh $flavor failed (output above)"
compiler=$(cat "$(kernel_dir "$flavor")/compiler")
# shellcheck disable=SC2046 # one word per package
broot=$("$VM_DIR/buildroot.sh" "$(kernel_field "$flavor" root)" $(root_kernel_packages "$compiler")) ||
	die "no build root for $flavor (output above)"
kdir=/usr/src/linux-headers-$kver
[ -f "$broot$kdir/Makefile" ] || die "no $kdir in $broot: run tests/vm/build-kmod.sh $flavor"
rm -rf "$build"
mkdir -p "$build"
cp -r "$src/." "$build/"
log "building vboxdrv.ko ($(cat "$src/.unpacked")) for $kver in $build"
t0=$(date +%s)
in_root "$broot" "$build" make -C vboxdrv KERN_DIR="$kdir" KERN_VER="$kver" -j2 >"$build/build.log" 2>&1 ||
	{ tail -n 30 "$build/build.log" >&2; die "vboxdrv build against $kver failed (log: $build/build.log)"; }
[ -f "$ko" ] || die "the build left no $ko (log: $build/build.log)"
vm=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
[ "$vm" = "$kver" ] || die "$ko has vermagic '$vm', not $kver"
touch "$build/.built"
log "vboxdrv.ko $(modinfo -F version "$ko") for $kver built in $(($(date +%s) - t0)) s"
echo "$ko"
