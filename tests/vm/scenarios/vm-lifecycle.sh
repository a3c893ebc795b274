# Scenario: virthw's per-CPU state across a KVM VM's life (no VM: off; VM: on everywhere; closed: off), plus features, firmware, caps.
# On kernels with kvm.enable_virt_at_load, kvm is loaded with it off, so that
# every kernel shows 6.1's on-demand behaviour (virt-at-load.sh covers the default).

modules_reset || fail reset "could not unload virthw/KVM: $(tr '\n' ';' </proc/modules)"
check kvm-load kvm_load_on_demand || return 1
check dev-kvm test -c /dev/kvm
have_virthw=0
if need_virthw && check virthw-load virthw_load; then
	have_virthw=1
fi
command -v virtctl >/dev/null || { need_prog virtctl; have_virthw=0; }
n=$(nr_online)
note "$n CPUs online, vendor $VENDOR, kvm.enable_virt_at_load=$(kvm_param enable_virt_at_load || echo absent)"

if [ "$have_virthw" = 1 ]; then
	if cpus=$(hw_cpus); then
		expect features "$n" "$(echo "$cpus" | awk -v f="$FEATURE" '$2 == 1 && $3 == f' | wc -l)" "feature=$FEATURE: $(echo "$cpus" | tr '\n' ';')"
		expect firmware "$n" "$(echo "$cpus" | awk '$2 == 1 && $4 == 1' | wc -l)" "firmware enabled: $(echo "$cpus" | tr '\n' ';')"
	else
		fail features "virtctl hw --json failed: $(cat "$LIB_TMP/hw.err")"
	fi
	tsc=$(json_flatten <"$LIB_TMP/hw.json" | awk -F'\t' '$1 ~ /(^|\.)tsc_khz$/ { print $2; exit }')
	if [ -n "$tsc" ] && [ "$tsc" -gt 0 ] 2>/dev/null; then
		pass caps-tsc "tsc_khz=$tsc"
	else
		fail caps-tsc "no non-zero tsc_khz in virtctl hw --json: $(head -c 300 "$LIB_TMP/hw.json")"
	fi
	expect_none_on before-vm
fi
oracle oracle-before-vm 0

if check vm-create vm_start; then
	[ "$have_virthw" = 1 ] && expect_all_on during-vm
	oracle oracle-during-vm "$n"
	check vm-destroy vm_stop
	[ "$have_virthw" = 1 ] && expect_none_on after-vm
	oracle oracle-after-vm 0
fi

virthw_available && check virthw-unload virthw_unload
check kvm-unload kvm_unload
