# Scenario (Bochs, Intel VMX, daemon image): virtd's boot / first-vm / never policies on kvm_intel, from a stock host, changed by reload.
#
# The QEMU scenarios (daemon-*.sh) cover the policies on AMD; this one is
# the Intel path: kvm_intel, CR4.VMXE read back by virthw on the CPU itself
# and by virtd's own verification (virtctl status), one emulated Haswell.
# A kvm_intel load costs ~8.5 s under Bochs, so the policies follow one
# another in a single virtd run, each reached by a reload, in the order
# that needs the fewest KVM reloads:
#   stock kvm_intel (6.12: VMX on at load) -> start under first-vm (VMX
#   taken back without a reboot) -> boot -> never, pending behind a VM and
#   applied when it ends -> modprobe refused -> boot again -> stop.

if [ "$VENDOR" != intel ]; then
	skip vendor "bochs-daemon-policy needs the Intel (Bochs) machine, this one is $VENDOR"
	return 0
fi

# vmx CHECK on|off: CPU 0's CR4.VMXE as virthw reads it (virtctl hw --json,
# every online CPU) and as virtd's verification sees it (status
# cpus.0.virt_on, with verify.ok; virtd looks again after each KVM uevent,
# asynchronously, so it gets 20 s to catch up).
status_vmx_is() { status && [ "$(st cpus.0.virt_on)" = "$1" ] && [ "$(st verify.ok)" = true ]; }
vmx() {
	if [ "$2" = on ]; then expect_all_on "$1"; else expect_none_on "$1"; fi
	_want=false
	[ "$2" = on ] && _want=true
	if wait_for 20 status_vmx_is "$_want"; then
		pass "$1-status" "cpus[0].virt_on=$_want, verify.ok"
	else
		fail "$1-status" "virtctl status: cpus[0].virt_on='$(st cpus.0.virt_on)' (want $_want), verify.ok='$(st verify.ok)', state '$(st state)', reason '$(st reason)'"
	fi
}
# ctl_exit CHECK WANT: `virtctl status` (text) exits WANT.
ctl_exit() {
	virtctl status >"$LIB_TMP/ctl.out" 2>&1
	expect "$1" "$2" "$?" "virtctl status exit: $(head -n 3 "$LIB_TMP/ctl.out" | tr '\n' ';')"
}
# reload_to CHECK POLICY: /etc/virtd.conf says POLICY, `virtctl reload`
# succeeds, and virtd reports POLICY applied and holding.
reload_to() {
	virtd_conf "$2"
	if virtctl reload >"$LIB_TMP/reload.out" 2>&1; then
		pass "$1-reload"
	else
		fail "$1-reload" "virtctl reload exited $?: $(head -n 3 "$LIB_TMP/reload.out" | tr '\n' ';')"
		return 1
	fi
	applied "$1" "$2"
}
# applied CHECK POLICY: within 90 s, POLICY applied and the state holds
# (KVM reloads take ~10 s each here).
applied() {
	wait_for 90 st_is applied_policy "$2"
	virtd_wait_state "$1-holds" holds 90 || return 1
	expect_status "$1-status" policy="$2" applied_policy="$2" state=holds vm_count=0 verify.ok=true
}
# vm_cycle PREFIX OFF_AFTER: a VM turns VMX on and is counted; after it
# ends VMX is OFF_AFTER (on|off) and the count is 0.
vm_cycle() {
	check "$1-vm-create" vm_start || return 1
	vmx "$1-vm-vmx" on
	wait_status "$1-vm-counted" vm_count 1
	expect_owners "$1-vm-owner" kvm
	check "$1-vm-destroy" vm_stop
	wait_status "$1-vm-gone" vm_count 0
	vmx "$1-vm-after" "$2"
}

need_virthw || return 1
need_prog kvm-vm || return 1
daemon_env || return 1
dmesg_mark
virtctl status >"$LIB_TMP/ctl.out" 2>&1
expect not-running-exit 4 "$?" "virtctl status before virtd: $(head -n 2 "$LIB_TMP/ctl.out" | tr '\n' ';')"

# --- a stock host: udev loaded kvm_intel with KVM's defaults ---------------
check stock-kvm-load modprobe kvm_intel || return 1
check virthw-load virthw_load
if [ "$KVM_HAS_VAL" = 1 ]; then
	expect stock-val Y "$(kvm_param enable_virt_at_load)" "kvm.enable_virt_at_load on a stock 6.12"
	expect_all_on stock-vmx-on
else
	expect_none_on stock-vmx-off
fi
virthw_unload

# --- first-vm, taking VMX back from the stock state --------------------------
virtd_conf first-vm
virtd_start start || return 1
virtd_wait_state first-vm-holds holds 90 || return 1
expect_status first-vm-status policy=first-vm applied_policy=first-vm state=holds vm_count=0 \
	pinned_vm=false kvm.dev_kvm=true kvm.vendor_module=kvm_intel kvm.vendor_state=loaded verify.ok=true
ctl_exit first-vm-exit 0
[ "$KVM_HAS_VAL" = 1 ] && expect first-vm-val N "$(kvm_param enable_virt_at_load)" "kvm.enable_virt_at_load under first-vm"
vmx first-vm-no-vm off
vm_cycle first-vm off

# --- boot: on before any VM, and stays on after one --------------------------
reload_to boot boot
check boot-dev-kvm test -c /dev/kvm
if [ "$KVM_HAS_VAL" = 1 ]; then
	expect boot-val Y "$(kvm_param enable_virt_at_load)" "kvm.enable_virt_at_load under boot"
fi
expect_status boot-pinned pinned_vm="$(pinned_json)"
vmx boot-no-vm on
expect_owners boot-no-vm-owner "$(boot_owner)"
vm_cycle boot on

# --- never, asked for while a VM runs: pending until the VM ends -------------
if check never-vm-create vm_start; then
	wait_status never-vm-counted vm_count 1
	virtd_conf never
	if virtctl reload >"$LIB_TMP/reload.out" 2>&1; then
		pass never-reload
	else
		fail never-reload "virtctl reload exited $?: $(head -n 3 "$LIB_TMP/reload.out" | tr '\n' ';')"
	fi
	wait_status never-pending state pending 30
	# What the host does meanwhile: on 6.12 enable_virt_at_load keeps boot's
	# behaviour; on 6.1 virtd has already dropped its pinned VM, so VMX
	# stays on only while VMs exist (first-vm's behaviour).
	_meanwhile=boot
	[ "$KVM_HAS_VAL" = 1 ] || _meanwhile=first-vm
	expect_status never-pending-status policy=never applied_policy=$_meanwhile state=pending vm_count=1
	_r=$(st reason)
	if echo "$_r" | grep -q "$VM_PID"; then
		pass never-pending-reason "$_r"
	else
		fail never-pending-reason "reason '$_r' does not name the VM's pid $VM_PID"
	fi
	ctl_exit never-pending-exit 3
	vmx never-pending-vmx on
	check never-vm-destroy vm_stop
else
	virtd_conf never
	virtctl reload >/dev/null 2>&1
fi
applied never never
expect_status never-kvm kvm.dev_kvm=false kvm.vendor_state=unloaded kvm.autoload_blocked=true pinned_vm=false
ctl_exit never-exit 0
check never-no-dev-kvm test ! -e /dev/kvm
check never-unloaded test ! -e /sys/module/kvm_intel
dropin_check never-dropin '^install kvm[-_]intel[[:space:]]'
vmx never-vmx off
vm_try
expect never-no-vm 3 "$VM_TRY_RC" "kvm-vm exit (3: no /dev/kvm): $(cat "$LIB_TMP/vm-try.out")"
# Someone loads it by hand: kmod's modprobe reads the drop-in and refuses.
/usr/sbin/modprobe kvm_intel >"$LIB_TMP/modprobe.out" 2>&1
_rc=$?
if [ "$_rc" -ne 0 ] && [ ! -e /sys/module/kvm_intel ]; then
	pass never-modprobe-refused "exit $_rc: $(head -n 1 "$LIB_TMP/modprobe.out")"
else
	fail never-modprobe-refused "modprobe kvm_intel exited $_rc, /sys/module/kvm_intel $([ -e /sys/module/kvm_intel ] && echo exists || echo absent)"
fi
check never-modprobe-no-dev-kvm test ! -e /dev/kvm
vmx never-modprobe-vmx off
expect_status never-after-modprobe policy=never state=holds verify.ok=true

# --- back to boot: KVM loads again and VMX is on without a VM ----------------
reload_to boot-again boot
check boot-again-dev-kvm test -c /dev/kvm
vmx boot-again-vmx on

check stop virtd_stop
ctl_exit stopped-exit 4
# Leave the machine as the next scenario expects it: no virtd drop-in, KVM
# and virthw out.
rm -f "$VIRTD_DROPIN"
modules_reset || fail reset "could not unload virthw/KVM: $(tr '\n' ';' </proc/modules)"
dmesg_clean dmesg
