# Scenario (systemd as PID 1): what an administrator does: systemctl start/reload/stop virtd, edit /etc/virtd.conf, virtctl status.

expect pid1-systemd systemd "$(cat /proc/1/comm)"
check bus-up bus_ping
check udev-up udevadm control --ping
check journal-up systemctl is-active --quiet systemd-journald.service
need_prog virtd && need_prog virtctl || return 1
check unit-installed test -f /lib/systemd/system/virtd.service || return 1
UNIT=/lib/systemd/system/virtd.service

# The unit's exposure, by systemd-analyze security on the unit as systemd
# loaded it, against the target the unit's hardening comment states.
_target=$(sed -n 's/^# systemd-analyze security: \([0-9]*\.[0-9]\) at most.*/\1/p' "$UNIT")
if [ -z "$_target" ]; then
	fail exposure "no '# systemd-analyze security: N.N at most' line in $UNIT"
elif ! command -v systemd-analyze >/dev/null; then
	skip exposure "no systemd-analyze in the image (mkinitramfs.sh --daemon copies the host's)"
else
	systemd-analyze security --no-pager virtd.service >"$LIB_TMP/security.out" 2>&1
	_score=$(sed -n 's/.*Overall exposure level for virtd\.service: \([0-9]*\.[0-9]\).*/\1/p' "$LIB_TMP/security.out")
	if [ -z "$_score" ]; then
		fail exposure "no score from systemd-analyze security: $(tail -n 3 "$LIB_TMP/security.out" | tr '\n' ';')"
	elif ! systemd-analyze security --threshold="$(echo "$_target" | tr -d .)" virtd.service >/dev/null 2>&1 ||
		! awk -v s="$_score" -v t="$_target" 'BEGIN { exit !(s <= t) }'; then
		fail exposure "exposure $_score, above the unit's target $_target: $(grep '^✗' "$LIB_TMP/security.out" | cut -c1-62 | tr -s ' ' | tr '\n' ';')"
	else
		pass exposure "exposure $_score (target $_target), systemd $(systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p')"
	fi
fi

# sandbox_check: the running virtd (VIRTD_PID) has the unit's sandbox:
# the bounding set of exactly the three capabilities the unit names
# (CAP_DAC_READ_SEARCH 2, CAP_NET_ADMIN 12, CAP_SYS_PTRACE 19; no
# CAP_SYS_MODULE: modules are virtd-kmod@.service's), no new privileges, a
# seccomp filter, /proc hidepid.
sandbox_check() {
	_s=/proc/$VIRTD_PID/status
	expect sandbox-capbnd 0000000000081004 "$(sed -n 's/^CapBnd:[[:space:]]*//p' "$_s")" "virtd's CapBnd"
	expect sandbox-nnp 1 "$(sed -n 's/^NoNewPrivs:[[:space:]]*//p' "$_s")" "virtd's NoNewPrivs"
	expect sandbox-seccomp 2 "$(sed -n 's/^Seccomp:[[:space:]]*//p' "$_s")" "virtd's Seccomp mode (2: filter)"
	if awk '$5 == "/proc"' "/proc/$VIRTD_PID/mountinfo" | grep -q 'hidepid=invisible'; then
		pass sandbox-hidepid
	else
		fail sandbox-hidepid "virtd's /proc: $(awk '$5 == "/proc"' "/proc/$VIRTD_PID/mountinfo" | tr '\n' ';')"
	fi
}
# nobody_vm_start: vm_start as user nobody (a VM of another user, as
# libvirt's qemu runs): counting it needs CAP_DAC_READ_SEARCH and
# CAP_SYS_PTRACE in virtd.  /dev/kvm is opened to all for it.
nobody_vm_start() {
	chmod 0666 /dev/kvm || return 1
	rm -f "$LIB_TMP/vm.out"
	bg_start "$LIB_TMP/vm.out" su -s /bin/sh nobody -c 'exec kvm-vm --hold=600'
	VM_PID=$BG_PID
	wait_for 30 grep -q '^kvm-vm: holding' "$LIB_TMP/vm.out" || {
		cat "$LIB_TMP/vm.out"
		return 1
	}
}
# The shipped /etc/virtd.conf: every key commented out, so the default policy.
cp "$VIRTD_CONF" "$LIB_TMP/virtd.conf.shipped"

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
sandbox_check
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
if check vm-nobody-create nobody_vm_start; then
	expect_status status-vm-nobody vm_count=1 state=holds
	expect vm-nobody-pid "$VM_PID" "$(st vms.0.pid)" "status vms[0].pid of nobody's VM"
	check vm-nobody-destroy vm_stop
fi
wait_status vm-none vm_count 0

# The module helper's socket: root's alone, listening; virtd-kmod@.service
# instances are what load and unload modules for virtd.service.
check kmod-socket-active systemctl is-active --quiet virtd-kmod.socket
expect kmod-socket-mode "600 root root" "$(stat -c '%a %U %G' /run/virtd-kmod.socket 2>&1)" "/run/virtd-kmod.socket"
if su -s /bin/sh tester -c 'test -w /run/virtd-kmod.socket' 2>/dev/null; then
	fail kmod-socket-unprivileged "uid 1000 may connect to /run/virtd-kmod.socket"
else
	pass kmod-socket-unprivileged "uid 1000 cannot connect (no write access to the socket)"
fi
kmod_runs() { journalctl -b --no-pager -o cat 2>/dev/null | grep -cE '(Started|Finished) .*Module helper of virtd'; }
_kmod_before=$(kmod_runs)

# The lock under boot: virtd unloads the vendor module for the holder, and
# loads it again after, each through virtd-kmod.socket (delete_module and
# finit_module in a virtd-kmod@.service).
virtctl lock --who=systemd-admin --why="test of $SCENARIO" -- \
	sh -c "test ! -e /dev/kvm && test ! -e /sys/module/$KVM_VENDOR_MOD" >"$LIB_TMP/lock.out" 2>&1
expect lock-grant 0 "$?" "virtctl lock -- (no /dev/kvm, $KVM_VENDOR_MOD unloaded): $(tr '\n' ';' <"$LIB_TMP/lock.out")"
check lock-taken-message grep -q '^virtctl: lock taken' "$LIB_TMP/lock.out"
wait_for 60 virtd_state_is holds
expect_status status-after-lock policy=boot state=holds
expect_policy_applied after-lock boot
_kmod_after=$(kmod_runs)
if [ "$_kmod_after" -ge $((_kmod_before + 2)) ]; then
	pass kmod-socket-used "$((_kmod_after - _kmod_before)) virtd-kmod@.service runs for the lock's unload and load"
else
	fail kmod-socket-used "virtd-kmod@.service started $_kmod_before then $_kmod_after times: the lock's unload and load did not go through the socket"
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
# never to boot: kvm and the vendor module loaded through virtd-kmod from
# nothing; then never again.
sed -i 's/^Policy=.*/Policy=boot/' "$VIRTD_CONF"
sysctl_ok reload-never-boot reload virtd.service
wait_for 60 virtd_state_is holds
expect_status status-never-boot policy=boot state=holds
expect_policy_applied never-boot boot
sed -i 's/^Policy=.*/Policy=never/' "$VIRTD_CONF"
sysctl_ok reload-never-again reload virtd.service
wait_for 60 virtd_state_is holds
expect_policy_applied never-again never

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
sandbox_check
# Nothing virtd did was refused by the sandbox (seccomp's EPERM, a denied
# path or device).
if journalctl -b -u virtd.service -u 'virtd-kmod@*' --no-pager -o cat 2>/dev/null | grep -Eq 'Operation not permitted|Permission denied'; then
	fail journal-no-denial "$(journalctl -b -u virtd.service -u 'virtd-kmod@*' --no-pager -o cat | grep -E 'Operation not permitted|Permission denied' | head -n 3 | tr '\n' ';')"
else
	pass journal-no-denial
fi
sysctl_ok stop-end stop virtd.service
