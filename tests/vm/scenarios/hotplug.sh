# Scenario: CPU hotplug: cpu1 offline and back online shows in virthw's dump and as monitor events; KVM re-enables SVM on the returning CPU.

modules_reset || fail reset "could not unload virthw/KVM"
need_virthw && need_prog virtctl || return 1
check virthw-load virthw_load || return 1
if [ "$(nr_online)" -lt 2 ] || [ ! -e /sys/devices/system/cpu/cpu1/online ]; then
	skip cpu1 "needs a hot-pluggable cpu1 (boot with --smp 2 or more)"
	return 0
fi

cpu1() {	# cpu1: "online virt_on" of cpu1 in the dump
	hw_cpus | awk '$1 == 1 { print $2, $5 }'
}

bg_start /tmp/monitor.out virtctl hw monitor
MON=$BG_PID
# virtctl says on stderr when it is subscribed; no event can be missed after.
if ! wait_for 20 grep -q 'listening' /tmp/monitor.out; then
	fail monitor-start "virtctl hw monitor did not subscribe: $(tail -n 2 /tmp/monitor.out)"
fi

check offline cpu_set_online 1 0
expect dump-offline "0" "$(cpu1 | cut -d' ' -f1)" "cpu1 online in virtctl hw --json"
check online cpu_set_online 1 1
expect dump-online "1" "$(cpu1 | cut -d' ' -f1)" "cpu1 online in virtctl hw --json"
if wait_for 10 grep -q '^cpu-offline cpu=1 ' /tmp/monitor.out; then
	pass event-offline
else
	fail event-offline "no 'cpu-offline cpu=1' from virtctl hw monitor: $(tr '\n' ';' </tmp/monitor.out)"
fi
if wait_for 10 grep -q '^cpu-online cpu=1 ' /tmp/monitor.out; then
	pass event-online
else
	fail event-online "no 'cpu-online cpu=1' from virtctl hw monitor: $(tr '\n' ';' </tmp/monitor.out)"
fi
kill "$MON" 2>/dev/null

# With a VM alive, KVM's hotplug callback turns SVM on again on the CPU
# that comes back; virthw must see it there.
if check kvm-load kvm_load_on_demand && check vm-create vm_start; then
	expect_all_on vm-before-offline
	check vm-offline cpu_set_online 1 0
	check vm-online cpu_set_online 1 1
	expect_all_on vm-after-online
	oracle vm-after-online-oracle "$(nr_online)"
	check vm-destroy vm_stop
	expect_none_on vm-after-destroy
fi
kvm_unload
check virthw-unload virthw_unload
