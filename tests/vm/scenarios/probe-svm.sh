# Scenario: virthw's own SVM run path (PROBE) on every CPU, its refusals, the timer settings on AMD, and EFER.SVME (read through /dev/cpu/N/msr) the same after every probe as before it.

if [ "$VENDOR" != amd ]; then
	skip probe-svm "not an AMD machine ($VENDOR): probe-svm tests the SVM run path"
	return 0
fi
modules_reset || fail reset "could not unload virthw/KVM"
need_virthw && need_prog virthw-probe && need_prog kvm-vm || return 1
mod_loaded msr || modprobe msr || {
	fail msr-load "cannot load the msr driver: no oracle for EFER"
	return 1
}
check virthw-load virthw_load || return 1
dmesg_mark

# probe ARGS... and val KEY: lib.sh.
out() { tr '\n' ' ' <"$PROBE_OUT" | cut -c1-300; }
svme_all() {	# EFER.SVME of every online CPU, e.g. "01"
	for _c in $(online_cpus); do
		efer_svme "$_c" || echo "?"
	done | tr -d '\n'
}

svme_none() { [ -z "$(svme_all | tr -d 0)" ]; }

# probe_ok CHECK CPU ITERATIONS [ARGS...]: a probe that must succeed with
# ITERATIONS round trips, and leave EFER.SVME as it was on every CPU.
probe_ok() {
	_pk=$1 _cpu=$2 _it=$3
	shift 3
	_before=$(svme_all)
	probe --cpu "$_cpu" "$@"
	_after=$(svme_all)
	expect "$_pk-svme-kept" "$_before" "$_after" "EFER.SVME per CPU before/after"
	if [ "$PROBE_RC" -ne 0 ]; then
		fail "$_pk" "exit $PROBE_RC: $(out)"
		return 1
	fi
	_n=$(val round_trip_count) _min=$(val round_trip_min) _med=$(val round_trip_median) _max=$(val round_trip_max)
	if [ "$(val feature)" = svm ] && [ "$(val cpu)" = "$_cpu" ] && [ "$(val iterations)" = "$_it" ] &&
		[ "$_n" = "$_it" ] && [ "${_min:-0}" -gt 0 ] && [ "$_med" -le "$_max" ] && [ "$_min" -le "$_med" ] &&
		[ -z "$(val toggle_count)" ] && [ -z "$(val immediate_count)" ] && [ -z "$(val timer_elapsed_count)" ] &&
		[ -z "$(val timer_use)" ]; then
		pass "$_pk" "round trips: $_n, min $_min, median $_med, mean $(val round_trip_mean), max $_max TSC cycles; interrupted $(val interrupted); $(val duration_ns) ns"
		note "bench cpu=$_cpu round_trip_median=$_med round_trip_min=$_min tsc_khz=$(val tsc_khz)"
	else
		fail "$_pk" "unexpected reply: $(out)"
	fi
}

# probe_refused CHECK ERRNO-NAME ARGS...: refused with that error and a
# message, EFER.SVME unchanged.
probe_refused() {
	_pk=$1 _want=$2
	shift 2
	_before=$(svme_all)
	probe "$@"
	_after=$(svme_all)
	expect "$_pk-svme-kept" "$_before" "$_after" "EFER.SVME per CPU before/after"
	if [ "$PROBE_RC" -eq 2 ] && [ "$(val error)" = "$_want" ] && [ -n "$(val extack | tr -d '"')" ]; then
		pass "$_pk" "$(val error): $(val extack)"
	else
		fail "$_pk" "expected $_want with a message, got exit $PROBE_RC: $(out)"
	fi
}

check svme-off-at-start svme_none

# Every CPU, then the module's default count.
for _cpu in $(online_cpus); do
	probe_ok "probe-cpu$_cpu" "$_cpu" 200 --iterations 200
done
probe_ok probe-default-iterations 0 1000

# The long probes below must outlast a few requests but stay well inside the
# module's 2 s bound per measurement, however slow the emulator is today (a
# round trip under TCG costs 10-50 us, more on a loaded host): size them from
# the mean just measured to ~0.4 s of TSC, 1000-20000 iterations.
_mean=$(val round_trip_mean) _khz=$(val tsc_khz)
LONG_IT=20000
if [ "${_mean:-0}" -gt 0 ] && [ "${_khz:-0}" -gt 0 ]; then
	LONG_IT=$((_khz * 400 / _mean))
	[ "$LONG_IT" -le 20000 ] || LONG_IT=20000
	[ "$LONG_IT" -ge 1000 ] || LONG_IT=1000
fi
note "long probes: $LONG_IT iterations (mean round trip $_mean TSC cycles at $_khz kHz)"

# One probe at a time: a second one while a long one runs gets EBUSY at once.
# (Timing-dependent only in which one gets in first: up to three long probes
# are tried.  A short one that reaches the module before the long one has
# started makes the long one the refused one; that try shows the same
# exclusion, but the long probe's own success is then shown by the next try.
# SKIP, not FAIL, when each long probe ended before a second one got in,
# e.g. on a host so loaded that starting a process outlasts a probe.)
_busy="" _long_rc=0 _long_busy=0
for _try in 1 2 3; do
	bg_start "$LIB_TMP/long.out" virthw-probe --cpu 0 --iterations "$LONG_IT"
	_long=$BG_PID
	for _i in $(seq 1 50); do
		probe --cpu 0 --iterations 1
		if [ "$PROBE_RC" -eq 2 ] && [ "$(val error)" = EBUSY ]; then
			_busy=$(val extack)
			break
		fi
		kill -0 "$_long" 2>/dev/null || break
	done
	wait "$_long"
	_long_rc=$?
	if [ "$_long_rc" -eq 2 ] && grep -q '^error=EBUSY' "$LIB_TMP/long.out"; then
		# The short probe got in first: the long one was the refused one.
		_long_busy=$((_long_busy + 1))
		[ -n "$_busy" ] || _busy=$(sed -n 's/^extack=//p' "$LIB_TMP/long.out" | head -n 1)
		_busy="$_busy (the long probe refused)"
		continue
	fi
	[ -z "$_busy" ] && [ "$_long_rc" -eq 0 ] || break
done
if [ -n "$_busy" ]; then
	pass concurrent-busy "$_busy (try $_try)"
else
	skip concurrent-busy "in 3 tries the long probe ended before a second one overlapped it"
fi
# The last try's long probe may be the refused one (tries without an
# overlap first, then the short probe got in first): its own success is
# then shown by one more long probe, alone.
if [ "$_long_rc" -eq 2 ] && grep -q '^error=EBUSY' "$LIB_TMP/long.out"; then
	virthw-probe --cpu 0 --iterations "$LONG_IT" >"$LIB_TMP/long.out" 2>&1
	_long_rc=$?
	_try="$_try, then one alone"
fi
expect concurrent-long-ok 0 "$_long_rc" "the long probe itself, try $_try, $_long_busy refused as the second: $(tr '\n' ' ' <"$LIB_TMP/long.out" | cut -c1-200)"

# Requests the module refuses.
probe_refused refuse-cpu-range ERANGE --cpu 4096
probe_refused refuse-iterations-zero EINVAL --cpu 0 --iterations 0
probe_refused refuse-iterations-max EINVAL --cpu 0 --iterations 100001
if [ "$(nr_online)" -gt 1 ]; then
	_last=$(online_cpus | tail -n 1)
	if cpu_set_online "$_last" 0; then
		probe_refused refuse-offline ENXIO --cpu "$_last"
		check cpu-back-online cpu_set_online "$_last" 1
	else
		fail refuse-offline "could not take CPU $_last offline"
	fi
fi

# KVM holds SVM while a VM exists: the probe must refuse, not take it over.
if kvm_load_on_demand; then
	if vm_start; then
		expect svme-on-with-vm "$(nr_online)" "$(svme_all | tr -cd 1 | wc -c)" "CPUs with EFER.SVME while a VM exists"
		probe_refused busy-with-vm EBUSY --cpu 0 --iterations 10
		case "$(val extack)" in
		*SVME*) pass busy-message "names EFER.SVME" ;;
		*) fail busy-message "extack does not say what holds SVM: $(val extack)" ;;
		esac
		vm_stop
		# KVM turns SVM off when the last VM is gone (on-demand mode).
		wait_for 20 svme_none || true
		_svme=$(svme_all)
		if [ "$(printf '%s' "$_svme" | tr -d 0)" = "" ]; then
			probe_ok probe-after-vm 0 100 --iterations 100
		else
			fail probe-after-vm "EFER.SVME still set after the VM ended ($_svme): KVM kept SVM on"
		fi
	else
		fail vm-start "kvm-vm could not create a VM"
	fi
	check kvm-unload kvm_unload
else
	fail kvm-load "could not load KVM"
fi

# The settings: defaults, a round trip, strict validation; AMD has no timer.
probe --get-settings
if [ "$PROBE_RC" -eq 0 ] && [ "$(val mode)" = auto ] && [ "$(val min_max_delay_ns)" = 10000000000 ] &&
	[ "$(val timer_use)" = 0 ] && [ "$(val reason)" = "not VMX" ]; then
	pass settings-default "$(out)"
else
	fail settings-default "expected auto, 10 s, not used (not VMX): $(out)"
fi
probe --set-timer on --min-max-delay 5000000000
if [ "$PROBE_RC" -eq 0 ] && [ "$(val mode)" = on ] && [ "$(val min_max_delay_ns)" = 5000000000 ] &&
	[ "$(val timer_use)" = 0 ] && [ "$(val reason)" = "not VMX" ]; then
	pass settings-set "$(out)"
else
	fail settings-set "expected on, 5 s, not used (not VMX): $(out)"
fi
probe --get-settings
expect settings-get-after-set "on 5000000000" "$(val mode) $(val min_max_delay_ns)"
probe --set-timer auto --min-max-delay 0
if [ "$PROBE_RC" -eq 2 ] && [ "$(val error)" = EINVAL ] && val extack | grep -q MIN_MAX_DELAY; then
	pass settings-refuse-zero "$(val extack)"
else
	fail settings-refuse-zero "expected EINVAL naming MIN_MAX_DELAY_NS: $(out)"
fi
probe --set-timer auto --min-max-delay 3600000000001
if [ "$PROBE_RC" -eq 2 ] && [ "$(val error)" = EINVAL ] && val extack | grep -q MIN_MAX_DELAY; then
	pass settings-refuse-long "$(val extack)"
else
	fail settings-refuse-long "expected EINVAL naming MIN_MAX_DELAY_NS: $(out)"
fi
probe --get-settings
expect settings-kept-after-refusal "on 5000000000" "$(val mode) $(val min_max_delay_ns)"
# The settings event: to a subscriber that asked for it, on a change only;
# hw_client_subscribe()'s filter keeps it from CPU-event subscribers.
probe --event-test --set-timer off --min-max-delay 7000000000
expect settings-event "1 settings off 7000000000 0 0" \
	"$(val event_full) $(val event_kind) $(val event_mode) $(val event_min_max_delay_ns) $(val event_plain) $(val event_repeat)" \
	"event_full kind mode delay event_plain event_repeat: $(out)"
probe --set-timer auto --min-max-delay 10000000000
expect settings-back "auto 10000000000" "$(val mode) $(val min_max_delay_ns)"

check svme-off-at-end svme_none
check still-loaded test -e /sys/module/virthw
dmesg_clean dmesg-clean

# NMIs during a probe: sysrq-l sends an NMI to every other CPU while CPU 1
# runs VMRUN round trips.  One that hits the guest must exit (NMI
# intercept) and reach the host's handler after STGI; one between entries
# is taken at once.  Either way the probe completes and CPU 1 prints its
# NMI backtrace.  (After dmesg-clean: a backtrace has a call trace in it.)
if [ "$(nr_online)" -gt 1 ]; then
	dmesg_mark
	bg_start "$LIB_TMP/nmi.out" virthw-probe --cpu 1 --iterations "$LONG_IT"
	_nmi_pid=$BG_PID _sent=0
	while kill -0 "$_nmi_pid" 2>/dev/null && [ "$_sent" -lt 20 ]; do
		echo l >/proc/sysrq-trigger
		_sent=$((_sent + 1))
	done
	wait "$_nmi_pid"
	_nmi_rc=$?
	cp "$LIB_TMP/nmi.out" "$PROBE_OUT"
	if [ "$_nmi_rc" -eq 0 ] && [ "$(val round_trip_count)" = "$LONG_IT" ]; then
		pass nmi-probe "$LONG_IT round trips with $_sent sysrq-l rounds sent, interrupted $(val interrupted)"
	else
		fail nmi-probe "exit $_nmi_rc: $(out)"
	fi
	dmesg >"$LIB_TMP/dmesg.nmi"
	if grep -q 'NMI backtrace for cpu 1' "$LIB_TMP/dmesg.nmi"; then
		pass nmi-delivered "CPU 1 answered the backtrace NMI"
	else
		fail nmi-delivered "no 'NMI backtrace for cpu 1' in the kernel log"
	fi
	# Unclaimed NMIs on the probed CPU would mean the run path lost or
	# misrouted one.  TCG now and then delivers a stray NMI to CPU 0, the
	# CPU that sends the backtrace requests and runs no probe ("Uhhuh. NMI
	# received for unknown reason 31 on CPU 0", seen in 1 of some 20 CI
	# runs, on 6.1): the module runs nothing there, so those are noted, not
	# failed.
	_bad=$(grep -E 'BUG|Oops|WARNING|general protection|Uhhuh.*on CPU 1\.' "$LIB_TMP/dmesg.nmi" | head -n 2)
	expect nmi-log-clean "" "$_bad" "kernel log after the NMIs"
	_stray=$(grep -c 'Uhhuh.*on CPU 0\.' "$LIB_TMP/dmesg.nmi")
	[ "$_stray" -eq 0 ] || note "nmi: $_stray unclaimed NMIs on CPU 0 (sender, no probe there): $(grep -m1 'Uhhuh' "$LIB_TMP/dmesg.nmi")"
	check nmi-svme-off svme_none
fi
check virthw-unload virthw_unload
