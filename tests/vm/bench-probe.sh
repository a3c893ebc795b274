#!/bin/bash
# The probe benchmark: virthw's run path measured by `virtctl probe` in Bochs (Intel VMX) and QEMU (AMD SVM); prints (a), (b), (c) and (b)/(a) per CPU.
#
# Usage: tests/vm/bench-probe.sh [--kernel KERNEL] [--iterations N] [--smp N]
#                                [--only bochs|qemu] [--no-boot] [--update]
#   (defaults: 6.12, 1000 iterations per figure, 2 QEMU vCPUs, both machines)
#   --no-boot  report from the machines' last logs instead of booting them
#   --update   also put the figures in BENCHMARKS.md's probe section
# Not a test: it prints the figures as measured, without judging them (both
# machines are emulators), and exits 0 when the machines ran to their end.
# The two machines boot side by side (one host core each).  BUILDDIR as for
# run-qemu.sh.
#
# (a) VM entry + exit round trips (VMX: the timer soft-disabled as KVM does
#     it; SVM: VMRUN); (b) the same with PIN_BASED_VMX_PREEMPTION_TIMER
#     written before every entry (VMX only); (c) one immediate exit, by a
#     zero timer value when the timer decision allows it, else a self-IPI
#     (VMX only).  Medians in TSC cycles; in Bochs the TSC is the emulated
#     instruction count (ips), so its figures do not depend on the host.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

flavor=6.12 iter=1000 smp=2 only="" update=0 boot=1
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) flavor=${2:?}; shift 2 ;;
	--iterations) iter=${2:?}; shift 2 ;;
	--smp) smp=${2:?}; shift 2 ;;
	--only) only=${2:?}; shift 2 ;;
	--update) update=1; shift ;;
	--no-boot) boot=0; shift ;;
	-h | --help) sed -n '2,20p' "$0"; exit 0 ;;
	*) die "unknown argument '$1' (see $0 --help)" ;;
	esac
done
check_kernel "$flavor"
[[ $iter =~ ^[0-9]+$ ]] && [ "$iter" -ge 1 ] || die "--iterations wants a positive whole number, not '$iter'"
case "$only" in '' | bochs | qemu) ;; *) die "--only wants bochs or qemu, not '$only'" ;; esac

mkdir -p "$VM_OUT"
"$VM_DIR/fetch-kernels.sh" "$flavor" >/dev/null
append="virtd.probe_iterations=$iter virtd.timeout=900"
bochs_out=$VM_OUT/bench-probe-bochs.out
qemu_out=$VM_OUT/bench-probe-qemu.out
start=$(date +%s)
pids=()
if [ "$boot" = 1 ] && [ "$only" != qemu ]; then
	log "booting $flavor in Bochs (VMX), $iter iterations; ~2 minutes to /init"
	"$VM_DIR/bochs/run-bochs.sh" --kernel "$flavor" --daemon --timeout 1800 \
		--append "$append" probe-bench >"$bochs_out" 2>&1 &
	pids+=($!)
fi
if [ "$boot" = 1 ] && [ "$only" != bochs ]; then
	log "booting $flavor in QEMU (SVM, $smp vCPUs), $iter iterations"
	"$VM_DIR/run-qemu.sh" --kernel "$flavor" --daemon --smp "$smp" --timeout 1800 \
		--append "$append" probe-bench >"$qemu_out" 2>&1 &
	pids+=($!)
fi
rc=0
for p in "${pids[@]}"; do
	wait "$p" || rc=1
done
[ "$boot" = 0 ] || log "machines done in $(($(date +%s) - start)) s"

# The guest's lines from each machine's console log.
bochs_log=$VM_OUT/bochs/serial-$flavor.log
qemu_log=$(sed -n 's/.*; log \(.*\.log\)$/\1/p' "$qemu_out" 2>/dev/null | tail -n 1)
lines() {	# lines bochs|qemu: that machine's VIRTD-BENCH probe lines
	local f
	case $1 in
	bochs) f=$bochs_log ;;
	qemu) f=$qemu_log ;;
	esac
	[ -n "$f" ] && [ -f "$f" ] || return 0
	tr -d '\r' <"$f" | grep -a '^VIRTD-BENCH: probe ' || true
}
fails() {
	local f
	case $1 in
	bochs) f=$bochs_log ;;
	qemu) f=$qemu_log ;;
	esac
	[ -n "$f" ] && [ -f "$f" ] || { echo "no console log (see $VM_OUT/bench-probe-$1.out)"; return 0; }
	tr -d '\r' <"$f" | grep -a '^VIRTD-TEST: FAIL' || true
}
# kv LINE KEY: KEY's value in a "KEY=VALUE ..." line.
kv() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b; else print "-" }'; }
ns() {	# ns CYCLES TSC_KHZ: "N ns" at that TSC, or ""
	awk -v c="$1" -v k="$2" 'BEGIN { if (c ~ /^[0-9]+$/ && k ~ /^[0-9]+$/ && k > 0) printf "%.0f ns", c * 1000000 / k }'
}
fig() {	# fig CYCLES TSC_KHZ: "CYCLES (N ns)", or "n/a" for an absent figure
	case $1 in
	'' | - | null) echo "n/a" ;;
	*) echo "$1 ($(ns "$1" "$2"))" ;;
	esac
}

kver=$(fetched_kver "$flavor")
bochs_ver=$(dpkg-query -W -f '${Version}' bochs 2>/dev/null || echo '?')
qemu_ver=$(qemu-system-x86_64 --version 2>/dev/null | sed -n 's/.*version \([0-9.]*\).*/\1/p')
cmd="tests/vm/bench-probe.sh --kernel $flavor --iterations $iter${only:+ --only $only}"
report=$(
	echo "Command: \`$cmd\` ($(date -u +%Y-%m-%d), Debian $kver; commit $(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'); host: $(nproc) cores)."
	echo "Machines: Bochs $bochs_ver, corei7_haswell_4770, 1 CPU, ips=100000000 (TSC 100 MHz, emulated: figures independent of the host);"
	echo "QEMU $qemu_ver TCG, -cpu max (AMD SVM), $smp vCPUs (TSC from the host clock: figures move with host load)."
	iters=$( { lines bochs; lines qemu; } | while IFS= read -r l; do kv "$l" iterations; done | sort -u | tr '\n' ' ' | sed 's/ $//')
	echo "Each figure is the median of ${iters:-?} iterations (the guest's \`virtctl probe --cpu=N --iterations=${iters:-?} --json\`), in TSC cycles, ns at the machine's TSC in brackets; n/a: does not apply (SVM has no preemption timer)."
	echo
	echo "| machine | timer decision | CPU | (a) round trip | (b) toggling the timer pin control | (b)/(a) | (c) immediate exit | (c) method | (d) timer exit: programmed / elapsed |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
	for m in bochs qemu; do
		[ "$only" = "" ] || [ "$only" = "$m" ] || continue
		n=0
		while IFS= read -r l; do
			n=$((n + 1))
			k=$(kv "$l" tsc_khz)
			a=$(kv "$l" a) b=$(kv "$l" b) c=$(kv "$l" c)
			case $m in bochs) mn="Bochs (VMX)" ;; qemu) mn="QEMU TCG (SVM)" ;; esac
			case "$(kv "$l" pass)/$(kv "$l" timer_use)" in
			default/true) dec="used (default: Mode=auto, MinMaxDelay=10s)" ;;
			default/false) dec="not used (default configuration)" ;;
			timer-off/*) dec="not used (MinMaxDelay=60min)" ;;
			*) dec="does not apply" ;;
			esac
			d="n/a"
			[ "$(kv "$l" d)" = - ] || d="$(kv "$l" d_expected) / $(kv "$l" d) TSC cycles"
			r=$(ratio "$b" "$a")
			[ "$r" != - ] || r="n/a"
			echo "| $mn | $dec | $(kv "$l" cpu) | $(fig "$a" "$k") | $(fig "$b" "$k") | $r | $(fig "$c" "$k") | $(m_=$(kv "$l" method); [ "$m_" = none ] && echo n/a || echo "$m_") | $d |"
		done < <(lines "$m")
		if [ "$n" = 0 ]; then
			echo "| $m | - | - | no figures: $(fails "$m" | head -n 1 | cut -c1-160 | tr '|' '/') | | | | | |"
		fi
	done
)
echo "$report"
# Kept, so that --update is not the only way to get at the figures.
printf '%s\n' "$report" >"$VM_OUT/bench-probe.md"
for m in bochs qemu; do
	f=$(fails "$m")
	[ -z "$f" ] || { echo; echo "$m reported:"; echo "$f"; }
done

if [ "$update" = 1 ]; then
	bm=$REPO_ROOT/BENCHMARKS.md
	begin='<!-- probe-bench: begin (tests/vm/bench-probe.sh --update rewrites this section) -->'
	end='<!-- probe-bench: end -->'
	section=$(
		echo "$begin"
		echo "## virthw's run path: \`virtctl probe\` (Bochs VMX, QEMU SVM)"
		echo
		echo "Produced by tests/vm/bench-probe.sh (guest side: tests/vm/bench/probe-bench.sh);"
		echo "both machines are emulators, so the figures are printed, not judged: on"
		echo "real VMX hardware (b) is expected to be more than twice (a), which an"
		echo "emulator need not reproduce.  In Bochs the TSC advances one cycle per"
		echo "emulated instruction (ips = TSC rate), and a VM entry or exit counts as"
		echo "about one instruction: its figures count the guest loop's and virthw's"
		echo "instructions, not what a transition costs on silicon.  Under QEMU TCG"
		echo "an SVM round trip is emulated nested virtualization in software."
		echo
		echo "$report"
		echo "$end"
	)
	tmp=$(mktemp)
	if [ -f "$bm" ] && grep -qF "$begin" "$bm"; then
		# Replaces the old section in place; the rest of the file is kept.
		printf '%s\n' "$section" >"$tmp.section"
		awk -v b="$begin" -v e="$end" -v f="$tmp.section" '
			$0 == b { while ((getline l < f) > 0) print l; skip = 1; next }
			$0 == e { skip = 0; next }
			!skip' "$bm" >"$tmp"
	else
		{ [ -f "$bm" ] && cat "$bm" && echo; printf '%s\n' "$section"; } >"$tmp"
	fi
	mv "$tmp" "$bm"
	rm -f "$tmp.section"
	log "wrote the probe section of $bm"
fi
[ "$rc" -eq 0 ] || log "warning: a machine reported failures or did not finish (see $bochs_out, $qemu_out)"
