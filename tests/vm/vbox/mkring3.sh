#!/bin/bash
# Makes (once) a small VirtualBox ring-3 tree for the Bochs machine: the programs a headless VM needs, their libraries, and the tiny VM registered; prints its directory.
#
# Usage: tests/vm/vbox/mkring3.sh
# The root mkroot.sh makes (1.1 GB) is too big for Bochs, which boots from an
# initramfs: this takes from it, with debugfs (no mount, no loop device),
# /usr/lib/virtualbox's VBoxHeadless, VBoxManage, VBoxSVC, XPCOM and its
# components, the VMM (VBoxVMM.so, VMMR0.r0, VBoxDD*.so, VBoxDDR0.r0),
# VBoxVMMPreload and VBoxCpuReport -- what VirtualBox's hardened start-up
# checks for -- and the shared libraries they need (followed through
# DT_NEEDED), about 90 MB.  The tiny VM (bootsector.S on a 1 MiB VDI, COM1
# into a file) is made here, by VBoxManage chrooted in the tree on the host
# (no driver is needed for that), in a mount and PID namespace of its own so
# that VBoxSVC ends with it.  The tree is $VIRTD_TEST_CACHE/vbox/ring3-KEY,
# KEY a digest of the root image's name, this script and the boot sector.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$(dirname "$0")/../common.sh"
# shellcheck source=common.sh
. "$VM_DIR/vbox/common.sh"

[ $# -eq 0 ] || die "usage: $0 (no arguments)"
for t in debugfs objdump unshare chroot as ld; do
	command -v "$t" >/dev/null || die "$t is missing (packages e2fsprogs, binutils, util-linux)"
done
img=$("$VBOX_DIR/mkroot.sh") || die "tests/vm/vbox/mkroot.sh failed (output above)"
key=$( { basename "$img"; cat "$0" "$VBOX_DIR/bootsector.S"; } | sha256sum | cut -c1-12)
dest=$VBOX_CACHE/ring3-$key
exec 9>"$dest.lock"
flock 9
if [ -f "$dest/.made" ]; then
	echo "$dest"
	exit 0
fi
t0=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/virtd-vbox-ring3.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
for d in /usr/lib/virtualbox /usr/lib/x86_64-linux-gnu; do
	debugfs -R "rdump $d $tmp" "$img" >/dev/null 2>"$tmp/debugfs.err" ||
		die "debugfs could not copy $d out of $img: $(tail -n 3 "$tmp/debugfs.err")"
	[ -d "$tmp/${d##*/}" ] || die "no $d in $img"
done
vb=$tmp/virtualbox lib=$tmp/x86_64-linux-gnu
new=$dest.new
rm -rf "$new" "$dest"
mkdir -p "$new/usr/lib/virtualbox" "$new/usr/lib/x86_64-linux-gnu" "$new/usr/lib64" "$new/usr/bin" \
	"$new/etc" "$new/dev" "$new/proc" "$new/sys" "$new/tmp" "$new/run" "$new/root"
ln -s usr/lib "$new/lib"
ln -s usr/lib64 "$new/lib64"
ln -s usr/bin "$new/bin"
progs="VBoxHeadless VBoxHeadless.so VBoxManage VBoxSVC VBoxXPCOM.so VBoxXPCOMC.so VBoxXPCOMIPCD.so VBoxRT.so
	VBoxVMM.so VBoxDD.so VBoxDD2.so VBoxDDU.so VMMR0.r0 VBoxDDR0.r0 VBoxVMMPreload VBoxVMMPreload.so VBoxCpuReport"
for f in $progs; do
	[ -e "$vb/$f" ] || die "no /usr/lib/virtualbox/$f in $img"
	cp -p "$vb/$f" "$new/usr/lib/virtualbox/"
done
cp -a "$vb/components" "$new/usr/lib/virtualbox/"
# The libraries: DT_NEEDED, followed until nothing new comes.
queue=()
for f in "$new"/usr/lib/virtualbox/* "$new"/usr/lib/virtualbox/components/*.so; do
	[ -f "$f" ] && queue+=("$f")
done
declare -A seen=()
while [ ${#queue[@]} -gt 0 ]; do
	f=${queue[0]}
	queue=("${queue[@]:1}")
	for n in $(objdump -p "$f" 2>/dev/null | awk '$1 == "NEEDED" { print $2 }'); do
		[ -z "${seen[$n]:-}" ] || continue
		seen[$n]=1
		[ -e "$vb/$n" ] && continue	# VirtualBox's own, copied above
		[ -e "$lib/$n" ] || die "$f needs $n, which is not in $img's /usr/lib/x86_64-linux-gnu"
		cp -L "$lib/$n" "$new/usr/lib/x86_64-linux-gnu/$n"
		queue+=("$new/usr/lib/x86_64-linux-gnu/$n")
	done
done
cp -L "$lib/ld-linux-x86-64.so.2" "$new/usr/lib64/"
echo 'root:x:0:0:root:/root:/bin/sh' >"$new/etc/passwd"
echo 'root:x:0:' >"$new/etc/group"
# The tiny VM, as vbox-lock.sh makes it.
as --32 -o "$tmp/bootsector.o" "$VBOX_DIR/bootsector.S" || die "could not assemble bootsector.S"
ld -m elf_i386 -e _start -Ttext=0x7c00 --oformat=binary -o "$tmp/bootsector.bin" "$tmp/bootsector.o" ||
	die "could not link the boot sector"
cp "$tmp/bootsector.bin" "$new/root/disk.img"
truncate -s 1M "$new/root/disk.img"
# Run by the host's shell; only VBoxManage (and the VBoxSVC it starts) in the tree.
cat >"$tmp/mkvm.sh" <<'EOF'
set -e
r=$1
mount -t proc proc "$r/proc"
mount --bind /dev "$r/dev"
mount -t tmpfs tmpfs "$r/run"
vb() { HOME=/root chroot "$r" /usr/lib/virtualbox/VBoxManage "$@"; }
b=/root/vms
vb createvm --name tiny --ostype Other --basefolder "$b" --register
vb modifyvm tiny --memory 8 --vram 1 --boot1 disk --boot2 none --boot3 none --boot4 none --nic1 none \
	--audio-driver none --usb-ohci off --uart1 0x3f8 4 --uart-mode1 file "$b/tiny.serial"
vb convertfromraw /root/disk.img "$b/tiny.vdi" --format VDI
vb storagectl tiny --name ide --add ide
vb storageattach tiny --storagectl ide --port 0 --device 0 --type hdd --medium "$b/tiny.vdi"
EOF
# A PID namespace: VBoxSVC, which outlives VBoxManage for a while, ends with it.
unshare --mount --pid --fork --propagation private -- /bin/sh "$tmp/mkvm.sh" "$new" >"$tmp/mkvm.log" 2>&1 ||
	die "making the tiny VM failed: $(tail -n 5 "$tmp/mkvm.log")"
[ -f "$new/root/vms/tiny/tiny.vbox" ] || die "VBoxManage left no tiny.vbox: $(tail -n 5 "$tmp/mkvm.log")"
rm -f "$new/root/disk.img" "$new"/root/.config/VirtualBox/VBoxSVC.log* \
	"$new"/root/.config/VirtualBox/*.dat
touch "$new/.made"
mv "$new" "$dest"
log "ring-3 tree $(du -sh "$dest" | cut -f1) in $dest, made in $(($(date +%s) - t0)) s"
echo "$dest"
