#!/bin/bash
# Prometheus's promtool from Debian 12's prometheus package, unpacked into the test cache (never installed), and the metrics check.
#
# Usage: tests/vm/promtool.sh                  print the path of promtool (fetched on first use)
#        tests/vm/promtool.sh check NAME=FILE...
#                                              `promtool check metrics` on each FILE: one line
#                                              "PASS|FAIL promtool/NAME[: detail]" each; exit 0
#                                              only if every file passed
#        tests/vm/promtool.sh rules NAME=FILE...
#                                              the same with `promtool check rules` (alerting
#                                              rules files)
# The package comes through the private apt of common.sh (the suites of the
# kernel table's bookworm line), is unpacked with dpkg -x into
# a temporary directory, and only usr/bin/promtool is kept, as
# $VIRTD_TEST_CACHE/promtool/VERSION/promtool: no service, user or unit
# reaches the host.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

SUITES=bookworm,bookworm-updates,bookworm-security

# promtool_path: the unpacked promtool, fetching the package when the cache lacks it.
promtool_path() {
	local version dir deb
	ensure_cache
	apt_private_update "$SUITES"
	version=$(apt_private "$SUITES" apt-cache show --no-all-versions prometheus 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
	[ -n "$version" ] || die "no prometheus package in $SUITES (private lists in $(apt_dir "$SUITES"))"
	dir=$CACHE/promtool/${version//:/%3a}
	if [ ! -x "$dir/promtool" ]; then
		rm -rf "$dir.tmp"
		mkdir -p "$dir.tmp/deb"
		log "downloading prometheus $version (for promtool)"
		(cd "$dir.tmp/deb" && apt_private "$SUITES" apt-get download -q "prometheus=$version" >/dev/null 2>../err) ||
			{ cat "$dir.tmp/err" >&2; die "apt-get download prometheus=$version failed (network?)"; }
		deb=$(ls "$dir.tmp/deb/prometheus_"*.deb | head -n1)
		dpkg -x "$deb" "$dir.tmp/root" || die "dpkg -x $deb failed"
		[ -x "$dir.tmp/root/usr/bin/promtool" ] || die "$deb has no usr/bin/promtool"
		mkdir -p "$dir"
		mv "$dir.tmp/root/usr/bin/promtool" "$dir/promtool"
		rm -rf "$dir.tmp"
	fi
	echo "$dir/promtool"
}

if [ $# -eq 0 ]; then
	promtool_path
	exit 0
fi
case "${1:-}" in
check | rules) [ $# -ge 2 ] || die "usage: $0 [check|rules NAME=FILE...]" ;;
*) die "usage: $0 [check|rules NAME=FILE...]" ;;
esac
what=$1
shift
tool=$(promtool_path)
rc=0
for a in "$@"; do
	name=${a%%=*} file=${a#*=}
	[ "$name" != "$a" ] || die "'$a': expected NAME=FILE"
	if [ ! -s "$file" ]; then
		echo "FAIL promtool/$name: $file is missing or empty"
		rc=1
	elif [ "$what" = rules ]; then
		if out=$("$tool" check rules "$file" 2>&1); then
			echo "PASS promtool/$name: $(echo "$out" | grep -o '[0-9]* rules found')"
		else
			echo "FAIL promtool/$name: $(echo "$out" | tr '\n' ';' | cut -c1-300) ($file)"
			rc=1
		fi
	elif out=$("$tool" check metrics <"$file" 2>&1) && [ -z "$out" ]; then
		echo "PASS promtool/$name: $(grep -c '^virtd_' "$file") samples"
	else
		echo "FAIL promtool/$name: $(echo "$out" | tr '\n' ';' | cut -c1-300) ($file)"
		rc=1
	fi
done
exit "$rc"
