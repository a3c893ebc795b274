# Scenario: virtctl status exit codes (0 holds, 3 pending, 4 not running), its JSON fields, and who may call what on the bus.

need_prog virtctl || return 1
daemon_env || return 1
virtctl status >"$LIB_TMP/ctl.out" 2>&1
expect not-running-exit 4 "$?" "virtctl status before virtd: $(head -n 2 "$LIB_TMP/ctl.out" | tr '\n' ';')"
virtctl status --json >/dev/null 2>&1
expect not-running-exit-json 4 "$?"

check stock-kvm-load modprobe "$KVM_VENDOR_MOD" || return 1
virtd_conf first-vm
virtd_start start || return 1
virtd_wait_state holds holds || return 1
virtctl status >"$LIB_TMP/ctl.out" 2>&1
expect holds-exit 0 "$?" "$(head -n 3 "$LIB_TMP/ctl.out" | tr '\n' ';')"
check human-output grep -qi 'first-vm' "$LIB_TMP/ctl.out"

# The contract's fields, each present with a value of the right kind.
status
missing=""
for k in version policy applied_policy state reason config.path config.policy kvm.kvm_module \
	kvm.vendor_module kvm.vendor_state kvm.enable_virt_at_load kvm.dev_kvm kvm.autoload_blocked \
	kvm.dropin vm_count pinned_vm cpus.0.cpu cpus.0.online cpus.0.feature cpus.0.firmware_enabled \
	cpus.0.virt_on cpus.0.expected cpus.0.owner cpus.0.ok verify.ok verify.checked \
	verify.mismatched actions_failed; do
	grep -q "^$k	" "$LIB_TMP/status.flat" || missing="$missing $k"
done
if [ -z "$missing" ]; then pass json-fields; else fail json-fields "missing:$missing"; fi
expect json-version 0.1 "$(st version)"
expect json-config-path "$VIRTD_CONF" "$(st config.path)"
expect json-feature "$FEATURE" "$(st cpus.0.feature)"
expect json-cpus "$(nr_online)" "$(grep -c '^cpus\.[0-9]*\.cpu	' "$LIB_TMP/status.flat")" "CPUs in status"
expect json-checked "$(nr_online)" "$(st verify.checked)" "verify.checked"
if [ "$KVM_HAS_VAL" = 1 ]; then
	expect json-val false "$(st kvm.enable_virt_at_load)"
else
	expect json-val null "$(st kvm.enable_virt_at_load)"
fi
expect json-expected-off off "$(st cpus.0.expected)"

# The bus properties say the same as GetStatus.
prop() {
	# shellcheck disable=SC2086
	dbus-send --print-reply $VIRTD_BUS org.freedesktop.DBus.Properties.Get string:org.virtd1.Manager "string:$1" 2>&1 |
		sed -n 's/.*variant *[a-z0-9]* "\{0,1\}\([^"]*\)"\{0,1\}$/\1/p'
}
expect prop-policy first-vm "$(prop Policy)"
expect prop-applied first-vm "$(prop AppliedPolicy)"
expect prop-state holds "$(prop State)"
expect prop-vmcount 0 "$(prop VMCount)"
expect prop-version 0.1 "$(prop Version)"
expect prop-pinned false "$(prop PinnedVM)"

# An unprivileged user reads the status, cannot reload.
as_nobody() { su -s /bin/sh nobody -c "$*"; }
as_nobody virtctl status >"$LIB_TMP/nobody.out" 2>&1
expect nobody-status 0 "$?" "virtctl status as nobody: $(head -n 2 "$LIB_TMP/nobody.out" | tr '\n' ';')"
as_nobody virtctl status --json >"$LIB_TMP/nobody.json" 2>&1
check nobody-status-json grep -q '"state"' "$LIB_TMP/nobody.json"
as_nobody virtctl reload >"$LIB_TMP/nobody.out" 2>&1
_rc=$?
if [ "$_rc" -ne 0 ] && [ "$_rc" -ne 4 ]; then
	pass nobody-reload-denied "exit $_rc: $(head -n 1 "$LIB_TMP/nobody.out")"
else
	fail nobody-reload-denied "virtctl reload as nobody exited $_rc: $(head -n 2 "$LIB_TMP/nobody.out" | tr '\n' ';')"
fi
# shellcheck disable=SC2086
as_nobody dbus-send --system --print-reply $VIRTD_BUS org.virtd1.Manager.Reload >"$LIB_TMP/nobody.out" 2>&1
if grep -q 'AccessDenied' "$LIB_TMP/nobody.out"; then
	pass nobody-reload-bus-denied
else
	fail nobody-reload-bus-denied "Reload as nobody: $(head -n 2 "$LIB_TMP/nobody.out" | tr '\n' ';')"
fi
# virtd checks the caller itself too: with a bus policy that lets anyone
# call Reload, it must still refuse nobody.
cat >/etc/dbus-1/system.d/zz-virtd-test-open.conf <<'POLICY'
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><policy context="default"><allow send_destination="org.virtd1"/></policy></busconfig>
POLICY
dbus-send --system --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.ReloadConfig >/dev/null 2>&1
# shellcheck disable=SC2086
as_nobody dbus-send --system --print-reply $VIRTD_BUS org.virtd1.Manager.Reload >"$LIB_TMP/nobody.out" 2>&1
if grep -q 'AccessDenied' "$LIB_TMP/nobody.out" && ! grep -qi 'rejected send message' "$LIB_TMP/nobody.out"; then
	pass nobody-reload-denied-by-virtd "$(head -n 1 "$LIB_TMP/nobody.out")"
else
	fail nobody-reload-denied-by-virtd "with an open bus policy, Reload as nobody: $(head -n 2 "$LIB_TMP/nobody.out" | tr '\n' ';')"
fi
rm -f /etc/dbus-1/system.d/zz-virtd-test-open.conf
dbus-send --system --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.ReloadConfig >/dev/null 2>&1
as_nobody dbus-send --system --print-reply $VIRTD_BUS org.virtd1.Manager.GetStatus >/dev/null 2>&1
expect nobody-getstatus 0 "$?" "GetStatus as nobody through dbus-send"
# shellcheck disable=SC2086
dbus-send --system --print-reply $VIRTD_BUS org.virtd1.Manager.Reload >"$LIB_TMP/root.out" 2>&1
expect root-reload 0 "$?" "Reload as root: $(head -n 2 "$LIB_TMP/root.out" | tr '\n' ';')"
busctl --system introspect org.virtd1 /org/virtd1 >"$LIB_TMP/introspect.out" 2>&1
check introspect grep -q 'org.virtd1.Manager' "$LIB_TMP/introspect.out"

# Pending: exit 3.
if check vm-create vm_start; then
	wait_status vm-counted vm_count 1
	virtd_conf never
	virtctl reload >/dev/null 2>&1
	wait_for 30 st_is state pending
	virtctl status >"$LIB_TMP/ctl.out" 2>&1
	expect pending-exit 3 "$?" "$(head -n 3 "$LIB_TMP/ctl.out" | tr '\n' ';')"
	expect pending-state pending "$(prop State)" "State property"
	check vm-destroy vm_stop
	wait_for 60 st_is state holds
	virtctl status >/dev/null 2>&1
	expect holds-again-exit 0 "$?"
fi
check stop virtd_stop
virtctl status >/dev/null 2>&1
expect stopped-exit 4 "$?" "virtctl status after virtd stopped"
