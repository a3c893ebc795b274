/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* progs-common.c: helpers shared by the guest test programs (tests/vm/progs). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "progs-common.h"

volatile sig_atomic_t got_signal;

const char *errname(int e)
{
	static char buf[16];
	const char *n = strerrorname_np(e);

	if (n)
		return n;
	snprintf(buf, sizeof(buf), "%d", e);
	return buf;
}

long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int parse_positive(const char *s, long *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

static void on_signal(int sig)
{
	got_signal = sig;
}

void catch_release_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

const char *hold_until_released(long hold_s, bool watch_stdin)
{
	long long deadline = hold_s >= 0 ? now_us() + hold_s * 1000000LL : -1;

	while (!got_signal) {
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
		int timeout = -1, r;

		if (deadline >= 0) {
			long long left = deadline - now_us();

			if (left <= 0)
				return "hold expired";
			timeout = (int)((left + 999) / 1000);
		}
		r = poll(&p, watch_stdin ? 1 : 0, timeout);
		if (r < 0 && errno != EINTR)
			return "poll failed";
		/* Any input, EOF or hang-up: the controlling side is done. */
		if (r > 0)
			return "stdin";
	}
	return got_signal == SIGINT ? "SIGINT" : "SIGTERM";
}
