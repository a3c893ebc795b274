# Scenario: the lock's test hypervisor alone (no virtd): foreign-hv turns SVM on and off on every CPU, gets EBUSY while KVM holds SVM, and is released by any exit.

modules_reset || fail reset "could not unload virthw/KVM: $(tr '\n' ';' </proc/modules)"
need_virthw && need_prog virtctl && need_foreignhv || return 1
check virthw-load virthw_load || return 1
dmesg_mark

# Free hardware: on everywhere, by virthw and by the MSR oracle, and off
# again when the holder ends (a line on its stdin pipe, SIGTERM, SIGKILL).
expect_virt free-before off
fhv_start "$LIB_TMP/fhv.out"
if fhv_wait_on "$LIB_TMP/fhv.out"; then
	pass on "$(head -n 1 "$LIB_TMP/fhv.out")"
	expect message "foreign-hv: svm on, $(nr_online) cpus, pid $FHV_PID" "$(head -n 1 "$LIB_TMP/fhv.out")"
	expect_virt held on
	expect dev-read on "$(cat /dev/foreignhv)" "/dev/foreignhv reads"
	# A second hypervisor finds every CPU taken.
	foreign-hv --hold=0 </dev/null >"$LIB_TMP/fhv2.out" 2>&1
	expect second-busy 1 "$?" "second foreign-hv: $(cat "$LIB_TMP/fhv2.out")"
	check second-message grep -q '^foreign-hv: in use by another hypervisor (EBUSY)$' "$LIB_TMP/fhv2.out"
	# So does KVM: a VM needs SVM, which is foreign-hv's.
	kvm_load_on_demand >"$LIB_TMP/kvm-load.out" 2>&1
	note "KVM loaded on demand while foreign-hv holds SVM: exit $?: $(tr '\n' ';' <"$LIB_TMP/kvm-load.out")"
	if [ -c /dev/kvm ]; then
		vm_try
		expect kvm-refused 1 "$VM_TRY_RC" "kvm-vm while foreign-hv holds SVM: $(cat "$LIB_TMP/vm-try.out")"
	else
		fail kvm-refused "no /dev/kvm after loading KVM on demand"
	fi
	kvm_unload
	expect_virt still-held on
	kill -TERM "$FHV_PID"
	fhv_reap "$FHV_PID"
	expect term-exit 0 "$FHV_RC" "foreign-hv exit after SIGTERM: $(tr '\n' ';' <"$LIB_TMP/fhv.out")"
	check term-message grep -q '^foreign-hv: svm off (SIGTERM)$' "$LIB_TMP/fhv.out"
	expect_virt after-term off
else
	fail on "foreign-hv did not turn SVM on: $(tr '\n' ';' <"$LIB_TMP/fhv.out")"
fi
expect dev-read-off off "$(cat /dev/foreignhv)" "/dev/foreignhv reads"

# Released by closing the device, whatever ends the process.
fhv_start "$LIB_TMP/fhv.out"
if fhv_wait_on "$LIB_TMP/fhv.out"; then
	kill -KILL "$FHV_PID"
	fhv_reap "$FHV_PID"
	expect kill-exit 137 "$FHV_RC"
	expect_virt after-kill off
else
	fail kill-on "$(tr '\n' ';' <"$LIB_TMP/fhv.out")"
fi
# A line on stdin releases too, and --hold expires.
echo release | foreign-hv --hold=600 >"$LIB_TMP/fhv.out" 2>&1
expect stdin-exit 0 "$?" "$(tr '\n' ';' <"$LIB_TMP/fhv.out")"
check stdin-message grep -q '^foreign-hv: svm off (stdin)$' "$LIB_TMP/fhv.out"
foreign-hv --hold=1 </dev/null >"$LIB_TMP/fhv.out" 2>&1
expect hold-exit 0 "$?" "$(tr '\n' ';' <"$LIB_TMP/fhv.out")"
check hold-message grep -q '^foreign-hv: svm off (hold expired)$' "$LIB_TMP/fhv.out"
expect_virt after-hold off

# A CPU that goes offline while held comes back reset; "off" must not touch
# it (whoever set it since), and the rest are cleared.
if [ -e /sys/devices/system/cpu/cpu1/online ]; then
	fhv_start "$LIB_TMP/fhv.out"
	if fhv_wait_on "$LIB_TMP/fhv.out"; then
		check hotplug-offline cpu_set_online 1 0
		check hotplug-online cpu_set_online 1 1
		expect hotplug-cpu1-reset 0 "$(efer_svme 1)" "cpu1 EFER.SVME after offline/online"
		expect hotplug-cpu0-held 1 "$(efer_svme 0)" "cpu0 EFER.SVME"
		kill -TERM "$FHV_PID"
		fhv_reap "$FHV_PID"
		expect_virt hotplug-after off
	else
		fail hotplug-on "$(tr '\n' ';' <"$LIB_TMP/fhv.out")"
	fi
else
	skip hotplug "no hot-pluggable cpu1"
fi

# KVM holding SVM (a VM under on-demand KVM; on 6.12, KVM's default load
# alone): EBUSY, nothing changed, the VM untouched.
if check kvm-load kvm_load_on_demand && check vm-create vm_start; then
	expect_virt vm-on on
	foreign-hv --hold=0 </dev/null >"$LIB_TMP/fhv.out" 2>&1
	expect vm-busy 1 "$?" "foreign-hv with a KVM VM: $(cat "$LIB_TMP/fhv.out")"
	check vm-busy-message grep -q '^foreign-hv: in use by another hypervisor (EBUSY)$' "$LIB_TMP/fhv.out"
	expect_virt vm-still-on on
	check vm-alive test -d "/proc/$VM_PID"
	check vm-destroy vm_stop
	expect_virt vm-gone off
	# With KVM idle again, the hardware is free.
	foreign-hv --hold=0 </dev/null >"$LIB_TMP/fhv.out" 2>&1
	expect after-vm-free 0 "$?" "foreign-hv after the VM: $(cat "$LIB_TMP/fhv.out")"
fi
kvm_unload
if kvm_has_virt_at_load; then
	check stock-kvm-load modprobe "$KVM_VENDOR_MOD"
	expect_virt stock-on on
	foreign-hv --hold=0 </dev/null >"$LIB_TMP/fhv.out" 2>&1
	expect stock-busy 1 "$?" "foreign-hv with 6.12's stock kvm_amd: $(cat "$LIB_TMP/fhv.out")"
	kvm_unload
fi
expect_virt end-off off
check unload foreignhv_unload
dmesg_clean dmesg
