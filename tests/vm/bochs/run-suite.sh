#!/bin/bash
# Owns the Bochs (Intel VMX) suite: every tests/vm/scenarios/bochs-*.sh in one boot per kernel.
#
# Usage: tests/vm/bochs/run-suite.sh [6.1|6.12 ...]   (default: run-bochs.sh's kernel)
# Prints each VIRTD-TEST line prefixed with [bochs-<kernel>] as it comes; the
# last line is "N passed, N failed, N skipped". Exit 0 only if nothing failed.
# A boot costs about a minute and a half before the first scenario, so all
# scenarios share it, and one kernel is booted unless more are named.
# The boot uses the daemon's image (mkinitramfs.sh --daemon: virtd as
# installed, dbus-daemon, udevd, kmod), which the virthw-only scenarios
# (bochs-vmx) run on as well: its extra 20 MB cost ~15 s of loading, a
# second boot with the busybox image ~80 s more.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=$root/tests/vm/out/bochs

kernels=()
for a in "$@"; do
	case $a in
	6.1|6.12) kernels+=("$a") ;;
	-h|--help) sed -n '4,11s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "run-suite: unknown kernel '$a' (use 6.1 or 6.12)" >&2; exit 2 ;;
	esac
done
if [ ${#kernels[@]} -eq 0 ]; then
	kernels=("$(sed -n 's/^DEFAULT_FLAVOR=//p' "$here/run-bochs.sh")")
	[ -n "${kernels[0]}" ] || { echo "run-suite: no DEFAULT_FLAVOR= in run-bochs.sh" >&2; exit 2; }
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
for k in "${kernels[@]}"; do
	label=bochs-$k
	log=$out/suite-$k.out
	set +e
	"$here/run-bochs.sh" --kernel "$k" --daemon --timeout "$limit" \
		--append "virtd.timeout=$PER_SCENARIO" "${scenarios[@]}" 2>&1 | tee "$log" \
		| sed -u -n "s/^VIRTD-TEST: /VIRTD-TEST: [$label] /p"
	rc=${PIPESTATUS[0]}
	set -e
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
done
echo "run-suite (bochs): ${scenarios[*]} on ${kernels[*]} in $(($(date +%s) - start)) s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
