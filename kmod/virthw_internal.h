/* SPDX-License-Identifier: GPL-2.0 */
/* Interfaces between the files of the virthw module. */
#ifndef VIRTHW_INTERNAL_H
#define VIRTHW_INTERNAL_H

#include <linux/types.h>
#include <asm/desc_defs.h>
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

/*
 * Descriptor-table state a VM exit changes behind the kernel's back (VMX
 * sets the GDT and IDT limits to 0xffff and LDTR to null; both vendors
 * reset DR7), saved before the first entry and put back after the last.
 */
struct virthw_host_tables {
	struct desc_ptr gdt, idt;
	u16 ldt;
	u16 tr;
	unsigned long dr7;
	u64 tr_base;		/* base of the TSS TR selects */
};

/* The settings pushed by the daemon and the decision derived from them. */
struct virthw_settings {
	u8 mode;		/* enum virthw_timer_mode */
	u64 min_max_delay_ns;
	bool timer_use;
	u8 reason;		/* enum virthw_timer_reason */
};

/* Statistics of one measurement, in TSC cycles. */
struct virthw_stat {
	u32 count;
	u64 min, median, mean, max;
};

/* Which measurement a sample array holds. */
enum virthw_measure {
	VIRTHW_M_ROUND_TRIP,	/* (a) */
	VIRTHW_M_TOGGLE,	/* (b) */
	VIRTHW_M_IMMEDIATE,	/* (c) */
	VIRTHW_M_TIMER,		/* (d) */
	VIRTHW_M_COUNT
};

/* What a probe found besides its samples: the run fills it, the reply
 * carries it as it is. */
struct virthw_probe_counts {
	u8 method;		/* enum virthw_immediate_method */
	bool has_rate;
	u8 timer_rate;
	u32 programmed;
	u64 expected;
	u32 spurious;
	u32 interrupted;
};

/*
 * One probe: filled in process context (every allocation happens there),
 * handed to the target CPU, read back after it returns.
 */
struct virthw_run {
	/* In. */
	u32 iterations;
	bool timer_use;		/* the settings' decision */
	u64 tsc_bound;		/* TSC cycles one measurement may take */
	void *region;		/* VMXON region (VMX), host save area (SVM) */
	void *vmcs;		/* VMCS (VMX), VMCB (SVM) */
	void *guest_stack;	/* one page */
	u32 *samples[VIRTHW_M_COUNT];	/* @iterations entries each */

	/* Out. */
	u8 feature;		/* enum virthw_feature of the CPU */
	const char *why;	/* extack text when the run failed */
	u32 done[VIRTHW_M_COUNT];	/* samples kept per measurement */
	bool measured[VIRTHW_M_COUNT];
	struct virthw_probe_counts counts;
};

/* Everything a PROBE reply carries. */
struct virthw_probe_result {
	u32 cpu;
	u8 feature;
	u32 iterations;
	u32 tsc_khz;
	bool timer_use;
	struct virthw_stat stat[VIRTHW_M_COUNT];
	bool measured[VIRTHW_M_COUNT];
	struct virthw_probe_counts counts;
	u64 duration_ns;
};

/* virthw_settings.c */
void virthw_timer_decide(const struct virthw_caps *caps, u8 mode,
			 u64 min_max_delay_ns, bool *use, u8 *reason);
int virthw_settings_get(struct virthw_settings *set);
int virthw_settings_set(u8 mode, u64 min_max_delay_ns,
			struct virthw_settings *set, bool *changed);

/* virthw_run.c */
struct netlink_ext_ack;
int virthw_probe(u32 cpu, u32 iterations, struct virthw_probe_result *res,
		 struct netlink_ext_ack *extack);
bool virthw_run_expired(const struct virthw_run *run, u64 start);
void virthw_run_irq_window(void);
void virthw_run_save_host_tables(struct virthw_host_tables *t);
void virthw_run_restore_host_tables(const struct virthw_host_tables *t);

/* virthw_vmx.c, virthw_svm.c: called on the target CPU with preemption and
 * interrupts off; return 0 or a negative errno with run->why set. */
int virthw_vmx_run(struct virthw_run *run);
int virthw_svm_run(struct virthw_run *run);

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
void virthw_netlink_settings_event(const struct virthw_settings *set);

/* virthw_hotplug.c */
int virthw_hotplug_init(void);
void virthw_hotplug_exit(void);

#endif /* VIRTHW_INTERNAL_H */
