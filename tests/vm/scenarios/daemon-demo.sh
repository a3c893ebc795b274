# Scenario (a demonstration, not a test): virtd's own view for the README's demo: `virtctl status` under first-vm, with a KVM VM, a foreign-hypervisor lock refused next to it, a policy switch to boot by reload, and the lock taken under boot.

daemon_env || return 1
need_prog virtctl && need_virthw || return 1

virtd_conf first-vm
virtd_start start || return 1
virtd_wait_state start-holds holds || return 1
show "policy first-vm, no VM: virtualization is off until a VM needs it" virtctl status
if check vm-create vm_start; then
	show "a KVM VM exists (kvm-vm, pid $VM_PID): KVM turned virtualization on" virtctl status
	show "VirtualBox's launcher asks for the lock while the KVM VM runs: refused" \
		virtctl lock --who=virtualbox --why="demo: a VirtualBox VM" -- true
	check vm-destroy vm_stop
fi
virtd_conf boot
show "the policy switched to boot (/etc/virtd.conf edited, then a reload)" virtctl reload
virtd_wait_state boot-holds holds || return 1
show "policy boot: virtualization on for every CPU, before any VM" virtctl status
show "the lock under boot: KVM steps aside while the command runs (here: virtctl status itself)" \
	virtctl lock --who=virtualbox --why="demo: a VirtualBox VM" -- virtctl status
virtd_wait_state after-lock holds || return 1
show "the lock released: boot holds again" virtctl status
check stop virtd_stop
