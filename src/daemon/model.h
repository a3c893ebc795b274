/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * model.h: what virtd makes of an observation, computed once per reconcile
 * by the engine: the state and its words, the applied policy, each CPU's
 * owner and promise, the preemption timer's three sides.  The status
 * document (status-json.h) and the bus only show these (pure).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "observe.h"
#include "policy.h"
#include "timer.h"

/* The State property's values. */
#define STATE_STARTING "starting"
#define STATE_HOLDS "holds"
#define STATE_PENDING "pending"
#define STATE_CANNOT_HOLD "cannot-hold"
#define STATE_MISMATCH "mismatch"
/* A foreign-hypervisor lock is held: the policy is suspended, KVM kept out. */
#define STATE_LOCKED "locked"

/* kvm_intel's preemption_timer= against the timer decision: the "kvm_intel.state" values. */
#define TIMER_KVM_NOT_APPLICABLE "not-applicable"	/* not VMX: there is no kvm_intel */
#define TIMER_KVM_UNKNOWN "unknown"			/* no decision (no capabilities from virthw) or unreadable */
#define TIMER_KVM_APPLIED "applied"			/* the loaded kvm_intel has the decided value */
#define TIMER_KVM_NOT_LOADED "not-loaded"		/* kvm_intel is not loaded: the drop-in has it for the next load */
#define TIMER_KVM_PENDING "pending"			/* a reload waits for KVM VMs to exit (or is under way) */
#define TIMER_KVM_CANNOT_APPLY "cannot-apply"		/* built in, or the reload failed */

/* The preemption timer as virtd sees it: its decision, virthw's, kvm_intel's. */
struct timer_status {
	bool decided;				/* the capabilities are known: decision is valid */
	struct timer_caps caps;
	struct timer_decision decision;
	char reason_text[160];			/* the decision's reason in words */
	bool has_module;			/* virthw answered with its settings */
	struct virthw_settings module;
	bool module_mismatch;			/* virthw decided otherwise than virtd */
	char module_error[256];			/* why there is no answer from virthw, "" when there is */
	bool want_param, has_param;		/* kvm_intel.preemption_timer: decided; and loaded now */
	bool param;
	const char *kvm_state;			/* TIMER_KVM_* */
	char kvm_reason[480];
};

/*
 * Fills *t from the configuration and an observation (caps, modules, VMs,
 * parameters): the decision and kvm_intel's side.  The module fields are
 * left as they are.  ACTIONS_FAILED: the last failed action, or NULL.
 */
void timer_status_fill(const struct config *cfg, const struct kvm_observation *k, const char *actions_failed,
		       struct timer_status *t);
/* Records virthw's settings reply (or its error) and compares its decision with virtd's. */
void timer_status_module(struct timer_status *t, const struct virthw_settings *module, const char *error);
/* Gives the policy engine kvm_intel's wanted and current preemption_timer from T and K's parameters. */
void timer_status_observed(const struct timer_status *t, struct kvm_observation *k);
/* One line for the journal: "preemption timer: off (maximum delay 42.9 s < minimum 60 s); kvm_intel ...". */
void timer_status_words(const struct timer_status *t, char *buf, size_t size);

/* One CPU of the model, for obs->cpus[i] of the same index. */
struct cpu_model {
	const char *owner;		/* model_cpu_owner() */
	enum cpu_expect expect;		/* policy_cpu_expect() */
	bool ok;			/* the CPU shows what it is expected to */
};

/* "kvm", "virtd", "tdx", "lock", "unknown", "none", or NULL for an offline CPU. */
const char *model_cpu_owner(const struct observed *obs, const struct lock_holders *locks,
			    const struct observed_cpu *cpu);
/* Every CPU of OBS into OUT[0 .. obs->n_cpus - 1]. */
void model_cpus(const struct config *cfg, const struct observed *obs, const struct lock_holders *locks,
		struct cpu_model *out);

/*
 * The policy the host is set up for now, judged from the kernel alone: the
 * configured one while it holds; otherwise what the modules, the drop-in and
 * the VMs amount to, e.g. "boot" while kvm still has enable_virt_at_load=1
 * and a change to first-vm waits for VMs to end.
 */
const char *model_applied_policy(const struct config *cfg, const struct observed *obs, enum policy_verdict v);

/* The State property from the verdict and the verification. */
const char *model_state(enum policy_verdict v, const struct policy_check *verify);

/* One line for STATUS= and the journal: "policy boot: virtualization on, 4/4 CPUs". */
void status_words(const struct config *cfg, const char *state, const char *reason, const struct observed *obs,
		  char *buf, size_t size);
