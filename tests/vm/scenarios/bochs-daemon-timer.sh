# Scenario (Bochs, Intel VMX, daemon image): virtd's preemption-timer decision on a real VMX CPU, pushed to kvm_intel and virthw, and `virtctl probe` following it.
#
# Bochs's Haswell: timer rate 0, TSC 100 MHz (tsc_early_khz=100000), so the
# timer's longest delay is 2^32 / 1e8 s = 42.949672960 s.  With the default
# MinMaxDelay=10s the timer is used (kvm_intel preemption_timer=Y, probe
# exits immediately with a zero timer); MinMaxDelay=60s is above this
# machine's 42.9 s, so the decision flips to off (kvm_intel reloaded with
# preemption_timer=N, the probe's immediate exit is a self-IPI).  A change
# asked for while a KVM VM runs waits for the VM (pending), then applies.
# Every probe leaves CR4.VMXE as it found it.  A kvm_intel load costs
# ~8.5 s here: the steps are ordered for the fewest reloads.

if [ "$VENDOR" != intel ]; then
	skip vendor "bochs-daemon-timer needs the Intel (Bochs) machine, this one is $VENDOR"
	return 0
fi

# The figures the harness gave this machine (see bochs-vmx.sh).
BX_TSC_KHZ=$(sed -n 's/.*tsc_early_khz=\([0-9]*\).*/\1/p' /proc/cmdline)
BX_TSC_KHZ=${BX_TSC_KHZ:-100000}
BX_MAX_DELAY_NS=$((4294967296 * 1000000 / BX_TSC_KHZ))
# Probe iterations: enough for medians, few enough for an emulator.
PROBE_ITERATIONS=200
PARAM=/sys/module/kvm_intel/parameters/preemption_timer

param_is() { [ "$(cat "$PARAM" 2>/dev/null)" = "$1" ]; }
# kvm_param_check CHECK Y|N: kvm_intel is loaded with preemption_timer=Y|N
# (read from sysfs; virtd reloads it asynchronously, so 90 s to get there).
kvm_param_check() {
	if wait_for 90 param_is "$2"; then
		pass "$1" "$PARAM = $2"
	else
		fail "$1" "$PARAM is '$(cat "$PARAM" 2>&1)', want $2 (timer.kvm_intel: state '$(st_live timer.kvm_intel.state)', reason '$(st timer.kvm_intel.reason)')"
	fi
}
# reload_conf CHECK LINE...: /etc/virtd.conf (policy first-vm) with the
# given [PreemptionTimer] lines; `virtctl reload` succeeds.
reload_conf() {
	_rck=$1
	shift
	virtd_conf first-vm "$@"
	if virtctl reload >"$LIB_TMP/reload.out" 2>&1; then
		pass "$_rck"
	else
		fail "$_rck" "virtctl reload exited $?: $(head -n 3 "$LIB_TMP/reload.out" | tr '\n' ';')"
	fi
}
# vmx_on_count: online CPUs with CR4.VMXE set, by virthw.
vmx_on_count() { hw_count_on 2>/dev/null || echo "?"; }

# pv KEY: cpus.0.KEY from the last probe's flattened JSON (keys as in
# virtctl(8); `--cpu=0` gives one entry), strings unquoted.
pv() { awk -F'\t' -v k="cpus.0.$1" '$1 == k { v = $2; gsub(/"/, "", v); print v; exit }' "$LIB_TMP/probe.flat"; }
is_count() { case $1 in '' | *[!0-9]*) return 1 ;; esac; }
# probe CHECK METHOD: `virtctl probe --cpu=0 --json` succeeds; the
# immediate exit used METHOD (timer-zero or self-ipi) and the run used the
# timer exactly when METHOD is timer-zero; (a), (b), (c) are there; the
# timer's own figures (d) are there exactly with the timer, and then no
# timer exit came while it was soft-disabled; CR4.VMXE is as before.
probe() {
	_pck=$1
	_before=$(vmx_on_count)
	virtctl probe --cpu=0 --iterations=$PROBE_ITERATIONS --json >"$LIB_TMP/probe.json" 2>"$LIB_TMP/probe.err"
	_rc=$?
	_after=$(vmx_on_count)
	expect "$_pck-vmx-restored" "$_before" "$_after" "CPUs with CR4.VMXE before and after the probe (exit $_rc)"
	if [ "$_rc" -ne 0 ]; then
		fail "$_pck" "virtctl probe exited $_rc: $(head -c 300 "$LIB_TMP/probe.err")"
		return 1
	fi
	json_flatten <"$LIB_TMP/probe.json" >"$LIB_TMP/probe.flat"
	pass "$_pck" "a=$(pv round_trip.median) b=$(pv toggle.median) c=$(pv immediate.median) ($(pv immediate_method)) d=$(pv timer_elapsed.median)/$(pv timer_expected) TSC cycles, $(pv iterations) iterations"
	expect "$_pck-method" "$2" "$(pv immediate_method)" "immediate-exit method"
	_use=false
	[ "$2" = timer-zero ] && _use=true
	expect "$_pck-timer-use" "$_use" "$(pv timer_use)" "the decision the run path used"
	_bad=""
	for _k in round_trip toggle immediate; do
		is_count "$(pv "$_k.median")" && [ "$(pv "$_k.count")" -gt 0 ] 2>/dev/null || _bad="$_bad $_k.median='$(pv "$_k.median")' $_k.count='$(pv "$_k.count")'"
	done
	if [ -z "$_bad" ]; then pass "$_pck-figures"; else fail "$_pck-figures" "$_bad"; fi
	_d=$(pv timer_elapsed.median)
	if [ "$_use" = true ]; then
		if is_count "$_d" && is_count "$(pv timer_expected)"; then
			pass "$_pck-timer-figures" "timer exit after $_d TSC cycles for $(pv timer_expected) programmed"
		else
			fail "$_pck-timer-figures" "no timer figures with the timer in use: timer_elapsed.median '$_d', timer_expected '$(pv timer_expected)'"
		fi
		expect "$_pck-no-spurious" 0 "$(pv spurious_timer_exits)" "timer exits while soft-disabled, during (a) and (b)"
	else
		if is_count "$_d"; then
			fail "$_pck-no-timer-figures" "timer_elapsed.median '$_d' with the timer not in use"
		else
			pass "$_pck-no-timer-figures"
		fi
	fi
}

need_virthw || return 1
need_prog kvm-vm || return 1
daemon_env || return 1
dmesg_mark

# --- the default configuration: Mode=auto, MinMaxDelay=10s ------------------
virtd_conf first-vm
virtd_start start || return 1
virtd_wait_state holds holds 90 || return 1
wait_status kvm-loaded kvm.vendor_state loaded 90
expect_status timer-default timer.mode=auto timer.min_max_delay_ns=10000000000 timer.decided=true \
	timer.applies=true timer.feature=vmx timer.tsc_khz="$BX_TSC_KHZ" timer.tsc_assumed=false timer.rate=0 \
	timer.pin_control=true timer.erratum=false timer.max_delay_ns="$BX_MAX_DELAY_NS" timer.use=true \
	timer.reason=safe timer.warning=false
wait_status timer-kvm-applied timer.kvm_intel.state applied 90
expect_status timer-kvm-default timer.kvm_intel.want=true timer.kvm_intel.current=true
# virthw took the settings: its decision is virtd's.
module_check() {	# module_check CHECK KEY=VALUE...
	if [ "$(st_live timer.module)" = null ]; then
		fail "$1" "virthw has no timer settings from virtd: $(st timer.module_error)"
		return 1
	fi
	expect_status "$@"
}
module_check timer-module-default timer.module.mode=auto timer.module.min_max_delay_ns=10000000000 \
	timer.module.use=true timer.module.reason=safe timer.module.matches=true
kvm_param_check kvm-param-default Y
dropin_check dropin-default '^options kvm_intel preemption_timer=Y$'
virtctl status >"$LIB_TMP/ctl.out" 2>&1
if grep -i 'timer' "$LIB_TMP/ctl.out" | grep -q '42\.9'; then
	pass timer-text "$(grep -i 'timer' "$LIB_TMP/ctl.out" | head -n 2 | tr '\n' ';' | tr -s ' ')"
else
	fail timer-text "virtctl status shows no timer line with 42.9 s: $(grep -i timer "$LIB_TMP/ctl.out" | tr '\n' ';')"
fi
probe probe-default timer-zero
expect_status after-probe-default state=holds applied_policy=first-vm timer.use=true
kvm_param_check kvm-param-after-probe Y

# --- MinMaxDelay=60s: above this machine's 42.9 s, so the timer is off ------
reload_conf reload-60s "[PreemptionTimer]" "MinMaxDelay=60s"
wait_status timer-60s-off timer.use false 30
expect_status timer-60s timer.mode=auto timer.min_max_delay_ns=60000000000 timer.decided=true \
	timer.reason=short-max-delay timer.max_delay_ns="$BX_MAX_DELAY_NS"
module_check timer-module-60s timer.module.min_max_delay_ns=60000000000 timer.module.use=false \
	timer.module.reason=short-max-delay timer.module.matches=true
_r=$(st timer.reason_text)
case $_r in
*42.9*60*) pass timer-60s-reason "$_r" ;;
*) fail timer-60s-reason "reason '$_r' does not compare the 42.9 s maximum delay with the 60 s minimum" ;;
esac
kvm_param_check kvm-param-60s N
wait_status timer-60s-kvm-applied timer.kvm_intel.state applied 90
expect_status timer-60s-kvm timer.kvm_intel.want=false timer.kvm_intel.current=false state=holds verify.ok=true
dropin_check dropin-60s '^options kvm_intel preemption_timer=N$'
probe probe-60s self-ipi
kvm_param_check kvm-param-after-probe-60s N

# --- back to the default while a VM runs: pending until it ends -------------
if check vm-create vm_start; then
	wait_status vm-counted vm_count 1
	reload_conf reload-default-vm
	wait_status timer-vm-use timer.use true 30
	wait_status timer-vm-pending timer.kvm_intel.state pending 30
	expect_status timer-vm-pending-status timer.kvm_intel.want=true timer.kvm_intel.current=false vm_count=1
	_r=$(st timer.kvm_intel.reason)
	if echo "$_r" | grep -q "$VM_PID"; then
		pass timer-vm-pending-reason "$_r"
	else
		fail timer-vm-pending-reason "reason '$_r' does not name the VM's pid $VM_PID"
	fi
	expect timer-vm-param-kept N "$(cat "$PARAM" 2>&1)" "$PARAM while the VM runs"
	check vm-destroy vm_stop
else
	reload_conf reload-default-vm
fi
kvm_param_check kvm-param-back Y
wait_status timer-back-applied timer.kvm_intel.state applied 90
expect_status timer-back timer.use=true timer.reason=safe timer.kvm_intel.current=true state=holds verify.ok=true
dropin_check dropin-back '^options kvm_intel preemption_timer=Y$'
probe probe-back timer-zero

check stop virtd_stop
rm -f "$VIRTD_DROPIN"
modules_reset || fail reset "could not unload virthw/KVM: $(tr '\n' ';' </proc/modules)"
dmesg_clean dmesg
