/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * polkit.h: asks polkitd whether the sender of a bus call may do an action,
 * through polkit's D-Bus API (org.freedesktop.PolicyKit1.Authority
 * CheckAuthorization) on virtd's own sd-bus connection, asynchronously: the
 * event loop goes on while polkitd (or the user at an authentication agent)
 * makes up its mind.  No libpolkit, no GLib.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <systemd/sd-bus.h>

#include "macro.h"

#define POLKIT_BUS_NAME "org.freedesktop.PolicyKit1"
#define POLKIT_BUS_PATH "/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_BUS_INTERFACE "org.freedesktop.PolicyKit1.Authority"
/* CheckAuthorization()'s flag: polkit may ask the user (an agent) before it answers. */
#define POLKIT_CHECK_ALLOW_USER_INTERACTION 1U

enum polkit_verdict {
	POLKIT_AUTHORIZED,
	POLKIT_DENIED,		/* polkit says no */
	POLKIT_CHALLENGE,	/* yes after authentication, which the call did not allow */
	POLKIT_ABSENT,		/* polkitd is not on the bus (and cannot be activated) */
	POLKIT_FAILED,		/* polkitd answered with an error, or the answer was unreadable */
};

struct polkit_answer {
	enum polkit_verdict verdict;
	/* POLKIT_FAILED: what went wrong (error name and message); else empty. */
	char detail[256];
};

/* The answer to one query; called once, from the event loop, unless the query is freed first. */
typedef void (*polkit_callback)(const struct polkit_answer *answer, void *userdata);

typedef struct polkit_query polkit_query;

/*
 * Asks polkitd on BUS whether MSG's sender may do ACTION_ID, allowing user
 * interaction only when MSG allows interactive authorization.  CB gets the
 * answer later (never from inside this call); the query is freed after CB
 * returns.  *RET (may be NULL) is the query, for polkit_query_free() to
 * cancel it.  A negative errno when the question could not even be sent.
 */
int polkit_check_async(sd_bus *bus, sd_bus_message *msg, const char *action_id, polkit_callback cb, void *userdata,
		       polkit_query **ret);
/* Cancels the query: its callback is never called.  NULL is fine. */
polkit_query *polkit_query_free(polkit_query *q);

/*
 * CheckAuthorization()'s reply (or error reply) as a verdict: "(bba{ss})",
 * is_authorized and is_challenge; ServiceUnknown and NameHasNoOwner say that
 * polkitd is absent.  The pure half of the query, for the unit tests.
 */
void polkit_parse_reply(sd_bus_message *reply, struct polkit_answer *ret);

/*
 * The words for a caller that is not authorized: names ACTION_ID and UID,
 * and, when polkit said no, HINT (how to get the right).  Empty for
 * POLKIT_AUTHORIZED.
 */
void polkit_refusal_text(const struct polkit_answer *a, const char *action_id, uid_t uid, const char *hint, char *buf,
			 size_t size);
