# Scenario: virtd killed and restarted while a lock holder runs: the holder keeps the lock and KVM stays out; a holder that died while virtd was down leaves no stale lock.

lock_setup || return 1

lock_fhv_taken survivor || return 1
H=$LOCK_PID

# SIGKILL virtd: nothing runs the policy; the drop-in keeps KVM out.
check kill virtd_kill
check down-holder-alive test -d "/proc/$H"
/usr/sbin/modprobe "$KVM_VENDOR_MOD" >/dev/null 2>&1
check down-blocked test ! -e /dev/kvm
expect_virt down-held on
virtd_start restart || return 1
wait_for 30 virtd_state_is locked
expect_status restart-status state=locked locks.0.who=survivor locks.0.pid="$H"
expect restart-owner lock "$(cpu_owners)" "per-CPU owners after the restart"
check restart-no-dev-kvm test ! -e /dev/kvm
expect_virt restart-held on
check restart-holder-alive test -d "/proc/$H"
if grep -qi 'adopted' "$VIRTD_LOG"; then
	pass restart-logged "$(grep -i adopted "$VIRTD_LOG" | head -n 1)"
else
	fail restart-logged "no 'Adopted' line in virtd's log: $(virtd_log_tail 4)"
fi
# The adopted lock still ends with its holder.
kill -TERM "$H"
fhv_reap "$H" 30
expect holder-exit 0 "$FHV_RC" "$(tr '\n' ';' <"$LIB_TMP/lock.out")"
virtd_wait_state released-holds holds 60
expect released-no-lock 0 "$(nr_locks)"
expect_policy_applied released boot
vm_try
expect released-vm 0 "$VM_TRY_RC" "$(cat "$LIB_TMP/vm-try.out")"

# Stale: the holder dies while virtd is down.  After the restart the lock
# is gone and boot holds again.
lock_start "$LIB_TMP/lock.out" --who=stale -- foreign-hv --hold=600
if ! lock_wait_taken "$LIB_TMP/lock.out" || ! fhv_wait_on "$LIB_TMP/lock.out"; then
	fail stale-taken "$(tr '\n' ';' <"$LIB_TMP/lock.out"); virtd: $(virtd_log_tail 3)"
	return 1
fi
H=$LOCK_PID
check stale-kill virtd_kill
expect stale-files 1 "$(lock_files)" "lock files while virtd is down"
# Both virtctl and its hypervisor die without a word.
_child=$(child_pid "$H" foreign-hv)
kill -KILL "$H" "$_child"
fhv_reap "$H"
wait_for 10 proc_gone "$_child"
expect_virt stale-fhv-gone off
check stale-still-blocked test ! -e /dev/kvm
virtd_start stale-restart || return 1
virtd_wait_state stale-holds holds 60
expect stale-no-lock 0 "$(nr_locks)"
expect stale-no-files 0 "$(lock_files)"
expect_policy_applied stale boot
vm_try
expect stale-vm 0 "$VM_TRY_RC" "$(cat "$LIB_TMP/vm-try.out")"
check stop virtd_stop
