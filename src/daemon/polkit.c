/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* polkit.c: CheckAuthorization() on polkitd over sd-bus, asynchronously, and what its answer means. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "polkit.h"

struct polkit_query {
	sd_bus_slot *slot;
	polkit_callback cb;
	void *userdata;
};

polkit_query *polkit_query_free(polkit_query *q)
{
	if (!q)
		return NULL;
	sd_bus_slot_unref(q->slot);
	free(q);
	return NULL;
}

static bool is_absent_error(const char *name)
{
	return name && (strcmp(name, SD_BUS_ERROR_SERVICE_UNKNOWN) == 0 || strcmp(name, SD_BUS_ERROR_NAME_HAS_NO_OWNER) == 0);
}

void polkit_parse_reply(sd_bus_message *reply, struct polkit_answer *ret)
{
	int authorized = 0, challenge = 0, r;

	memset(ret, 0, sizeof(*ret));
	if (sd_bus_message_is_method_error(reply, NULL)) {
		const sd_bus_error *e = sd_bus_message_get_error(reply);
		const char *name = e && e->name ? e->name : "(unnamed error)";

		ret->verdict = is_absent_error(name) ? POLKIT_ABSENT : POLKIT_FAILED;
		snprintf(ret->detail, sizeof(ret->detail), "%s: %s", name, e && e->message ? e->message : "(no message)");
		return;
	}
	r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
	if (r > 0)
		r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
	/* The details (a{ss}) say nothing virtd acts on: skipped, not read. */
	if (r <= 0) {
		ret->verdict = POLKIT_FAILED;
		snprintf(ret->detail, sizeof(ret->detail), "unreadable CheckAuthorization reply (signature '%s'): %s",
			 sd_bus_message_get_signature(reply, true) ?: "?", r < 0 ? strerror(-r) : "empty");
		return;
	}
	if (authorized)
		ret->verdict = POLKIT_AUTHORIZED;
	else if (challenge)
		ret->verdict = POLKIT_CHALLENGE;
	else
		ret->verdict = POLKIT_DENIED;
}

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	polkit_query *q = userdata;
	struct polkit_answer a;

	(void)error;
	polkit_parse_reply(reply, &a);
	q->cb(&a, q->userdata);
	polkit_query_free(q);
	return 0;
}

int polkit_check_async(sd_bus *bus, sd_bus_message *msg, const char *action_id, polkit_callback cb, void *userdata,
		       polkit_query **ret)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
	const char *sender = sd_bus_message_get_sender(msg);
	uint32_t flags = 0;
	polkit_query *q;
	int r;

	if (!sender)
		return -EBADMSG;	/* a direct connection: no bus name to ask about */
	if (sd_bus_message_get_allow_interactive_authorization(msg) > 0)
		flags |= POLKIT_CHECK_ALLOW_USER_INTERACTION;
	r = sd_bus_message_new_method_call(bus, &call, POLKIT_BUS_NAME, POLKIT_BUS_PATH, POLKIT_BUS_INTERFACE,
					   "CheckAuthorization");
	if (r < 0)
		return r;
	/* Subject: the calling connection, which polkitd resolves to its process and user itself. */
	r = sd_bus_message_append(call, "(sa{sv})s", "system-bus-name", 1, "name", "s", sender, action_id);
	if (r < 0)
		return r;
	/* No details; flags; no cancellation id (cancelling drops the reply, polkitd's work is short). */
	r = sd_bus_message_append(call, "a{ss}us", 0, flags, "");
	if (r < 0)
		return r;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->cb = cb;
	q->userdata = userdata;
	/* Interactive: the user may take a while at the agent; otherwise sd-bus's default (25 s). */
	r = sd_bus_call_async(bus, &q->slot, call, on_reply, q,
			      (flags & POLKIT_CHECK_ALLOW_USER_INTERACTION) ? 120ULL * 1000 * 1000 : 0);
	if (r < 0) {
		free(q);
		return r;
	}
	if (ret)
		*ret = q;
	return 0;
}

void polkit_refusal_text(const struct polkit_answer *a, const char *action_id, uid_t uid, const char *hint, char *buf,
			 size_t size)
{
	switch (a->verdict) {
	case POLKIT_AUTHORIZED:
		snprintf(buf, size, "%s", "");
		return;
	case POLKIT_DENIED:
		snprintf(buf, size, "Not authorized for %s (caller uid %u): %s", action_id, (unsigned)uid, hint);
		return;
	case POLKIT_CHALLENGE:
		snprintf(buf, size,
			 "Not authorized for %s (caller uid %u): polkit wants an authentication this call did not allow "
			 "(no interactive authorization); %s",
			 action_id, (unsigned)uid, hint);
		return;
	case POLKIT_ABSENT:
		snprintf(buf, size,
			 "Not authorized for %s (caller uid %u): polkit is not running (no %s on the system bus), so only "
			 "root may do this",
			 action_id, (unsigned)uid, POLKIT_BUS_NAME);
		return;
	case POLKIT_FAILED:
		break;
	}
	snprintf(buf, size, "Not authorized for %s (caller uid %u): polkit could not be asked (%s), so only root may do this",
		 action_id, (unsigned)uid, a->detail);
}
