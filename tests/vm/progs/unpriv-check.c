/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * unpriv-check.c: guest test program for what an unprivileged local user can
 * do to virthw and virtd: becomes a given uid/gid (with or without
 * supplementary groups) for good, then tries every virthw generic netlink
 * command and the events group, or waits for one of virtd's signals, or
 * runs a command.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <systemd/sd-bus.h>

#include "hw-client.h"
#include "progs-common.h"

#define MAX_GROUPS 16

/* One row: "unpriv: netlink NAME ok" or "unpriv: netlink NAME errno=ENAME". */
static void row(const char *name, int r)
{
	if (r >= 0)
		printf("unpriv: netlink %s ok\n", name);
	else
		printf("unpriv: netlink %s errno=%s\n", name, errname(-r));
	fflush(stdout);
}

/* A request the module has no handler for: the two event commands. */
static int event_command(hw_client *c, uint8_t cmd)
{
	struct nl_msg *m = nlmsg_alloc();

	if (!m || !genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, hw_client_family_id(c), 0, 0, cmd, VIRTHW_GENL_VERSION)) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	return hw_client_request(c, m, NULL, NULL);
}

/*
 * Every command of the family, as a well-formed request (root gets past the
 * permission check with each; the probe then meets KVM or runs), and the
 * events group.  SET_SETTINGS sends the settings GET_SETTINGS returned (or
 * AUTO and 1 ms when it was refused), so that root changes nothing.
 */
static int netlink_rows(bool with_probe)
{
	_cleanup_(hw_client_freep) hw_client *c = NULL;
	struct virthw_settings set = { .mode = VIRTHW_TIMER_MODE_AUTO, .min_max_delay_ns = 1000000 };
	struct virthw_cpu_state *cpus = NULL, cpu;
	struct virthw_caps caps;
	struct virthw_probe probe;
	size_t n = 0;
	int r;

	r = hw_client_new(&c);
	if (r < 0) {
		printf("unpriv: netlink family errno=%s\n", errname(-r));
		return 1;
	}
	printf("unpriv: netlink family ok id=%d\n", hw_client_family_id(c));
	row("GET_CAPS", hw_client_get_caps(c, &caps));
	row("GET_CPUS-do", hw_client_get_cpu(c, 0, &cpu));
	row("GET_CPUS-dump", hw_client_dump_cpus(c, &cpus, &n));
	free(cpus);
	r = hw_client_get_settings(c, &set);
	row("GET_SETTINGS", r);
	if (r < 0)
		set = (struct virthw_settings){ .mode = VIRTHW_TIMER_MODE_AUTO, .min_max_delay_ns = 1000000 };
	row("SET_SETTINGS", hw_client_set_settings(c, set.mode, set.min_max_delay_ns, NULL));
	if (with_probe)
		row("PROBE", hw_client_probe(c, 0, 1, &probe));
	row("CPU_EVENT-request", event_command(c, VIRTHW_CMD_CPU_EVENT));
	row("SETTINGS_EVENT-request", event_command(c, VIRTHW_CMD_SETTINGS_EVENT));
	row("events-group-join", hw_client_subscribe_full(c, true));
	return 0;
}

static int on_changed(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	int *seen = userdata;
	const char *iface = NULL;

	(void)error;
	if (sd_bus_message_read(msg, "s", &iface) >= 0 && strcmp(iface, "org.virtd1.Manager") == 0)
		*seen = 1;
	return 0;
}

/*
 * Subscribes to virtd's PropertiesChanged, says so on stdout, and waits up to
 * SECS for one: "unpriv: bus signal received" or "... none".
 */
static int wait_signal(long secs)
{
	sd_bus *bus = NULL;
	long long deadline = now_us() + secs * 1000000LL;
	int seen = 0, r;

	r = sd_bus_open_system(&bus);
	if (r >= 0)
		r = sd_bus_match_signal(bus, NULL, "org.virtd1", "/org/virtd1", "org.freedesktop.DBus.Properties",
					"PropertiesChanged", on_changed, &seen);
	if (r < 0) {
		printf("unpriv: bus subscribe errno=%s\n", errname(-r));
		return 1;
	}
	printf("unpriv: bus subscribed\n");
	fflush(stdout);
	while (!seen && now_us() < deadline) {
		while ((r = sd_bus_process(bus, NULL)) > 0)
			;
		if (r < 0)
			break;
		if (!seen)
			(void)sd_bus_wait(bus, 100000);
	}
	printf("unpriv: bus signal %s\n", seen ? "received" : "none");
	sd_bus_flush_close_unref(bus);
	return seen ? 0 : 1;
}

/* UID:GID[:G,G...]: becomes it for good (checked: root cannot come back). */
static int become(const char *spec)
{
	gid_t groups[MAX_GROUPS];
	unsigned long uid, gid;
	size_t n = 0;
	char *end;

	uid = strtoul(spec, &end, 10);
	if (*end != ':' || uid == 0)
		return -EINVAL;
	gid = strtoul(end + 1, &end, 10);
	if (*end != '\0' && *end != ':')
		return -EINVAL;
	if (*end == ':') {
		do {
			if (n == MAX_GROUPS)
				return -E2BIG;
			groups[n++] = (gid_t)strtoul(end + 1, &end, 10);
		} while (*end == ',');
		if (*end)
			return -EINVAL;
	}
	if (setgroups(n, groups) < 0 || setgid((gid_t)gid) < 0 || setuid((uid_t)uid) < 0)
		return -errno;
	if (setuid(0) == 0 || geteuid() == 0)
		return -EPERM;
	return 0;
}

int main(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },	  { "as", required_argument, NULL, 'a' },
		{ "netlink", no_argument, NULL, 'n' },	  { "no-probe", no_argument, NULL, 'P' },
		{ "wait-signal", required_argument, NULL, 'w' }, {}
	};
	const char *as = NULL;
	bool netlink = false, with_probe = true;
	long secs = -1;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
		switch (opt) {
		case 'h':
			printf("Usage: unpriv-check [--as=UID:GID[:G,G...]] --netlink [--no-probe]\n"
			       "       unpriv-check [--as=...] --wait-signal=SECS\n"
			       "       unpriv-check --as=... -- COMMAND [ARG...]\n"
			       "\n"
			       "--as: become that user (uid not 0), with exactly those supplementary\n"
			       "groups, before anything else; root must not be recoverable.\n"
			       "--netlink: every virthw command (well-formed) and the events group;\n"
			       "one line each, 'unpriv: netlink NAME ok|errno=ENAME'.\n"
			       "--wait-signal: subscribe to virtd's PropertiesChanged, print\n"
			       "'unpriv: bus subscribed', wait up to SECS for one.\n"
			       "Exit status: 0 done (netlink) or signal received, 1 not, 2 usage.\n");
			return 0;
		case 'a':
			as = optarg;
			break;
		case 'n':
			netlink = true;
			break;
		case 'P':
			with_probe = false;
			break;
		case 'w':
			if (parse_positive(optarg, &secs) < 0) {
				fprintf(stderr, "unpriv-check: invalid --wait-signal '%s'\n", optarg);
				return 2;
			}
			break;
		default:
			fprintf(stderr, "unpriv-check: invalid command line (see --help)\n");
			return 2;
		}
	}
	if (!netlink && secs < 0 && (!as || optind >= argc)) {
		fprintf(stderr, "unpriv-check: nothing to do (see --help)\n");
		return 2;
	}
	if (as) {
		r = become(as);
		if (r < 0) {
			printf("unpriv: cannot become %s: %s\n", as, strerror(-r));
			return 1;
		}
	}
	if (netlink)
		return netlink_rows(with_probe);
	if (secs >= 0)
		return wait_signal(secs);
	execvp(argv[optind], argv + optind);
	fprintf(stderr, "unpriv-check: cannot run %s: %s\n", argv[optind], strerror(errno));
	return 127;
}
