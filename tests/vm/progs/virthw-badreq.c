/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virthw-badreq.c: guest test program that sends malformed requests to virthw and checks each is refused. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "hw-client.h"
#include "progs-common.h"

#define NOBODY 65534
/* Far above any attribute or command the protocol will define. */
#define UNKNOWN_ATTR 99
#define UNKNOWN_CMD 200

static int n_passed, n_failed;
static char no_extack[1024];

static void pass(const char *name, const char *fmt_detail)
{
	n_passed++;
	printf("badreq: PASS %s: %s\n", name, fmt_detail);
	fflush(stdout);
}

static void failed(const char *name, const char *detail)
{
	n_failed++;
	printf("badreq: FAIL %s: %s\n", name, detail);
	fflush(stdout);
}

static struct nl_msg *new_req(hw_client *c, int flags, uint8_t cmd)
{
	struct nl_msg *m = nlmsg_alloc();

	if (!m || !genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, hw_client_family_id(c), 0, flags, cmd,
			       VIRTHW_GENL_VERSION)) {
		fprintf(stderr, "badreq: out of memory\n");
		exit(EXIT_FAILURE);
	}
	return m;
}

static void put_or_die(int r)
{
	if (r < 0) {
		fprintf(stderr, "badreq: cannot build message: %s\n", nl_geterror(r));
		exit(EXIT_FAILURE);
	}
}

static void *reserve_attr(struct nl_msg *m, int type, int len)
{
	struct nlattr *a = nla_reserve(m, type, len);

	if (!a) {
		fprintf(stderr, "badreq: cannot build message: out of room\n");
		exit(EXIT_FAILURE);
	}
	/* nla_reserve keeps type bits as given, NLA_F_NESTED included. */
	a->nla_type = (uint16_t)type;
	return nla_data(a);
}

/* A raw attribute header with no valid attribute behind it. */
static void put_bad_header(struct nl_msg *m, uint16_t claimed_len)
{
	struct nlattr *a = nlmsg_reserve(m, NLA_HDRLEN, NLA_ALIGNTO);

	if (!a) {
		fprintf(stderr, "badreq: cannot build message: out of room\n");
		exit(EXIT_FAILURE);
	}
	a->nla_len = claimed_len;
	a->nla_type = VIRTHW_A_CPU_ID;
}

static int count_reply(const struct nlmsghdr *nlh _unused_, void *userdata)
{
	(*(int *)userdata)++;
	return 0;
}

enum extack_rule {
	EXTACK_OPTIONAL,    /* report when missing, still pass */
	EXTACK_REQUIRED,    /* the kernel's policy code or the uapi promises one */
	INFO_ONLY,          /* either outcome is legal: report, do not count */
};

static void expect_refused(hw_client *c, const char *name, struct nl_msg *m, enum extack_rule rule,
			   int expect_errno)
{
	char detail[512];
	int replies = 0, r;

	r = hw_client_request(c, m, count_reply, &replies);
	if (r >= 0) {
		if (rule == INFO_ONLY) {
			printf("badreq: INFO %s: accepted (%d reply message(s))\n", name, replies);
			fflush(stdout);
			return;
		}
		snprintf(detail, sizeof(detail), "accepted (%d reply message(s)), expected a refusal", replies);
		failed(name, detail);
		return;
	}
	if (hw_client_extack(c))
		snprintf(detail, sizeof(detail), "refused errno=%s \"%s\"", errname(-r), hw_client_extack(c));
	else
		snprintf(detail, sizeof(detail), "refused errno=%s (no extack)", errname(-r));

	if (rule == INFO_ONLY) {
		printf("badreq: INFO %s: %s\n", name, detail);
		fflush(stdout);
		return;
	}
	if (r == -EPERM && expect_errno != EPERM) {
		strncat(detail, ": EPERM means this program lacks CAP_NET_ADMIN, not a refusal of the request",
			sizeof(detail) - strlen(detail) - 1);
		failed(name, detail);
		return;
	}
	if (expect_errno && -r != expect_errno) {
		char more[64];

		snprintf(more, sizeof(more), ", expected %s", errname(expect_errno));
		strncat(detail, more, sizeof(detail) - strlen(detail) - 1);
		failed(name, detail);
		return;
	}
	if (!hw_client_extack(c)) {
		strncat(no_extack, " ", sizeof(no_extack) - strlen(no_extack) - 1);
		strncat(no_extack, name, sizeof(no_extack) - strlen(no_extack) - 1);
		if (rule == EXTACK_REQUIRED) {
			strncat(detail, ": an extack message was required", sizeof(detail) - strlen(detail) - 1);
			failed(name, detail);
			return;
		}
	}
	pass(name, detail);
}

static void get_cpus_do_with(hw_client *c, const char *name, uint32_t cpu, enum extack_rule rule)
{
	struct nl_msg *m = new_req(c, 0, VIRTHW_CMD_GET_CPUS);

	put_or_die(nla_put_u32(m, VIRTHW_A_CPU_ID, cpu));
	expect_refused(c, name, m, rule, 0);
}

static uint32_t sanity(hw_client *c)
{
	_cleanup_free_ struct virthw_cpu_state *cpus = NULL;
	struct virthw_caps caps = {};
	struct virthw_cpu_state one;
	char detail[256];
	size_t n = 0;
	long conf;
	int r;

	r = hw_client_get_caps(c, &caps);
	if (r < 0) {
		snprintf(detail, sizeof(detail), "errno=%s \"%s\"%s%s", errname(-r),
			 hw_client_extack(c) ? hw_client_extack(c) : "",
			 hw_client_parse_error(c) ? " parse: " : "",
			 hw_client_parse_error(c) ? hw_client_parse_error(c) : "");
		failed("sanity-get-caps", detail);
	} else {
		snprintf(detail, sizeof(detail), "feature=%s nr_cpus=%u tsc_khz=%u", hw_feature_to_string(caps.feature),
			 caps.nr_cpus, caps.tsc_khz);
		pass("sanity-get-caps", detail);
	}

	r = hw_client_dump_cpus(c, &cpus, &n);
	if (r < 0) {
		snprintf(detail, sizeof(detail), "errno=%s \"%s\"", errname(-r),
			 hw_client_extack(c) ? hw_client_extack(c) : "");
		failed("sanity-dump-cpus", detail);
	} else if (caps.nr_cpus && n != caps.nr_cpus) {
		snprintf(detail, sizeof(detail), "%zu CPUs in the dump, GET_CAPS says %u possible", n, caps.nr_cpus);
		failed("sanity-dump-cpus", detail);
	} else {
		snprintf(detail, sizeof(detail), "%zu CPU(s)", n);
		pass("sanity-dump-cpus", detail);
	}

	r = hw_client_get_cpu(c, 0, &one);
	if (r < 0) {
		snprintf(detail, sizeof(detail), "errno=%s \"%s\"", errname(-r),
			 hw_client_extack(c) ? hw_client_extack(c) : "");
		failed("sanity-get-cpu-0", detail);
	} else {
		snprintf(detail, sizeof(detail), "cpu=0 online=%d", one.online);
		pass("sanity-get-cpu-0", detail);
	}

	if (caps.nr_cpus)
		return caps.nr_cpus;
	/* Without GET_CAPS, the kernel's count of configured CPUs is the next
	 * best guess at nr_cpu_ids. */
	conf = sysconf(_SC_NPROCESSORS_CONF);
	return conf > 0 ? (uint32_t)conf : 1;
}

static void bad_requests(hw_client *c, uint32_t nr_possible)
{
	struct nl_msg *m;
	struct nlattr *n;
	char name[64];

	m = new_req(c, 0, VIRTHW_CMD_GET_CPUS);
	put_or_die(nla_put_u32(m, VIRTHW_A_CPU_ID, 0));
	put_or_die(nla_put_u32(m, UNKNOWN_ATTR, 0));
	expect_refused(c, "unknown-attr", m, EXTACK_REQUIRED, 0);

	m = new_req(c, NLM_F_DUMP, VIRTHW_CMD_GET_CPUS);
	put_or_die(nla_put_u32(m, UNKNOWN_ATTR, 0));
	expect_refused(c, "unknown-attr-dump", m, EXTACK_REQUIRED, 0);

	m = new_req(c, 0, VIRTHW_CMD_GET_CPUS);
	*(uint8_t *)reserve_attr(m, VIRTHW_A_CPU_ID, 1) = 0;
	expect_refused(c, "cpu-id-u8", m, EXTACK_REQUIRED, 0);

	m = new_req(c, 0, VIRTHW_CMD_GET_CPUS);
	memset(reserve_attr(m, VIRTHW_A_CPU_ID, 8), 0, 8);
	expect_refused(c, "cpu-id-u64", m, EXTACK_REQUIRED, 0);

	get_cpus_do_with(c, "cpu-id-0xffffffff", 0xffffffffu, EXTACK_REQUIRED);
	snprintf(name, sizeof(name), "cpu-id-nr-possible(%u)", nr_possible);
	get_cpus_do_with(c, name, nr_possible, EXTACK_REQUIRED);

	m = new_req(c, 0, VIRTHW_CMD_GET_CPUS);
	expect_refused(c, "get-cpus-do-without-cpu-id", m, EXTACK_OPTIONAL, 0);

	m = new_req(c, 0, UNKNOWN_CMD);
	expect_refused(c, "unknown-cmd-200", m, EXTACK_OPTIONAL, 0);

	/* A notification command is not a request anyone may send. */
	m = new_req(c, 0, VIRTHW_CMD_CPU_EVENT);
	expect_refused(c, "event-cmd-as-request", m, EXTACK_OPTIONAL, 0);

	/* Right size and type, but flagged as a nest. */
	m = new_req(c, 0, VIRTHW_CMD_GET_CPUS);
	memset(reserve_attr(m, VIRTHW_A_CPU_ID | NLA_F_NESTED, 4), 0, 4);
	expect_refused(c, "nested-flag-on-cpu-id", m, EXTACK_REQUIRED, 0);

	/* A real nest holding a u32 where the u32 itself belongs. */
	m = new_req(c, 0, VIRTHW_CMD_GET_CPUS);
	n = nla_nest_start(m, VIRTHW_A_CPU_ID);
	if (!n)
		exit(EXIT_FAILURE);
	n->nla_type |= NLA_F_NESTED;
	put_or_die(nla_put_u32(m, VIRTHW_CPU_A_ID, 0));
	nla_nest_end(m, n);
	expect_refused(c, "nest-as-cpu-id", m, EXTACK_REQUIRED, 0);

	/* Header says 64 bytes; the message ends after the header. */
	m = new_req(c, 0, VIRTHW_CMD_GET_CPUS);
	put_or_die(nla_put_u32(m, VIRTHW_A_CPU_ID, 0));
	put_bad_header(m, 64);
	expect_refused(c, "truncated-attr", m, EXTACK_REQUIRED, 0);

	/* Header claims 2 bytes, shorter than a header. */
	m = new_req(c, 0, VIRTHW_CMD_GET_CPUS);
	put_or_die(nla_put_u32(m, VIRTHW_A_CPU_ID, 0));
	put_bad_header(m, 2);
	expect_refused(c, "garbage-attr-header", m, EXTACK_REQUIRED, 0);

	/* GET_CAPS takes no attributes: an unknown one must be refused under
	 * strict validation ... */
	m = new_req(c, 0, VIRTHW_CMD_GET_CAPS);
	put_or_die(nla_put_u32(m, UNKNOWN_ATTR, 0));
	expect_refused(c, "caps-unknown-attr", m, EXTACK_REQUIRED, 0);

	/* ... while a known one is legal where the family shares one policy
	 * across commands, so only report what happened. */
	m = new_req(c, 0, VIRTHW_CMD_GET_CAPS);
	put_or_die(nla_put_u32(m, VIRTHW_A_CPU_ID, 0));
	expect_refused(c, "caps-with-cpu-id", m, INFO_ONLY, 0);
}

static void eperm_requests(hw_client *c)
{
	struct nl_msg *m;
	int r;

	m = new_req(c, 0, VIRTHW_CMD_GET_CAPS);
	expect_refused(c, "eperm-get-caps", m, EXTACK_OPTIONAL, EPERM);

	m = new_req(c, NLM_F_DUMP, VIRTHW_CMD_GET_CPUS);
	expect_refused(c, "eperm-get-cpus-dump", m, EXTACK_OPTIONAL, EPERM);

	m = new_req(c, 0, VIRTHW_CMD_GET_CPUS);
	put_or_die(nla_put_u32(m, VIRTHW_A_CPU_ID, 0));
	expect_refused(c, "eperm-get-cpus-do", m, EXTACK_OPTIONAL, EPERM);

	/* Only kernels with GENL_MCAST_CAP_NET_ADMIN (6.7+) can restrict a
	 * multicast group, so either outcome is legal. */
	r = hw_client_subscribe(c);
	printf("badreq: INFO eperm-subscribe-events: %s%s\n", r < 0 ? "refused errno=" : "allowed",
	       r < 0 ? errname(-r) : " (kernel without GENL_MCAST_CAP_NET_ADMIN?)");
	fflush(stdout);
}

static int drop_privileges(void)
{
	if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
		return -errno;
	/* Make sure it stuck: a process that can get root back proves nothing. */
	if (setuid(0) == 0)
		return -EPERM;
	return 0;
}

int main(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "drop-privs", no_argument, NULL, 'd' },
		{}
	};
	_cleanup_(hw_client_freep) hw_client *c = NULL;
	bool drop = false;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (opt) {
		case 'h':
			printf("Usage: virthw-badreq [--drop-privs]\n"
			       "\n"
			       "Sends malformed requests to the virthw generic netlink family and\n"
			       "checks that each is refused with an error and an extended ACK.\n"
			       "--drop-privs: become nobody (65534) first and check that every\n"
			       "command is refused with EPERM.  Run as root.\n"
			       "Exit status: 0 all passed, 1 a check failed or virthw is missing,\n"
			       "2 usage.\n");
			return 0;
		case 'd':
			drop = true;
			break;
		default:
			fprintf(stderr, "badreq: invalid command line (see --help)\n");
			return 2;
		}
	}

	/* Before any socket exists, so nothing opened as root carries over. */
	if (drop) {
		r = drop_privileges();
		if (r < 0) {
			printf("badreq: FAIL drop-privs: cannot become uid %d: %s\n", NOBODY, strerror(-r));
			return 1;
		}
		printf("badreq: running as uid %d gid %d\n", (int)getuid(), (int)getgid());
	}

	r = hw_client_new(&c);
	if (r < 0) {
		printf("badreq: FAIL connect: %s%s\n", strerror(-r),
		       r == -ENOPKG ? " (virthw module not loaded)" : "");
		return 1;
	}
	printf("badreq: virthw family id %d version %u\n", hw_client_family_id(c), hw_client_family_version(c));
	fflush(stdout);

	if (drop)
		eperm_requests(c);
	else
		bad_requests(c, sanity(c));

	if (no_extack[0])
		printf("badreq: refused without extack:%s\n", no_extack);
	printf("badreq: %d passed, %d failed\n", n_passed, n_failed);
	fflush(stdout);
	return n_failed ? 1 : 0;
}
