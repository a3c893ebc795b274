# Scenario: SIGKILL virtd at several points of a transition (reloads that unload, load or reload KVM), restart it: it converges, nothing left behind.

daemon_env || return 1
check stock-kvm-load modprobe "$KVM_VENDOR_MOD" || return 1
virtd_conf first-vm
virtd_start start || return 1
virtd_wait_state holds holds || return 1

# Each step: the policy the file says, then SIGHUP, then SIGKILL after a
# delay (0: at once, before or while virtd reads the file; later ones land
# in module unloads/loads, which take a second or more under TCG).  Then a
# new virtd with the same file must converge to it.
step=0
for spec in never:0 boot:0.05 first-vm:0.3 never:0.8 boot:0 never:1.5 first-vm:0.1 boot:0.6 first-vm:2; do
	step=$((step + 1))
	pol=${spec%%:*} delay=${spec#*:}
	virtd_conf "$pol"
	kill -HUP "$VIRTD_PID"
	[ "$delay" = 0 ] || sleep "$delay"
	check "k$step-kill-$pol-$delay" virtd_kill
	note "step $step: killed during the change to $pol after ${delay}s; modules: $(cut -d' ' -f1 /proc/modules | tr '\n' ' '); drop-in: $(tr '\n' ';' <"$VIRTD_DROPIN" 2>/dev/null); VM holders: $(kvm_holders | tr '\n' ';')"
	# Nothing of the dead virtd may hold KVM (its pinned VM dies with it).
	_stale=$(kvm_holders | awk '$3 == "virtd"')
	[ -z "$_stale" ] || fail "k$step-dead-holder" "$_stale"
	virtd_start "k$step-restart" || return 1
	virtd_wait_state "k$step-holds" holds || continue
	expect_status "k$step-status" policy="$pol" applied_policy="$pol" state=holds verify.ok=true vm_count=0
	expect_policy_applied "k$step" "$pol"
done

# Killed while a VM makes a change pending: the new virtd sees the VM, keeps
# it pending, applies it after.
virtd_conf first-vm
kill -HUP "$VIRTD_PID"
wait_for 60 st_is applied_policy first-vm
virtd_wait_state pre-vm-holds holds
if check vm-create vm_start; then
	virtd_conf never
	kill -HUP "$VIRTD_PID"
	wait_for 30 st_is state pending
	check pending-kill virtd_kill
	virtd_start pending-restart || return 1
	wait_status pending-again state pending 30
	expect_status pending-status policy=never applied_policy=first-vm vm_count=1
	expect_virt pending-vm-on on
	check vm-destroy vm_stop
	virtd_wait_state pending-applied holds
	expect_policy_applied pending-applied never
fi
check stop virtd_stop
