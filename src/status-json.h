/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* status-json.h: virtd's status in words (STATUS=, the journal) and as the GetStatus JSON document (pure). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "lock-meta.h"
#include "observe.h"
#include "policy.h"

/* The State property's values. */
#define STATE_STARTING "starting"
#define STATE_HOLDS "holds"
#define STATE_PENDING "pending"
#define STATE_CANNOT_HOLD "cannot-hold"
#define STATE_MISMATCH "mismatch"
/* A foreign-hypervisor lock is held: the policy is suspended, KVM kept out. */
#define STATE_LOCKED "locked"

struct status_input {
	const char *version;
	const char *config_path;
	const struct config *cfg;
	const char *state;			/* STATE_* */
	const char *reason;			/* "" when holding */
	const char *applied_policy;
	const struct kvm_observation *kobs;	/* NULL before the first observation */
	const struct lock_holders *locks;	/* may be NULL */
	const struct lock_info *lock_list;	/* the holders, n_lock_list of them */
	size_t n_lock_list;
	const struct policy_check *verify;	/* NULL when not verified */
	const char *actions_failed;		/* NULL or the last failed action's message */
};

/* The whole document, malloc'd, in *ret; 0 or -ENOMEM. */
int status_json(const struct status_input *in, char **ret);

/* "kvm", "virtd", "tdx", "unknown", "none", or NULL for an offline CPU. */
const char *status_cpu_owner(const struct observed *obs, const struct lock_holders *locks,
			     const struct observed_cpu *cpu);
const char *cpu_expect_to_string(enum cpu_expect e);

/*
 * The policy the host is set up for now, judged from the kernel alone: the
 * configured one while it holds; otherwise what the modules, the drop-in and
 * the VMs amount to, e.g. "boot" while kvm still has enable_virt_at_load=1
 * and a change to first-vm waits for VMs to end.
 */
const char *status_applied_policy(const struct config *cfg, const struct observed *obs, enum policy_verdict v);

/* The State property from the verdict and the verification. */
const char *status_state(enum policy_verdict v, const struct policy_check *verify);

/* One line for STATUS= and the journal: "policy boot: virtualization on, 4/4 CPUs". */
void status_words(const struct config *cfg, const char *state, const char *reason, const struct observed *obs,
		  char *buf, size_t size);
