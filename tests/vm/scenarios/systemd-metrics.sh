# Scenario (systemd as PID 1): the shipped [Metrics] example under virtd.service's sandbox: written in Debian's node_exporter directory, refused by ProtectSystem=strict elsewhere (logged, naming ReadWritePaths=), removed at stop.

need_prog virtd && need_prog virtctl || return 1
check unit-installed test -f /lib/systemd/system/virtd.service || return 1
cp "$VIRTD_CONF" "$LIB_TMP/virtd.conf.shipped"
NE_DIR=/var/lib/prometheus/node-exporter
mkdir -p "$NE_DIR"
rm -f "$NE_DIR"/*

# The shipped file's example, uncommented: the one path the unit makes writable.
sed -i 's/^#\(File=\)/\1/' "$VIRTD_CONF"
_f=$(sed -n 's/^File=//p' "$VIRTD_CONF")
expect conf-example "$NE_DIR/virtd.prom" "$_f" "File= of the shipped virtd.conf"
systemctl reset-failed virtd.service 2>/dev/null
if systemctl start virtd.service >"$LIB_TMP/systemctl.out" 2>&1; then
	pass start
else
	fail start "systemctl start: $(tail -n 3 "$LIB_TMP/systemctl.out" | tr '\n' ';')"
	cp "$LIB_TMP/virtd.conf.shipped" "$VIRTD_CONF"
	return 1
fi
wait_for 60 virtd_state_is holds
if wait_for 30 grep -q '^virtd_state{state="holds"} 1$' "$_f"; then
	pass written "$(grep -c '^virtd_' "$_f") samples"
	expect mode 644 "$(stat -c %a "$_f")"
	send_file unit.prom "$_f"
else
	fail written "no holds in $_f: $(ls -A "$NE_DIR"); $(journalctl -b -u virtd.service --no-pager -o cat | tail -n 3 | tr '\n' ';')"
fi

# Outside the writable paths: the reload works, the write fails with a hint, virtd goes on.
sed -i "s|^File=.*|File=/var/lib/virtd-test.prom|" "$VIRTD_CONF"
systemctl reload virtd.service >"$LIB_TMP/systemctl.out" 2>&1
expect reload-elsewhere 0 "$?" "$(tail -n 2 "$LIB_TMP/systemctl.out" | tr '\n' ';')"
check old-file-removed wait_for 30 test ! -e "$_f"
if wait_for 30 sh -c "journalctl -b -u virtd.service --no-pager -o cat | grep -q 'Read-only file system.*ReadWritePaths='"; then
	pass read-only-logged "$(journalctl -b -u virtd.service --no-pager -o cat | grep 'Read-only file system' | tail -n 1)"
else
	fail read-only-logged "$(journalctl -b -u virtd.service --no-pager -o cat | tail -n 3 | tr '\n' ';')"
fi
check still-active systemctl is-active --quiet virtd.service
check not-written test ! -e /var/lib/virtd-test.prom

# Back to the example; a stop removes the file.
sed -i "s|^File=.*|File=$NE_DIR/virtd.prom|" "$VIRTD_CONF"
systemctl reload virtd.service >/dev/null 2>&1
check rewritten wait_for 30 test -s "$_f"
check stop systemctl stop virtd.service
check stop-removed test ! -e "$_f"
cp "$LIB_TMP/virtd.conf.shipped" "$VIRTD_CONF"
