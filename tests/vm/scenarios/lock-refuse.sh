# Scenario: virtctl lock while KVM VMs run: refused at once naming the VM (exit 5), --wait times out (exit 6) or is granted when the last VM ends; nobody is denied.

lock_setup || return 1

# An unprivileged caller: denied by the bus policy, nothing changes.
su -s /bin/sh nobody -c 'virtctl lock --who=nobody -- true' </dev/null >"$LIB_TMP/nobody.out" 2>&1
_rc=$?
if [ "$_rc" -eq 1 ]; then
	pass nobody-denied "exit $_rc: $(head -n 1 "$LIB_TMP/nobody.out")"
else
	fail nobody-denied "virtctl lock as nobody exited $_rc (want 1): $(tr '\n' ';' <"$LIB_TMP/nobody.out")"
fi
check nobody-message grep -qi 'root\|denied\|permission' "$LIB_TMP/nobody.out"
# shellcheck disable=SC2086 # VIRTD_BUS is several words
su -s /bin/sh nobody -c "dbus-send --system --print-reply $VIRTD_BUS org.virtd1.Manager.AcquireForeign string:x string:y uint64:0 uint64:0" \
	</dev/null >"$LIB_TMP/nobody.out" 2>&1
check nobody-bus-denied grep -q AccessDenied "$LIB_TMP/nobody.out"
expect_status nobody-unchanged state=holds policy=boot
check nobody-dev-kvm test -c /dev/kvm

if ! check vm-create vm_start; then
	return 1
fi
wait_status vm-counted vm_count 1
# Refused at once: exit 5, the VM's pid in the message; KVM untouched.
virtctl lock --who=refused -- true </dev/null >"$LIB_TMP/lock.out" 2>&1
expect refused-exit 5 "$?" "virtctl lock with a VM: $(tr '\n' ';' <"$LIB_TMP/lock.out")"
if grep -q "$VM_PID" "$LIB_TMP/lock.out"; then
	pass refused-names-vm "$(head -n 1 "$LIB_TMP/lock.out")"
else
	fail refused-names-vm "no pid $VM_PID in: $(tr '\n' ';' <"$LIB_TMP/lock.out")"
fi
expect_status refused-unchanged state=holds vm_count=1
expect refused-no-lock 0 "$(nr_locks)"
check refused-vm-alive test -d "/proc/$VM_PID"

# Waiting, with a timeout shorter than the VM: exit 6 after about that long.
_t0=$(now_ms)
virtctl lock --who=waiter --wait=3 -- true </dev/null >"$LIB_TMP/lock.out" 2>&1
_rc=$?
_dt=$(($(now_ms) - _t0))
expect timeout-exit 6 "$_rc" "virtctl lock --wait=3 with a VM: $(tr '\n' ';' <"$LIB_TMP/lock.out")"
if [ "$_dt" -ge 2900 ] && [ "$_dt" -lt 20000 ]; then
	pass timeout-duration "${_dt} ms"
else
	fail timeout-duration "returned after ${_dt} ms for --wait=3"
fi
check timeout-names-vm grep -q "$VM_PID" "$LIB_TMP/lock.out"
expect_status timeout-unchanged state=holds vm_count=1

# Waiting long enough: granted once the last VM ends, not before.
lock_start "$LIB_TMP/wait.out" --who=waiter --wait=120 -- foreign-hv --hold=600
sleep 2
if grep -q 'lock taken' "$LIB_TMP/wait.out"; then
	fail wait-not-yet "granted while a VM runs: $(tr '\n' ';' <"$LIB_TMP/wait.out")"
else
	pass wait-not-yet
fi
check wait-still-running test -d "/proc/$LOCK_PID"
status
note "while waiting: state $(st state), lock_waiting $(st lock_waiting), reason '$(st reason)'"
expect wait-waiting 1 "$(st lock_waiting)" "lock_waiting in status"
check vm-destroy vm_stop
if lock_wait_taken "$LIB_TMP/wait.out" 60 && fhv_wait_on "$LIB_TMP/wait.out"; then
	pass wait-granted "$(grep 'lock taken' "$LIB_TMP/wait.out")"
	expect_virt wait-held on
	expect wait-owner lock "$(status; cpu_owners)"
	kill -TERM "$LOCK_PID"
	fhv_reap "$LOCK_PID" 30
	expect wait-exit 0 "$FHV_RC" "$(tr '\n' ';' <"$LIB_TMP/wait.out")"
else
	fail wait-granted "not granted 60 s after the last VM: $(tr '\n' ';' <"$LIB_TMP/wait.out"); virtd: $(virtd_log_tail 3)"
fi
virtd_wait_state end-holds holds 60
expect_policy_applied end boot
check stop virtd_stop
