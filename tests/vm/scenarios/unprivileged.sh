# Scenario: an unprivileged local user (uid 1000, alone and in group kvm): every bus method, property and signal of virtd, every virthw command and its events group, every file virtd creates; reads are allowed, the rest refused (by virtd, asking the real polkitd); root's same requests get through.
#
# The rows of RELIABILITY.md's table "What an unprivileged user can do" are
# these checks.  Debian's packaging creates no group (debian/ has no
# postinst), so "with membership" is the kvm group, the one a Debian host
# gives /dev/kvm to; it changes nothing of virtd's or virthw's answers.
# polkitd runs with the shipped actions and rule, as on a host with the
# package's Recommends: neither identity is in vboxusers, so polkit says no
# to every action (scenarios/daemon-polkit: a vboxusers member, polkitd
# absent).

need_prog unpriv-check && need_prog virtctl && need_prog kvm-vm || return 1
daemon_env || return 1
need_virthw || return 1
METRICS=/run/metrics/virtd.prom
mkdir -p "${METRICS%/*}"
virtd_conf boot "[Metrics]" "File=$METRICS"
virtd_start start || return 1
virtd_wait_state holds holds || return 1
check polkit-up polkit_up || return 1
KVM_GID=$(awk -F: '$1 == "kvm" { print $3 }' /etc/group)
IDS="plain:1000:1000 kvm:1000:1000:$KVM_GID"

# as ID CMD...: CMD as the identity's uid, gid and groups (run_as's $LIB_TMP/as.out and AS_RC).
as() {
	_id_spec=$(echo "$IDS" | tr ' ' '\n' | sed -n "s/^$1://p")
	shift
	run_as "$_id_spec" "$@"
}
# allowed CHECK ID REGEX CMD...: CMD as ID exits 0 and prints REGEX (any output when empty).
allowed() {
	_c=$1 _id=$2 _re=$3
	shift 3
	as "$_id" "$@"
	if [ "$AS_RC" = 0 ] && { [ -z "$_re" ] || grep -Eq "$_re" "$LIB_TMP/as.out"; }; then
		pass "$_c-$_id" "allowed"
	else
		fail "$_c-$_id" "as $_id: '$*' exited $AS_RC, want 0 and /$_re/: $(as_text)"
	fi
}
# refused CHECK ID REGEX CMD...: CMD as ID exits non-zero and prints REGEX.
refused() {
	_c=$1 _id=$2 _re=$3
	shift 3
	as "$_id" "$@"
	as_refused "$_c-$_id" "$_id" "$_re" "$*"
}
busctl_as() { echo dbus-send --system --print-reply --dest=org.virtd1 /org/virtd1 "$@"; }
PROPS="Version Policy AppliedPolicy State Reason VMCount PinnedVM ForeignLocks"

check who-plain sh -c "unpriv-check --as=1000:1000 -- id | grep -q 'uid=1000.*gid=1000' && ! unpriv-check --as=1000:1000 -- id | grep -q kvm"
check who-kvm sh -c "unpriv-check --as=1000:1000:$KVM_GID -- id | grep -q 'groups=.*$KVM_GID'"

# --- the bus: reads allowed; the methods that change something refused by -----
# --- virtd (polkit says no), Properties.Set by the bus policy ------------------
NOT_AUTH='Not authorized for org\.virtd1'

for id in plain kvm; do
	# shellcheck disable=SC2046 # the command's words
	allowed bus-introspect $id 'interface name="org.virtd1.Manager"' $(busctl_as org.freedesktop.DBus.Introspectable.Introspect)
	# shellcheck disable=SC2046
	allowed bus-ping $id 'method return' $(busctl_as org.freedesktop.DBus.Peer.Ping)
	for p in $PROPS; do
		# shellcheck disable=SC2046
		allowed "bus-get-$p" $id 'variant' $(busctl_as org.freedesktop.DBus.Properties.Get string:org.virtd1.Manager "string:$p")
	done
	# shellcheck disable=SC2046
	allowed bus-getall $id '"ForeignLocks"' $(busctl_as org.freedesktop.DBus.Properties.GetAll string:org.virtd1.Manager)
	# shellcheck disable=SC2046
	allowed bus-getstatus $id '"state": *"holds"' $(busctl_as org.virtd1.Manager.GetStatus)
	# shellcheck disable=SC2046
	refused bus-set-policy $id 'AccessDenied' $(busctl_as org.freedesktop.DBus.Properties.Set string:org.virtd1.Manager string:Policy variant:string:never)
	# shellcheck disable=SC2046
	refused bus-reload $id "AccessDenied: $NOT_AUTH\\.reload \\(caller uid 1000\\): ask an administrator" $(busctl_as org.virtd1.Manager.Reload)
	# shellcheck disable=SC2046
	refused bus-acquireforeign $id "AccessDenied: $NOT_AUTH\\.acquire-foreign \\(caller uid 1000\\): add the user to group vboxusers" $(busctl_as org.virtd1.Manager.AcquireForeign string:tester string:unprivileged uint64:0 uint64:0)
	# shellcheck disable=SC2046
	refused bus-probe $id "AccessDenied: $NOT_AUTH\\.probe \\(caller uid 1000\\)" $(busctl_as org.virtd1.Manager.Probe uint32:0 uint32:1 uint64:0)
	allowed virtctl-status $id 'holds' virtctl status
	allowed virtctl-status-json $id '"state"' virtctl status --json
	refused virtctl-reload $id "^virtctl: Failed to reload virtd: $NOT_AUTH\\.reload " virtctl reload
	refused virtctl-lock $id "^virtctl: Failed to take the foreign-hypervisor lock: $NOT_AUTH\\.acquire-foreign " \
		virtctl lock --who=tester -- true
	refused virtctl-probe $id "^virtctl: Failed to run the probe: $NOT_AUTH\\.probe " virtctl probe
	refused virtctl-hw $id 'EPERM|permission|Operation not permitted|root' virtctl hw
done
expect_status bus-unchanged policy=boot applied_policy=boot state=holds verify.ok=true
expect bus-no-lock 0 "$(nr_locks)"

# Properties.Set past the bus policy (opened to uid 1000 for a moment): virtd
# has no writable property.
LAX=/etc/dbus-1/system.d/zz-unprivileged-test.conf
mkdir -p "${LAX%/*}"
cat >"$LAX" <<'EOF'
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><policy user="tester"><allow send_destination="org.virtd1"/></policy></busconfig>
EOF
bus_reload() { dbus-send --system --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.ReloadConfig; }
check lax-policy bus_reload
sleep 1
# shellcheck disable=SC2046
refused virtd-set-policy plain 'PropertyReadOnly|read-only|read only' $(busctl_as org.freedesktop.DBus.Properties.Set string:org.virtd1.Manager string:Policy variant:string:never)
rm -f "$LAX"
check strict-policy bus_reload
expect_status virtd-unchanged policy=boot applied_policy=boot state=holds verify.ok=true
expect virtd-no-lock 0 "$(nr_locks)"

# --- netlink: every virthw command refused with EPERM; root's get through -----
unpriv-check --netlink >"$LIB_TMP/nl-root.out" 2>&1
sed 's/^/VIRTD-NOTE: unprivileged: root: /' "$LIB_TMP/nl-root.out"
nl_row() { sed -n "s/^unpriv: netlink $1 //p" "$2"; }	# nl_row NAME FILE: ok or errno=E
for cmd in GET_CAPS GET_CPUS-do GET_CPUS-dump GET_SETTINGS SET_SETTINGS events-group-join; do
	expect "nl-root-$cmd" ok "$(nl_row "$cmd" "$LIB_TMP/nl-root.out")"
done
# Root's probe meets KVM holding SVM under boot: past the permission check.
_p=$(nl_row PROBE "$LIB_TMP/nl-root.out")
if [ -n "$_p" ] && [ "$_p" != errno=EPERM ]; then pass nl-root-PROBE "$_p"; else fail nl-root-PROBE "'$_p'"; fi
for id in plain kvm; do
	as $id unpriv-check --netlink
	sed "s/^/VIRTD-NOTE: unprivileged: $id: /" "$LIB_TMP/as.out"
	cp "$LIB_TMP/as.out" "$LIB_TMP/nl-$id.out"
	expect "nl-family-$id" 0 "$AS_RC" "$(as_text)"
	for cmd in GET_CAPS GET_CPUS-do GET_CPUS-dump GET_SETTINGS SET_SETTINGS PROBE events-group-join; do
		expect "nl-$cmd-$id" errno=EPERM "$(nl_row "$cmd" "$LIB_TMP/nl-$id.out")"
	done
	# The event commands have no handler: refused alike for root and user.
	for cmd in CPU_EVENT-request SETTINGS_EVENT-request; do
		expect "nl-$cmd-$id" "$(nl_row "$cmd" "$LIB_TMP/nl-root.out")" "$(nl_row "$cmd" "$LIB_TMP/nl-$id.out")" "as root"
	done
done
expect_virt nl-cpus-unchanged on

# --- /dev/kvm: the kvm group runs VMs (Debian's udev rule), no group none -----
refused kvm-vm plain 'Permission denied|EACCES|cannot open' kvm-vm --once
allowed kvm-vm kvm '' kvm-vm --once

# --- a signal reaches the user; the files of a held lock ---------------------
SIG_PIDS=""
for id in plain kvm; do
	_spec=$(echo "$IDS" | tr ' ' '\n' | sed -n "s/^$id://p")
	bg_start "$LIB_TMP/sig-$id.out" unpriv-check --as="$_spec" --wait-signal=60
	SIG_PIDS="$SIG_PIDS $id:$BG_PID"
done
wait_for 20 grep -q 'bus subscribed' "$LIB_TMP/sig-plain.out"
wait_for 20 grep -q 'bus subscribed' "$LIB_TMP/sig-kvm.out"
lock_start "$LIB_TMP/lock.out" --who=root-holder -- sleep 600
if ! lock_wait_taken "$LIB_TMP/lock.out"; then
	fail lock-taken "$(tr '\n' ';' <"$LIB_TMP/lock.out"); virtd: $(virtd_log_tail 3)"
	return 1
fi
pass lock-taken
for _ip in $SIG_PIDS; do
	id=${_ip%%:*}
	wait_for 30 proc_gone "${_ip#*:}"
	expect "bus-signal-$id" 'unpriv: bus signal received' "$(tail -n 1 "$LIB_TMP/sig-$id.out")"
done

# Every file virtd made: none writable by the user; regular files readable
# (what they say is in GetStatus anyway); the lock's FIFO not even openable.
wait_for 10 test -s "$METRICS"
FILES=$( (find /run/virtd /run/modprobe.d -name 'virtd*' -o -path '/run/virtd/*'; echo "$METRICS") 2>/dev/null | sort -u)
for want in /run/virtd /run/virtd/locks "$VIRTD_DROPIN" "$METRICS"; do
	echo "$FILES" | grep -qx "$want" || fail "files-listed" "$want missing from: $(echo "$FILES" | tr '\n' ' ')"
done
check files-fifo sh -c "echo '$FILES' | grep -q '^/run/virtd/locks/.*\.fifo$'"
check files-meta sh -c "echo '$FILES' | grep -q '^/run/virtd/locks/.*\.lock$'"
for f in $FILES; do
	_name=$(echo "$f" | sed 's|^/run/||; s|/[0-9][0-9]*\.|/ID.|; s|[/.]|-|g')
	note "file $f: $(stat -c '%A %U:%G' "$f")"
	for id in plain kvm; do
		if [ -d "$f" ]; then
			refused "file-$_name-create" $id 'denied|Permission' sh -c "touch '$f/unprivileged-test'"
			allowed "file-$_name-list" $id '' ls "$f"
		elif [ -p "$f" ]; then
			refused "file-$_name-open-write" $id 'denied|Permission' sh -c "exec 3>'$f'"
			refused "file-$_name-open-read" $id 'denied|Permission' sh -c "exec 3<'$f'"
		else
			refused "file-$_name-write" $id 'denied|Permission' sh -c ": >>'$f'"
			allowed "file-$_name-read" $id '' cat "$f"
		fi
	done
done
check files-no-leftover sh -c "! ls /run/virtd/unprivileged-test /run/virtd/locks/unprivileged-test 2>/dev/null"
expect lock-still-one 1 "$(nr_locks)"
kill -TERM "$LOCK_PID"
fhv_reap "$LOCK_PID" 30
virtd_wait_state end-holds holds 60
expect end-no-lock 0 "$(nr_locks)"
check stop virtd_stop
