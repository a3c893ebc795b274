# tests/vm/vbox/guest-lib.sh: the guest side's VirtualBox helpers, shared by the scenarios vbox-lock and vbox-demo.
#
# tests/vm/vbox/run.sh puts it into the additions as /vbox-test/lib.sh; a
# scenario sources it first.  It needs the guest's lib.sh (pass, fail,
# wait_for, ...), which the scenario runner has loaded already.

VBOX_ADD=/vbox-test
VBOX_ROOT=/vbox
VM_NAME=tiny
MARKER='VIRTD-VBOX-MARKER: the tiny VM booted'

if [ ! -f "$VBOX_ADD/modules.order" ]; then
	fail vbox-present "no $VBOX_ADD/modules.order: boot this scenario with tests/vm/vbox/run.sh"
	return 1
fi
HO_PROGS="$VBOX_ROOT/usr/lib/virtualbox/VBoxHeadless $VBOX_ROOT/usr/lib/virtualbox/VirtualBoxVM $VBOX_ROOT/usr/lib/virtualbox/VBoxSDL"

# vbox USER CMD...: CMD chrooted in the VirtualBox root, as USER (root or
# the vboxusers member), with that user's HOME.  setpriv by its path: busybox
# chroot would run its own setpriv applet, which knows no --reuid.
vbox() {
	_u=$1
	shift
	if [ "$_u" = root ]; then
		HOME=/root chroot "$VBOX_ROOT" "$@"
	else
		HOME=/home/$_u chroot "$VBOX_ROOT" /usr/bin/setpriv --reuid="$_u" --regid=vboxusers --init-groups -- "$@"
	fi
}
# vbox_mount: the disk's root at /vbox with the kernel's file systems in it.
vbox_mount() {
	while read -r _m; do
		grep -q "^${_m%.ko} " /proc/modules || insmod "$VBOX_ADD/$_m" || return 1
	done <"$VBOX_ADD/modules.order"
	wait_for 10 test -b /dev/vda || { echo "no /dev/vda"; return 1; }
	mkdir -p "$VBOX_ROOT"
	mount -t ext4 /dev/vda "$VBOX_ROOT" || return 1
	mount -t proc proc "$VBOX_ROOT/proc" && mount -t sysfs sysfs "$VBOX_ROOT/sys" &&
		mount --bind /dev "$VBOX_ROOT/dev" && mount -t tmpfs -o mode=1777 tmpfs "$VBOX_ROOT/tmp" &&
		mount -t tmpfs tmpfs "$VBOX_ROOT/run"
}
# vboxdrv_load: Debian's udev rule for the nodes, then the driver.
vboxdrv_load() {
	mkdir -p /run/udev/rules.d
	cp "$VBOX_ROOT/usr/lib/udev/rules.d/60-virtualbox-dkms.rules" /run/udev/rules.d/ &&
		udevadm control --reload && insmod "$VBOX_ADD/vboxdrv.ko" &&
		udevadm settle --timeout=30 && test -c /dev/vboxdrv && test -c /dev/vboxdrvu
}
# vm_create USER: the tiny VM, registered for USER: the boot sector's disk
# as VDI on IDE, COM1 into $VM_BASE/$VM_NAME.serial, nothing else.
vm_create() {
	_h=/root
	[ "$1" = root ] || _h=/home/$1
	_b=$_h/vms
	cp "$VBOX_ADD/disk.img" "$VBOX_ROOT$_h/disk.img" &&
		vbox "$1" VBoxManage createvm --name "$VM_NAME" --ostype Other --basefolder "$_b" --register &&
		vbox "$1" VBoxManage modifyvm "$VM_NAME" --memory 8 --vram 1 --boot1 disk --boot2 none \
			--boot3 none --boot4 none --nic1 none --audio-driver none --usb-ohci off \
			--uart1 0x3f8 4 --uart-mode1 file "$_b/$VM_NAME.serial" &&
		vbox "$1" VBoxManage convertfromraw "$_h/disk.img" "$_b/$VM_NAME.vdi" --format VDI &&
		vbox "$1" VBoxManage storagectl "$VM_NAME" --name ide --add ide &&
		vbox "$1" VBoxManage storageattach "$VM_NAME" --storagectl ide --port 0 --device 0 \
			--type hdd --medium "$_b/$VM_NAME.vdi"
}
vm_home() { if [ "$1" = root ]; then echo /root; else echo "/home/$1"; fi; }
serial_of() { echo "$VBOX_ROOT$(vm_home "$1")/vms/$VM_NAME.serial"; }
vboxlog_of() { echo "$VBOX_ROOT$(vm_home "$1")/vms/$VM_NAME/Logs/VBox.log"; }
marker_in() { grep -q "$MARKER" "$1" 2>/dev/null; }

# refused CHECK USER OUT RC: a start of the tiny VM (VBoxHeadless or
# VBoxManage startvm, output in OUT, exit status RC) was refused with
# VERR_SVM_IN_USE: on its output and in the VM's VBox.log, and the VM printed
# nothing.  VBoxHeadless 7.2 exits 0 even then (its exit status is not
# judged, only reported).
refused() {
	_log=$(vboxlog_of "$2")
	if ! grep -q 'VERR_SVM_IN_USE' "$3"; then
		fail "$1" "exit $4, no VERR_SVM_IN_USE on its output: $(grep -i 'error\|VERR_' "$3" | head -n 3 | tr '\n' ';')"
	elif ! grep -q 'VERR_SVM_IN_USE' "$_log" 2>/dev/null; then
		fail "$1" "exit $4, no VERR_SVM_IN_USE in $_log: $(grep -h 'VERR_' "$_log" 2>/dev/null | head -n 3 | tr '\n' ';')"
	elif marker_in "$(serial_of "$2")"; then
		fail "$1" "the tiny VM printed its marker although the start was refused"
	else
		pass "$1" "exit $4: $(grep -m1 'VERR_SVM_IN_USE' "$3" | cut -c1-160)"
	fi
}
# vbox_idle: no VBoxSVC and no XPCOM IPC daemon left from the last client.
# VBoxSVC exits a few seconds after its last client; a client that connects
# while it shuts down gets "Failed to get VirtualBox object
# (rc=NS_ERROR_FAILURE)": every start waits for the old one to be gone
# (and so pays for a fresh VBoxSVC, the same for every figure).
vbox_running() {
	for _d in /proc/[0-9]*; do
		case "$(cat "$_d/comm" 2>/dev/null)" in
		VBoxSVC | VBoxXPCOMIPCD) return 0 ;;
		esac
	done
	return 1
}
vbox_gone() { ! vbox_running; }
vbox_idle() { wait_for 60 vbox_gone || note "VBoxSVC still running after 60 s"; }
# headless_alone CHECK: VBoxHeadless without the lock must be refused.
headless_alone() {
	vbox_idle
	rm -f "$(serial_of root)"
	# shellcheck disable=SC2016 # expanded by the inner shell
	timeout 120 sh -c 'HOME=/root exec chroot "$1" VBoxHeadless --startvm "$2"' sh "$VBOX_ROOT" "$VM_NAME" \
		</dev/null >"$LIB_TMP/headless.out" 2>&1
	refused "$1" root "$LIB_TMP/headless.out" $?
}
# marker_wait CHECK USER T0: the marker appears within 90 s; MARKER_MS is
# the time from T0 (now_ms) to the first poll that saw it.
marker_wait() {
	_f=$(serial_of "$2")
	_i=0
	while [ "$_i" -lt 900 ]; do
		if marker_in "$_f"; then
			MARKER_MS=$(($(now_ms) - $3))
			pass "$1" "marker ${MARKER_MS} ms after the request"
			return 0
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	MARKER_MS=""
	fail "$1" "no marker in $_f within 90 s; VBox.log: $(grep -h 'VERR_\|Guru\|error' "$(vboxlog_of "$2")" 2>/dev/null | head -n 3 | tr '\n' ';')"
	return 1
}
vm_state() { vbox "$1" VBoxManage showvminfo "$VM_NAME" --machinereadable 2>/dev/null | sed -n 's/^VMState="\(.*\)"$/\1/p'; }
vm_state_is() { [ "$(vm_state "$1")" = "$2" ]; }
# vbox_user NAME: a user in the root's vboxusers group (not root), with a home.
vbox_user() {
	grep -q "^$1:" "$VBOX_ROOT/etc/passwd" && return 0
	grep -q '^vboxusers:' "$VBOX_ROOT/etc/group" || { echo "no group vboxusers in the root"; return 1; }
	echo "$1:x:1000:1000::/home/$1:/bin/sh" >>"$VBOX_ROOT/etc/passwd" &&
		echo "$1:x:1000:" >>"$VBOX_ROOT/etc/group" &&
		awk -F: -v OFS=: -v u="$1" '$1 == "vboxusers" { $4 = ($4 == "" ? u : $4 "," u) } 1' \
			"$VBOX_ROOT/etc/group" >"$LIB_TMP/group" && cat "$LIB_TMP/group" >"$VBOX_ROOT/etc/group" &&
		mkdir -p "$VBOX_ROOT/home/$1" && chown 1000:1000 "$VBOX_ROOT/home/$1"
}
# vm_proc_uid: the real uid of the running VM process (VBoxHeadless), empty
# when there is none.
vm_proc_uid() {
	for _d in /proc/[0-9]*; do
		[ "$(cat "$_d/comm" 2>/dev/null)" = VBoxHeadless ] || continue
		awk '$1 == "Uid:" { print $2; exit }' "$_d/status"
		return 0
	done
}
# vm_poweroff CHECK USER PID: VBoxManage controlvm poweroff; PID (the
# process that ran the VM, or its launcher) exits within 60 s.
vm_poweroff() {
	vbox "$2" VBoxManage controlvm "$VM_NAME" poweroff >"$LIB_TMP/poweroff.out" 2>&1 ||
		{ fail "$1" "controlvm poweroff: $(tr '\n' ';' <"$LIB_TMP/poweroff.out")"; kill -KILL "$3" 2>/dev/null; return 1; }
	if fhv_reap "$3" 60; then
		pass "$1" "exit $FHV_RC"
	else
		fail "$1" "pid $3 still there 60 s after the power-off"
		kill -KILL "$3" 2>/dev/null
		return 1
	fi
}
# handoff_profile: /etc/virtd/profiles/virtualbox.conf, the shipped profile
# with HandOffPrograms= naming the programs as they are here, inside the
# chroot (an administrator's copy of the same name wins over the shipped
# one).  0, or 1 with the reason on stdout.
handoff_profile() {
	_shipped=""
	for _d in /usr/local/share/virtd/profiles /usr/share/virtd/profiles; do
		[ -f "$_d/virtualbox.conf" ] && { _shipped=$_d/virtualbox.conf; break; }
	done
	if [ -z "$_shipped" ] || ! grep -q '^HandOffPrograms=' "$_shipped"; then
		echo "no shipped virtualbox.conf with HandOffPrograms= (looked in /usr/local/share and /usr/share)"
		return 1
	fi
	mkdir -p /etc/virtd/profiles
	sed "s|^HandOffPrograms=.*|HandOffPrograms=$HO_PROGS|" "$_shipped" >/etc/virtd/profiles/virtualbox.conf
}
