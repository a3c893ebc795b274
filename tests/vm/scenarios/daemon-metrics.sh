# Scenario: [Metrics] File=: the Prometheus file follows policy boot, a VM, a waiting lock request, its grant and release, and a reload to first-vm; it is only ever replaced whole; File= moves and goes with reloads, a bad one is refused with its line, a write error is logged once; the file goes when virtd stops.  Copies go to the host for promtool.

METRICS_DIR=/run/metrics
METRICS=$METRICS_DIR/virtd.prom

# mval SERIES [FILE]: the value of one sample line ("name" or "name{labels}").
mval() { awk -v s="$1" '$1 == s { print $2; exit }' "${2:-$METRICS}" 2>/dev/null; }
mval_is() { [ "$(mval "$1")" = "$2" ]; }
# wait_metric CHECK SERIES VALUE [SECS]: the file shows SERIES at VALUE within SECS.
wait_metric() {
	if wait_for "${4:-30}" mval_is "$2" "$3"; then
		pass "$1" "$2 $3"
	else
		fail "$1" "$2 is '$(mval "$2")' after ${4:-30} s, expected '$3'; virtd: $(virtd_log_tail 3)"
		return 1
	fi
}
# expect_metrics CHECK SERIES=VALUE...: every pair as the file says it now.
expect_metrics() {
	_ck=$1
	shift
	_bad=""
	for _kv in "$@"; do
		_g=$(mval "${_kv%=*}")
		[ "$_g" = "${_kv##*=}" ] || _bad="$_bad ${_kv%=*}='$_g' (want '${_kv##*=}');"
	done
	if [ -z "$_bad" ]; then pass "$_ck" "$*"; else fail "$_ck" "$_bad"; fi
}
# expect_metric_ge CHECK SERIES MIN: the file shows SERIES at MIN or more.
expect_metric_ge() {
	_g=$(mval "$2")
	if [ -n "$_g" ] && [ "$_g" -ge "$3" ]; then pass "$1" "$2 $_g"; else fail "$1" "$2 is '$_g', expected $3 or more"; fi
}
metrics_conf() {	# metrics_conf POLICY [FILE]: virtd.conf with the policy and File=
	virtd_conf "$1" "[Metrics]" "File=${2:-$METRICS}"
}
reload_ok() {	# reload_ok CHECK: virtctl reload succeeds
	virtctl reload >"$LIB_TMP/reload.out" 2>&1
	expect "$1" 0 "$?" "virtctl reload: $(head -n 2 "$LIB_TMP/reload.out" | tr '\n' ';')"
}

# The reader: polls the file as node_exporter would, while virtd rewrites it;
# every copy must be whole (as many lines as the first, the last family's
# sample last).  Summary in $LIB_TMP/reader.out once $LIB_TMP/reader.stop exists.
reader() {
	_want=$(wc -l <"$METRICS")
	_n=0 _bad=0 _inodes=""
	while [ ! -e "$LIB_TMP/reader.stop" ]; do
		_i=$(stat -c %i "$METRICS" 2>/dev/null)
		cat "$METRICS" >"$LIB_TMP/reader.copy" 2>/dev/null || { _bad=$((_bad + 1)); continue; }
		_n=$((_n + 1))
		if [ "$(wc -l <"$LIB_TMP/reader.copy")" != "$_want" ] ||
			! tail -n 1 "$LIB_TMP/reader.copy" | grep -q '^virtd_last_verification_timestamp_seconds [0-9]'; then
			_bad=$((_bad + 1))
			cp "$LIB_TMP/reader.copy" "$LIB_TMP/reader.bad"
		fi
		case " $_inodes " in *" $_i "*) ;; *) _inodes="$_inodes $_i" ;; esac
	done
	# shellcheck disable=SC2086 # one word per inode
	echo "reads=$_n bad=$_bad inodes=$(echo $_inodes | wc -w) lines=$_want" >"$LIB_TMP/reader.out"
}

daemon_env || return 1
need_virthw && need_prog virtctl || return 1
mkdir -p "$METRICS_DIR"
rm -f "$METRICS_DIR"/* "$METRICS_DIR"/.[!.]*
t0=$(date +%s)
metrics_conf boot
virtd_start start || return 1
virtd_wait_state holds holds || return 1
n=$(nr_online)

# Policy boot, settled: every CPU on and expected on, virtd's pinned VM.
wait_metric boot-state 'virtd_state{state="holds"}' 1 || return 1
expect_metrics boot-values 'virtd_policy{policy="boot"}=1' 'virtd_policy{policy="first-vm"}=0' \
	'virtd_applied_policy{policy="boot"}=1' 'virtd_state{state="starting"}=0' "virtd_cpus_online=$n" \
	"virtd_cpus_virtualization_on=$n" "virtd_cpus_expected_on=$n" virtd_cpus_mismatched=0 virtd_vms=0 \
	virtd_pinned_vm=1 virtd_foreign_lock_holders=0 virtd_foreign_lock_waiters=0 virtd_actions_failed_total=0 \
	'virtd_state_transitions_total{state="holds"}=1' virtd_config_reloads_total=0
expect boot-mode 644 "$(stat -c %a "$METRICS")" "the file's mode"
_a=$(mval virtd_actions_total)
if [ "${_a:-0}" -ge 1 ]; then pass boot-actions "$_a actions"; else fail boot-actions "virtd_actions_total '$_a'"; fi
_v=$(mval virtd_last_verification_timestamp_seconds)
_s=$(mval virtd_start_time_seconds)
if [ "${_v%.*}" -ge "$t0" ] && [ "${_v%.*}" -le "$(date +%s)" ] && [ "${_s%.*}" -ge "$t0" ]; then
	pass boot-times "start $_s, verified $_v (test began $t0)"
else
	fail boot-times "start '$_s', verified '$_v', test began $t0, now $(date +%s)"
fi
send_file boot.prom "$METRICS"

reader &
READER_PID=$!
BG_PIDS="$BG_PIDS $READER_PID"

# A VM: counted; a lock request with --wait waits for it, then holds the lock.
if check vm-create vm_start; then
	wait_metric vm-counted virtd_vms 1
	lock_start "$LIB_TMP/lock.out" --who=metrics --wait=120 -- sleep 600
	wait_metric lock-waiting virtd_foreign_lock_waiters 1
	send_file waiting.prom "$METRICS"
	check vm-destroy vm_stop
	wait_metric vm-gone virtd_vms 0
fi
if lock_wait_taken "$LIB_TMP/lock.out"; then
	pass lock-taken "$(grep 'lock taken' "$LIB_TMP/lock.out")"
	wait_metric locked-state 'virtd_state{state="locked"}' 1
	expect_metrics locked-values virtd_foreign_lock_holders=1 virtd_foreign_lock_waiters=0 \
		'virtd_state{state="holds"}=0' virtd_cpus_virtualization_on=0 virtd_cpus_expected_on=0 virtd_pinned_vm=0 virtd_cpus_mismatched=0
	expect_metric_ge locked-counted 'virtd_state_transitions_total{state="locked"}' 1
	send_file locked.prom "$METRICS"
	kill -TERM "$LOCK_PID"
	fhv_reap "$LOCK_PID" 30
	wait_metric released-holders virtd_foreign_lock_holders 0
	wait_metric released-state 'virtd_state{state="holds"}' 1 60
	expect_metrics released-values "virtd_cpus_virtualization_on=$n" virtd_pinned_vm=1
	expect_metric_ge released-counted 'virtd_state_transitions_total{state="holds"}' 2
else
	fail lock-taken "virtctl lock: $(tr '\n' ';' <"$LIB_TMP/lock.out"); virtd: $(virtd_log_tail 3)"
fi

# A reload to first-vm: the policy moves, the CPUs go off, the reload is counted.
metrics_conf first-vm
reload_ok reload-first-vm
wait_metric reload-policy 'virtd_policy{policy="first-vm"}' 1
wait_metric reload-applied 'virtd_applied_policy{policy="first-vm"}' 1 60
expect_metrics reload-values 'virtd_policy{policy="boot"}=0' virtd_config_reloads_total=1 \
	virtd_cpus_virtualization_on=0 virtd_cpus_expected_on=0 virtd_pinned_vm=0 'virtd_state{state="holds"}=1'
# A refused reload is counted, and changes nothing else.
virtd_conf sometimes "[Metrics]" "File=$METRICS"
virtctl reload >/dev/null 2>&1
wait_metric reload-refused virtd_config_reloads_failed_total 1
expect_metrics reload-refused-kept 'virtd_policy{policy="first-vm"}=1' virtd_config_reloads_total=1
send_file first-vm.prom "$METRICS"

touch "$LIB_TMP/reader.stop"
wait_for 30 test -s "$LIB_TMP/reader.out"
_r=$(cat "$LIB_TMP/reader.out" 2>/dev/null)
_reads=$(echo "$_r" | sed -n 's/.*reads=\([0-9]*\).*/\1/p')
_inodes=$(echo "$_r" | sed -n 's/.*inodes=\([0-9]*\).*/\1/p')
if [ -n "$_reads" ] && echo "$_r" | grep -q ' bad=0 ' && [ "$_reads" -ge 10 ] && [ "$_inodes" -ge 4 ]; then
	pass atomic "$_r"
else
	fail atomic "$_r (want bad=0, 10 reads and 4 versions at least)$(head -c 200 "$LIB_TMP/reader.bad" 2>/dev/null | tr '\n' ';')"
fi
_left=$(ls -A "$METRICS_DIR" | tr '\n' ' ')
expect no-temporary-files "virtd.prom " "$_left" "files in $METRICS_DIR"

# File= moves: the new file is written, the old one removed; then it goes.
metrics_conf first-vm "$METRICS_DIR/moved.prom"
reload_ok reload-move
if wait_for 30 test -s "$METRICS_DIR/moved.prom" && wait_for 10 test ! -e "$METRICS"; then
	pass moved "$(ls -A "$METRICS_DIR" | tr '\n' ' ')"
else
	fail moved "files: $(ls -A "$METRICS_DIR" | tr '\n' ' ')"
fi
virtd_conf first-vm
reload_ok reload-off
if wait_for 30 test ! -e "$METRICS_DIR/moved.prom"; then pass off-removed; else fail off-removed "$(ls -A "$METRICS_DIR")"; fi

# A relative File=: refused with its line; nothing written.
virtd_conf first-vm "[Metrics]" "File=virtd.prom"
virtctl reload >"$LIB_TMP/reload.out" 2>&1
expect relative-exit 1 "$?" "$(head -n 2 "$LIB_TMP/reload.out" | tr '\n' ';')"
if grep -q "$VIRTD_CONF:5: .*not an absolute path" "$LIB_TMP/reload.out"; then
	pass relative-message "$(head -n 1 "$LIB_TMP/reload.out")"
else
	fail relative-message "no '$VIRTD_CONF:5: ... not an absolute path' in: $(head -n 2 "$LIB_TMP/reload.out" | tr '\n' ';')"
fi

# A directory that is not there: a warning, once however many changes; then written once it is.
metrics_conf first-vm "$METRICS_DIR/later/virtd.prom"
reload_ok reload-missing-dir
kill -HUP "$VIRTD_PID"
sleep 2
_w=$(grep -c 'Failed to write the metrics file' "$VIRTD_LOG")
expect write-error-once 1 "$_w" "warnings in virtd's log: $(grep 'Failed to write the metrics' "$VIRTD_LOG" | head -n 1)"
check virtd-alive test -d "/proc/$VIRTD_PID"
mkdir -p "$METRICS_DIR/later"
kill -HUP "$VIRTD_PID"
if wait_for 30 test -s "$METRICS_DIR/later/virtd.prom"; then
	pass written-later "$(grep 'written again' "$VIRTD_LOG" | tail -n 1)"
else
	fail written-later "no $METRICS_DIR/later/virtd.prom: $(virtd_log_tail 3)"
fi

# virtd stops: its file goes with it.
check stop virtd_stop
check stop-removed test ! -e "$METRICS_DIR/later/virtd.prom"
