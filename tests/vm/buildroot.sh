#!/bin/bash
# Makes (once) a Debian build root with mmdebstrap and prints its path: where modules and the userspace are compiled for another release.
#
# Usage: tests/vm/buildroot.sh SUITE PACKAGE...
# The root lives in $VIRTD_TEST_CACHE/roots/SUITE-KEY, KEY a digest of the
# suite, the package list and this script, so a root is made again only when
# one of them changes.  Nothing is installed onto the host: mmdebstrap
# downloads into the root itself.  Roots are plain directories used with
# chroot (see in_root in common.sh).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

[ $# -ge 2 ] || die "usage: $0 SUITE PACKAGE..."
suite=$1
shift
command -v mmdebstrap >/dev/null || die "mmdebstrap is missing: run scripts/install-deps.sh (or apt-get install mmdebstrap)"
ensure_cache
pkgs=$(printf '%s\n' "$@" | sort -u | paste -sd, -)
key=$( { echo "$suite $pkgs"; cat "$0"; } | sha256sum | cut -c1-12)
root=$CACHE/roots/$suite-$key
mkdir -p "$CACHE/roots"
exec 9>"$root.lock"
flock 9
if [ -f "$root/.virtd-root" ]; then
	echo "$root"
	exit 0
fi
rm -rf "$root.tmp"
log "making the $suite build root ($pkgs) in $root"
uri=$(archive_uri)
t0=$(date +%s)
# sid's Release file on a snapshot archive may be past its Valid-Until.
# mmdebstrap (as root) mounts /proc, /sys and /dev in the new root: in a
# mount namespace of its own they go with it even when it dies halfway, and
# never outlive it in the host's (where rm -rf of the cache would meet them).
unshare --mount --propagation private -- mmdebstrap --variant=apt --include="$pkgs" --aptopt='Acquire::Check-Valid-Until "false"' \
	"$suite" "$root.tmp" \
	"deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main" \
	>"$CACHE/roots/$suite-$key.log" 2>&1 ||
	{ tail -n 20 "$CACHE/roots/$suite-$key.log" >&2; die "mmdebstrap $suite failed (log: $CACHE/roots/$suite-$key.log)"; }
echo "$suite $pkgs" >"$root.tmp/.virtd-root"
mv "$root.tmp" "$root"
log "$suite build root ready in $(($(date +%s) - t0)) s"
echo "$root"
