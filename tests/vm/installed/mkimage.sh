#!/bin/bash
# Makes the installed-system test's disk: a Debian root with systemd, dkms and the test kernel, the project's .debs installed by apt-get, as an ext4 image.
#
# Usage: tests/vm/installed/mkimage.sh --debs DIR --out IMAGE [--kernel NAME]
#   --debs DIR     where virtd_*.deb and virthw-dkms_*.deb are
#   --out IMAGE    the ext4 image to write; IMAGE.initrd gets the root's own
#                  initramfs (update-initramfs, run by the kernel's postinst)
#   --kernel NAME  the kernel of tests/vm/kernels (default: trixie); the root
#                  is of that kernel's suite (its "root" column)
# Steps: (1) the base root, made once with mmdebstrap and kept as a tarball
# in $VIRTD_TEST_CACHE/installed/, keyed by suite, packages, kernel version
# and these scripts; (2) unpacked, the .debs installed with
# `apt-get install ./virtd_*.deb ./virthw-dkms_*.deb` under chroot (DKMS
# builds virthw for the kernel there, as on a real host) and checked; (3)
# the guest test (tests/vm/guest/init, lib.sh, installed/scenario.sh) and its
# unit added; (4) `mke2fs -d`, no loop mount.  Prints VIRTD-TEST lines for
# the host-side checks; exits 1 when the image could not be made.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$(dirname "$0")/../common.sh"
HERE=$VM_DIR/installed

usage() {
	echo "usage: $0 --debs DIR --out IMAGE [--kernel NAME]" >&2
	exit 2
}
debs="" out="" flavor=trixie
while [ $# -gt 0 ]; do
	case "$1" in
	--debs) debs=${2:?}; shift 2 ;;
	--out) out=${2:?}; shift 2 ;;
	--kernel) flavor=${2:?}; shift 2 ;;
	-h | --help) usage ;;
	*) echo "$PROG: unknown argument '$1'" >&2; usage ;;
	esac
done
[ -n "$debs" ] && [ -n "$out" ] || usage
for t in mmdebstrap mke2fs unshare; do
	command -v "$t" >/dev/null || die "$t is missing: run scripts/install-deps.sh"
done
ensure_cache

report() {	# report PASS|FAIL CHECK [DETAIL]: a host-side check, in the guest's protocol
	echo "VIRTD-TEST: $1 installed-image/$2${3:+: $3}"
}

# --- (1) the base root ---------------------------------------------------------
kver=$(fetched_kver "$flavor")
base=$("$HERE/base-root.sh" "$flavor") || die "$HERE/base-root.sh $flavor failed (output above)"

# --- (2) the .debs, installed as an administrator installs them ---------------
shopt -s nullglob
d_virtd=("$debs"/virtd_*.deb) d_dkms=("$debs"/virthw-dkms_*.deb)
shopt -u nullglob
[ ${#d_virtd[@]} -eq 1 ] && [ ${#d_dkms[@]} -eq 1 ] ||
	die "$debs must hold one virtd_*.deb and one virthw-dkms_*.deb (found: $(cd "$debs" 2>/dev/null && echo *.deb))"
stage=$CACHE/installed/stage-$$
trap 'rm -rf "$stage"' EXIT
rm -rf "$stage"
mkdir -p "$stage"
tar -C "$stage" -xf "$base"
mkdir -p "$stage/root/debs"
cp "${d_virtd[0]}" "${d_dkms[0]}" "$stage/root/debs/"
# Every path of the root before the packages, for the guest's check that
# the purge leaves nothing behind.
mkdir -p "$stage/tests"
(cd "$stage" && find . -mindepth 1 -path ./tests -prune -o -path ./root/debs -prune -o -print |
	sed 's/^\.//' | LC_ALL=C sort) >"$stage/tests/files-before-install"

# chroot_run COMMAND...: COMMAND in the staged root with /proc, /sys and /dev
# (objtool and dkms want them), in a mount namespace of its own.
# shellcheck disable=SC2016 # expanded by the inner shell
chroot_run() {
	unshare --mount --propagation private -- /bin/sh -ec '
		r=$1; shift
		mount -t proc proc "$r/proc"
		mount -t sysfs sysfs "$r/sys"
		mount --rbind /dev "$r/dev"
		exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"' sh "$stage" "$@"
}
ilog=$VM_OUT/installed-apt-install.log
mkdir -p "$VM_OUT"
t0=$(date +%s)
# Without virtd's Recommends (polkitd and what it pulls in): the guest's
# purge check counts the paths the project's packages leave behind, and
# polkitd's would stay until an autoremove.  polkit itself is tested in the
# QEMU daemon suite (scenarios/daemon-polkit.sh, the real polkitd).
if chroot_run /bin/sh -c 'cd /root/debs && apt-get install -y -q --no-install-recommends ./virtd_*.deb ./virthw-dkms_*.deb' >"$ilog" 2>&1; then
	report PASS apt-install "apt-get install --no-install-recommends ./$(basename "${d_virtd[0]}") ./$(basename "${d_dkms[0]}") in $(($(date +%s) - t0)) s"
else
	report FAIL apt-install "apt-get install exited $? (log $ilog): $(tail -n 3 "$ilog" | tr '\n' ';')"
	exit 1
fi
ko=$(find "$stage/lib/modules/$kver/updates" -name 'virthw.ko*' 2>/dev/null | head -n 1)
if [ -n "$ko" ]; then
	report PASS dkms-built "${ko#"$stage"}"
else
	report FAIL dkms-built "no virthw.ko under /lib/modules/$kver/updates after the install (log $ilog): $(grep -i dkms "$ilog" | tail -n 3 | tr '\n' ';')"
fi
st=$(chroot_run dkms status virthw 2>&1 || true)
if grep -q "virthw/.*, $kver, x86_64: installed" <<<"$st"; then
	report PASS dkms-status "$st"
else
	report FAIL dkms-status "dkms status virthw: '$st', expected installed for $kver"
fi
mi=$(chroot_run modinfo -k "$kver" -n virthw 2>&1 || true)
case "$mi" in
*/updates/dkms/virthw.ko*) report PASS modinfo "$mi" ;;
*) report FAIL modinfo "modinfo -k $kver -n virthw: '$mi' (depmod did not index DKMS's module)" ;;
esac

# --- (3) the guest test: the runner of the other machines, under systemd -------
install -m 0755 "$VM_DIR/guest/init" "$stage/tests/init"
install -m 0644 "$VM_DIR/guest/lib.sh" "$stage/tests/lib.sh"
install -D -m 0644 "$HERE/scenario.sh" "$stage/tests/scenarios/installed-system.sh"
install -m 0644 "$HERE/virtd-installed-test.service" "$stage/etc/systemd/system/"
mkdir -p "$stage/etc/systemd/system/multi-user.target.wants"
ln -sf ../virtd-installed-test.service "$stage/etc/systemd/system/multi-user.target.wants/"
# The archive's lists were for the install above; the guest has no network.
rm -rf "$stage"/var/lib/apt/lists/* "$stage"/var/cache/apt/*.bin
cp "$stage/boot/initrd.img-$kver" "$out.initrd"

# --- (4) the disk ------------------------------------------------------------------
# Room for the guest's journal and the reinstall; mke2fs -d copies the tree
# (owners, modes, device nodes) without mounting anything.
mib=$(($(du -sm "$stage" | cut -f1) + 384))
rm -f "$out"
t0=$(date +%s)
mke2fs -q -F -t ext4 -L virtd-root -d "$stage" "$out" "${mib}M" >"$VM_OUT/installed-mke2fs.log" 2>&1 ||
	die "mke2fs -d failed (log $VM_OUT/installed-mke2fs.log)"
log "wrote $out (${mib} MiB, mke2fs in $(($(date +%s) - t0)) s) and $out.initrd"
