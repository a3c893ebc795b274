# Scenario: the fault matrix (RELIABILITY.md): each fault, what the host converges to, how fast, and that nothing was lost.
#
# Rows here: a bad configuration (garbage, binary, 100 MB, a symlink loop) at
# start and on reload; KVM unloaded behind virtd's back; virthw removed and
# re-inserted while virtd runs; /run full while a lock is asked for; a CPU
# taken offline during a transition; a storm of 200 VM creations and
# destructions.  (virtd SIGKILLed in each transition is daemon-crash and
# lock-restart; a holder SIGKILLed is lock-release.)  Every row prints
# "converged in N ms" where it converges.

daemon_env || return 1
need_virthw && need_prog virtctl || return 1
check stock-kvm-load modprobe "$KVM_VENDOR_MOD" || return 1

# --- the configuration replaced by something that is not one ---------------
FM=$LIB_TMP/fault
mkdir -p "$FM"
# The bad files: the kinds an editor, a copy or a disk error leave behind.
printf '[Virtualization\nPolicy boot\n%%%%%%\n' >"$FM/garbage.conf"
head -c 8192 /dev/urandom >"$FM/binary.conf"
printf '\0' >>"$FM/binary.conf"	# a NUL for sure, wherever urandom put none
{ echo "[Virtualization]"; echo "Policy=boot"; } >"$FM/huge.conf"
dd if=/dev/zero bs=1M count=100 2>/dev/null | tr '\0' '#' >>"$FM/huge.conf"
ln -sf "$FM/loop-b.conf" "$FM/loop-a.conf"
ln -sf "$FM/loop-a.conf" "$FM/loop-b.conf"
# What each must be named by in the message.
fm_why() {
	case $1 in
	garbage) echo ':1' ;;
	binary) echo 'NUL byte' ;;
	huge) echo 'larger than' ;;
	loop) echo 'symbolic links' ;;
	esac
}
fm_file() { if [ "$1" = loop ]; then echo "$FM/loop-a.conf"; else echo "$FM/$1.conf"; fi; }

# At start: virtd refuses to run, naming the file and the problem, and
# touches nothing (no drop-in, KVM as it was).
for _k in garbage binary huge loop; do
	_f=$(fm_file "$_k")
	_t0=$(now_ms)
	_conf=$VIRTD_CONF
	VIRTD_CONF=$_f
	virtd_spawn
	VIRTD_CONF=$_conf
	if wait_for 30 proc_gone "$VIRTD_PID"; then
		wait "$VIRTD_PID"
		_rc=$?
		_ms=$(($(now_ms) - _t0))
		if [ "$_rc" -ne 0 ] && grep -q "$_f" "$VIRTD_LOG" && grep -q "$(fm_why "$_k")" "$VIRTD_LOG"; then
			pass "start-$_k" "exit $_rc in $_ms ms: $(grep -m1 "$_f" "$VIRTD_LOG" | cut -c1-160)"
		else
			fail "start-$_k" "exit $_rc, log: $(virtd_log_tail 3)"
		fi
	else
		fail "start-$_k" "virtd still runs 30 s after starting with $_f"
		virtd_kill
	fi
	check "start-$_k-no-dropin" test ! -e "$VIRTD_DROPIN"
	check "start-$_k-kvm-kept" mod_loaded "$KVM_VENDOR_MOD"
done

# On reload: Reload fails naming the file, the running configuration and the
# state it holds stay, virtd keeps serving.
virtd_conf first-vm
virtd_start start --log-level=debug || return 1
virtd_wait_state holds holds || return 1
cp "$VIRTD_CONF" "$FM/good.conf"
for _k in garbage binary huge loop; do
	_f=$(fm_file "$_k")
	rm -f "$VIRTD_CONF"
	if [ "$_k" = loop ]; then ln -s "$FM/loop-a.conf" "$VIRTD_CONF"; else cp "$_f" "$VIRTD_CONF"; fi
	_t0=$(now_ms)
	virtctl reload >"$FM/reload.out" 2>&1
	_rc=$? _ms=$(($(now_ms) - _t0))
	if [ "$_rc" -ne 0 ] && grep -q "$(fm_why "$_k")" "$FM/reload.out"; then
		pass "reload-$_k" "exit $_rc in $_ms ms: $(head -n 1 "$FM/reload.out" | cut -c1-160)"
	else
		fail "reload-$_k" "exit $_rc: $(head -n 3 "$FM/reload.out" | tr '\n' ';' | cut -c1-300)"
	fi
	expect_status "reload-$_k-kept" policy=first-vm applied_policy=first-vm state=holds
	rm -f "$VIRTD_CONF"
	cp "$FM/good.conf" "$VIRTD_CONF"
done
rm -f "$FM/huge.conf"

# --- a CPU taken offline during a transition --------------------------------
# first-vm: a VM's creation is the enable transition; CPU 1 goes offline
# while it runs and comes back: KVM and virtd bring it back on, verified.
if [ "$(nr_online)" -gt 1 ]; then
	_last=$(online_cpus | tail -n 1)
	_t0=$(now_ms)
	bg_start "$FM/vm1.out" kvm-vm --hold=600
	_vm=$BG_PID
	cpu_set_online "$_last" 0
	wait_for 30 grep -q '^kvm-vm: holding' "$FM/vm1.out"
	cpu_set_online "$_last" 1
	if wait_for 30 st_is verify.ok true && wait_for 30 st_is vm_count 1 && virtd_state_is holds; then
		pass cpu-offline-in-transition "converged in $(($(now_ms) - _t0)) ms: VM counted, verify ok"
	else
		fail cpu-offline-in-transition "state $(st state), vm_count $(st vm_count), verify $(st verify.ok), reason '$(st reason)'"
	fi
	expect_virt cpu-offline-all-on on
	kill "$_vm"
	wait "$_vm" 2>/dev/null
	wait_status cpu-offline-vm-gone vm_count 0 30
	wait_status cpu-offline-off state holds 30
	expect_virt cpu-offline-end-off off
fi

# --- a storm of 200 VM creations and destructions ----------------------------
# Ten processes, each creating and destroying one VM twenty times as fast as
# it can; afterwards the count is 0 and first-vm holds with virtualization off.
_t0=$(now_ms)
_storm=""
for _i in 0 1 2 3 4 5 6 7 8 9; do
	(for _j in $(seq 1 20); do kvm-vm --once >/dev/null 2>&1 || echo "vm $_i.$_j failed"; done) >"$FM/storm.$_i" 2>&1 &
	_storm="$_storm $!"
done
# shellcheck disable=SC2086
wait $_storm
_failed=$(cat "$FM"/storm.* | wc -l)
expect storm-vms-created 0 "$_failed" "VM creations that failed in the storm: $(cat "$FM"/storm.* | head -n 2 | tr '\n' ';')"
if wait_for 30 st_is vm_count 0 && wait_for 30 virtd_state_is holds && wait_for 30 st_is verify.ok true; then
	pass storm-converged "200 VMs in $(($(now_ms) - _t0)) ms, then vm_count 0, state holds, verified"
else
	fail storm-converged "vm_count $(st vm_count), state $(st state), verify $(st verify.ok), reason '$(st reason)'"
fi
expect_status storm-status policy=first-vm applied_policy=first-vm state=holds vm_count=0 verify.ok=true
expect_virt storm-end-off off
# The next VM still counts: the storm left no stale VM or event behind.
if check storm-next-vm vm_start; then
	wait_status storm-next-counted vm_count 1 30
	check storm-next-stop vm_stop
	wait_status storm-next-gone vm_count 0 30
fi

# --- KVM unloaded behind virtd's back ----------------------------------------
# Under first-vm with no VM nothing holds KVM, so modprobe -r succeeds: virtd
# sees the module leave and loads it again (with its options), so that the
# next VM finds /dev/kvm.
_t0=$(now_ms)
if check kvm-removed modprobe -r "$KVM_VENDOR_MOD"; then
	if wait_for 30 mod_loaded "$KVM_VENDOR_MOD" && wait_for 30 test -c /dev/kvm && wait_for 30 virtd_state_is holds; then
		pass kvm-removed-reloaded "converged in $(($(now_ms) - _t0)) ms: $KVM_VENDOR_MOD loaded again, state holds"
	else
		fail kvm-removed-reloaded "loaded: $(mod_loaded "$KVM_VENDOR_MOD" && echo yes || echo no), state $(st_live state), reason '$(st reason)'"
	fi
	expect_status kvm-removed-status policy=first-vm applied_policy=first-vm state=holds verify.ok=true
	if check kvm-removed-next-vm vm_start; then
		wait_status kvm-removed-vm-counted vm_count 1 30
		check kvm-removed-vm-stop vm_stop
	fi
fi

# --- virthw removed and re-inserted while virtd runs -------------------------
# Without it virtd cannot verify: status says why; re-inserted, virtd
# reconnects on the module's uevent and verifies again.
virtd_conf boot
virtctl reload >/dev/null 2>&1
virtd_wait_state boot-holds holds || return 1
if check virthw-rmmod virthw_unload; then
	# Nothing can be verified without it, and status says so.
	wait_for 30 st_is verify.checked 0
	virtctl status >"$FM/status-nohw.out" 2>&1
	if [ "$(st verify.checked)" = 0 ] && grep -q 'nothing checked' "$FM/status-nohw.out" &&
		grep -q 'No per-CPU state' "$FM/status-nohw.out"; then
		pass virthw-gone-shown "verify.checked 0; virtctl status: $(grep -m1 'Verify' "$FM/status-nohw.out" | tr -s ' ')"
	else
		fail virthw-gone-shown "verify.checked '$(st verify.checked)': $(grep -E 'Verify|per-CPU' "$FM/status-nohw.out" | tr '\n' ';') log: $(virtd_log_tail 12)"
	fi
	check virthw-gone-alive test -d "/proc/$VIRTD_PID"
	# Looking the family up would load it again (its alias): an
	# administrator's rmmod stays done until someone loads it.
	if mod_loaded virthw; then
		fail virthw-stays-removed "virthw is loaded again: $(virtd_log_tail 6)"
	else
		pass virthw-stays-removed
	fi
	_t0=$(now_ms)
	check virthw-reinsert virthw_load
	if wait_for 30 st_is verify.ok true; then
		pass virthw-back "converged in $(($(now_ms) - _t0)) ms: state $(st state), verify ok"
	else
		fail virthw-back "verify.ok '$(st verify.ok)', state $(st state), reason '$(st reason)'"
	fi
	expect_virt virthw-back-on on
fi

# --- /run full while a lock is asked for --------------------------------------
# The lock's FIFO and metadata cannot be written: the request fails naming
# the problem, KVM is not unloaded for nothing (or is back), and once there
# is room the lock works.
need_foreignhv || return 1
# /run is a tmpfs: shrunk to what it holds now plus a little, then filled.
_fill=/run/virtd-fault-fill
_used=$(df -k /run | awk 'NR == 2 { print $3 }')
mount -o remount,size=$((_used + 256))k /run
dd if=/dev/zero of="$_fill" bs=4k 2>/dev/null
_t0=$(now_ms)
virtctl lock --who=fault -- true >"$FM/lock-full.out" 2>&1
_rc=$?
rm -f "$_fill"
mount -o remount,size=50% /run
if [ "$_rc" -ne 0 ] && grep -qiE 'space|ENOSPC' "$FM/lock-full.out"; then
	pass run-full-refused "exit $_rc: $(head -n 1 "$FM/lock-full.out" | cut -c1-160)"
else
	fail run-full-refused "exit $_rc: $(head -n 3 "$FM/lock-full.out" | tr '\n' ';' | cut -c1-300)"
fi
if wait_for 60 st_is verify.ok true && wait_for 30 virtd_state_is holds; then
	pass run-full-converged "in $(($(now_ms) - _t0)) ms: boot holds, verified, $(nr_locks) locks"
else
	fail run-full-converged "state $(st state), reason '$(st reason)'"
fi
expect run-full-no-lock-left 0 "$(lock_files)" "lock metadata files after the refused request"
if virtctl lock --who=fault -- true >"$FM/lock-after.out" 2>&1; then
	pass run-room-lock-works
else
	fail run-room-lock-works "$(head -n 3 "$FM/lock-after.out" | tr '\n' ';')"
fi
wait_status run-room-boot-back state holds 60

# --- dbus-daemon restarted ------------------------------------------------------
# virtd stays (same process, its policy, its VM count), is back on the new
# bus by itself, and a KVM VM that ran across it is still there and counted.
if check dbus-vm-start vm_start; then
	wait_status dbus-vm-counted vm_count 1 30
	_pid=$(pidof dbus-daemon)
	kill -TERM $_pid
	wait_for 10 proc_gone "${_pid%% *}"
	_t0=$(now_ms)
	if bus_up && wait_for 30 virtd_state_is holds; then
		pass dbus-back "virtd on the new bus after $(($(now_ms) - _t0)) ms (bus up included)"
	else
		fail dbus-back "state '$(virtd_state)'; log: $(virtd_log_tail 6)"
	fi
	check dbus-same-virtd test -d "/proc/$VIRTD_PID"
	check dbus-vm-alive test -d "/proc/$VM_PID"
	expect_status dbus-status policy=boot applied_policy=boot state=holds vm_count=1 verify.ok=true
	if grep -q 'Back on the system bus' "$VIRTD_LOG"; then
		pass dbus-logged "$(grep -m1 'Lost the system bus' "$VIRTD_LOG" | cut -c1-120)"
	else
		fail dbus-logged "$(virtd_log_tail 4)"
	fi
	check dbus-vm-stop vm_stop
	wait_status dbus-vm-gone vm_count 0 30
	if virtctl lock --who=fault -- true >"$FM/lock-dbus.out" 2>&1; then
		pass dbus-lock-works
	else
		fail dbus-lock-works "$(head -n 3 "$FM/lock-dbus.out" | tr '\n' ';')"
	fi
	wait_status dbus-boot-back state holds 60
fi
check stop virtd_stop
