/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* watchdog.h: systemd's service watchdog (WatchdogSec=): WATCHDOG=1 well inside the interval, nothing without it. */
#pragma once

#include <stdint.h>

#include <systemd/sd-event.h>

/*
 * Arms a timer that sends WATCHDOG=1 every WATCHDOG_USEC/3 (at most
 * WATCHDOG_USEC/3 + WATCHDOG_USEC/12 apart, so always under half the
 * interval systemd asked for) while the event loop turns.  Without
 * WatchdogSec= (no WATCHDOG_USEC, or one meant for another PID) it arms
 * nothing: an idle virtd then never wakes up on its own.
 *
 * Returns 1 with *RET the timer (the caller unrefs it), 0 when there is no
 * watchdog (*RET NULL), or a negative errno.  RET_USEC, when not NULL, gets
 * WATCHDOG_USEC (0 without one).
 */
int watchdog_setup(sd_event *e, sd_event_source **ret, uint64_t *ret_usec);
