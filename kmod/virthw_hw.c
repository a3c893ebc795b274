// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers both vendor run paths use: the time bound, the interrupt window
 * and the descriptor-table state a VM exit changes.  The bottom of the run
 * path: it calls nothing of virthw's.
 */

#include <linux/compiler.h>
#include <linux/irqflags.h>
#include <asm/msr.h>
#include <asm/tsc.h>

#include "virthw_hw.h"

/* DR7 with no breakpoint enabled: what a VM exit leaves behind. */
#define VIRTHW_DR7_FIXED_1		0x400UL

bool virthw_hw_expired(const struct virthw_run *run, u64 start)
{
	return rdtsc_ordered() - start > run->tsc_bound;
}

/*
 * Lets the interrupts that ended a measurement window (left pending in the
 * local APIC, since VM exits do not acknowledge them) be handled by the
 * host.  Preemption stays off, so the CPU's VMX/SVM state stays ours.
 */
void virthw_hw_irq_window(void)
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

void virthw_hw_save_host_tables(struct virthw_host_tables *t)
{
	asm volatile("sgdt %0" : "=m"(t->gdt));
	asm volatile("sidt %0" : "=m"(t->idt));
	asm volatile("sldt %0" : "=r"(t->ldt));
	asm volatile("str %0" : "=r"(t->tr));
	asm volatile("mov %%dr7, %0" : "=r"(t->dr7));
	t->tr_base = virthw_tss_base(&t->gdt, t->tr);
}

void virthw_hw_restore_host_tables(const struct virthw_host_tables *t)
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
