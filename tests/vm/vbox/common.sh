# Shared by the VirtualBox test scripts: the private apt for unstable with contrib, cache paths.
# shellcheck shell=bash
# Sourced after tests/vm/common.sh; the caller sets `set -euo pipefail`.
# shellcheck disable=SC2034 # variables used by the scripts that source this

VBOX_DIR=$VM_DIR/vbox
# Debian's VirtualBox is in contrib, and only in unstable (and backports).
VBOX_SUITE=sid
VBOX_APT=vbox-$VBOX_SUITE
VBOX_CACHE=$CACHE/vbox

# vbox_apt_update: the private apt for unstable's main and contrib (lists
# older than 6 hours are updated); apt_private "$VBOX_APT" ... then uses it.
vbox_apt_update() {
	local dir uri
	dir=$(apt_dir "$VBOX_APT")
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
	uri=$(archive_uri)
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $VBOX_SUITE main contrib" >"$dir/sources.list.new"
	exec 7>"$dir/.lock"
	flock 7
	if cmp -s "$dir/sources.list.new" "$dir/sources.list" && [ -n "$(find "$dir/.updated" -mmin -360 2>/dev/null)" ]; then
		rm -f "$dir/sources.list.new"
		exec 7>&-
		return 0
	fi
	mv "$dir/sources.list.new" "$dir/sources.list"
	log "apt-get update for $VBOX_SUITE main contrib (private lists in $dir)"
	apt_private "$VBOX_APT" apt-get -q update >"$dir/update.log" 2>&1 ||
		{ sed 's/^/  /' "$dir/update.log" >&2; die "apt-get update for $VBOX_SUITE contrib failed (network? the archive in /etc/apt/sources.list.d?)"; }
	touch "$dir/.updated"
	exec 7>&-
}
