#!/bin/bash
# Owns the Bochs boot disk: an MBR disk with one FAT partition booted by syslinux.
#
# Usage: mkdisk.sh --kernel BZIMAGE --initrd FILE --append 'CMDLINE' --out IMAGE
#
# Built without root or loop devices: the FAT file system is made in a
# separate file with mkfs.fat, filled with syslinux (mtools flavour) and
# mcopy, then written behind a syslinux MBR at sector 2048. The image size is
# a whole number of 16-head, 63-sector cylinders so that Bochs's CHS geometry
# (printed on stdout as "cylinders=C heads=16 spt=63") covers it exactly.
set -euo pipefail

prog=${0##*/}
die() { echo "$prog: $*" >&2; exit 1; }

kernel='' initrd='' append='' out=''
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=${2:?}; shift 2 ;;
	--initrd) initrd=${2:?}; shift 2 ;;
	--append) append=${2:?}; shift 2 ;;
	--out) out=${2:?}; shift 2 ;;
	*) die "unknown argument '$1' (usage: $prog --kernel F --initrd F --append S --out F)" ;;
	esac
done
if [ -z "$kernel" ] || [ -z "$initrd" ] || [ -z "$append" ] || [ -z "$out" ]; then
	die "--kernel, --initrd, --append and --out are all required"
fi
[ -r "$kernel" ] || die "kernel '$kernel' is not readable"
[ -r "$initrd" ] || die "initramfs '$initrd' is not readable"

mbr=/usr/lib/syslinux/mbr/mbr.bin
for t in syslinux mcopy mkfs.fat sfdisk; do
	command -v "$t" >/dev/null \
		|| die "'$t' is missing: run scripts/install-deps.sh (packages syslinux syslinux-common mtools dosfstools fdisk)"
done
[ -r "$mbr" ] || die "$mbr is missing: install package syslinux-common (scripts/install-deps.sh)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/virtd-bochs-disk.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# syslinux: no prompt, straight to the one entry, everything on COM1.
cat >"$tmp/syslinux.cfg" <<CFG
SERIAL 0 115200
DEFAULT virtd
PROMPT 0
TIMEOUT 0
LABEL virtd
  KERNEL /vmlinuz
  INITRD /initrd
  APPEND $append
CFG

sector=512
cyl_sectors=$((16 * 63))
start=2048
payload=$(($(stat -c %s "$kernel") + $(stat -c %s "$initrd")))
# FAT overhead and ldlinux.sys/.c32 (~150 KiB) fit in 4 MiB of slack.
part_kib=$(((payload + 4 * 1024 * 1024 + 1023) / 1024))
total=$((start + part_kib * 2))
cylinders=$(((total + cyl_sectors - 1) / cyl_sectors))
total=$((cylinders * cyl_sectors))
part_sectors=$((total - start))
# mkfs.fat counts in KiB: give it the whole partition, rounded down.
part_kib=$((part_sectors / 2))

export MTOOLS_SKIP_CHECK=1
mkfs.fat -F 16 --invariant -i 7669727a -n VIRTD -C "$tmp/part.img" "$part_kib" >/dev/null
syslinux --install "$tmp/part.img"
mcopy -i "$tmp/part.img" "$kernel" ::/vmlinuz
mcopy -i "$tmp/part.img" "$initrd" ::/initrd
mcopy -i "$tmp/part.img" "$tmp/syslinux.cfg" ::/syslinux.cfg

truncate -s $((total * sector)) "$tmp/disk.img"
# Type e: FAT16 with LBA. Fixed disk and volume ids keep the image the same
# for the same inputs.
printf 'label: dos\nlabel-id: 0x76697274\nstart=%d, size=%d, type=e, bootable\n' \
	"$start" "$part_sectors" \
	| sfdisk --quiet "$tmp/disk.img"
dd if="$mbr" of="$tmp/disk.img" bs=440 count=1 conv=notrunc status=none
dd if="$tmp/part.img" of="$tmp/disk.img" bs=$sector seek=$start conv=notrunc status=none

mv -f "$tmp/disk.img" "$out"
echo "cylinders=$cylinders heads=16 spt=63"
