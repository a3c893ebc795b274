#!/bin/bash
# The human-readable demo: boots a Debian kernel in QEMU and shows `virtctl hw` before, during and after a KVM VM.
#
# Usage: tests/vm/demo.sh [--kernel KERNEL]   (default 6.1)
# Fetches the kernel and builds virthw and the image when needed; the
# userspace comes from BUILDDIR (default: the repository root, built with
# ./autogen.sh && ./configure && make).  On 6.12 kvm is loaded with
# enable_virt_at_load=0, so the VM's effect shows as on 6.1.
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
log "booting Debian's $(fetched_kver "$flavor") in QEMU (TCG, AMD SVM); this takes about 15 s"
# The console, less the kernel's and the harness's own chatter.
set +e
"$VM_DIR/run-qemu.sh" --kernel "$flavor" --console demo |
	sed -u -n -e '/^VIRTD-BEGIN: demo/,/^VIRTD-END: demo/{/^VIRTD-\(BEGIN\|END\|NOTE\)/d;/^VIRTD-TEST: PASS/d;p}' \
		-e '/^VIRTD-TEST: FAIL/p' -e '/^[0-9]* passed, /p'
rc=${PIPESTATUS[0]}
exit "$rc"
