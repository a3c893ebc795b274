/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-polkit.c: unit tests of how virtd reads polkit's CheckAuthorization answers and words its refusals. */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "macro.h"
#include "polkit.h"
#include "tests.h"

/*
 * sd-bus makes messages only on a bus that has been started: one end of a
 * socket pair, which never finishes its greeting, is enough.
 */
static sd_bus *test_bus(int *peer)
{
	sd_bus *bus = NULL;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
		return NULL;
	if (sd_bus_new(&bus) < 0 || sd_bus_set_fd(bus, sv[0], sv[0]) < 0 || sd_bus_start(bus) < 0) {
		sd_bus_unref(bus);
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}
	*peer = sv[1];
	return bus;
}

/* A reply carrying SIG's values: "(bba{ss})" with AUTH, CHALLENGE and one detail, or a lone "b". */
static sd_bus_message *reply_with(sd_bus *bus, const char *sig, int auth, int challenge)
{
	sd_bus_message *m = NULL;
	int r;

	if (sd_bus_message_new_signal(bus, &m, "/", "org.example.Test", "Reply") < 0)
		return NULL;
	if (strcmp(sig, "(bba{ss})") == 0)
		r = sd_bus_message_append(m, sig, auth, challenge, 1, "polkit.retains_authorization_after_challenge", "1");
	else
		r = sd_bus_message_append(m, sig, auth);
	if (r < 0 || sd_bus_message_seal(m, 1, 0) < 0)
		return sd_bus_message_unref(m);
	return m;
}

static sd_bus_message *error_reply(sd_bus *bus, const char *name, const char *text)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL;

	if (sd_bus_message_new_method_call(bus, &call, POLKIT_BUS_NAME, POLKIT_BUS_PATH, POLKIT_BUS_INTERFACE,
					   "CheckAuthorization") < 0 ||
	    sd_bus_message_seal(call, 2, 0) < 0)
		return NULL;
	(void)sd_bus_error_set(&e, name, text);
	if (sd_bus_message_new_method_error(call, &m, &e) < 0 || sd_bus_message_seal(m, 3, 0) < 0)
		m = sd_bus_message_unref(m);
	sd_bus_error_free(&e);
	return m;
}

static void test_parse(sd_bus *bus)
{
	static const struct {
		const char *sig;
		int auth, challenge;
		enum polkit_verdict want;
	} cases[] = {
		{ "(bba{ss})", 1, 0, POLKIT_AUTHORIZED },
		/* Authorized wins over a stale challenge flag. */
		{ "(bba{ss})", 1, 1, POLKIT_AUTHORIZED },
		{ "(bba{ss})", 0, 1, POLKIT_CHALLENGE },
		{ "(bba{ss})", 0, 0, POLKIT_DENIED },
		/* Not polkit's signature: never read as a yes. */
		{ "b", 1, 0, POLKIT_FAILED },
	};
	static const struct {
		const char *name;
		enum polkit_verdict want;
	} errors[] = {
		{ "org.freedesktop.DBus.Error.ServiceUnknown", POLKIT_ABSENT },
		{ "org.freedesktop.DBus.Error.NameHasNoOwner", POLKIT_ABSENT },
		{ "org.freedesktop.PolicyKit1.Error.Failed", POLKIT_FAILED },
		{ "org.freedesktop.DBus.Error.NoReply", POLKIT_FAILED },
		{ "org.freedesktop.DBus.Error.AccessDenied", POLKIT_FAILED },
	};
	struct polkit_answer a;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = reply_with(bus, cases[i].sig, cases[i].auth,
										 cases[i].challenge);

		CHECK(m != NULL, "reply %s %d %d built", cases[i].sig, cases[i].auth, cases[i].challenge);
		if (!m)
			continue;
		polkit_parse_reply(m, &a);
		CHECK(a.verdict == cases[i].want, "reply %s auth=%d challenge=%d -> %d (got %d, %s)", cases[i].sig,
		      cases[i].auth, cases[i].challenge, cases[i].want, a.verdict, a.detail);
	}
	for (size_t i = 0; i < ELEMENTSOF(errors); i++) {
		_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = error_reply(bus, errors[i].name, "the text");

		CHECK(m != NULL, "error %s built", errors[i].name);
		if (!m)
			continue;
		polkit_parse_reply(m, &a);
		CHECK(a.verdict == errors[i].want, "error %s -> %d (got %d)", errors[i].name, errors[i].want, a.verdict);
		CHECK(strstr(a.detail, errors[i].name) && strstr(a.detail, "the text"), "error %s detail: %s",
		      errors[i].name, a.detail);
	}
}

static void test_refusal_text(void)
{
	struct polkit_answer a = { .verdict = POLKIT_DENIED };
	char buf[600];

	polkit_refusal_text(&a, "org.virtd1.acquire-foreign", 1000, "add the user to group vboxusers", buf, sizeof(buf));
	CHECK_STR(buf, "Not authorized for org.virtd1.acquire-foreign (caller uid 1000): add the user to group vboxusers",
		  "denied names the action, the uid and the fix");
	a.verdict = POLKIT_CHALLENGE;
	polkit_refusal_text(&a, "org.virtd1.reload", 1001, "ask an administrator", buf, sizeof(buf));
	CHECK(strstr(buf, "org.virtd1.reload (caller uid 1001)") && strstr(buf, "interactive") &&
		      strstr(buf, "ask an administrator"),
	      "challenge: %s", buf);
	a.verdict = POLKIT_ABSENT;
	polkit_refusal_text(&a, "org.virtd1.probe", 1000, "the hint", buf, sizeof(buf));
	CHECK(strstr(buf, "org.virtd1.probe") && strstr(buf, "polkit is not running") && strstr(buf, "only root") &&
		      !strstr(buf, "the hint"),
	      "absent: %s", buf);
	a.verdict = POLKIT_FAILED;
	snprintf(a.detail, sizeof(a.detail), "org.example.Oops: broken");
	polkit_refusal_text(&a, "org.virtd1.probe", 1000, "the hint", buf, sizeof(buf));
	CHECK(strstr(buf, "org.example.Oops: broken") && strstr(buf, "only root"), "failed: %s", buf);
	a.verdict = POLKIT_AUTHORIZED;
	polkit_refusal_text(&a, "org.virtd1.probe", 0, "the hint", buf, sizeof(buf));
	CHECK_STR(buf, "", "authorized: no words");
	/* Truncated, never overrun. */
	a.verdict = POLKIT_DENIED;
	polkit_refusal_text(&a, "org.virtd1.acquire-foreign", 1000, "add the user to group vboxusers", buf, 20);
	CHECK(strlen(buf) == 19, "truncated to the buffer: '%s'", buf);
}

int main(void)
{
	int peer = -1;
	sd_bus *bus = test_bus(&peer);

	CHECK(bus != NULL, "a started bus to build messages on");
	if (bus)
		test_parse(bus);
	test_refusal_text();
	sd_bus_flush_close_unref(bus);
	if (peer >= 0)
		close(peer);
	return tests_finish();
}
