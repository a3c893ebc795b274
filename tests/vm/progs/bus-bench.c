/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus-bench.c: virtd figures that need a bus client without an exec per step:
 * GetStatus round trips on one connection, and a lock cycle timed by virtd's
 * own State signals instead of polling; and the load test's clients: GetStatus
 * from many connections at once, many lock holders at once, many waiters
 * that time out.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "lock-meta.h"

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

struct state_watch {
	int saw_locked;
	int saw_holds_after_locked;
};

/* PropertiesChanged(s interface, a{sv} changed, as invalidated): follows State. */
static int on_properties(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct state_watch *w = userdata;
	const char *iface, *key, *value;
	int r;

	(void)error;
	if (sd_bus_message_read(msg, "s", &iface) < 0 || strcmp(iface, "org.virtd1.Manager") != 0)
		return 0;
	if (sd_bus_message_enter_container(msg, 'a', "{sv}") < 0)
		return 0;
	while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
		if (sd_bus_message_read(msg, "s", &key) < 0)
			return 0;
		if (strcmp(key, "State") == 0) {
			if (sd_bus_message_read(msg, "v", "s", &value) < 0)
				return 0;
			if (strcmp(value, "locked") == 0)
				w->saw_locked = 1;
			else if (strcmp(value, "holds") == 0 && w->saw_locked)
				w->saw_holds_after_locked = 1;
		} else if (sd_bus_message_skip(msg, "v") < 0)
			return 0;
		if (sd_bus_message_exit_container(msg) < 0)
			return 0;
	}
	return 0;
}

/* Follows virtd's State in w from now on. */
static int watch_state(sd_bus *bus, struct state_watch *w)
{
	int r = sd_bus_match_signal(bus, NULL, "org.virtd1", "/org/virtd1", "org.freedesktop.DBus.Properties",
				    "PropertiesChanged", on_properties, w);

	if (r < 0)
		fprintf(stderr, "bus-bench: cannot subscribe to virtd's signals: %s\n", strerror(-r));
	return r;
}

/* Waits up to 60 s for State=holds after locked, with /dev/kvm back. */
static int wait_restored(sd_bus *bus, struct state_watch *w)
{
	uint64_t deadline = now_us() + 60 * 1000000ULL;
	int r;

	for (;;) {
		struct stat st;

		while ((r = sd_bus_process(bus, NULL)) > 0)
			;
		if (r < 0) {
			fprintf(stderr, "bus-bench: bus: %s\n", strerror(-r));
			return -1;
		}
		if (w->saw_holds_after_locked && stat("/dev/kvm", &st) == 0)
			return 0;
		if (now_us() > deadline) {
			fprintf(stderr, "bus-bench: no State=holds within 60 s of the release (locked seen: %d)\n",
				w->saw_locked);
			return -1;
		}
		(void)sd_bus_wait(bus, w->saw_holds_after_locked ? 1000 : 100000);
	}
}

/*
 * One lock cycle: runs COMMAND (virtctl lock ... -- true), then waits for
 * virtd to say State=holds again after it said locked.  command_us: fork to
 * exit; restored_us: exit to the holds signal (with /dev/kvm back).
 */
static int lock_cycle(sd_bus *bus, char *argv[])
{
	struct state_watch w = {};
	uint64_t t0, t1;
	int status;
	pid_t pid;

	if (watch_state(bus, &w) < 0)
		return 1;
	t0 = now_us();
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "bus-bench: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return 1;
	t1 = now_us();
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bus-bench: %s failed (status 0x%x)\n", argv[0], (unsigned)status);
		return 1;
	}
	if (wait_restored(bus, &w) < 0)
		return 1;
	printf("bus-bench: lock-cycle command_us=%llu restored_us=%llu\n", (unsigned long long)(t1 - t0),
	       (unsigned long long)(now_us() - t1));
	return 0;
}

/*
 * The definition, without any exec: AcquireForeign called to the
 * descriptor back (virtd has unloaded KVM and verified every CPU off
 * before it answers), then the descriptor closed to State=holds.
 */
static int lock_inprocess(sd_bus *bus)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	struct state_watch w = {};
	uint64_t t0, t1, t2;
	int fd, r;

	if (watch_state(bus, &w) < 0)
		return 1;
	t0 = now_us();
	r = sd_bus_call_method(bus, "org.virtd1", "/org/virtd1", "org.virtd1.Manager", "AcquireForeign", &error, &reply,
			       "sstt", "bus-bench", "benchmark", (uint64_t)0, (uint64_t)0);
	if (r >= 0)
		r = sd_bus_message_read(reply, "h", &fd);
	t1 = now_us();
	if (r < 0) {
		fprintf(stderr, "bus-bench: AcquireForeign failed: %s\n", error.message ? error.message : strerror(-r));
		return 1;
	}
	/* The reply owns the descriptor; closing it releases the lock. */
	t2 = now_us();
	reply = sd_bus_message_unref(reply);
	sd_bus_error_free(&error);
	if (wait_restored(bus, &w) < 0)
		return 1;
	printf("bus-bench: lock-inprocess grant_us=%llu restored_us=%llu\n", (unsigned long long)(t1 - t0),
	       (unsigned long long)(now_us() - t2));
	return 0;
}

/* The value at quantile Q (0..1) of the N sorted samples in T. */
static uint64_t quantile(const uint64_t *t, long n, double q)
{
	long i = (long)(q * (double)n + 0.999999) - 1;

	if (i < 0)
		i = 0;
	if (i >= n)
		i = n - 1;
	return t[i];
}

/*
 * GetStatus COUNT times in all, from CLIENTS processes at once, each on a
 * connection of its own.  The latencies go into a shared array, so the
 * figures are those of every call; a failed call counts and the client goes
 * on.  Exit 0 only when every call succeeded.
 */
static int load_clients(long clients, long count)
{
	size_t size = (size_t)count * sizeof(uint64_t) + (size_t)clients * sizeof(long);
	uint64_t *t, t0, wall_us;
	long *failed, n_failed = 0;
	int status, bad_exit = 0;

	t = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED) {
		fprintf(stderr, "bus-bench: mmap: %s\n", strerror(errno));
		return 1;
	}
	failed = (long *)(t + count);
	t0 = now_us();
	for (long c = 0; c < clients; c++) {
		pid_t pid = fork();

		if (pid < 0) {
			fprintf(stderr, "bus-bench: fork: %s\n", strerror(errno));
			return 1;
		}
		if (pid == 0) {
			sd_bus *bus = NULL;
			int r = sd_bus_open_system(&bus);

			/* Client C makes calls C, C + CLIENTS, ... */
			for (long i = c; i < count; i += clients) {
				sd_bus_error error = SD_BUS_ERROR_NULL;
				sd_bus_message *reply = NULL;
				const char *json = NULL;
				uint64_t s = now_us();

				if (r >= 0) {
					int k = sd_bus_call_method(bus, "org.virtd1", "/org/virtd1", "org.virtd1.Manager",
								   "GetStatus", &error, &reply, "");
					if (k >= 0)
						k = sd_bus_message_read(reply, "s", &json);
					if (k < 0 || !json || json[0] != '{') {
						if (failed[c]++ == 0)
							fprintf(stderr, "bus-bench: client %ld: GetStatus failed: %s\n", c,
								error.message ? error.message : strerror(k < 0 ? -k : EBADMSG));
					}
				} else if (failed[c]++ == 0)
					fprintf(stderr, "bus-bench: client %ld: cannot connect: %s\n", c, strerror(-r));
				t[i] = now_us() - s;
				sd_bus_message_unref(reply);
				sd_bus_error_free(&error);
			}
			sd_bus_flush_close_unref(bus);
			_exit(0);
		}
	}
	for (long c = 0; c < clients; c++) {
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			bad_exit = 1;
	}
	wall_us = now_us() - t0;
	for (long c = 0; c < clients; c++)
		n_failed += failed[c];
	qsort(t, (size_t)count, sizeof(*t), cmp_u64);
	printf("bus-bench: load clients=%ld count=%ld ok=%ld failed=%ld p50_us=%llu p99_us=%llu max_us=%llu "
	       "wall_ms=%llu\n",
	       clients, count, count - n_failed, n_failed, (unsigned long long)quantile(t, count, 0.50),
	       (unsigned long long)quantile(t, count, 0.99), (unsigned long long)t[count - 1],
	       (unsigned long long)(wall_us / 1000));
	munmap(t, size);
	return n_failed || bad_exit ? 1 : 0;
}

/* One AcquireForeign call in flight: its answer, descriptor and time. */
struct acquire {
	int done;
	int fd;			/* the lock (a dup), -1: none */
	char error[128];	/* the error's name, "" when granted */
	char message[200];
	uint64_t start_us, answer_us;
};

static int on_acquire_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct acquire *a = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(reply);
	int fd;

	(void)ret_error;
	a->done = 1;
	a->answer_us = now_us();
	if (e) {
		snprintf(a->error, sizeof(a->error), "%s", e->name ? e->name : "?");
		snprintf(a->message, sizeof(a->message), "%s", e->message ? e->message : "");
	} else if (sd_bus_message_read(reply, "h", &fd) < 0 || (a->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0)
		snprintf(a->error, sizeof(a->error), "bus-bench.BadReply");
	return 0;
}

/*
 * N AcquireForeign calls sent at once on one connection (flags and timeout
 * as given), then every answer awaited (up to 90 s).  Returns the array.
 */
static struct acquire *acquire_many(sd_bus *bus, long n, uint64_t flags, uint64_t timeout_usec)
{
	struct acquire *a = calloc((size_t)n, sizeof(*a));
	uint64_t deadline = now_us() + 90 * 1000000ULL;
	long left = n;
	int r;

	if (!a)
		return NULL;
	for (long i = 0; i < n; i++) {
		char who[32];

		a[i].fd = -1;
		a[i].start_us = now_us();
		snprintf(who, sizeof(who), "load-%ld", i);
		r = sd_bus_call_method_async(bus, NULL, "org.virtd1", "/org/virtd1", "org.virtd1.Manager",
					     "AcquireForeign", on_acquire_reply, &a[i], "sstt", who, "load test", flags,
					     timeout_usec);
		if (r < 0) {
			a[i].done = 1;
			snprintf(a[i].error, sizeof(a[i].error), "bus-bench.SendFailed");
			snprintf(a[i].message, sizeof(a[i].message), "%s", strerror(-r));
		}
	}
	while (left > 0 && now_us() < deadline) {
		while ((r = sd_bus_process(bus, NULL)) > 0)
			;
		if (r < 0) {
			fprintf(stderr, "bus-bench: bus: %s\n", strerror(-r));
			break;
		}
		left = 0;
		for (long i = 0; i < n; i++)
			left += !a[i].done;
		if (left > 0)
			(void)sd_bus_wait(bus, 100000);
	}
	for (long i = 0; i < n; i++)
		if (!a[i].done)
			snprintf(a[i].error, sizeof(a[i].error), "bus-bench.NoAnswer");
	return a;
}

/* The answers' spread: the first and the last answer, from the first call. */
static void answer_span(const struct acquire *a, long n, uint64_t *first_ms, uint64_t *last_ms)
{
	uint64_t lo = UINT64_MAX, hi = 0;

	for (long i = 0; i < n; i++) {
		if (!a[i].answer_us)
			continue;
		lo = a[i].answer_us < lo ? a[i].answer_us : lo;
		hi = a[i].answer_us > hi ? a[i].answer_us : hi;
	}
	*first_ms = lo == UINT64_MAX ? 0 : (lo - a[0].start_us) / 1000;
	*last_ms = hi ? (hi - a[0].start_us) / 1000 : 0;
}

/* virtd's ForeignLocks property, -1 when it cannot be read. */
static long foreign_locks(sd_bus *bus)
{
	sd_bus_error error = SD_BUS_ERROR_NULL;
	uint32_t v;
	int r = sd_bus_get_property_trivial(bus, "org.virtd1", "/org/virtd1", "org.virtd1.Manager", "ForeignLocks",
					    &error, 'u', &v);

	sd_bus_error_free(&error);
	return r < 0 ? -1 : (long)v;
}

/*
 * N holders at once: every call must be granted; ForeignLocks must then say
 * N; the locks are held HOLD_MS and released together (descriptors closed).
 */
static int load_holders(long n, long hold_ms)
{
	sd_bus *bus = NULL;
	struct acquire *a;
	uint64_t first_ms, last_ms;
	long granted = 0, locks;
	const char *why = "";
	int r = sd_bus_open_system(&bus);

	if (r < 0) {
		fprintf(stderr, "bus-bench: cannot connect to the system bus: %s\n", strerror(-r));
		return 1;
	}
	a = acquire_many(bus, n, 0, 0);
	if (!a)
		return 1;
	for (long i = 0; i < n; i++) {
		if (a[i].fd >= 0)
			granted++;
		else if (!why[0])
			why = a[i].message[0] ? a[i].message : a[i].error;
	}
	locks = foreign_locks(bus);
	answer_span(a, n, &first_ms, &last_ms);
	printf("bus-bench: holders asked=%ld granted=%ld foreign_locks=%ld first_ms=%llu last_ms=%llu%s%s\n", n,
	       granted, locks, (unsigned long long)first_ms, (unsigned long long)last_ms, why[0] ? " refused: " : "",
	       why);
	fflush(stdout);
	usleep((useconds_t)hold_ms * 1000);
	for (long i = 0; i < n; i++)
		if (a[i].fd >= 0)
			close(a[i].fd);
	free(a);
	sd_bus_flush_close_unref(bus);
	return granted == n && locks == n ? 0 : 1;
}

/*
 * N waiters at once (LOCK_FLAG_WAIT, TIMEOUT_MS each) while a KVM VM runs:
 * every one must be refused with org.virtd1.Error.Timeout, no sooner than
 * asked.  A lock granted by mistake is released at once.
 */
static int load_waiters(long n, long timeout_ms)
{
	sd_bus *bus = NULL;
	struct acquire *a;
	uint64_t first_ms, last_ms;
	long timed_out = 0, early = 0, granted = 0;
	const char *other = "";
	int r = sd_bus_open_system(&bus);

	if (r < 0) {
		fprintf(stderr, "bus-bench: cannot connect to the system bus: %s\n", strerror(-r));
		return 1;
	}
	a = acquire_many(bus, n, LOCK_FLAG_WAIT, (uint64_t)timeout_ms * 1000);
	if (!a)
		return 1;
	for (long i = 0; i < n; i++) {
		if (a[i].fd >= 0) {
			granted++;
			close(a[i].fd);
		} else if (strcmp(a[i].error, "org.virtd1.Error.Timeout") == 0) {
			timed_out++;
			if (a[i].answer_us - a[i].start_us < (uint64_t)timeout_ms * 1000)
				early++;
		} else if (!other[0])
			other = a[i].error;
	}
	answer_span(a, n, &first_ms, &last_ms);
	printf("bus-bench: waiters asked=%ld timed_out=%ld early=%ld granted=%ld first_ms=%llu last_ms=%llu%s%s%s%s\n",
	       n, timed_out, early, granted, (unsigned long long)first_ms, (unsigned long long)last_ms,
	       other[0] ? " other: " : "", other, timed_out ? " message: " : "", timed_out ? a[0].message : "");
	free(a);
	sd_bus_flush_close_unref(bus);
	return timed_out == n && early == 0 ? 0 : 1;
}

int main(int argc, char *argv[])
{
	sd_bus *bus = NULL;
	uint64_t *t, t0, connect_us;
	long count = 50, clients = 0, holders = 0, waiters = 0, hold_ms = 1000, timeout_ms = 2000;
	size_t len = 0;
	int r;

	if (argc == 2 && strcmp(argv[1], "--lock-inprocess") == 0) {
		r = sd_bus_open_system(&bus);
		if (r < 0) {
			fprintf(stderr, "bus-bench: cannot connect to the system bus: %s\n", strerror(-r));
			return 1;
		}
		r = lock_inprocess(bus);
		sd_bus_flush_close_unref(bus);
		return r;
	}
	if (argc > 2 && strcmp(argv[1], "--lock-cycle") == 0 && strcmp(argv[2], "--") == 0 && argc > 3) {
		r = sd_bus_open_system(&bus);
		if (r < 0) {
			fprintf(stderr, "bus-bench: cannot connect to the system bus: %s\n", strerror(-r));
			return 1;
		}
		r = lock_cycle(bus, argv + 3);
		sd_bus_flush_close_unref(bus);
		return r;
	}
	for (int i = 1; i < argc; i++) {
		const struct {
			const char *name;
			long *value, max;
		} opts[] = {
			{ "--count=", &count, 100000 },	    { "--clients=", &clients, 200 },
			{ "--holders=", &holders, 1000 },   { "--waiters=", &waiters, 1000 },
			{ "--hold-ms=", &hold_ms, 600000 }, { "--timeout-ms=", &timeout_ms, 600000 },
		};
		size_t k;

		for (k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
			size_t len_opt = strlen(opts[k].name);
			char *end;

			if (strncmp(argv[i], opts[k].name, len_opt) != 0)
				continue;
			*opts[k].value = strtol(argv[i] + len_opt, &end, 10);
			if (*end || *opts[k].value < 1 || *opts[k].value > opts[k].max) {
				fprintf(stderr, "bus-bench: invalid %.*s '%s' (1..%ld)\n", (int)len_opt - 1, opts[k].name,
					argv[i] + len_opt, opts[k].max);
				return 2;
			}
			break;
		}
		if (k == sizeof(opts) / sizeof(opts[0])) {
			fprintf(stderr, "Usage: bus-bench [--count=N] [--clients=C]\n"
					"       bus-bench --holders=N [--hold-ms=MS]\n"
					"       bus-bench --waiters=N [--timeout-ms=MS]\n"
					"       bus-bench --lock-cycle -- COMMAND [ARG...]\n"
					"       bus-bench --lock-inprocess\n"
					"Connects to the system bus, calls org.virtd1.Manager.GetStatus N times\n"
					"(default 50) and prints connect_us, median_us, p99_us, min_us and max_us\n"
					"(with --clients: from C processes at once, each on its own connection,\n"
					"printing ok, failed, p50_us, p99_us, max_us, wall_ms; exit 1 if any call\n"
					"failed); or takes N locks at once (AcquireForeign, one connection), holds\n"
					"them MS (default 1000) and releases them, exit 0 only if all were granted\n"
					"and ForeignLocks said N; or sends N waiting requests (--wait) that must\n"
					"all end in org.virtd1.Error.Timeout after MS (default 2000); or runs\n"
					"COMMAND (virtctl lock ... -- true) and prints its fork-to-exit time and the\n"
					"time from its exit to virtd's State=holds signal with /dev/kvm back; or\n"
					"calls AcquireForeign itself and prints the call's time and the time from\n"
					"closing the descriptor to that signal.\n");
			return 2;
		}
	}
	if (holders)
		return load_holders(holders, hold_ms);
	if (waiters)
		return load_waiters(waiters, timeout_ms);
	if (clients)
		return load_clients(clients, count);
	t = calloc((size_t)count, sizeof(*t));
	if (!t)
		return 1;
	t0 = now_us();
	r = sd_bus_open_system(&bus);
	connect_us = now_us() - t0;
	if (r < 0) {
		fprintf(stderr, "bus-bench: cannot connect to the system bus: %s\n", strerror(-r));
		return 1;
	}
	for (long i = 0; i < count; i++) {
		sd_bus_error error = SD_BUS_ERROR_NULL;
		sd_bus_message *reply = NULL;
		const char *json;

		t0 = now_us();
		r = sd_bus_call_method(bus, "org.virtd1", "/org/virtd1", "org.virtd1.Manager", "GetStatus", &error,
				       &reply, "");
		if (r >= 0)
			r = sd_bus_message_read(reply, "s", &json);
		t[i] = now_us() - t0;
		if (r < 0) {
			fprintf(stderr, "bus-bench: GetStatus failed: %s\n", error.message ? error.message : strerror(-r));
			return 1;
		}
		len = strlen(json);
		sd_bus_message_unref(reply);
		sd_bus_error_free(&error);
	}
	qsort(t, (size_t)count, sizeof(*t), cmp_u64);
	printf("bus-bench: connect_us=%llu count=%ld median_us=%llu min_us=%llu max_us=%llu json_bytes=%zu p99_us=%llu\n",
	       (unsigned long long)connect_us, count,
	       (unsigned long long)(count % 2 ? t[count / 2] : (t[count / 2 - 1] + t[count / 2]) / 2),
	       (unsigned long long)t[0], (unsigned long long)t[count - 1], len,
	       (unsigned long long)quantile(t, count, 0.99));
	sd_bus_flush_close_unref(bus);
	free(t);
	return 0;
}
