#!/bin/bash
# Runs the real-VirtualBox driver test on Intel VMX (Bochs): vboxdrv.ko built for one kernel, loaded next to kvm_intel under virtd, scenario bochs-vbox.
#
# Usage: tests/vm/vbox/run-bochs.sh [--console] [--vm] [KERNEL]   (default trixie-bpo)
# Steps: build-vboxdrv.sh KERNEL (fetch.sh first, from an empty cache too), an
# initramfs of additions (/vbox-test/vboxdrv.ko) appended to the daemon's
# Intel image, and one Bochs boot (tests/vm/bochs/run-bochs.sh --daemon) of
# the scenario bochs-vbox: the driver and virtd.  --vm adds VirtualBox's
# ring 3 (mkring3.sh: ~90 MB in /vbox-test/root, a machine of 1.5 GiB) and
# its part of the scenario: VBoxVMMPreload and VBoxHeadless with the tiny VM.
# BUILDDIR (default: the repository root) holds the built userspace.  Ends
# with "N passed, N failed, N skipped"; exit 0 only if nothing failed.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$(dirname "$0")/../common.sh"
# shellcheck source=common.sh
. "$VM_DIR/vbox/common.sh"

console=() vm=0
while [ $# -gt 0 ]; do
	case $1 in
	--console) console=(--console); shift ;;
	--vm) vm=1; shift ;;
	*) break ;;
	esac
done
[ $# -le 1 ] || die "usage: $0 [--console] [--vm] [KERNEL] (one of: ${FLAVORS[*]}; default trixie-bpo)"
flavor=${1:-trixie-bpo}
check_kernel "$flavor"
ensure_cache
for t in cpio bochs; do
	command -v "$t" >/dev/null || die "$t is missing: run scripts/install-deps.sh"
done
t0=$(date +%s)
ko=$("$VBOX_DIR/build-vboxdrv.sh" "$flavor") || die "tests/vm/vbox/build-vboxdrv.sh $flavor failed (output above)"
ring3='' mem=()
if [ "$vm" = 1 ]; then
	ring3=$("$VBOX_DIR/mkring3.sh") || die "tests/vm/vbox/mkring3.sh failed (output above)"
	mem=(--mem 1536)
fi
t1=$(date +%s)

out=$VM_OUT/vbox/bochs-$flavor
mkdir -p "$out"
stage=$(mktemp -d "$out/stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/root/vbox-test"
cp "$ko" "$stage/root/vbox-test/vboxdrv.ko"
[ -z "$ring3" ] || cp -a "$ring3" "$stage/root/vbox-test/root"
extra=$out/additions.cpio
(cd "$stage/root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --quiet) >"$extra"
log "ready in $((t1 - t0)) s (vboxdrv $ko); booting $flavor in Bochs"
t2=$(date +%s)
rc=0
# Bochs's emulated time runs 2x to 10x slower than the wall clock (see
# tests/vm/bochs/run-suite.sh): a wall limit of 25 min (60 with --vm), the
# guest's own 400 s (1800).
limit=1500 guest=400
[ "$vm" = 0 ] || limit=3600 guest=1800
"$VM_DIR/bochs/run-bochs.sh" --kernel "$flavor" --daemon --timeout "$limit" --append "virtd.timeout=$guest" \
	--initrd-extra "$extra" "${mem[@]}" "${console[@]}" bochs-vbox || rc=$?
log "$flavor: preparation $((t1 - t0)) s, Bochs $(($(date +%s) - t2)) s, total $(($(date +%s) - t0)) s"
exit "$rc"
