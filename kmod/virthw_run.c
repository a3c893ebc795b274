// SPDX-License-Identifier: GPL-2.0
/*
 * The probe: virthw's own run path on one CPU.  This file prepares it in
 * process context (validation, every allocation), runs the vendor code on
 * the target CPU and turns the samples into statistics; virthw_vmx.c and
 * virthw_svm.c do the work on the CPU itself.
 */

#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/gfp.h>
#include <linux/irqflags.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <linux/preempt.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/time64.h>
#include <linux/workqueue.h>
#include <asm/desc.h>
#include <asm/tsc.h>

#include "virthw_internal.h"

/* How long one measurement may take before the run gives up: 2 s. */
#define VIRTHW_MEASURE_BOUND_MS		2000ULL
/* TSC rate assumed when the kernel could not calibrate it (as KVM does). */
#define VIRTHW_FALLBACK_TSC_KHZ		5000000ULL
/* DR7 with no breakpoint enabled: what a VM exit leaves behind. */
#define VIRTHW_DR7_FIXED_1		0x400UL

/*
 * One probe at a time: the regions are per probe, but two probes on one CPU
 * would see each other's VMX/SVM state as "busy".  A second request does not
 * wait behind a probe that may take seconds in an emulator: it gets -EBUSY.
 */
static DEFINE_MUTEX(virthw_probe_lock);

bool virthw_run_expired(const struct virthw_run *run, u64 start)
{
	return rdtsc_ordered() - start > run->tsc_bound;
}

/*
 * Lets the interrupts that ended a measurement window (left pending in the
 * local APIC, since VM exits do not acknowledge them) be handled by the
 * host.  Preemption stays off, so the CPU's VMX/SVM state stays ours.
 */
void virthw_run_irq_window(void)
{
	local_irq_enable();
	/* An interrupt pending in the APIC is taken right after STI's shadow. */
	barrier();
	local_irq_disable();
}

static u64 virthw_tss_base(const struct desc_ptr *gdt, u16 tr)
{
	const u8 *d = (const u8 *)(gdt->address + (tr & ~7UL));

	/* A 16-byte system descriptor: base 15:0, 23:16, 31:24, 63:32. */
	return (u64)d[2] | (u64)d[3] << 8 | (u64)d[4] << 16 |
	       (u64)d[7] << 24 | (u64)*(const u32 *)(d + 8) << 32;
}

void virthw_run_save_host_tables(struct virthw_host_tables *t)
{
	asm volatile("sgdt %0" : "=m"(t->gdt));
	asm volatile("sidt %0" : "=m"(t->idt));
	asm volatile("sldt %0" : "=r"(t->ldt));
	asm volatile("str %0" : "=r"(t->tr));
	asm volatile("mov %%dr7, %0" : "=r"(t->dr7));
	t->tr_base = virthw_tss_base(&t->gdt, t->tr);
}

void virthw_run_restore_host_tables(const struct virthw_host_tables *t)
{
	struct desc_ptr gdt, idt;

	/* Only what differs: LGDT/LIDT/LLDT serialize, and this is rare. */
	asm volatile("sgdt %0" : "=m"(gdt));
	if (gdt.size != t->gdt.size || gdt.address != t->gdt.address)
		asm volatile("lgdt %0" : : "m"(t->gdt));
	asm volatile("sidt %0" : "=m"(idt));
	if (idt.size != t->idt.size || idt.address != t->idt.address)
		asm volatile("lidt %0" : : "m"(t->idt));
	asm volatile("lldt %0" : : "r"(t->ldt));
	/* A VM exit resets DR7; put back the host's breakpoints, if any. */
	if (t->dr7 & ~VIRTHW_DR7_FIXED_1)
		asm volatile("mov %0, %%dr7" : : "r"(t->dr7));
}

/* Runs on the target CPU in a bound kworker. */
static long virthw_run_on_cpu(void *arg)
{
	struct virthw_run *run = arg;
	unsigned long flags;
	int ret;

	preempt_disable();
	local_irq_save(flags);
	run->feature = virthw_cpu_feature_here();
	switch (run->feature) {
	case VIRTHW_FEATURE_VMX:
		ret = virthw_vmx_run(run);
		break;
	case VIRTHW_FEATURE_SVM:
		ret = virthw_svm_run(run);
		break;
	default:
		run->why = "The CPU has neither VMX nor SVM";
		ret = -ENODEV;
		break;
	}
	local_irq_restore(flags);
	preempt_enable();
	return ret;
}

static int virthw_cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

static void virthw_stat_compute(u32 *s, u32 n, struct virthw_stat *st)
{
	u64 sum = 0;
	u32 i;

	memset(st, 0, sizeof(*st));
	if (!n)
		return;
	sort(s, n, sizeof(*s), virthw_cmp_u32, NULL);
	for (i = 0; i < n; i++)
		sum += s[i];
	st->count = n;
	st->min = s[0];
	st->max = s[n - 1];
	/* The middle sample, or the mean of the two middle ones. */
	st->median = ((u64)s[(n - 1) / 2] + s[n / 2]) / 2;
	st->mean = div_u64(sum, n);
}

static void virthw_run_free(struct virthw_run *run)
{
	int i;

	for (i = 0; i < VIRTHW_M_COUNT; i++)
		kvfree(run->samples[i]);
	free_page((unsigned long)run->region);
	free_page((unsigned long)run->vmcs);
	free_page((unsigned long)run->guest_stack);
}

static int virthw_run_alloc(struct virthw_run *run)
{
	int i;

	run->region = (void *)get_zeroed_page(GFP_KERNEL);
	run->vmcs = (void *)get_zeroed_page(GFP_KERNEL);
	run->guest_stack = (void *)get_zeroed_page(GFP_KERNEL);
	if (!run->region || !run->vmcs || !run->guest_stack)
		return -ENOMEM;
	for (i = 0; i < VIRTHW_M_COUNT; i++) {
		run->samples[i] = kvcalloc(run->iterations, sizeof(u32),
					   GFP_KERNEL);
		if (!run->samples[i])
			return -ENOMEM;
	}
	return 0;
}

int virthw_probe(u32 cpu, u32 iterations, struct virthw_probe_result *res,
		 struct netlink_ext_ack *extack)
{
	struct virthw_settings set;
	struct virthw_run *run;
	u64 tsc_khz_used, start;
	long ret;
	int i;

	if (!mutex_trylock(&virthw_probe_lock)) {
		NL_SET_ERR_MSG(extack, "Another probe is running; try again when it is done");
		return -EBUSY;
	}

	/* Read before cpus_read_lock(): it takes that lock itself. */
	ret = virthw_settings_get(&set);
	if (ret) {
		NL_SET_ERR_MSG(extack, "Failed to read the capabilities for the timer decision");
		goto out_unlock;
	}

	run = kzalloc(sizeof(*run), GFP_KERNEL);
	if (!run) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	run->iterations = iterations;
	run->timer_use = set.timer_use;
	tsc_khz_used = tsc_khz ?: VIRTHW_FALLBACK_TSC_KHZ;
	run->tsc_bound = tsc_khz_used * VIRTHW_MEASURE_BOUND_MS;
	ret = virthw_run_alloc(run);
	if (ret)
		goto out_free;

	cpus_read_lock();
	if (!cpu_online(cpu)) {
		cpus_read_unlock();
		NL_SET_ERR_MSG(extack, "The CPU is offline; bring it online first");
		ret = -ENXIO;
		goto out_free;
	}
	start = ktime_get_ns();
	ret = work_on_cpu(cpu, virthw_run_on_cpu, run);
	res->duration_ns = ktime_get_ns() - start;
	cpus_read_unlock();
	if (ret) {
		/* run->why is a string literal: NL_SET_ERR_MSG's own storage. */
		if (extack && run->why)
			extack->_msg = run->why;
		goto out_free;
	}

	res->cpu = cpu;
	res->feature = run->feature;
	res->iterations = iterations;
	res->tsc_khz = tsc_khz;
	res->timer_use = set.timer_use;
	for (i = 0; i < VIRTHW_M_COUNT; i++) {
		res->measured[i] = run->measured[i];
		if (run->measured[i])
			virthw_stat_compute(run->samples[i], run->done[i],
					    &res->stat[i]);
	}
	res->counts = run->counts;

out_free:
	virthw_run_free(run);
	kfree(run);
out_unlock:
	mutex_unlock(&virthw_probe_lock);
	return ret;
}
