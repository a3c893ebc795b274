# Scenario: malformed and unprivileged netlink requests to virthw (virthw-badreq), then a clean kernel log.

modules_reset || fail reset "could not unload virthw/KVM"
need_virthw && need_prog virthw-badreq || return 1
check virthw-load virthw_load || return 1
dmesg_mark

run_badreq() {	# run_badreq CHECK [ARGS...]
	_c=$1
	shift
	virthw-badreq "$@" >/tmp/badreq.out 2>&1
	_rc=$?
	sed 's/^/VIRTD-NOTE: badreq: /' /tmp/badreq.out
	_f=$(grep -c '^badreq: FAIL' /tmp/badreq.out)
	_p=$(grep -c '^badreq: PASS' /tmp/badreq.out)
	if [ "$_rc" -eq 0 ] && [ "$_f" -eq 0 ] && [ "$_p" -gt 0 ]; then
		pass "$_c" "$_p cases"
	else
		fail "$_c" "exit $_rc, $_p passed, $_f failed: $(grep '^badreq: FAIL' /tmp/badreq.out | head -n 2 | tr '\n' ';')"
	fi
}
run_badreq malformed
run_badreq unprivileged --drop-privs
check still-loaded test -e /sys/module/virthw
dmesg_clean dmesg-clean
check virthw-unload virthw_unload
