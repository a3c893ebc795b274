# Scenario: virthw's per-CPU state across a KVM VM's life (no VM: off; VM: on everywhere; closed: off), plus features, firmware, caps.
# On kernels with kvm.enable_virt_at_load, kvm is loaded with it off, so that
# every kernel shows the same on-demand behaviour (virt-at-load.sh covers the default).

modules_reset || fail reset "could not unload virthw/KVM: $(cat /proc/modules | tr '\n' ';')"
if [ -e /sys/module/kvm ] || modinfo -F parm kvm | grep -q '^enable_virt_at_load:'; then
	params=enable_virt_at_load=0
else
	params=
fi
# shellcheck disable=SC2086 # empty or one word
check kvm-load kvm_load $params || return 1
check dev-kvm test -c /dev/kvm
if virthw_available; then
	have_virthw=1
	check virthw-load virthw_load
else
	have_virthw=0
	fail virthw-load "virthw.ko is not in this image (build-kmod.sh failed?)"
fi
n=$(nr_online)
note "$n CPUs online, vendor $VENDOR, kvm params: ${params:-none}"

# Independent view through /dev/cpu/N/msr (EFER.SVME); AMD only.
oracle() {	# oracle CHECK WANT_COUNT
	if [ "$VENDOR" != amd ]; then
		skip "$1" "no MSR oracle for $VENDOR"
	elif got=$(svme_count); then
		expect "$1" "$2" "$got" "CPUs with EFER.SVME"
	else
		fail "$1" "could not read EFER through /dev/cpu/*/msr"
	fi
}

if [ "$have_virthw" = 1 ]; then
	cpus=$(hw_cpus)
	expect features "$n" "$(echo "$cpus" | awk -v f="$FEATURE" '$2 == 1 && $3 == f' | wc -l)" "feature=$FEATURE: $cpus"
	expect firmware "$n" "$(echo "$cpus" | awk '$2 == 1 && $4 == 1' | wc -l)" "firmware enabled: $cpus"
	if virtctl hw --json >/tmp/caps.json 2>&1; then
		tsc=$(json_flatten </tmp/caps.json | awk -F'\t' '$1 ~ /(^|\.)tsc_khz$/ { print $2; exit }')
		if [ -n "$tsc" ] && [ "$tsc" -gt 0 ] 2>/dev/null; then
			pass caps-tsc "tsc_khz=$tsc"
		else
			fail caps-tsc "no non-zero tsc_khz in virtctl hw --json"
		fi
	else
		fail caps-tsc "virtctl hw --json failed: $(tail -n 2 /tmp/caps.json)"
	fi
	expect_none_on before-vm
fi
oracle oracle-before-vm 0

if check vm-create vm_start; then
	[ "$have_virthw" = 1 ] && expect_all_on during-vm
	oracle oracle-during-vm "$n"
	vm_stop
	pass vm-destroy
	[ "$have_virthw" = 1 ] && expect_none_on after-vm
	oracle oracle-after-vm 0
fi

[ "$have_virthw" = 1 ] && check virthw-unload virthw_unload
check kvm-unload kvm_unload
