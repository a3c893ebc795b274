# Scenario: virthw under a flood of random and mutated netlink requests (virthw-attack) as root and as nobody while cpu1 goes off and on line and KVM VMs come and go; then a clean log, every CPU's state as /dev/cpu/N/msr says, and the module unloads.

ROOT_COUNT=100000
USER_COUNT=10000
modules_reset || fail reset "could not unload virthw/KVM"
need_virthw && need_prog virthw-attack && need_prog kvm-vm && need_prog virtctl && need_prog virthw-probe || return 1
mod_loaded msr || modprobe msr || {
	fail msr-load "cannot load the msr driver: no oracle for EFER"
	return 1
}
check kvm-load kvm_load_on_demand || return 1
check virthw-load virthw_load || return 1
dmesg_mark

STOP=$LIB_TMP/attack.stop
rm -f "$STOP"
# hotplug_loop: cpu1 off and on line until $STOP; ends with cpu1 online.
hotplug_loop() {
	_ok=0 _bad=0
	while [ ! -e "$STOP" ]; do
		if cpu_set_online 1 0 2>/dev/null && cpu_set_online 1 1 2>/dev/null; then
			_ok=$((_ok + 1))
		else
			_bad=$((_bad + 1))
			cpu_set_online 1 1 2>/dev/null
		fi
		sleep 0.1
	done
	echo "$_ok $_bad"
}
# vm_loop: a KVM VM created and destroyed until $STOP.
vm_loop() {
	_ok=0 _bad=0
	while [ ! -e "$STOP" ]; do
		if kvm-vm --once >"$LIB_TMP/vm-loop.last" 2>&1; then
			_ok=$((_ok + 1))
		else
			_bad=$((_bad + 1))
			cp "$LIB_TMP/vm-loop.last" "$LIB_TMP/vm-loop.failed"
		fi
		sleep 0.1
	done
	echo "$_ok $_bad"
}
HAVE_CPU1=0
[ -e /sys/devices/system/cpu/cpu1/online ] && HAVE_CPU1=1
[ "$HAVE_CPU1" = 1 ] || skip hotplug "needs a hot-pluggable cpu1 (boot with --smp 2 or more)"
[ "$HAVE_CPU1" = 1 ] && { hotplug_loop >"$LIB_TMP/hotplug.res" 2>&1 & HP_PID=$!; }
vm_loop >"$LIB_TMP/vmloop.res" 2>&1 &
VM_LOOP_PID=$!
BG_PIDS="$BG_PIDS ${HP_PID:-} $VM_LOOP_PID"

fig() { sed -n "s/.* $2=\([0-9]*\).*/\1/p" "$1" | head -n 1; }	# fig FILE KEY

# As nobody first, while the settings are the module's defaults: every
# request refused with EPERM, and the settings the same afterwards.
virthw-probe --get-settings >"$LIB_TMP/settings.before" 2>&1
_t0=$(now_ms)
virthw-attack --user=65534 --count=$USER_COUNT >"$LIB_TMP/attack-user.out" 2>&1
_rc=$?
_t1=$(now_ms)
sed 's/^/VIRTD-NOTE: attack-user: /' "$LIB_TMP/attack-user.out"
virthw-probe --get-settings >"$LIB_TMP/settings.after" 2>&1
_sent=$(fig "$LIB_TMP/attack-user.out" sent) _eperm=$(fig "$LIB_TMP/attack-user.out" EPERM)
if [ "$_rc" -eq 0 ] && [ "${_sent:-0}" -ge "$USER_COUNT" ] && [ "$_eperm" = "$_sent" ] &&
	grep -q '^attack: replies ok=0 silent=0 data=0 dumps_done=0 EPERM=[0-9]*$' "$LIB_TMP/attack-user.out"; then
	pass unprivileged "$_sent requests, all EPERM, $((_t1 - _t0)) ms"
else
	fail unprivileged "exit $_rc, sent ${_sent:-?}, EPERM ${_eperm:-?}: $(grep -E '^attack: (FAIL|replies|unpriv)' "$LIB_TMP/attack-user.out" | head -n 3 | tr '\n' ';')"
fi
if cmp -s "$LIB_TMP/settings.before" "$LIB_TMP/settings.after"; then
	pass unprivileged-settings-kept "$(tr '\n' ' ' <"$LIB_TMP/settings.after" | cut -c1-120)"
else
	fail unprivileged-settings-kept "before: $(tr '\n' ' ' <"$LIB_TMP/settings.before"); after: $(tr '\n' ' ' <"$LIB_TMP/settings.after")"
fi

_t0=$(now_ms)
virthw-attack --count=$ROOT_COUNT >"$LIB_TMP/attack-root.out" 2>&1
_rc=$?
_t1=$(now_ms)
sed 's/^/VIRTD-NOTE: attack-root: /' "$LIB_TMP/attack-root.out"
_sent=$(fig "$LIB_TMP/attack-root.out" sent) _probes=$(fig "$LIB_TMP/attack-root.out" probes)
if [ "$_rc" -eq 0 ] && [ "${_sent:-0}" -ge "$ROOT_COUNT" ] && grep -q '^attack: OK$' "$LIB_TMP/attack-root.out"; then
	pass root "$_sent requests answered, $((_t1 - _t0)) ms"
else
	fail root "exit $_rc, sent ${_sent:-?}: $(grep -E '^attack: (FAIL|root|recv)' "$LIB_TMP/attack-root.out" | head -n 3 | tr '\n' ';')"
fi

touch "$STOP"
wait "$VM_LOOP_PID"
read -r _vm_ok _vm_bad <"$LIB_TMP/vmloop.res"
if [ "$HAVE_CPU1" = 1 ]; then
	wait "$HP_PID"
	read -r _hp_ok _hp_bad <"$LIB_TMP/hotplug.res"
	if [ "${_hp_ok:-0}" -gt 0 ] && [ "${_hp_bad:-1}" -eq 0 ]; then
		pass hotplug-cycles "$_hp_ok cpu1 offline/online cycles"
	else
		fail hotplug-cycles "${_hp_ok:-?} cycles, ${_hp_bad:-?} failed"
	fi
	expect cpu1-back 1 "$(cat /sys/devices/system/cpu/cpu1/online)" "cpu1 online in sysfs"
fi
# A probe that holds SVM on a CPU makes KVM's enable fail there (EBUSY):
# as many failed VMs as probes were let through, no more.
if [ "${_vm_ok:-0}" -gt 0 ] && [ "${_vm_bad:-1}" -le "${_probes:-0}" ]; then
	pass vm-cycles "$_vm_ok VMs created and destroyed, $_vm_bad refused (probes let through: ${_probes:-0})"
else
	fail vm-cycles "${_vm_ok:-?} VMs, ${_vm_bad:-?} refused (probes ${_probes:-?}): $(tr '\n' ';' <"$LIB_TMP/vm-loop.failed" 2>/dev/null)"
fi

# state_vs_msr CHECK: every online CPU's virt_on in virthw's dump equals
# EFER.SVME read through /dev/cpu/N/msr; the dump's online CPUs are sysfs's.
state_vs_msr() {
	if [ "$VENDOR" != amd ]; then
		skip "$1" "no MSR oracle for $VENDOR"
		return 0
	fi
	hw_cpus >"$LIB_TMP/hw.state" || { fail "$1" "virtctl hw --json failed"; return 1; }
	_bad="" _seen=""
	while read -r _id _on _feat _fw _virt; do
		[ "$_on" = 1 ] || continue
		_seen="$_seen $_id"
		_m=$(efer_svme "$_id") || _m="?"
		[ "$_m" = "$_virt" ] || _bad="$_bad cpu$_id:virthw=$_virt,msr=$_m"
	done <"$LIB_TMP/hw.state"
	_want=$(online_cpus | tr '\n' ' ' | sed 's/ $//')
	if [ -n "$_bad" ]; then
		fail "$1" "mismatch:$_bad"
	elif [ "${_seen# }" != "$_want" ]; then
		fail "$1" "online in the dump:${_seen}, in sysfs: $_want"
	else
		pass "$1" "$(tr '\n' ';' <"$LIB_TMP/hw.state")"
	fi
}
state_vs_msr state-no-vm
if check vm-create vm_start; then
	state_vs_msr state-with-vm
	expect_all_on state-with-vm-all-on
	check vm-destroy vm_stop
	state_vs_msr state-after-vm
fi
dmesg_clean dmesg-clean
expect refcnt 0 "$(cat /sys/module/virthw/refcnt 2>/dev/null)" "/sys/module/virthw/refcnt"
check virthw-unload virthw_unload
kvm_unload
