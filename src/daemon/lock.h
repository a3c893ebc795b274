/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lock.h: the foreign-hypervisor lock registry: FIFOs in /run/virtd/locks, hang-up watch, adoption, waiting requests. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "errors.h"
#include "lock-meta.h"
#include "macro.h"
#include "policy.h"

/*
 * As logind's inhibitor locks: each holder gets the write end of a FIFO of
 * its own and virtd keeps the read end, so the lock is held exactly while
 * some process has a copy of that descriptor open.  When the last copy
 * closes — the holder exits, SIGKILL included — the read end reports
 * EPOLLHUP at once.  The FIFO and a metadata file (<id>.lock) stay in the
 * directory while virtd is down, so that a restarted virtd adopts the locks
 * still held and drops those whose holder went away meanwhile.
 */
typedef struct lock_registry lock_registry;

/*
 * How a request from inside virtd (no bus call: the hand-off, handoff.h)
 * learns its outcome: granted (E VIRTD_ERROR_NONE, FD the write end, the
 * callee's to keep or close) or refused (FD -1, TEXT why).  The request is
 * freed right after.
 */
typedef void (*lock_answer_fn)(const struct lock_info *info, int fd, enum virtd_error e, const char *text,
			       void *userdata);

/* A caller waiting for KVM to get out of the way; answered later. */
struct lock_request {
	struct lock_info info;		/* id 0: not granted yet */
	uint64_t flags;			/* LOCK_FLAG_* */
	uint64_t timeout_usec;		/* as asked; 0 with LOCK_FLAG_WAIT: for ever */
	uint64_t deadline;		/* CLOCK_MONOTONIC; UINT64_MAX: none */
	sd_bus_message *msg;		/* the AcquireForeign() call; NULL: answered through ANSWER */
	lock_answer_fn answer;
	void *answer_data;
	virtd_error_name_fn error_name;	/* how its errors are named on the bus */
	sd_event_source *timer;
	sd_bus_track *track;		/* notices the caller leaving the bus */
	lock_registry *registry;
};

struct lock_callbacks {
	/* A holder's last descriptor closed; L is gone from the registry already. */
	void (*released)(const struct lock_info *l, void *userdata);
	/* REQ's deadline passed: answer it (lock_request_fail()). */
	void (*timeout)(struct lock_request *req, void *userdata);
	/* A waiting caller left the bus; the request is gone already. */
	void (*withdrawn)(const struct lock_info *l, void *userdata);
};

int lock_registry_new(sd_event *e, const char *dir, const struct lock_callbacks *cb, void *userdata,
		      lock_registry **ret);
/* Closes the read ends but leaves the files: the locks outlive this virtd.  Waiting callers are told it stops. */
lock_registry *lock_registry_free(lock_registry *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(lock_registry *, lock_registry_free);

/*
 * Start-up: takes over the locks a previous virtd granted.  Malformed
 * metadata, FIFOs without metadata, and locks whose holder has gone are
 * removed (and logged); the rest are watched again.  Returns how many are
 * held, or a negative errno when the directory cannot be read or made.
 */
int lock_registry_adopt(lock_registry *r);

/* The policy's view: holders in exclusive mode (n_held), in shared mode (n_shared), waiting requests. */
struct lock_holders lock_registry_holders(const lock_registry *r);
/* Every holder, either mode. */
size_t lock_registry_n_held(const lock_registry *r);
/* Whether the I-th holder has the lock in shared mode. */
bool lock_registry_held_shared(const lock_registry *r, size_t i);
const struct lock_info *lock_registry_held(const lock_registry *r, size_t i);

/* PID's start time (/proc/PID/stat, clock ticks since boot), 0 when it is gone. */
uint64_t lock_proc_start(pid_t pid);

/*
 * A hand-off lock's processes, recorded in its metadata (handoff=) so that
 * a restarted virtd holds it for them again.  0, -ENOENT (no such lock), or
 * a negative errno from writing the file.
 */
int lock_registry_set_handoff(lock_registry *r, uint32_t id, const struct lock_proc *procs, size_t n);

/*
 * An adopted hand-off lock (held lock I, with processes that still ran):
 * the FIFO's write end virtd opened for it, handed over once (the hand-off
 * then holds it, handoff.c).  0, or -ENOENT when I has none.
 */
int lock_registry_claim_kept(lock_registry *r, size_t i, int *ret_fd);
size_t lock_registry_n_waiting(const lock_registry *r);
struct lock_request *lock_registry_request(const lock_registry *r, size_t i);

/* A lock for INFO (id assigned here), not tied to a bus call: the write end in *ret_fd (O_CLOEXEC). */
int lock_registry_grant(lock_registry *r, struct lock_info *info, int *ret_fd);
/*
 * The same, SHARED: for a hypervisor that runs inside KVM's VMX root
 * (profiles.h): the holder is recorded, but it does not suspend the policy
 * (lock_holders.n_shared, not n_held).  The mode is in the metadata
 * (mode=shared): a restarted virtd adopts it as a shared holder again.
 */
int lock_registry_grant_mode(lock_registry *r, struct lock_info *info, bool shared, int *ret_fd);

/*
 * Queues a waiting request for MSG (referenced), with its deadline armed;
 * its refusals are answered with the error names ERROR_NAME gives.
 */
int lock_registry_add_request(lock_registry *r, sd_bus_message *msg, virtd_error_name_fn error_name,
			      const struct lock_info *info, uint64_t flags, uint64_t timeout_usec,
			      struct lock_request **ret);
/* The same for a request from inside virtd: no bus call, ANSWER(…, USERDATA) is told the outcome. */
int lock_registry_add_request_internal(lock_registry *r, lock_answer_fn answer, void *userdata,
				       const struct lock_info *info, uint64_t flags, uint64_t timeout_usec,
				       struct lock_request **ret);
/* Refuses every waiting request with E and MESSAGE (virtd stops: before the bus goes). */
void lock_registry_fail_waiting(lock_registry *r, enum virtd_error e, const char *message);
/* Grants REQ and answers its call with the descriptor; REQ is freed either way.  0 or a negative errno. */
int lock_request_grant(struct lock_request *req, struct lock_info *ret_info);
/* Answers REQ with the error E (named by its error_name) and frees it. */
void lock_request_fail(struct lock_request *req, enum virtd_error e, const char *fmt, ...) _printf_(3, 4);
