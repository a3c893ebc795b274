#!/bin/bash
# Owns booting a real kernel in Bochs (Intel VMX) and judging its guest test verdict.
#
# Usage: run-bochs.sh [--kernel KERNEL] [--console] [--initramfs FILE] [--daemon]
#                     [--missing-ok] [--append 'ARGS'] [--timeout SECONDS]
#                     [--initrd-extra CPIO] [--mem MIB] TEST...
#
# Boots the kernel flavor (from $VIRTD_TEST_CACHE/kernels/, see
# tests/vm/fetch-kernels.sh) with an Intel initramfs (tests/vm/mkinitramfs.sh,
# passed --missing-ok if given; --daemon: the daemon's image, with virtd as
# installed, dbus-daemon, udevd and kmod; or --initramfs FILE) in Bochs, runs the guest
# scenarios TEST... in that one boot, prints their VIRTD-TEST lines and ends with "N passed, N failed, N skipped".
# --initrd-extra CPIO is appended to the image (the kernel unpacks both, as
# with run-qemu.sh); --mem sets the machine's memory (default 512 MiB).
# Exits 0 only when the guest's VIRTD-VERDICT line was seen and nothing failed.
# Outputs (serial log, Bochs log, disk image) stay in tests/vm/out/bochs/.
#
# Why Bochs at all: QEMU's TCG does not emulate VMX; Bochs does, with the VMX
# preemption timer, so kvm_intel and virthw's VMX paths run for real.
#
# Why it is driven this way:
# - rfb display: Debian's Bochs is built without a headless ("nogui") display
#   library; rfb with options="timeout=0" opens a VNC port but never waits
#   for a viewer. The test output goes to COM1, written to a file.
# - -rc FILE: Debian's Bochs is built with the internal debugger and stops at
#   its prompt before the first instruction; the rc file feeds it "continue".
#   stdin is /dev/null so nothing can ever wait on a terminal.
# - timeout: Bochs's exit status means nothing (1 on a clean guest
#   power-off), so the run is judged by the serial log alone. A guest that
#   hangs never ends by itself: timeout(1) ends it (softlockup_panic=1 turns
#   a soft lockup into a panic first). A panic reboots at once (panic=-1);
#   on the reset Bochs's debugger stops at its prompt, reads EOF from
#   /dev/null and quits (measured); were a Bochs to boot the disk again
#   instead, the second syslinux banner on the console stops it. Nothing is
#   retried.
# - tsc_early_khz: with clock sync=none the emulated TSC runs at exactly
#   `ips` ticks per emulated second (100 MHz here), but the kernel's quick
#   PIT calibration measures it at 100.024 MHz. Handing the kernel the true
#   rate makes tsc_khz exact (100000) on every run; kvm_intel decides
#   preemption_timer from it (off if 2^32 ticks last under 10 s) and virthw
#   reports it and the timer's maximum delay derived from it.
# - Determinism: sync=none and a fixed time0 make the emulated machine a pure
#   function of its disk image; the disk image is cached and rebuilt only
#   when the kernel, the initramfs, the command line or mkdisk.sh change.
set -euo pipefail

prog=${0##*/}
die() { echo "$prog: $*" >&2; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=$root/tests/vm/out/bochs
cache=${VIRTD_TEST_CACHE:-/var/cache/virtd-tests}

# The emulated CPU speed: instructions per emulated second, and therefore
# the TSC rate in Hz (kHz = IPS / 1000).
IPS=100000000
MEGS=512
# 2025-01-01T00:00:00Z: a fixed wall clock keeps runs identical.
TIME0=1735689600
DEFAULT_FLAVOR=6.12

usage() {
	sed -n '4,6s/^# \{0,1\}//p' "$0"
	exit 0
}

flavor=$DEFAULT_FLAVOR console=0 initramfs='' missing_ok=() extra='' limit=900 daemon=() extra_initrd=''
tests=()
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) flavor=${2:?--kernel needs a name from tests/vm/kernels}; shift 2 ;;
	--console) console=1; shift ;;
	--initramfs) initramfs=${2:?--initramfs needs a file}; shift 2 ;;
	--missing-ok) missing_ok=(--missing-ok); shift ;;
	--daemon) daemon=(--daemon); shift ;;
	--append) extra=${2?--append needs kernel arguments}; shift 2 ;;
	--timeout) limit=${2:?--timeout needs seconds}; shift 2 ;;
	--initrd-extra) extra_initrd=${2:?--initrd-extra needs a cpio file}; shift 2 ;;
	--mem) MEGS=${2:?--mem needs MiB}; shift 2 ;;
	-h|--help) usage ;;
	-*) die "unknown option '$1'" ;;
	*) tests+=("$1"); shift ;;
	esac
done
# The kernel matrix (tests/vm/kernels) and its helpers.
# shellcheck source=../common.sh
. "$here/../common.sh"
check_kernel "$flavor"
[ ${#tests[@]} -gt 0 ] || die "name at least one guest scenario (tests/vm/scenarios/NAME.sh)"
for t in "${tests[@]}"; do
	[[ $t =~ ^[A-Za-z0-9_-]+$ ]] || die "bad scenario name '$t' (letters, digits, '-' and '_' only)"
done
[[ $limit =~ ^[0-9]+$ ]] || die "--timeout wants whole seconds, not '$limit'"
[[ $MEGS =~ ^[0-9]+$ ]] || die "--mem wants whole MiB, not '$MEGS'"

for t in bochs timeout flock sha256sum; do
	command -v "$t" >/dev/null \
		|| die "'$t' is missing: run scripts/install-deps.sh (packages bochs bochsbios vgabios)"
done
bxshare=/usr/share/bochs
vgabios=/usr/share/vgabios/vgabios.bin
[ -r "$bxshare/BIOS-bochs-latest" ] || die "$bxshare/BIOS-bochs-latest is missing: install package bochsbios"
[ -r "$vgabios" ] || die "$vgabios is missing: install package vgabios"

mkdir -p "$out"
# Every output is per flavor, so two flavors may boot side by side (rfb
# takes the next free port); the same flavor twice would share files.
exec 9>"$out/.lock-$flavor"
flock -n 9 || die "another $prog --kernel $flavor is running in this checkout (lock $out/.lock-$flavor); wait for it to finish"

# Kernel: fetch-kernels.sh keeps the cache; without it, the cache must be filled.
kdir=$cache/kernels/$flavor
if [ -x "$root/tests/vm/fetch-kernels.sh" ]; then
	"$root/tests/vm/fetch-kernels.sh" "$flavor" >&2 \
		|| die "tests/vm/fetch-kernels.sh $flavor failed"
fi
kernel=$kdir/vmlinuz
[ -r "$kernel" ] || die "no kernel at $kernel: run tests/vm/fetch-kernels.sh $flavor (or set VIRTD_TEST_CACHE)"

# Initramfs: the shared builder, Intel flavour (kvm_intel, no kvm_amd).
if [ -z "$initramfs" ]; then
	mk=$root/tests/vm/mkinitramfs.sh
	[ -x "$mk" ] || die "$mk is missing; pass --initramfs FILE until the QEMU harness provides it"
	initramfs=$out/initramfs-$flavor${daemon:+-daemon}.img
	"$mk" --kernel "$flavor" --vendor intel "${missing_ok[@]}" "${daemon[@]}" --out "$initramfs" >&2 \
		|| die "tests/vm/mkinitramfs.sh --kernel $flavor --vendor intel ${daemon[*]} failed"
fi
[ -r "$initramfs" ] || die "initramfs '$initramfs' is not readable"
if [ -n "$extra_initrd" ]; then
	[ -r "$extra_initrd" ] || die "--initrd-extra '$extra_initrd' is not readable"
	cat "$initramfs" "$extra_initrd" >"$out/initramfs-$flavor-extra.img" ||
		die "could not append $extra_initrd to $initramfs"
	initramfs=$out/initramfs-$flavor-extra.img
fi

tests_csv=$(IFS=,; echo "${tests[*]}")
append="console=ttyS0,115200 panic=-1 softlockup_panic=1 tsc_early_khz=$((IPS / 1000)) virtd.tests=$tests_csv"
[ -z "$extra" ] || append="$append $extra"

# Disk image, rebuilt only when an input changed.
disk=$out/disk-$flavor.img
keyfile=$out/disk-$flavor.key
key=$( { sha256sum <"$kernel"; sha256sum <"$initramfs"; sha256sum <"$here/mkdisk.sh"; \
	printf '%s\n' "$append"; } | sha256sum | cut -d' ' -f1)
if [ -r "$disk" ] && [ -r "$keyfile" ] && [ "$(sed -n 1p "$keyfile")" = "$key" ]; then
	geometry=$(sed -n 2p "$keyfile")
	echo "$prog: disk image unchanged, reusing $disk" >&2
else
	rm -f "$keyfile"
	geometry=$("$here/mkdisk.sh" --kernel "$kernel" --initrd "$initramfs" \
		--append "$append" --out "$disk")
	printf '%s\n%s\n' "$key" "$geometry" >"$keyfile"
fi
cylinders=$(sed -n 's/^cylinders=\([0-9]*\) .*/\1/p' <<<"$geometry")
[ -n "$cylinders" ] || die "mkdisk.sh printed no geometry ('$geometry')"

serial=$out/serial-$flavor.log
bxlog=$out/bochs-$flavor.log
bxout=$out/bochs-$flavor.out
rc=$out/bochsrc-$flavor
cmds=$out/bochs-$flavor.rc
sub() { printf '%s' "$1" | sed 's/[\\|&]/\\&/g'; }
sed -e "s|@IPS@|$IPS|g" -e "s|@TIME0@|$TIME0|g" -e "s|@MEGS@|$MEGS|g" \
	-e "s|@BXSHARE@|$(sub "$bxshare")|g" -e "s|@VGABIOS@|$(sub "$vgabios")|g" \
	-e "s|@DISK@|$(sub "$disk")|g" -e "s|@CYLINDERS@|$cylinders|g" \
	-e "s|@SERIAL@|$(sub "$serial")|g" -e "s|@LOG@|$(sub "$bxlog")|g" \
	"$here/bochsrc.in" >"$rc"
if grep -q '@[A-Z0-9]*@' "$rc"; then
	die "unfilled placeholder in $rc: $(grep -o '@[A-Z0-9]*@' "$rc" | head -1)"
fi
echo continue >"$cmds"
: >"$serial"
rm -f "$disk.lock"

echo "$prog: booting $flavor in Bochs: ${tests[*]} (serial log $serial)" >&2
# Bochs's rfb display listens for VNC on every interface: give it a network
# namespace of its own, where nothing can reach that port.
isolate=()
if unshare --net true 2>/dev/null; then
	isolate=(unshare --net)
fi
t0=$(date +%s)
timeout -k 10 "$limit" "${isolate[@]}" bochs -q -f "$rc" -rc "$cmds" </dev/null >"$bxout" 2>&1 &
bx=$!

# Follows the serial log while Bochs runs: shows it (--console) or its test
# lines, and stops Bochs when syslinux starts a second boot (a panic reboot).
follow() {
	local line boots=0
	while IFS= read -r line; do
		line=${line%$'\r'}
		case $line in
		*"SYSLINUX "*)
			boots=$((boots + 1))
			if [ $boots -gt 1 ]; then
				echo "$prog: the guest rebooted (see the panic above or in $serial); stopping Bochs" >&2
				kill -TERM "$bx" 2>/dev/null || true
				return 0
			fi ;;
		*VIRTD-BOOT:*)
			echo "$prog: guest /init after $(($(date +%s) - t0)) s" >&2 ;;
		esac
		if [ $console = 1 ]; then
			printf '%s\n' "$line"
		else
			case $line in
			*VIRTD-TEST:*) printf 'VIRTD-TEST:%s\n' "${line#*VIRTD-TEST:}" ;;
			esac
		fi
	done
}
tail -n +1 -F --pid="$bx" "$serial" 2>/dev/null | follow &
follower=$!

status=0
wait "$bx" || status=$?
wait "$follower" || true
elapsed=$(($(date +%s) - t0))
rm -f "$disk.lock"

# Judge by the first boot's serial output only.
read -r passed failed skipped verdict < <(awk '
	{ sub(/\r$/, "") }
	/SYSLINUX / { if (++boots > 1) exit }
	/VIRTD-TEST: PASS / { p++ }
	/VIRTD-TEST: FAIL / { f++ }
	/VIRTD-TEST: SKIP / { s++ }
	/VIRTD-VERDICT: / { v = substr($0, index($0, "VIRTD-VERDICT: ") + 15); gsub(/ /, ",", v) }
	END { printf "%d %d %d %s\n", p, f, s, (v == "" ? "-" : v) }
' "$serial")

ok=1
if [ "$verdict" = - ]; then
	ok=0
	if [ "$status" = 124 ] || [ "$status" = 137 ]; then
		echo "$prog: no verdict: Bochs ran past ${limit}s and was killed" >&2
	else
		echo "$prog: no verdict: Bochs stopped (status $status) before the guest reported one" >&2
	fi
	if [ $console = 0 ]; then
		echo "$prog: last lines of $serial:" >&2
		tail -n 25 "$serial" | tr -d '\r' | sed 's/^/  | /' >&2
	fi
	oops=$(tr -d '\r' <"$serial" | grep -m1 -a -e 'Kernel panic - not syncing' -e 'BUG: soft lockup' || true)
	[ -z "$oops" ] || echo "$prog: the guest kernel died: ${oops#\[*\] }" >&2
	[ -s "$serial" ] || { echo "$prog: Bochs said (from $bxout):" >&2; tail -n 15 "$bxout" | sed 's/^/  | /' >&2; }
elif [ "$verdict" != "passed=$passed,failed=$failed,skipped=$skipped" ]; then
	ok=0
	echo "$prog: the guest's verdict ($verdict) does not match its VIRTD-TEST lines" >&2
fi
[ "$failed" = 0 ] || ok=0
echo "$prog: $flavor: $elapsed s in Bochs" >&2
echo "$passed passed, $failed failed, $skipped skipped"
[ $ok = 1 ]
