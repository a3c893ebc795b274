/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* handoff.h: the transparent hand-off: a profile's VM program started takes the foreign lock for its process (fanotify). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"
#include "profiles.h"

/*
 * Every profile's HandOffPrograms= file carries a FAN_OPEN_EXEC_PERM mark,
 * so that execve(2) of it waits in the kernel until virtd answers.  virtd
 * takes the lock on the process's behalf first — the profile's mode, through
 * the same request path as AcquireForeign() but with no bus call — and
 * allows the execution once it is granted, or denies it (EPERM for the
 * caller, the reason in the journal) when it cannot be had within
 * HandOffTimeout=.  The lock is held by virtd itself (the FIFO's write end)
 * for as long as one of the processes it let through lives (a pidfd each);
 * when the last has exited the write end closes and the lock goes as any
 * other holder's would.
 *
 * Why programs and not the device nodes (Devices=): fanotify reports events
 * on regular files and directories only (fanotify_group_event_mask(): "only
 * relevant for files and dirs"), so a mark on /dev/vboxdrv is accepted and
 * never fires, and FAN_REPORT_FID, which would lift that, is refused with
 * permission events.
 */
typedef struct handoff handoff;
struct manager;

int handoff_new(struct manager *m, handoff **ret);
/* Refuses what still waits (EPERM for those processes) and drops the fanotify group; the locks go with virtd. */
handoff *handoff_free(handoff *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(handoff *, handoff_free);

/*
 * After every (re)load of the configuration and the profiles: HandOff=no
 * closes the fanotify group (waiting executions denied), yes (re)creates it
 * and marks the programs that exist now; the others are marked when they
 * appear in their directory.
 * A lock already held by a hand-off stays until its processes exit.
 */
void handoff_configure(handoff *h);

/* For status (status-json.h): the state, why it is not active, the programs, the locks taken and their processes. */
struct status_handoff;
void handoff_status(const handoff *h, struct status_handoff *ret);
