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
 * VIRTHW_CMD_GET_SETTINGS (do)
 *   Request:  no attributes.
 *   Reply:
 *     VIRTHW_A_SETTINGS: NESTED
 *       VIRTHW_SET_A_TIMER_MODE        u8   enum virthw_timer_mode
 *       VIRTHW_SET_A_MIN_MAX_DELAY_NS  u64  the configured minimum maximum
 *                                           delay (ns)
 *       VIRTHW_SET_A_TIMER_USE         u8   the effective decision: 1 when
 *                                           the run path uses the
 *                                           preemption timer
 *       VIRTHW_SET_A_TIMER_REASON      u8   enum virthw_timer_reason: why
 *   Until a daemon sets them the settings are mode AUTO and 10 s, KVM's own
 *   rule.
 *
 * VIRTHW_CMD_SET_SETTINGS (do)
 *   Request:
 *     VIRTHW_A_SETTINGS: NESTED, required
 *       VIRTHW_SET_A_TIMER_MODE        u8   required, enum virthw_timer_mode
 *       VIRTHW_SET_A_MIN_MAX_DELAY_NS  u64  required, 1 ns .. 3600 s
 *     (TIMER_USE and TIMER_REASON are refused in a request.)
 *   Reply: as GET_SETTINGS, with the decision the module now applies.  The
 *   decision follows KVM's rule with the configured threshold: AUTO uses the
 *   timer when the pin control can be set, the CPU is not on the errata
 *   list and the maximum delay is at least the minimum; ON uses it whenever
 *   the pin control can be set (reason FORCED_UNSAFE when AUTO would not);
 *   OFF never.  A change is announced with VIRTHW_CMD_SETTINGS_EVENT.
 *
 * VIRTHW_CMD_PROBE (do)
 *   Runs the module's own run path on one CPU: VMXON (or EFER.SVME) with the
 *   module's own regions, a minimal guest that loops on an instruction that
 *   always exits, the measurements below, then VMXOFF (EFER) and CR4 as
 *   found.  Preemption and interrupts are off while it measures; every loop
 *   is bounded in iterations and time.
 *   Request:
 *     VIRTHW_A_CPU_ID            u32  required, a possible CPU
 *     VIRTHW_A_PROBE_ITERATIONS  u32  optional, 1 .. VIRTHW_PROBE_MAX_ITERATIONS,
 *                                     default VIRTHW_PROBE_DEFAULT_ITERATIONS
 *   Errors (each with an extended ACK message):
 *     -ERANGE     the CPU is not a possible CPU
 *     -ENXIO      the CPU is offline
 *     -ENODEV     the CPU has neither VMX nor SVM
 *     -EACCES     firmware has disabled VMX/SVM
 *     -EBUSY      VMX/SVM is already on on that CPU (KVM or another
 *                 hypervisor holds it), or another probe runs
 *     -ETIMEDOUT  a measurement ran past its time bound (the CPU is left as
 *                 found)
 *     -EIO        VMXON, VMLAUNCH/VMRESUME or VMRUN failed (the message
 *                 names the instruction and the VM-instruction error)
 *   Reply:
 *     VIRTHW_A_PROBE: NESTED
 *       VIRTHW_PROBE_A_CPU            u32
 *       VIRTHW_PROBE_A_FEATURE        u8   enum virthw_feature
 *       VIRTHW_PROBE_A_ITERATIONS     u32  iterations asked for, per
 *                                          measurement
 *       VIRTHW_PROBE_A_TSC_KHZ        u32  TSC kHz, 0 if unknown; every
 *                                          figure below is in TSC cycles
 *       VIRTHW_PROBE_A_TIMER_USE      u8   the settings' decision the run
 *                                          used (VMX only)
 *       VIRTHW_PROBE_A_ROUND_TRIP     NESTED stats, (a): VM entry + exit
 *                                          round trips; VMX: the timer
 *                                          soft-disabled as KVM does (pin
 *                                          control set once, timer value at
 *                                          its maximum) when the decision
 *                                          allows the timer, pin control
 *                                          clear otherwise; SVM: VMRUN
 *       VIRTHW_PROBE_A_TOGGLE         NESTED stats, (b): round trips with
 *                                          PIN_BASED_VMX_PREEMPTION_TIMER
 *                                          written before every entry (VMX
 *                                          with the pin control only)
 *       VIRTHW_PROBE_A_IMMEDIATE      NESTED stats, (c): an immediate exit
 *                                          (VMX only)
 *       VIRTHW_PROBE_A_IMMEDIATE_METHOD u8 enum virthw_immediate_method
 *       VIRTHW_PROBE_A_TIMER_RATE     u8   IA32_VMX_MISC[4:0] (VMX only)
 *       VIRTHW_PROBE_A_TIMER_PROGRAMMED u32 (d): timer ticks programmed
 *                                          (only when the timer is used)
 *       VIRTHW_PROBE_A_TIMER_EXPECTED u64  (d): PROGRAMMED << rate, in TSC
 *                                          cycles
 *       VIRTHW_PROBE_A_TIMER_ELAPSED  NESTED stats, (d): TSC cycles from
 *                                          VM entry to the timer exit
 *       VIRTHW_PROBE_A_SPURIOUS_TIMER_EXITS u32  timer exits during (a) and
 *                                          (b), counted and ignored
 *       VIRTHW_PROBE_A_INTERRUPTED    u32  iterations redone because an
 *                                          external interrupt or NMI ended
 *                                          them
 *       VIRTHW_PROBE_A_DURATION_NS    u64  wall time spent in the run path
 *   Stats (VIRTHW_STAT_A_*): COUNT u32 samples kept, MIN, MEDIAN, MEAN, MAX
 *   u64 TSC cycles.
 *   How the module measures (refinements of the above):
 *   - A sample is the TSC (RDTSC with fences) from just before the VMCS
 *     writes that precede one entry to just after its exit, so it includes
 *     those writes: the timer value in (a), the pin control in (b), the
 *     value 0 in (c), the programmed count in (d).  (a) starts with 8
 *     unrecorded warm-up entries (the first is VMLAUNCH).
 *   - The probe runs in a kernel thread bound to the CPU with preemption
 *     off; interrupts are off while it measures and on only for a moment
 *     after an exit an interrupt caused (VM exits do not acknowledge
 *     interrupts, so the host takes them then).  An NMI exit is re-raised
 *     to the host as a self-NMI, after an IRET that unblocks NMIs.
 *   - (c) with SELF_IPI sends RESCHEDULE_VECTOR to the CPU itself before
 *     each entry; an exit of any external interrupt counts as the sample,
 *     since the vector is not acknowledged.
 *   - (d) runs a guest that spins (PAUSE; JMP) instead of exiting, with
 *     PROGRAMMED = 10000 ticks.
 *   - Each measurement is bounded by 2 s of TSC (5 GHz assumed when the
 *     rate is unknown).
 *   - A second PROBE while one runs gets -EBUSY at once rather than
 *     waiting.
 *
 * Multicast group VIRTHW_MCGRP_EVENTS
 *   VIRTHW_CMD_CPU_EVENT, sent after a CPU came online and after it went
 *   offline:
 *     VIRTHW_A_EVENT    u8   enum virthw_event
 *     VIRTHW_A_CPU      NESTED, as in GET_CPUS (only ID and ONLINE when the
 *                       CPU is offline)
 *   VIRTHW_CMD_SETTINGS_EVENT, sent after SET_SETTINGS changed anything:
 *     VIRTHW_A_SETTINGS NESTED, as in the GET_SETTINGS reply
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
	VIRTHW_CMD_GET_SETTINGS,
	VIRTHW_CMD_SET_SETTINGS,
	VIRTHW_CMD_SETTINGS_EVENT,
	VIRTHW_CMD_PROBE,

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

enum virthw_timer_mode {
	VIRTHW_TIMER_MODE_AUTO,
	VIRTHW_TIMER_MODE_ON,
	VIRTHW_TIMER_MODE_OFF,
};

enum virthw_timer_reason {
	VIRTHW_TIMER_REASON_UNSPEC,
	VIRTHW_TIMER_REASON_SAFE,		/* AUTO or ON, every check passed */
	VIRTHW_TIMER_REASON_FORCED_UNSAFE,	/* ON despite erratum/short delay */
	VIRTHW_TIMER_REASON_MODE_OFF,		/* OFF */
	VIRTHW_TIMER_REASON_NOT_VMX,		/* no VMX on this CPU */
	VIRTHW_TIMER_REASON_NO_PIN_CTL,	/* the pin control cannot be set */
	VIRTHW_TIMER_REASON_ERRATUM,		/* AUTO on an errata CPU */
	VIRTHW_TIMER_REASON_SHORT_MAX_DELAY,	/* AUTO, max delay < minimum */
	VIRTHW_TIMER_REASON_UNKNOWN,		/* IA32_VMX_MISC unreadable */
};

enum virthw_immediate_method {
	VIRTHW_IMMEDIATE_NONE,
	VIRTHW_IMMEDIATE_TIMER_ZERO,	/* preemption timer value 0 */
	VIRTHW_IMMEDIATE_SELF_IPI,	/* IPI to self, external-interrupt exit */
};

#define VIRTHW_PROBE_DEFAULT_ITERATIONS	1000
#define VIRTHW_PROBE_MAX_ITERATIONS	100000
#define VIRTHW_MIN_MAX_DELAY_MAX_NS	(3600ULL * 1000 * 1000 * 1000)

/* Top-level attributes. */
enum virthw_attr {
	VIRTHW_A_UNSPEC,
	VIRTHW_A_CPU_ID,
	VIRTHW_A_CPU,
	VIRTHW_A_CAPS,
	VIRTHW_A_EVENT,
	VIRTHW_A_SETTINGS,
	VIRTHW_A_PROBE_ITERATIONS,
	VIRTHW_A_PROBE,

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

/* Nested in VIRTHW_A_SETTINGS. */
enum virthw_settings_attr {
	VIRTHW_SET_A_UNSPEC,
	VIRTHW_SET_A_TIMER_MODE,
	VIRTHW_SET_A_MIN_MAX_DELAY_NS,
	VIRTHW_SET_A_TIMER_USE,
	VIRTHW_SET_A_TIMER_REASON,
	VIRTHW_SET_A_PAD,

	__VIRTHW_SET_A_MAX
};
#define VIRTHW_SET_A_MAX (__VIRTHW_SET_A_MAX - 1)

/* Nested in VIRTHW_A_PROBE. */
enum virthw_probe_attr {
	VIRTHW_PROBE_A_UNSPEC,
	VIRTHW_PROBE_A_CPU,
	VIRTHW_PROBE_A_FEATURE,
	VIRTHW_PROBE_A_ITERATIONS,
	VIRTHW_PROBE_A_TSC_KHZ,
	VIRTHW_PROBE_A_TIMER_USE,
	VIRTHW_PROBE_A_ROUND_TRIP,
	VIRTHW_PROBE_A_TOGGLE,
	VIRTHW_PROBE_A_IMMEDIATE,
	VIRTHW_PROBE_A_IMMEDIATE_METHOD,
	VIRTHW_PROBE_A_TIMER_RATE,
	VIRTHW_PROBE_A_TIMER_PROGRAMMED,
	VIRTHW_PROBE_A_TIMER_EXPECTED,
	VIRTHW_PROBE_A_TIMER_ELAPSED,
	VIRTHW_PROBE_A_SPURIOUS_TIMER_EXITS,
	VIRTHW_PROBE_A_INTERRUPTED,
	VIRTHW_PROBE_A_DURATION_NS,
	VIRTHW_PROBE_A_PAD,

	__VIRTHW_PROBE_A_MAX
};
#define VIRTHW_PROBE_A_MAX (__VIRTHW_PROBE_A_MAX - 1)

/* Nested in each VIRTHW_PROBE_A_* statistics attribute. */
enum virthw_stat_attr {
	VIRTHW_STAT_A_UNSPEC,
	VIRTHW_STAT_A_COUNT,
	VIRTHW_STAT_A_MIN,
	VIRTHW_STAT_A_MEDIAN,
	VIRTHW_STAT_A_MEAN,
	VIRTHW_STAT_A_MAX,
	VIRTHW_STAT_A_PAD,

	__VIRTHW_STAT_A_MAX
};
#define VIRTHW_STAT_A_MAX (__VIRTHW_STAT_A_MAX - 1)

#endif /* _UAPI_LINUX_VIRTHW_H */
