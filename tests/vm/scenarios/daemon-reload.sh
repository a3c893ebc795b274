# Scenario: policy changes by `virtctl reload` and SIGHUP, with and without VMs (pending, then applied after the last VM), bad files refused.

daemon_env || return 1
check stock-kvm-load modprobe "$KVM_VENDOR_MOD" || return 1
virtd_conf first-vm
virtd_start start || return 1
virtd_wait_state holds holds || return 1
expect_policy_applied first-vm first-vm

reload_ctl() {	# reload_ctl CHECK: virtctl reload succeeds
	if virtctl reload >"$LIB_TMP/reload.out" 2>&1; then
		pass "$1"
	else
		fail "$1" "virtctl reload exited $?: $(head -n 3 "$LIB_TMP/reload.out" | tr '\n' ';')"
	fi
}
# applied CHECK POLICY: after a change, the state holds with POLICY applied.
applied() {
	wait_for 60 st_is applied_policy "$2"
	virtd_wait_state "$1-holds" holds || return 1
	expect_status "$1-status" policy="$2" applied_policy="$2" state=holds reason= verify.ok=true
	expect_policy_applied "$1" "$2"
}

# Without VMs: each change applies at once.
virtd_conf boot
reload_ctl reload-boot
applied to-boot boot
virtd_conf never
kill -HUP "$VIRTD_PID"
applied hup-never never
virtd_conf first-vm
reload_ctl reload-first-vm
applied to-first-vm first-vm

# With a VM: never cannot unload KVM under it, so it waits, says why, and
# applies when the last VM ends.
if check vm-create vm_start; then
	wait_status vm-counted vm_count 1
	virtd_conf never
	reload_ctl reload-never-vm
	wait_status pending state pending
	expect_status pending-status policy=never applied_policy=first-vm state=pending vm_count=1
	_r=$(st reason)
	if [ -n "$_r" ] && echo "$_r" | grep -q "$VM_PID"; then
		pass pending-reason "$_r"
	else
		fail pending-reason "reason '$_r' does not name the VM's pid $VM_PID"
	fi
	virtctl status >/dev/null 2>&1
	expect pending-exit 3 "$?" "virtctl status exit while pending"
	expect_virt pending-vm-still-on on
	check pending-dev-kvm test -c /dev/kvm
	check vm-destroy vm_stop
	applied after-vm-never never
fi

# With a VM under boot, to first-vm: applied at once or pending until the VM
# ends (the daemon's choice: 6.12 reloads KVM for the parameter, 6.1 only
# drops its pinned VM); either way first-vm after the last VM.
virtd_conf boot
reload_ctl reload-boot-2
applied to-boot-2 boot
if check vm2-create vm_start; then
	virtd_conf first-vm
	kill -HUP "$VIRTD_PID"
	wait_for 30 st_is policy first-vm
	_s=$(st_live state)
	case "$_s" in
	holds | pending) pass boot-to-first-vm-with-vm "state $_s, applied $(st applied_policy), reason '$(st reason)'" ;;
	*) fail boot-to-first-vm-with-vm "state '$_s' (reason '$(st reason)')" ;;
	esac
	expect_virt vm2-on on
	check vm2-destroy vm_stop
	applied after-vm2-first-vm first-vm
fi

# A bad file: Reload fails with FILE:LINE and the value, the running policy
# stays; SIGHUP likewise (logged), and virtd keeps running.
virtd_conf sometimes
virtctl reload >"$LIB_TMP/reload.out" 2>&1
expect bad-reload-exit 1 "$?" "virtctl reload with Policy=sometimes: $(head -n 2 "$LIB_TMP/reload.out" | tr '\n' ';')"
if grep -q "$VIRTD_CONF:3" "$LIB_TMP/reload.out" && grep -q sometimes "$LIB_TMP/reload.out"; then
	pass bad-reload-message "$(head -n 1 "$LIB_TMP/reload.out")"
else
	fail bad-reload-message "no '$VIRTD_CONF:3' with the value in: $(head -n 3 "$LIB_TMP/reload.out" | tr '\n' ';')"
fi
expect_status bad-reload-kept policy=first-vm applied_policy=first-vm state=holds
kill -HUP "$VIRTD_PID"
sleep 1
check bad-hup-alive test -d "/proc/$VIRTD_PID"
expect_status bad-hup-kept policy=first-vm state=holds
if grep -q "$VIRTD_CONF:3" "$VIRTD_LOG"; then
	pass bad-hup-logged
else
	fail bad-hup-logged "virtd's log does not name $VIRTD_CONF:3: $(virtd_log_tail 3)"
fi
# An unknown key is a warning with its line, not an error.
virtd_conf first-vm "Colour=blue"
reload_ctl reload-unknown-key
if grep -q "$VIRTD_CONF:4" "$VIRTD_LOG" "$LIB_TMP/reload.out"; then
	pass unknown-key-warned
else
	fail unknown-key-warned "no warning naming $VIRTD_CONF:4 (Colour=blue): $(virtd_log_tail 3)"
fi
check stop virtd_stop

# A bad file at start: non-zero exit, FILE:LINE in the message.
virtd_conf sometimes
virtd_spawn
if wait_for 30 proc_gone "$VIRTD_PID"; then
	wait "$VIRTD_PID"
	_rc=$?
	if [ "$_rc" -ne 0 ]; then pass bad-start-exit "exit $_rc"; else fail bad-start-exit "exit 0 with a bad file"; fi
	if grep -q "$VIRTD_CONF:3" "$VIRTD_LOG" && grep -q sometimes "$VIRTD_LOG"; then
		pass bad-start-message "$(grep "$VIRTD_CONF:3" "$VIRTD_LOG" | head -n 1)"
	else
		fail bad-start-message "no '$VIRTD_CONF:3' and the value in: $(virtd_log_tail 3)"
	fi
else
	fail bad-start-exit "virtd still running 30 s after a start with Policy=sometimes"
	virtd_kill
fi
VIRTD_PID=""
