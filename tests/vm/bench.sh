#!/bin/bash
# The daemon benchmark: boots the daemon image with 4 vCPUs, runs bench/bench-daemon.sh and bench/bench-lock.sh, prints the figures and ratios.
#
# Usage: tests/vm/bench.sh [--kernel KERNEL] [--smp N] [--runs N] [--update]
#   (defaults: 6.12, 4 vCPUs, 25 runs per latency figure)
#   --update   also rewrite BENCHMARKS.md at the repository root with them
# Not a test: it prints figures against the issue's targets and exits 0 when
# the machine ran to its end.  BUILDDIR as for run-qemu.sh.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

flavor=6.12 smp=4 runs=25 update=0
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) flavor=${2:?}; shift 2 ;;
	--smp) smp=${2:?}; shift 2 ;;
	--runs) runs=${2:?}; shift 2 ;;
	--update) update=1; shift ;;
	-h | --help) sed -n '2,9p' "$0"; exit 0 ;;
	*) die "unknown argument '$1' (see $0 --help)" ;;
	esac
done
check_kernel "$flavor"
[ "$runs" -ge 20 ] 2>/dev/null || die "--runs must be at least 20 (medians of at least 20 runs)"

out=$VM_OUT/bench-$flavor.out
"$VM_DIR/fetch-kernels.sh" "$flavor" >/dev/null
log "booting $flavor with $smp vCPUs; the idle measurement alone takes 60 s, the lock's runs a few minutes"
set +e
"$VM_DIR/run-qemu.sh" --kernel "$flavor" --smp "$smp" --timeout 1800 \
	--append "virtd.bench_runs=$runs virtd.timeout=900" bench-daemon,bench-lock >"$out" 2>&1
rc=$?
set -e
logf=$(sed -n 's/.*; log \(.*\.log\)$/\1/p' "$out" | tail -n 1)
[ -n "$logf" ] && [ -f "$logf" ] || { cat "$out"; die "the machine did not boot (see $out)"; }
grep -a '^VIRTD-TEST: FAIL' "$logf" || true

declare -A V
while read -r _ name value _; do
	V[$name]=$value
done < <(grep -a '^VIRTD-BENCH: ' "$logf")
get() { echo "${V[$1]:-?}"; }
ratio() {	# ratio A B: A/B to two decimals, or ?
	awk -v a="$(get "$1")" -v b="$(get "$2")" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b; else print "?" }'
}
ms() { awk -v u="$(get "$1")" 'BEGIN { if (u ~ /^[0-9.]+$/) printf "%.1f ms", u / 1000; else print "?" }'; }

kver=$(fetched_kver "$flavor")
cmd="tests/vm/bench.sh --kernel $flavor --smp $smp --runs $runs"
report=$(
	echo "Command: \`$cmd\` ($(date -u +%Y-%m-%d), Debian $kver in QEMU $(qemu-system-x86_64 --version | sed -n 's/.*version \([0-9.]*\).*/\1/p') TCG, $(get cpus) vCPUs, AMD SVM, real kvm_amd; host: $(nproc) cores)."
	echo
	echo "KVM_CREATE_VM latency, median of $(get runs) runs each (one kvm-vm process per run):"
	echo
	echo "| case | median | ratio |"
	echo "| --- | --- | --- |"
	echo "| first-vm: first VM (virtualization enabled on the 0->1 edge) | $(ms create-first-vm-first) | $(ratio create-first-vm-first create-first-vm-second)x the second VM |"
	echo "| first-vm: second VM while one exists | $(ms create-first-vm-second) | 1 |"
	echo "| boot: first VM | $(ms create-boot-first) | $(ratio create-boot-first create-boot-second)x the second VM (target <= 1.1) |"
	echo "| boot: second VM while one exists | $(ms create-boot-second) | 1 |"
	echo "| first VM, first-vm vs boot | | $(ratio create-first-vm-first create-boot-first)x |"
	echo "| virtd stopped after boot: first VM | $(ms create-stopped-first) | $(ratio create-stopped-first create-stopped-second)x the second VM |"
	echo "| virtd stopped after boot: second VM while one exists | $(ms create-stopped-second) | 1 |"
	echo
	echo "virtd:"
	echo
	echo "| figure | value | target |"
	echo "| --- | --- | --- |"
	echo "| exec to READY=1, first-vm from a stock host (kvm_amd loaded with KVM's defaults) | $(get ready-first-vm-from-stock) ms | |"
	echo "| exec to READY=1, boot with KVM not loaded | $(get ready-boot-from-unloaded) ms | |"
	echo "| idle wakeups (context switches of all its threads in 60 s) | $(get idle-wakeups-per-min) /min | 0 |"
	echo "| idle resident memory (VmRSS) | $(awk -v k="$(get idle-rss)" 'BEGIN { if (k ~ /^[0-9]+$/) printf "%.1f MiB", k / 1024; else print "?" }') | < 4 MiB |"
	echo "| of which private to virtd (smaps_rollup Private_*; the rest is shared library pages) | $(awk -v k="$(get idle-private)" 'BEGIN { if (k ~ /^[0-9]+$/) printf "%.1f MiB", k / 1024; else print "?" }') | |"
	echo "| threads | $(get idle-threads) | |"
	echo "| \`virtctl status\` round trip, median of 50 | $(ms status-roundtrip) | < 10 ms |"
	echo "| \`virtctl status --json\` round trip, median of 50 | $(ms status-json-roundtrip) | |"
	echo "| \`dbus-send ... GetStatus\` round trip, median of 50 | $(ms getstatus-dbus-send) | |"
	echo "| \`virtctl --version\` (exec and dynamic linking alone, no bus), median of 50 | $(ms virtctl-version) | |"
	echo "| \`busybox true\` (exec of a static binary: the floor under any command), median of 50 | $(ms exec-static) | |"
	echo "| \`virtctl status\` with address-space randomization off (TCG reuses its translations of the libraries), median of 50 | $(ms status-roundtrip-no-aslr) | |"
	echo "| GetStatus in-process (tests/vm/progs/bus-bench: 50 calls on one bus connection, no exec), median | $(ms getstatus-inprocess) | |"
	echo "| system bus connect + Hello (bus-bench, once) | $(ms bus-connect) | |"
	echo
	echo "Foreign-hypervisor lock under policy boot, median of $(get runs) runs each (baselines with virtd stopped, same machine):"
	echo
	echo "| figure | median | ratio (target <= 1.2) |"
	echo "| --- | --- | --- |"
	echo "| grant: \`virtctl lock -- true\`, fork to exit (request, KVM dropped, every CPU verified off, descriptor back) | $(ms lock-grant) | $(ratio lock-grant modprobe-r-vendor)x the bare unload |"
	echo "| grant in-process: AcquireForeign call to descriptor (bus-bench, no exec: the issue's request -> descriptor, CPUs verified off) | $(ms lock-grant-inprocess) | $(ratio lock-grant-inprocess modprobe-r-vendor)x the bare unload |"
	echo "| bare \`modprobe -r kvm_amd\`, fork to exit | $(ms modprobe-r-vendor) | 1 |"
	echo "| release: holder's exit to policy restored (virtd's State=holds signal, i.e. every CPU verified on, with /dev/kvm back; not polled) | $(ms lock-release-restored) | $(ratio lock-release-restored modprobe-vendor)x the bare load |"
	echo "| release in-process: descriptor closed to State=holds (bus-bench) | $(ms lock-release-inprocess) | $(ratio lock-release-inprocess modprobe-vendor)x the bare load |"
	echo "| bare \`modprobe kvm_amd\`, fork to exit | $(ms modprobe-vendor) | 1 |"
	echo "| grant in shared mode (a profile whose hypervisor runs inside KVM's VMX root: KVM kept), \`virtctl lock -- true\`, fork to exit | $(ms lock-grant-shared) | $(ratio lock-grant-shared lock-grant)x the exclusive grant |"
	echo
	echo "The bare pair above also removes and loads kvm itself (modprobe -r takes unused dependencies along); the lock leaves kvm loaded.  Against the like-for-like pair, the vendor module alone:"
	echo
	echo "| figure | median | ratio |"
	echo "| --- | --- | --- |"
	echo "| grant, as above | $(ms lock-grant) | $(ratio lock-grant rmmod-vendor-only)x the bare rmmod |"
	echo "| grant in-process, as above | $(ms lock-grant-inprocess) | $(ratio lock-grant-inprocess rmmod-vendor-only)x the bare rmmod |"
	echo "| bare \`rmmod kvm_amd\` (kvm stays), fork to exit | $(ms rmmod-vendor-only) | 1 |"
	echo "| release, as above | $(ms lock-release-restored) | $(ratio lock-release-restored modprobe-vendor-only)x the bare load |"
	echo "| release in-process, as above | $(ms lock-release-inprocess) | $(ratio lock-release-inprocess modprobe-vendor-only)x the bare load |"
	echo "| bare \`modprobe kvm_amd\` with kvm loaded, fork to exit | $(ms modprobe-vendor-only) | 1 |"
)
echo "$report"
# Each kernel's last report is kept; --update writes them all.
printf '## Linux %s (%s)\n\n%s\n' "$flavor" "$kver" "$report" >"$VM_OUT/bench-$flavor.md"
if [ "$update" = 1 ]; then
	{
		echo "# Benchmarks"
		echo
		echo "Figures, not pass/fail tests; produced by tests/vm/bench.sh (guest side:"
		echo "tests/vm/bench/bench-daemon.sh).  The machine is emulated (QEMU TCG, one"
		echo "host thread for all vCPUs), so absolute times are many times a real host's"
		echo "(every exec is slow); the ratios from one run are what to compare."
		echo
		echo "How to read them:"
		echo
		echo "- Single-threaded TCG runs every vCPU on one host thread, so whatever"
		echo "  udevd and virtd do on other vCPUs in reaction to a VM's uevent lands in"
		echo "  the measured KVM_CREATE_VM time; the rows with virtd stopped show that"
		echo "  share, and KVM's own first-VM cost once virtd's pinned VM has ended with"
		echo "  it (on 6.1 they are first-vm's figures: virtualization goes off too)."
		echo "- boot keeps virtualization on with enable_virt_at_load=1 on 6.12 (the"
		echo "  pinned VM on 6.1) and holds virtd's pinned VM on both kernels: on 6.12"
		echo "  the first VM otherwise also pays KVM's other 0->1 work, switching on the"
		echo "  preempt-notifier static key (text patching with IPIs to every CPU; 1-2 ms"
		echo "  of a traced create in this machine: tests/vm/bench/bench-first-vm-trace.sh)."
		echo "  With the pinned VM the user's first VM is KVM's second."
		echo "- A \`virtctl status\` round trip is mostly exec, dynamic linking and"
		echo "  connecting to the bus under TCG: compare it with \`virtctl --version\`"
		echo "  (no bus), \`busybox true\` (a static binary: no linking), the bus"
		echo "  connect alone and GetStatus in-process (bus-bench: the same call on one"
		echo "  open connection).  The exec of a static binary plus the connect is"
		echo "  already above 10 ms in this machine."
		for f in "${FLAVORS[@]}"; do
			[ -f "$VM_OUT/bench-$f.md" ] || continue
			echo
			cat "$VM_OUT/bench-$f.md"
		done
		# Sections other benchmarks wrote (not "## Linux N ...") stay.
		[ -f "$REPO_ROOT/BENCHMARKS.md" ] &&
			awk '/^## / { keep = ($0 !~ /^## Linux [^ ]+ \(/) } keep { print }' "$REPO_ROOT/BENCHMARKS.md" |
			sed '1s/^/\n/'
	} >"$VM_OUT/BENCHMARKS.md.new"
	mv "$VM_OUT/BENCHMARKS.md.new" "$REPO_ROOT/BENCHMARKS.md"
	log "wrote $REPO_ROOT/BENCHMARKS.md"
fi
[ "$rc" -eq 0 ] || log "warning: the machine reported failures or did not finish (see $logf)"
