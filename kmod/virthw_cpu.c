// SPDX-License-Identifier: GPL-2.0
/* Per-CPU virtualization state, read on the CPU it describes. */

#include <linux/bits.h>
#include <linux/cpumask.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/special_insns.h>

#include "virthw_compat.h"
#include "virthw_internal.h"

#ifndef CONFIG_X86
#error "virthw reads x86 VMX/SVM state and builds only for x86"
#endif

/*
 * Raw CPUID bits, not boot_cpu_has(): the kernel clears X86_FEATURE_VMX
 * when firmware left VMX disabled, and that is exactly the case a user
 * needs to be told about.
 */
#define VIRTHW_CPUID1_ECX_VMX		BIT(5)
#define VIRTHW_CPUIDX_ECX_SVM		BIT(2)
#define VIRTHW_CPUIDX_LEAF_SVM		0x80000001U

/* Named here because the kernel moved and renamed it between releases. */
#define VIRTHW_VM_CR_SVMDIS		BIT_ULL(4)

#define VIRTHW_FEAT_CTL_VMX_OK \
	(FEAT_CTL_LOCKED | FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX)

/* Feature of the CPU this runs on; callers keep it from migrating. */
enum virthw_feature virthw_cpu_feature_here(void)
{
	switch (boot_cpu_data.x86_vendor) {
	case X86_VENDOR_INTEL:
	case X86_VENDOR_CENTAUR:
	case X86_VENDOR_ZHAOXIN:
		if (cpuid_eax(0) >= 1 && (cpuid_ecx(1) & VIRTHW_CPUID1_ECX_VMX))
			return VIRTHW_FEATURE_VMX;
		break;
	case X86_VENDOR_AMD:
	case X86_VENDOR_HYGON:
		if (cpuid_eax(0x80000000U) >= VIRTHW_CPUIDX_LEAF_SVM &&
		    (cpuid_ecx(VIRTHW_CPUIDX_LEAF_SVM) & VIRTHW_CPUIDX_ECX_SVM))
			return VIRTHW_FEATURE_SVM;
		break;
	default:
		break;
	}
	return VIRTHW_FEATURE_NONE;
}

/*
 * Runs in IPI context on the target CPU.  Every MSR is read with the _safe
 * variant: emulators and some hypervisors do not implement them, and a #GP
 * here must become "unknown", not an oops.
 */
static void virthw_cpu_read_here(void *arg)
{
	struct virthw_cpu_state *st = arg;
	u64 val;

	st->feature = virthw_cpu_feature_here();

	switch (st->feature) {
	case VIRTHW_FEATURE_VMX:
		if (!rdmsrq_safe(MSR_IA32_FEAT_CTL, &val)) {
			st->fw_msr_valid = true;
			st->fw_msr = val;
			st->fw_enabled = (val & VIRTHW_FEAT_CTL_VMX_OK) ==
					 VIRTHW_FEAT_CTL_VMX_OK;
		}
		st->virt_on = !!(__read_cr4() & X86_CR4_VMXE);
		break;
	case VIRTHW_FEATURE_SVM:
		if (!rdmsrq_safe(MSR_VM_CR, &val)) {
			st->fw_msr_valid = true;
			st->fw_msr = val;
			st->fw_enabled = !(val & VIRTHW_VM_CR_SVMDIS);
		}
		if (!rdmsrq_safe(MSR_EFER, &val))
			st->virt_on = !!(val & EFER_SVME);
		break;
	default:
		break;
	}
}

/*
 * Fill @st for @cpu.  The caller keeps @cpu from going away: it holds
 * cpus_read_lock(), or it is a hotplug callback for @cpu.  An offline CPU
 * cannot be asked anything, so only its number and state are reported.
 */
int virthw_cpu_read(unsigned int cpu, struct virthw_cpu_state *st)
{
	int ret;

	memset(st, 0, sizeof(*st));
	st->id = cpu;
	if (!cpu_online(cpu))
		return 0;

	ret = smp_call_function_single(cpu, virthw_cpu_read_here, st, 1);
	if (ret)
		return ret;
	st->online = true;
	return 0;
}
