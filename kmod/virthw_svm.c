// SPDX-License-Identifier: GPL-2.0
/*
 * The SVM run path: EFER.SVME, a host save area and a VMCB of virthw's own,
 * a guest that mirrors the host and intercepts CPUID, round trips through
 * VMRUN.  AMD has no preemption timer, so only measurement (a) exists.
 */

#include <linux/bitops.h>
#include <linux/irqflags.h>
#include <linux/lockdep.h>
#include <linux/string.h>
#include <asm/msr.h>
#include <asm/page.h>
#include <asm/processor.h>
#include <asm/segment.h>
#include <asm/special_insns.h>
#include <asm/svm.h>
#include <asm/tsc.h>

#include "virthw_compat.h"
#include "virthw_hw.h"

/* Named here because the kernel moved and renamed it between releases. */
#define VIRTHW_VM_CR_SVMDIS		BIT_ULL(4)

/* VMCB segment attributes: type | S << 4 | DPL << 5 | P << 7 | L << 9 |
 * D/B << 10 | G << 11 (APM vol. 2, 15.5.1). */
#define VIRTHW_SVM_ATTR_CODE64		0xa9b
#define VIRTHW_SVM_ATTR_DATA		0xc93

/* tlb_ctl: flush every ASID's entries on this VMRUN. */
#define VIRTHW_SVM_TLB_FLUSH_ALL	1
#define VIRTHW_SVM_ASID			1

/* Warm-up entries before measuring: caches, and the first TLB flush. */
#define VIRTHW_WARMUP			8

#define VIRTHW_SVM_EXIT_INTR		0x060
#define VIRTHW_SVM_EXIT_NMI		0x061
#define VIRTHW_SVM_EXIT_CPUID		0x072
#define VIRTHW_SVM_EXIT_ERR		0xffffffffU

static void virthw_svm_intercept(struct vmcb *vmcb, unsigned int bit)
{
	vmcb->control.intercepts[bit / 32] |= BIT(bit % 32);
}

static void virthw_svm_seg(struct vmcb_seg *seg, u16 sel, u16 attrib)
{
	seg->selector = sel;
	seg->attrib = attrib;
	seg->limit = 0xffffffff;
	seg->base = 0;
}

/*
 * The guest runs the host's own address space at CPL 0 with the host's
 * control registers.  VMRUN loads FS, GS, TR, LDTR and the syscall MSRs
 * from the VMCB and #VMEXIT does not restore them, so VMSAVE copies the
 * host's into the VMCB first: the guest then runs with exactly the host's
 * values and leaves them as they were.
 */
static void virthw_svm_setup(struct virthw_run *run,
			     const struct virthw_host_tables *t, u64 efer)
{
	struct vmcb *vmcb = run->vmcs;
	u64 pa = __pa(vmcb);
	u64 pat;
	int i;

	memset(vmcb, 0, PAGE_SIZE);
	virthw_svm_intercept(vmcb, INTERCEPT_INTR);
	virthw_svm_intercept(vmcb, INTERCEPT_NMI);
	virthw_svm_intercept(vmcb, INTERCEPT_CPUID);
	virthw_svm_intercept(vmcb, INTERCEPT_SHUTDOWN);
	virthw_svm_intercept(vmcb, INTERCEPT_VMRUN);
	virthw_svm_intercept(vmcb, INTERCEPT_VMMCALL);
	/* Every exception exits rather than going through the guest's IDT. */
	for (i = 0; i < 32; i++)
		virthw_svm_intercept(vmcb, INTERCEPT_EXCEPTION_OFFSET + i);
	vmcb->control.asid = VIRTHW_SVM_ASID;
	vmcb->control.int_ctl = V_INTR_MASKING_MASK;

	asm volatile("vmsave %%rax" : : "a"(pa) : "memory");

	virthw_svm_seg(&vmcb->save.cs, __KERNEL_CS, VIRTHW_SVM_ATTR_CODE64);
	virthw_svm_seg(&vmcb->save.ss, __KERNEL_DS, VIRTHW_SVM_ATTR_DATA);
	virthw_svm_seg(&vmcb->save.ds, __KERNEL_DS, VIRTHW_SVM_ATTR_DATA);
	virthw_svm_seg(&vmcb->save.es, __KERNEL_DS, VIRTHW_SVM_ATTR_DATA);
	vmcb->save.gdtr.base = t->gdt.address;
	vmcb->save.gdtr.limit = t->gdt.size;
	vmcb->save.idtr.base = t->idt.address;
	vmcb->save.idtr.limit = t->idt.size;
	vmcb->save.cpl = 0;
	vmcb->save.efer = efer;
	vmcb->save.cr0 = read_cr0();
	vmcb->save.cr3 = __read_cr3();
	vmcb->save.cr4 = __read_cr4();
	vmcb->save.dr6 = 0xffff0ff0;
	vmcb->save.dr7 = 0x400;
	vmcb->save.rflags = X86_EFLAGS_FIXED;
	vmcb->save.rip = (unsigned long)virthw_guest_exit_loop;
	vmcb->save.rsp = (unsigned long)run->guest_stack + PAGE_SIZE;
	if (!rdmsrq_safe(MSR_IA32_CR_PAT, &pat))
		vmcb->save.g_pat = pat;
}

/*
 * One VMRUN with GIF clear around it, so that nothing reaches the host
 * between the #VMEXIT and STGI; interrupts stay off after STGI, and what
 * arrived stays pending for the host.
 */
static __always_inline void virthw_svm_vmrun(u64 pa)
{
	asm volatile("clgi\n\t"
		     "vmrun %%rax\n\t"
		     "stgi"
		     : : "a"(pa)
		     : "memory", "cc");
}

static int virthw_svm_measure(struct virthw_run *run)
{
	struct vmcb *vmcb = run->vmcs;
	u32 *samples = run->samples[VIRTHW_M_ROUND_TRIP];
	u64 pa = __pa(vmcb), start, t0, t1;
	u32 n = 0, warm = 0, code;

	start = rdtsc_ordered();
	vmcb->control.tlb_ctl = VIRTHW_SVM_TLB_FLUSH_ALL;
	while (n < run->iterations) {
		if (virthw_hw_expired(run, start)) {
			run->why = "The round-trip measurement ran past its time bound";
			return -ETIMEDOUT;
		}
		t0 = rdtsc_ordered();
		virthw_svm_vmrun(pa);
		t1 = rdtsc_ordered();
		vmcb->control.tlb_ctl = 0;

		code = vmcb->control.exit_code;
		switch (code) {
		case VIRTHW_SVM_EXIT_CPUID:
			break;
		case VIRTHW_SVM_EXIT_INTR:
		case VIRTHW_SVM_EXIT_NMI:
			/* Still pending: GIF was clear, IF is clear. */
			run->counts.interrupted++;
			virthw_hw_irq_window();
			continue;
		case VIRTHW_SVM_EXIT_ERR:
			run->why = "VMRUN failed: the VMCB's guest state is invalid (#VMEXIT VMEXIT_INVALID)";
			return -EIO;
		default:
			run->why = "VMRUN: unexpected #VMEXIT code (not CPUID, INTR or NMI)";
			return -EIO;
		}
		if (warm < VIRTHW_WARMUP) {
			warm++;
			continue;
		}
		samples[n++] = t1 - t0;
	}
	run->done[VIRTHW_M_ROUND_TRIP] = n;
	run->measured[VIRTHW_M_ROUND_TRIP] = true;
	return 0;
}

static int virthw_svm_run(struct virthw_run *run)
{
	struct virthw_host_tables t;
	u64 vm_cr, efer, hsave;
	int ret;

	lockdep_assert_irqs_disabled();
	if (rdmsrq_safe(MSR_VM_CR, &vm_cr) || (vm_cr & VIRTHW_VM_CR_SVMDIS)) {
		run->why = "Firmware disabled SVM on this CPU (VM_CR.SVMDIS): enable it in the firmware setup";
		return -EACCES;
	}
	/* Checked and set with interrupts off: KVM's enable IPI cannot
	 * slip in between. */
	rdmsrq(MSR_EFER, efer);
	if (efer & EFER_SVME) {
		run->why = "EFER.SVME is already set on this CPU: KVM or another hypervisor holds SVM";
		return -EBUSY;
	}
	if (rdmsrq_safe(MSR_VM_HSAVE_PA, &hsave)) {
		run->why = "VM_HSAVE_PA cannot be read on this CPU";
		return -EIO;
	}

	virthw_hw_save_host_tables(&t);
	wrmsrq(MSR_EFER, efer | EFER_SVME);
	wrmsrq(MSR_VM_HSAVE_PA, __pa(run->region));

	virthw_svm_setup(run, &t, efer | EFER_SVME);
	ret = virthw_svm_measure(run);

	/* Exactly as found, whatever happened. */
	wrmsrq(MSR_VM_HSAVE_PA, hsave);
	wrmsrq(MSR_EFER, efer);
	virthw_hw_restore_host_tables(&t);
	return ret;
}

const struct virthw_run_ops virthw_svm_ops = {
	.feature = VIRTHW_FEATURE_SVM,
	.run = virthw_svm_run,
};
