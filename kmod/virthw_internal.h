/* SPDX-License-Identifier: GPL-2.0 */
/* Interfaces between the files of the virthw module. */
#ifndef VIRTHW_INTERNAL_H
#define VIRTHW_INTERNAL_H

#include <linux/types.h>
#include <linux/virthw.h>

/*
 * What one CPU says about itself.  Everything after @online is meaningful
 * only when @online is set, because it can only be read on the CPU itself.
 */
struct virthw_cpu_state {
	u32 id;
	bool online;
	u8 feature;		/* enum virthw_feature */
	bool fw_enabled;
	bool fw_msr_valid;
	bool virt_on;
	u64 fw_msr;
};

/* Capabilities of the boot CPU; the *_valid flags mark what could be read. */
struct virthw_caps {
	u8 feature;		/* enum virthw_feature */
	u32 tsc_khz;
	u32 cpuid_sig;
	u32 nr_cpus;
	bool vmx_misc_valid;
	bool pin_ctl_valid;
	bool pin_ctl;
	bool erratum;		/* meaningful for VMX only */
	u8 timer_rate;		/* valid with @vmx_misc_valid */
	u64 vmx_misc;
	u64 timer_max_ns;	/* valid with @vmx_misc_valid */
};

/* virthw_cpu.c */
enum virthw_feature virthw_cpu_feature_here(void);
int virthw_cpu_read(unsigned int cpu, struct virthw_cpu_state *st);

/* virthw_caps.c */
int virthw_caps_read(struct virthw_caps *caps);
bool virthw_timer_erratum(u32 cpuid_sig);
u64 virthw_timer_max_ns(u32 tsc_khz, unsigned int rate);

/* virthw_netlink.c */
int virthw_netlink_init(void);
void virthw_netlink_exit(void);
void virthw_netlink_cpu_event(enum virthw_event event,
			      const struct virthw_cpu_state *st);

/* virthw_hotplug.c */
int virthw_hotplug_init(void);
void virthw_hotplug_exit(void);

#endif /* VIRTHW_INTERNAL_H */
