# Scenario: virtctl probe through virtd: round trips on every CPU (SVM), refused naming the VM while one runs (exit 5), refused to nobody, and after every probe the policy and each CPU's EFER.SVME as before.

daemon_env || return 1
need_virthw && need_prog virtctl || return 1
mod_loaded msr || modprobe msr || { fail msr "cannot load the msr module for the EFER oracle"; return 1; }

# efer_all: "cpu:svme ..." for every online CPU, read through /dev/cpu/N/msr.
efer_all() {
	for _c in $(online_cpus); do
		printf '%s:%s ' "$_c" "$(efer_svme "$_c")"
	done
}
# after_probe CHECK POLICY EFER: virtd is back to POLICY, no lock left, and
# every CPU's EFER.SVME reads as EFER did before the probe.
after_probe() {
	wait_for 30 nr_locks_is 0
	virtd_wait_state "$1-holds" holds 30
	expect_status "$1-status" state=holds policy="$2" reason= verify.ok=true
	expect "$1-no-lock" 0 "$(nr_locks)"
	wait_for 10 test "$(efer_all)" = "$3"
	expect "$1-efer" "$3" "$(efer_all)" "per-CPU EFER.SVME"
}

virtd_conf boot
virtd_start start || return 1
virtd_wait_state holds holds || return 1
_efer=$(efer_all)
expect efer-boot-on "$(nr_online)" "$(svme_count)" "CPUs with EFER.SVME under boot"

# An unprivileged caller: denied by the bus policy and by virtd, nothing changes.
su -s /bin/sh nobody -c 'virtctl probe' </dev/null >"$LIB_TMP/nobody.out" 2>&1
_rc=$?
if [ "$_rc" -eq 1 ] && grep -qi 'root' "$LIB_TMP/nobody.out"; then
	pass nobody-denied "exit $_rc: $(head -n 1 "$LIB_TMP/nobody.out")"
else
	fail nobody-denied "virtctl probe as nobody exited $_rc (want 1, 'root'): $(tr '\n' ';' <"$LIB_TMP/nobody.out")"
fi
# shellcheck disable=SC2086 # VIRTD_BUS is several words
su -s /bin/sh nobody -c "dbus-send --system --print-reply $VIRTD_BUS org.virtd1.Manager.Probe uint32:0 uint32:1 uint64:0" \
	</dev/null >"$LIB_TMP/nobody.out" 2>&1
check nobody-bus-denied grep -q AccessDenied "$LIB_TMP/nobody.out"
expect_status nobody-unchanged state=holds policy=boot
expect nobody-efer "$_efer" "$(efer_all)"

# Every CPU: one result each, with round trips.
virtctl probe --json >"$LIB_TMP/probe.json" 2>"$LIB_TMP/probe.err"
_rc=$?
expect probe-exit 0 "$_rc" "virtctl probe --json: $(head -c 300 "$LIB_TMP/probe.err")"
json_flatten <"$LIB_TMP/probe.json" >"$LIB_TMP/probe.flat"
pj() { awk -F'\t' -v k="$1" '$1 == k { v = $2; gsub(/^"|"$/, "", v); print v; exit }' "$LIB_TMP/probe.flat"; }
expect probe-cpus "$(nr_online)" "$(grep -c '^cpus\.[0-9]*\.cpu	' "$LIB_TMP/probe.flat")" "CPUs in the result"
expect probe-request all "$(pj cpu_request)"
_i=0
for _c in $(online_cpus); do
	_m=$(pj "cpus.$_i.round_trip.median") _n=$(pj "cpus.$_i.round_trip.count")
	if [ "$(pj "cpus.$_i.cpu")" = "$_c" ] && [ "$(pj "cpus.$_i.feature")" = svm ] &&
		[ -n "$_m" ] && [ "$_m" != null ] && [ "$_m" -gt 0 ] 2>/dev/null && [ "$_n" -gt 0 ] 2>/dev/null; then
		pass "probe-cpu$_c-round-trip" "median $_m TSC cycles over $_n round trips ($(pj "cpus.$_i.round_trip.median_ns") ns)"
	else
		fail "probe-cpu$_c-round-trip" "entry $_i: cpu '$(pj "cpus.$_i.cpu")' feature '$(pj "cpus.$_i.feature")' median '$_m' count '$_n'"
	fi
	# No timer on SVM: the VMX measurements are absent.
	expect "probe-cpu$_c-no-toggle" null "$(pj "cpus.$_i.toggle")"
	_i=$((_i + 1))
done
# virtd held its lock while the probe ran: KVM was out of the way.
if grep -q 'Probe for pid [0-9]*: KVM is out of the way' "$VIRTD_LOG" && grep -q 'lock released by virtctl-probe' "$VIRTD_LOG"; then
	pass probe-under-lock "$(grep 'KVM is out of the way' "$VIRTD_LOG" | tail -n 1)"
else
	fail probe-under-lock "no lock taken and released for the probe: $(virtd_log_tail 4)"
fi
after_probe after-all boot "$_efer"
if grep -q 'Probe for pid [0-9]* done on' "$VIRTD_LOG"; then
	pass probe-logged "$(grep 'Probe for pid' "$VIRTD_LOG" | tail -n 1)"
else
	fail probe-logged "the journal says nothing of the probe: $(virtd_log_tail 3)"
fi

# One CPU, few iterations, the table.
virtctl probe --cpu=0 --iterations=10 >"$LIB_TMP/probe.out" 2>&1
expect probe-one-exit 0 "$?" "virtctl probe --cpu=0: $(head -n 3 "$LIB_TMP/probe.out" | tr '\n' ';')"
if grep -q '^CPU  *FEATURE  *(a) ROUND TRIP' "$LIB_TMP/probe.out" && grep -Eq '^0  +svm  +[0-9]+' "$LIB_TMP/probe.out" &&
	grep -q '^Medians of 10 iterations' "$LIB_TMP/probe.out"; then
	pass probe-table "$(grep -E '^0  ' "$LIB_TMP/probe.out")"
else
	fail probe-table "$(tr '\n' ';' <"$LIB_TMP/probe.out")"
fi
after_probe after-one boot "$_efer"

# A CPU that does not exist: the kernel's refusal, and nothing left behind.
virtctl probe --cpu=4096 >"$LIB_TMP/probe.out" 2>&1
_rc=$?
if [ "$_rc" -eq 1 ] && grep -q 'CPU 4096' "$LIB_TMP/probe.out"; then
	pass probe-bad-cpu "$(head -n 1 "$LIB_TMP/probe.out")"
else
	fail probe-bad-cpu "exit $_rc (want 1 naming CPU 4096): $(tr '\n' ';' <"$LIB_TMP/probe.out")"
fi
after_probe after-bad-cpu boot "$_efer"

# A KVM VM: refused at once, the VM named, KVM untouched.
if check vm-create vm_start; then
	wait_status vm-counted vm_count 1
	virtctl probe >"$LIB_TMP/probe.out" 2>&1
	expect vm-refused-exit 5 "$?" "virtctl probe with a VM: $(tr '\n' ';' <"$LIB_TMP/probe.out")"
	if grep -q "pid $VM_PID" "$LIB_TMP/probe.out"; then
		pass vm-refused-names-vm "$(head -n 1 "$LIB_TMP/probe.out")"
	else
		fail vm-refused-names-vm "no pid $VM_PID in: $(tr '\n' ';' <"$LIB_TMP/probe.out")"
	fi
	expect_status vm-unchanged state=holds vm_count=1
	expect vm-no-lock 0 "$(nr_locks)"
	check vm-alive test -d "/proc/$VM_PID"
	expect vm-efer "$_efer" "$(efer_all)"
	vm_stop
	wait_status vm-gone vm_count 0
fi

# first-vm: every CPU off before, during nothing of KVM's, off after.
virtd_conf first-vm
if virtctl reload >"$LIB_TMP/reload.out" 2>&1; then pass reload-first-vm; else fail reload-first-vm "$(head -n 2 "$LIB_TMP/reload.out")"; fi
wait_status first-vm-applied applied_policy first-vm 60
virtd_wait_state first-vm-holds holds || return 1
_efer=$(efer_all)
expect efer-first-vm-off 0 "$(svme_count)" "CPUs with EFER.SVME under first-vm"
virtctl probe --iterations=100 >"$LIB_TMP/probe.out" 2>&1
expect probe-first-vm-exit 0 "$?" "$(head -n 3 "$LIB_TMP/probe.out" | tr '\n' ';')"
after_probe after-first-vm first-vm "$_efer"
check first-vm-dev-kvm test -c /dev/kvm
vm_try
expect first-vm-vm 0 "$VM_TRY_RC" "a KVM VM after the probe: $(head -c 200 "$LIB_TMP/vm-try.out")"
check stop virtd_stop
