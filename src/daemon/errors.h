/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * errors.h: the ways a request to virtd can fail, as the engine names them
 * (AcquireForeign, Probe, Reload).  Below every layer: the lock registry,
 * the manager and the probe report these; only the bus front end knows
 * their D-Bus names (bus-manager.h, bus_error_name()).
 */
#pragma once

#include <stddef.h>

enum virtd_error {
	VIRTD_ERROR_NONE,
	VIRTD_ERROR_INVALID_ARGS,	/* the request itself is malformed */
	VIRTD_ERROR_CONFIG_INVALID,	/* a reload found the configuration invalid */
	VIRTD_ERROR_VMS_RUNNING,	/* KVM VMs run: KVM cannot be put out of the way */
	VIRTD_ERROR_TIMEOUT,		/* waited as long as asked */
	VIRTD_ERROR_CANNOT_HOLD,	/* virtualization cannot be made free on this host now */
	VIRTD_ERROR_PROBE_FAILED,
	VIRTD_ERROR_PROBE_BUSY,		/* another probe runs */
	_VIRTD_ERROR_MAX,
};

/* How the transport that carries a request names an error (the bus layer passes bus_error_name()). */
typedef const char *(*virtd_error_name_fn)(enum virtd_error e);

/* A refusal: the kind and the words for the caller. */
struct virtd_failure {
	enum virtd_error error;
	char message[600];
};
