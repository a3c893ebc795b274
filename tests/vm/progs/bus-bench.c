/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus-bench.c: virtd figures that need a bus client without an exec per step:
 * GetStatus round trips on one connection, and a lock cycle timed by virtd's
 * own State signals instead of polling.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

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

int main(int argc, char *argv[])
{
	sd_bus *bus = NULL;
	uint64_t *t, t0, connect_us;
	long count = 50;
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
		char *end;

		if (strncmp(argv[i], "--count=", 8) == 0) {
			count = strtol(argv[i] + 8, &end, 10);
			if (*end || count < 1 || count > 100000) {
				fprintf(stderr, "bus-bench: invalid --count '%s' (1..100000)\n", argv[i] + 8);
				return 2;
			}
		} else {
			fprintf(stderr, "Usage: bus-bench [--count=N]\n"
					"       bus-bench --lock-cycle -- COMMAND [ARG...]\n"
					"       bus-bench --lock-inprocess\n"
					"Connects to the system bus, calls org.virtd1.Manager.GetStatus N times\n"
					"(default 50) and prints connect_us, median_us, min_us and max_us; or runs\n"
					"COMMAND (virtctl lock ... -- true) and prints its fork-to-exit time and the\n"
					"time from its exit to virtd's State=holds signal with /dev/kvm back; or\n"
					"calls AcquireForeign itself and prints the call's time and the time from\n"
					"closing the descriptor to that signal.\n");
			return 2;
		}
	}
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
	printf("bus-bench: connect_us=%llu count=%ld median_us=%llu min_us=%llu max_us=%llu json_bytes=%zu\n",
	       (unsigned long long)connect_us, count,
	       (unsigned long long)(count % 2 ? t[count / 2] : (t[count / 2 - 1] + t[count / 2]) / 2),
	       (unsigned long long)t[0], (unsigned long long)t[count - 1], len);
	sd_bus_flush_close_unref(bus);
	free(t);
	return 0;
}
