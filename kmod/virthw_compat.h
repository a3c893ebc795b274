/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel-version difference virthw depends on, in one place.  The
 * module is written against the newest kernel's names; each entry below
 * supplies them on the older kernels, or says which path a kernel gets.
 * Checked against the headers of 6.1, 6.12, 7.2 and 7.3 (Debian builds).
 */
#ifndef VIRTHW_COMPAT_H
#define VIRTHW_COMPAT_H

#include <linux/version.h>
#include <asm/msr.h>
#include <asm/processor.h>

/*
 * 6.16: the 64-bit MSR accessors were renamed from the "l" to the "q"
 * suffix; 7.2 and 7.3 have only the new names.  Upstream: "x86/msr:
 * Rename 'rdmsrl_safe()' to 'rdmsrq_safe()'" (6fe22abacd40) and the
 * sibling commits of that series for rdmsrl() and wrmsrl() (their hashes
 * not confirmed).  rdmsrq_safe() is an inline function, not a macro, so
 * the test is on the version.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 16, 0)
#define rdmsrq(msr, val)	rdmsrl(msr, val)
#define rdmsrq_safe(msr, p)	rdmsrl_safe(msr, p)
#define wrmsrq(msr, val)	wrmsrl(msr, val)
#endif

/*
 * cpuid_eax()/cpuid_ecx(): up to 6.12 <asm/processor.h> includes
 * <asm/cpuid.h>, which has them.  By 7.2 they live in <asm/cpuid/api.h>
 * and <asm/processor.h> includes only <asm/cpuid/types.h> (the x86/cpuid
 * header split of 2025; version and commit not confirmed), so include the
 * new header wherever it exists.
 */
#if __has_include(<asm/cpuid/api.h>)
#include <asm/cpuid/api.h>
#endif

/*
 * CR4.VMXE for the VMX run path.  On 6.1 and 6.12, cr4_update_irqsoff()
 * and cr4_read_shadow() are exported to every module (checked in their
 * Module.symvers), and the run path uses cr4_set/clear_bits_irqsoff().
 * On 7.2 and 7.3 both are exported only to kvm, kvm-amd and kvm-intel
 * (EXPORT_SYMBOL_FOR_KVM, a namespace "module:kvm,..."), and
 * native_write_cr4() is not exported on any of the five.  The change is
 * "x86: Restrict KVM-induced symbol exports to KVM modules where
 * obvious/possible" (Sean Christopherson, posted November 2025; its hash
 * not confirmed here), released in 6.19 (VirtualBox 7.2.22's
 * SUPDrv-linux.c: "a kvm-only export starting v6.19").  Everything after
 * 6.12 takes the raw path (see virthw_vmx.c): it is sound on every kernel
 * and is the one tested on 7.x, while 6.13-6.18, which would still have
 * the API, are in no test matrix; a too-early cut-over costs nothing.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
#define VIRTHW_HAVE_CR4_API	1
#else
#define VIRTHW_HAVE_CR4_API	0
#endif

/*
 * IBT: up to 6.12 SYM_FUNC_START() emits an ENDBR; on 7.2 and 7.3 it does
 * not (checked in <asm/linkage.h>; version and commit of the change not
 * confirmed), and objtool reports C code taking the guest loops' addresses
 * ("relocation to !ENDBR: virthw_guest_exit_loop").  Nothing to supply
 * here: virthw_asm.S marks them ANNOTATE_NOENDBR, which <linux/objtool.h>
 * provides on all five kernels (via <linux/annotate.h> on 7.x).
 */

#endif /* VIRTHW_COMPAT_H */
