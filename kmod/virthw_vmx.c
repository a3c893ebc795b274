// SPDX-License-Identifier: GPL-2.0
/*
 * The VMX run path: VMXON with virthw's own region, one VMCS whose guest
 * mirrors the host (64-bit, the host's page tables, GDT and IDT) and loops
 * on CPUID, the four measurements, then VMCLEAR, VMXOFF and CR4 as found.
 *
 * Runs on the target CPU with preemption and interrupts off.  A host
 * interrupt that arrives meanwhile makes the guest exit (external-interrupt
 * and NMI exiting are on) and stays pending in the local APIC, because
 * "acknowledge interrupt on exit" is off; the host takes it in a short
 * interrupt window and the iteration is redone.
 */

#include <linux/bitops.h>
#include <linux/irqflags.h>
#include <linux/lockdep.h>
#include <linux/smp.h>
#include <asm/apic.h>
#include <asm/desc.h>
#include <asm/irq_vectors.h>
#include <asm/msr.h>
#include <asm/page.h>
#include <asm/processor.h>
#include <asm/segment.h>
#include <asm/special_insns.h>
#include <asm/sync_core.h>
#include <asm/tlbflush.h>
#include <asm/tsc.h>
#include <asm/vmx.h>

#include "virthw_compat.h"
#include "virthw_hw.h"

/* IA32_VMX_BASIC (SDM vol. 3, A.1). */
#define VIRTHW_BASIC_REVISION		GENMASK_ULL(30, 0)
#define VIRTHW_BASIC_TRUE_CTLS		BIT_ULL(55)
#define VIRTHW_MISC_RATE		GENMASK_ULL(4, 0)

#define VIRTHW_FEAT_CTL_VMX_OK \
	(FEAT_CTL_LOCKED | FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX)

/* Access rights (SDM vol. 3, 24.4.1): type | S << 4 | P << 7 | L << 13 |
 * D/B << 14 | G << 15; bit 16 marks an unusable segment. */
#define VIRTHW_AR_CODE64		0xa09b
#define VIRTHW_AR_DATA			0xc093
#define VIRTHW_AR_TSS_BUSY		0x008b
#define VIRTHW_AR_UNUSABLE		0x10000
#define VIRTHW_TSS_MIN_LIMIT		0x67

#define VIRTHW_EXIT_FAILED_ENTRY	BIT(31)
#define VIRTHW_EXIT_BASIC(r)		((r) & 0xffff)

#define VIRTHW_WARMUP			8

/*
 * The timer count measurement (d) programs.  On a real CPU (rate about 5)
 * 10000 ticks are 320000 TSC cycles, ~0.1 ms: two orders of magnitude above
 * an entry/exit round trip, so the overhead is a small part of the figure.
 * In Bochs (rate 0, one TSC cycle per emulated instruction) it is 10000
 * emulated instructions, so 1000 iterations stay well below a second.
 */
#define VIRTHW_TIMER_PROGRAMMED		10000U
#define VIRTHW_TIMER_MAX_VALUE		0xffffffffU

int virthw_vmx_enter(unsigned long resume, unsigned long *host_rsp);
extern const u8 virthw_vmx_exit[];

struct virthw_vmx {
	struct virthw_run *run;
	u32 pin;		/* pin controls without the timer bit */
	bool has_timer_ctl;	/* PIN_BASED_VMX_PREEMPTION_TIMER allowed */
	unsigned long launched;
	unsigned long host_rsp;	/* HOST_RSP last written */
	unsigned long host_cr4;	/* HOST_CR4 last written */
	bool in_root;		/* between our VMXON and VMXOFF */
	bool write_failed;
};

/* The VM-instruction errors VMLAUNCH and VMRESUME can report (SDM vol. 3,
 * 31.4); NL_SET_ERR_MSG needs fixed strings, hence one per number. */
static const char *const virthw_vm_insn_errors[] = {
	[4] = "VMLAUNCH/VMRESUME failed: VM-instruction error 4 (VMLAUNCH with non-clear VMCS)",
	[5] = "VMLAUNCH/VMRESUME failed: VM-instruction error 5 (VMRESUME with non-launched VMCS)",
	[6] = "VMLAUNCH/VMRESUME failed: VM-instruction error 6 (VMRESUME after VMXOFF)",
	[7] = "VMLAUNCH/VMRESUME failed: VM-instruction error 7 (invalid control fields)",
	[8] = "VMLAUNCH/VMRESUME failed: VM-instruction error 8 (invalid host-state fields)",
	[26] = "VMLAUNCH/VMRESUME failed: VM-instruction error 26 (blocked by MOV SS)",
};

static const char *const virthw_timeout_msg[VIRTHW_M_COUNT] = {
	[VIRTHW_M_ROUND_TRIP] = "(a) round trips ran past their time bound (2 s of TSC)",
	[VIRTHW_M_TOGGLE] = "(b) toggling round trips ran past their time bound (2 s of TSC)",
	[VIRTHW_M_IMMEDIATE] = "(c) immediate exit ran past its time bound (2 s of TSC)",
	[VIRTHW_M_TIMER] = "(d) timer accuracy ran past its time bound (2 s of TSC): the timer did not fire",
};

static __always_inline unsigned long virthw_vmread(unsigned long field)
{
	unsigned long value;

	asm volatile("vmread %[field], %[value]"
		     : [value] "=rm"(value)
		     : [field] "r"(field)
		     : "cc");
	return value;
}

static __always_inline void virthw_vmwrite(struct virthw_vmx *v,
					   unsigned long field,
					   unsigned long value)
{
	bool failed;

	asm volatile("vmwrite %[value], %[field]\n\t"
		     "setna %[failed]"
		     : [failed] "=qm"(failed)
		     : [field] "r"(field), [value] "rm"(value)
		     : "cc");
	v->write_failed |= failed;
}

/*
 * VMXON, VMCLEAR, VMPTRLD: one function per instruction, each taking the
 * physical address operand; 0, or -EIO on VMfail or a fault.
 */
#define VIRTHW_VMX_PA_INSN(fn, insn)					\
static int fn(u64 pa)							\
{									\
	asm goto("1: " insn " %[pa]\n\t"				\
		 "jna %l[fail]\n\t"					\
		 _ASM_EXTABLE(1b, %l[fail])				\
		 : : [pa] "m"(pa) : "memory", "cc" : fail);		\
	return 0;							\
fail:									\
	return -EIO;							\
}

VIRTHW_VMX_PA_INSN(virthw_vmxon, "vmxon")
VIRTHW_VMX_PA_INSN(virthw_vmclear, "vmclear")
VIRTHW_VMX_PA_INSN(virthw_vmptrld, "vmptrld")

/*
 * Allowed-0 settings are the low half of a capability MSR, allowed-1 the
 * high half: a bit the CPU requires is forced on, a bit it cannot do is
 * dropped, and every bit of @need must survive.
 */
static int virthw_vmx_ctl(u32 msr, u32 need, u32 *ctl)
{
	u64 cap;

	if (rdmsrq_safe(msr, &cap))
		return -EIO;
	*ctl = (need | lower_32_bits(cap)) & upper_32_bits(cap);
	return (*ctl & need) == need ? 0 : -EIO;
}

static bool virthw_fixed_ok(unsigned long val, u32 fixed0_msr, u32 fixed1_msr)
{
	u64 f0, f1;

	if (rdmsrq_safe(fixed0_msr, &f0) || rdmsrq_safe(fixed1_msr, &f1))
		return false;
	return (val & f0) == f0 && !(val & ~f1);
}

/* One VMCS field and the value the probe's VMCS gets. */
struct virthw_vmcs_init {
	unsigned long field;
	unsigned long value;
};

/*
 * Fields that start out 0: no MSR lists, no CR3 targets, no injected
 * event, no CR0/CR4 bits owned by the host, DS/ES host selectors (reloaded
 * after the run), null guest data selectors and LDTR, no guest debug or
 * SYSENTER state, an active guest with nothing blocking or pending.
 * With the #PF mask and match 0, every #PF exits as well.
 */
static const unsigned long virthw_vmcs_zero[] = {
	PAGE_FAULT_ERROR_CODE_MASK, PAGE_FAULT_ERROR_CODE_MATCH,
	CR3_TARGET_COUNT, VM_EXIT_MSR_STORE_COUNT, VM_EXIT_MSR_LOAD_COUNT,
	VM_ENTRY_MSR_LOAD_COUNT, VM_ENTRY_INTR_INFO_FIELD,
	CR0_GUEST_HOST_MASK, CR4_GUEST_HOST_MASK,
	HOST_DS_SELECTOR, HOST_ES_SELECTOR,
	GUEST_CS_BASE, GUEST_SS_BASE, GUEST_DS_SELECTOR, GUEST_ES_SELECTOR,
	GUEST_FS_SELECTOR, GUEST_GS_SELECTOR, GUEST_LDTR_SELECTOR,
	GUEST_IA32_DEBUGCTL, GUEST_SYSENTER_CS, GUEST_SYSENTER_ESP,
	GUEST_SYSENTER_EIP, GUEST_ACTIVITY_STATE, GUEST_INTERRUPTIBILITY_INFO,
	GUEST_PENDING_DBG_EXCEPTIONS,
};

/* Guest segments marked unusable (their selectors are 0 above). */
static const unsigned long virthw_vmcs_unusable[] = {
	GUEST_DS_AR_BYTES, GUEST_ES_AR_BYTES, GUEST_FS_AR_BYTES,
	GUEST_GS_AR_BYTES, GUEST_LDTR_AR_BYTES,
};

static void virthw_vmx_setup(struct virthw_vmx *v, u32 proc, u32 exit_ctl,
			     u32 entry_ctl, const struct virthw_host_tables *t)
{
	struct virthw_run *run = v->run;
	unsigned long cr0 = read_cr0(), cr3 = __read_cr3(), cr4 = __read_cr4();
	u64 fs_base, gs_base, cs, esp, eip;
	u16 fs, gs;
	unsigned int i;

	savesegment(fs, fs);
	savesegment(gs, gs);
	rdmsrq(MSR_FS_BASE, fs_base);
	rdmsrq(MSR_GS_BASE, gs_base);
	rdmsrq(MSR_IA32_SYSENTER_CS, cs);
	rdmsrq(MSR_IA32_SYSENTER_ESP, esp);
	rdmsrq(MSR_IA32_SYSENTER_EIP, eip);

	{
		/*
		 * Host state: selectors must have RPL and TI clear.  FS and
		 * GS are 0 in the kworker this runs in, and a non-zero one
		 * was refused before VMXON.  Guest state: the host's, at
		 * CPL 0 in 64-bit mode.  Every exception exits rather than
		 * using the guest's (the host's) IDT.
		 *
		 * Guest RFLAGS.IF set: with external-interrupt exiting it
		 * makes no difference on the hardware (IF does not block
		 * interrupts then), but an emulator that checks IF before
		 * recognizing an interrupt would otherwise never let the
		 * self-IPI of (c) end the guest.
		 */
		const struct virthw_vmcs_init init[] = {
			{ PIN_BASED_VM_EXEC_CONTROL, v->pin },
			{ CPU_BASED_VM_EXEC_CONTROL, proc },
			{ VM_EXIT_CONTROLS, exit_ctl },
			{ VM_ENTRY_CONTROLS, entry_ctl },
			{ EXCEPTION_BITMAP, 0xffffffff },
			{ VMCS_LINK_POINTER, ~0UL },
			{ HOST_CR0, cr0 }, { HOST_CR3, cr3 }, { HOST_CR4, cr4 },
			{ HOST_CS_SELECTOR, __KERNEL_CS },
			{ HOST_SS_SELECTOR, __KERNEL_DS },
			{ HOST_FS_SELECTOR, fs }, { HOST_GS_SELECTOR, gs },
			{ HOST_TR_SELECTOR, t->tr },
			{ HOST_FS_BASE, fs_base }, { HOST_GS_BASE, gs_base },
			{ HOST_TR_BASE, t->tr_base },
			{ HOST_GDTR_BASE, t->gdt.address },
			{ HOST_IDTR_BASE, t->idt.address },
			{ HOST_IA32_SYSENTER_CS, cs },
			{ HOST_IA32_SYSENTER_ESP, esp },
			{ HOST_IA32_SYSENTER_EIP, eip },
			{ HOST_RIP, (unsigned long)virthw_vmx_exit },
			{ GUEST_CR0, cr0 }, { GUEST_CR3, cr3 }, { GUEST_CR4, cr4 },
			{ CR0_READ_SHADOW, cr0 }, { CR4_READ_SHADOW, cr4 },
			{ GUEST_DR7, 0x400 },
			{ GUEST_CS_SELECTOR, __KERNEL_CS },
			{ GUEST_CS_LIMIT, 0xffffffff },
			{ GUEST_CS_AR_BYTES, VIRTHW_AR_CODE64 },
			{ GUEST_SS_SELECTOR, __KERNEL_DS },
			{ GUEST_SS_LIMIT, 0xffffffff },
			{ GUEST_SS_AR_BYTES, VIRTHW_AR_DATA },
			{ GUEST_FS_BASE, fs_base }, { GUEST_GS_BASE, gs_base },
			{ GUEST_TR_SELECTOR, t->tr },
			{ GUEST_TR_BASE, t->tr_base },
			{ GUEST_TR_LIMIT, VIRTHW_TSS_MIN_LIMIT },
			{ GUEST_TR_AR_BYTES, VIRTHW_AR_TSS_BUSY },
			{ GUEST_GDTR_BASE, t->gdt.address },
			{ GUEST_GDTR_LIMIT, t->gdt.size },
			{ GUEST_IDTR_BASE, t->idt.address },
			{ GUEST_IDTR_LIMIT, t->idt.size },
			{ GUEST_RFLAGS, X86_EFLAGS_FIXED | X86_EFLAGS_IF },
			{ GUEST_RSP, (unsigned long)run->guest_stack + PAGE_SIZE },
			{ GUEST_RIP, (unsigned long)virthw_guest_exit_loop },
		};

		for (i = 0; i < ARRAY_SIZE(init); i++)
			virthw_vmwrite(v, init[i].field, init[i].value);
	}
	for (i = 0; i < ARRAY_SIZE(virthw_vmcs_zero); i++)
		virthw_vmwrite(v, virthw_vmcs_zero[i], 0);
	for (i = 0; i < ARRAY_SIZE(virthw_vmcs_unusable); i++)
		virthw_vmwrite(v, virthw_vmcs_unusable[i], VIRTHW_AR_UNUSABLE);
	v->host_cr4 = cr4;
}

/*
 * An NMI that made the guest exit was not delivered, and NMIs stay blocked
 * until the next IRET.  Raise it again on this CPU through the local APIC
 * (NMI delivery mode) and unblock NMIs with an IRET to self: the host's
 * NMI handler then runs at once, on the host's state.
 */
static void virthw_vmx_reraise_nmi(void)
{
	apic->send_IPI(smp_processor_id(), NMI_VECTOR);
	iret_to_self();
}

/*
 * CR4.VMXE, and who may see it.
 *
 * VMXON needs CR4.VMXE, and the kernel keeps a per-CPU copy of CR4
 * (cpu_tlbstate.cr4, the "shadow") that some code writes back to the
 * register as a whole: a global TLB flush on a CPU without INVPCID
 * toggles CR4.PGE from the shadow, and the perf IPI that updates CR4.PCE
 * rewrites CR4 from it.  Clearing VMXE while in VMX operation is a #GP,
 * so whenever such code can run on this CPU the shadow must hold VMXE
 * exactly when the register does.
 *
 * Up to 6.12 (VIRTHW_HAVE_CR4_API) the run path goes through the kernel:
 * cr4_set/clear_bits_irqsoff() update register and shadow together, and
 * the host's interrupt windows open in VMX root operation as they always
 * have.
 *
 * From 7.x (VIRTHW_HAVE_CR4_API == 0) only KVM may update the shadow, and
 * there is no exported CR4 writer at all.  The module then writes the
 * register itself, and keeps the mismatch invisible to everything that
 * can act on it:
 *  - interrupts are off for the whole time VMXE is set: every interrupt
 *    window first leaves VMX operation (VMCLEAR, VMXOFF, CR4 back to the
 *    shadow's value), opens, closes, and enters again (VMXON, VMPTRLD;
 *    the VMCS keeps its contents in memory, the next entry is a VMLAUNCH);
 *  - the new value is the current register with VMXE added, so CR4
 *    pinning (SMEP, SMAP, UMIP, FSGSBASE, CET) never sees a pinned bit
 *    change, and VMXOFF's value is the current register without VMXE:
 *    back to what the shadow says before interrupts are on again;
 *  - VMXE already set means someone else (KVM, on 7.x through the core
 *    kernel's VMX reference) owns VMX on this CPU: the run refuses with
 *    -EBUSY, at the start and again after every window, and never clears
 *    a VMXE it did not set.
 * What remains visible is NMIs: an NMI handler reading the shadow sees no
 * VMXE while the register has it.  No NMI path rewrites CR4 from the
 * shadow.  The emergency (crash/reboot) VMXOFF does not know about this
 * module: on 6.x it is KVM's callback, on 7.x the core kernel's, and a
 * crash NMI inside the window may leave this CPU in VMX root operation
 * (see README.md, "The run path on 7.x").
 */
static __always_inline void virthw_cr4_write_raw(unsigned long val)
{
	asm volatile("mov %0, %%cr4" : : "r"(val) : "memory");
}

static void virthw_vmx_cr4_set(void)
{
#if VIRTHW_HAVE_CR4_API
	cr4_set_bits_irqsoff(X86_CR4_VMXE);
#else
	virthw_cr4_write_raw(__read_cr4() | X86_CR4_VMXE);
#endif
}

static void virthw_vmx_cr4_clear(void)
{
#if VIRTHW_HAVE_CR4_API
	cr4_clear_bits_irqsoff(X86_CR4_VMXE);
#else
	virthw_cr4_write_raw(__read_cr4() & ~X86_CR4_VMXE);
#endif
}

/*
 * CR4.VMXE and VMXON, then the probe's VMCS made current (and, the first
 * time, initialised by VMCLEAR).  Interrupts are off.
 */
static int virthw_vmx_root_on(struct virthw_vmx *v, bool first)
{
	struct virthw_run *run = v->run;

	if (__read_cr4() & X86_CR4_VMXE) {
		run->why = "CR4.VMXE was set on this CPU during the probe: KVM or another hypervisor took VMX";
		return -EBUSY;
	}
	virthw_vmx_cr4_set();
	if (virthw_vmxon(__pa(run->region))) {
		virthw_vmx_cr4_clear();
		run->why = "VMXON failed";
		return -EIO;
	}
	v->in_root = true;
	if ((first && virthw_vmclear(__pa(run->vmcs))) ||
	    virthw_vmptrld(__pa(run->vmcs))) {
		run->why = "VMCLEAR or VMPTRLD of the probe's VMCS failed";
		return -EIO;
	}
	return 0;
}

/* VMCLEAR (the VMCS to memory), VMXOFF, CR4 as the kernel knows it. */
static void virthw_vmx_root_off(struct virthw_vmx *v)
{
	if (!v->in_root)
		return;
	virthw_vmclear(__pa(v->run->vmcs));
	asm volatile("vmxoff" : : : "cc", "memory");
	virthw_vmx_cr4_clear();
	v->in_root = false;
}

/*
 * The host's interrupt window during a run (see above for why it leaves
 * VMX operation on 7.x).  A handler may change CR4 through the kernel
 * (CR4.PCE): the next VM exit must load that value, not the old one.
 */
static int virthw_vmx_irq_window(struct virthw_vmx *v)
{
	unsigned long cr4;
	int ret;

	if (VIRTHW_HAVE_CR4_API) {
		virthw_hw_irq_window();
	} else {
		virthw_vmx_root_off(v);
		virthw_hw_irq_window();
		ret = virthw_vmx_root_on(v, false);
		if (ret)
			return ret;
		v->launched = 0;
	}
	cr4 = __read_cr4();
	if (cr4 != v->host_cr4) {
		virthw_vmwrite(v, HOST_CR4, cr4);
		v->host_cr4 = cr4;
	}
	return 0;
}

/*
 * One entry and its exit.  Returns 0 with *reason, or -EIO with run->why
 * when the entry failed.
 */
static int virthw_vmx_once(struct virthw_vmx *v, u32 *reason)
{
	struct virthw_run *run = v->run;
	unsigned long err;

	if (virthw_vmx_enter(v->launched, &v->host_rsp)) {
		err = virthw_vmread(VM_INSTRUCTION_ERROR);
		run->why = err < ARRAY_SIZE(virthw_vm_insn_errors) &&
			   virthw_vm_insn_errors[err] ?
			   virthw_vm_insn_errors[err] :
			   "VMLAUNCH/VMRESUME failed (VMfailInvalid or an unlisted VM-instruction error)";
		return -EIO;
	}
	v->launched = 1;
	*reason = virthw_vmread(VM_EXIT_REASON);
	if (*reason & VIRTHW_EXIT_FAILED_ENTRY) {
		run->why = VIRTHW_EXIT_BASIC(*reason) == EXIT_REASON_INVALID_STATE ?
			   "VM entry failed: invalid guest state (exit reason 33)" :
			   "VM entry failed (exit reason 34 or 41: MSR loading or machine check)";
		return -EIO;
	}
	*reason = VIRTHW_EXIT_BASIC(*reason);
	return 0;
}

enum virthw_exit_class {
	VIRTHW_EXIT_EXPECTED,	/* the exit the measurement waits for */
	VIRTHW_EXIT_REDO,	/* interrupted or spurious: redo it */
};

/*
 * Sorts out what is not the measurement's exit: host interrupts and NMIs
 * (counted, handled by the host, redone), timer exits when the timer was
 * not meant to fire (spurious: counted, redone), anything else an error.
 */
static int virthw_vmx_classify(struct virthw_vmx *v, u32 reason, u32 want,
			       bool timer_spurious)
{
	struct virthw_run *run = v->run;
	u32 info;
	int ret;

	if (reason == want)
		return VIRTHW_EXIT_EXPECTED;
	switch (reason) {
	case EXIT_REASON_EXTERNAL_INTERRUPT:
		run->counts.interrupted++;
		ret = virthw_vmx_irq_window(v);
		return ret ?: VIRTHW_EXIT_REDO;
	case EXIT_REASON_EXCEPTION_NMI:
		info = virthw_vmread(VM_EXIT_INTR_INFO);
		if ((info & INTR_INFO_INTR_TYPE_MASK) != INTR_TYPE_NMI_INTR)
			break;
		run->counts.interrupted++;
		virthw_vmx_reraise_nmi();
		return VIRTHW_EXIT_REDO;
	case EXIT_REASON_PREEMPTION_TIMER:
		if (!timer_spurious)
			break;
		run->counts.spurious++;
		return VIRTHW_EXIT_REDO;
	case EXIT_REASON_CPUID:
		/* Only (c) with a self-IPI gets here: the IPI had not reached
		 * the APIC yet.  Let it arrive and try again. */
		if (want != EXIT_REASON_EXTERNAL_INTERRUPT)
			break;
		ret = virthw_vmx_irq_window(v);
		return ret ?: VIRTHW_EXIT_REDO;
	default:
		break;
	}
	run->why = reason == EXIT_REASON_EXCEPTION_NMI ?
		   "The guest raised an exception (exit reason 0): the VMCS guest state is wrong" :
		   "Unexpected VM exit reason during a measurement";
	return -EIO;
}

/*
 * The measurements.  Each keeps @iterations samples of the TSC cycles from
 * just before the VMCS writes that precede an entry to just after the exit.
 */
static int virthw_vmx_measure(struct virthw_vmx *v, enum virthw_measure m)
{
	struct virthw_run *run = v->run;
	u32 *samples = run->samples[m];
	u32 n = 0, warm = m == VIRTHW_M_ROUND_TRIP ? 0 : VIRTHW_WARMUP;
	u32 pin_timer = v->pin | PIN_BASED_VMX_PREEMPTION_TIMER;
	u32 want = EXIT_REASON_CPUID, reason;
	bool self_ipi = false, flip = false;
	u64 start, t0, t1;
	int ret;

	switch (m) {
	case VIRTHW_M_ROUND_TRIP:
		virthw_vmwrite(v, PIN_BASED_VM_EXEC_CONTROL,
			       run->timer_use ? pin_timer : v->pin);
		break;
	case VIRTHW_M_TOGGLE:
		break;
	case VIRTHW_M_IMMEDIATE:
		if (run->timer_use) {
			virthw_vmwrite(v, PIN_BASED_VM_EXEC_CONTROL, pin_timer);
			want = EXIT_REASON_PREEMPTION_TIMER;
		} else {
			virthw_vmwrite(v, PIN_BASED_VM_EXEC_CONTROL, v->pin);
			want = EXIT_REASON_EXTERNAL_INTERRUPT;
			self_ipi = true;
		}
		break;
	case VIRTHW_M_TIMER:
		virthw_vmwrite(v, PIN_BASED_VM_EXEC_CONTROL, pin_timer);
		virthw_vmwrite(v, GUEST_RIP, (unsigned long)virthw_guest_spin_loop);
		want = EXIT_REASON_PREEMPTION_TIMER;
		break;
	default:
		return -EINVAL;
	}
	if (v->write_failed) {
		run->why = "VMWRITE failed while preparing a measurement";
		return -EIO;
	}

	start = rdtsc_ordered();
	while (n < run->iterations) {
		if (virthw_hw_expired(run, start)) {
			run->why = virthw_timeout_msg[m];
			if (m == VIRTHW_M_IMMEDIATE && self_ipi)
				run->why = "(c) immediate exit ran past its time bound (2 s of TSC): the self-IPI never made the guest exit";
			return -ETIMEDOUT;
		}
		if (self_ipi)
			apic->send_IPI_self(RESCHEDULE_VECTOR);

		t0 = rdtsc_ordered();
		switch (m) {
		case VIRTHW_M_ROUND_TRIP:
			if (run->timer_use)
				virthw_vmwrite(v, VMX_PREEMPTION_TIMER_VALUE,
					       VIRTHW_TIMER_MAX_VALUE);
			break;
		case VIRTHW_M_TOGGLE:
			/* The pattern KVM avoids: the pin control itself
			 * changes before every entry. */
			flip = !flip;
			virthw_vmwrite(v, PIN_BASED_VM_EXEC_CONTROL,
				       flip ? pin_timer : v->pin);
			if (flip)
				virthw_vmwrite(v, VMX_PREEMPTION_TIMER_VALUE,
					       VIRTHW_TIMER_MAX_VALUE);
			break;
		case VIRTHW_M_IMMEDIATE:
			if (!self_ipi)
				virthw_vmwrite(v, VMX_PREEMPTION_TIMER_VALUE, 0);
			break;
		case VIRTHW_M_TIMER:
			virthw_vmwrite(v, VMX_PREEMPTION_TIMER_VALUE,
				       VIRTHW_TIMER_PROGRAMMED);
			break;
		default:
			break;
		}
		ret = virthw_vmx_once(v, &reason);
		t1 = rdtsc_ordered();
		if (ret)
			return ret;

		ret = virthw_vmx_classify(v, reason, want,
					  m == VIRTHW_M_ROUND_TRIP ||
					  m == VIRTHW_M_TOGGLE);
		if (ret < 0)
			return ret;
		if (self_ipi && ret == VIRTHW_EXIT_EXPECTED) {
			/* The IPI made this exit; the host handles it now. */
			ret = virthw_vmx_irq_window(v);
			if (ret)
				return ret;
		}
		if (ret == VIRTHW_EXIT_REDO)
			continue;
		if (warm < VIRTHW_WARMUP) {
			warm++;
			continue;
		}
		samples[n++] = min_t(u64, t1 - t0, U32_MAX);
	}
	if (v->write_failed) {
		run->why = "VMWRITE failed during a measurement";
		return -EIO;
	}

	/* Back to the exiting guest and the (a) setting for what follows. */
	if (m == VIRTHW_M_TIMER)
		virthw_vmwrite(v, GUEST_RIP, (unsigned long)virthw_guest_exit_loop);
	run->done[m] = n;
	run->measured[m] = true;
	return 0;
}

static int virthw_vmx_measure_all(struct virthw_vmx *v)
{
	struct virthw_run *run = v->run;
	int ret;

	ret = virthw_vmx_measure(v, VIRTHW_M_ROUND_TRIP);
	if (!ret && v->has_timer_ctl)
		ret = virthw_vmx_measure(v, VIRTHW_M_TOGGLE);
	if (!ret) {
		ret = virthw_vmx_measure(v, VIRTHW_M_IMMEDIATE);
		run->counts.method = run->timer_use ?
				     VIRTHW_IMMEDIATE_TIMER_ZERO :
				     VIRTHW_IMMEDIATE_SELF_IPI;
	}
	if (!ret && run->timer_use) {
		ret = virthw_vmx_measure(v, VIRTHW_M_TIMER);
		run->counts.programmed = VIRTHW_TIMER_PROGRAMMED;
		run->counts.expected = (u64)VIRTHW_TIMER_PROGRAMMED << run->counts.timer_rate;
	}
	return ret;
}

static int virthw_vmx_run(struct virthw_run *run)
{
	struct virthw_vmx v = { .run = run };
	struct virthw_host_tables t;
	u32 pin_msr, proc_msr, exit_msr, entry_msr, proc, exit_ctl, entry_ctl;
	u64 feat, basic, misc, pin_cap, debugctl;
	unsigned long cr4;
	u16 ds, es, fs, gs;
	int ret;

	lockdep_assert_irqs_disabled();
	if (rdmsrq_safe(MSR_IA32_FEAT_CTL, &feat) ||
	    (feat & VIRTHW_FEAT_CTL_VMX_OK) != VIRTHW_FEAT_CTL_VMX_OK) {
		run->why = "Firmware disabled VMX on this CPU (IA32_FEATURE_CONTROL): enable it in the firmware setup";
		return -EACCES;
	}
	if (rdmsrq_safe(MSR_IA32_VMX_BASIC, &basic)) {
		run->why = "IA32_VMX_BASIC cannot be read on this CPU";
		return -EIO;
	}
	if (!rdmsrq_safe(MSR_IA32_VMX_MISC, &misc)) {
		run->counts.has_rate = true;
		run->counts.timer_rate = misc & VIRTHW_MISC_RATE;
	} else {
		/* The rate is unknown: the timer cannot be reasoned about. */
		run->timer_use = false;
	}

	if (basic & VIRTHW_BASIC_TRUE_CTLS) {
		pin_msr = MSR_IA32_VMX_TRUE_PINBASED_CTLS;
		proc_msr = MSR_IA32_VMX_TRUE_PROCBASED_CTLS;
		exit_msr = MSR_IA32_VMX_TRUE_EXIT_CTLS;
		entry_msr = MSR_IA32_VMX_TRUE_ENTRY_CTLS;
	} else {
		pin_msr = MSR_IA32_VMX_PINBASED_CTLS;
		proc_msr = MSR_IA32_VMX_PROCBASED_CTLS;
		exit_msr = MSR_IA32_VMX_EXIT_CTLS;
		entry_msr = MSR_IA32_VMX_ENTRY_CTLS;
	}
	/* Acknowledge-interrupt-on-exit stays off: interrupts that end a
	 * window stay pending in the APIC for the host. */
	if (virthw_vmx_ctl(pin_msr, PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING, &v.pin) ||
	    virthw_vmx_ctl(proc_msr, 0, &proc) ||
	    virthw_vmx_ctl(exit_msr, VM_EXIT_HOST_ADDR_SPACE_SIZE, &exit_ctl) ||
	    virthw_vmx_ctl(entry_msr, VM_ENTRY_IA32E_MODE, &entry_ctl) ||
	    (exit_ctl & VM_EXIT_ACK_INTR_ON_EXIT) ||
	    (v.pin & PIN_BASED_VMX_PREEMPTION_TIMER)) {
		run->why = "The VMX capability MSRs do not allow the controls the run path needs";
		return -EIO;
	}
	if (!rdmsrq_safe(pin_msr, &pin_cap))
		v.has_timer_ctl = upper_32_bits(pin_cap) & PIN_BASED_VMX_PREEMPTION_TIMER;
	if (!v.has_timer_ctl)
		run->timer_use = false;

	/* Checked, and below set, with interrupts off: KVM's enable IPI
	 * cannot slip in between. */
	cr4 = __read_cr4();
	if (cr4 & X86_CR4_VMXE) {
		run->why = "CR4.VMXE is already set on this CPU: KVM or another hypervisor holds VMX";
		return -EBUSY;
	}
	if (!virthw_fixed_ok(read_cr0(), MSR_IA32_VMX_CR0_FIXED0, MSR_IA32_VMX_CR0_FIXED1) ||
	    !virthw_fixed_ok(cr4 | X86_CR4_VMXE, MSR_IA32_VMX_CR4_FIXED0, MSR_IA32_VMX_CR4_FIXED1)) {
		run->why = "CR0 or CR4 holds a value VMX operation does not allow (IA32_VMX_CR0/CR4_FIXED0/1)";
		return -EIO;
	}

	savesegment(ds, ds);
	savesegment(es, es);
	savesegment(fs, fs);
	savesegment(gs, gs);
	if ((fs | gs) & 7) {
		run->why = "FS or GS holds a user selector in the probe's kernel thread; not supported";
		return -EIO;
	}

	*(u32 *)run->region = basic & VIRTHW_BASIC_REVISION;
	*(u32 *)run->vmcs = basic & VIRTHW_BASIC_REVISION;
	virthw_hw_save_host_tables(&t);
	rdmsrq(MSR_IA32_DEBUGCTLMSR, debugctl);

	ret = virthw_vmx_root_on(&v, true);
	if (ret)
		goto out;

	virthw_vmx_setup(&v, proc, exit_ctl, entry_ctl, &t);
	if (v.write_failed) {
		run->why = "VMWRITE failed while setting up the VMCS";
		ret = -EIO;
	} else {
		ret = virthw_vmx_measure_all(&v);
	}

out:
	/* Exactly as found, whatever happened. */
	virthw_vmx_root_off(&v);
	virthw_hw_restore_host_tables(&t);
	loadsegment(ds, ds);
	loadsegment(es, es);
	if (debugctl)
		wrmsrq(MSR_IA32_DEBUGCTLMSR, debugctl);
	/* A VM exit sets the TSS limit to 0x67; have the kernel reload it
	 * before a task that uses an I/O bitmap needs it. */
	invalidate_tss_limit();
	return ret;
}

const struct virthw_run_ops virthw_vmx_ops = {
	.feature = VIRTHW_FEATURE_VMX,
	.run = virthw_vmx_run,
};
