/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manager-probe.h: virtctl probe through virtd: the foreign lock taken for
 * it, the run in a child, the result later.  Above the manager (it uses the
 * manager's state and lock registry), below the bus layer, which turns the
 * result into the Probe() reply.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "errors.h"
#include "probe-json.h"

struct manager;
typedef struct manager_probe manager_probe;

/* How long KVM may take to get out of the way before a probe is refused. */
#define PROBE_SETTLE_USEC (30ULL * 1000 * 1000)

/*
 * The end of a probe: E is VIRTD_ERROR_NONE and TEXT the result document
 * (probe-json.h), or the error and TEXT its words.  Called once; the probe
 * is gone (its slot NULL) by then.
 */
typedef void (*probe_done_fn)(void *userdata, enum virtd_error e, const char *text);

/*
 * Starts a probe in *SLOT (at most one runs): refuses at once, returning 0
 * with *FAIL filled in, when one runs already, KVM VMs exist, virthw is
 * missing or ITERATIONS is out of range; otherwise takes a
 * foreign-hypervisor lock of virtd's own, reconciles (KVM unloaded, CPUs
 * verified off), runs virthw's PROBE per CPU in a child process, releases
 * the lock (the policy comes back) and only then calls DONE.  Returns 1
 * (DONE comes later), or a negative errno.
 */
int manager_probe_start(struct manager *m, manager_probe **slot, uint32_t cpu, uint32_t iterations, pid_t caller,
			probe_done_fn done, void *userdata, struct virtd_failure *fail);

/* After every reconcile: runs the probe once KVM is out, calls DONE once its lock is gone. */
void manager_probe_check(manager_probe *p);

/* virtd stops: DONE is told (PROBE_FAILED); a running child finishes on its own, holding the lock until it exits. */
void manager_probe_free(manager_probe *p);
