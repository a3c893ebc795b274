/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lock-meta.h: the foreign-hypervisor lock's pure parts: who/why rules, the metadata file, ids, deadlines. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Where the FIFOs and their metadata live: kept across restarts of virtd (RuntimeDirectoryPreserve=). */
#define LOCK_DIR "/run/virtd/locks"

#define LOCK_WHO_MAX 64
#define LOCK_WHY_MAX 256

/* AcquireForeign()'s flags. */
#define LOCK_FLAG_WAIT UINT64_C(1)
#define LOCK_FLAGS_ALL LOCK_FLAG_WAIT

/* Processes a hand-off lock is held for (handoff.h), at most this many recorded. */
#define LOCK_HANDOFF_MAX 16

/* A process by pid and start time (/proc/PID/stat's 22nd field, clock ticks since boot): a reused pid is another. */
struct lock_proc {
	pid_t pid;
	uint64_t start;
};

/* One holder, as the metadata file and the status document carry it. */
struct lock_info {
	uint32_t id;
	char who[LOCK_WHO_MAX + 1];
	char why[LOCK_WHY_MAX + 1];
	pid_t pid;
	uid_t uid;
	uint64_t since_usec;	/* CLOCK_REALTIME */
	bool shared;		/* granted in shared mode (the hypervisor runs inside KVM): mode=shared */
	/* A hand-off lock: virtd holds its FIFO for these processes
	 * ("handoff=PID:START ..."), so that a restarted virtd keeps it for
	 * them; none for any other lock. */
	struct lock_proc handoff[LOCK_HANDOFF_MAX];
	size_t n_handoff;
};

/*
 * who: 1 to LOCK_WHO_MAX printable ASCII characters, no blank at either end
 * (it names a program in the journal and in status).  why: up to
 * LOCK_WHY_MAX bytes of UTF-8 without control characters (may be empty).
 * Both end up in one line of the metadata file and in JSON.  0 or -EINVAL;
 * a reason for the caller in err.
 */
int lock_who_valid(const char *who, char *err, size_t err_size);
int lock_why_valid(const char *why, char *err, size_t err_size);

/* Whether s is well-formed UTF-8 (no overlongs, no surrogates). */
bool utf8_valid(const char *s);

/*
 * A copy of s fit to be a who or a why: control characters become '?',
 * invalid UTF-8 bytes too (and anything outside ASCII for who), blanks at the
 * ends go; cut to the limit at a character boundary with "..." when longer.
 * malloc'd, NULL on out of memory.
 */
char *lock_who_sanitize(const char *s);
char *lock_why_sanitize(const char *s);

/*
 * The metadata file <id>.lock, "key=value" lines (mode=shared|exclusive
 * among them, so that a restarted virtd adopts a holder in the mode it was
 * granted); malloc'd, NULL on out of memory.
 */
char *lock_meta_render(const struct lock_info *l);
/*
 * Parses it back; the id comes from the file name, not the text.  -EBADMSG
 * when a key is missing, repeated or malformed, or a value breaks the rules
 * above; unknown keys and '#' comments are ignored (a newer virtd may add
 * keys).  mode= is optional: a file without it (written before virtd kept
 * the mode) reads as exclusive; any value but shared or exclusive is
 * -EBADMSG.  handoff= is optional too: one to LOCK_HANDOFF_MAX blank-separated
 * PID:START pairs, both positive decimals.
 */
int lock_meta_parse(const char *text, struct lock_info *ret);

/* "<id>.lock" or "<id>.fifo" (decimal, no leading zero, id > 0) -> id; -EINVAL otherwise. */
int lock_id_from_name(const char *name, const char *suffix, uint32_t *ret);
/* The id after the highest in use (1 for none); the lowest unused one should that wrap. */
uint32_t lock_id_next(const uint32_t *used, size_t n);

/* The monotonic deadline of a wait of timeout_usec from now: UINT64_MAX for 0 (for ever) or overflow. */
uint64_t lock_deadline(uint64_t now_usec, uint64_t timeout_usec);
/* Seconds as --wait=SECONDS takes them ("30", "1.5", up to 6 decimals) in usec; -EINVAL or -ERANGE. */
int lock_parse_seconds(const char *s, uint64_t *ret_usec);
