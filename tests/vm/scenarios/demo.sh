# Scenario (a demonstration, not a test): virtctl hw's table before, during and after a KVM VM, for the README.

modules_reset || fail reset "could not unload virthw/KVM"
need_virthw && need_prog virtctl || return 1
check kvm-load kvm_load_on_demand || return 1
check virthw-load virthw_load || return 1

hw_show() {
	echo
	echo "################ $1"
	echo "# virtctl hw"
	virtctl hw
	echo
}
hw_show "Linux $(uname -r), kvm loaded (enable_virt_at_load=$(kvm_param enable_virt_at_load || echo absent)), no VM"
if check vm-create vm_start; then
	hw_show "while a KVM VM exists (kvm-vm, pid $VM_PID)"
	check vm-destroy vm_stop
	hw_show "after the VM closed"
fi
virthw_unload
kvm_unload
