// SPDX-License-Identifier: GPL-2.0
/* VMX preemption timer capabilities and their arithmetic. */

#include <linux/bits.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/kernel.h>
#include <linux/limits.h>
#include <linux/math64.h>
#include <linux/overflow.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/time64.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/tsc.h>

#include "virthw_compat.h"
#include "virthw_internal.h"

/* Bits of the VMX capability MSRs (SDM vol. 3, appendix A). */
#define VIRTHW_VMX_BASIC_TRUE_CTLS		BIT_ULL(55)
#define VIRTHW_VMX_MISC_RATE		GENMASK_ULL(4, 0)
#define VIRTHW_PIN_PREEMPTION_TIMER	BIT(6)

/* CPUID.1:EAX bits that KVM ignores when it matches a signature. */
#define VIRTHW_SIG_RESERVED		(GENMASK(15, 14) | GENMASK(31, 28))

/* Stand-in when the kernel could not calibrate the TSC: a fast 5 GHz. */
#define VIRTHW_FALLBACK_TSC_KHZ		5000000U

/*
 * CPUs whose preemption timer does not count at the advertised rate
 * (Nehalem/Westmere errata AAJ124, AAK139, AAM126, AAN92, AAO95, AAP86,
 * AAT59, AAU65, AAX65, BA86; and the Xeon E3-1220 v2).  The same
 * signatures as KVM's list, so that virtd decides as KVM does.
 */
static const u32 virthw_broken_timer_sigs[] = {
	0x000206e6, 0x00020652, 0x00020655, 0x000106e5, 0x000106a0,
	0x000106a1, 0x000106a4, 0x000106a5, 0x000306a8,
};

bool virthw_timer_erratum(u32 cpuid_sig)
{
	u32 sig = cpuid_sig & ~VIRTHW_SIG_RESERVED;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(virthw_broken_timer_sigs); i++)
		if (sig == virthw_broken_timer_sigs[i])
			return true;
	return false;
}

/*
 * The timer is a 32-bit down-counter ticking every 2^rate TSC cycles, so
 * it spans 2^(32 + rate) cycles, at most 2^63 for the 5-bit rate.  Split
 * the division so that no intermediate value can overflow, and saturate
 * instead of wrapping for slow TSCs and high rates.
 */
u64 virthw_timer_max_ns(u32 tsc_khz, unsigned int rate)
{
	u64 cycles, whole, ns;
	u32 rem;

	if (rate > 31)
		return U64_MAX;
	if (!tsc_khz)
		tsc_khz = VIRTHW_FALLBACK_TSC_KHZ;

	/* One cycle lasts NSEC_PER_MSEC / tsc_khz nanoseconds. */
	cycles = 1ULL << (32 + rate);
	whole = div_u64_rem(cycles, tsc_khz, &rem);
	if (check_mul_overflow(whole, (u64)NSEC_PER_MSEC, &ns))
		return U64_MAX;
	/* rem < tsc_khz < 2^32, so rem * 10^6 < 2^52 cannot overflow. */
	if (check_add_overflow(ns, div_u64((u64)rem * NSEC_PER_MSEC, tsc_khz),
			       &ns))
		return U64_MAX;
	return ns;
}

/* IPI callback: the CPUID signature and VMX MSRs of the CPU it runs on. */
static void virthw_caps_read_here(void *arg)
{
	struct virthw_caps *caps = arg;
	u64 basic, pin, misc;
	u32 pin_msr;

	caps->cpuid_sig = cpuid_eax(0) >= 1 ? cpuid_eax(1) : 0;
	caps->feature = virthw_cpu_feature_here();
	if (caps->feature != VIRTHW_FEATURE_VMX)
		return;

	if (!rdmsrq_safe(MSR_IA32_VMX_MISC, &misc)) {
		caps->vmx_misc_valid = true;
		caps->vmx_misc = misc;
	}

	/*
	 * The TRUE_ variant reports the real allowed settings where it
	 * exists; the allowed-1 settings are the high half.
	 */
	if (!rdmsrq_safe(MSR_IA32_VMX_BASIC, &basic)) {
		pin_msr = basic & VIRTHW_VMX_BASIC_TRUE_CTLS ?
			  MSR_IA32_VMX_TRUE_PINBASED_CTLS :
			  MSR_IA32_VMX_PINBASED_CTLS;
		if (!rdmsrq_safe(pin_msr, &pin)) {
			caps->pin_ctl_valid = true;
			caps->pin_ctl = !!(upper_32_bits(pin) &
					   VIRTHW_PIN_PREEMPTION_TIMER);
		}
	}
}

int virthw_caps_read(struct virthw_caps *caps)
{
	unsigned int cpu;
	int ret;

	memset(caps, 0, sizeof(*caps));

	/* The boot CPU is normally CPU 0; fall back to any online one. */
	cpus_read_lock();
	cpu = cpu_online(0) ? 0 : cpumask_first(cpu_online_mask);
	ret = smp_call_function_single(cpu, virthw_caps_read_here, caps, 1);
	cpus_read_unlock();
	if (ret)
		return ret;

	caps->tsc_khz = tsc_khz;
	caps->nr_cpus = num_possible_cpus();
	if (caps->feature == VIRTHW_FEATURE_VMX)
		caps->erratum = virthw_timer_erratum(caps->cpuid_sig);
	if (caps->vmx_misc_valid) {
		caps->timer_rate = caps->vmx_misc & VIRTHW_VMX_MISC_RATE;
		caps->timer_max_ns = virthw_timer_max_ns(caps->tsc_khz,
							 caps->timer_rate);
	}
	return 0;
}
