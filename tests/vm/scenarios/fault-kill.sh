# Scenario: the fault matrix's SIGKILL rows: virtd killed inside each transition (enable, disable, a KVM reload, the timer push, a lock grant, a lock release), started again; what the host converges to, how fast, and that no VM and no lock holder was lost.

daemon_env || return 1
need_virthw && need_foreignhv && need_prog virtctl || return 1
FK=$LIB_TMP/fault-kill
mkdir -p "$FK"

# fk_kill_at CHECK PATTERN: SIGKILL virtd as soon as its log has a line
# matching PATTERN that was not there before fk_mark (polled every 20 ms,
# 20 s at most); FK_MS is the time from the mark to the kill.
fk_mark() {
	FK_LINES=$(wc -l <"$VIRTD_LOG")
	FK_T0=$(now_ms)
}
fk_seen() { tail -n "+$((FK_LINES + 1))" "$VIRTD_LOG" | grep -q "$1"; }
fk_kill_at() {
	_n=0
	while ! fk_seen "$2"; do
		_n=$((_n + 1))
		[ "$_n" -le 1000 ] || break
		sleep 0.02
	done
	FK_MS=$(($(now_ms) - FK_T0))
	FK_LINE=$(tail -n "+$((FK_LINES + 1))" "$VIRTD_LOG" | grep -m1 "$2" | cut -c1-140)
	if [ -z "$FK_LINE" ]; then
		fail "$1" "no '$2' in virtd's log within 20 s: $(virtd_log_tail 4)"
		virtd_kill
		return 1
	fi
	if virtd_kill; then
		pass "$1" "killed ${FK_MS} ms after the trigger, at: $FK_LINE"
	else
		fail "$1" "virtd did not die"
		return 1
	fi
}
# fk_restart CHECK STATE: a new virtd with the same file; CHECK passes once
# its State is STATE, naming the time from its start.
fk_restart() {
	_t0=$(now_ms)
	virtd_start "$1-start" --log-level=debug || return 1
	if wait_for 60 virtd_state_is "$2"; then
		pass "$1" "$2 $(($(now_ms) - _t0)) ms after the new virtd started"
	else
		fail "$1" "state '$(virtd_state)', reason '$(st_live reason)': $(virtd_log_tail 4)"
		return 1
	fi
}
fk_hup() {
	fk_mark
	kill -HUP "$VIRTD_PID"
}

check stock-kvm-load modprobe "$KVM_VENDOR_MOD" || return 1
virtd_conf never
virtd_start start --log-level=debug || return 1
virtd_wait_state never-holds holds || return 1

# --- enable: never -> boot (KVM loaded, virtualization turned on) -------------
virtd_conf boot
fk_hup
if fk_kill_at enable-kill 'Policy boot ('; then
	fk_restart enable-converged holds && expect_policy_applied enable boot
fi

# --- disable: boot -> never (KVM unloaded, blocked) ---------------------------
virtd_conf never
fk_hup
if fk_kill_at disable-kill 'Policy never ('; then
	fk_restart disable-converged holds && expect_policy_applied disable never
fi

# --- a KVM reload: never -> first-vm, then first-vm -> boot ---------------------
# (where kvm has enable_virt_at_load, the change of its value reloads KVM.)
for _p in first-vm boot; do
	virtd_conf "$_p"
	fk_hup
	if fk_kill_at "reload-$_p-kill" "Policy $_p ("; then
		fk_restart "reload-$_p-converged" holds && expect_policy_applied "reload-$_p" "$_p"
	fi
done

# --- the timer push, with a KVM VM running across the kill --------------------
if check timer-vm-start vm_start; then
	wait_status timer-vm-counted vm_count 1 30
	virtd_conf boot "[PreemptionTimer]" "MinMaxDelay=30s"
	fk_hup
	if fk_kill_at timer-kill 'Configuration reloaded'; then
		check timer-vm-alive-down test -d "/proc/$VM_PID"
		if fk_restart timer-converged holds; then
			wait_status timer-pushed timer.module.min_max_delay_ns 30000000000 30
			expect_status timer-status timer.module.matches=true vm_count=1 verify.ok=true
			check timer-vm-alive test -d "/proc/$VM_PID"
		fi
	fi
	check timer-vm-stop vm_stop
	wait_status timer-vm-gone vm_count 0 30
fi

# --- a lock grant: killed while KVM is taken out for the holder ---------------
# The request's caller loses its call: it must say so and run nothing, and
# the new virtd must hold boot again with no lock left behind.
virtd_conf boot
kill -HUP "$VIRTD_PID"
virtd_wait_state grant-pre-holds holds
fk_mark
lock_start "$FK/grant.out" --who=killed-grant -- foreign-hv --hold=600
_lp=$LOCK_PID
if fk_kill_at grant-kill 'Policy boot (foreign lock'; then
	if fhv_reap "$_lp" 30 && [ "$FHV_RC" != 0 ] && ! grep -q '^foreign-hv: svm on' "$FK/grant.out" &&
		grep -q 'virtd exited before it answered' "$FK/grant.out"; then
		pass grant-caller-told "virtctl exit $FHV_RC: $(grep -m1 -i 'virtctl' "$FK/grant.out" | cut -c1-160)"
	elif grep -q '^foreign-hv: svm on' "$FK/grant.out"; then
		# Granted before the kill: then the holder must keep KVM out.
		note "the lock was granted before the kill landed: $(tr '\n' ';' <"$FK/grant.out")"
		pass grant-caller-told "granted before the kill"
	else
		fail grant-caller-told "virtctl rc '$FHV_RC': $(tr '\n' ';' <"$FK/grant.out")"
	fi
	if grep -q '^foreign-hv: svm on' "$FK/grant.out" && [ -d "/proc/$_lp" ]; then
		fk_restart grant-converged locked
		check grant-kvm-out test ! -e /dev/kvm
		kill -TERM "$_lp"
		fhv_reap "$_lp" 30
		virtd_wait_state grant-after-holds holds 60
	else
		fk_restart grant-converged holds && expect_policy_applied grant boot
		expect grant-no-lock 0 "$(nr_locks)"
		expect grant-no-files 0 "$(lock_files)"
	fi
fi

# --- a lock release: killed while boot is put back after the holder ----------
if lock_fhv_taken killed-release; then
	_lp=$LOCK_PID
	fk_mark
	kill -TERM "$_lp"
	if fk_kill_at release-kill 'Policy boot (foreign lock released'; then
		fhv_reap "$_lp" 30
		expect release-holder-exit 0 "$FHV_RC" "$(tr '\n' ';' <"$LIB_TMP/lock.out")"
		fk_restart release-converged holds && expect_policy_applied release boot
		expect release-no-lock 0 "$(nr_locks)"
		expect release-no-files 0 "$(lock_files)"
	fi
fi

# --- a holder survives a kill in a transition it does not own -----------------
# (reload of the configuration while it holds: the new virtd adopts it.)
if lock_fhv_taken survivor; then
	_lp=$LOCK_PID
	virtd_conf first-vm
	fk_hup
	if fk_kill_at held-kill 'Configuration reloaded'; then
		check held-holder-alive-down test -d "/proc/$_lp"
		if fk_restart held-converged locked; then
			check held-holder-alive test -d "/proc/$_lp"
			check held-kvm-out test ! -e /dev/kvm
			expect_virt held-svm-on on
		fi
	fi
	kill -TERM "$_lp"
	fhv_reap "$_lp" 30
	virtd_wait_state held-after-holds holds 60
	expect_policy_applied held-after first-vm
fi
check stop virtd_stop
