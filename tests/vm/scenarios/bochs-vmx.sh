# Scenario (Bochs, Intel VMX): virthw's VMX state and preemption-timer caps, and KVM turning VMX on and off, in one boot.
#
# Runs in the machine of tests/vm/bochs/run-bochs.sh: one emulated Haswell
# (corei7_haswell_4770) whose TSC runs at Bochs's ips (100 MHz), booted with
# tsc_early_khz=ips/1000. Bochs reports IA32_VMX_MISC = 0x200401e0 (timer
# rate 0: one tick per TSC cycle) and IA32_FEATURE_CONTROL = 0x5 (locked,
# VMXON outside SMX allowed). Everything VMX is batched here because a Bochs
# boot costs minutes. Kept in this order: virthw alone first (VMX off), then
# KVM in each of the kernel's modes.

BX_VMX_MISC=0x00000000200401e0
# The TSC the harness promised the kernel; 100 MHz unless the command line says.
BX_TSC_KHZ=$(sed -n 's/.*tsc_early_khz=\([0-9]*\).*/\1/p' /proc/cmdline)
BX_TSC_KHZ=${BX_TSC_KHZ:-100000}
# TSC tolerance, 0.5%: with tsc_early_khz the kernel starts from the exact
# rate, and its later refinement (against the emulated HPET/PM timer, which
# Bochs derives from the same instruction count) may only move it by less
# than 1% - in practice it stays at 100.000 MHz. 0.5% still catches every
# wrong unit, a PIT-calibrated guess and the 5 GHz fallback, and leaves room
# for a refinement a few hundred ppm off.
BX_TSC_TOL_PPM=5000

if [ "$VENDOR" != intel ]; then
	skip vendor "bochs-vmx needs the Intel (Bochs) machine, this one is $VENDOR"
	return 0
fi

# hw_flat: `virtctl hw --json` as "path<TAB>value" lines in $LIB_TMP/hw.flat.
hw_flat() {
	virtctl hw --json >"$LIB_TMP/hw.json" 2>"$LIB_TMP/hw.err" || return 1
	json_flatten <"$LIB_TMP/hw.json" >"$LIB_TMP/hw.flat"
}
# jget PATH: one value from the last hw_flat (quotes stripped); fails when absent.
jget() {
	awk -F'\t' -v k="$1" '$1 == k { v = $2; gsub(/"/, "", v); print v; f = 1; exit } END { exit !f }' \
		"$LIB_TMP/hw.flat"
}
is_uint() { case $1 in '' | *[!0-9]*) return 1 ;; esac; }
# within CHECK GOT WANT TOL WHAT: PASS when |GOT - WANT| <= TOL (integers).
within() {
	if ! is_uint "$2"; then
		fail "$1" "$5: '$2' is not a number"
		return 1
	fi
	_d=$(($2 - $3))
	[ "$_d" -lt 0 ] && _d=$((-_d))
	if [ "$_d" -le "$4" ]; then
		pass "$1" "$5 $2 (want $3 +/- $4)"
	else
		fail "$1" "$5 $2, want $3 +/- $4"
		return 1
	fi
}
# vmx_on CHECK 0|1: the one CPU's VMX state from virthw, and why it should be so.
vmx_on() {
	if [ "$2" = 1 ]; then expect_all_on "$1"; else expect_none_on "$1"; fi
}
# vm_cycle PREFIX ON_AFTER: a VM turns VMX on; after it is gone VMX is ON_AFTER.
vm_cycle() {
	check "$1-vm-create" vm_start || return 1
	vmx_on "$1-vm-on" 1
	check "$1-vm-destroy" vm_stop || return 1
	vmx_on "$1-vm-closed" "$2"
}

# dmesg_since_mark CHECK: like lib.sh's dmesg_clean, but only taint bits that
# appeared after dmesg_mark count. On 6.12 the kernel WARNs at boot about
# Bochs's Haswell CPUID (parse_legacy in topology_common.c: leaf 1's logical
# CPU count below leaf 4's core count), so the kernel is tainted W before any
# test; dmesg_clean would blame every run for it.
dmesg_since_mark() {
	dmesg >"$LIB_TMP/dmesg.after"
	_new=$(awk 'NR == FNR { seen[$0] = 1; next } !($0 in seen)' "$LIB_TMP/dmesg.before" "$LIB_TMP/dmesg.after")
	_bad=$(printf '%s\n' "$_new" | grep -E 'WARNING|BUG|Oops|general protection|[Ll]eak|Call Trace|UBSAN|KASAN|refcount_t|list_(add|del) corruption|double free|use-after-free|segfault' | head -n 3)
	_taint=$(cat /proc/sys/kernel/tainted)
	# O (out-of-tree module, 4096) and E (unsigned module, 8192) are expected.
	_new_taint=$((_taint & ~DMESG_TAINT_BEFORE & ~(4096 | 8192)))
	if [ -n "$_bad" ]; then
		fail "$1" "kernel log: $_bad"
	elif [ "$_new_taint" -ne 0 ]; then
		fail "$1" "kernel newly tainted $_new_taint (now $_taint, was $DMESG_TAINT_BEFORE)"
	else
		pass "$1" "taint $_taint, was $DMESG_TAINT_BEFORE at boot"
	fi
}

modules_reset || fail reset "could not unload virthw/KVM: $(tr '\n' ';' </proc/modules)"
need_virthw || return 1
need_prog virtctl || return 1
need_prog kvm-vm || return 1
dmesg_mark
if [ "$DMESG_TAINT_BEFORE" -ne 0 ]; then
	note "kernel tainted $DMESG_TAINT_BEFORE at boot: $(dmesg | grep -m1 -E 'WARNING|BUG' | cut -c1-200)"
fi
check virthw-load virthw_load || return 1

# --- virthw alone: VMX present, allowed by firmware, off ------------------------

if virtctl hw >"$LIB_TMP/hw.txt" 2>&1; then
	sed 's/^/VIRTD-NOTE: bochs-vmx: | /' "$LIB_TMP/hw.txt"
	# "        Feature: VMX (Intel)" then a table: CPU ONLINE FEATURE FIRMWARE ON FW-MSR
	if grep -q '^ *Feature: VMX' "$LIB_TMP/hw.txt" &&
		awk '$1 == "0" && $2 == "yes" && $3 == "vmx" && $4 == "enabled" && $5 == "no" { f = 1 } END { exit !f }' \
			"$LIB_TMP/hw.txt"; then
		pass hw-text "feature VMX, CPU 0 vmx enabled, on=no"
	else
		fail hw-text "want 'Feature: VMX' and CPU 0 'yes vmx enabled no': $(tr '\n' ';' <"$LIB_TMP/hw.txt" | tr -s ' ')"
	fi
else
	fail hw-text "virtctl hw failed: $(tr '\n' ' ' <"$LIB_TMP/hw.txt")"
fi

if ! hw_flat; then
	fail hw-json "virtctl hw --json failed: $(cat "$LIB_TMP/hw.err")"
	return 1
fi
expect feature vmx "$(jget caps.feature)" "caps.feature"
expect cpu0-feature vmx "$(jget cpus.0.feature)" "cpus[0].feature"
expect cpu0-firmware true "$(jget cpus.0.firmware_enabled)" "cpus[0].firmware_enabled"
fw=$(jget cpus.0.fw_msr)
case $fw in 0x[0-9a-fA-F]*) ;; *) fw=0 ;; esac
if [ $((fw & 5)) -eq 5 ]; then
	pass cpu0-fw-msr "IA32_FEATURE_CONTROL $fw: locked, VMXON outside SMX allowed"
else
	fail cpu0-fw-msr "IA32_FEATURE_CONTROL '$fw': want bits 0 (lock) and 2 (VMXON outside SMX)"
fi
expect off-before-kvm false "$(jget cpus.0.virt_on)" "cpus[0].virt_on with no KVM loaded"
vmx_on off-before-kvm-all 0

# Preemption-timer figures.
expect caps-vmx-misc "$BX_VMX_MISC" "$(jget caps.vmx_misc)" "IA32_VMX_MISC as Bochs emulates it"
rate=$(jget caps.timer_rate)
expect caps-timer-rate 0 "$rate" "IA32_VMX_MISC[4:0]"
tsc=$(jget caps.tsc_khz)
within caps-tsc-khz "$tsc" "$BX_TSC_KHZ" $((BX_TSC_KHZ * BX_TSC_TOL_PPM / 1000000)) "TSC kHz"
expect caps-pin-control true "$(jget caps.timer_pin_control)" "PIN_BASED_VMX_PREEMPTION_TIMER allowed-1"
expect caps-no-erratum false "$(jget caps.timer_erratum)" "signature $(jget caps.cpuid_signature) on KVM's broken-timer list"
max=$(jget caps.timer_max_delay_ns)
# 2^32 ticks at the nominal 100 MHz = 42.949672960 s; the same relative
# tolerance as the TSC, since the delay is inversely proportional to it.
nominal=$((4294967296 * 1000000 / BX_TSC_KHZ))
within caps-max-delay "$max" "$nominal" $((nominal / 1000000 * BX_TSC_TOL_PPM)) "max delay ns"
# And exactly 2^(32+rate) TSC cycles at the TSC the module reported (+/- 1 ns
# of rounding).
if is_uint "$tsc" && [ "$tsc" -gt 0 ] && is_uint "$rate" && [ "$rate" -le 8 ]; then
	within caps-max-delay-exact "$max" $(((4294967296 << rate) * 1000000 / tsc)) 1 "max delay ns from tsc_khz=$tsc rate=$rate:"
else
	fail caps-max-delay-exact "cannot check: tsc_khz '$tsc', timer_rate '$rate'"
fi

# --- KVM: kvm_intel's preemption timer, then VMX on and off by the kernel's mode ---

if kvm_has_virt_at_load; then
	# 6.12 default: kvm_intel turns VMX on as it loads and keeps it on.
	note "kvm has enable_virt_at_load: default first, then =0"
	if check kvm-load kvm_load; then
		expect preemption-timer Y "$(cat /sys/module/kvm_intel/parameters/preemption_timer 2>&1)"
		expect virt-at-load-param Y "$(kvm_param enable_virt_at_load)"
		vmx_on at-load-on 1
		vm_cycle at-load 1
		check kvm-unload kvm_unload && vmx_on at-load-unloaded 0
	fi
	# enable_virt_at_load=0: 6.1's on-demand behaviour.
	if check kvm-load-0 kvm_load enable_virt_at_load=0; then
		expect virt-at-load-param-0 N "$(kvm_param enable_virt_at_load)"
		vmx_on on-demand-off 0
		vm_cycle on-demand 0
		check kvm-unload-0 kvm_unload && vmx_on on-demand-unloaded 0
	fi
else
	# 6.1: VMX on only while a VM exists.
	note "kvm has no enable_virt_at_load: on demand"
	if check kvm-load kvm_load; then
		expect preemption-timer Y "$(cat /sys/module/kvm_intel/parameters/preemption_timer 2>&1)"
		vmx_on on-demand-off 0
		vm_cycle on-demand 0
		check kvm-unload kvm_unload && vmx_on on-demand-unloaded 0
	fi
fi

check virthw-unload virthw_unload
dmesg_since_mark dmesg
