#!/bin/bash
# The installed-system test: the project's .debs installed into a Debian root by apt-get, booted in QEMU with systemd as PID 1 from that root.
#
# Usage: tests/vm/installed/run.sh [--debs DIR] [--kernel NAME] [--console] [--timeout SECS]
#   --debs DIR     virtd_*.deb and virthw-dkms_*.deb (default: build them
#                  with scripts/deb.sh)
#   --kernel NAME  a kernel of tests/vm/kernels (default: trixie, Debian 13's)
#   --console      show the whole serial console
# mkimage.sh makes the disk (base root, apt-get install of the .debs, DKMS's
# build checked, the guest test); the machine boots the cache's vmlinux
# (PVH) with the root's own initramfs, root=/dev/vda on virtio-blk, systemd
# from the disk as PID 1; virtd-installed-test.service runs scenario.sh
# after multi-user.target and powers off.  Prints every VIRTD-TEST line
# (the image's and the guest's) and "N passed, N failed, N skipped"; exit 0
# only when nothing failed and the guest's verdict was seen.  The serial
# log is kept as tests/vm/out/installed-<kernel>-<stamp>.log.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$(dirname "$0")/../common.sh"
HERE=$VM_DIR/installed

usage() {
	echo "usage: $0 [--debs DIR] [--kernel NAME] [--console] [--timeout SECS]" >&2
	exit 2
}
debs="" flavor=trixie console=0 limit=1200
while [ $# -gt 0 ]; do
	case "$1" in
	--debs) debs=${2:?}; shift 2 ;;
	--kernel) flavor=${2:?}; shift 2 ;;
	--console) console=1; shift ;;
	--timeout) limit=${2:?}; shift 2 ;;
	-h | --help) usage ;;
	*) echo "$PROG: unknown argument '$1'" >&2; usage ;;
	esac
done
check_kernel "$flavor"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing: run scripts/install-deps.sh"
ensure_cache
mkdir -p "$VM_OUT"
stamp=$(date +%Y%m%d-%H%M%S)-$$
logf=$VM_OUT/installed-$flavor-$stamp.log
: >"$logf"

# Every result line goes to the console and the log, where the counts come from.
result() { echo "$1" | tee -a "$logf"; }
finish() {
	local p f s
	p=$(grep -ac '^VIRTD-TEST: PASS ' "$logf" || true)
	f=$(grep -ac '^VIRTD-TEST: FAIL ' "$logf" || true)
	s=$(grep -ac '^VIRTD-TEST: SKIP ' "$logf" || true)
	echo "$p passed, $f failed, $s skipped"
	[ "$f" -eq 0 ] && [ "$p" -gt 0 ]
	exit
}

if [ -z "$debs" ]; then
	if [ ! -x "$REPO_ROOT/scripts/deb.sh" ]; then
		result "VIRTD-TEST: SKIP installed/debs: no .debs: scripts/deb.sh is not in this tree (pass --debs DIR)"
		finish
	fi
	# Built in the root's own release; their unit tests run in the deb phase.
	suite=$(kernel_field "$flavor" root)
	log "building the $suite .debs (scripts/deb.sh $suite, log $VM_OUT/installed-deb.log)"
	if ! DEB_BUILD_OPTIONS=nocheck "$REPO_ROOT/scripts/deb.sh" --out "$VM_OUT/installed-deb" "$suite" \
		>"$VM_OUT/installed-deb.log" 2>&1; then
		result "VIRTD-TEST: FAIL installed/debs: scripts/deb.sh $suite failed: $(grep '^FAIL' "$VM_OUT/installed-deb.log" | head -n 3 | tr '\n' ';') (log $VM_OUT/installed-deb.log)"
		finish
	fi
	debs=$VM_OUT/installed-deb/$suite
fi

img=$CACHE/installed/disk-$$.ext4
trap 'rm -f "$img" "$img.initrd"' EXIT
t0=$(date +%s)
"$HERE/mkimage.sh" --kernel "$flavor" --debs "$debs" --out "$img" | tee -a "$logf"
[ "${PIPESTATUS[0]}" -eq 0 ] || { result "VIRTD-TEST: FAIL installed/image: mkimage.sh failed (output above)"; finish; }
log "image made in $(($(date +%s) - t0)) s"

vmlinux=$(kernel_dir "$flavor")/vmlinux
[ -s "$vmlinux" ] || die "$vmlinux missing: run tests/vm/fetch-kernels.sh $flavor"
# Single-threaded TCG and -cpu max as the other machines (GUEST-NOTES.md):
# nested SVM, so kvm_amd loads; the root's initramfs mounts /dev/vda.
# shellcheck disable=SC2054 # commas inside QEMU's option values
qemu=(qemu-system-x86_64 -accel tcg,thread=single -cpu max -smp 2 -m 1536
	-nographic -no-reboot -nic none -kernel "$vmlinux" -initrd "$img.initrd"
	-drive "file=$img,format=raw,if=virtio,cache=unsafe"
	-append "console=ttyS0 root=/dev/vda rw panic=-1 softlockup_panic=1 loglevel=4 fsck.mode=skip systemd.show_status=0 virtd.timeout=800 virtd.tests=installed-system")
log "booting $flavor from the installed root (limit ${limit}s); log $logf"
start=$(date +%s)
set +e
timeout -k 5 "$limit" "${qemu[@]}" </dev/null 2>&1 | sed -u 's/\r//g' | tee -a "$logf" |
	if [ "$console" = 1 ]; then cat; else grep --line-buffered '^VIRTD-TEST: '; fi
rc=${PIPESTATUS[0]}
set -e
log "qemu exit $rc after $(($(date +%s) - start)) s"
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	result "VIRTD-TEST: FAIL installed/boot: no end within ${limit}s (hung; see $logf)"
fi
if ! grep -aq '^VIRTD-END: installed-system ' "$logf"; then
	result "VIRTD-TEST: FAIL installed-system/complete: never finished (see $logf)"
elif ! grep -aq '^VIRTD-VERDICT: ' "$logf"; then
	result "VIRTD-TEST: FAIL installed/verdict: the guest printed no VIRTD-VERDICT line (see $logf)"
fi
finish
