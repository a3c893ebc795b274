# Shared host-side helpers for the QEMU test scripts: cache paths, kernel flavors, errors.
# shellcheck shell=bash
# Sourced, not run: the caller sets `set -euo pipefail`.
# shellcheck disable=SC2034 # variables used by the scripts that source this

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$VM_DIR/../.." && pwd)
VM_OUT="$VM_DIR/out"
CACHE="${VIRTD_TEST_CACHE:-/var/cache/virtd-tests}"
PROG=$(basename "$0" .sh)

die() {
	echo "$PROG: error: $*" >&2
	exit 1
}

log() {
	echo "$PROG: $*" >&2
}

# The kernel matrix (tests/vm/kernels): one line per kernel.
KERNELS_TABLE=$VM_DIR/kernels
declare -A KTAB
FLAVORS=()
while read -r _name _sources _image _headers _root _qemu _bochs _rest; do
	case "$_name" in '' | '#'*) continue ;; esac
	[ -n "$_bochs" ] && [ -z "$_rest" ] ||
		die "$KERNELS_TABLE: the line for '$_name' needs 7 fields (name sources image headers root qemu bochs)"
	FLAVORS+=("$_name")
	KTAB[$_name.sources]=$_sources KTAB[$_name.image]=$_image KTAB[$_name.headers]=$_headers
	KTAB[$_name.root]=$_root KTAB[$_name.qemu]=$_qemu KTAB[$_name.bochs]=$_bochs
done <"$KERNELS_TABLE"
unset _name _sources _image _headers _root _qemu _bochs _rest

# kernel_field NAME FIELD: a column of the table, or an error naming the known kernels.
kernel_field() {
	[ -n "${KTAB[$1.$2]:-}" ] || die "unknown kernel '$1' (known: ${FLAVORS[*]}; see tests/vm/kernels)"
	echo "${KTAB[$1.$2]}"
}
check_kernel() { kernel_field "$1" image >/dev/null; }
image_meta() { kernel_field "$1" image; }
headers_meta() { kernel_field "$1" headers; }
# The kernels whose column FIELD (qemu or bochs) says VALUE.
kernels_with() {
	local k
	for k in "${FLAVORS[@]}"; do
		[ "${KTAB[$k.$1]}" = "$2" ] && echo "$k"
	done
	return 0
}

# Debian's archive and its security archive, as the host's apt knows them
# (never written into the tree).
archive_uri() {	# archive_uri [security]
	local want=${1:-main} f uri
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		uri=$(awk -v want="$want" '
			/^URIs:/ { u = $2 } /^Suites:/ { s = $0 }
			/^$/ { if (u != "") print u "\t" s; u = ""; s = "" }
			END { if (u != "") print u "\t" s }' "$f" |
			awk -F'\t' -v want="$want" '(want == "security") == ($2 ~ /-security/) { print $1; exit }')
		[ -n "$uri" ] && { echo "$uri"; return; }
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		uri=$(awk -v want="$want" '$1 == "deb" { u = ($2 ~ /^\[/) ? $3 : $2; s = ($2 ~ /^\[/) ? $4 : $3
			if ((want == "security") == (s ~ /-security/)) { print u; exit } }' "$f")
		[ -n "$uri" ] && { echo "$uri"; return; }
	done
	[ "$want" = security ] && uri=$(archive_uri) && { echo "${uri%/debian}/debian-security"; return; }
	die "no Debian archive in /etc/apt/sources.list.d/*.sources or sources.list: add a Debian archive or mirror there"
}

# A private apt for a comma-separated list of suites: its own sources list,
# lists and download cache under the test cache, nothing installed and the
# host's apt state untouched.  apt_private SUITES apt-get|apt-cache ARGS...
apt_dir() {
	echo "$CACHE/apt/${1//,/+}"
}
apt_private() {
	local suites=$1 tool=$2 dir
	shift 2
	dir=$(apt_dir "$suites")
	"$tool" -o Dir::Etc::sourcelist="$dir/sources.list" -o Dir::Etc::sourceparts=- \
		-o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache" -o Dir::State::status=/dev/null \
		-o Acquire::Check-Valid-Until=false -o APT::Get::List-Cleanup=false "$@"
}
# Writes the sources list and updates the lists when older than 6 hours.
# COMPONENTS defaults to main; KEY (default SUITES) names the private apt, for
# apt_private KEY ..., when another component list needs lists of its own.
apt_private_update() {	# apt_private_update SUITES [COMPONENTS [KEY]]
	local suites=$1 components=${2:-main} dir s uri main sec
	dir=$(apt_dir "${3:-$suites}")
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
	main=$(archive_uri) sec=$(archive_uri security)
	for s in ${suites//,/ }; do
		case "$s" in *-security) uri=$sec ;; *) uri=$main ;; esac
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $s $components"
	done >"$dir/sources.list.new"
	exec 7>"$dir/.lock"
	flock 7
	if cmp -s "$dir/sources.list.new" "$dir/sources.list" && [ -n "$(find "$dir/.updated" -mmin -360 2>/dev/null)" ]; then
		rm -f "$dir/sources.list.new"
		exec 7>&-
		return 0
	fi
	mv "$dir/sources.list.new" "$dir/sources.list"
	log "apt-get update for ${suites//,/ } $components (private lists in $dir)"
	apt_private "${3:-$suites}" apt-get -q update >"$dir/update.log" 2>&1 ||
		{ sed 's/^/  /' "$dir/update.log" >&2; die "apt-get update for $suites failed (network? the archive in /etc/apt/sources.list.d?)"; }
	touch "$dir/.updated"
	exec 7>&-
}

kernel_dir() {
	echo "$CACHE/kernels/$1"
}

# The kernel release (uname -r) of a kernel of the table, fetching it first
# when the cache does not have it.
fetched_kver() {
	local f
	f="$(kernel_dir "$1")/kver"
	if [ ! -s "$f" ]; then
		log "kernel $1 not fetched yet: fetching it"
		"$VM_DIR/fetch-kernels.sh" "$1" >&2 || die "tests/vm/fetch-kernels.sh $1 failed (output above)"
	fi
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

# in_root ROOT DIR COMMAND...: runs COMMAND chrooted in the build root ROOT
# with the host directory DIR bind-mounted at /work and /proc mounted, all
# in a mount namespace of its own (nothing stays mounted, and builds in the
# same root may run side by side).  COMMAND runs in /work.
in_root() {
	local root=$1 dir=$2
	shift 2
	command -v unshare >/dev/null || die "unshare is missing (package util-linux)"
	mkdir -p "$root/work" "$root/proc"
	unshare --mount --propagation private -- /bin/sh -ec '
		root=$1 dir=$2; shift 2
		mount --bind "$dir" "$root/work"
		mount -t proc proc "$root/proc"
		exec chroot "$root" /bin/sh -c "cd /work && exec \"\$@\"" sh "$@"' sh "$root" "$dir" "$@"
}

# The packages a kernel's module build needs in its build root: the
# compiler the headers name, and the tools kbuild runs (pahole for BTF, objtool's
# libelf, W=1's kernel-doc in perl).  root_kernel_packages GCC
root_kernel_packages() {
	echo "$1" make libc6-dev libelf-dev pahole bc kmod xz-utils zstd perl
}
