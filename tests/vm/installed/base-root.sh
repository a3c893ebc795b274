#!/bin/bash
# Makes (once) the installed-system test's base root: Debian with systemd, dbus, udev, dkms and the test kernel with its headers, as a tarball; prints its path.
#
# Usage: tests/vm/installed/base-root.sh [KERNEL]   (default: trixie)
# The root is of the kernel's suite (its "root" column in tests/vm/kernels)
# and holds exactly that kernel's image and headers (the version
# fetch-kernels.sh resolved), the compiler the headers name, and the
# libraries the project's .debs link against.  mmdebstrap --format=tar
# writes it to $VIRTD_TEST_CACHE/installed/base-SUITE-KEY.tar, KEY a digest
# of suite, sources, packages, this script and its hooks: it is made again
# only when one of them changes.  The kernel's postinst builds the root's
# initramfs (essential-hook.sh configures it); customize-hook.sh makes the
# root bootable on QEMU's virtio disk.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$(dirname "$0")/../common.sh"
HERE=$VM_DIR/installed

flavor=${1:-trixie}
command -v mmdebstrap >/dev/null || die "mmdebstrap is missing: run scripts/install-deps.sh"
ensure_cache
kver=$(fetched_kver "$flavor")
kdir=$(kernel_dir "$flavor")
version=$(cat "$kdir/version")
compiler=$(cat "$kdir/compiler")
suite=$(kernel_field "$flavor" root)
sources=$(kernel_field "$flavor" sources)
# What a host that runs virtd has: systemd as init, the bus, udev, kmod,
# DKMS with the running kernel's headers and their compiler; the .debs'
# libraries are included so that installing them needs no download.
pkgs=(systemd systemd-sysv dbus udev kmod dkms initramfs-tools zstd
	"linux-image-$kver=$version" "linux-headers-$kver=$version" "$compiler" make
	libsystemd0 libkmod2 libnl-3-200 libnl-genl-3-200 libinih1 libjson-c5)
key=$( { echo "$suite $sources ${pkgs[*]}"; cat "$0" "$HERE/essential-hook.sh" "$HERE/customize-hook.sh"; } |
	sha256sum | cut -c1-12)
base=$CACHE/installed/base-$suite-$key.tar
mkdir -p "$CACHE/installed"
exec 9>"$base.lock"
flock 9
if [ -s "$base" ]; then
	echo "$base"
	exit 0
fi
mirrors=()
for s in ${sources//,/ }; do
	case "$s" in *-security) uri=$(archive_uri security) ;; *) uri=$(archive_uri) ;; esac
	mirrors+=("deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $s main")
done
log "making the base root ($suite, kernel $kver) into $base"
t0=$(date +%s)
# In a mount namespace of its own: what mmdebstrap mounts goes with it.  The
# apt lists stay, for the .debs' install (mkimage.sh removes them after).
unshare --mount --propagation private -- mmdebstrap --variant=minbase --format=tar \
	--include="$(IFS=,; echo "${pkgs[*]}")" \
	--aptopt='Acquire::Check-Valid-Until "false"' \
	--essential-hook="$HERE/essential-hook.sh" --customize-hook="$HERE/customize-hook.sh" \
	--skip=cleanup/apt/lists \
	"$suite" "$base.tmp" "${mirrors[@]}" >"$base.log" 2>&1 ||
	{ tail -n 20 "$base.log" >&2; rm -f "$base.tmp"; die "mmdebstrap $suite failed (log: $base.log)"; }
mv "$base.tmp" "$base"
log "base root ready in $(($(date +%s) - t0)) s ($(du -h "$base" | cut -f1))"
echo "$base"
