# Diagnosis (guest side): what KVM does on the first VM only, with virtualization already on (6.12, enable_virt_at_load=1).
# Run: tests/vm/run-qemu.sh --kernel 6.12 --smp 4 bench-first-vm-trace
# No virtd: stock KVM.  Counts jump-label text patches (a kprobe on
# arch_jump_label_transform_apply) during a lone VM's create and destroy,
# and during one made while another VM exists; then prints ftrace's
# function_graph of KVM_CREATE_VM (depth 3, calls over 100 µs) for both.
# The first VM switches on the preempt-notifier static key (kvm_create_vm's
# preempt_notifier_inc()), the last one off: that is why virtd holds its
# own VM under boot on every kernel (virtd(8), "The pinned VM").

T=/sys/kernel/tracing
daemon_env || return 1
need_prog kvm-vm || return 1
check kvm-load modprobe "$KVM_VENDOR_MOD" || return 1
note "$(uname -r), enable_virt_at_load=$(kvm_param enable_virt_at_load)"
[ -d "$T/events" ] || mount -t tracefs nodev "$T" 2>/dev/null
if ! echo 'p:virtd_jl arch_jump_label_transform_apply' >"$T/kprobe_events" 2>"$LIB_TMP/kp.err"; then
	skip trace "no kprobe events in this kernel: $(cat "$LIB_TMP/kp.err")"
	return 0
fi
echo 1 >"$T/events/kprobes/virtd_jl/enable"

# patches CHECK: jump-label applies during one kvm-vm --once (create, close).
patches() {
	echo >"$T/trace"
	kvm-vm --once >/dev/null 2>&1 || { fail "$1" "kvm-vm --once failed"; return 1; }
	grep -c 'virtd_jl:' "$T/trace"
}
lone=$(patches lone-vm)
vm_start || return 1
second=$(patches second-vm)
vm_stop
echo 0 >"$T/events/kprobes/virtd_jl/enable"
echo >"$T/kprobe_events"
note "jump-label applies: lone VM create+destroy $lone, with another VM held $second"
if [ "${lone:-0}" -gt 0 ] && [ "${second:-1}" -eq 0 ]; then
	pass first-vm-patches-text "$lone applies for a lone VM, none next to another"
else
	fail first-vm-patches-text "lone VM $lone, next to another $second"
fi

# graph NAME: function_graph of one KVM_CREATE_VM, calls over 100 µs.
graph() {
	echo kvm_dev_ioctl >"$T/set_graph_function"
	echo 3 >"$T/max_graph_depth"
	echo function_graph >"$T/current_tracer"
	echo >"$T/trace"
	kvm-vm --once >/dev/null 2>&1
	echo 0 >"$T/tracing_on"		# (a new tracer would clear the buffer)
	grep -E '[0-9]{3,}\.[0-9]+ us' "$T/trace" | sed "s/^/VIRTD-NOTE: $1: /"
	echo nop >"$T/current_tracer"
	echo 1 >"$T/tracing_on"
}
graph first-vm-graph
vm_start || return 1
graph second-vm-graph
vm_stop
echo >"$T/set_graph_function"
echo 0 >"$T/max_graph_depth"
