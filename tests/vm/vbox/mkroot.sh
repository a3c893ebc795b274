#!/bin/bash
# Makes (once) the guest's VirtualBox root: Debian unstable with `virtualbox` installed, as an ext4 image for a virtio disk, and prints its path.
#
# Usage: tests/vm/vbox/mkroot.sh
# mmdebstrap makes the root from unstable's main and contrib (Debian's
# VirtualBox is in contrib) in a mount namespace of its own; mke2fs -d turns
# it into $VIRTD_TEST_CACHE/vbox/root-KEY.ext4, KEY a digest of the package
# list and this script, so the image is made again only when one of them
# changes.  The guest mounts the image and runs VBoxManage, VBoxSVC and
# VBoxHeadless chrooted in it; its kernel and modules are the guest's own.
# Nothing is installed onto the host.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$(dirname "$0")/../common.sh"
# shellcheck source=common.sh
. "$VM_DIR/vbox/common.sh"

[ $# -eq 0 ] || die "usage: $0 (no arguments)"
command -v mmdebstrap >/dev/null || die "mmdebstrap is missing: run scripts/install-deps.sh (or apt-get install mmdebstrap)"
command -v mke2fs >/dev/null || die "mke2fs is missing: apt-get install e2fsprogs"
ensure_cache
# util-linux for setpriv (the non-root runs); virtualbox-qt for the GUI's
# programs (VirtualBox, VirtualBoxVM), with Qt's platform plugins for its
# offscreen platform (no display in the machine); VirtualBox's other
# Recommends stay out.
pkgs=virtualbox,virtualbox-qt,qt6-qpa-plugins,util-linux
key=$( { echo "$VBOX_SUITE $pkgs"; cat "$0"; } | sha256sum | cut -c1-12)
mkdir -p "$VBOX_CACHE"
img=$VBOX_CACHE/root-$key.ext4
exec 9>"$img.lock"
flock 9
if [ -s "$img" ]; then
	echo "$img"
	exit 0
fi
root=$VBOX_CACHE/root-$key.tmp
logf=$VBOX_CACHE/root-$key.log
rm -rf "$root" "$img.tmp"
uri=$(archive_uri)
log "making the $VBOX_SUITE root with $pkgs (log $logf)"
t0=$(date +%s)
# unstable's Release file on a snapshot archive may be past its
# Valid-Until.  Documentation and translations are left out: the image is
# read by the emulated machine, every megabyte costs boot time.
unshare --mount --propagation private -- mmdebstrap --variant=apt --components=main,contrib \
	--include="$pkgs" --aptopt='Acquire::Check-Valid-Until "false"' \
	--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
	"$VBOX_SUITE" "$root" \
	"deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $VBOX_SUITE main contrib" \
	>"$logf" 2>&1 ||
	{ tail -n 20 "$logf" >&2; rm -rf "$root"; die "mmdebstrap $VBOX_SUITE failed (log: $logf)"; }
[ -x "$root/usr/lib/virtualbox/VBoxHeadless" ] ||
	{ rm -rf "$root"; die "the root has no /usr/lib/virtualbox/VBoxHeadless (virtualbox not installed? log: $logf)"; }
t1=$(date +%s)
# A quarter more than the files take, for ext4's metadata and the VM's
# files the guest writes (the disk is attached with snapshot=on).
mib=$(du -sm "$root" | cut -f1)
mke2fs -q -t ext4 -L vboxroot -E root_owner=0:0 -d "$root" "$img.tmp" "$((mib * 5 / 4 + 256))M" >>"$logf" 2>&1 ||
	{ tail -n 5 "$logf" >&2; die "mke2fs -d $root failed (log: $logf)"; }
rm -rf "$root"
mv "$img.tmp" "$img"
log "VirtualBox root ready: $mib MiB, mmdebstrap $((t1 - t0)) s, image $(($(date +%s) - t1)) s: $img"
echo "$img"
