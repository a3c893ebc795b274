#!/bin/bash
# Debian 12's promtool and node_exporter, unpacked into the test cache (never installed), against virtd's metrics files and alerting rules.
#
# Usage: tests/vm/prometheus.sh promtool|node-exporter
#                                     print the path of the program (fetched on first use)
#        tests/vm/prometheus.sh check NAME=FILE...
#                                     `promtool check metrics` on each FILE
#        tests/vm/prometheus.sh rules NAME=FILE...
#                                     `promtool check rules` on each (alerting rules) FILE
#        tests/vm/prometheus.sh textfile NAME=FILE...
#                                     each FILE alone in the textfile directory of a
#                                     node_exporter on 127.0.0.1 (textfile collector
#                                     only), scraped: no scrape error, and every sample
#                                     of FILE in the scrape with its value
# Each FILE gets one line "PASS|FAIL <promtool|node-exporter>/NAME[: detail]";
# exit 0 only if every one passed.  The packages (prometheus,
# prometheus-node-exporter) come through the private apt of common.sh (the
# suites of the kernel table's bookworm line) and are unpacked with dpkg -x
# into a temporary directory; only the one program is kept, as
# $VIRTD_TEST_CACHE/prometheus/PACKAGE-VERSION/PROGRAM: no service, user or
# unit reaches the host.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"

SUITES=bookworm,bookworm-updates,bookworm-security

# fetched PACKAGE PROGRAM: the path of usr/bin/PROGRAM of PACKAGE, fetching it when the cache lacks it.
fetched() {
	local pkg=$1 prog=$2 version dir deb
	ensure_cache
	apt_private_update "$SUITES"
	version=$(apt_private "$SUITES" apt-cache show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
	[ -n "$version" ] || die "no $pkg package in $SUITES (private lists in $(apt_dir "$SUITES"))"
	dir=$CACHE/prometheus/$pkg-${version//:/%3a}
	if [ ! -x "$dir/$prog" ]; then
		rm -rf "$dir.tmp"
		mkdir -p "$dir.tmp/deb"
		log "downloading $pkg $version (for $prog)"
		(cd "$dir.tmp/deb" && apt_private "$SUITES" apt-get download -q "$pkg=$version" >/dev/null 2>../err) ||
			{ cat "$dir.tmp/err" >&2; die "apt-get download $pkg=$version failed (network?)"; }
		deb=$(ls "$dir.tmp/deb/${pkg}_"*.deb | head -n1)
		dpkg -x "$deb" "$dir.tmp/root" || die "dpkg -x $deb failed"
		[ -x "$dir.tmp/root/usr/bin/$prog" ] || die "$deb has no usr/bin/$prog"
		mkdir -p "$dir"
		mv "$dir.tmp/root/usr/bin/$prog" "$dir/$prog"
		rm -rf "$dir.tmp"
	fi
	echo "$dir/$prog"
}

# scrape PORT: GET /metrics from 127.0.0.1:PORT through bash's /dev/tcp (no HTTP client needed).
scrape() {
	local body
	exec 5<>"/dev/tcp/127.0.0.1/$1" || return 1
	printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&5
	body=$(cat <&5)
	exec 5<&-
	printf '%s\n' "$body" | tr -d '\r' | sed '1,/^$/d'
}

# The node_exporter of textfile_check, its directory and port.
NE_PID="" NE_DIR="" NE_PORT=""
ne_stop() {
	[ -z "$NE_PID" ] || { kill "$NE_PID" 2>/dev/null; wait "$NE_PID" 2>/dev/null || true; }
	[ -z "$NE_DIR" ] || rm -rf "$NE_DIR" "$NE_DIR.log"
	NE_PID=""
}
trap ne_stop EXIT
# ne_start: node_exporter with the textfile collector alone, on a free port of 127.0.0.1.
ne_start() {
	local ne
	ne=$(fetched prometheus-node-exporter prometheus-node-exporter)
	NE_DIR=$(mktemp -d)
	for _ in 1 2 3 4 5; do
		NE_PORT=$((20000 + (RANDOM % 20000)))
		"$ne" --collector.disable-defaults --collector.textfile --collector.textfile.directory="$NE_DIR" \
			--web.listen-address="127.0.0.1:$NE_PORT" >"$NE_DIR.log" 2>&1 &
		NE_PID=$!
		for _ in $(seq 50); do
			scrape "$NE_PORT" >/dev/null 2>&1 && return 0
			kill -0 "$NE_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill "$NE_PID" 2>/dev/null
		wait "$NE_PID" 2>/dev/null || true
		NE_PID=""
	done
	die "node_exporter did not come up on 127.0.0.1: $(tail -n 3 "$NE_DIR.log")"
}

# textfile_one NAME FILE: FILE alone in the directory, one scrape, judged.
textfile_one() {
	local name=$1 file=$2 out missing err
	rm -f "$NE_DIR"/*.prom
	cp "$file" "$NE_DIR/.virtd.prom.tmp"
	mv "$NE_DIR/.virtd.prom.tmp" "$NE_DIR/virtd.prom"
	out=$(scrape "$NE_PORT") || { echo "FAIL node-exporter/$name: no answer from node_exporter"; return 1; }
	err=$(printf '%s\n' "$out" | awk '$1 == "node_textfile_scrape_error" { print $2 }')
	# Every sample of the file, its value compared as a number (Go prints floats its own way).
	missing=$(awk 'NR == FNR { if ($1 ~ /^virtd_/) got[$1] = $2; next }
		$1 ~ /^virtd_/ && (!($1 in got) || got[$1] + 0 != $2 + 0) { print $1 " " $2 " (scraped: " got[$1] ")" }' \
		<(printf '%s\n' "$out") "$file" | head -n 3 | tr '\n' ';')
	if [ "$err" = 0 ] && [ -z "$missing" ]; then
		echo "PASS node-exporter/$name: $(grep -c '^virtd_' "$file") samples scraped as written"
	else
		echo "FAIL node-exporter/$name: node_textfile_scrape_error '${err:-absent}'${missing:+, not scraped as written: $missing} ($file; node_exporter: $(tail -n 2 "$NE_DIR.log" | tr '\n' ';'))"
		return 1
	fi
}

run_checks() {	# run_checks check|rules|textfile NAME=FILE...
	local what=$1 tool name file out rc=0 a
	shift
	case "$what" in
	check | rules) tool=$(fetched prometheus promtool) ;;
	textfile) ne_start ;;
	esac
	for a in "$@"; do
		name=${a%%=*} file=${a#*=}
		[ "$name" != "$a" ] || die "'$a': expected NAME=FILE"
		if [ ! -s "$file" ]; then
			echo "FAIL $([ "$what" = textfile ] && echo node-exporter || echo promtool)/$name: $file is missing or empty"
			rc=1
		elif [ "$what" = textfile ]; then
			textfile_one "$name" "$file" || rc=1
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
	return "$rc"
}

case "${1:-}" in
promtool) fetched prometheus promtool ;;
node-exporter) fetched prometheus-node-exporter prometheus-node-exporter ;;
check | rules | textfile)
	[ $# -ge 2 ] || die "usage: $0 check|rules|textfile NAME=FILE..."
	run_checks "$@"
	;;
*) die "usage: $0 promtool|node-exporter, or $0 check|rules|textfile NAME=FILE..." ;;
esac
