# Scenario: load: 10,000 GetStatus calls from 50 clients at once while 50 waiters time out and 100 holders take the lock together; every call answered, descriptors and memory back after.
#
# The latency figures (p50/p99 under load against idle) are printed as
# "bench:" notes, not judged: under TCG on a shared host they swing.  What
# is judged: every call succeeds, every waiter ends in Timeout no sooner
# than asked, every holder is granted, virtd holds again after, its
# descriptor count is back where it started and its RSS grew by no more
# than LOAD_RSS_BOUND_KB.

LOAD_CALLS=10000 LOAD_CLIENTS=50 LOAD_HOLDERS=100 LOAD_WAITERS=50 LOAD_WAIT_MS=3000
LOAD_RSS_BOUND_KB=1024

need_prog bus-bench && need_prog kvm-vm && need_prog virtctl || return 1
daemon_env || return 1
need_virthw || return 1
virtd_conf boot
virtd_start start || return 1
virtd_wait_state holds holds || return 1

# shellcheck disable=SC2012 # descriptor names are numbers
virtd_fds() { ls "/proc/$VIRTD_PID/fd" | wc -l; }
virtd_rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$VIRTD_PID/status"; }
virtd_fds_are() { [ "$(virtd_fds)" = "$1" ]; }
# field NAME FILE: NAME=VALUE's value in a bus-bench line.
field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" "$2" | head -n 1; }

# Idle: one client, one call at a time.
if bus-bench --count=100 >"$LIB_TMP/idle.out" 2>&1; then
	pass idle "$(cat "$LIB_TMP/idle.out")"
else
	fail idle "$(tr '\n' ';' <"$LIB_TMP/idle.out")"
	return 1
fi
idle_p50=$(sed -n 's/.*median_us=\([0-9]*\).*/\1/p' "$LIB_TMP/idle.out")
idle_p99=$(field p99_us "$LIB_TMP/idle.out")
fd0=$(virtd_fds) rss0=$(virtd_rss_kb)
note "virtd before the load: $fd0 descriptors, RSS $rss0 kB"

# A VM of the tests, so that waiting requests wait.
check vm-start vm_start || return 1
wait_status vm-counted vm_count 1 || return 1
t0=$(now_ms)
bg_start "$LIB_TMP/load.out" bus-bench --count=$LOAD_CALLS --clients=$LOAD_CLIENTS
LOAD_PID=$BG_PID

# 50 waiters at once, each asking to wait 3 s for the VM to end: all time out.
bus-bench --waiters=$LOAD_WAITERS --timeout-ms=$LOAD_WAIT_MS >"$LIB_TMP/waiters.out" 2>&1
expect waiters-timed-out 0 "$?" "$(tr '\n' ';' <"$LIB_TMP/waiters.out")"
expect waiters-all $LOAD_WAITERS "$(field timed_out "$LIB_TMP/waiters.out")" "$(cat "$LIB_TMP/waiters.out")"
check waiters-message grep -q 'message: waited 3.0 s' "$LIB_TMP/waiters.out"
check waiters-under-load test -d "/proc/$LOAD_PID"
expect waiters-none-left 0 "$(nr_locks)" "holders after the waiters"

# 100 holders at once once the VM is gone.
vm_stop
wait_status vm-gone vm_count 0 || return 1
bus-bench --holders=$LOAD_HOLDERS --hold-ms=1000 >"$LIB_TMP/holders.out" 2>&1
expect holders-granted 0 "$?" "$(tr '\n' ';' <"$LIB_TMP/holders.out")"
expect holders-all $LOAD_HOLDERS "$(field granted "$LIB_TMP/holders.out")" "$(cat "$LIB_TMP/holders.out")"
expect holders-property $LOAD_HOLDERS "$(field foreign_locks "$LIB_TMP/holders.out")"
if [ -d "/proc/$LOAD_PID" ]; then
	pass holders-under-load "the GetStatus clients were still running when the holders let go"
else
	note "the GetStatus clients were done before the holders let go"
fi

# Every GetStatus call answered.
if wait_for 120 proc_gone "$LOAD_PID"; then
	wait "$LOAD_PID"
	expect load-exit 0 "$?" "$(tr '\n' ';' <"$LIB_TMP/load.out")"
else
	fail load-exit "the clients were not done after 120 s: $(tr '\n' ';' <"$LIB_TMP/load.out")"
fi
t1=$(now_ms)
expect load-ok $LOAD_CALLS "$(field ok "$LIB_TMP/load.out")" "$(cat "$LIB_TMP/load.out")"
expect load-failed 0 "$(field failed "$LIB_TMP/load.out")"

# Back to idle: boot holds again, no lock left, descriptors and memory back.
virtd_wait_state idle-holds holds 60
expect_status idle-status policy=boot applied_policy=boot state=holds verify.ok=true vm_count=0
expect idle-no-lock-files 0 "$(lock_files)"
if wait_for 10 virtd_fds_are "$fd0"; then
	pass fds-back "$fd0 descriptors"
else
	fail fds-back "$(virtd_fds) descriptors, $fd0 before the load: $(for _f in "/proc/$VIRTD_PID/fd"/*; do readlink "$_f"; done | sed "s/:.*//" | sort | uniq -c | tr "\n" ";")"
fi
rss1=$(virtd_rss_kb)
if [ -n "$rss0" ] && [ -n "$rss1" ] && [ $((rss1 - rss0)) -le $LOAD_RSS_BOUND_KB ]; then
	pass rss-bound "RSS $rss0 kB before, $rss1 kB after ($((rss1 - rss0)) kB, bound $LOAD_RSS_BOUND_KB kB)"
else
	fail rss-bound "RSS '$rss0' kB before, '$rss1' kB after: more than $LOAD_RSS_BOUND_KB kB growth"
fi
check virtd-alive test -d "/proc/$VIRTD_PID"

# The figures: latency under load as a ratio to idle.
load_p50=$(field p50_us "$LIB_TMP/load.out") load_p99=$(field p99_us "$LIB_TMP/load.out")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "?" }'; }
note "bench: GetStatus idle p50 ${idle_p50} us p99 ${idle_p99} us; under load ($LOAD_CLIENTS clients, $LOAD_WAITERS waiters, $LOAD_HOLDERS holders) p50 ${load_p50} us ($(ratio "$load_p50" "$idle_p50")x) p99 ${load_p99} us ($(ratio "$load_p99" "$idle_p99")x), max $(field max_us "$LIB_TMP/load.out") us; $LOAD_CALLS calls in $(field wall_ms "$LIB_TMP/load.out") ms"
note "bench: waiters answered $(field first_ms "$LIB_TMP/waiters.out")-$(field last_ms "$LIB_TMP/waiters.out") ms after the first call (asked $LOAD_WAIT_MS); holders granted $(field first_ms "$LIB_TMP/holders.out")-$(field last_ms "$LIB_TMP/holders.out") ms after the first call"
note "bench: virtd descriptors $fd0 -> $(virtd_fds), RSS $rss0 -> $rss1 kB; load phase $((t1 - t0)) ms"
check stop virtd_stop
