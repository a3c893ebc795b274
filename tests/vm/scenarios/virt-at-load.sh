# Scenario: kvm.enable_virt_at_load: on 6.12 virtualization is on from kvm_amd's load by default and on demand with =0; on 6.1 the parameter does not exist.

modules_reset || fail reset "could not unload virthw/KVM"
have_virthw=0
if need_virthw && need_prog virtctl && check virthw-load virthw_load; then
	have_virthw=1
fi
hw_none() { [ "$have_virthw" = 1 ] && expect_none_on "$1"; oracle "$1-oracle" 0; }
hw_all() { [ "$have_virthw" = 1 ] && expect_all_on "$1"; oracle "$1-oracle" "$(nr_online)"; }

if ! kvm_has_virt_at_load; then
	note "kvm $(uname -r) has no enable_virt_at_load"
	check kvm-load kvm_load || return 1
	check param-absent test ! -e /sys/module/kvm/parameters/enable_virt_at_load
	hw_none loaded-no-vm
	check kvm-unload kvm_unload
else
	# Default: kvm_amd turns SVM on on every CPU as it loads, before any VM.
	hw_none before-kvm
	check kvm-load-default kvm_load || return 1
	expect param-default Y "$(kvm_param enable_virt_at_load)"
	hw_all on-at-load
	if check vm-create vm_start; then
		hw_all during-vm
		check vm-destroy vm_stop
		hw_all after-vm-still-on
	fi
	check kvm-unload kvm_unload
	hw_none after-kvm-unload

	# enable_virt_at_load=0: as on 6.1, on only while a VM exists.
	check kvm-load-0 kvm_load enable_virt_at_load=0 || return 1
	expect param-0 N "$(kvm_param enable_virt_at_load)"
	hw_none off-at-load
	if check vm0-create vm_start; then
		hw_all vm0-during
		check vm0-destroy vm_stop
		hw_none vm0-after
	fi
	check kvm-unload-0 kvm_unload
fi
[ "$have_virthw" = 1 ] && check virthw-unload virthw_unload
