# Scenario: the daemon image's own plumbing, without virtd: system bus, udevd relaying KVM's uevents, kmod honouring /run/modprobe.d.

need_prog dbus-daemon && need_prog udevadm || return 1
check bus-up bus_up || return 1
check udev-up udev_up || return 1
modules_reset || fail reset "could not unload virthw/KVM"
rm -f "$VIRTD_DROPIN"

# kmod's modprobe (not busybox's) reads /run/modprobe.d.
check modprobe-is-kmod sh -c '/usr/sbin/modprobe --version | grep -q "^kmod version"'
mkdir -p /run/modprobe.d
echo "install $KVM_VENDOR_MOD /bin/false" >/run/modprobe.d/virtd-test-block.conf
/usr/sbin/modprobe "$KVM_VENDOR_MOD" >/dev/null 2>&1
expect blocked-modprobe-fails 1 "$?" "modprobe $KVM_VENDOR_MOD exit with an install /bin/false line"
check blocked-not-loaded test ! -e "/sys/module/$KVM_VENDOR_MOD"
rm -f /run/modprobe.d/virtd-test-block.conf
# kmod loads the blocked module's dependencies (kvm) before it runs the
# install command instead of the module itself: start over.
kvm_unload
echo "options kvm enable_virt_at_load=0" >/run/modprobe.d/virtd-test-opt.conf
check modprobe-vendor /usr/sbin/modprobe "$KVM_VENDOR_MOD"
if kvm_has_virt_at_load; then
	expect dropin-options N "$(kvm_param enable_virt_at_load)" "kvm.enable_virt_at_load from /run/modprobe.d"
fi
rm -f /run/modprobe.d/virtd-test-opt.conf

# KVM's VM uevents go through udevd to the udev netlink group, where
# sd_device_monitor listens.
bg_start "$LIB_TMP/udev-monitor.out" udevadm monitor --udev --property --subsystem-match=misc
MON=$BG_PID
wait_for 10 grep -q 'UDEV - the event which udev sends' "$LIB_TMP/udev-monitor.out"
if check vm-create vm_start; then
	check vm-destroy vm_stop
	if wait_for 10 grep -q '^EVENT=destroy' "$LIB_TMP/udev-monitor.out"; then
		pass udev-kvm-events "$(grep -c '^EVENT=' "$LIB_TMP/udev-monitor.out") KVM events via udevd"
	else
		fail udev-kvm-events "no EVENT=destroy from udevadm monitor --udev: $(tr '\n' ';' <"$LIB_TMP/udev-monitor.out" | cut -c1-300)"
	fi
	grep -q '^EVENT=create' "$LIB_TMP/udev-monitor.out" && pass udev-kvm-create || fail udev-kvm-create "no EVENT=create"
fi
kill "$MON" 2>/dev/null
expect dev-kvm-group kvm "$(stat -c %G /dev/kvm 2>/dev/null)" "udev rule 50-udev-default: /dev/kvm group"
check unprivileged-user su -s /bin/sh nobody -c 'test "$(id -u)" = 65534'
kvm_unload
