#!/bin/sh
# mmdebstrap --customize-hook of the installed-system root: what makes it a bootable machine for the tests.
# $1: the root.  Root on /dev/vda (QEMU's virtio disk), a fixed machine id,
# no login prompt on the serial console (the tests' lines are the console's
# protocol), multi-user.target as the default.
set -eu
root=$1
echo '/dev/vda / ext4 rw,errors=remount-ro 0 1' >"$root/etc/fstab"
echo virtd-installed >"$root/etc/hostname"
echo 5d7a1c0e9b8f4a6d8e2f3c4b5a697882 >"$root/etc/machine-id"
ln -sf /dev/null "$root/etc/systemd/system/serial-getty@ttyS0.service"
ln -sf /usr/lib/systemd/system/multi-user.target "$root/etc/systemd/system/default.target"
test -s "$root/boot/initrd.img-$(ls "$root/lib/modules")" || { echo "customize-hook: no initramfs in /boot" >&2; exit 1; }
