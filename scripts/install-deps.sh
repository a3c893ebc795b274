#!/bin/bash
# Installs, from Debian 12's archive, everything needed to build virtd and
# to run its tests and demo (compilers, libraries, emulators, mmdebstrap).
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: must run as root (it calls apt-get install)" >&2
	exit 1
fi

pkgs=(
	# build
	build-essential autoconf automake libtool pkg-config
	libsystemd-dev libkmod-dev libnl-3-dev libnl-genl-3-dev libinih-dev libjson-c-dev
	mandoc
	# Debian packages (scripts/deb.sh): debian/control's Build-Depends, lintian
	debhelper dh-dkms bash-completion lintian
	# fuzzers (tests/fuzz/run.sh): clang and its libFuzzer runtime
	clang-16 libclang-rt-16-dev
	# kernel module: the test kernels and their headers are fetched by
	# tests/vm/fetch-kernels.sh (a private apt, never installed here) and the
	# module is built in a build root of the kernel's suite made with
	# mmdebstrap; depmod (kmod) indexes the unpacked modules
	mmdebstrap debian-archive-keyring kmod
	# the installed-system test's disk: an ext4 image made with mke2fs -d
	e2fsprogs
	# test machines
	qemu-system-x86 busybox-static cpio xz-utils zstd
	# the daemon's test image copies these from the host: the system bus,
	# udevd, systemd as PID 1, kmod's modprobe, polkitd (tests/vm/mkinitramfs.sh --daemon)
	systemd udev dbus-daemon dbus-bin dbus-system-bus-common polkitd
	bochs bochsbios vgabios syslinux syslinux-common mtools dosfstools fdisk
	iproute2
	# tests/vm/vbox: the tiny VM's boot sector (as, ld) and the VirtualBox
	# root's ext4 image (mke2fs -d, e2fsprogs above)
	binutils
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' \
		|| missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#pkgs[@]} packages present"
	exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Another apt run (a second test command, unattended-upgrades) may hold the
# dpkg lock for a while: wait for it instead of failing.
apt-get -o DPkg::Lock::Timeout=900 update -q
apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "${missing[@]}"
