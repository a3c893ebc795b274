/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-manager.h: the org.virtd1.Manager D-Bus interface on /org/virtd1 (properties, GetStatus, Reload, AcquireForeign). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct manager;

#define BUS_NAME "org.virtd1"
#define BUS_PATH "/org/virtd1"
#define BUS_INTERFACE "org.virtd1.Manager"
#define BUS_ERROR_CONFIG_INVALID "org.virtd1.Error.ConfigInvalid"
/* AcquireForeign()'s refusals. */
#define BUS_ERROR_VMS_RUNNING "org.virtd1.Error.VMsRunning"
#define BUS_ERROR_TIMEOUT "org.virtd1.Error.Timeout"
#define BUS_ERROR_CANNOT_HOLD "org.virtd1.Error.CannotHold"

/*
 * Whether KVM VMs run (virtd's own process not counted): if so, true and
 * "N KVM VMs running: pid P (cmdline), ..." in @vms (AcquireForeign's and
 * Probe()'s refusal, cut to @size).
 */
bool bus_vms_running(char *vms, size_t size);

/* Connects to the system bus, publishes the object, takes the name. */
int bus_manager_init(struct manager *m);
void bus_manager_done(struct manager *m);

/* Emits PropertiesChanged for those that differ from the old values. */
void bus_manager_emit_changes(struct manager *m, const char *old_state, const char *old_reason,
			      const char *old_applied, unsigned old_vms, bool old_pinned, unsigned old_locks);

/* SIGHUP and Reload(): re-read the configuration; on success reconcile.  *ret_errors as manager_load_config(). */
int manager_reload(struct manager *m, char **ret_errors);
