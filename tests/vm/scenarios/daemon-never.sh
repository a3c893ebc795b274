# Scenario: policy never from a stock host: KVM unloaded and blocked, /dev/kvm absent, no CPU on, no VM possible, even after `modprobe kvm_amd`.

daemon_env || return 1
# 6.12's default: every CPU on from kvm_amd's load; never takes them back.
stock_kvm_host || return 1
virtd_conf never
virtd_start start || return 1
virtd_wait_state holds holds || return 1
expect_status status policy=never applied_policy=never state=holds vm_count=0 \
	pinned_vm=false kvm.dev_kvm=false kvm.vendor_state=unloaded kvm.autoload_blocked=true verify.ok=true
expect_policy_applied never never
vm_try
expect no-vm 3 "$VM_TRY_RC" "kvm-vm exit (3: no /dev/kvm): $(cat "$LIB_TMP/vm-try.out")"

# Someone loads the vendor module the usual way: kmod's modprobe, which
# reads virtd's drop-in in /run/modprobe.d.
/usr/sbin/modprobe "$KVM_VENDOR_MOD" >"$LIB_TMP/modprobe.out" 2>&1
note "modprobe $KVM_VENDOR_MOD under never: exit $?: $(tr '\n' ';' <"$LIB_TMP/modprobe.out")"
check modprobe-no-vendor test ! -e "/sys/module/$KVM_VENDOR_MOD"
check modprobe-no-dev-kvm test ! -e /dev/kvm
expect_virt after-modprobe off
vm_try
expect after-modprobe-no-vm 3 "$VM_TRY_RC" "kvm-vm exit: $(cat "$LIB_TMP/vm-try.out")"
expect_status status-after-modprobe policy=never state=holds verify.ok=true

# Stopped, the drop-in keeps the block until virtd says otherwise.
check stop virtd_stop
/usr/sbin/modprobe "$KVM_VENDOR_MOD" >/dev/null 2>&1
check stopped-still-blocked test ! -e /dev/kvm
