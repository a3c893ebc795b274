#!/bin/bash
# Owns the Bochs (Intel VMX) suite: every tests/vm/scenarios/bochs-*.sh in one boot per kernel.
#
# Usage: tests/vm/bochs/run-suite.sh [--jobs 1|2] [--smoke KERNEL]... [KERNEL...]
#   KERNEL          every bochs-* scenario on it (names: tests/vm/kernels)
#   --smoke KERNEL  the smoke set on it: bochs-vmx and bochs-daemon-policy
#   (no kernel named: what the table's bochs column says for each kernel)
# Prints each VIRTD-TEST line prefixed with [bochs-<kernel>]; the last line
# is "N passed, N failed, N skipped". Exit 0 only if nothing failed.
# A boot costs about a minute and a half before the first scenario, so all
# of a kernel's scenarios share one boot.
# The boot uses the daemon's image (mkinitramfs.sh --daemon: virtd as
# installed, dbus-daemon, udevd, kmod), which the virthw-only scenarios
# (bochs-vmx) run on as well: its extra 20 MB cost ~15 s of loading, a
# second boot with the busybox image ~80 s more.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=$root/tests/vm/out/bochs

# The kernel matrix and its helpers (check_kernel, kernels_with).
# shellcheck source=../common.sh
. "$here/../common.sh"

# The smoke set: virthw's read side and VMX run path, and every policy once.
SMOKE=(bochs-vmx bochs-daemon-policy)

runs=() jobs=1 table=1
while [ $# -gt 0 ]; do
	case $1 in
	--jobs) jobs=${2:?--jobs needs 1 or 2}; shift 2 ;;
	--smoke) check_kernel "${2:?--smoke needs a kernel}"; runs+=("$2/smoke"); table=0; shift 2 ;;
	-h|--help) sed -n '4,14s/^# \{0,1\}//p' "$0"; exit 0 ;;
	-*) echo "run-suite: unknown option '$1'" >&2; exit 2 ;;
	*) check_kernel "$1"; runs+=("$1/full"); table=0; shift ;;
	esac
done
if [ "$table" = 1 ]; then
	for k in $(kernels_with bochs full); do runs+=("$k/full"); done
	for k in $(kernels_with bochs smoke); do runs+=("$k/smoke"); done
fi

scenarios=()
for f in "$root"/tests/vm/scenarios/bochs-*.sh; do
	[ -e "$f" ] || continue
	n=${f##*/}
	scenarios+=("${n%.sh}")
done
if [ ${#scenarios[@]} -eq 0 ]; then
	echo "run-suite: no tests/vm/scenarios/bochs-*.sh to run" >&2
	exit 2
fi

# A hang inside the guest is the guest's to catch: it gives each scenario
# PER_SCENARIO seconds of its own (emulated) time (virtd.timeout) and fails
# one that runs past it; a dead kernel panics and reboots, which
# run-bochs.sh stops at once.  The host's wall-clock limit is the last
# resort, for Bochs itself stuck: emulated time runs 2x (quiet host) to 10x
# (measured with 8 runnable tasks on 2 cores) slower than the wall clock,
# and each scenario takes about a minute of emulated time, so the limit
# gives BOOT_WALL for getting to /init (~90 s quiet) and SCENARIO_WALL per
# scenario.
PER_SCENARIO=400
BOOT_WALL=900
SCENARIO_WALL=900
limit=$((BOOT_WALL + SCENARIO_WALL * ${#scenarios[@]}))

mkdir -p "$out"
start=$(date +%s)
passed=0 failed=0 skipped=0
# One boot per kernel; with --jobs 2 two kernels boot side by side (Bochs
# keeps one host core busy; its emulated time does not depend on the host).
boot() {	# boot KERNEL full|smoke LOG
	local list=("${scenarios[@]}") rc=0
	[ "$2" = smoke ] && list=("${SMOKE[@]}")
	"$here/run-bochs.sh" --kernel "$1" --daemon --timeout $((BOOT_WALL + SCENARIO_WALL * ${#list[@]})) \
		--append "virtd.timeout=$PER_SCENARIO" "${list[@]}" >"$3" 2>&1 || rc=$?
	echo "$rc" >"$3.rc"
}
for r in "${runs[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n || true
	done
	k=${r%/*}
	rm -f "$out/suite-$k.out.rc"
	boot "$k" "${r#*/}" "$out/suite-$k.out" &
done
wait
for r in "${runs[@]}"; do
	k=${r%/*}
	label=bochs-$k
	log=$out/suite-$k.out
	rc=$(cat "$log.rc" 2>/dev/null || echo 1)
	sed -n "s/^VIRTD-TEST: /VIRTD-TEST: [$label] /p" "$log"
	summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$log" | tail -n 1 || true)
	if [ -z "$summary" ]; then
		echo "VIRTD-TEST: [$label] FAIL $label/setup: the machine could not be prepared or booted:"
		tail -n 15 "$log" | sed 's/^/    /'
		failed=$((failed + 1))
		continue
	fi
	read -r p _ f _ s _ <<<"$summary"
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	# A run can fail with no FAIL line: no verdict (hang, panic, lost
	# console output) or a verdict that disagrees with the lines.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		why=$(grep '^run-bochs.sh: ' "$log" | grep -v -e ': booting ' -e ': disk image unchanged' \
			-e ': guest /init after ' -e ' s in Bochs$' | tr '\n' ' ')
		echo "VIRTD-TEST: [$label] FAIL $label/verdict: ${why:-run-bochs.sh exited $rc}"
		failed=$((failed + 1))
	fi
	grep -h '^run-bochs.sh: .* s in Bochs$' "$log" | sed "s/^/[$label] /" || true
done
echo "run-suite (bochs): ${runs[*]} in $(($(date +%s) - start)) s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
