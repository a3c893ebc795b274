#!/bin/bash
# Runs the QEMU (AMD SVM, real kvm_amd) scenarios on the test kernels and prints the total.
#
# Usage: tests/vm/run-suite.sh [--jobs 1|2] [--smoke KERNEL]... [KERNEL...]
#   KERNEL          the full suite on it (names: tests/vm/kernels)
#   --smoke KERNEL  one boot: virthw's read side, every policy once, the lock once
#   (no kernel named: what the table's qemu column says for each kernel; 2 jobs)
# The full suite, per kernel: the virthw scenarios (busybox image), the
# daemon scenarios (daemon image: virtd as installed, dbus-daemon, udevd,
# kmod), the lock scenarios (daemon image) and the systemd-as-PID-1 scenario.
# Each VIRTD-TEST line is printed prefixed with its kernel; the last line is
# "N passed, N failed, N skipped".  Exit 0 only if nothing failed.
# Missing project inputs (virthw.ko, binaries) do not stop the run: the
# images are built without them and the checks that need them fail.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

# All scenarios in one boot per kernel: a boot costs ~10 s, a scenario a few.
SCENARIOS=vm-lifecycle,virt-at-load,hotplug,load-unload,badreq,probe-svm,netlink-attack
DAEMON_SCENARIOS=daemon-env,daemon-boot,daemon-first-vm,daemon-never,daemon-reload,daemon-status,daemon-crash,daemon-timer,daemon-probe,daemon-metrics,daemon-hypervisors,daemon-handoff,fault-matrix,daemon-load,daemon-polkit
SYSTEMD_SCENARIOS=systemd-admin,systemd-metrics
# The foreign-hypervisor lock (daemon image, with foreignhv.ko and foreign-hv).
LOCK_SCENARIOS=lock-foreignhv,lock-grant,lock-refuse,lock-release,lock-restart,lock-orphan,fault-kill,unprivileged
# The smoke boot (daemon image): the read side with a VM, each policy, the lock.
SMOKE_SCENARIOS=vm-lifecycle,daemon-boot,daemon-first-vm,daemon-never,lock-grant

jobs=2 full=() smoke=() table=1
while [ $# -gt 0 ]; do
	case "$1" in
	--jobs) jobs=${2:?}; shift 2 ;;
	--smoke) check_kernel "${2:?--smoke needs a kernel}"; smoke+=("$2"); table=0; shift 2 ;;
	-h | --help) sed -n '2,12p' "$0"; exit 0 ;;
	*) check_kernel "$1"; full+=("$1"); table=0; shift ;;
	esac
done
if [ "$table" = 1 ]; then
	mapfile -t full < <(kernels_with qemu full)
	mapfile -t smoke < <(kernels_with qemu smoke)
fi
kernels=("${full[@]}" "${smoke[@]}")

mkdir -p "$VM_OUT"
start=$(date +%s)
passed=0 failed=0 skipped=0
declare -A RUNLOG

tally() {	# tally KERNEL RUNLOG: print its lines prefixed, add its summary
	local k=$1 f=$2 line p fl s
	[ -f "$f" ] || { echo "VIRTD-TEST: [$k] FAIL $k/setup: no $f"; failed=$((failed + 1)); return; }
	grep -a '^VIRTD-TEST: ' "$f" | sed "s/^VIRTD-TEST: /VIRTD-TEST: [$k] /" || true
	line=$(grep -aE '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$f" | tail -n1 || true)
	if [ -z "$line" ]; then
		echo "VIRTD-TEST: [$k] FAIL $k/setup: the machine could not be prepared or booted:"
		sed 's/^/    /' "$f" | tail -n 15
		failed=$((failed + 1))
		return
	fi
	read -r p _ fl _ s _ <<<"$line"
	passed=$((passed + p)) failed=$((failed + fl)) skipped=$((skipped + s))
	grep -aE '^(run-qemu: .*qemu exit|VIRTD-NOTE: )' "$f" | sed "s/^/[$k] /" || true
}

if ! "$VM_DIR/fetch-kernels.sh" "${kernels[@]}" >"$VM_OUT/fetch-kernels.log" 2>&1; then
	for k in "${kernels[@]}"; do
		echo "VIRTD-TEST: [$k] FAIL $k/fetch: see $VM_OUT/fetch-kernels.log"
		failed=$((failed + 1))
	done
	sed 's/^/    /' "$VM_OUT/fetch-kernels.log" | tail -n 5
	echo "$passed passed, $failed failed, $skipped skipped"
	exit 1
fi

# Images first, one after the other (they share build-kmod's tree), then the
# boots: single-threaded TCG keeps one host core busy per machine, so with
# two cores two kernels boot side by side.
for k in "${kernels[@]}"; do
	"$VM_DIR/mkinitramfs.sh" --kernel "$k" --vendor amd --missing-ok --daemon \
		--out "$VM_OUT/initramfs-$k-amd-daemon.cpio" >"$VM_OUT/mkinitramfs-$k-daemon.log" 2>&1 || true
done
for k in "${full[@]}"; do
	"$VM_DIR/mkinitramfs.sh" --kernel "$k" --vendor amd --missing-ok \
		--out "$VM_OUT/initramfs-$k-amd.cpio" >"$VM_OUT/mkinitramfs-$k.log" 2>&1 || true
done
# Longest boots first, so that the two host cores stay busy to the end.
runs=()
for set in daemon lock systemd; do
	for k in "${full[@]}"; do
		runs+=("$k/$set")
	done
done
for k in "${smoke[@]}"; do
	runs+=("$k/smoke")
done
for k in "${full[@]}"; do
	runs+=("$k/base")
done
for r in "${runs[@]}"; do
	# A free core: start the next boot as soon as any one ends.
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n || true
	done
	k=${r%/*}
	# Limits: the machine's and, inside it, each scenario's (daemon-crash
	# takes ~3 min alone while the other machine shares the host).
	case "${r#*/}" in
	base) list=$SCENARIOS opts=() ;;
	daemon) list=$DAEMON_SCENARIOS opts=(--timeout 1200 --append virtd.timeout=600) ;;
	lock) list=$LOCK_SCENARIOS opts=(--daemon --timeout 900 --append virtd.timeout=300) ;;
	systemd) list=$SYSTEMD_SCENARIOS opts=(--timeout 480 --append virtd.timeout=400) ;;
	smoke) list=$SMOKE_SCENARIOS opts=(--daemon --timeout 900 --append virtd.timeout=300) ;;
	esac
	RUNLOG[$r]=$VM_OUT/suite-$k-${r#*/}.out
	"$VM_DIR/run-qemu.sh" --kernel "$k" --missing-ok "${opts[@]}" "$list" >"${RUNLOG[$r]}" 2>&1 &
done
wait
for r in "${runs[@]}"; do
	tally "${r%/*}" "${RUNLOG[$r]}"
done
echo "run-suite: ${kernels[*]} in $(($(date +%s) - start)) s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
