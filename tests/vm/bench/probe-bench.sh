# Benchmark (guest side): virthw's run path through `virtctl probe --json` on every online CPU: (a) round trips, (b) with the timer pin control toggled, (c) an immediate exit, (b)/(a).
# Prints one "VIRTD-BENCH: probe pass=P cpu=N KEY=VALUE..." line per CPU and
# pass (default; on VMX with the timer in use also timer-off, for the
# self-IPI) and the probe's JSON as "VIRTD-PROBE-JSON: pass=P cpu=N {...}";
# tests/vm/bench-probe.sh
# collects them.  Iterations: virtd.probe_iterations= on the kernel command
# line (default 1000).  Runs in the daemon image on Bochs (VMX) and QEMU (SVM).

ITER=$(sed -n 's/.*virtd\.probe_iterations=\([0-9]*\).*/\1/p' /proc/cmdline)
ITER=${ITER:-1000}

# pj KEY: the value at cpus.0.KEY in the flattened `virtctl probe --cpu=N
# --json` result (one CPU, so index 0; keys as in virtctl(8)); "-" when it
# is absent or null.
pj() {
	awk -F'\t' -v k="cpus.0.$1" '$1 == k { v = $2; gsub(/"/, "", v); if (v == "null") v = "-"; print v; f = 1; exit }
		END { if (!f) print "-" }' "$LIB_TMP/probe.flat"
}

need_prog virtctl || return 1
need_virthw || return 1
daemon_env || return 1
virtd_conf first-vm
virtd_start start || return 1
virtd_wait_state holds holds 90 || return 1
note "$(nr_online) CPUs ($FEATURE), $(uname -r), $ITER iterations per figure"

# probe_all PASS: `virtctl probe --cpu=N` on every online CPU; one
# VIRTD-BENCH line each, tagged pass=PASS.
probe_all() {
	for cpu in $(online_cpus); do
		before=$(hw_count_on)
		virtctl probe --cpu="$cpu" --iterations="$ITER" --json >"$LIB_TMP/probe.json" 2>"$LIB_TMP/probe.err"
		rc=$?
		after=$(hw_count_on)
		expect "$1-cpu$cpu-state-kept" "$before" "$after" "CPUs with virtualization on before and after the probe"
		if [ "$rc" -ne 0 ]; then
			fail "$1-cpu$cpu-probe" "virtctl probe --cpu=$cpu exited $rc: $(head -c 300 "$LIB_TMP/probe.err")"
			continue
		fi
		json_flatten <"$LIB_TMP/probe.json" >"$LIB_TMP/probe.flat"
		echo "VIRTD-PROBE-JSON: pass=$1 cpu=$cpu $(tr -d '\n' <"$LIB_TMP/probe.json")"
		a=$(pj round_trip.median)
		case $a in
		'' | - | *[!0-9]*) fail "$1-cpu$cpu-probe" "no round-trip median in: $(head -c 300 "$LIB_TMP/probe.json")"; continue ;;
		esac
		pass "$1-cpu$cpu-probe" "round trip median $a TSC cycles"
		echo "VIRTD-BENCH: probe pass=$1 cpu=$(pj cpu) feature=$(pj feature) iterations=$(pj iterations)" \
			"tsc_khz=$(pj tsc_khz) timer_use=$(pj timer_use)" \
			"a=$a a_n=$(pj round_trip.count) b=$(pj toggle.median) b_n=$(pj toggle.count)" \
			"c=$(pj immediate.median) c_n=$(pj immediate.count) method=$(pj immediate_method)" \
			"ratio=$(pj toggle_ratio) d_expected=$(pj timer_expected) d=$(pj timer_elapsed.median)" \
			"spurious=$(pj spurious_timer_exits) interrupted=$(pj interrupted) duration_ns=$(pj duration_ns)"
	done
}

# The configured decision first (default: Mode=auto, MinMaxDelay=10s).
probe_all default
# On VMX with the timer in use, once more with the timer decided off
# (MinMaxDelay above the machine's maximum delay), so that (c) is measured
# both ways: a zero timer and a self-IPI.
status
if [ "$(st timer.use)" = true ]; then
	virtd_conf first-vm "[PreemptionTimer]" "MinMaxDelay=60min"
	if virtctl reload >"$LIB_TMP/reload.out" 2>&1 && wait_for 90 st_is timer.use false &&
		wait_for 90 st_is timer.kvm_intel.state applied; then
		note "timer off: $(st timer.reason_text)"
		probe_all timer-off
	else
		fail timer-off "the timer decision did not go off with MinMaxDelay=60min: $(head -n 2 "$LIB_TMP/reload.out" | tr '\n' ';') timer.use '$(st timer.use)', kvm_intel '$(st timer.kvm_intel.state)'"
	fi
fi
check stop virtd_stop
