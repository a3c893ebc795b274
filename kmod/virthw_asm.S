/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The two pieces of the run path that cannot be C: the VMX entry with its
 * exit landing, and the guests' code.
 */

#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/ibt.h>
#include <asm/unwind_hints.h>
#include <linux/objtool.h>

/* VMCS field encoding of HOST_RSP (SDM vol. 3, appendix B.4.4). */
#define VIRTHW_VMCS_HOST_RSP	0x6c14

	.text

/*
 * int virthw_vmx_enter(unsigned long resume, unsigned long *host_rsp)
 *
 * VMLAUNCH (resume == 0) or VMRESUME the current VMCS.  Returns 0 after a
 * VM exit, 1 when the instruction failed (VMfailInvalid or VMfailValid:
 * the caller reads VM_INSTRUCTION_ERROR).  HOST_RIP must point at
 * virthw_vmx_exit.  *host_rsp caches the HOST_RSP last written, so that
 * the field is written only when this call's stack differs, as KVM does.
 * The guest only runs code that exits or spins, and changes no register,
 * but every callee-saved register is kept on the stack regardless.
 */
SYM_FUNC_START(virthw_vmx_enter)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx

	cmp	(%rsi), %rsp
	je	1f
	mov	%rsp, (%rsi)
	mov	$VIRTHW_VMCS_HOST_RSP, %eax
	vmwrite	%rsp, %rax
	jna	.Lvirthw_fail
1:
	test	%rdi, %rdi
	jz	.Lvirthw_launch
	/*
	 * A successful entry never comes back here: the CPU continues at
	 * virthw_vmx_exit with HOST_RSP, i.e. this frame.  objtool is told
	 * to carry this point's stack state over to there.
	 */
	UNWIND_HINT_SAVE
	vmresume
	jmp	.Lvirthw_fail
.Lvirthw_launch:
	vmlaunch
	jmp	.Lvirthw_fail

SYM_INNER_LABEL(virthw_vmx_exit, SYM_L_GLOBAL)
	UNWIND_HINT_RESTORE
	ENDBR
	xor	%eax, %eax
	jmp	.Lvirthw_out

.Lvirthw_fail:
	mov	$1, %eax
.Lvirthw_out:
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET
SYM_FUNC_END(virthw_vmx_enter)

/*
 * Guest code, run with the host's page tables.  CPUID exits
 * unconditionally under VMX and is intercepted under SVM, so this guest
 * never executes an instruction: every entry ends in an exit right away.
 *
 * The guests' addresses go into the VMCS/VMCB, never into an indirect call
 * or jump (VM entry does not look for ENDBR), so they carry
 * ANNOTATE_NOENDBR; see virthw_compat.h for why 7.x needs it.
 */
SYM_FUNC_START(virthw_guest_exit_loop)
	ANNOTATE_NOENDBR
1:
	cpuid
	jmp	1b
SYM_FUNC_END(virthw_guest_exit_loop)

/*
 * A guest that never exits by itself, for the preemption-timer accuracy
 * measurement: only the timer (or a host interrupt) ends it.
 */
SYM_FUNC_START(virthw_guest_spin_loop)
	ANNOTATE_NOENDBR
1:
	pause
	jmp	1b
SYM_FUNC_END(virthw_guest_spin_loop)
