/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * metrics.h: [Metrics] File= of virtd.conf: the manager's state, counters
 * and last verification as a Prometheus text-format file for
 * node_exporter's textfile collector, replaced atomically on every change.
 * An observer of the manager (manager_add_observer()), registered by
 * virtd.c; the manager knows nothing of it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "macro.h"
#include "manager.h"

/* The values of the State property, in the order the metrics list them. */
#define METRICS_N_STATES 6
extern const char *const metrics_states[METRICS_N_STATES];

/* Everything the file shows: taken from the manager, rendered by metrics_render(). */
struct metrics_snapshot {
	const char *version;
	enum virt_policy policy;
	const char *state;		/* STATE_* */
	const char *applied_policy;	/* "" before the first reconcile */
	unsigned n_cpus_online;
	unsigned n_cpus_on;		/* online with VMX/SVM on */
	unsigned n_cpus_expected_on;	/* online, and the policy wants VMX/SVM on */
	unsigned n_cpus_mismatched;	/* online, and not as the policy wants */
	unsigned n_vms;			/* KVM VMs, virtd's own not counted */
	bool pinned_vm;
	unsigned n_locks_held;
	unsigned n_locks_waiting;
	struct manager_counters counters;
	uint64_t state_transitions[METRICS_N_STATES];	/* times the state became metrics_states[i] */
};

/* The manager's state now, with the transitions counted so far (pure but for reading M). */
void metrics_snapshot_take(const struct manager *m, const uint64_t transitions[METRICS_N_STATES],
			   struct metrics_snapshot *ret);
/* The text format (version 0.0.4) of S in *ret (malloc'ed): 0, or -ENOMEM.  Pure. */
int metrics_render(const struct metrics_snapshot *s, char **ret);

/*
 * Replaces PATH with TEXT atomically: a temporary file in PATH's directory
 * (O_CLOEXEC, mode 0644, named so that the textfile collector skips it),
 * renamed over PATH.  0, or a negative errno with what failed in ERR.
 */
int metrics_write_file(const char *path, const char *text, char *err, size_t size);

typedef struct metrics metrics;

/* Observes M and writes m->cfg.metrics_file (when set) after every change, once per event-loop turn. */
int metrics_new(struct manager *m, metrics **ret);
/* Stops observing; removes the file virtd wrote (a stopped virtd has no state to show). */
metrics *metrics_free(metrics *mt);
DEFINE_TRIVIAL_CLEANUP_FUNC(metrics *, metrics_free);
/* Writes (or removes) the file now, as the deferred update would. */
void metrics_update(metrics *mt);
/* The last write's error, "" when it succeeded or metrics are off. */
const char *metrics_error(const metrics *mt);
