/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-bus-client.c: unit tests of how virtctl reads D-Bus error names from virtd. */
#include <errno.h>

#include "bus-client.h"
#include "macro.h"
#include "tests.h"

static void test_classify(void)
{
	static const struct {
		const char *name;
		int r;
	} cases[] = {
		{ "org.freedesktop.DBus.Error.ServiceUnknown", -EHOSTDOWN },
		{ "org.freedesktop.DBus.Error.NameHasNoOwner", -EHOSTDOWN },
		{ "org.freedesktop.DBus.Error.AccessDenied", -EACCES },
		{ "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired", -EACCES },
		{ "org.virtd1.Error.ConfigInvalid", -EINVAL },
		{ "org.virtd1.Error.VMsRunning", -EBUSY },
		{ "org.virtd1.Error.ProbeFailed", -EREMOTEIO },
		{ "org.virtd1.Error.ProbeBusy", -EALREADY },
		{ "org.virtd1.Error.CannotHold", -EOPNOTSUPP },
		{ "org.freedesktop.DBus.Error.UnknownMethod", -EPROTO },
		{ "org.freedesktop.DBus.Error.UnknownObject", -EPROTO },
		{ "org.freedesktop.DBus.Error.UnknownInterface", -EPROTO },
		{ "org.freedesktop.DBus.Error.NoReply", -ETIMEDOUT },
		{ "org.freedesktop.DBus.Error.Timeout", -ETIMEDOUT },
		/* sd-bus maps Failed to EACCES: that must not read "needs root". */
		{ "org.freedesktop.DBus.Error.Failed", -EIO },
		{ "org.freedesktop.DBus.Error.NoMemory", -EIO },
		{ "org.example.Whatever", -EIO },
		{ "System.Error.ECONNRESET", -ECONNRESET },
		{ "System.Error.ENOENT", -ENOENT },
		{ "System.Error.NOTANERRNO", -EIO },
		{ "", -EIO },
		{ NULL, -EIO },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		int r = bus_error_classify(cases[i].name);

		CHECK(r == cases[i].r, "%s -> %d (got %d)", cases[i].name ? cases[i].name : "(null)", cases[i].r, r);
	}
}

int main(void)
{
	test_classify();
	return tests_finish();
}
