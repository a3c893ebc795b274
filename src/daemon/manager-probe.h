/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* manager-probe.h: virtctl probe through virtd: the foreign lock taken for it, the run in a child, the reply later. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-bus.h>

#include "probe-json.h"

struct manager;

/* Probe()'s refusals besides VMsRunning, Timeout and CannotHold. */
#define BUS_ERROR_PROBE_FAILED "org.virtd1.Error.ProbeFailed"
#define BUS_ERROR_PROBE_BUSY "org.virtd1.Error.ProbeBusy"

/* How long KVM may take to get out of the way before a probe is refused. */
#define PROBE_SETTLE_USEC (30ULL * 1000 * 1000)

/*
 * Starts a probe for the Probe() call MSG (referenced, answered later):
 * refuses at once (returning the sd_bus_error's errno) when a probe runs,
 * KVM VMs exist or virthw is missing; otherwise takes a foreign-hypervisor
 * lock of virtd's own, reconciles (KVM unloaded, CPUs verified off), runs
 * virthw's PROBE per CPU in a child process, releases the lock (the policy
 * comes back) and only then answers.  Returns 1 (answered later).
 */
int manager_probe_start(struct manager *m, sd_bus_message *msg, uint32_t cpu, uint32_t iterations, pid_t caller,
			sd_bus_error *error);

/* After every reconcile: runs the probe once KVM is out, answers once its lock is gone. */
void manager_probe_check(struct manager *m);

/* virtd stops: the caller is told; a running child finishes on its own, holding the lock until it exits. */
void manager_probe_free(struct manager *m);
