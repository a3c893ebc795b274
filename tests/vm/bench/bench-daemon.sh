# Benchmark (guest side, figures not verdicts): KVM_CREATE_VM latency per policy, virtd idle cost, exec to READY=1, virtctl status round trip.
# Prints "VIRTD-BENCH: NAME VALUE UNIT" lines; tests/vm/bench.sh collects them.

RUNS=$(sed -n "s/.*virtd.bench_runs=\([0-9]*\).*/\1/p" /proc/cmdline)
RUNS=${RUNS:-25}
bench() { echo "VIRTD-BENCH: $1 $2 $3"; }

# median_create: N runs of a fresh kvm-vm creating one VM; the median of
# KVM_CREATE_VM's time in µs (one process per run, as a VMM's start would be).
median_create() {
	_i=0
	: >"$LIB_TMP/create.us"
	while [ "$_i" -lt "$RUNS" ]; do
		kvm-vm --once --timing >"$LIB_TMP/kvm-vm.out" 2>&1 || { cat "$LIB_TMP/kvm-vm.out" >&2; return 1; }
		sed -n 's/^kvm-vm: timing create_us=//p' "$LIB_TMP/kvm-vm.out" >>"$LIB_TMP/create.us"
		_i=$((_i + 1))
	done
	sort -n "$LIB_TMP/create.us" | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
# A VM held by another process while the runs happen.
with_vm_median() {
	vm_start || return 1
	_m=$(median_create)
	vm_stop
	echo "$_m"
}
# start_timed NAME: virtd under benchtool's notify socket; READY=1 time.
start_timed() {
	VIRTD_CONFIG=$VIRTD_CONF benchtool ready --timeout=120 --pidfile="$LIB_TMP/virtd.pid" -- virtd >"$LIB_TMP/ready.out" 2>"$LIB_TMP/virtd.bench.log"
	_rc=$?
	VIRTD_PID=$(cat "$LIB_TMP/virtd.pid" 2>/dev/null)
	_us=$(sed -n 's/^benchtool: ready_us=\([0-9]*\).*/\1/p' "$LIB_TMP/ready.out")
	if [ "$_rc" -ne 0 ] || [ -z "$_us" ]; then
		fail "$1" "no READY=1: $(tr '\n' ';' <"$LIB_TMP/ready.out") $(tail -n 3 "$LIB_TMP/virtd.bench.log" | tr '\n' ';')"
		return 1
	fi
	bench "$1" "$((_us / 1000))" ms
	pass "$1" "$((_us / 1000)) ms"
}
stop_untracked() {	# virtd is benchtool's child, not ours: no wait
	kill -TERM "$VIRTD_PID" 2>/dev/null
	wait_for 20 proc_gone "$VIRTD_PID"
}

daemon_env || return 1
need_prog benchtool || return 1
note "$(nr_online) CPUs, $(uname -r), $RUNS runs per figure"
bench cpus "$(nr_online)" count
bench runs "$RUNS" count

# first-vm, from a stock host: exec to READY=1 includes taking the CPUs back.
check stock-kvm-load modprobe "$KVM_VENDOR_MOD"
virtd_conf first-vm
start_timed ready-first-vm-from-stock || return 1
wait_for 60 virtd_state_is holds
expect_virt first-vm-off off
if m=$(median_create); then bench create-first-vm-first "$m" us; pass create-first-vm-first "$m us"; fi
if m=$(with_vm_median); then bench create-first-vm-second "$m" us; pass create-first-vm-second "$m us"; fi

# boot, by reload.
virtd_conf boot
virtctl reload >/dev/null 2>&1
wait_for 60 st_is applied_policy boot
wait_for 60 virtd_state_is holds
expect_virt boot-on on
if m=$(median_create); then bench create-boot-first "$m" us; pass create-boot-first "$m us"; fi
if m=$(with_vm_median); then bench create-boot-second "$m" us; pass create-boot-second "$m us"; fi

# virtctl status round trip (fork + exec + bus call + output), 50 times.
benchtool repeat --count=50 -- virtctl status >"$LIB_TMP/repeat.out" 2>&1
m=$(sed -n 's/.*median_us=\([0-9]*\).*/\1/p' "$LIB_TMP/repeat.out")
[ -n "$m" ] && bench status-roundtrip "$m" us && pass status-roundtrip "$(cat "$LIB_TMP/repeat.out")"
benchtool repeat --count=50 -- virtctl status --json >"$LIB_TMP/repeat.out" 2>&1
m=$(sed -n 's/.*median_us=\([0-9]*\).*/\1/p' "$LIB_TMP/repeat.out")
[ -n "$m" ] && bench status-json-roundtrip "$m" us
# Baselines: what exec and dynamic linking of virtctl alone cost under TCG
# (no bus), and the same bus call from dbus-send.
benchtool repeat --count=50 -- virtctl --version >"$LIB_TMP/repeat.out" 2>&1
m=$(sed -n 's/.*median_us=\([0-9]*\).*/\1/p' "$LIB_TMP/repeat.out")
[ -n "$m" ] && bench virtctl-version "$m" us
# The floor under any command here: exec of a static binary (busybox), no
# dynamic linking, no bus.
benchtool repeat --count=50 -- busybox true >"$LIB_TMP/repeat.out" 2>&1
m=$(sed -n 's/.*median_us=\([0-9]*\).*/\1/p' "$LIB_TMP/repeat.out")
[ -n "$m" ] && bench exec-static "$m" us
# TCG translates code per virtual address: with address-space randomization
# off, libraries land where their translations from the last run still are.
# Not a setting for a host; it shows how much of the round trip is the
# emulator translating code afresh.
_aslr=$(cat /proc/sys/kernel/randomize_va_space)
echo 0 >/proc/sys/kernel/randomize_va_space
benchtool repeat --count=50 -- virtctl status >"$LIB_TMP/repeat.out" 2>&1
m=$(sed -n 's/.*median_us=\([0-9]*\).*/\1/p' "$LIB_TMP/repeat.out")
[ -n "$m" ] && bench status-roundtrip-no-aslr "$m" us
echo "$_aslr" >/proc/sys/kernel/randomize_va_space
benchtool repeat --count=50 -- dbus-send --system --print-reply --dest=org.virtd1 /org/virtd1 org.virtd1.Manager.GetStatus >"$LIB_TMP/repeat.out" 2>&1
m=$(sed -n 's/.*median_us=\([0-9]*\).*/\1/p' "$LIB_TMP/repeat.out")
[ -n "$m" ] && bench getstatus-dbus-send "$m" us
# The bus round trip alone: 50 GetStatus calls on one connection, in one
# process (no exec, no dynamic linking, no connect per call).
if need_prog bus-bench && bus-bench --count=50 >"$LIB_TMP/bus-bench.out" 2>&1; then
	bench getstatus-inprocess "$(sed -n 's/.*median_us=\([0-9]*\).*/\1/p' "$LIB_TMP/bus-bench.out")" us
	bench bus-connect "$(sed -n 's/.*connect_us=\([0-9]*\).*/\1/p' "$LIB_TMP/bus-bench.out")" us
	pass getstatus-inprocess "$(cat "$LIB_TMP/bus-bench.out")"
else
	fail getstatus-inprocess "$(cat "$LIB_TMP/bus-bench.out" 2>/dev/null)"
fi

# Idle: nothing happens for 60 s; virtd's own context switches (all its
# threads) are its wakeups.  RSS at the end.
sleep 2
ctx() {
	cat /proc/"$VIRTD_PID"/task/*/status 2>/dev/null |
		awk '/^voluntary_ctxt_switches|^nonvoluntary_ctxt_switches/ { n += $2 } END { print n + 0 }'
}
c0=$(ctx)
sleep 60
c1=$(ctx)
bench idle-wakeups-per-min "$((c1 - c0))" count
bench idle-rss "$(awk '/^VmRSS/ { print $2 }' /proc/"$VIRTD_PID"/status)" KiB
bench idle-threads "$(ls /proc/"$VIRTD_PID"/task | wc -l)" count
# Of the RSS, what is virtd's alone (the rest are shared library pages).
bench idle-private "$(awk '/^Private_(Clean|Dirty):/ { n += $2 } END { print n + 0 }' /proc/"$VIRTD_PID"/smaps_rollup)" KiB
pass idle "$((c1 - c0)) context switches in 60 s"
# libkmod (and the libcrypto it pulls in) lives in virtd-kmod, never in virtd.
if grep -qE 'libkmod|libcrypto' /proc/"$VIRTD_PID"/maps; then
	fail idle-no-libkmod "mapped in virtd: $(grep -oE '[^/]*(libkmod|libcrypto)[^ ]*' /proc/"$VIRTD_PID"/maps | sort -u | tr '\n' ' ')"
else
	pass idle-no-libkmod "neither libkmod nor libcrypto mapped in virtd"
fi
# Where the resident memory is: the largest mappings by Rss (KiB).
note "largest resident mappings (KiB): $(awk '/^[0-9a-f]+-[0-9a-f]+ / { name = ($6 == "" ? "[anon]" : $6); sub(/.*\//, "", name) }
	/^Rss:/ { rss[name] += $2 } END { for (n in rss) print rss[n], n }' /proc/"$VIRTD_PID"/smaps | sort -rn | head -n 10 | tr '\n' ';')"
stop_untracked

# The same two figures with virtd stopped (the host stays as boot left it on
# 6.12; on 6.1 the pinned VM ends with virtd, so these are first-vm's): under
# single-threaded TCG whatever udevd and virtd do on a VM's uevents runs on
# the same host thread as the measured ioctl.
if m=$(median_create); then bench create-stopped-first "$m" us; fi
if m=$(with_vm_median); then bench create-stopped-second "$m" us; fi

# boot from nothing loaded (KVM loaded by virtd): exec to READY=1.
modules_reset
start_timed ready-boot-from-unloaded
wait_for 60 virtd_state_is holds
stop_untracked
