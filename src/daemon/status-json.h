/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* status-json.h: the GetStatus JSON document, rendered from the model (model.h) the reconcile loop computed (pure). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "hv-detect.h"
#include "lock-meta.h"
#include "model.h"
#include "observe.h"
#include "policy.h"
#include "profiles.h"

/* The transparent hand-off (handoff.h), as status shows it: plain values, filled by handoff_status(). */
#define STATUS_HANDOFF_PROCS_MAX 8
#define STATUS_COMM_MAX 16
struct status_handoff_lock {
	uint32_t id;
	size_t n_procs;					/* all of them; the first STATUS_HANDOFF_PROCS_MAX here */
	pid_t pids[STATUS_HANDOFF_PROCS_MAX];
	char comms[STATUS_HANDOFF_PROCS_MAX][STATUS_COMM_MAX];
};
struct status_handoff_program {
	char path[PROFILE_ITEM_MAX + 1];
	char profile[PROFILE_NAME_MAX + 1];
	bool watched;					/* marked now (it exists and fanotify took the mark) */
};
struct status_handoff {
	const char *state;				/* "active", "off", "unavailable" */
	char reason[256];				/* "" none */
	size_t n_programs;
	struct status_handoff_program programs[PROFILES_MAX * PROFILE_LIST_MAX];
	size_t n_locks;
	struct status_handoff_lock locks[PROFILES_MAX];
};

struct status_input {
	const char *version;
	const char *config_path;
	const struct config *cfg;
	const char *state;			/* STATE_* */
	const char *reason;			/* "" when holding */
	const char *applied_policy;
	const struct kvm_observation *kobs;	/* NULL before the first observation */
	const struct cpu_model *cpus;		/* with kobs: the model of kobs->obs.cpus[i] (model_cpus()) */
	const struct lock_holders *locks;	/* may be NULL */
	const struct lock_info *lock_list;	/* the holders, n_lock_list of them */
	size_t n_lock_list;
	const bool *lock_shared;		/* per holder: granted in shared mode; NULL: none is */
	const struct policy_check *verify;	/* NULL when not verified */
	const char *actions_failed;		/* NULL or the last failed action's message */
	const struct timer_status *timer;	/* NULL: "timer": null */
	const struct hv_profiles *profiles;	/* NULL: "hypervisors": [] */
	const struct hv_detected *hvs;		/* with profiles: hvs[i] of profiles->p[i] */
	const struct status_handoff *handoff;	/* NULL: "handoff": null, no program watched, no holder by hand-off */
};

/* The whole document, malloc'd, in *ret; 0 or -ENOMEM. */
int status_json(const struct status_input *in, char **ret);

const char *cpu_expect_to_string(enum cpu_expect e);

