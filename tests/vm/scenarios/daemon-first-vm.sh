# Scenario: policy first-vm from a stock host (kvm_amd loaded with KVM's defaults): CPUs given back without a reboot, on only while a VM exists.

daemon_env || return 1
# A stock Debian host: udev loaded kvm_amd at boot with KVM's defaults.
stock_kvm_host || return 1
virtd_conf first-vm
virtd_start start || return 1
virtd_wait_state holds holds || return 1
expect_status status policy=first-vm applied_policy=first-vm state=holds vm_count=0 \
	pinned_vm=false kvm.dev_kvm=true verify.ok=true
expect_policy_applied no-vm first-vm
expect status-cpu0-off false "$(st cpus.0.virt_on)" "status cpus[0].virt_on"
expect_owners owner-no-vm none

if check vm-create vm_start; then
	A=$VM_PID
	expect_virt vm1 on
	wait_status vm1-counted vm_count 1
	expect_status status-vm1 state=holds verify.ok=true vms.0.pid="$A"
	expect_owners owner-vm kvm
	if check vm2-create vm_start; then
		B=$VM_PID
		wait_status vm2-counted vm_count 2
		VM_PID=$A
		check vm1-destroy vm_stop
		wait_status vm1-gone vm_count 1
		expect_virt vm2-alone on
		VM_PID=$B
	fi
	check vm-last-destroy vm_stop
	wait_status vm-none vm_count 0
	expect_virt after-last-vm off
	# KVM reports the destroy before it turns virtualization off: virtd
	# must not take its own teardown for another hypervisor (for long).
	virtd_wait_state after-holds holds 10
	expect_status status-after state=holds verify.ok=true
fi
check stop virtd_stop
# The drop-in stays: a reload of KVM by hand still follows the policy.
if [ "$KVM_HAS_VAL" = 1 ]; then
	kvm_unload && modprobe "$KVM_VENDOR_MOD"
	expect after-stop-reload N "$(kvm_param enable_virt_at_load)" "kvm.enable_virt_at_load after modprobe with virtd stopped"
fi
