#!/bin/bash
# Downloads Debian's virtualbox-dkms and virtualbox packages (unstable, contrib) into the test cache, unpacks the driver's sources, and prints their directory.
#
# Usage: tests/vm/vbox/fetch.sh
# Through a private apt (sources list, lists and download cache under
# $VIRTD_TEST_CACHE/apt/vbox-sid/; the archive's address is read from the
# host's apt configuration at run time).  The packages go to
# $VIRTD_TEST_CACHE/vbox/debs/; virtualbox-dkms's /usr/src/virtualbox-VER is
# unpacked into $VIRTD_TEST_CACHE/vbox/src/VER (printed on stdout), once per
# version.  Nothing is installed onto the host.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../common.sh
. "$(dirname "$0")/../common.sh"
# shellcheck source=common.sh
. "$VM_DIR/vbox/common.sh"

[ $# -eq 0 ] || die "usage: $0 (no arguments)"
ensure_cache
vbox_apt_update
debs=$VBOX_CACHE/debs
mkdir -p "$debs"
for p in virtualbox-dkms virtualbox; do
	v=$(apt_private "$VBOX_APT" apt-cache policy "$p" | sed -n 's/^  Candidate: //p')
	[ -n "$v" ] && [ "$v" != "(none)" ] ||
		die "no $p in $VBOX_SUITE contrib (see $(apt_dir "$VBOX_APT")/update.log)"
	f=$(ls "$debs/${p}_${v#*:}_"*.deb 2>/dev/null | head -n 1 || true)
	if [ -z "$f" ]; then
		log "downloading $p $v"
		(cd "$debs" && apt_private "$VBOX_APT" apt-get -q -o APT::Sandbox::User=root download "$p=$v" >&2) ||
			die "apt-get download $p=$v failed"
		f=$(ls "$debs/${p}_${v#*:}_"*.deb)
	fi
	echo "$v" >"$debs/$p.version"
	echo "$f" >"$debs/$p.deb"
done
dkms_deb=$(cat "$debs/virtualbox-dkms.deb")
upver=$(cat "$debs/virtualbox-dkms.version")
upver=${upver%%-*}
src=$VBOX_CACHE/src/$upver
if [ ! -f "$src/.unpacked" ]; then
	log "unpacking $(basename "$dkms_deb")'s driver sources into $src"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	dpkg-deb -x "$dkms_deb" "$src.tmp/deb"
	sdir=$(ls -d "$src.tmp"/deb/usr/src/virtualbox-* 2>/dev/null | head -n 1)
	[ -d "$sdir/vboxdrv" ] || die "$(basename "$dkms_deb") has no usr/src/virtualbox-*/vboxdrv"
	mv "$sdir" "$src"
	rm -rf "$src.tmp"
	basename "$dkms_deb" >"$src/.unpacked"
fi
echo "$src"
