# Helpers for the guest test scenarios (busybox sh): reporting, modules, KVM VMs, virtctl parsing, dmesg checks.
# shellcheck shell=sh disable=SC2034 # variables are for the scenarios that source this
#
# A scenario is sourced by /init after this file, in its own shell, with
# SCENARIO set; it reports each check with exactly one of
#   pass CHECK [DETAIL] | fail CHECK [DETAIL] | skip CHECK REASON | check CHECK CMD...
# which print "VIRTD-TEST: PASS|FAIL|SKIP <scenario>/<check>[: detail]".

: "${VIRTD_RESULTS:=/run/virtd-results}"
SCENARIO=${SCENARIO:-unnamed}
LIB_TMP=/tmp/lib.$$

# --- reporting ---------------------------------------------------------------

lib_report() {	# lib_report STATUS CHECK [DETAIL...]
	_st=$1 _ck=$2
	shift 2
	_line="VIRTD-TEST: $_st $SCENARIO/$_ck${*:+: $*}"
	# One line whatever the detail held.
	_line=$(printf '%s' "$_line" | tr '\n\t' '  ' | cut -c1-400)
	echo "$_line"
	echo "$_line" >>"$VIRTD_RESULTS"
}
pass() { lib_report PASS "$@"; }
fail() { lib_report FAIL "$@"; }
skip() { lib_report SKIP "$@"; }

# check NAME CMD...: PASS when CMD exits 0, else FAIL with the tail of its
# output.  CMD runs in this shell (not a subshell), so what it sets stays set.
check() {
	_name=$1
	shift
	if "$@" >"$LIB_TMP/check.out" 2>&1; then
		pass "$_name"
	else
		_rc=$?
		fail "$_name" "'$*' exited $_rc: $(tail -n 3 "$LIB_TMP/check.out")"
		return 1
	fi
}

# expect NAME WANT GOT [CONTEXT]: PASS when the two strings are equal.
expect() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "expected '$2', got '$3'${4:+ ($4)}"
		return 1
	fi
}

# note TEXT: a line for humans in the log, not a check.
note() { echo "VIRTD-NOTE: $SCENARIO: $*"; }

# send_file NAME PATH: PATH's text to the host over the console, one
# "VIRTD-FILE: " line per line between BEGIN and END (with its SHA-256);
# run-qemu.sh keeps it as tests/vm/out/files/<kernel>/<scenario>-NAME.
send_file() {
	echo "VIRTD-FILE: BEGIN $SCENARIO-$1"
	sed 's/^/VIRTD-FILE: /' "$2"
	echo "VIRTD-FILE: END $SCENARIO-$1 sha256=$(sha256sum <"$2" | cut -d' ' -f1)"
}

lib_begin() {
	SCENARIO=$1
	export SCENARIO
	mkdir -p "$LIB_TMP"
	BG_PIDS=""
	return 0
}

lib_end() {
	bg_kill_all
	touch "/run/virtd-done-$SCENARIO"
}

# Background helpers the scenario must not outlive (init kills leftovers too).
bg_start() {	# bg_start OUTFILE CMD...: run CMD in the background; sets BG_PID
	_o=$1
	shift
	"$@" >"$_o" 2>&1 &
	BG_PID=$!
	BG_PIDS="$BG_PIDS $BG_PID"
}
bg_kill_all() {
	for _p in $BG_PIDS; do
		kill "$_p" 2>/dev/null
	done
	BG_PIDS=""
}

# wait_for SECS CMD...: poll CMD every 0.1 s until it succeeds or SECS pass.
wait_for() {
	_deadline=$(($1 * 10))
	shift
	_i=0
	while [ "$_i" -lt "$_deadline" ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# --- CPU vendor and modules ----------------------------------------------------

if grep -q '^vendor_id.*AuthenticAMD' /proc/cpuinfo; then
	VENDOR=amd FEATURE=svm KVM_VENDOR_MOD=kvm_amd
elif grep -q '^vendor_id.*GenuineIntel' /proc/cpuinfo; then
	VENDOR=intel FEATURE=vmx KVM_VENDOR_MOD=kvm_intel
else
	VENDOR=unknown FEATURE=none KVM_VENDOR_MOD=none
fi

# Debian's busybox ash runs its own applets before looking at PATH: in the
# daemon's image, the module tools must be kmod's (busybox's modprobe ignores
# /run/modprobe.d, where virtd's drop-in is).
# (kmod takes its personality from the name it is run by: call the links.)
if [ -x /usr/bin/kmod ]; then
	modprobe() { /usr/sbin/modprobe "$@"; }
	rmmod() { /usr/sbin/rmmod "$@"; }
	insmod() { /usr/sbin/insmod "$@"; }
	lsmod() { /usr/sbin/lsmod "$@"; }
	modinfo() { /usr/sbin/modinfo "$@"; }
fi

mod_loaded() { grep -q "^$1 " /proc/modules; }

# kvm_load [KVM_PARAM=VALUE...]: kvm with those parameters, then the vendor module.
kvm_load() {
	modprobe kvm "$@" && modprobe "$KVM_VENDOR_MOD"
}
# kvm_unload: the vendor module, kvm and what they pulled in.
kvm_unload() {
	mod_loaded "$KVM_VENDOR_MOD" && { modprobe -r "$KVM_VENDOR_MOD" || return 1; }
	mod_loaded kvm && { modprobe -r kvm || return 1; }
	return 0
}
virthw_load() { modprobe virthw; }
virthw_unload() { ! mod_loaded virthw || rmmod virthw; }
virthw_available() { modinfo virthw >/dev/null 2>&1; }

# modules_reset: the state every scenario starts from: no virthw, no KVM.
modules_reset() {
	virthw_unload && kvm_unload
}

kvm_param() {	# kvm_param NAME: the value of kvm's parameter, empty when absent
	cat "/sys/module/kvm/parameters/$1" 2>/dev/null
}

# --- CPUs -------------------------------------------------------------------------

# online_cpus: CPU numbers, one a line.
online_cpus() {
	tr ',' '\n' </sys/devices/system/cpu/online | while IFS=- read -r _a _b; do
		seq "$_a" "${_b:-$_a}"
	done
}
nr_online() { online_cpus | wc -l; }
cpu_set_online() {	# cpu_set_online CPU 0|1
	echo "$2" >"/sys/devices/system/cpu/cpu$1/online"
}

# Independent oracle through the msr driver, not virthw: EFER (0xc0000080)
# bit 12 is SVME.  For VMX, CR4 is not readable as an MSR; callers skip.
msr_read() {	# msr_read CPU MSR: the value in hex (no 0x)
	dd if="/dev/cpu/$1/msr" bs=8 count=1 skip=$(($2 / 8)) 2>/dev/null |
		od -An -t x8 | tr -d ' \n'
}
efer_svme() {	# efer_svme CPU: 1 or 0
	_v=$(msr_read "$1" $((0xc0000080)))
	[ -n "$_v" ] || return 1
	echo $(((0x$_v >> 12) & 1))
}
# svme_count: how many online CPUs have EFER.SVME set, by the msr oracle.
svme_count() {
	[ "$VENDOR" = amd ] || return 1
	mod_loaded msr || modprobe msr || return 1
	_n=0
	for _c in $(online_cpus); do
		_s=$(efer_svme "$_c") || return 1
		_n=$((_n + _s))
	done
	echo "$_n"
}

# oracle CHECK WANT: how many online CPUs have EFER.SVME, read through
# /dev/cpu/N/msr (not virthw), must equal WANT.  AMD only: VMX's CR4.VMXE is
# not an MSR, so Intel machines skip.
oracle() {
	if [ "$VENDOR" != amd ]; then
		skip "$1" "no MSR oracle for $VENDOR"
	elif _got=$(svme_count); then
		expect "$1" "$2" "$_got" "CPUs with EFER.SVME"
	else
		fail "$1" "could not read EFER through /dev/cpu/*/msr"
	fi
}

# kvm_has_virt_at_load: kvm.ko knows enable_virt_at_load (Linux 6.12 on).
# (busybox modinfo does not list parameters: look in the module itself.)
kvm_has_virt_at_load() {
	_d=/lib/modules/$(uname -r)
	_ko=$(awk -F: '$1 ~ /(^|\/)kvm\.ko$/ { print $1; exit }' "$_d/modules.dep")
	[ -n "$_ko" ] && strings "$_d/$_ko" | grep -q '^parmtype=enable_virt_at_load:'
}

# kvm_load_on_demand: kvm as on 6.1, virtualization on only while a VM exists.
kvm_load_on_demand() {
	if kvm_has_virt_at_load; then
		kvm_load enable_virt_at_load=0
	else
		kvm_load
	fi
}

# need_virthw: report FAIL and return 1 when the image has no virthw.ko.
need_virthw() {
	virthw_available && return 0
	fail virthw-present "virthw.ko is not in this image (tests/vm/build-kmod.sh failed?)"
	return 1
}
need_prog() {	# need_prog NAME
	command -v "$1" >/dev/null 2>&1 && return 0
	fail "$1-present" "$1 is not in this image (build the userspace: BUILDDIR)"
	return 1
}

# --- KVM VMs (tests/bin/kvm-vm) -------------------------------------------------

# vm_start: create a KVM VM through /dev/kvm and keep it until vm_stop.
vm_start() {
	[ -c /dev/kvm ] || { echo "no /dev/kvm"; return 1; }
	rm -f "$LIB_TMP/vm.out"
	bg_start "$LIB_TMP/vm.out" kvm-vm --hold=600
	VM_PID=$BG_PID
	wait_for 30 grep -q '^kvm-vm: holding' "$LIB_TMP/vm.out" || {
		cat "$LIB_TMP/vm.out"
		return 1
	}
}
# vm_stop: end the holder; returns once its process (and so the VM) is gone.
vm_stop() {
	[ -n "${VM_PID:-}" ] || return 0
	kill "$VM_PID" 2>/dev/null
	wait "$VM_PID" 2>/dev/null
	VM_PID=""
}

# --- virtctl hw -------------------------------------------------------------------

# hw_cpus: one line per CPU from `virtctl hw --json`:
#   "<id> <online> <feature> <fw_enabled> <virt_on>"   (0/1, feature lowercase)
hw_cpus() {
	virtctl hw --json >"$LIB_TMP/hw.json" 2>"$LIB_TMP/hw.err" || {
		cat "$LIB_TMP/hw.err" >&2
		return 1
	}
	# A CPU is any object that has an "online" member, in document order.
	json_flatten <"$LIB_TMP/hw.json" | awk -F'\t' '
	{
		obj = $1; sub(/\.[^.]*$/, "", obj); key = $1; sub(/^.*\./, "", key)
		v = $2; gsub(/"/, "", v)
		if (v == "true") v = 1; else if (v == "false") v = 0
		if (!(obj in seen)) { seen[obj] = 1; order[++n] = obj }
		val[obj, key] = v
	}
	END {
		for (i = 1; i <= n; i++) {
			o = order[i]
			if (val[o, "online"] == "") continue
			printf "%s %s %s %s %s\n", (val[o,"cpu"] != "" ? val[o,"cpu"] : val[o,"id"]),
				val[o,"online"], tolower(val[o,"feature"]),
				(val[o,"fw_enabled"] != "" ? val[o,"fw_enabled"] : val[o,"firmware_enabled"]),
				(val[o,"virt_on"] != "" ? val[o,"virt_on"] : val[o,"on"])
		}
	}'
}

# json_flatten: a JSON document to "path<TAB>scalar" lines (path: keys and
# array indices joined by dots), with busybox awk alone.
json_flatten() {
	awk '
	BEGIN { RS = "\001" }
	{
		s = $0; n = length(s); depth = 0; key = ""
		for (i = 1; i <= n; i++) {
			c = substr(s, i, 1)
			if (index(" \t\r\n,:", c)) {
				if (c == ":") expect_val = 1
				continue
			}
			if (c == "{" || c == "[") {
				path[depth + 1] = pending(); depth++; type[depth] = c; idx[depth] = 0; havekey = 0
				continue
			}
			if (c == "}" || c == "]") { depth--; if (depth > 0 && type[depth] == "[") idx[depth]++; continue }
			if (c == "\"") {
				j = i + 1; t = ""
				while (j <= n && substr(s, j, 1) != "\"") {
					if (substr(s, j, 1) == "\\") { t = t substr(s, j, 2); j += 2; continue }
					t = t substr(s, j, 1); j++
				}
				i = j
				if (type[depth] == "{" && !havekey) { curkey = t; havekey = 1; continue }
				emit("\"" t "\""); continue
			}
			j = i; while (j <= n && index(" \t\r\n,}]", substr(s, j, 1)) == 0) j++
			emit(substr(s, i, j - i)); i = j - 1
		}
	}
	function pending(   p) {
		if (depth == 0) return ""
		if (type[depth] == "{") { p = curkey; havekey = 0 } else p = idx[depth]
		return p
	}
	function fullpath(last,   k, p) {
		p = ""
		for (k = 2; k <= depth; k++) p = p path[k] "."
		return p last
	}
	function emit(v,   p) {
		if (type[depth] == "{") { p = fullpath(curkey); havekey = 0 }
		else { p = fullpath(idx[depth]); idx[depth]++ }
		printf "%s\t%s\n", p, v
	}'
}

# hw_count_on: how many online CPUs virthw reports with virtualization on;
# fails when virtctl fails or reports no CPU at all.
hw_count_on() {
	hw_cpus >"$LIB_TMP/hw.cpus" || return 1
	[ -s "$LIB_TMP/hw.cpus" ] || { echo "no CPU in virtctl hw --json" >"$LIB_TMP/hw.err"; return 1; }
	awk '$2 == 1 && $5 == 1 { n++ } END { print n + 0 }' "$LIB_TMP/hw.cpus"
}

# expect_all_on CHECK / expect_none_on CHECK: virthw's dump against the online CPUs.
expect_all_on() {
	_want=$(nr_online)
	_got=$(hw_count_on) || { fail "$1" "virtctl hw --json failed: $(cat "$LIB_TMP/hw.err")"; return 1; }
	expect "$1" "$_want" "$_got" "CPUs on of $_want online: $(tr '\n' ';' <"$LIB_TMP/hw.cpus")"
}
expect_none_on() {
	_got=$(hw_count_on) || { fail "$1" "virtctl hw --json failed: $(cat "$LIB_TMP/hw.err")"; return 1; }
	expect "$1" 0 "$_got" "CPUs on: $(tr '\n' ';' <"$LIB_TMP/hw.cpus")"
}

# --- kernel log -----------------------------------------------------------------------

# dmesg_mark: remember where the kernel log is; dmesg_clean CHECK judges what came after.
dmesg_mark() {
	dmesg >"$LIB_TMP/dmesg.before"
	DMESG_TAINT_BEFORE=$(cat /proc/sys/kernel/tainted)
}
# For scenarios under systemd as PID 1 (systemd-admin, the installed system).
sysctl_ok() {	# sysctl_ok CHECK ARGS...: systemctl ARGS succeeds
	_c=$1
	shift
	if systemctl "$@" >"$LIB_TMP/systemctl.out" 2>&1; then
		pass "$_c"
	else
		fail "$_c" "systemctl $* exited $?: $(tail -n 3 "$LIB_TMP/systemctl.out" | tr '\n' ';')"
		return 1
	fi
}

dmesg_clean() {
	dmesg >"$LIB_TMP/dmesg.after"
	_new=$(awk 'NR == FNR { seen[$0] = 1; next } !($0 in seen)' "$LIB_TMP/dmesg.before" "$LIB_TMP/dmesg.after")
	_bad=$(printf '%s\n' "$_new" | grep -E 'WARNING|BUG|Oops|general protection|pinned CR4|[Ll]eak|Call Trace|UBSAN|KASAN|refcount_t|list_(add|del) corruption|double free|use-after-free|segfault' | head -n 3)
	# Allowed taints: O (out-of-tree module, 4096), E (unsigned module, 8192), and
	# whatever was set before the mark (6.12 WARNs at boot about Bochs's CPUID).
	_taint=$(cat /proc/sys/kernel/tainted)
	_other=$((_taint & ~${DMESG_TAINT_BEFORE:-0} & ~(4096 | 8192)))
	if [ -n "$_bad" ]; then
		fail "$1" "kernel log: $_bad"
	elif [ "$_other" -ne 0 ]; then
		fail "$1" "kernel tainted $_taint (was ${DMESG_TAINT_BEFORE:-?}; beyond out-of-tree/unsigned)"
	else
		pass "$1"
	fi
}

# --- the daemon as installed (images built with mkinitramfs.sh --daemon) -------
#
# Each scenario brings up its own system bus and udevd (init kills every
# process between scenarios); under systemd as PID 1 they are systemd's and
# already there.  virtd runs as a background child of the scenario, the way
# its unit runs it: `VIRTD_CONFIG=/etc/virtd.conf virtd`, in the foreground.

VIRTD_CONF=/etc/virtd.conf
VIRTD_DROPIN=/run/modprobe.d/virtd.conf
VIRTD_BUS="--system --dest=org.virtd1 /org/virtd1"

bus_ping() {
	dbus-send --system --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.GetId
}
# bus_up: a system bus with Debian's configuration (and the project's policy
# in /usr/share/dbus-1/system.d), as dbus.service runs it.
bus_up() {
	bus_ping >/dev/null 2>&1 && return 0
	mkdir -p /run/dbus
	rm -f /run/dbus/system_bus_socket /run/dbus/pid
	dbus-daemon --system --nofork --nopidfile --nosyslog >"$LIB_TMP/dbus.log" 2>&1 &
	DBUS_PID=$!
	wait_for 20 bus_ping || { echo "dbus-daemon did not come up: $(tail -n 3 "$LIB_TMP/dbus.log")"; return 1; }
}
# udev_up: systemd-udevd, so that KVM's uevents reach sd-device's udev group;
# misc devices are triggered so that /dev/kvm, if present, is initialized.
udev_up() {
	udevadm control --ping >/dev/null 2>&1 && return 0
	mkdir -p /run/udev
	/lib/systemd/systemd-udevd --daemon >"$LIB_TMP/udevd.log" 2>&1 ||
		{ echo "systemd-udevd --daemon failed: $(tail -n 3 "$LIB_TMP/udevd.log")"; return 1; }
	wait_for 20 udevadm control --ping || { echo "systemd-udevd does not answer"; return 1; }
	udevadm trigger --action=add --subsystem-match=misc --subsystem-match=module &&
		udevadm settle --timeout=30
}
# daemon_env: the bus and udev up, no virtd, no drop-in, KVM and virthw out:
# the state each daemon scenario starts from.  Reports FAIL and returns 1
# when the environment cannot be had.
daemon_env() {
	need_prog virtd || return 1
	check env-bus bus_up || return 1
	check env-udev udev_up || return 1
	rm -f "$VIRTD_DROPIN"
	modules_reset || { fail env-modules "could not unload virthw/KVM: $(tr '\n' ';' </proc/modules)"; return 1; }
	return 0
}

# virtd_conf POLICY [LINE...]: /etc/virtd.conf with that policy (line 3) and
# any extra lines after it.
virtd_conf() {
	_p=$1
	shift
	{
		echo "# written by the guest tests ($SCENARIO)"
		echo "[Virtualization]"
		echo "Policy=$_p"
		for _l in "$@"; do echo "$_l"; done
	} >"$VIRTD_CONF"
}

VIRTD_RUNS=0
# virtd_spawn: start virtd in the background; sets VIRTD_PID and VIRTD_LOG.
virtd_spawn() {
	VIRTD_RUNS=$((VIRTD_RUNS + 1))
	VIRTD_LOG=$LIB_TMP/virtd.$VIRTD_RUNS.log
	VIRTD_CONFIG=$VIRTD_CONF virtd "$@" >"$VIRTD_LOG" 2>&1 &
	VIRTD_PID=$!
}
# virtd_state: the State property ("" when virtd is not on the bus).
virtd_state() {
	# shellcheck disable=SC2086 # VIRTD_BUS is several words
	dbus-send --print-reply $VIRTD_BUS org.freedesktop.DBus.Properties.Get \
		string:org.virtd1.Manager string:State 2>/dev/null | sed -n 's/.*string "\(.*\)".*/\1/p'
}
virtd_started() {	# on the bus and past its start-up reconcile
	_s=$(virtd_state)
	[ -n "$_s" ] && [ "$_s" != starting ]
}
virtd_state_is() { [ "$(virtd_state)" = "$1" ]; }
proc_gone() {	# proc_gone PID: exited (reaped or a zombie)
	[ ! -d "/proc/$1" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}
virtd_log_tail() { tail -n "${1:-4}" "$VIRTD_LOG" 2>/dev/null | tr '\n' ';'; }
# virtd_start CHECK [ARGS...]: start virtd and wait (60 s) until it is on the
# bus and done with its first reconcile.
virtd_start() {
	_ck=$1
	shift
	virtd_spawn "$@"
	if wait_for 60 virtd_started; then
		pass "$_ck" "pid $VIRTD_PID, state $(virtd_state)"
	elif proc_gone "$VIRTD_PID"; then
		wait "$VIRTD_PID"
		fail "$_ck" "virtd exited with status $? at start: $(virtd_log_tail 6)"
		return 1
	else
		fail "$_ck" "virtd not on the bus after 60 s (state '$(virtd_state)'): $(virtd_log_tail 6)"
		return 1
	fi
}
# virtd_wait_state CHECK STATE [SECS]: the State property reaches STATE.
virtd_wait_state() {
	if wait_for "${3:-60}" virtd_state_is "$2"; then
		pass "$1" "$2"
	else
		fail "$1" "state '$(virtd_state)' after ${3:-60} s, expected '$2' (reason: $(st_live reason)); virtd log: $(virtd_log_tail 3)"
		return 1
	fi
}
# virtd_end SIGNAL: send SIGNAL, wait (20 s) for the exit and reap it;
# VIRTD_STATUS is its exit status (128+N for a signal).
virtd_end() {
	[ -n "${VIRTD_PID:-}" ] || return 0
	kill "-$1" "$VIRTD_PID" 2>/dev/null
	wait_for 20 proc_gone "$VIRTD_PID" || { echo "virtd pid $VIRTD_PID still running 20 s after SIG$1"; return 1; }
	wait "$VIRTD_PID"
	VIRTD_STATUS=$?
	VIRTD_PID=""
}
virtd_stop() { virtd_end TERM && [ "$VIRTD_STATUS" -eq 0 ]; }
virtd_kill() { virtd_end KILL; }

# status: `virtctl status --json` into $LIB_TMP/status.json (flattened in
# status.flat); STATUS_RC is its exit code.
status() {
	virtctl status --json >"$LIB_TMP/status.json" 2>"$LIB_TMP/status.err"
	STATUS_RC=$?
	json_flatten <"$LIB_TMP/status.json" >"$LIB_TMP/status.flat"
	return 0
}
# st KEY: a value from the last status() (dotted path, strings unquoted).
st() {
	awk -F'\t' -v k="$1" '$1 == k { v = $2; gsub(/^"|"$/, "", v); print v; exit }' "$LIB_TMP/status.flat"
}
st_live() { status; st "$1"; }
# expect_status CHECK KEY=VALUE...: one fresh status, every pair must match;
# virtctl's exit code must say the same as "state" (0 holds or locked, an
# intended state; 3 otherwise).
expect_status() {
	_ck=$1
	shift
	status
	_bad=""
	for _kv in "$@"; do
		_k=${_kv%%=*} _w=${_kv#*=}
		_g=$(st "$_k")
		[ "$_g" = "$_w" ] || _bad="$_bad $_k='$_g' (want '$_w');"
	done
	case "$(st state)" in
	holds | locked) _wrc=0 ;;
	"") _wrc=x ;;
	*) _wrc=3 ;;
	esac
	[ "$_wrc" = "$STATUS_RC" ] || _bad="$_bad exit $STATUS_RC for state '$(st state)';"
	if [ -z "$_bad" ]; then
		pass "$_ck" "$*"
	else
		fail "$_ck" "$_bad reason '$(st reason)' $(head -c 120 "$LIB_TMP/status.err")"
		return 1
	fi
}
# expect_virt CHECK on|off: every online CPU in that state, by virthw
# (virtctl hw --json) and by the EFER.SVME oracle; and virtd's own
# verification agrees (status "verify.ok").
expect_virt() {
	if [ "$2" = on ]; then
		expect_all_on "$1"
		oracle "$1-msr" "$(nr_online)"
	else
		expect_none_on "$1"
		oracle "$1-msr" 0
	fi
}

# kvm_holders: "PID COUNT COMM" for each process holding KVM VM fds.
kvm_holders() {
	for _d in /proc/[0-9]*; do
		_n=$(ls -l "$_d/fd" 2>/dev/null | grep -c 'anon_inode:kvm-vm')
		[ "$_n" -gt 0 ] && echo "${_d#/proc/} $_n $(cat "$_d/comm" 2>/dev/null)"
	done
}
# expect_pinned CHECK yes|no: virtd (VIRTD_PID) holds its own VM, and no
# other virtd process (a killed one's leftover) holds one.
expect_pinned() {
	_h=$(kvm_holders)
	_mine=$(echo "$_h" | awk -v p="$VIRTD_PID" '$1 == p { print $2 }')
	_stale=$(echo "$_h" | awk -v p="$VIRTD_PID" '$1 != p && $3 == "virtd"')
	if [ -n "$_stale" ]; then
		fail "$1" "stale virtd VM holder: $_stale"
	elif [ "$2" = yes ] && [ "${_mine:-0}" -ge 1 ]; then
		pass "$1" "virtd holds $_mine VM"
	elif [ "$2" = no ] && [ -z "$_mine" ]; then
		pass "$1" "no VM of virtd's"
	else
		fail "$1" "expected pinned=$2; holders: $(echo "$_h" | tr '\n' ';')"
		return 1
	fi
}

# vm_try: create and close one VM at once; VM_TRY_RC is kvm-vm's exit code
# (3: no /dev/kvm).
vm_try() {
	kvm-vm --once >"$LIB_TMP/vm-try.out" 2>&1
	VM_TRY_RC=$?
}

# What the running kernel makes of each policy (enable_virt_at_load exists
# on 6.12+; boot sets it where it exists and holds virtd's pinned VM on
# every kernel).
if kvm_has_virt_at_load 2>/dev/null; then
	KVM_HAS_VAL=1
else
	KVM_HAS_VAL=0
fi
# expect_policy_applied CHECK POLICY: the host as POLICY promises it with no
# VM of the tests running: modules, parameter, drop-in, pinned VM, CPUs.
expect_policy_applied() {
	_c=$1
	case "$2" in
	boot)
		check "$_c-dev-kvm" test -c /dev/kvm
		[ "$KVM_HAS_VAL" = 1 ] && expect "$_c-param" Y "$(kvm_param enable_virt_at_load)" "kvm.enable_virt_at_load"
		expect_pinned "$_c-pinned" yes
		dropin_lacks "$_c-dropin" "enable_virt_at_load=0|^install ${KVM_VENDOR_MOD%%_*}[-_]${KVM_VENDOR_MOD#*_}[[:space:]]"
		expect_virt "$_c-cpus" on
		;;
	first-vm)
		check "$_c-dev-kvm" test -c /dev/kvm
		[ "$KVM_HAS_VAL" = 1 ] && expect "$_c-param" N "$(kvm_param enable_virt_at_load)" "kvm.enable_virt_at_load"
		[ "$KVM_HAS_VAL" = 1 ] && dropin_check "$_c-dropin" 'enable_virt_at_load=0'
		dropin_lacks "$_c-no-block" "^install ${KVM_VENDOR_MOD%%_*}[-_]${KVM_VENDOR_MOD#*_}[[:space:]]"
		expect_pinned "$_c-pinned" no
		expect_virt "$_c-cpus" off
		;;
	never)
		check "$_c-no-dev-kvm" test ! -e /dev/kvm
		check "$_c-vendor-unloaded" test ! -e "/sys/module/$KVM_VENDOR_MOD"
		dropin_check "$_c-dropin" "^install ${KVM_VENDOR_MOD%%_*}[-_]${KVM_VENDOR_MOD#*_}[[:space:]]"
		expect_pinned "$_c-pinned" no
		expect_virt "$_c-cpus" off
		;;
	esac
}
# dropin_lacks CHECK REGEX: virtd's drop-in, if any, has no line matching REGEX.
dropin_lacks() {
	if [ -f "$VIRTD_DROPIN" ] && grep -Eq "$2" "$VIRTD_DROPIN"; then
		fail "$1" "$VIRTD_DROPIN has a line matching '$2': $(grep -E "$2" "$VIRTD_DROPIN" | tr '\n' ';')"
	else
		pass "$1"
	fi
}
# dropin_check CHECK REGEX: virtd's drop-in has a line matching REGEX.
dropin_check() {
	if grep -Eq "$2" "$VIRTD_DROPIN" 2>/dev/null; then
		pass "$1"
	else
		fail "$1" "no line matching '$2' in $VIRTD_DROPIN: $(tr '\n' ';' <"$VIRTD_DROPIN" 2>&1)"
	fi
}

st_is() { [ "$(st_live "$1")" = "$2" ]; }	# st_is KEY VALUE (fresh status)
# wait_status CHECK KEY VALUE [SECS]: a fresh status shows KEY=VALUE within
# SECS (VM counts follow KVM's uevents, asynchronously).
# run_as SPEC CMD...: CMD as unpriv-check's --as=UID:GID[:GROUPS], stdin
# /dev/null; its output in $LIB_TMP/as.out, its exit status AS_RC.
run_as() {
	_spec=$1
	shift
	unpriv-check --as="$_spec" -- "$@" </dev/null >"$LIB_TMP/as.out" 2>&1
	AS_RC=$?
}
as_text() { tr '\n' ';' <"$LIB_TMP/as.out" | cut -c1-300; }
# as_refused CHECK WHO REGEX CMD: after run_as, that CMD (words) failed and
# printed REGEX; WHO names the caller in the message.
as_refused() {
	if [ "$AS_RC" != 0 ] && grep -Eq "$3" "$LIB_TMP/as.out"; then
		pass "$1" "refused: $(grep -Em1 "$3" "$LIB_TMP/as.out" | cut -c1-200)"
	else
		fail "$1" "as $2: '$4' exited $AS_RC, want non-zero and /$3/: $(as_text)"
	fi
}
# show TITLE CMD...: a heading, the command line and its output, for the
# reader of a demonstration (daemon-demo, vbox-demo).
show() {
	_title=$1
	shift
	echo
	echo "################ $_title"
	echo "# $*"
	"$@" 2>&1
	echo "# (exit status $?)"
}
wait_status() {
	if wait_for "${4:-20}" st_is "$2" "$3"; then
		pass "$1" "$2=$3"
	else
		fail "$1" "$2='$(st "$2")' after ${4:-20} s, expected '$3' (state '$(st state)', reason '$(st reason)')"
		return 1
	fi
}
# pinned_json: what status's "pinned_vm" must say under boot (every kernel).
pinned_json() { echo true; }

# stock_kvm_host: a stock Debian host, where udev loaded the vendor's KVM
# module at boot with KVM's defaults; on kernels where that turns every CPU
# on (KVM_HAS_VAL), virthw confirms it and is unloaded again.  Returns 1
# (reported) when KVM does not load.
stock_kvm_host() {
	check stock-kvm-load modprobe "$KVM_VENDOR_MOD" || return 1
	if [ "$KVM_HAS_VAL" = 1 ]; then
		need_virthw && check virthw-load virthw_load
		expect_virt stock-all-on on
		virthw_unload
	fi
}

# --- virthw-probe (virthw's PROBE and settings, no daemon) -----------------------

PROBE_OUT=$LIB_TMP/probe.out
probe() {	# probe ARGS...: virthw-probe ARGS, its exit status in PROBE_RC
	virthw-probe "$@" >"$PROBE_OUT" 2>&1
	PROBE_RC=$?
}
val() { sed -n "s/^$1=//p" "$PROBE_OUT" | head -n 1; }	# val KEY: KEY's value in the last probe's output

# --- the foreign hypervisor stand-in (tests/vm/foreignhv, progs/foreign-hv) ---

foreignhv_load() { mod_loaded foreignhv || modprobe foreignhv; }
foreignhv_unload() { ! mod_loaded foreignhv || rmmod foreignhv; }
# need_foreignhv: report FAIL and return 1 unless foreignhv.ko loads and
# foreign-hv is in the image.
need_foreignhv() {
	need_prog foreign-hv || return 1
	foreignhv_load >"$LIB_TMP/foreignhv-load.out" 2>&1 && return 0
	fail foreignhv-load "modprobe foreignhv: $(tr '\n' ';' <"$LIB_TMP/foreignhv-load.out") (image: $(grep foreignhv /etc/virtd-test-image))"
	return 1
}
# fhv_start OUTFILE [CMD...]: run CMD (default: foreign-hv --hold=600) in
# the background with its stdin a pipe of its own (closing the pipe releases
# foreign-hv; so does SIGTERM); FHV_PID is its pid.
fhv_start() {
	_o=$1
	shift
	[ $# -gt 0 ] || set -- foreign-hv --hold=600
	rm -f "$_o" "$_o.in"
	mkfifo "$_o.in"
	# Not `sleep | CMD &`: ash's wait would wait for the whole pipeline.
	# CMD's open of the FIFO returns once sleep opens the write end, which
	# it keeps open until the scenario ends (bg_kill_all).
	"$@" <"$_o.in" >"$_o" 2>&1 &
	FHV_PID=$!
	sleep 3600 >"$_o.in" &
	BG_PIDS="$BG_PIDS $FHV_PID $!"
}
# fhv_wait_on OUTFILE [SECS]: foreign-hv said it turned virtualization on.
fhv_wait_on() { wait_for "${2:-30}" grep -q '^foreign-hv: svm on' "$1"; }
# fhv_reap PID: wait for the background job; FHV_RC is its exit status.
fhv_reap() {
	wait_for "${2:-20}" proc_gone "$1" || { FHV_RC=timeout; return 1; }
	wait "$1"
	FHV_RC=$?
}
# now_ms: monotonic milliseconds (uptime), for latency checks in the guest.
# (Builtins only, so that tight polling loops measure the system, not exec.)
now_ms() {
	read -r _up _ </proc/uptime
	_cs=${_up%.*}${_up#*.}
	while [ "${_cs#0}" != "$_cs" ] && [ ${#_cs} -gt 1 ]; do _cs=${_cs#0}; done
	echo $((_cs * 10))
}

# --- virtctl lock (the foreign-hypervisor lock) ---------------------------------

VIRTD_LOCK_DIR=/run/virtd/locks
# lock_start OUTFILE ARGS...: `virtctl lock --why="test of SCENARIO" ARGS`
# (ARGS: --who=..., --wait..., -- COMMAND...) in the background, stdin a
# pipe (as fhv_start); LOCK_PID is virtctl's pid.
lock_start() {
	_o=$1
	shift
	fhv_start "$_o" virtctl lock --why="test of $SCENARIO" "$@"
	LOCK_PID=$FHV_PID
}
# lock_wait_taken OUTFILE [SECS]: virtctl said the lock is taken.
lock_wait_taken() { wait_for "${2:-60}" grep -q 'lock taken' "$1"; }
# lock_setup: the start of the lock-* scenarios: virthw, foreignhv.ko and
# virtctl there, virtd started under policy boot and holding the CPUs;
# returns 1 (reported) when any of it fails.
lock_setup() {
	daemon_env || return 1
	need_virthw && need_foreignhv && need_prog virtctl || return 1
	virtd_conf boot
	virtd_start start || return 1
	virtd_wait_state holds holds || return 1
}
# lock_fhv_taken WHO: `virtctl lock --who=WHO -- foreign-hv --hold=600` in the
# background (output in $LIB_TMP/lock.out) until the lock is taken and
# foreign-hv has SVM on: check "taken"; LOCK_PID is virtctl's pid.  Returns 1
# (reported) when either never happens.
lock_fhv_taken() {
	lock_start "$LIB_TMP/lock.out" --who="$1" -- foreign-hv --hold=600
	if ! lock_wait_taken "$LIB_TMP/lock.out" || ! fhv_wait_on "$LIB_TMP/lock.out"; then
		fail taken "$(tr '\n' ';' <"$LIB_TMP/lock.out"); virtd: $(virtd_log_tail 3)"
		return 1
	fi
	pass taken
}
# lock_files: how many lock metadata files virtd keeps (one per holder).
lock_files() {
	_n=0
	for _f in "$VIRTD_LOCK_DIR"/*.lock; do
		[ -e "$_f" ] && _n=$((_n + 1))
	done
	echo "$_n"
}
# nr_locks: holders in a fresh status (entries of "locks").
nr_locks() {
	status
	grep -c '^locks\.[0-9]*\.who	' "$LIB_TMP/status.flat"
}
nr_locks_is() { [ "$(nr_locks)" = "$1" ]; }
# hv_index NAME: the index of profile NAME in the last status()'s
# "hypervisors" (empty when it is not there).
hv_index() {
	awk -F'\t' -v n="\"$1\"" '$1 ~ /^hypervisors\.[0-9]+\.name$/ && $2 == n { split($1, a, "."); print a[2]; exit }' \
		"$LIB_TMP/status.flat"
}
# cpu_owners: the distinct per-CPU "owner" values of the last status().
cpu_owners() {
	awk -F'\t' '$1 ~ /^cpus\.[0-9]+\.owner$/ { v = $2; gsub(/"/, "", v); print v }' "$LIB_TMP/status.flat" | sort -u | tr '\n' ' ' | sed 's/ $//'
}
# expect_owners CHECK WANT: a fresh status whose CPUs are all owned by WANT
# (kvm, virtd, none, lock, ...): who holds VMX/SVM, as virtctl status says it.
expect_owners() {
	status
	expect "$1" "$2" "$(cpu_owners)" "per-CPU owners in virtctl status"
}
# boot_owner: who owns every CPU under boot with no VM: KVM, through
# enable_virt_at_load (on 7.x through the core kernel's reference, which only
# KVM takes), or virtd's pinned VM on kernels without the parameter.
boot_owner() { if [ "$KVM_HAS_VAL" = 1 ]; then echo kvm; else echo virtd; fi; }
# child_pid PPID COMM: the pid of PPID's child named COMM (busybox here has
# no pgrep); empty when there is none.
child_pid() {
	for _d in /proc/[0-9]*; do
		read -r _p _c _ _pp _ <"$_d/stat" 2>/dev/null || continue
		[ "$_pp" = "$1" ] && [ "$_c" = "($2)" ] && { echo "$_p"; return 0; }
	done
	return 0
}
# pids_by_cmdline TEXT: pids whose command line (words joined by spaces) is TEXT.
pids_by_cmdline() {
	for _d in /proc/[0-9]*; do
		[ "$(tr '\0' ' ' <"$_d/cmdline" 2>/dev/null)" = "$1 " ] && echo "${_d#/proc/}"
	done
	return 0
}

# --- polkit (the host's polkitd in the daemon image) ----------------------------

POLKITD=/usr/lib/polkit-1/polkitd
polkit_on_bus() {
	dbus-send --system --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner \
		string:org.freedesktop.PolicyKit1 2>/dev/null | grep -q 'boolean true'
}
polkit_off_bus() { ! polkit_on_bus; }
# polkit_up: polkitd on the system bus, started as polkit.service starts it
# (it switches to user polkitd itself) but with its debug output kept (in
# $LIB_TMP/polkitd.log; --no-debug sends it to syslog, which the image
# lacks); POLKIT_PID.  Returns 1 with the reason on stdout when it does not
# come up in 30 s.
polkit_up() {
	[ -x "$POLKITD" ] || { echo "no $POLKITD in this image (mkinitramfs.sh --daemon copies the host's)"; return 1; }
	"$POLKITD" >"$LIB_TMP/polkitd.log" 2>&1 &
	POLKIT_PID=$!
	BG_PIDS="$BG_PIDS $POLKIT_PID"
	wait_for 30 polkit_on_bus && return 0
	echo "polkitd not on the bus after 30 s: $(tail -n 6 "$LIB_TMP/polkitd.log" | tr '\n' ';')"
	return 1
}
# polkit_down: polkitd stopped and its name gone from the bus.
polkit_down() {
	[ -n "${POLKIT_PID:-}" ] || return 0
	kill -TERM "$POLKIT_PID" 2>/dev/null
	wait_for 10 proc_gone "$POLKIT_PID" || { echo "polkitd pid $POLKIT_PID still running"; return 1; }
	wait "$POLKIT_PID" 2>/dev/null
	POLKIT_PID=""
	wait_for 10 polkit_off_bus
}
