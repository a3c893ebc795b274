# Scenario: policy boot with virtd as installed: KVM loaded by virtd, every CPU on before any VM, through VMs, and what stopping leaves.

daemon_env || return 1
virtd_conf boot
virtd_start start || return 1
virtd_wait_state holds holds || return 1
expect_status status policy=boot applied_policy=boot state=holds vm_count=0 \
	pinned_vm="$(pinned_json)" kvm.dev_kvm=true kvm.vendor_module="$KVM_VENDOR_MOD" \
	kvm.vendor_state=loaded verify.ok=true
expect_policy_applied before-vm boot
expect status-cpu0-on true "$(st cpus.0.virt_on)" "status cpus[0].virt_on"
expect_owners owner-no-vm "$(boot_owner)"

if check vm-create vm_start; then
	expect_virt during-vm on
	wait_status vm-counted vm_count 1
	expect_status status-vm state=holds vms.0.pid="$VM_PID" pinned_vm="$(pinned_json)"
	expect_owners owner-vm kvm
	FIRST=$VM_PID
	if check vm2-create vm_start; then
		wait_status vm2-counted vm_count 2
		check vm2-destroy vm_stop
	fi
	VM_PID=$FIRST
	check vm-destroy vm_stop
	wait_status vm-gone vm_count 0
	expect_virt after-vm on
	expect_status status-after-vm state=holds verify.ok=true
fi

# Stopping virtd leaves the host as the policy left it, except virtd's
# pinned VM, which ends with the process: on kernels with enable_virt_at_load
# the parameter keeps every CPU on, without it they go off.
check stop virtd_stop
if [ "$KVM_HAS_VAL" = 1 ]; then
	expect_virt after-stop on
else
	expect_virt after-stop off
fi
check kvm-still-loaded test -c /dev/kvm
