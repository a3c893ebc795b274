#!/bin/bash
# The human-readable demo: boots a Debian kernel in QEMU and shows `virtctl hw` before, during and after a KVM VM, then virtd's status, a refused lock, a policy switch and the lock under boot.
#
# Usage: tests/vm/demo.sh [--kernel KERNEL]   (default 6.1)
# Fetches the kernel and builds virthw and the images when needed; the
# userspace comes from BUILDDIR (default: the repository root, built with
# ./autogen.sh && ./configure && make).  On 6.12 kvm is loaded with
# enable_virt_at_load=0, so the VM's effect shows as on 6.1.  Two boots:
# the module alone (about 15 s), then the daemon's image (about 40 s).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

flavor=6.1
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) flavor=${2:?}; shift 2 ;;
	-h | --help) sed -n '2,8p' "$0"; exit 0 ;;
	*) die "unknown argument '$1' (usage: $0 [--kernel KERNEL])" ;;
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
log "part 1 took $((t1 - t0)) s, part 2 $(($(date +%s) - t1)) s"
exit "$rc"
