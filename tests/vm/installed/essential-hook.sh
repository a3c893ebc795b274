#!/bin/sh
# mmdebstrap --essential-hook of the installed-system root: the initramfs configuration, written before initramfs-tools and the kernel are installed.
# $1: the root being made.  The kernel's postinst then builds a small
# initramfs (MODULES=list) that mounts an ext4 root on virtio-blk: the
# default (MODULES=most) would be ~10 times larger, and every byte of it is
# decompressed under TCG at each boot.
set -eu
root=$1
mkdir -p "$root/etc/initramfs-tools/conf.d" "$root/etc/initramfs-tools/hooks"
echo MODULES=list >"$root/etc/initramfs-tools/conf.d/virtd-test.conf"
cat >"$root/etc/initramfs-tools/hooks/virtd-test" <<'HOOK'
#!/bin/sh
# The modules the test machine's root needs: its disk (virtio-blk, the PCI transport is built in) and ext4.
[ "$1" = prereqs ] && exit 0
. /usr/share/initramfs-tools/hook-functions
manual_add_modules virtio_blk ext4 crc32c_generic
HOOK
chmod 0755 "$root/etc/initramfs-tools/hooks/virtd-test"
