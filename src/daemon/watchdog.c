/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* watchdog.c: systemd's service watchdog (WatchdogSec=): WATCHDOG=1 well inside the interval, nothing without it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <stdbool.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "watchdog.h"

/*
 * Not sd_event_set_watchdog(): sd-event pings between 1/2 and 3/4 of the
 * interval, and a loaded host can then miss it.  A third leaves room for a
 * reconcile that blocks the loop (module loads take seconds on slow
 * machines) before systemd's deadline.
 */
static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata)
{
	uint64_t period = *(uint64_t *)userdata;

	(void)sd_notify(false, "WATCHDOG=1");
	/* From now, not from the planned time: after a stall the next ping still comes a period later. */
	(void)usec;
	(void)sd_event_source_set_time_relative(s, period);
	return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

int watchdog_setup(sd_event *e, sd_event_source **ret, uint64_t *ret_usec)
{
	static uint64_t period;
	uint64_t usec = 0;
	int r;

	*ret = NULL;
	if (ret_usec)
		*ret_usec = 0;
	r = sd_watchdog_enabled(false, &usec);
	if (r <= 0 || usec == 0)
		return r < 0 ? r : 0;
	if (ret_usec)
		*ret_usec = usec;
	period = usec / 3;
	/* The first ping at once: start-up may have taken a while already. */
	(void)sd_notify(false, "WATCHDOG=1");
	r = sd_event_add_time_relative(e, ret, CLOCK_MONOTONIC, period, usec / 12, on_watchdog, &period);
	if (r < 0)
		return r;
	(void)sd_event_source_set_description(*ret, "watchdog");
	return 1;
}
