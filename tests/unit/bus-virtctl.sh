#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# bus-virtctl.sh: virtctl status/reload/lock/probe against a real private dbus-daemon on which virtd is absent.
#
# The paths that need virtd itself are tested in the guest machines
# (tests/vm/) with the real daemon; here only what a bus without virtd,
# or no bus at all, must give: exit 4 and the words that say so.
set -u

virtctl=${VIRTCTL:-src/virtctl}
if ! command -v dbus-daemon >/dev/null 2>&1; then
	echo "1..0 # SKIP dbus-daemon not installed"
	exit 77
fi
tmp=$(mktemp -d) || exit 1
pidfile=$tmp/dbus.pid
cleanup() {
	test -s "$pidfile" && kill "$(cat "$pidfile")" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

addr=$(dbus-daemon --session --fork --nopidfile --print-address=1 --print-pid=3 3>"$pidfile") || {
	echo "1..0 # SKIP cannot start a private dbus-daemon"
	exit 77
}

n=0
failed=0
# check NAME WANT_RC WANT_STDERR_SUBSTRING -- COMMAND...
check() {
	name=$1 want_rc=$2 want_err=$3
	shift 4
	n=$((n + 1))
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -eq "$want_rc" ] && { [ -z "$want_err" ] || grep -qF -- "$want_err" "$tmp/err"; }; then
		echo "ok $n - $name (exit $rc)"
	else
		failed=$((failed + 1))
		echo "not ok $n - $name: exit $rc (want $want_rc), stderr:"
		sed 's/^/#   /' "$tmp/err"
	fi
}

export DBUS_SYSTEM_BUS_ADDRESS="$addr"
unset DBUS_SESSION_BUS_ADDRESS
check "status, virtd not on the bus" 4 "virtd is not running (systemctl start virtd)" -- "$virtctl" status
check "status --json, virtd not on the bus" 4 "virtd is not running" -- "$virtctl" status --json
check "status --full, virtd not on the bus" 4 "virtd is not running" -- "$virtctl" status -l
check "reload, virtd not on the bus" 4 "virtd is not running (systemctl start virtd)" -- "$virtctl" reload
check "lock, virtd not on the bus" 4 "virtd is not running (systemctl start virtd)" -- "$virtctl" lock -- true
check "lock --wait, virtd not on the bus" 4 "virtd is not running" -- "$virtctl" lock --wait=1 -- true
check "probe, virtd not on the bus" 4 "virtd is not running (systemctl start virtd)" -- "$virtctl" probe
check "probe --cpu --json, virtd not on the bus" 4 "virtd is not running" -- "$virtctl" probe --cpu=1 --json
DBUS_SYSTEM_BUS_ADDRESS=unix:path=$tmp/no-such-socket
check "status, no system bus" 4 "cannot connect to the system bus" -- "$virtctl" status
check "reload, no system bus" 4 "cannot connect to the system bus" -- "$virtctl" reload
check "status, bad option" 2 "unknown option '--bogus'" -- "$virtctl" status --bogus
check "status, stray argument" 2 "unexpected argument 'x'" -- "$virtctl" status x
check "reload, stray argument" 2 "unexpected argument 'now'" -- "$virtctl" reload now
check "lock, no command" 2 "missing the command to run" -- "$virtctl" lock
check "lock, bad --wait" 2 "invalid --wait value '5m'" -- "$virtctl" lock --wait=5m -- true
check "lock, empty --who" 2 "invalid --who: who is empty" -- "$virtctl" lock --who= -- true
check "lock, --who with a newline" 2 "printable ASCII" -- "$virtctl" lock "--who=a
b" -- true
check "lock, overlong --why" 2 "at most 256" -- "$virtctl" lock --why="$(printf '%0300d' 0)" -- true
check "lock, bad option" 2 "unknown option '--force'" -- "$virtctl" lock --force -- true
# Looked up before the lock is taken: a typo must not unload KVM.
check "lock, command not found" 127 "command not found; the lock was not taken" -- "$virtctl" lock -- no-such-command-virtd-test
: >"$tmp/not-executable"
chmod 0644 "$tmp/not-executable"
check "lock, command not executable" 126 "not executable" -- "$virtctl" lock -- "$tmp/not-executable"
check "lock --help" 0 "" -- "$virtctl" lock --help
check "probe --help" 0 "" -- "$virtctl" probe --help
check "probe, bad --cpu" 2 "invalid CPU number 'one'" -- "$virtctl" probe --cpu=one
check "probe, --cpu of every CPU" 2 "leave --cpu out" -- "$virtctl" probe --cpu=4294967295
check "probe, zero iterations" 2 "invalid iteration count '0': expected a number from 1 to 100000" -- "$virtctl" probe --iterations=0
check "probe, too many iterations" 2 "from 1 to 100000" -- "$virtctl" probe --iterations=100001
check "probe, stray argument" 2 "unexpected argument 'all'" -- "$virtctl" probe all
check "probe, bad option" 2 "unknown option '--fast'" -- "$virtctl" probe --fast
check "status --help" 0 "" -- "$virtctl" status --help
check "reload --help" 0 "" -- "$virtctl" reload --help

echo "1..$n"
echo "$n checks, $failed failed"
[ "$failed" -eq 0 ]
