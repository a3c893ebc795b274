# Scenario: virtctl lock under policy boot: foreign-hv gets SVM on every CPU only with the lock, KVM is blocked meanwhile, status shows the holder, and boot comes back after.

lock_setup || return 1
expect_virt boot-on on

# Without the lock, KVM holds SVM: the foreign hypervisor is refused.
foreign-hv --hold=0 </dev/null >"$LIB_TMP/fhv.out" 2>&1
expect unlocked-busy 1 "$?" "foreign-hv under boot without the lock: $(cat "$LIB_TMP/fhv.out")"
check unlocked-busy-message grep -q 'in use by another hypervisor (EBUSY)' "$LIB_TMP/fhv.out"
expect_virt unlocked-still-on on

lock_start "$LIB_TMP/lock.out" --who=test -- foreign-hv --hold=600
if ! lock_wait_taken "$LIB_TMP/lock.out" || ! fhv_wait_on "$LIB_TMP/lock.out"; then
	fail taken "virtctl lock: $(tr '\n' ';' <"$LIB_TMP/lock.out"); virtd: $(virtd_log_tail 3)"
	return 1
fi
pass taken "$(grep 'lock taken' "$LIB_TMP/lock.out")"
check taken-message grep -q "^virtctl: lock taken (virtualization off on $(nr_online)/$(nr_online) CPUs); running foreign-hv" "$LIB_TMP/lock.out"
# foreign-hv found every CPU free and holds them all: by virthw and the MSRs.
expect_virt held on
check no-dev-kvm test ! -e /dev/kvm
check vendor-unloaded test ! -e "/sys/module/$KVM_VENDOR_MOD"
vm_try
expect no-vm 3 "$VM_TRY_RC" "kvm-vm with the lock held (3: no /dev/kvm): $(cat "$LIB_TMP/vm-try.out")"
/usr/sbin/modprobe "$KVM_VENDOR_MOD" >/dev/null 2>&1
check modprobe-blocked test ! -e /dev/kvm

# Status: the holder (who, why, pid, since) and who owns the CPUs.
status
expect status-exit 0 "$STATUS_RC" "virtctl status --json exit while locked"
expect status-state locked "$(st state)"
expect status-who test "$(st locks.0.who)"
expect status-why "test of $SCENARIO" "$(st locks.0.why)"
expect status-pid "$LOCK_PID" "$(st locks.0.pid)" "the holder is virtctl"
_since=$(st locks.0.since_usec)
case "$_since" in
'' | *[!0-9]*) fail status-since "since_usec '$_since'" ;;
*) pass status-since "$_since" ;;
esac
expect status-owner lock "$(cpu_owners)" "per-CPU owners"
expect status-one-lock 1 "$(grep -c '^locks\.[0-9]*\.who	' "$LIB_TMP/status.flat")"
_r=$(st reason)
if echo "$_r" | grep -q "test" && echo "$_r" | grep -q "$LOCK_PID"; then
	pass status-reason "$_r"
else
	fail status-reason "reason '$_r' names neither the holder nor its pid $LOCK_PID"
fi
virtctl status >"$LIB_TMP/ctl.out" 2>&1
expect human-exit 0 "$?"
if grep -q "test (pid $LOCK_PID) since .*: test of $SCENARIO" "$LIB_TMP/ctl.out"; then
	pass human-lock "$(grep "test (pid $LOCK_PID) since" "$LIB_TMP/ctl.out" | head -n 1)"
else
	fail human-lock "no 'test (pid $LOCK_PID) since ...: test of $SCENARIO' in: $(tr '\n' ';' <"$LIB_TMP/ctl.out" | cut -c1-300)"
fi

# Release: SIGTERM to virtctl reaches foreign-hv, which turns SVM off and
# exits 0; virtctl returns that status and releases; boot comes back.
kill -TERM "$LOCK_PID"
fhv_reap "$LOCK_PID" 30
expect release-exit 0 "$FHV_RC" "virtctl lock exit after SIGTERM: $(tr '\n' ';' <"$LIB_TMP/lock.out")"
check release-fhv-off grep -q '^foreign-hv: svm off (SIGTERM)' "$LIB_TMP/lock.out"
virtd_wait_state released-holds holds 60
expect_status released-status policy=boot applied_policy=boot state=holds verify.ok=true
expect released-no-lock 0 "$(nr_locks)"
expect_policy_applied released boot
vm_try
expect released-vm 0 "$VM_TRY_RC" "kvm-vm after the release: $(cat "$LIB_TMP/vm-try.out")"
if grep -q "released by test (pid $LOCK_PID)" "$VIRTD_LOG"; then
	pass released-logged "$(grep "released by test" "$VIRTD_LOG" | tail -n 1)"
else
	fail released-logged "virtd's log has no 'released by test (pid $LOCK_PID)': $(virtd_log_tail 4)"
fi

# The command's own exit status comes back; a missing command is 127.
virtctl lock --who=exit -- sh -c 'exit 7' </dev/null >"$LIB_TMP/lock.out" 2>&1
expect command-status 7 "$?" "$(tr '\n' ';' <"$LIB_TMP/lock.out")"
virtctl lock --who=missing -- /nonexistent/hypervisor </dev/null >"$LIB_TMP/lock.out" 2>&1
expect command-missing 127 "$?" "$(tr '\n' ';' <"$LIB_TMP/lock.out")"
virtd_wait_state end-holds holds 60
expect_virt end-on on
check stop virtd_stop
