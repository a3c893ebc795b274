# Shared host-side helpers for the QEMU test scripts: cache paths, kernel flavors, errors.
# shellcheck shell=bash
# Sourced, not run: the caller sets `set -euo pipefail`.
# shellcheck disable=SC2034 # variables used by the scripts that source this

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$VM_DIR/../.." && pwd)
VM_OUT="$VM_DIR/out"
CACHE="${VIRTD_TEST_CACHE:-/var/cache/virtd-tests}"
FLAVORS=(6.1 6.12)
PROG=$(basename "$0" .sh)

die() {
	echo "$PROG: error: $*" >&2
	exit 1
}

log() {
	echo "$PROG: $*" >&2
}

# Debian metapackages that follow each flavor's newest ABI.
image_meta() {
	case "$1" in
	6.1) echo linux-image-amd64 ;;
	6.12) echo linux-image-6.12-amd64 ;;
	*) die "unknown kernel flavor '$1' (known: ${FLAVORS[*]})" ;;
	esac
}

headers_meta() {
	case "$1" in
	6.1) echo linux-headers-amd64 ;;
	6.12) echo linux-headers-6.12-amd64 ;;
	*) die "unknown kernel flavor '$1' (known: ${FLAVORS[*]})" ;;
	esac
}

kernel_dir() {
	echo "$CACHE/kernels/$1"
}

# The kernel release (uname -r) of a fetched flavor, or an error naming the fix.
fetched_kver() {
	local f
	f="$(kernel_dir "$1")/kver"
	[ -s "$f" ] || die "kernel $1 not fetched: run tests/vm/fetch-kernels.sh $1"
	cat "$f"
}

# True when every output exists and is newer than every input.
up_to_date() {
	local outs=() o i
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		outs+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	for o in "${outs[@]}"; do
		[ -e "$o" ] || return 1
		for i in "$@"; do
			[ "$i" -nt "$o" ] && return 1
		done
	done
	return 0
}

ensure_cache() {
	if ! mkdir -p "$CACHE" 2>/dev/null || [ ! -w "$CACHE" ]; then
		die "cache $CACHE is not writable: run as root or set VIRTD_TEST_CACHE to a writable directory"
	fi
}
