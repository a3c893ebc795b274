/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manager.h: the daemon's state and its level-triggered reconcile loop.
 * Knows no front end: the bus layer and the metrics file register as its
 * observers (manager_add_observer()) and are told what changed; refusals
 * are enum virtd_error (errors.h), which the bus layer names.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>

#include <systemd/sd-event.h>

#include "config.h"
#include "errors.h"
#include "handoff.h"
#include "hw-client.h"
#include "kvm-backend.h"
#include "kvm-events.h"
#include "lock.h"
#include "model.h"
#include "observe.h"
#include "policy.h"
#include "profiles.h"

/* What the front end publishes of the manager (the bus properties), as it was before a change. */
struct manager_published {
	enum virt_policy policy;
	const char *state;
	char reason[512];
	const char *applied_policy;
	unsigned n_vms;
	bool pinned_vm;
	unsigned n_locks;
};

/* What the manager counted since it started: the metrics' counters. */
struct manager_counters {
	uint64_t reconciles;
	uint64_t actions;		/* applied, successfully */
	uint64_t actions_failed;	/* applied and failed (each try counts) */
	uint64_t reloads;		/* configurations reloaded */
	uint64_t reloads_failed;	/* reloads refused (the running configuration stayed) */
	uint64_t last_verify_usec;	/* CLOCK_REALTIME of the last verification of the CPUs, 0: none yet */
	uint64_t start_usec;		/* CLOCK_REALTIME of manager_new() */
};

/* A front end, told by the manager; every member may be NULL. */
struct manager_observer {
	/* Some of what manager_publish() gives may differ from OLD: a reconcile, a reload, a VM count. */
	void (*changed)(void *userdata, const struct manager_published *old);
	/* After every manager_reconcile(), its lock requests answered. */
	void (*reconciled)(void *userdata);
};

#define MANAGER_OBSERVERS_MAX 4

#define MANAGER_HV_MADE_MAX 64

struct manager {
	sd_event *event;
	/* In the order they were added; told in that order. */
	struct manager_observer observers[MANAGER_OBSERVERS_MAX];
	void *observers_data[MANAGER_OBSERVERS_MAX];
	size_t n_observers;
	struct manager_counters counters;
	kvm_events *events;
	kvm_backend *backend;

	hw_client *hw;
	sd_event_source *hw_event_source;
	char hw_error[384];		/* why hw is NULL */
	char hw_load_error[200];	/* why loading virthw failed, until it is there */
	bool load_virthw;

	char *config_path;
	struct config cfg;
	/* The hypervisor profiles, read with the configuration (manager_load_config()). */
	struct hv_profiles *profiles;
	/* Where they are read from, in order: the package's, then the administrator's. */
	const char *profile_dirs[2];

	sd_event_source *reconcile_source;	/* deferred: many events, one reconcile */
	sd_event_source *retry_source;		/* one-shot, armed only while a transition settles */
	sd_event_source *recheck_source;	/* one-shot, armed only while an unknown hypervisor holds CPUs */
	unsigned retries;
	char why[160];			/* what queued the next reconcile */
	bool queued_news;		/* a queued event other than a module's */
	bool hold_actions;		/* this reconcile only observes (see on_reconcile()) */

	/* The last reconcile's results: what status and the bus show. */
	bool observed;
	bool vms_stale;			/* kobs's VM list predates the VM count (see on_kvm_event()) */
	struct kvm_observation kobs;
	struct cpu_model *cpus_model;	/* the model of kobs.obs.cpus[i], computed with it */
	struct actions acts;		/* decided after the actions were applied: verdict and reason */
	struct policy_check verify;
	const char *state;		/* STATE_* */
	char reason[512];
	const char *applied_policy;
	char actions_failed[512];
	char status_line[600];

	/* The preemption timer: virtd's decision, virthw's copy, kvm_intel's parameter (model.h). */
	struct timer_status timer;
	bool settings_pushed;		/* virthw has been given the running configuration's timer settings */
	char timer_line[600];		/* what the journal said last about the timer */

	/* Foreign-hypervisor locks: holders and waiting requests (lock.h). */
	lock_registry *locks;
	/*
	 * VMs a shared-mode hypervisor's process made through its driver with
	 * no descriptor left (observe.h struct hv_made_vm), from KVM's create
	 * and destroy uevents; kept in hv_made_path across a restart.
	 */
	struct hv_made_vm hv_made[MANAGER_HV_MADE_MAX];
	size_t n_hv_made;
	char hv_made_path[PATH_MAX];
	/* Locks taken for processes that open a profile's device node (handoff.h); NULL until manager_start(). */
	handoff *handoff;
	unsigned last_n_held;		/* what ForeignLocks said last */
	char unknown_cpus[96];		/* CPUs last reported as held by an unknown hypervisor */
};

int manager_new(sd_event *e, const char *config_path, bool load_virthw, struct manager **ret);
struct manager *manager_free(struct manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct manager *, manager_free);

/* Start-up: the configuration (a bad file is an error), virthw, uevents. */
int manager_load_config(struct manager *m, bool initial, char **ret_errors);
int manager_start(struct manager *m);

/*
 * Front ends add themselves once they are ready to be told, and remove
 * themselves (by USERDATA) before they go; -ENOSPC beyond
 * MANAGER_OBSERVERS_MAX.
 */
int manager_add_observer(struct manager *m, const struct manager_observer *o, void *userdata);
void manager_remove_observer(struct manager *m, void *userdata);
/* What the front end publishes, now. */
void manager_publish(const struct manager *m, struct manager_published *ret);

/* SIGHUP and Reload(): re-read the configuration; on success reconcile.  *ret_errors as manager_load_config(). */
int manager_reload(struct manager *m, char **ret_errors);

/* Re-observes, decides, applies, re-observes, verifies; logs and publishes what changed.  WHY is for the journal. */
void manager_reconcile(struct manager *m, const char *why);
/*
 * Schedules a reconcile from the event loop (coalesces bursts of events).
 * NEWS: the event is not just the echo of a module load or unload, so a
 * failed action may be tried again and a settling transition gets its
 * full retry budget.
 */
void manager_queue_reconcile_full(struct manager *m, const char *why, bool news);
void manager_queue_reconcile(struct manager *m, const char *why);

/* Re-reads the VM list (PIDs, command lines) when a VM uevent left it behind the count. */
void manager_refresh_vms(struct manager *m);

/* "2 KVM VMs running: pid 812 (qemu-system-x86_64 ...), pid 840 (...)" from the last observation. */
void manager_describe_vms(struct manager *m, char *buf, size_t size);
/*
 * Whether VMs run now, KVM's (virtd's own not counted) or a shared-mode
 * hypervisor's inside KVM (a fresh scan): if so, true and their description in BUF.
 */
bool manager_vms_running(struct manager *m, char *buf, size_t size);

/*
 * Re-reads the per-CPU state before a GetStatus answer: an out-of-tree
 * hypervisor turns VMX/SVM on and off without any event virtd could see.
 * A change queues a reconcile.
 */
void manager_refresh_cpus(struct manager *m);
