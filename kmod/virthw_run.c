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
#include <asm/tsc.h>

#include "virthw_internal.h"

/* How long one measurement may take before the run gives up: 2 s. */
#define VIRTHW_MEASURE_BOUND_MS		2000ULL
/* TSC rate assumed when the kernel could not calibrate it (as KVM does). */
#define VIRTHW_FALLBACK_TSC_KHZ		5000000ULL

/*
 * One probe at a time: the regions are per probe, but two probes on one CPU
 * would see each other's VMX/SVM state as "busy".  A second request does not
 * wait behind a probe that may take seconds in an emulator: it gets -EBUSY.
 */
static DEFINE_MUTEX(virthw_probe_lock);

/* The vendors' run paths: the table this file calls down through. */
static const struct virthw_run_ops *const virthw_run_vendors[] = {
	&virthw_vmx_ops,
	&virthw_svm_ops,
};

static const struct virthw_run_ops *virthw_run_ops_for(u8 feature)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(virthw_run_vendors); i++)
		if (virthw_run_vendors[i]->feature == feature)
			return virthw_run_vendors[i];
	return NULL;
}

/* Runs on the target CPU in a bound kworker. */
static long virthw_run_on_cpu(void *arg)
{
	struct virthw_run *run = arg;
	const struct virthw_run_ops *ops;
	unsigned long flags;
	int ret;

	preempt_disable();
	local_irq_save(flags);
	run->feature = virthw_cpu_feature_here();
	ops = virthw_run_ops_for(run->feature);
	if (ops) {
		ret = ops->run(run);
	} else {
		run->why = "The CPU has neither VMX nor SVM";
		ret = -ENODEV;
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
