# Scenario (systemd as PID 1): what an administrator does: systemctl start/reload/stop virtd, edit /etc/virtd.conf, virtctl status.

expect pid1-systemd systemd "$(cat /proc/1/comm)"
check bus-up bus_ping
check udev-up udevadm control --ping
check journal-up systemctl is-active --quiet systemd-journald.service
need_prog virtd && need_prog virtctl || return 1
check unit-installed test -f /lib/systemd/system/virtd.service || return 1
# The shipped /etc/virtd.conf: every key commented out, so the default policy.
cp "$VIRTD_CONF" "$LIB_TMP/virtd.conf.shipped"

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
sysctl_fails() {	# sysctl_fails CHECK ARGS...: systemctl ARGS fails
	_c=$1
	shift
	if systemctl "$@" >"$LIB_TMP/systemctl.out" 2>&1; then
		fail "$_c" "systemctl $* succeeded"
		return 1
	else
		pass "$_c" "exit $?"
	fi
}
journal_has() {	# journal_has CHECK REGEX: virtd's journal since the unit start matches
	if journalctl -b -u virtd.service --no-pager -o cat 2>/dev/null | grep -Eq "$2"; then
		pass "$1"
	else
		fail "$1" "no '$2' in journalctl -u virtd: $(journalctl -b -u virtd.service --no-pager -o cat 2>&1 | tail -n 4 | tr '\n' ';')"
	fi
}
unit_pid() { systemctl show -p MainPID --value virtd.service; }

# Start: kvm_amd as a stock Debian host has it (udev loads it at boot).
check stock-kvm modprobe "$KVM_VENDOR_MOD"
sysctl_ok start start virtd.service || { systemctl status virtd.service --no-pager | sed 's/^/VIRTD-NOTE: /'; return 1; }
sysctl_ok is-active is-active --quiet virtd.service
VIRTD_PID=$(unit_pid)
virtctl status >"$LIB_TMP/ctl.out" 2>&1
expect status-exit 0 "$?" "virtctl status: $(head -n 3 "$LIB_TMP/ctl.out" | tr '\n' ';')"
expect_status status-default policy=first-vm state=holds
expect_policy_applied default first-vm
systemctl status virtd.service --no-pager >"$LIB_TMP/sysstatus.out" 2>&1
if grep -q 'Status: "' "$LIB_TMP/sysstatus.out"; then
	pass unit-status-text "$(grep 'Status: "' "$LIB_TMP/sysstatus.out" | head -n 1)"
else
	fail unit-status-text "no STATUS= text in systemctl status: $(head -n 8 "$LIB_TMP/sysstatus.out" | tr '\n' ';')"
fi

# Edit the file, reload: boot.
sed -i 's/^#\(Policy=\).*/\1boot/' "$VIRTD_CONF"
expect conf-edited "Policy=boot" "$(grep '^Policy=' "$VIRTD_CONF")"
sysctl_ok reload-boot reload virtd.service
wait_for 60 virtd_state_is holds
expect_status status-boot policy=boot state=holds
expect_policy_applied boot boot

# A VM under boot; virtctl status lists it.
if check vm-create vm_start; then
	expect_status status-vm vm_count=1 state=holds
	expect vm-pid "$VM_PID" "$(st vms.0.pid)" "status vms[0].pid"
	check vm-destroy vm_stop
fi

# A bad file: systemctl reload fails, the service stays, the old policy holds.
sed -i 's/^Policy=.*/Policy=sometimes/' "$VIRTD_CONF"
sysctl_fails reload-bad reload virtd.service
sysctl_ok still-active is-active --quiet virtd.service
expect same-pid "$VIRTD_PID" "$(unit_pid)" "virtd's MainPID after the failed reload"
expect_status status-after-bad policy=boot state=holds
journal_has journal-bad-reload "$VIRTD_CONF:[0-9]+"
virtctl reload >"$LIB_TMP/reload.out" 2>&1
expect virtctl-reload-bad-exit 1 "$?" "$(head -n 2 "$LIB_TMP/reload.out" | tr '\n' ';')"
if grep -q "$VIRTD_CONF:3" "$LIB_TMP/reload.out" && grep -q sometimes "$LIB_TMP/reload.out"; then
	pass virtctl-reload-bad-message
else
	fail virtctl-reload-bad-message "no '$VIRTD_CONF:3' and the value in: $(head -n 3 "$LIB_TMP/reload.out" | tr '\n' ';')"
fi

# never, by reload.
sed -i 's/^Policy=.*/Policy=never/' "$VIRTD_CONF"
sysctl_ok reload-never reload virtd.service
wait_for 60 virtd_state_is holds
expect_status status-never policy=never state=holds
expect_policy_applied never never
modprobe "$KVM_VENDOR_MOD" >/dev/null 2>&1
check never-after-modprobe test ! -e /dev/kvm

# Stop: virtctl says virtd is not running; the host stays as the policy left it.
sysctl_ok stop stop virtd.service
virtctl status >"$LIB_TMP/ctl.out" 2>&1
expect status-not-running 4 "$?" "virtctl status with virtd stopped: $(head -n 2 "$LIB_TMP/ctl.out" | tr '\n' ';')"
check stopped-still-never test ! -e /dev/kvm

# A bad file at start: the start fails, the journal names file and line.
sed -i 's/^Policy=.*/Policy=sometimes/' "$VIRTD_CONF"
sysctl_fails start-bad start virtd.service
journal_has journal-bad-start "$VIRTD_CONF:[0-9]+.*sometimes"
sysctl_fails is-failed is-active --quiet virtd.service

# Back to the shipped file: starts again, first-vm, CPUs given back to KVM.
cp "$LIB_TMP/virtd.conf.shipped" "$VIRTD_CONF"
systemctl reset-failed virtd.service 2>/dev/null
sysctl_ok start-again start virtd.service
wait_for 60 virtd_state_is holds
VIRTD_PID=$(unit_pid)
expect_status status-again policy=first-vm state=holds
expect_policy_applied again first-vm
sysctl_ok stop-end stop virtd.service
