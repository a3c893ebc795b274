/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The lower layer of the run path: what the common probe code
 * (virthw_run.c) hands down to a vendor (virthw_vmx.c, virthw_svm.c), and
 * the helpers both vendors use (virthw_hw.c).  Calls go one way only:
 * virthw_run.c -> vendor ops -> virthw_hw.c; nothing here includes or
 * calls the files above it.
 */
#ifndef VIRTHW_HW_H
#define VIRTHW_HW_H

#include <linux/types.h>
#include <asm/desc_defs.h>
#include <linux/virthw.h>

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

/*
 * One vendor's run path.  @run is called on the target CPU with preemption
 * and interrupts off; it returns 0 or a negative errno with run->why set.
 */
struct virthw_run_ops {
	u8 feature;		/* enum virthw_feature it serves */
	int (*run)(struct virthw_run *run);
};

extern const struct virthw_run_ops virthw_vmx_ops;
extern const struct virthw_run_ops virthw_svm_ops;

/* virthw_hw.c */
bool virthw_hw_expired(const struct virthw_run *run, u64 start);
void virthw_hw_irq_window(void);
void virthw_hw_save_host_tables(struct virthw_host_tables *t);
void virthw_hw_restore_host_tables(const struct virthw_host_tables *t);

/* virthw_asm.S: guest code, entered only by VM entry (no ENDBR needed). */
void virthw_guest_exit_loop(void);
void virthw_guest_spin_loop(void);

#endif /* VIRTHW_HW_H */
