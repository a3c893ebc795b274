#!/bin/bash
# Runs the real-VirtualBox tests on one test kernel: fetches and builds what they need (from an empty cache too), boots the QEMU machine, and reports.
#
# Usage: tests/vm/vbox/run.sh [--console] [--scenario NAME] KERNEL   (a name from tests/vm/kernels)
# Steps: fetch.sh (virtualbox-dkms, virtualbox), build-vboxdrv.sh KERNEL,
# mkroot.sh (unstable with virtualbox, an ext4 image), the tiny VM's disk
# (bootsector.S, 1 MiB), an initramfs of additions (vboxdrv.ko, the modules
# the disk needs, the disk) appended to the daemon's image, and one QEMU boot
# (run-qemu.sh --daemon) of the scenario vbox-lock (the tests), or with
# --scenario vbox-demo the demo's VirtualBox part.  BUILDDIR (default: the
# repository root) holds the built userspace, as for run-qemu.sh.  Ends with
# "N passed, N failed, N skipped"; exit 0 only if nothing failed.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$(dirname "$0")/../common.sh"
# shellcheck source=common.sh
. "$VM_DIR/vbox/common.sh"

console=() scenario=vbox-lock
while [ $# -gt 1 ]; do
	case "$1" in
	--console) console=(--console); shift ;;
	--scenario) scenario=${2:?}; shift 2 ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || die "usage: $0 [--console] [--scenario vbox-lock|vbox-demo] KERNEL (one of: ${FLAVORS[*]})"
case "$scenario" in
vbox-*) [ -f "$VM_DIR/scenarios/$scenario.sh" ] || die "no scenario $scenario (tests/vm/scenarios/$scenario.sh)" ;;
*) die "--scenario takes a VirtualBox scenario (vbox-lock, vbox-demo), not '$scenario'" ;;
esac
flavor=$1
check_kernel "$flavor"
ensure_cache
for t in as ld cpio qemu-system-x86_64; do
	command -v "$t" >/dev/null || die "$t is missing: run scripts/install-deps.sh"
done
t0=$(date +%s)
kver=$(fetched_kver "$flavor")
ko=$("$VBOX_DIR/build-vboxdrv.sh" "$flavor") || die "tests/vm/vbox/build-vboxdrv.sh $flavor failed (output above)"
img=$("$VBOX_DIR/mkroot.sh") || die "tests/vm/vbox/mkroot.sh failed (output above)"
t1=$(date +%s)

out=$VM_OUT/vbox/$flavor
mkdir -p "$out"
stage=$(mktemp -d "$out/stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
# The tiny VM's disk: the boot sector, then zeros to 1 MiB.
as --32 -o "$stage/bootsector.o" "$VBOX_DIR/bootsector.S" ||
	die "could not assemble $VBOX_DIR/bootsector.S"
ld -m elf_i386 -e _start -Ttext=0x7c00 --oformat=binary -o "$stage/bootsector.bin" "$stage/bootsector.o" ||
	die "could not link the boot sector"
[ "$(stat -c %s "$stage/bootsector.bin")" = 512 ] || die "the boot sector is not 512 bytes"
add=$stage/root/vbox-test
mkdir -p "$add"
cp "$stage/bootsector.bin" "$add/disk.img"
truncate -s 1M "$add/disk.img"
cp "$ko" "$add/vboxdrv.ko"
cp "$VBOX_DIR/guest-lib.sh" "$add/lib.sh"
# The disk's modules, in load order (Debian's 6.12: virtio and virtio_pci
# are built in; ext4 asks the crypto API for crc32c).
moddir=$(readlink -f "$(kernel_dir "$flavor")/modules")
for m in crypto/crc32c_generic lib/crc16 fs/mbcache fs/jbd2/jbd2 fs/ext4/ext4 drivers/block/virtio_blk; do
	f=$(ls "$moddir/kernel/$m".ko* 2>/dev/null | head -n 1)
	[ -n "$f" ] || die "no kernel/$m.ko* in $moddir (kernel $kver)"
	n=$(basename "$m").ko
	case "$f" in
	*.xz) xz -dc "$f" >"$add/$n" ;;
	*.zst) zstd -dcq "$f" >"$add/$n" ;;
	*) cp "$f" "$add/$n" ;;
	esac
	echo "$n" >>"$add/modules.order"
done
extra=$out/additions.cpio
(cd "$stage/root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --quiet) >"$extra"
log "ready in $((t1 - t0)) s (vboxdrv $ko, root $img); booting $flavor"
t2=$(date +%s)
rc=0
"$VM_DIR/run-qemu.sh" --kernel "$flavor" --daemon --mem 2048 --timeout 900 \
	--append virtd.timeout=800 --initrd-extra "$extra" --disk "$img" "${console[@]}" "$scenario" || rc=$?
log "$flavor: preparation $((t1 - t0)) s, machine $(($(date +%s) - t2)) s, total $(($(date +%s) - t0)) s"
exit "$rc"
