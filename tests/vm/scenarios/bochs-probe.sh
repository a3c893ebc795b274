# Scenario (Bochs, Intel VMX): virthw's own VMX run path (PROBE) at module level: the four measurements, the timer decision flipping the immediate-exit method, CR4.VMXE the same after every probe, and the refusal while KVM holds VMX.
#
# The machine (tests/vm/bochs/run-bochs.sh): one emulated Haswell whose TSC
# runs at Bochs's ips (100 MHz), IA32_VMX_MISC = 0x200401e0: timer rate 0,
# so one timer tick is one TSC cycle and the maximum delay is
# 2^32 / 100 MHz = 42.9 s, above KVM's 10 s and below 60 s.
#
# Timer tolerance.  Measurement (d) counts TSC cycles from just before the
# VMWRITE of the timer value to just after the exit, so the figure is the
# programmed count plus one entry/exit round trip that the timer does not
# count.  Bochs's TSC advances one cycle per emulated instruction and its
# timer counts the same cycles, so nothing else moves it: GUEST-NOTES has
# 100028 measured for 100000 programmed (+28). The median must lie in
# [EXPECTED, EXPECTED + round-trip median (a) + 1% of EXPECTED]: the lower
# bound because the timer cannot fire early, the round trip for the
# overhead the window includes, 1% for emulator slack a real bug (a wrong
# rate, a timer that never counts, a value written to the wrong field) is
# far outside of.

if [ "$VENDOR" != intel ]; then
	skip vendor "bochs-probe needs the Intel (Bochs) machine, this one is $VENDOR"
	return 0
fi
modules_reset || fail reset "could not unload virthw/KVM"
need_virthw && need_prog virthw-probe || return 1
check virthw-load virthw_load || return 1
dmesg_mark

# probe ARGS... and val KEY: lib.sh.
out() { tr '\n' ' ' <"$PROBE_OUT" | cut -c1-360; }
vmxe() {	# CR4.VMXE of every CPU as virthw reads it on the CPU, e.g. "0"
	hw_cpus | awk '{ printf "%s", $5 }'
}
is_uint() { case $1 in '' | *[!0-9]*) return 1 ;; esac; }
ordered() {	# ordered NAME: NAME_min <= NAME_median <= NAME_max, min > 0
	_mn=$(val "$1_min") _md=$(val "$1_median") _mx=$(val "$1_max")
	is_uint "$_mn" && is_uint "$_md" && is_uint "$_mx" && [ "$_mn" -gt 0 ] &&
		[ "$_mn" -le "$_md" ] && [ "$_md" -le "$_mx" ]
}

# probe_vmx PREFIX ITERATIONS: one probe on CPU 0 that must succeed with
# every measurement counted, CR4.VMXE kept; leaves the reply in PROBE_OUT.
probe_vmx() {
	_pv=$1 _it=$2
	_before=$(vmxe)
	probe --cpu 0 --iterations "$_it"
	expect "$_pv-vmxe-kept" "$_before" "$(vmxe)" "CR4.VMXE before/after (virthw)"
	if [ "$PROBE_RC" -ne 0 ]; then
		fail "$_pv-probe" "exit $PROBE_RC: $(out)"
		return 1
	fi
	if [ "$(val feature)" = vmx ] && [ "$(val round_trip_count)" = "$_it" ] && ordered round_trip &&
		[ "$(val toggle_count)" = "$_it" ] && ordered toggle &&
		[ "$(val immediate_count)" = "$_it" ] && ordered immediate && [ "$(val timer_rate)" = 0 ]; then
		pass "$_pv-probe" "(a) $(val round_trip_median) (b) $(val toggle_median) (c) $(val immediate_median) [$(val immediate_method)] median TSC cycles, (b)/(a) $(val toggle_ratio_milli)/1000; interrupted $(val interrupted); $(val duration_ns) ns"
	else
		fail "$_pv-probe" "unexpected reply: $(out)"
		return 1
	fi
	note "bench cpu=0 $_pv round_trip=$(val round_trip_median) toggle=$(val toggle_median) immediate=$(val immediate_median) method=$(val immediate_method) ratio_milli=$(val toggle_ratio_milli) timer_elapsed=$(val timer_elapsed_median) tsc_khz=$(val tsc_khz)"
}

expect vmxe-off-at-start 0 "$(vmxe)" "CR4.VMXE before anything ran"

# 1. AUTO with KVM's 10 s: 42.9 s of maximum delay is enough, the timer is used.
probe --get-settings
if [ "$(val mode)" = auto ] && [ "$(val timer_use)" = 1 ] && [ "$(val reason)" = "supported and safe" ]; then
	pass settings-auto "$(out)"
else
	fail settings-auto "expected auto, timer used, safe: $(out)"
fi
if probe_vmx auto 1000; then
	expect auto-method timer-zero "$(val immediate_method)"
	expect auto-timer-use 1 "$(val timer_use)"
	expect auto-spurious 0 "$(val spurious_timer_exits)" "a soft-disabled timer (value 0xffffffff) must never fire"
	expect auto-programmed "10000 10000" "$(val timer_programmed) $(val timer_expected)" "programmed, expected = programmed << rate 0"
	_exp=$(val timer_expected) _rt=$(val round_trip_median) _el=$(val timer_elapsed_median)
	if [ "$(val timer_elapsed_count)" = 1000 ] && is_uint "$_el" && is_uint "$_rt" &&
		[ "$_el" -ge "$_exp" ] && [ "$_el" -le $((_exp + _rt + _exp / 100)) ]; then
		pass auto-timer-accuracy "elapsed median $_el (min $(val timer_elapsed_min), max $(val timer_elapsed_max)) for $_exp expected, round trip $_rt"
	else
		fail auto-timer-accuracy "elapsed median $_el not in [$_exp, $_exp + $_rt + 1%]: $(out)"
	fi
fi

# 2. A minimum above this machine's maximum delay: AUTO refuses the timer,
# the run path falls back to a self-IPI and measures no timer.
probe --set-timer auto --min-max-delay 60000000000
if [ "$PROBE_RC" -eq 0 ] && [ "$(val timer_use)" = 0 ] && [ "$(val reason)" = "maximum delay below the minimum" ]; then
	pass settings-short-delay "$(out)"
else
	fail settings-short-delay "expected the timer off for a short maximum delay: $(out)"
fi
if probe_vmx short 300; then
	expect short-method self-ipi "$(val immediate_method)"
	expect short-timer-use 0 "$(val timer_use)"
	expect short-no-timer "" "$(val timer_programmed)$(val timer_expected)$(val timer_elapsed_count)" "no (d) without the timer"
	expect short-spurious 0 "$(val spurious_timer_exits)"
fi

# 3. Back to 10 s: the timer again.
probe --set-timer auto --min-max-delay 10000000000
expect settings-back "1 supported and safe" "$(val timer_use) $(val reason)"
if probe_vmx back 100; then
	expect back-method timer-zero "$(val immediate_method)"
	expect back-timer "100" "$(val timer_elapsed_count)"
fi

# 4. Refusals that must not touch the CPU.
probe --cpu 1
expect refuse-cpu-range "ERANGE" "$(val error)" "CPU 1 on a one-CPU machine: $(out)"
probe --cpu 0 --iterations 0
expect refuse-iterations-zero "EINVAL" "$(val error)" "$(out)"
expect vmxe-off-after-refusals 0 "$(vmxe)"

# 5. KVM holding VMX (on 6.12 from load on, on 6.1 while a VM exists).
if check kvm-load kvm_load; then
	if check vm-create vm_start; then
		expect vmxe-on-with-vm 1 "$(vmxe)"
		probe --cpu 0 --iterations 10
		if [ "$PROBE_RC" -eq 2 ] && [ "$(val error)" = EBUSY ] && val extack | grep -q VMXE; then
			pass busy-with-kvm "$(val extack)"
		else
			fail busy-with-kvm "expected EBUSY naming CR4.VMXE: $(out)"
		fi
		expect vmxe-kept-when-busy 1 "$(vmxe)"
		vm_stop
	fi
	check kvm-unload kvm_unload
	expect vmxe-off-after-kvm 0 "$(vmxe)"
	if probe_vmx after-kvm 50; then
		expect after-kvm-method timer-zero "$(val immediate_method)"
	fi
fi

check still-loaded test -e /sys/module/virthw
dmesg_clean dmesg-clean
check virthw-unload virthw_unload
