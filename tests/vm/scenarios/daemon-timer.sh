# Scenario: the preemption-timer section of virtctl status on AMD (does not apply: not VMX), no kvm_intel line in the drop-in, bad [PreemptionTimer] values refused on reload with the running settings kept.

need_prog virtctl || return 1
daemon_env || return 1
check stock-kvm-load modprobe "$KVM_VENDOR_MOD" || return 1
virtd_conf boot "[PreemptionTimer]" "Mode=auto" "MinMaxDelay=20s"
virtd_start start || return 1
virtd_wait_state holds holds || return 1

# The JSON: the configuration, the decision, kvm_intel's side.
expect_status timer-json timer.mode=auto timer.min_max_delay_ns=20000000000 timer.decided=true \
	timer.applies=false timer.feature=svm timer.use=false timer.reason=not-vmx timer.rate=null \
	timer.max_delay_ns=null timer.kvm_intel.state=not-applicable timer.kvm_intel.want=null \
	timer.kvm_intel.current=null
expect timer-reason-text "does not apply: not VMX" "$(st timer.reason_text)"
_tsc=$(st timer.tsc_khz)
case "$_tsc" in
'' | *[!0-9]*) fail timer-tsc "timer.tsc_khz '$_tsc' is not a number" ;;
*) pass timer-tsc "$_tsc kHz" ;;
esac
# virthw has the settings (when it takes them): its decision is virtd's.
if [ "$(st timer.module)" = null ]; then
	fail timer-module "virthw has no settings: $(st timer.module_error)"
else
	expect_status timer-module-settings timer.module.mode=auto timer.module.min_max_delay_ns=20000000000 \
		timer.module.use=false timer.module.reason=not-vmx timer.module.matches=true
fi

# The words.
virtctl status >"$LIB_TMP/ctl.out" 2>&1
if grep -q '^ *Timer: does not apply: not VMX (mode auto, min-max-delay 20.000 s)$' "$LIB_TMP/ctl.out"; then
	pass timer-text "$(grep 'Timer:' "$LIB_TMP/ctl.out")"
else
	fail timer-text "no 'Timer: does not apply: not VMX' line: $(grep -i timer "$LIB_TMP/ctl.out" | tr '\n' ';')"
fi
if grep -q 'KVM timer' "$LIB_TMP/ctl.out"; then
	fail timer-text-no-kvm-intel "a KVM timer line on AMD: $(grep 'KVM timer' "$LIB_TMP/ctl.out")"
else
	pass timer-text-no-kvm-intel
fi

# No kvm_intel line in the drop-in on AMD, whatever the mode.
dropin_lacks dropin-no-kvm-intel 'kvm_intel'
virtd_conf boot "[PreemptionTimer]" "Mode=on" "MinMaxDelay=1min"
if virtctl reload >"$LIB_TMP/reload.out" 2>&1; then pass reload-on; else fail reload-on "$(head -n 2 "$LIB_TMP/reload.out")"; fi
wait_status timer-mode-on timer.mode on
expect_status timer-on-json timer.min_max_delay_ns=60000000000 timer.use=false timer.reason=not-vmx \
	timer.warning=false timer.kvm_intel.state=not-applicable
dropin_lacks dropin-no-kvm-intel-on 'kvm_intel'
if grep -q 'preemption timer: does not apply (not VMX)' "$VIRTD_LOG"; then
	pass timer-logged "$(grep 'preemption timer: does' "$VIRTD_LOG" | tail -n 1)"
else
	fail timer-logged "the journal says nothing of the timer: $(virtd_log_tail 3)"
fi

# Bad values: the reload fails with file, line and accepted values; the
# running settings stay.
bad_reload() {	# bad_reload CHECK VALUE-LINE WORDS
	virtd_conf boot "[PreemptionTimer]" "$2"
	virtctl reload >"$LIB_TMP/reload.out" 2>&1
	_rc=$?
	if [ "$_rc" -ne 0 ] && grep -q "$VIRTD_CONF:5" "$LIB_TMP/reload.out" && grep -q "$3" "$LIB_TMP/reload.out"; then
		pass "$1" "exit $_rc: $(head -n 1 "$LIB_TMP/reload.out")"
	else
		fail "$1" "exit $_rc, expected non-zero naming $VIRTD_CONF:5 and '$3': $(head -n 2 "$LIB_TMP/reload.out" | tr '\n' ';')"
	fi
	expect_status "$1-kept" timer.mode=on timer.min_max_delay_ns=60000000000 state=holds policy=boot
}
bad_reload bad-mode "Mode=sometimes" "auto, on, off"
bad_reload bad-delay-zero "MinMaxDelay=0" "must be longer than 0"
bad_reload bad-delay-long "MinMaxDelay=2h" "unknown unit"
bad_reload bad-delay-range "MinMaxDelay=61min" "the longest is 60min"
bad_reload bad-delay-fraction "MinMaxDelay=1.5s" "fractions are not supported"
# virthw kept the running settings as well.
if [ "$(st timer.module)" != null ]; then
	expect timer-module-kept 60000000000 "$(st timer.module.min_max_delay_ns)"
fi
check stop virtd_stop
