# Scenario (a demonstration, not a test): the demo's VirtualBox part: a real VirtualBox 7.2 VM refused next to KVM, then running under virtd by the transparent hand-off, KVM back after it; run by tests/vm/vbox/run.sh --scenario vbox-demo.

if [ ! -f /vbox-test/lib.sh ]; then
	fail vbox-present "no /vbox-test/lib.sh: boot this scenario with tests/vm/vbox/run.sh --scenario vbox-demo"
	return 1
fi
. /vbox-test/lib.sh || return 1

# headless OUT: the tiny VM started as a user would, VBoxHeadless as root, in the background (HL_PID).
headless() {
	vbox_idle
	rm -f "$(serial_of root)"
	(HOME=/root exec chroot "$VBOX_ROOT" VBoxHeadless --startvm "$VM_NAME" </dev/null >"$1" 2>&1) &
	HL_PID=$!
	BG_PIDS="$BG_PIDS $HL_PID"
}

daemon_env || return 1
need_virthw && need_prog virtctl && need_prog kvm-vm || return 1
check root-mounted vbox_mount || return 1
check vboxdrv-load vboxdrv_load || return 1
check vm-create vm_create root >/dev/null || return 1
echo
echo "VirtualBox $(vbox root VBoxManage --version 2>/dev/null), its driver: $(dmesg | sed -n 's/.*vboxdrv: \(Successfully loaded version [^ ]*\).*/\1/p' | tail -n 1)"

# 1. No virtd: KVM at its defaults holds SVM and VirtualBox cannot run.
check kvm-defaults modprobe "$KVM_VENDOR_MOD"
echo
echo "################ without virtd: $KVM_VENDOR_MOD loaded with KVM's defaults (enable_virt_at_load=$(kvm_param enable_virt_at_load || echo absent))"
echo "# VBoxHeadless --startvm $VM_NAME"
headless "$LIB_TMP/alone.out"
wait "$HL_PID"
grep -m 3 -E 'VERR_|AMD-V|error' "$LIB_TMP/alone.out"
if marker_in "$(serial_of root)"; then echo "# the tiny VM printed: $MARKER"; else echo "# the tiny VM printed nothing"; fi
check kvm-out kvm_unload

# 2. virtd (policy boot) with the hand-off: the same command just works.
handoff_profile >"$LIB_TMP/profile.out" || { fail handoff-profile "$(cat "$LIB_TMP/profile.out")"; return 1; }
virtd_conf boot "[Hypervisor]" "HandOffTimeout=60s"
virtd_start virtd-start || return 1
virtd_wait_state boot-holds holds || return 1
show "virtd with policy boot: KVM holds SVM on every CPU, and virtd watches VirtualBox's VM programs" virtctl status
echo
echo "################ the same command under virtd, no virtctl lock: the start waits in execve() while KVM steps aside"
echo "# VBoxHeadless --startvm $VM_NAME"
_t0=$(now_ms)
headless "$LIB_TMP/handoff.out"
if marker_wait vm-runs root "$_t0" >/dev/null; then
	echo "# the tiny VM printed, $MARKER_MS ms after the start: $(grep -m 1 "$MARKER" "$(serial_of root)")"
	show "while the VirtualBox VM runs" virtctl status
	show "a KVM VM meanwhile" kvm-vm --once
	vm_poweroff vm-poweroff root "$HL_PID" >/dev/null
	wait_for 30 nr_locks_is 0
	virtd_wait_state after-holds holds 60 || return 1
	show "the VirtualBox VM powered off: the lock is released and boot holds again" virtctl status
	show "and KVM VMs run again" kvm-vm --once
else
	fail vm-runs "no marker: $(tail -n 5 "$LIB_TMP/handoff.out" | tr '\n' ';'); virtd: $(virtd_log_tail 4)"
fi
rm -f /etc/virtd/profiles/virtualbox.conf
check virtd-stop virtd_stop
