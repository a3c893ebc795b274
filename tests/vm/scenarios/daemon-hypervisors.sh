# Scenario: hypervisor profiles: a profile for the stand-in (foreignhv.ko) in /etc/virtd/profiles/ shows it loaded, exclusive, with the lock's holder; Mode.NAME= in virtd.conf forces shared, whose lock is granted at once with KVM kept and is adopted as shared by a restarted virtd (never refuses it); a broken profile file is named in the log and status while the rest works; a shared-mode profile's own KVM VM (a renamed kvm-vm holding the profile's device node open) is listed under it with its name, is no KVM VM to first-vm or vm_count, and makes an exclusive lock refuse or wait naming it.

PROFILES=/etc/virtd/profiles
FHV_PROFILE=$PROFILES/fhv-test.conf
BROKEN_PROFILE=$PROFILES/broken-test.conf
FHV_REASON="foreign-hv turns SVM on itself ($SCENARIO's profile)"

lock_setup || return 1
mkdir -p "$PROFILES"
# The stand-in's profile, as an administrator would write one.
cat >"$FHV_PROFILE" <<EOF
# written by the guest tests ($SCENARIO)
[Profile]
Description=the project's stand-in hypervisor
Modules=foreignhv
VersionModule=foreignhv
Devices=/dev/foreignhv
Processes=foreign-hv
Who=fhv-test fhv-other

[Mode]
Rule = any any exclusive $FHV_REASON
EOF
reload_ok() {	# reload_ok CHECK: virtctl reload succeeds
	if virtctl reload >"$LIB_TMP/reload.out" 2>&1; then
		pass "$1"
	else
		fail "$1" "virtctl reload exited $?: $(head -n 3 "$LIB_TMP/reload.out" | tr '\n' ';'); virtd: $(virtd_log_tail 3)"
	fi
}
# ctl_status: the human (short) view into $LIB_TMP/ctl.out.
ctl_status() { virtctl status >"$LIB_TMP/ctl.out" 2>&1; }
ctl_has() {	# ctl_has CHECK TEXT: the human view has a line with TEXT
	if grep -qF -- "$2" "$LIB_TMP/ctl.out"; then
		pass "$1" "$(grep -F -- "$2" "$LIB_TMP/ctl.out" | head -n 1 | sed 's/^ *//')"
	else
		fail "$1" "no '$2' in: $(tr '\n' ';' <"$LIB_TMP/ctl.out" | cut -c1-400)"
	fi
}

reload_ok reload-profile
status
HV_I=$(hv_index fhv-test)
if [ -z "$HV_I" ]; then
	fail profile-listed "no hypervisor fhv-test in status: $(grep '^hypervisors\.[0-9]*\.name' "$LIB_TMP/status.flat" | tr '\n' ';'); virtd: $(virtd_log_tail 3)"
	return 1
fi
pass profile-listed "hypervisors.$HV_I"
_ver=null
[ -r /sys/module/foreignhv/version ] && _ver=$(cat /sys/module/foreignhv/version)
expect_status loaded "hypervisors.$HV_I.loaded=true" "hypervisors.$HV_I.modules.0.name=foreignhv" \
	"hypervisors.$HV_I.modules.0.loaded=true" "hypervisors.$HV_I.devices.0.path=/dev/foreignhv" \
	"hypervisors.$HV_I.devices.0.present=true" "hypervisors.$HV_I.mode=exclusive" "hypervisors.$HV_I.mode_forced=false" \
	"hypervisors.$HV_I.mode_reason=$FHV_REASON" "hypervisors.$HV_I.version=$_ver"
_title=fhv-test
[ "$_ver" = null ] || _title="fhv-test $_ver"
expect no-holder "" "$(st "hypervisors.$HV_I.holders.0.who")" "holders before the lock"
expect no-profile-errors "" "$(st profile_errors.0.name)" "profile_errors"

# Held through a name of its Who=: the holder, in JSON and the human view.
lock_fhv_taken fhv-other || return 1
status
expect holder-who fhv-other "$(st "hypervisors.$HV_I.holders.0.who")" "the profile's holder"
expect holder-pid "$(st locks.0.pid)" "$(st "hypervisors.$HV_I.holders.0.pid")" "the holder's pid is the lock's"
expect holder-lock-pid "$LOCK_PID" "$(st "hypervisors.$HV_I.holders.0.pid")" "the holder is virtctl"
ctl_status
ctl_has human-held "$_title: loaded (foreignhv), mode exclusive, held by fhv-other (pid $LOCK_PID)"
# The reason whole with --full (the short view cuts it).
virtctl status --full >"$LIB_TMP/ctl.out" 2>&1
ctl_has human-reason "$FHV_REASON"
kill -TERM "$FHV_PID" 2>/dev/null
fhv_reap "$LOCK_PID"
if wait_for 30 nr_locks_is 0; then
	pass released "exit $FHV_RC"
else
	fail released "$(nr_locks) holders after virtctl lock ended ($FHV_RC): $(virtd_log_tail 3)"
fi
status
expect holder-gone "" "$(st "hypervisors.$HV_I.holders.0.who")" "holders after the lock"

# Forced in virtd.conf: shared, and the reason says where from.
virtd_conf boot "[Hypervisor]" "Mode.fhv-test=shared"
reload_ok reload-forced
status
HV_I=$(hv_index fhv-test)
expect forced-mode shared "$(st "hypervisors.$HV_I.mode")" "mode with Mode.fhv-test=shared"
expect forced-flag true "$(st "hypervisors.$HV_I.mode_forced")" "mode_forced"
case "$(st "hypervisors.$HV_I.mode_reason")" in
*Mode.fhv-test=*virtd.conf*) pass forced-reason "$(st "hypervisors.$HV_I.mode_reason")" ;;
*) fail forced-reason "reason '$(st "hypervisors.$HV_I.mode_reason")' names neither Mode.fhv-test= nor virtd.conf" ;;
esac
ctl_status
ctl_has human-forced "$_title: loaded (foreignhv), mode shared (forced)"

# Shared mode: granted at once, KVM kept (the policy holds, /dev/kvm there,
# a KVM VM runs meanwhile), the holder recorded as shared.
_t0=$(now_ms)
lock_start "$LIB_TMP/shared.out" --who=fhv-test -- cat
if lock_wait_taken "$LIB_TMP/shared.out" 30; then
	pass shared-taken "$(($(now_ms) - _t0)) ms"
	status
	expect shared-state "holds boot true" "$(st state) $(st applied_policy) $(st kvm.dev_kvm)" "state, policy, /dev/kvm"
	expect shared-lock true "$(st locks.0.shared)" "locks.0.shared"
	expect shared-holder "fhv-test true" "$(st "hypervisors.$HV_I.holders.0.who") $(st "hypervisors.$HV_I.holders.0.shared")" \
		"the profile's holder"
	check shared-vendor-loaded test -e "/sys/module/$KVM_VENDOR_MOD"
	if check shared-vm vm_start; then
		expect_virt shared-vm-on on
		check shared-vm-stop vm_stop
	fi
	ctl_status
	ctl_has human-shared "held by fhv-test (pid $LOCK_PID, shared)"
	check shared-logged grep -q "granted to fhv-test (pid $LOCK_PID) in shared mode, KVM kept: profile fhv-test" "$VIRTD_LOG"
	# virtd killed and started again while the shared holder runs (as
	# lock-restart does): the lock's metadata keeps the mode, so the holder
	# is adopted as shared: KVM stays loaded, boot keeps holding, KVM VMs run.
	_t_rs=$(now_ms)
	check shared-restart-kill virtd_kill
	if virtd_start shared-restart; then
		status
		expect shared-restart-state "holds boot true" "$(st state) $(st applied_policy) $(st kvm.dev_kvm)" \
			"state, policy, /dev/kvm after the restart"
		expect shared-restart-lock "fhv-test $LOCK_PID true" "$(st locks.0.who) $(st locks.0.pid) $(st locks.0.shared)" \
			"the adopted lock"
		expect shared-restart-holder "fhv-test true" \
			"$(st "hypervisors.$HV_I.holders.0.who") $(st "hypervisors.$HV_I.holders.0.shared")" "the profile's holder"
		check shared-restart-vendor-loaded test -e "/sys/module/$KVM_VENDOR_MOD"
		if check shared-restart-vm vm_start; then
			expect_virt shared-restart-vm-on on
			check shared-restart-vm-stop vm_stop
		fi
		ctl_status
		ctl_has human-restart-shared "held by fhv-test (pid $LOCK_PID, shared)"
		if grep -q "Adopted lock [0-9]* held by fhv-test (pid $LOCK_PID, shared mode)" "$VIRTD_LOG"; then
			pass shared-restart-logged "$(grep "Adopted lock" "$VIRTD_LOG" | head -n 1 | cut -c1-160)"
		else
			fail shared-restart-logged "no 'Adopted lock ... (pid $LOCK_PID, shared mode)' in virtd's log: $(virtd_log_tail 4)"
		fi
		pass shared-restart-time "the restart part took $(($(now_ms) - _t_rs)) ms"
	fi
	kill -TERM "$LOCK_PID" 2>/dev/null
	fhv_reap "$LOCK_PID"
	if wait_for 30 nr_locks_is 0; then
		pass shared-released "exit $FHV_RC"
	else
		fail shared-released "$(nr_locks) holders after virtctl lock ended ($FHV_RC): $(virtd_log_tail 3)"
	fi
	expect shared-after "holds boot" "$(st state) $(st applied_policy)" "state and policy after the shared lock"
else
	fail shared-taken "not taken in 30 s: $(tr '\n' ';' <"$LIB_TMP/shared.out"); virtd: $(virtd_log_tail 3)"
fi

# Under never a shared-mode hypervisor cannot have KVM: refused, saying what to change.
virtd_conf never "[Hypervisor]" "Mode.fhv-test=shared"
reload_ok reload-never
if wait_for 60 st_is applied_policy never; then
	virtctl lock --who=fhv-test -- true >"$LIB_TMP/never.out" 2>&1
	_rc=$?
	if [ "$_rc" -ne 0 ] && grep -q "fhv-test runs inside KVM (shared mode), and policy never keeps KVM unloaded" "$LIB_TMP/never.out" &&
		grep -q "Mode.fhv-test=exclusive" "$LIB_TMP/never.out"; then
		pass never-refused "exit $_rc: $(head -n 1 "$LIB_TMP/never.out")"
	else
		fail never-refused "exit $_rc: $(tr '\n' ';' <"$LIB_TMP/never.out")"
	fi
	expect never-no-holder 0 "$(nr_locks)" "holders after the refusal"
else
	fail never-applied "policy never not applied: $(st reason)"
fi
virtd_conf boot "[Hypervisor]" "Mode.fhv-test=shared"
reload_ok reload-boot-again
wait_for 60 st_is applied_policy boot
virtd_wait_state boot-again holds

# A broken profile: the reload still succeeds, the file and line are in the
# log and in status, and the good profile keeps its settings.
printf '[Profile]\nModules=nothing\n[Mode]\nRule = amd any sometimes why\n' >"$BROKEN_PROFILE"
reload_ok reload-broken
status
HV_I=$(hv_index fhv-test)
expect broken-name broken-test "$(st profile_errors.0.name)" "profile_errors"
_m=$(st profile_errors.0.message)
case "$_m" in
"$BROKEN_PROFILE:4: invalid Rule= 'amd any sometimes why' in [Mode] (bad mode)"*) pass broken-message "$_m" ;;
*) fail broken-message "'$_m' is not $BROKEN_PROFILE:4's bad mode" ;;
esac
if grep -qF "$BROKEN_PROFILE:4: invalid Rule=" "$VIRTD_LOG"; then
	pass broken-logged "$(grep -F "$BROKEN_PROFILE:4:" "$VIRTD_LOG" | head -n 1 | cut -c1-160)"
else
	fail broken-logged "no '$BROKEN_PROFILE:4: invalid Rule=' in virtd's log: $(virtd_log_tail 3)"
fi
expect broken-not-listed "" "$(hv_index broken-test)" "the broken profile among the hypervisors"
expect broken-rest "true shared" "$(st "hypervisors.$HV_I.loaded") $(st "hypervisors.$HV_I.mode")" "fhv-test next to the broken file"
expect broken-state holds "$(st state)" "virtd's state"
ctl_status
ctl_has human-broken "profile broken-test not used: $BROKEN_PROFILE:4:"

# A shared-mode hypervisor's own KVM VMs (as VirtualBox makes on Intel from
# 6.16): a VM made by a process of the profile's Processes= holding one of its
# Devices= open is the hypervisor's, shown under it with its name, and is no
# KVM VM to first-vm, the VM count or the refusals.  The stand-in process is
# kvm-vm under the profile's process name; its device a node with
# /dev/null's numbers.
_t_svm=$(now_ms)
rm -f "$BROKEN_PROFILE"
SVM_PROFILE=$PROFILES/svm-test.conf
SVM_DEV=/dev/svm-test
SVM_BIN=$LIB_TMP/FakeVBoxVM
cat >"$SVM_PROFILE" <<EOF
# written by the guest tests ($SCENARIO)
[Profile]
Description=a stand-in whose VMs run inside KVM
Devices=$SVM_DEV
Processes=FakeVBoxVM

[Mode]
Rule = any any exclusive forced shared in virtd.conf by $SCENARIO
EOF
rm -f "$SVM_DEV"
check svm-mknod mknod -m 0600 "$SVM_DEV" c "$((0x$(stat -L -c '%t' /dev/null)))" "$((0x$(stat -L -c '%T' /dev/null)))"
cp "$(command -v kvm-vm)" "$SVM_BIN"
virtd_conf first-vm "[Hypervisor]" "Mode.fhv-test=shared" "Mode.svm-test=shared"
reload_ok reload-svm
wait_for 60 st_is applied_policy first-vm
virtd_wait_state svm-first-vm holds
status
HV_I=$(hv_index svm-test)
expect svm-mode shared "$(st "hypervisors.$HV_I.mode")" "svm-test's mode (forced)"
bg_start "$LIB_TMP/svm-vm.out" "$SVM_BIN" --hold=600 --hold-open="$SVM_DEV" --comment=tiny-vm
SVM_PID=$BG_PID
if wait_for 30 grep -q '^kvm-vm: holding' "$LIB_TMP/svm-vm.out"; then
	pass svm-vm-made "pid $SVM_PID"
	if wait_status svm-vm-listed "hypervisors.$HV_I.vms.0.name" tiny-vm; then
		expect svm-vm-pid "$SVM_PID" "$(st "hypervisors.$HV_I.vms.0.pid")" "the hypervisor's VM's pid"
		expect svm-vm-count 0 "$(st vm_count)" "vm_count with only the hypervisor's VM"
		expect svm-vm-owner "svm-test $SVM_PID tiny-vm" "$(st vms.0.owner) $(st vms.0.pid) $(st vms.0.name)" \
			"the VM list's entry"
		expect svm-vm-state holds "$(st state)" "virtd's state (KVM turned it on for the VM)"
		check svm-vm-not-recorded test ! -e /run/virtd/hv-vms
		ctl_status
		ctl_has svm-human "VMs: tiny-vm (pid $SVM_PID)"
		ctl_has svm-human-count "VMs: 0"
		# A KVM VM next to it counts 1, although KVM's own count says 2.
		if check svm-kvm-vm vm_start; then
			wait_status svm-kvm-counted vm_count 1
			_o=$(st vms.0.owner)/$(st vms.1.owner)
			case "$_o" in
			kvm/svm-test | svm-test/kvm) pass svm-kvm-owners "$_o" ;;
			*) fail svm-kvm-owners "owners '$_o', expected kvm and svm-test" ;;
			esac
			check svm-kvm-vm-stop vm_stop
			wait_status svm-kvm-gone vm_count 0
		fi
		# An exclusive lock would break it: refused at once, naming it.
		virtctl lock --who=svm-other -- true >"$LIB_TMP/svm-lock.out" 2>&1
		_rc=$?
		if [ "$_rc" -ne 0 ] && grep -qF "svm-test VMs run inside KVM: tiny-vm (pid $SVM_PID)" "$LIB_TMP/svm-lock.out"; then
			pass svm-exclusive-refused "exit $_rc: $(head -n 1 "$LIB_TMP/svm-lock.out")"
		else
			fail svm-exclusive-refused "exit $_rc: $(tr '\n' ';' <"$LIB_TMP/svm-lock.out")"
		fi
		expect svm-no-holder 0 "$(nr_locks)" "holders after the refusal"
		# Waiting for it: the lock waits (KVM stays, the VM lives) and times out naming it.
		virtctl lock --who=svm-other --wait=1 -- true >"$LIB_TMP/svm-wait.out" 2>&1
		_rc=$?
		if [ "$_rc" -ne 0 ] && grep -qF "svm-test VMs run inside KVM: tiny-vm (pid $SVM_PID)" "$LIB_TMP/svm-wait.out"; then
			pass svm-wait-timeout "exit $_rc: $(head -n 1 "$LIB_TMP/svm-wait.out")"
		else
			fail svm-wait-timeout "exit $_rc: $(tr '\n' ';' <"$LIB_TMP/svm-wait.out")"
		fi
		check svm-wait-vm-alive kill -0 "$SVM_PID"
		check svm-wait-kvm-kept test -e "/sys/module/$KVM_VENDOR_MOD"
		wait_status svm-wait-holds state holds
	fi
else
	fail svm-vm-made "$(tr '\n' ';' <"$LIB_TMP/svm-vm.out")"
fi
kill -TERM "$SVM_PID" 2>/dev/null
wait "$SVM_PID" 2>/dev/null
wait_status svm-vm-gone "hypervisors.$HV_I.vms.0.pid" ""
_got="$(st state) $(st vm_count)"
if [ "$_got" = "holds 0" ]; then
	pass svm-after "holds, vm_count 0; the hypervisor's-VM part took $(($(now_ms) - _t_svm)) ms"
else
	fail svm-after "state and vm_count '$_got' after the hypervisor's VM, expected 'holds 0'"
fi

# A VM made with no descriptor left in any process, as vboxdrv makes its
# dummy VM on Intel from 6.16 (from the VM process's EMT thread, the
# descriptor closed at once): no /proc scan sees it, and KVM's create uevent
# names the thread.  kvm-vm --hide is the stand-in (the VM waits unreceived
# in a socket of its own).  The process opens the profile's node by another
# path, as from a chroot with its own /dev: told apart by the device number.
_t_hid=$(now_ms)
HID_DEV=$LIB_TMP/chroot-dev/svm-test
mkdir -p "${HID_DEV%/*}"
check hid-mknod mknod -m 0600 "$HID_DEV" c "$((0x$(stat -L -c '%t' "$SVM_DEV")))" "$((0x$(stat -L -c '%T' "$SVM_DEV")))"
bg_start "$LIB_TMP/hid-vm.out" "$SVM_BIN" --hold=600 --hold-open="$HID_DEV" --hide --comment=hidden-vm
HID_PID=$BG_PID
if wait_for 30 grep -q '^kvm-vm: holding' "$LIB_TMP/hid-vm.out"; then
	pass hid-vm-made "pid $HID_PID: $(grep -m1 'created vm' "$LIB_TMP/hid-vm.out")"
	_fds=$(for _l in /proc/"$HID_PID"/fd/*; do readlink "$_l"; done | grep -c 'kvm-vm')
	expect hid-no-fd 0 "$_fds" "kvm-vm descriptors in the process"
	if wait_status hid-vm-listed "hypervisors.$HV_I.vms.0.name" hidden-vm; then
		expect hid-vm-pid "$HID_PID" "$(st "hypervisors.$HV_I.vms.0.pid")" "the hidden VM's process"
		expect hid-vm-count "0 holds" "$(st vm_count) $(st state)" "vm_count and state with only the hidden VM"
	fi
	_re="KVM VM made inside the kernel for svm-test's VM hidden-vm (pid $HID_PID, thread [0-9]*)"
	if grep -q "$_re" "$VIRTD_LOG"; then
		pass hid-logged "$(grep -m1 "$_re" "$VIRTD_LOG" | cut -c1-200)"
	else
		fail hid-logged "no 'KVM VM made inside the kernel for svm-test's VM hidden-vm (pid $HID_PID, thread N)' in virtd's log: $(virtd_log_tail 3)"
	fi
	_thr=$(grep -m1 -o "pid $HID_PID, thread [0-9]*" "$VIRTD_LOG" | awk '{print $4}')
	if [ -n "$_thr" ] && [ "$_thr" != "$HID_PID" ]; then
		pass hid-thread "made by thread $_thr of $HID_PID"
	else
		fail hid-thread "thread '$_thr', expected another than the process $HID_PID"
	fi
	# KVM's count (2) includes it; virtd's does not.
	if check hid-kvm-vm vm_start; then
		wait_status hid-kvm-counted vm_count 1
		check hid-kvm-vm-stop vm_stop
		wait_status hid-kvm-gone vm_count 0
	fi
	# Killed and started again: the made VM is known from /run/virtd/hv-vms.
	check hid-file test -s /run/virtd/hv-vms
	check hid-restart-kill virtd_kill
	if virtd_start hid-restart; then
		wait_status hid-restart-listed "hypervisors.$HV_I.vms.0.name" hidden-vm
		expect hid-restart-count 0 "$(st vm_count)" "vm_count after the restart"
		if check hid-restart-kvm-vm vm_start; then
			wait_status hid-restart-kvm-counted vm_count 1
			check hid-restart-kvm-vm-stop vm_stop
		fi
	fi
else
	fail hid-vm-made "$(tr '\n' ';' <"$LIB_TMP/hid-vm.out")"
fi
kill -TERM "$HID_PID" 2>/dev/null
wait "$HID_PID" 2>/dev/null
wait_status hid-vm-gone "hypervisors.$HV_I.vms.0.pid" ""
wait_status hid-after vm_count 0
check hid-file-gone test ! -e /run/virtd/hv-vms
pass hid-time "the hidden-VM part took $(($(now_ms) - _t_hid)) ms"
rm -f "$SVM_PROFILE" "$SVM_DEV" "$SVM_BIN" "$HID_DEV"

rm -f "$BROKEN_PROFILE" "$FHV_PROFILE"
check stop virtd_stop
check unload foreignhv_unload
