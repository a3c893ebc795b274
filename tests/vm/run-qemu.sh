#!/bin/bash
# Boots one QEMU test machine (TCG, AMD SVM, real KVM) on a Debian kernel and reports its scenarios.
#
# Usage: tests/vm/run-qemu.sh --kernel KERNEL [--smp N] [--append ARGS]
#                             [--console] [--timeout SECS] [--missing-ok]
#                             [--daemon] [--mem MIB] [--initrd-extra CPIO]
#                             [--disk IMG] TESTS...
# TESTS are scenario names (tests/vm/scenarios/NAME.sh), separate or
# comma-separated.  The serial log is kept as tests/vm/out/<kernel>-<stamp>.log.
# Scenarios named daemon-*, bench-* (tests/vm/bench/NAME.sh) or systemd-*
# (or --daemon) boot the daemon's image (mkinitramfs.sh --daemon, with
# BUILDDIR's src/virtd); systemd-* ones boot with systemd as PID 1 (all the
# machine's scenarios then run under systemd).
# --mem MiB sets the machine's memory (default 1024).
# --initrd-extra CPIO is appended to the image (the kernel unpacks both, the
# later one's files win); --disk IMG is attached as a virtio disk whose writes
# go to a temporary overlay (the file itself is never changed).
# Prints every VIRTD-TEST line (the whole console with --console), adds a FAIL
# for each scenario that never finished (hang, crash, timeout), and ends with
# "N passed, N failed, N skipped".  Exit 0 only if nothing failed and the
# guest's verdict line was seen.  Files a scenario sends (lib.sh's send_file)
# are kept in tests/vm/out/files/<kernel>/<scenario>-<name>.  A kernel that crashes before /init starts
# (an emulator fault; nothing of the project has run) is booted once more,
# with a VIRTD-NOTE line saying so; any later crash is a failure.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

usage() {
	echo "usage: $0 --kernel <${FLAVORS[*]// /|}> [--smp N] [--append ARGS] [--console] [--timeout SECS] [--missing-ok] [--daemon] [--mem MIB] [--initrd-extra CPIO] [--disk IMG] TESTS..." >&2
	exit 2
}

flavor="" smp=2 append="" console=0 limit="" mk_opts=() tests=() daemon=0 systemd=0 mem=1024
extra_initrd="" disk=""
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) flavor=${2:?}; shift 2 ;;
	--smp) smp=${2:?}; shift 2 ;;
	--append) append=${2:?}; shift 2 ;;
	--console) console=1; shift ;;
	--timeout) limit=${2:?}; shift 2 ;;
	--missing-ok) mk_opts+=(--missing-ok); shift ;;
	--daemon) daemon=1; shift ;;
	--mem) mem=${2:?}; shift 2 ;;
	--initrd-extra) extra_initrd=${2:?}; shift 2 ;;
	--disk) disk=${2:?}; shift 2 ;;
	-h | --help) usage ;;
	-*) echo "$PROG: unknown option '$1'" >&2; usage ;;
	*) IFS=, read -r -a t <<<"$1"; tests+=("${t[@]}"); shift ;;
	esac
done
if [ -z "$flavor" ] || [ ${#tests[@]} -eq 0 ]; then usage; fi
check_kernel "$flavor"
for t in "${tests[@]}"; do
	[ -f "$VM_DIR/scenarios/$t.sh" ] || [ -f "$VM_DIR/bench/$t.sh" ] ||
		die "no scenario '$t' (tests/vm/scenarios/$t.sh or tests/vm/bench/$t.sh)"
	case "$t" in
	daemon-* | bench-*) daemon=1 ;;
	systemd-*) daemon=1 systemd=1 ;;
	esac
done
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing: apt-get install qemu-system-x86"

kdir=$(kernel_dir "$flavor")
fetched_kver "$flavor" >/dev/null
vmlinux=$kdir/vmlinux
[ -s "$vmlinux" ] || die "$vmlinux missing: run tests/vm/fetch-kernels.sh $flavor"

mkdir -p "$VM_OUT"
initrd=$VM_OUT/initramfs-$flavor-amd.cpio
if [ "$daemon" = 1 ]; then
	initrd=$VM_OUT/initramfs-$flavor-amd-daemon.cpio
	mk_opts+=(--daemon)
fi
# One image build at a time per file (the suite's kernels build side by side).
exec 8>"$initrd.lock"
flock 8
"$VM_DIR/mkinitramfs.sh" --kernel "$flavor" --vendor amd --out "$initrd" "${mk_opts[@]}"
# This run's own copy: another run (another BUILDDIR) may rebuild the image
# while this machine starts.
stamp=$(date +%Y%m%d-%H%M%S)-$$
own_initrd=$VM_OUT/run-$stamp.cpio
cp "$initrd" "$own_initrd"
if [ -n "$extra_initrd" ]; then
	cat "$extra_initrd" >>"$own_initrd" || die "could not append $extra_initrd to the image"
fi
trap 'rm -f "$own_initrd"' EXIT
exec 8>&-
initrd=$own_initrd
if [ "$systemd" = 1 ]; then
	# systemd as PID 1: quiet on the console (the scenarios' lines are the
	# protocol), its log to the kernel ring buffer for the failure dumps.
	append="$append virtd.systemd=1 systemd.show_status=0 systemd.log_target=kmsg systemd.log_level=info"
fi

# Generous: a scenario takes seconds to a minute under TCG; boot ~5 s.
[ -n "$limit" ] || limit=$((60 + 120 * ${#tests[@]}))
list=$(IFS=,; echo "${tests[*]}")
logf=$VM_OUT/$flavor-$stamp.log

# Single-threaded TCG: multi-threaded TCG hangs now and then with nested SVM
# (GUEST-NOTES.md).  The uncompressed vmlinux boots through its PVH note.
# shellcheck disable=SC2054 # commas inside QEMU's option values
qemu=(qemu-system-x86_64 -accel tcg,thread=single -cpu max -smp "$smp" -m "$mem"
	-nographic -no-reboot -nic none -kernel "$vmlinux" -initrd "$initrd"
	-append "console=ttyS0 panic=-1 softlockup_panic=1 loglevel=4 $append virtd.tests=$list")
if [ -n "$disk" ]; then
	[ -f "$disk" ] || die "--disk $disk: no such file"
	qemu+=(-drive "file=$disk,if=virtio,format=raw,snapshot=on")
fi
log "booting $flavor (smp $smp, $([ "$systemd" = 1 ] && echo "systemd as PID 1, ")$([ "$daemon" = 1 ] && echo daemon || echo base) image, limit ${limit}s): $list; log $logf"
start=$(date +%s.%N)
# One more boot, once, only when the kernel crashed before /init printed
# VIRTD-BOOT: nothing of the project (module, daemon, scenario) had run yet.
# Seen once in ~140 boots of 6.12 under single-threaded TCG on a loaded host: a
# double fault in early kmem_cache_alloc with garbage EFLAGS in the fault
# frame, an emulator fault.  The crashed boot's log is kept and named; a crash
# after /init started is never retried.
for attempt in 1 2; do
	set +e
	timeout -k 5 "$limit" "${qemu[@]}" </dev/null 2>&1 | tr -d '\r' | tee "$logf" |
		if [ "$console" = 1 ]; then cat; else grep --line-buffered '^VIRTD-TEST: '; fi
	rc=${PIPESTATUS[0]}
	set -e
	[ "$attempt" = 1 ] || break
	grep -aq '^VIRTD-BOOT: ' "$logf" && break
	crash=$(grep -aEm1 'Kernel panic|double fault|general protection fault|BUG: ' "$logf" || true)
	[ -n "$crash" ] || break
	mv "$logf" "$logf.crashed-before-init"
	echo "VIRTD-NOTE: $flavor: the guest kernel crashed before /init (${crash#*] }); booting once more (log $logf.crashed-before-init)"
done
secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')

# The files the scenarios sent (lib.sh's send_file), each checked against its
# SHA-256: a kernel message in the middle of one would spoil it.
files=$VM_OUT/files/$flavor
mkdir -p "$files"
for t in "${tests[@]}"; do
	rm -f "$files/$t-"*
done
awk -v dir="$files" '
	/^VIRTD-FILE: BEGIN / { name = $3; f = dir "/" name ".part"; printf "" >f; next }
	/^VIRTD-FILE: END / { close(f); print name, substr($4, 8); name = ""; next }
	/^VIRTD-FILE: / && name != "" { print substr($0, 13) >>f }' "$logf" |
	while read -r name sum; do
		if [ "$(sha256sum <"$files/$name.part" | cut -d' ' -f1)" = "$sum" ]; then
			mv "$files/$name.part" "$files/$name"
		else
			log "$name came back garbled (SHA-256 differs; kernel messages on the console?); dropped"
			rm -f "$files/$name.part"
		fi
	done

extra=()
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	extra+=("VIRTD-TEST: FAIL $flavor/boot: no end within ${limit}s (hung; see $logf)")
fi
for t in "${tests[@]}"; do
	if ! grep -q "^VIRTD-END: $t " "$logf"; then
		extra+=("VIRTD-TEST: FAIL $t/complete: never finished (machine hung, crashed or timed out; see $logf)")
	fi
done
verdict=$(grep -a '^VIRTD-VERDICT: ' "$logf" | tail -n1 || true)
if [ -z "$verdict" ] && [ ${#extra[@]} -eq 0 ]; then
	extra+=("VIRTD-TEST: FAIL $flavor/verdict: the guest printed no VIRTD-VERDICT line (see $logf)")
fi
for l in "${extra[@]}"; do
	echo "$l"
	echo "$l" >>"$logf"
done

passed=$(grep -ac '^VIRTD-TEST: PASS ' "$logf" || true)
failed=$(grep -ac '^VIRTD-TEST: FAIL ' "$logf" || true)
skipped=$(grep -ac '^VIRTD-TEST: SKIP ' "$logf" || true)
boot=$(grep -a '^VIRTD-BOOT: ' "$logf" | sed -n 's/.*uptime=\([0-9.]*\).*/\1/p' | head -n1 || true)
log "$flavor: qemu exit $rc after ${secs}s (guest reached /init at ${boot:-?}s uptime); log $logf"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ -n "$verdict" ]
