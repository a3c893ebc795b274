# Scenario (installed system): the .debs on a booted Debian root: systemctl start and reload, status, the lock, the journal, a reinstall under a lock, the purge.
# shellcheck shell=sh
# Sourced by tests/vm/guest/init --under-systemd after lib.sh, from
# virtd-installed-test.service (after multi-user.target).  The packages were
# installed with apt-get when the image was made (mkimage.sh); their files
# are in /root/debs for the reinstall.

DEBS=/root/debs
BEFORE=/tests/files-before-install

journal_has() {	# journal_has CHECK REGEX: virtd's journal of this boot matches REGEX
	if journalctl -b -u virtd.service --no-pager -o cat 2>/dev/null | grep -Eq "$2"; then
		pass "$1" "$(journalctl -b -u virtd.service --no-pager -o cat | grep -E "$2" | head -n 1)"
	else
		fail "$1" "no '$2' in journalctl -u virtd: $(journalctl -b -u virtd.service --no-pager -o cat 2>&1 | tail -n 4 | tr '\n' ';')"
	fi
}
apt_ok() {	# apt_ok CHECK ARGS...: apt-get ARGS (in /root/debs) succeeds
	_c=$1
	shift
	if (cd "$DEBS" && DEBIAN_FRONTEND=noninteractive apt-get -y -q "$@") >"$LIB_TMP/apt.out" 2>&1; then
		pass "$_c" "apt-get $*"
	else
		fail "$_c" "apt-get $* exited $?: $(tail -n 4 "$LIB_TMP/apt.out" | tr '\n' ';')"
		return 1
	fi
}
unit_pid() { systemctl show -p MainPID --value virtd.service; }
# kvm_params: every parameter of kvm and the vendor module, "module/name=value".
kvm_params() {
	for _f in /sys/module/kvm/parameters/* "/sys/module/$KVM_VENDOR_MOD"/parameters/*; do
		[ -r "$_f" ] && echo "${_f#/sys/module/}=$(cat "$_f" 2>/dev/null)"
	done | sed 's|/parameters/|/|'
}

# lib.sh looks for enable_virt_at_load in an uncompressed kvm.ko (the test
# images'); Debian's own modules are .ko.xz: ask modinfo.
if modinfo -F parm kvm 2>/dev/null | grep -q '^enable_virt_at_load:'; then
	KVM_HAS_VAL=1
fi

# --- the installed system ---------------------------------------------------------
expect pid1-systemd systemd "$(cat /proc/1/comm)"
# (The system is "starting" while this unit runs: judge the target it follows.)
if systemctl is-active --quiet multi-user.target; then
	pass system-up "multi-user.target active; failed units: $(systemctl --failed --no-legend --plain | awk '{ print $1 }' | tr '\n' ' ')"
else
	fail system-up "multi-user.target: $(systemctl is-active multi-user.target)"
fi
for _p in virtd virthw-dkms; do
	expect "dpkg-$_p" "install ok installed" "$(dpkg-query -W -f='${Status}' "$_p" 2>&1)"
done
KVER=$(uname -r)
_dk=$(dkms status -k "$KVER" virthw 2>&1)
case "$_dk" in
*": installed"*) pass dkms-installed "$_dk" ;;
*) fail dkms-installed "dkms status -k $KVER virthw: '$_dk'" ;;
esac
_ko=$(modinfo -n virthw 2>&1)
case "$_ko" in
"/lib/modules/$KVER/updates/dkms/"* | "/usr/lib/modules/$KVER/updates/dkms/"*) pass virthw-from-dkms "$_ko" ;;
*) fail virthw-from-dkms "modinfo -n virthw: '$_ko'" ;;
esac
need_prog virtctl && need_prog virtd || return 1

# --- systemctl start; the shipped /etc/virtd.conf: first-vm ------------------------
note "virtd.service at boot: $(systemctl is-enabled virtd.service 2>&1), $(systemctl is-active virtd.service 2>&1)"
sysctl_ok start start virtd.service || { systemctl status virtd.service --no-pager 2>&1 | sed 's/^/VIRTD-NOTE: /'; return 1; }
sysctl_ok is-active is-active --quiet virtd.service
wait_for 60 virtd_state_is holds
VIRTD_PID=$(unit_pid)
expect_status status-default policy=first-vm state=holds
expect_policy_applied default first-vm
# The package's module helper socket, pulled in by virtd.service; virtd
# itself cannot load modules (bit 16, CAP_SYS_MODULE, not in its bounding set).
sysctl_ok kmod-socket is-active --quiet virtd-kmod.socket
_capbnd=$(sed -n 's/^CapBnd:[[:space:]]*//p' "/proc/$VIRTD_PID/status")
if [ -n "$_capbnd" ] && [ $((0x$_capbnd & 0x10000)) -eq 0 ]; then
	pass no-cap-sys-module "virtd's CapBnd $_capbnd"
else
	fail no-cap-sys-module "virtd's CapBnd '$_capbnd' has CAP_SYS_MODULE"
fi

# --- edit Policy=, systemctl reload: boot ---------------------------------------------
cp "$VIRTD_CONF" "$LIB_TMP/virtd.conf.shipped"
sed -i 's/^#\{0,1\}Policy=.*/Policy=boot/' "$VIRTD_CONF"
expect conf-edited "Policy=boot" "$(grep '^Policy=' "$VIRTD_CONF")"
sysctl_ok reload reload virtd.service
wait_for 60 virtd_state_is holds
expect same-pid "$VIRTD_PID" "$(unit_pid)" "virtd's MainPID after the reload"
expect_status status-boot policy=boot state=holds
expect_policy_applied boot boot

# --- virtctl lock -- true -------------------------------------------------------------
virtctl lock --who=installed-test --why="installed-system test" -- true >"$LIB_TMP/lock-true.out" 2>&1
expect lock-true 0 "$?" "virtctl lock -- true: $(tr '\n' ';' <"$LIB_TMP/lock-true.out")"
wait_for 60 virtd_state_is holds
expect_status after-lock policy=boot state=holds
expect_policy_applied after-lock boot

# --- the journal has the transitions --------------------------------------------------
journal_has journal-start 'Configuration .*: policy first-vm'
journal_has journal-reload 'Configuration reloaded: policy first-vm -> boot'
journal_has journal-lock-granted 'Foreign lock .*granted to installed-test'
journal_has journal-lock-released 'Foreign lock .*released by installed-test'

# --- reinstall the same version while a holder runs -----------------------------------
rm -f /run/installed-release
bg_start "$LIB_TMP/holder.out" virtctl lock --who=reinstall-holder --why="installed-system test" -- \
	sh -c 'while [ ! -e /run/installed-release ]; do sleep 0.2; done'
H=$BG_PID
if lock_wait_taken "$LIB_TMP/holder.out" && wait_for 60 virtd_state_is locked; then
	pass holder-taken "pid $H"
else
	fail holder-taken "$(tr '\n' ';' <"$LIB_TMP/holder.out"); state '$(virtd_state)'"
fi
expect_status holder-status state=locked locks.0.who=reinstall-holder locks.0.pid="$H"
check holder-kvm-out test ! -e "/sys/module/$KVM_VENDOR_MOD"
_pid_before=$(unit_pid)
apt_ok reinstall install --reinstall "./$(cd "$DEBS" && ls virtd_*.deb)"
# The package restarts virtd (or not): the checks below follow the unit's process.
VIRTD_PID=$(unit_pid)
note "virtd's MainPID $_pid_before before the reinstall, $VIRTD_PID after"
sysctl_ok reinstall-active is-active --quiet virtd.service
check reinstall-holder-alive test -d "/proc/$H"
if wait_for 60 virtd_state_is locked; then pass reinstall-locked; else fail reinstall-locked "state '$(virtd_state)'"; fi
expect_status reinstall-status state=locked locks.0.who=reinstall-holder locks.0.pid="$H"
modprobe "$KVM_VENDOR_MOD" >/dev/null 2>&1
check reinstall-kvm-out test ! -e "/sys/module/$KVM_VENDOR_MOD"
check reinstall-no-dev-kvm test ! -e /dev/kvm
touch /run/installed-release
fhv_reap "$H" 30
expect holder-exit 0 "$FHV_RC" "$(tr '\n' ';' <"$LIB_TMP/holder.out")"
virtd_wait_state released-holds holds 60
expect_policy_applied released boot

# --- purge: nothing left behind ----------------------------------------------------------
dpkg-query -L virtd virthw-dkms >"$LIB_TMP/pkg-paths" 2>&1
_n=$(wc -l <"$LIB_TMP/pkg-paths")
VIRTD_PID=$(unit_pid)
apt_ok purge purge virtd virthw-dkms
for _p in virtd virthw-dkms; do
	_s=$(dpkg-query -W -f='${db:Status-Abbrev}' "$_p" 2>/dev/null)
	case "$_s" in
	"" | un*) pass "purged-$_p" "${_s:-unknown to dpkg}" ;;
	*) fail "purged-$_p" "dpkg status '$_s'" ;;
	esac
done
# The packages' paths that were not on the system before them.
# (By their real directory: /lib is /usr/lib here, and the list was made
# by find, which does not follow symbolic links.)
_left=$(while IFS= read -r _f; do
	[ "$_f" != /. ] || continue
	[ -e "$_f" ] || [ -L "$_f" ] || continue
	_r=$(readlink -f "$(dirname "$_f")")
	grep -qxF "${_r%/}/$(basename "$_f")" "$BEFORE" || echo "$_f"
done <"$LIB_TMP/pkg-paths")
if [ -z "$_left" ]; then pass package-paths-gone "$_n paths"; else fail package-paths-gone "$(echo "$_left" | head -n 5 | tr '\n' ' ')"; fi
if systemctl cat virtd.service >"$LIB_TMP/cat.out" 2>&1; then
	fail unit-gone "systemctl cat virtd.service still shows: $(head -n 2 "$LIB_TMP/cat.out" | tr '\n' ';')"
else
	pass unit-gone
fi
check virtd-exited proc_gone "${VIRTD_PID:-0}"
check run-virtd-gone test ! -e /run/virtd
check dropin-gone test ! -e "$VIRTD_DROPIN"
check dkms-tree-gone test ! -e /var/lib/dkms/virthw
_ko=$(find /lib/modules/ -name 'virthw.ko*' 2>/dev/null | head -n 3)
expect ko-gone "" "$_ko" "virthw.ko files"
check modinfo-fails sh -c '! modinfo virthw'
check conf-gone test ! -e "$VIRTD_CONF"
# Everything on the root file system that was not there before the install,
# except what any boot or apt run writes, and DKMS's own signing key (made
# by its first build, kept for every later module: dkms's, not virthw's).
# (The test's own unit came after the list; /etc/.updated and /var/.updated
# are systemd's first-boot stamps; lost+found is mke2fs's.)
find / -xdev -mindepth 1 \( -path /tests -o -path /root -o -path /tmp -o -path /var/tmp -o -path /var/log \
	-o -path /lost+found -o -path /etc/.updated -o -path /var/.updated -o -name virtd-installed-test.service \
	-o -path /var/cache -o -path /var/lib/apt -o -path /var/lib/dpkg -o -path /var/lib/systemd \
	-o -path /var/lib/dbus -o -path '/var/lib/dkms/mok.*' -o -path /etc/ld.so.cache -o -path '/lib/modules/*/modules.*' \
	-o -path '/usr/lib/modules/*/modules.*' \) -prune -o -print 2>/dev/null | LC_ALL=C sort >"$LIB_TMP/files-after"
_new=$(LC_ALL=C comm -13 "$BEFORE" "$LIB_TMP/files-after")
if [ -z "$_new" ]; then
	pass nothing-left "$(wc -l <"$LIB_TMP/files-after") paths as before the install"
else
	fail nothing-left "$(echo "$_new" | wc -l) new: $(echo "$_new" | head -n 8 | tr '\n' ' ')"
fi
if mod_loaded virthw; then note "virthw is still loaded after the purge (its file is gone)"; fi

# --- KVM as the kernel has it without any configuration --------------------------------
virthw_unload
kvm_unload
: >"$LIB_TMP/empty-modprobe.conf"
if /usr/sbin/modprobe -C "$LIB_TMP/empty-modprobe.conf" "$KVM_VENDOR_MOD" 2>"$LIB_TMP/mp.err"; then
	kvm_params >"$LIB_TMP/params.defaults"
	kvm_unload
	check kvm-reload modprobe "$KVM_VENDOR_MOD"
	kvm_params >"$LIB_TMP/params.after"
	if cmp -s "$LIB_TMP/params.defaults" "$LIB_TMP/params.after" && [ -s "$LIB_TMP/params.after" ]; then
		pass kvm-defaults "$(wc -l <"$LIB_TMP/params.after") parameters as without configuration"
	else
		fail kvm-defaults "differ from the kernel's defaults: $(diff "$LIB_TMP/params.defaults" "$LIB_TMP/params.after" | grep '^[<>]' | head -n 6 | tr '\n' ' ')"
	fi
	[ "$KVM_HAS_VAL" = 1 ] && expect kvm-virt-at-load Y "$(kvm_param enable_virt_at_load)"
	check kvm-dev test -c /dev/kvm
else
	fail kvm-defaults "modprobe -C (no configuration) $KVM_VENDOR_MOD: $(cat "$LIB_TMP/mp.err")"
fi
