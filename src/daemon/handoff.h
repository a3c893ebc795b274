/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* handoff.h: the transparent hand-off: a profile's device node opened takes the foreign lock for the opener (fanotify). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"
#include "profiles.h"

/*
 * Every profile's HandOffDevices= node (all of Devices= without the key)
 * carries a FAN_OPEN_PERM mark, so that open(2) of it waits in the kernel
 * until virtd answers.  virtd takes the lock on the opener's behalf first —
 * the profile's mode, through the same request path as AcquireForeign() but
 * with no bus call — and allows the open once it is granted, or denies it
 * (EPERM for the opener, the reason in the journal) when it cannot be had
 * within HandOffTimeout=.  The lock is held by virtd itself (the FIFO's write
 * end) for as long as one of the processes it let through lives (a pidfd
 * each); when the last has exited the write end closes and the lock goes as
 * any other holder's would.
 */
typedef struct handoff handoff;
struct manager;

int handoff_new(struct manager *m, handoff **ret);
/* Refuses what still waits (the openers get EPERM) and drops the fanotify group; the locks go with virtd. */
handoff *handoff_free(handoff *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(handoff *, handoff_free);

/*
 * After every (re)load of the configuration and the profiles: HandOff=no
 * closes the fanotify group (waiting opens denied), yes (re)creates it and
 * marks the nodes that exist now; the others are marked when they appear.
 * A lock already held by a hand-off stays until its processes exit.
 */
void handoff_configure(handoff *h);

/* For status: "active", "off" (HandOff=no) or "unavailable" (REASON says why). */
const char *handoff_state(const handoff *h, const char **ret_reason);
/* The I-th node hand-off watches: its path, profile, and whether it carries a mark now. */
bool handoff_node(const handoff *h, size_t i, const char **ret_path, const char **ret_profile, bool *ret_marked);

/* Whether lock ID was taken by a hand-off; if so its processes (up to N in PIDS, COMMS) and how many there are. */
#define HANDOFF_COMM_MAX 16
bool handoff_lock_processes(const handoff *h, uint32_t id, pid_t *pids, char (*comms)[HANDOFF_COMM_MAX], size_t n,
			    size_t *ret_n);
