# Scenario: non-root callers through the real polkitd: uid 1000 outside vboxusers is refused the lock with the action named, a vboxusers member gets it (and still no Reload or Probe), root needs no polkitd, a stopped polkitd is named, and virtd answers GetStatus while a polkit question is pending.
#
# polkit reads a user's groups from the group database, not from the
# caller's process: membership of vboxusers is a line added to /etc/group
# (and the group given to the process too, as a login would).  The rule is
# the shipped conf/60-virtd-vboxusers.rules, the actions conf/org.virtd1.policy.

need_prog unpriv-check && need_prog virtctl || return 1
daemon_env || return 1
need_virthw || return 1
virtd_conf boot
virtd_start start || return 1
virtd_wait_state holds holds || return 1

GROUP_SAVE=$LIB_TMP/group.orig
cp /etc/group "$GROUP_SAVE"
VBOX_GID=$(awk -F: '{ if ($3 > m) m = $3 } END { print m + 1 }' /etc/group)
# as_user GROUPS CMD...: CMD as uid 1000 (gid 1000, supplementary GROUPS or
# none); run_as's $LIB_TMP/as.out and AS_RC.
as_user() {
	_g=$1
	shift
	run_as "1000:1000${_g:+:$_g}" "$@"
}
# refused_as CHECK GROUPS REGEX CMD...: CMD fails, and prints REGEX.
refused_as() {
	_c=$1 _gr=$2 _re=$3
	shift 3
	as_user "$_gr" "$@"
	as_refused "$_c" "uid 1000" "$_re" "$*"
}
lock_cycle_done() {	# lock_cycle_done CHECK: no holder left and boot holds again
	wait_for 60 nr_locks_is 0 || { fail "$1-released" "$(nr_locks) holders left"; return 1; }
	virtd_wait_state "$1-holds" holds 60
}
expect_no_lock() { expect "$1" 0 "$(nr_locks)" "no holder after a refusal"; }

# --- root: no polkitd needed ------------------------------------------------
check no-polkitd polkit_off_bus
virtctl lock --who=virtualbox --why="test of $SCENARIO" -- sh -c 'echo root-ran-under-lock' </dev/null \
	>"$LIB_TMP/root-lock.out" 2>&1
expect root-lock-exit 0 "$?" "$(tr '\n' ';' <"$LIB_TMP/root-lock.out")"
check root-lock-ran grep -q '^root-ran-under-lock$' "$LIB_TMP/root-lock.out"
lock_cycle_done root-lock
check root-reload virtctl reload

# --- polkitd stopped (never started): non-root is told so -----------------------
refused_as absent-lock "" 'Not authorized for org\.virtd1\.acquire-foreign \(caller uid 1000\): polkit is not running.*only root' \
	virtctl lock --who=virtualbox -- true
expect_no_lock absent-no-lock

# --- polkitd running: uid 1000 outside vboxusers ---------------------------------
check polkit-up polkit_up || return 1
refused_as plain-lock "" \
	'^virtctl: .*Not authorized for org\.virtd1\.acquire-foreign \(caller uid 1000\): add the user to group vboxusers, or ask an administrator$' \
	virtctl lock --who=virtualbox -- true
# One line: what virtd said, nothing else around it.
expect plain-lock-one-line 1 "$(wc -l <"$LIB_TMP/as.out")" "$(as_text)"
check plain-lock-no-run sh -c "! grep -q ran-under-lock '$LIB_TMP/as.out'"
# shellcheck disable=SC2086 # VIRTD_BUS is several words
refused_as plain-bus-error "" 'org\.freedesktop\.DBus\.Error\.AccessDenied' \
	dbus-send --print-reply $VIRTD_BUS org.virtd1.Manager.AcquireForeign string:tester string:polkit uint64:0 uint64:0
refused_as plain-reload "" 'Not authorized for org\.virtd1\.reload \(caller uid 1000\): ask an administrator' virtctl reload
expect_no_lock plain-no-lock
expect_status plain-unchanged state=holds applied_policy=boot

# --- uid 1000 in vboxusers: the lock, nothing else -------------------------------
echo "vboxusers:x:$VBOX_GID:tester" >>/etc/group
as_user "$VBOX_GID" virtctl lock --who=virtualbox --why="test of $SCENARIO" -- sh -c 'echo vbox-ran-under-lock; id'
if [ "$AS_RC" = 0 ] && grep -q '^vbox-ran-under-lock$' "$LIB_TMP/as.out"; then
	pass vbox-lock "$(grep -m1 'lock taken' "$LIB_TMP/as.out")"
else
	fail vbox-lock "virtctl lock as a vboxusers member exited $AS_RC: $(as_text); virtd: $(virtd_log_tail 3)"
fi
check vbox-lock-taken grep -q '^virtctl: lock taken' "$LIB_TMP/as.out"
check vbox-lock-as-user grep -q "uid=1000.*$VBOX_GID" "$LIB_TMP/as.out"
check vbox-lock-logged grep -q 'polkit authorized org.virtd1.acquire-foreign for uid 1000' "$VIRTD_LOG"
lock_cycle_done vbox-lock
refused_as vbox-reload "$VBOX_GID" 'Not authorized for org\.virtd1\.reload \(caller uid 1000\)' virtctl reload
refused_as vbox-probe "$VBOX_GID" 'Not authorized for org\.virtd1\.probe \(caller uid 1000\)' virtctl probe
expect_no_lock vbox-no-lock

# --- a pending polkit question blocks nobody else ----------------------------------
# polkitd stopped in its tracks: virtd's question waits in its socket.
kill -STOP "$POLKIT_PID"
bg_start "$LIB_TMP/pending.out" unpriv-check --as="1000:1000:$VBOX_GID" -- virtctl reload
PENDING_PID=$BG_PID
sleep 1
_t0=$(now_ms)
timeout 10 virtctl status >"$LIB_TMP/pending-status.out" 2>&1
_rc=$? _ms=$(($(now_ms) - _t0))
if [ "$_rc" = 0 ] && grep -q holds "$LIB_TMP/pending-status.out"; then
	pass pending-status-answered "in $_ms ms"
else
	fail pending-status-answered "virtctl status exited $_rc after $_ms ms: $(tr '\n' ';' <"$LIB_TMP/pending-status.out" | cut -c1-200)"
fi
check pending-still-waiting sh -c "! grep -q . '$LIB_TMP/pending.out' && [ -d /proc/$PENDING_PID ]"
kill -CONT "$POLKIT_PID"
if wait_for 30 proc_gone "$PENDING_PID"; then
	wait "$PENDING_PID"
	_rc=$?
	if [ "$_rc" != 0 ] && grep -q 'Not authorized for org.virtd1.reload (caller uid 1000)' "$LIB_TMP/pending.out"; then
		pass pending-answered "after polkitd went on: $(head -n 1 "$LIB_TMP/pending.out" | cut -c1-160)"
	else
		fail pending-answered "exited $_rc: $(tr '\n' ';' <"$LIB_TMP/pending.out")"
	fi
else
	fail pending-answered "virtctl reload still waiting 30 s after polkitd went on"
fi

# --- polkitd stopped: the vboxusers member is told polkit is not running -----------
check polkit-down polkit_down
refused_as down-lock "$VBOX_GID" 'Not authorized for org\.virtd1\.acquire-foreign \(caller uid 1000\): polkit is not running' \
	virtctl lock --who=virtualbox -- true
expect_no_lock down-no-lock
expect_status end-unchanged state=holds applied_policy=boot
cp "$GROUP_SAVE" /etc/group
check stop virtd_stop
