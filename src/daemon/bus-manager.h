/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus-manager.h: the org.virtd1.Manager D-Bus interface on /org/virtd1
 * (properties, GetStatus, Reload, AcquireForeign, Probe): the front end.
 * It observes the manager (manager_add_observer()) and names the manager's
 * errors on the bus; nothing below includes this header.
 */
#pragma once

#include "errors.h"
#include "macro.h"

struct manager;
typedef struct bus_manager bus_manager;

#define BUS_NAME "org.virtd1"
#define BUS_PATH "/org/virtd1"
#define BUS_INTERFACE "org.virtd1.Manager"

/* enum virtd_error on the bus: the only place these names are spelled in virtd. */
#define BUS_ERROR_CONFIG_INVALID "org.virtd1.Error.ConfigInvalid"
/* AcquireForeign()'s and Probe()'s refusals. */
#define BUS_ERROR_VMS_RUNNING "org.virtd1.Error.VMsRunning"
#define BUS_ERROR_TIMEOUT "org.virtd1.Error.Timeout"
#define BUS_ERROR_CANNOT_HOLD "org.virtd1.Error.CannotHold"
/* Probe()'s own. */
#define BUS_ERROR_PROBE_FAILED "org.virtd1.Error.ProbeFailed"
#define BUS_ERROR_PROBE_BUSY "org.virtd1.Error.ProbeBusy"

/* The D-Bus error name of E (org.freedesktop.DBus.Error.InvalidArgs for VIRTD_ERROR_INVALID_ARGS). */
const char *bus_error_name(enum virtd_error e);

/* Connects to the system bus, publishes the object, observes M, takes the name (last). */
int bus_manager_new(struct manager *m, bus_manager **ret);
/* Callers still waiting (a probe, lock requests) are told that virtd stops; then the bus is flushed and closed. */
bus_manager *bus_manager_free(bus_manager *b);
DEFINE_TRIVIAL_CLEANUP_FUNC(bus_manager *, bus_manager_free);
