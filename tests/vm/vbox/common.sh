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
	apt_private_update "$VBOX_SUITE" "main contrib" "$VBOX_APT"
}
