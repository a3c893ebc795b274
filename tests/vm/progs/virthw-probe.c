/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virthw-probe.c: guest test program that talks to virthw directly (no
 * daemon): runs PROBE on one CPU, and gets or sets the timer settings.
 * Prints key=value lines for the scenarios to grep.
 *
 *   virthw-probe [--cpu N] [--iterations N]      probe (the default action)
 *   virthw-probe --get-settings
 *   virthw-probe --set-timer auto|on|off --min-max-delay NS
 *   virthw-probe --event-test --set-timer MODE --min-max-delay NS
 *       sets the settings twice with two subscribers, one that asked for
 *       settings events and one that did not, and prints what each got:
 *       event_full=1 (with the new settings), event_plain=0 (filtered out),
 *       event_repeat=0 (nothing changed the second time)
 *
 * On a refused request it prints error=NAME errno=N extack="..." and exits
 * with status 2; on bad usage or a malformed reply, status 1.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include "hw-client.h"
#include "progs-common.h"

static int refused(hw_client *c, int r, const char *what)
{
	const char *ack = hw_client_extack(c);

	if (r == -EBADMSG && hw_client_parse_error(c)) {
		fprintf(stderr, "virthw-probe: %s: malformed reply: %s\n", what, hw_client_parse_error(c));
		return 1;
	}
	printf("error=%s\nerrno=%d\nextack=\"%s\"\n", errname(-r), -r, ack ? ack : "");
	return 2;
}

static void print_settings(const struct virthw_settings *s)
{
	printf("mode=%s\nmin_max_delay_ns=%" PRIu64 "\ntimer_use=%d\nreason=%s\n",
	       hw_timer_mode_to_string(s->mode), s->min_max_delay_ns, s->timer_use,
	       hw_timer_reason_to_string(s->reason));
}

static void print_stat(const char *name, const struct virthw_probe_stat *s)
{
	if (!s->present)
		return;
	printf("%s_count=%" PRIu32 "\n%s_min=%" PRIu64 "\n%s_median=%" PRIu64 "\n%s_mean=%" PRIu64
	       "\n%s_max=%" PRIu64 "\n",
	       name, s->count, name, s->min, name, s->median, name, s->mean, name, s->max);
}

static void print_probe(const struct virthw_probe *p)
{
	printf("cpu=%" PRIu32 "\nfeature=%s\niterations=%" PRIu32 "\ntsc_khz=%" PRIu32 "\n", p->cpu,
	       hw_feature_to_string(p->feature), p->iterations, p->tsc_khz);
	if (p->has_timer_use)
		printf("timer_use=%d\n", p->timer_use);
	print_stat("round_trip", &p->round_trip);
	print_stat("toggle", &p->toggle);
	print_stat("immediate", &p->immediate);
	if (p->immediate.present)
		printf("immediate_method=%s\n", hw_immediate_method_to_string(p->immediate_method));
	if (p->has_timer_rate)
		printf("timer_rate=%u\n", p->timer_rate);
	if (p->has_timer)
		printf("timer_programmed=%" PRIu32 "\ntimer_expected=%" PRIu64 "\n", p->timer_programmed,
		       p->timer_expected);
	print_stat("timer_elapsed", &p->timer_elapsed);
	printf("spurious_timer_exits=%" PRIu32 "\ninterrupted=%" PRIu32 "\nduration_ns=%" PRIu64 "\n",
	       p->spurious_timer_exits, p->interrupted, p->duration_ns);
	/* (b)/(a) in thousandths, for the benchmark report. */
	if (p->toggle.present && p->round_trip.median)
		printf("toggle_ratio_milli=%" PRIu64 "\n", p->toggle.median * 1000 / p->round_trip.median);
}

static int on_probe_reply(const struct nlmsghdr *nlh, void *userdata)
{
	const char *why = NULL;
	int r;

	r = hw_parse_probe_msg(nlh, userdata, &why);
	if (r < 0)
		fprintf(stderr, "virthw-probe: malformed PROBE reply: %s\n", why ? why : "?");
	return r;
}

/* hw_client_probe() leaves the attribute out for 0; the test of the
 * module's range check needs it sent as given. */
static int probe_explicit(hw_client *c, uint32_t cpu, uint32_t iterations, struct virthw_probe *p)
{
	struct nl_msg *m = nlmsg_alloc();

	if (!m || !genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, hw_client_family_id(c), 0, 0, VIRTHW_CMD_PROBE,
			       VIRTHW_GENL_VERSION) ||
	    nla_put_u32(m, VIRTHW_A_CPU_ID, cpu) < 0 || nla_put_u32(m, VIRTHW_A_PROBE_ITERATIONS, iterations) < 0) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	memset(p, 0, sizeof(*p));
	return hw_client_request(c, m, on_probe_reply, p);
}

/* 1 when an event arrives within ms (stored in *e), 0 when none, <0 on error. */
static int wait_event(hw_client *c, int ms, struct virthw_event_msg *e)
{
	struct pollfd p = { .fd = hw_client_event_fd(c), .events = POLLIN };
	int r;

	r = poll(&p, 1, ms);
	if (r < 0)
		return -errno;
	if (r == 0)
		return 0;
	r = hw_client_receive_event(c, e);
	return r < 0 ? r : 1;
}

static int event_test(enum virthw_timer_mode mode, uint64_t min_ns)
{
	_cleanup_(hw_client_freep) hw_client *full = NULL, *plain = NULL;
	struct virthw_event_msg e;
	int r, got;

	r = hw_client_new(&full);
	if (r >= 0)
		r = hw_client_new(&plain);
	if (r >= 0)
		r = hw_client_subscribe_full(full, true);
	if (r >= 0)
		r = hw_client_subscribe(plain);
	if (r < 0) {
		fprintf(stderr, "virthw-probe: cannot subscribe: %s\n", strerror(-r));
		return 1;
	}
	r = hw_client_set_settings(full, mode, min_ns, NULL);
	if (r < 0)
		return refused(full, r, "SET_SETTINGS");
	got = wait_event(full, 3000, &e);
	printf("event_full=%d\n", got);
	if (got == 1) {
		printf("event_kind=%s\n", e.kind == HW_EVENT_KIND_SETTINGS ? "settings" : "cpu");
		printf("event_mode=%s\nevent_min_max_delay_ns=%" PRIu64 "\nevent_timer_use=%d\n",
		       hw_timer_mode_to_string(e.settings.mode), e.settings.min_max_delay_ns, e.settings.timer_use);
	}
	printf("event_plain=%d\n", wait_event(plain, 500, &e));
	r = hw_client_set_settings(full, mode, min_ns, NULL);
	if (r < 0)
		return refused(full, r, "SET_SETTINGS");
	printf("event_repeat=%d\n", wait_event(full, 1000, &e));
	return 0;
}

static int parse_u64(const char *s, uint64_t *ret)
{
	char *end;

	errno = 0;
	*ret = strtoull(s, &end, 10);
	return errno || end == s || *end || *s == '-' ? -EINVAL : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cpu", required_argument, NULL, 'c' },
		{ "iterations", required_argument, NULL, 'i' },
		{ "get-settings", no_argument, NULL, 'g' },
		{ "set-timer", required_argument, NULL, 's' },
		{ "min-max-delay", required_argument, NULL, 'm' },
		{ "event-test", no_argument, NULL, 'e' },
		{}
	};
	_cleanup_(hw_client_freep) hw_client *c = NULL;
	uint64_t cpu = 0, iterations = 0, min_ns = 0;
	enum virthw_timer_mode mode = VIRTHW_TIMER_MODE_AUTO;
	bool get = false, set = false, has_min = false, has_iterations = false, events = false;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
		switch (opt) {
		case 'c':
			if (parse_u64(optarg, &cpu) < 0 || cpu > UINT32_MAX)
				goto usage;
			break;
		case 'i':
			if (parse_u64(optarg, &iterations) < 0 || iterations > UINT32_MAX)
				goto usage;
			has_iterations = true;
			break;
		case 'g':
			get = true;
			break;
		case 'e':
			events = true;
			break;
		case 's':
			if (hw_timer_mode_from_string(optarg, &mode) < 0)
				goto usage;
			set = true;
			break;
		case 'm':
			if (parse_u64(optarg, &min_ns) < 0)
				goto usage;
			has_min = true;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc || (set && !has_min) || (has_min && !set) || (get && set) || (events && !set))
		goto usage;
	if (events)
		return event_test(mode, min_ns);

	r = hw_client_new(&c);
	if (r < 0) {
		fprintf(stderr, "virthw-probe: cannot reach the virthw module: %s\n", strerror(-r));
		return 1;
	}

	if (get || set) {
		struct virthw_settings s;

		r = set ? hw_client_set_settings(c, mode, min_ns, &s) : hw_client_get_settings(c, &s);
		if (r < 0)
			return refused(c, r, set ? "SET_SETTINGS" : "GET_SETTINGS");
		print_settings(&s);
		return 0;
	}

	{
		struct virthw_probe p;

		if (has_iterations && iterations == 0)
			r = probe_explicit(c, (uint32_t)cpu, 0, &p);
		else
			r = hw_client_probe(c, (uint32_t)cpu, (uint32_t)iterations, &p);
		if (r < 0)
			return refused(c, r, "PROBE");
		print_probe(&p);
	}
	return 0;

usage:
	fprintf(stderr, "usage: virthw-probe [--cpu N] [--iterations N]\n"
			"       virthw-probe --get-settings\n"
			"       virthw-probe [--event-test] --set-timer auto|on|off --min-max-delay NS\n");
	return 1;
}
