/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * virthw: generic netlink interface of the virtd companion module.
 *
 * This is the only definition of the protocol.  The module (kmod/) and the
 * userspace client (src/) both include this file; nothing is redefined
 * anywhere else.
 *
 * Family name VIRTHW_GENL_NAME, version VIRTHW_GENL_VERSION.  Every command
 * requires CAP_NET_ADMIN in the caller's network namespace's owning user
 * namespace (GENL_ADMIN_PERM).  Attributes are validated strictly: an unknown
 * attribute, a wrong type or length, or an out-of-range value fails the
 * request with -EINVAL (-ERANGE for an impossible CPU number) and an extended
 * ACK message that names the offending attribute.
 *
 * Commands
 * --------
 *
 * VIRTHW_CMD_GET_CPUS
 *   Dump (NLM_F_DUMP): no attributes; one message per possible CPU, in CPU
 *   order.  Do: VIRTHW_A_CPU_ID (u32) is required and must name a possible
 *   CPU (< nr_cpu_ids), else -EINVAL / -ERANGE; one message for that CPU.
 *   Each message:
 *     VIRTHW_A_CPU: NESTED
 *       VIRTHW_CPU_A_ID          u32  CPU number
 *       VIRTHW_CPU_A_ONLINE      u8   1 when online; the values below are
 *                                     present only for online CPUs, because
 *                                     each one is read on that CPU itself
 *       VIRTHW_CPU_A_FEATURE     u8   enum virthw_feature
 *       VIRTHW_CPU_A_FW_ENABLED  u8   1 when firmware allows the feature:
 *                                     VMX: IA32_FEATURE_CONTROL locked with
 *                                     VMXON outside SMX allowed;
 *                                     SVM: VM_CR.SVMDIS clear
 *       VIRTHW_CPU_A_FW_MSR      u64  raw IA32_FEATURE_CONTROL (VMX) or
 *                                     VM_CR (SVM); absent when unreadable
 *       VIRTHW_CPU_A_VIRT_ON     u8   1 when virtualization is on right now:
 *                                     CR4.VMXE (VMX) or EFER.SVME (SVM)
 *
 * VIRTHW_CMD_GET_CAPS (do)
 *   Request:  no attributes.
 *   Reply:
 *     VIRTHW_A_CAPS: NESTED
 *       VIRTHW_CAPS_A_FEATURE        u8   enum virthw_feature (boot CPU)
 *       VIRTHW_CAPS_A_TSC_KHZ        u32  TSC frequency in kHz, 0 if unknown
 *       VIRTHW_CAPS_A_VMX_MISC       u64  raw IA32_VMX_MISC (VMX only)
 *       VIRTHW_CAPS_A_TIMER_RATE     u8   IA32_VMX_MISC[4:0]: the preemption
 *                                         timer ticks once every 2^rate TSC
 *                                         cycles (VMX only)
 *       VIRTHW_CAPS_A_TIMER_PIN_CTL  u8   1 when PIN_BASED_VMX_PREEMPTION_TIMER
 *                                         may be set (allowed-1 bit of
 *                                         IA32_VMX_TRUE_PINBASED_CTLS where
 *                                         IA32_VMX_BASIC[55] says it exists,
 *                                         else IA32_VMX_PINBASED_CTLS;
 *                                         VMX only)
 *       VIRTHW_CAPS_A_TIMER_ERRATUM  u8   1 when the CPU signature is on KVM's
 *                                         list of broken preemption timers
 *                                         (VMX only)
 *       VIRTHW_CAPS_A_TIMER_MAX_NS   u64  longest delay the timer can express:
 *                                         2^32 ticks at TSC >> rate, in ns,
 *                                         saturated at U64_MAX; computed with
 *                                         a 5 GHz TSC when TSC_KHZ is 0
 *                                         (VMX only, with VMX_MISC)
 *       VIRTHW_CAPS_A_CPUID_SIG      u32  CPUID.1:EAX of the boot CPU
 *       VIRTHW_CAPS_A_NR_CPUS        u32  number of possible CPUs
 *   A "VMX only" attribute is absent on other CPUs, and so is any value
 *   whose MSR could not be read (emulators may lack some MSRs).
 *
 * Multicast group VIRTHW_MCGRP_EVENTS
 *   VIRTHW_CMD_CPU_EVENT, sent after a CPU came online and after it went
 *   offline:
 *     VIRTHW_A_EVENT    u8   enum virthw_event
 *     VIRTHW_A_CPU      NESTED, as in GET_CPUS (only ID and ONLINE when the
 *                       CPU is offline)
 *
 * New commands and attributes are only ever appended; the values below never
 * change.  A client checks the family version it resolved against
 * VIRTHW_GENL_VERSION and refuses a newer major layout.
 */
#ifndef _UAPI_LINUX_VIRTHW_H
#define _UAPI_LINUX_VIRTHW_H

#define VIRTHW_GENL_NAME	"virthw"
#define VIRTHW_GENL_VERSION	1
#define VIRTHW_MCGRP_EVENTS	"events"

enum virthw_cmd {
	VIRTHW_CMD_UNSPEC,
	VIRTHW_CMD_GET_CPUS,
	VIRTHW_CMD_GET_CAPS,
	VIRTHW_CMD_CPU_EVENT,

	__VIRTHW_CMD_MAX
};
#define VIRTHW_CMD_MAX (__VIRTHW_CMD_MAX - 1)

enum virthw_feature {
	VIRTHW_FEATURE_NONE,
	VIRTHW_FEATURE_VMX,
	VIRTHW_FEATURE_SVM,
};

enum virthw_event {
	VIRTHW_EVENT_UNSPEC,
	VIRTHW_EVENT_CPU_ONLINE,
	VIRTHW_EVENT_CPU_OFFLINE,
};

/* Top-level attributes. */
enum virthw_attr {
	VIRTHW_A_UNSPEC,
	VIRTHW_A_CPU_ID,
	VIRTHW_A_CPU,
	VIRTHW_A_CAPS,
	VIRTHW_A_EVENT,

	__VIRTHW_A_MAX
};
#define VIRTHW_A_MAX (__VIRTHW_A_MAX - 1)

/* Nested in VIRTHW_A_CPU. */
enum virthw_cpu_attr {
	VIRTHW_CPU_A_UNSPEC,
	VIRTHW_CPU_A_ID,
	VIRTHW_CPU_A_ONLINE,
	VIRTHW_CPU_A_FEATURE,
	VIRTHW_CPU_A_FW_ENABLED,
	VIRTHW_CPU_A_FW_MSR,
	VIRTHW_CPU_A_VIRT_ON,
	VIRTHW_CPU_A_PAD,

	__VIRTHW_CPU_A_MAX
};
#define VIRTHW_CPU_A_MAX (__VIRTHW_CPU_A_MAX - 1)

/* Nested in VIRTHW_A_CAPS. */
enum virthw_caps_attr {
	VIRTHW_CAPS_A_UNSPEC,
	VIRTHW_CAPS_A_FEATURE,
	VIRTHW_CAPS_A_TSC_KHZ,
	VIRTHW_CAPS_A_VMX_MISC,
	VIRTHW_CAPS_A_TIMER_RATE,
	VIRTHW_CAPS_A_TIMER_PIN_CTL,
	VIRTHW_CAPS_A_TIMER_ERRATUM,
	VIRTHW_CAPS_A_TIMER_MAX_NS,
	VIRTHW_CAPS_A_CPUID_SIG,
	VIRTHW_CAPS_A_NR_CPUS,
	VIRTHW_CAPS_A_PAD,

	__VIRTHW_CAPS_A_MAX
};
#define VIRTHW_CAPS_A_MAX (__VIRTHW_CAPS_A_MAX - 1)

#endif /* _UAPI_LINUX_VIRTHW_H */
