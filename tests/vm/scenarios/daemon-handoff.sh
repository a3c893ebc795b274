# Scenario: transparent hand-off: under policy boot, a profile's program (a copy of foreign-hv, in HandOffPrograms= and installed after virtd started) run without virtctl lock waits in execve(2) while virtd unloads KVM, then turns SVM on; status shows the hand-off's lock for it, a second run gets in at once under that lock, the exit brings boot back and a KVM VM runs (also after virtd was killed and started again meanwhile: the lock's metadata names the process); with a KVM VM running and HandOffTimeout=1s the run fails with EPERM and the log names the VM; HandOff=no lets it run at once with no lock (EBUSY: KVM keeps SVM).

PROFILES=/etc/virtd/profiles
HO_PROFILE=$PROFILES/hoff-test.conf
HO_DIR=/usr/local/lib/hoff-test
HO_BIN=$HO_DIR/foreign-hv
_t_scenario=$(now_ms)

daemon_env || return 1
need_virthw && need_prog virtctl && need_foreignhv || return 1
mkdir -p "$PROFILES" "$HO_DIR"
rm -f "$HO_BIN"
cat >"$HO_PROFILE" <<PROFILE
# written by the guest tests ($SCENARIO)
[Profile]
Description=the project's stand-in hypervisor, handed off
Modules=foreignhv
Devices=/dev/foreignhv
Processes=foreign-hv
Who=hoff-test
HandOffPrograms=$HO_BIN

[Mode]
Rule = any any exclusive foreign-hv turns SVM on itself ($SCENARIO's profile)
PROFILE
# Forced as well: the hand-off must take the exclusive path whatever the CPU.
HO_CONF="Mode.hoff-test=exclusive"
virtd_conf boot "[Hypervisor]" "$HO_CONF"
_taint0=$(cat /proc/sys/kernel/tainted)
virtd_start start || return 1
virtd_wait_state boot-holds holds || return 1
reload_ok() {	# reload_ok CHECK: virtctl reload succeeds
	if virtctl reload >"$LIB_TMP/reload.out" 2>&1; then
		pass "$1"
	else
		fail "$1" "virtctl reload exited $?: $(head -n 3 "$LIB_TMP/reload.out" | tr '\n' ';'); virtd: $(virtd_log_tail 3)"
	fi
}
# Nothing to mark yet: no permission event in use (Debian's kernels taint on the first).
expect no-taint-yet "$_taint0" "$(cat /proc/sys/kernel/tainted)" "taint with no program to watch"
# Installed while virtd runs, as a package would be (renamed into place): marked when it appears.
cp "$(command -v foreign-hv)" "$HO_BIN.tmp" && mv "$HO_BIN.tmp" "$HO_BIN"
if wait_for 10 grep -qF "Hand-off: watching $HO_BIN (profile hoff-test)" "$VIRTD_LOG"; then
	pass prog-marked "marked once installed"
else
	fail prog-marked "no 'watching $HO_BIN' in the log: $(virtd_log_tail 4)"
fi
note "kernel taint after the first mark: $(cat /proc/sys/kernel/tainted) (before: $_taint0)"
expect_virt boot-on on

# The start waits while KVM goes; foreign-hv turning SVM on proves every CPU free.
_t0=$(now_ms)
fhv_start "$LIB_TMP/fhv.out" "$HO_BIN" --hold=600
HO_PID=$FHV_PID
if fhv_wait_on "$LIB_TMP/fhv.out" 30; then
	pass handed-off "start to svm on in $(($(now_ms) - _t0)) ms: $(head -n 1 "$LIB_TMP/fhv.out")"
	check vendor-unloaded test ! -e "/sys/module/$KVM_VENDOR_MOD"
	expect_virt held on
	status
	expect holder "hoff-test $HO_PID" "$(st locks.0.who) $(st locks.0.pid)" "the lock's who and pid"
	expect holder-why "hand-off: foreign-hv (pid $HO_PID) runs $HO_BIN" "$(st locks.0.why)" "the lock's why"
	expect holder-state locked "$(st state)" "virtd's state"
	HV_I=$(hv_index hoff-test)
	expect status-handoff "active true true $HO_PID foreign-hv" "$(st handoff.state) $(st locks.0.handoff) \
$(st "hypervisors.$HV_I.holders.0.handoff") $(st "hypervisors.$HV_I.holders.0.processes.0.pid") \
$(st "hypervisors.$HV_I.holders.0.processes.0.comm")" "hand-off state, the lock and its process in status"
	expect status-watched "$HO_BIN true" "$(st "hypervisors.$HV_I.handoff_programs.0.path") \
$(st "hypervisors.$HV_I.handoff_programs.0.watched")" "the program, watched"
	virtctl status >"$LIB_TMP/ctl.out" 2>&1
	check human-holder grep -qF "held by hoff-test (pid $HO_PID, hand-off)" "$LIB_TMP/ctl.out"
	check human-procs grep -qF "Hand-off for: foreign-hv (pid $HO_PID)" "$LIB_TMP/ctl.out"
	if grep -qE "Hand-off: +active, 1 of [0-9]+ programs? watched" "$LIB_TMP/ctl.out"; then
		pass human-state "$(grep -m1 'Hand-off:' "$LIB_TMP/ctl.out" | sed 's/^ *//')"
	else
		fail human-state "no 'Hand-off: active, 1 of N programs watched': $(grep -i 'hand-off' "$LIB_TMP/ctl.out" | tr '\n' ';')"
	fi
	check taken-logged grep -qF "Hand-off: foreign-hv (pid $HO_PID) runs $HO_BIN, allowed under hoff-test's lock" "$VIRTD_LOG"
	# Another run while the hand-off holds: in at once (EBUSY: the first has SVM), no second lock.
	_t1=$(now_ms)
	"$HO_BIN" --hold=0 </dev/null >"$LIB_TMP/second.out" 2>&1
	expect second-run 1 "$?" "a second run under the hand-off ($(($(now_ms) - _t1)) ms): $(cat "$LIB_TMP/second.out")"
	check second-busy grep -q 'in use by another hypervisor (EBUSY)' "$LIB_TMP/second.out"
	expect second-one-lock 1 "$(nr_locks)" "holders after the second run"
	# virtd killed and started again while the program runs: the lock's
	# metadata names the process (handoff=PID:START), so the new virtd holds
	# the lock for it again, KVM stays out, and its exit still releases it.
	check restart-metadata grep -q "^handoff=$HO_PID:[0-9][0-9]*\$" "$VIRTD_LOCK_DIR"/*.lock
	check restart-kill virtd_kill
	if virtd_start restart; then
		virtd_wait_state restart-locked locked 30
		status
		expect restart-lock "hoff-test $HO_PID true $HO_PID" "$(st locks.0.who) $(st locks.0.pid) $(st locks.0.handoff) \
$(st "hypervisors.$HV_I.holders.0.processes.0.pid")" "the lock held again by hand-off, for the same process"
		check restart-vendor-out test ! -e "/sys/module/$KVM_VENDOR_MOD"
		expect_virt restart-held on
		check restart-logged grep -qF "Hand-off: foreign-hv (pid $HO_PID) runs under hoff-test's lock" "$VIRTD_LOG"
	fi
	kill -TERM "$HO_PID" 2>/dev/null
	fhv_reap "$HO_PID"
	expect fhv-exit 0 "$FHV_RC" "foreign-hv after SIGTERM: $(tr '\n' ';' <"$LIB_TMP/fhv.out")"
	if wait_for 30 nr_locks_is 0; then
		pass released "$(grep -F 'Hand-off: the last process' "$VIRTD_LOG" | tail -n 1)"
	else
		fail released "$(nr_locks) holders after foreign-hv exited: $(virtd_log_tail 3)"
	fi
else
	fail handed-off "foreign-hv: $(tr '\n' ';' <"$LIB_TMP/fhv.out"); virtd: $(virtd_log_tail 4)"
	kill -TERM "$HO_PID" 2>/dev/null
	fhv_reap "$HO_PID"
fi
virtd_wait_state back-holds holds
if check vm-after vm_start; then
	expect_virt vm-after-on on
	check vm-after-stop vm_stop
fi

# A KVM VM runs and the timeout is short: denied (EPERM), the VM named, KVM and the VM untouched.
virtd_conf boot "[Hypervisor]" "$HO_CONF" "HandOffTimeout=1s"
reload_ok reload-timeout
if check deny-vm vm_start; then
	_t0=$(now_ms)
	"$HO_BIN" --hold=0 </dev/null >"$LIB_TMP/deny.out" 2>&1
	_rc=$?
	_ms=$(($(now_ms) - _t0))
	if [ "$_rc" -ne 0 ] && grep -qi "not permitted" "$LIB_TMP/deny.out" && ! grep -q '^foreign-hv:' "$LIB_TMP/deny.out"; then
		pass deny-eperm "exit $_rc: $(head -n 1 "$LIB_TMP/deny.out")"
	else
		fail deny-eperm "exit $_rc, expected EPERM from execve: $(tr '\n' ';' <"$LIB_TMP/deny.out")"
	fi
	if [ "$_ms" -ge 900 ] && [ "$_ms" -lt 10000 ]; then
		pass deny-time "denied after $_ms ms"
	else
		fail deny-time "denied after $_ms ms, expected about 1 s"
	fi
	if grep -E "Hand-off: .* \(pid [0-9]+\) runs $HO_BIN, denied: hoff-test's lock cannot be had: .*pid $VM_PID" \
		"$VIRTD_LOG" >"$LIB_TMP/deny.log"; then
		pass deny-logged "$(head -n 1 "$LIB_TMP/deny.log")"
	else
		fail deny-logged "no denial naming pid $VM_PID: $(virtd_log_tail 4)"
	fi
	check deny-vm-alive kill -0 "$VM_PID"
	expect deny-no-lock 0 "$(nr_locks)" "holders after the denial"
	expect deny-state holds "$(st state)" "virtd's state after the denial"
	check deny-vm-stop vm_stop
fi

# HandOff=no: no fanotify; the program runs at once and KVM keeps SVM (foreign-hv gets EBUSY).
virtd_conf boot "[Hypervisor]" "$HO_CONF" "HandOff=no"
reload_ok reload-off
check off-logged grep -qF "Hand-off: turned off (HandOff=no)" "$VIRTD_LOG"
_t0=$(now_ms)
"$HO_BIN" --hold=0 </dev/null >"$LIB_TMP/off.out" 2>&1
_rc=$?
_ms=$(($(now_ms) - _t0))
expect off-busy 1 "$_rc" "foreign-hv with HandOff=no ($_ms ms): $(cat "$LIB_TMP/off.out")"
check off-busy-message grep -q 'in use by another hypervisor (EBUSY)' "$LIB_TMP/off.out"
expect off-no-lock 0 "$(nr_locks)" "holders with HandOff=no"
expect off-state off "$(st handoff.state)" "hand-off state with HandOff=no"
expect_virt off-still-on on

rm -f "$HO_PROFILE" "$HO_BIN"
check stop virtd_stop
check unload foreignhv_unload
note "took $(($(now_ms) - _t_scenario)) ms"
