#!/bin/bash
# The human-readable demo: boots a Debian kernel in QEMU and shows `virtctl hw` before, during and after a KVM VM, then virtd's status, a refused lock, a policy switch and the lock under boot.
#
# Usage: tests/vm/demo.sh [--kernel KERNEL] [--virtualbox]   (default 6.1)
# Fetches the kernel and builds virthw and the images when needed; the
# userspace comes from BUILDDIR (default: the repository root, built with
# ./autogen.sh && ./configure && make).  On 6.12 kvm is loaded with
# enable_virt_at_load=0, so the VM's effect shows as on 6.1.  Two boots:
# the module alone (about 15 s), then the daemon's image (about 40 s).
# --virtualbox adds part 3, a real VirtualBox 7.2 VM refused next to KVM and
# then running under virtd (Debian 12's 6.12 kernel): Debian's virtualbox
# packages are fetched and a root with them made once (a few minutes the
# first time, cached after), then one boot of 3-5 minutes.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

flavor=6.1 virtualbox=0
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) flavor=${2:?}; shift 2 ;;
	--virtualbox) virtualbox=1; shift ;;
	-h | --help) sed -n '2,12p' "$0"; exit 0 ;;
	*) die "unknown argument '$1' (usage: $0 [--kernel KERNEL] [--virtualbox])" ;;
	esac
done
check_kernel "$flavor"
builddir=${BUILDDIR:-$REPO_ROOT}
[ -x "$builddir/src/virtctl" ] ||
	die "no $builddir/src/virtctl: build the userspace (./autogen.sh && ./configure && make) or set BUILDDIR"

"$VM_DIR/fetch-kernels.sh" "$flavor" >/dev/null
# demo_boot SCENARIO: one machine, its console less the kernel's and the
# harness's own chatter.
demo_boot() {
	"$VM_DIR/run-qemu.sh" --kernel "$flavor" --console "$1" |
		sed -u -n -e "/^VIRTD-BEGIN: $1/,/^VIRTD-END: $1/{/^VIRTD-\(BEGIN\|END\|NOTE\)/d;/^VIRTD-TEST: PASS/d;p}" \
			-e '/^VIRTD-TEST: FAIL/p' -e '/^[0-9]* passed, /p'
	return "${PIPESTATUS[0]}"
}
rc=0
t0=$(date +%s)
log "part 1: the module alone; booting Debian's $(fetched_kver "$flavor") in QEMU (TCG, AMD SVM); this takes about 15 s"
demo_boot demo || rc=1
t1=$(date +%s)
log "part 2: virtd; booting the daemon's image; this takes about 40 s"
demo_boot daemon-demo || rc=1
t2=$(date +%s)
if [ "$virtualbox" = 1 ]; then
	log "part 3: a real VirtualBox VM next to KVM; fetching VirtualBox and making its root (cached after the first time), then one boot of 3-5 minutes"
	"$VM_DIR/vbox/run.sh" --console --scenario vbox-demo 6.12 |
		sed -u -n -e '/^VIRTD-BEGIN: vbox-demo/,/^VIRTD-END: vbox-demo/{/^VIRTD-\(BEGIN\|END\|NOTE\)/d;/^VIRTD-TEST: PASS/d;p}' \
			-e '/^VIRTD-TEST: FAIL/p' -e '/^[0-9]* passed, /p' -e '/^vbox\/run: /p' -e '/^run: /p'
	[ "${PIPESTATUS[0]}" = 0 ] || rc=1
	log "part 1 took $((t1 - t0)) s, part 2 $((t2 - t1)) s, part 3 $(($(date +%s) - t2)) s"
else
	log "part 1 took $((t1 - t0)) s, part 2 $((t2 - t1)) s (--virtualbox adds a real VirtualBox VM)"
fi
exit "$rc"
