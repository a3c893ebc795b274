/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hw-seeds.c: writes the binary seeds of fuzz/hw-parse (the messages virthw
 * sends, built with libnl as the unit tests build theirs, values from real
 * SVM and VMX machines) into the directory given.  Run by
 * "tests/fuzz/run.sh --hw-seeds"; its output is committed in
 * tests/fuzz/corpus/hw-parse/ (the seeds are what the tree keeps, this is
 * how they were made).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include <linux/virthw.h>

static struct nl_msg *msg(uint8_t cmd)
{
	struct nl_msg *m = nlmsg_alloc();

	/* The family id is the kernel's choice at registration; the parsers do not look at it. */
	if (!m || !genlmsg_put(m, 4242, 7, 0x1c, 0, 0, cmd, VIRTHW_GENL_VERSION))
		abort();
	return m;
}

static void put(struct nl_msg *m, int type, uint64_t v, int len)
{
	if (nla_put(m, type, len, &v) < 0)	/* little-endian: the low LEN bytes */
		abort();
}

static struct nlattr *nest(struct nl_msg *m, int type)
{
	struct nlattr *n = nla_nest_start(m, type);

	if (!n)
		abort();
	n->nla_type |= NLA_F_NESTED;
	return n;
}

static void cpu(struct nl_msg *m, uint32_t id, int online, int feature, int fw, int on, int has_msr)
{
	struct nlattr *n = nest(m, VIRTHW_A_CPU);

	put(m, VIRTHW_CPU_A_ID, id, 4);
	put(m, VIRTHW_CPU_A_ONLINE, online, 1);
	if (online) {
		put(m, VIRTHW_CPU_A_FEATURE, feature, 1);
		put(m, VIRTHW_CPU_A_FW_ENABLED, fw, 1);
		if (has_msr)
			put(m, VIRTHW_CPU_A_FW_MSR, feature == VIRTHW_FEATURE_VMX ? 0x5 : 0x0, 8);
		put(m, VIRTHW_CPU_A_VIRT_ON, on, 1);
	}
	nla_nest_end(m, n);
}

static void stat(struct nl_msg *m, int type, uint32_t count, uint64_t min, uint64_t med, uint64_t mean, uint64_t max)
{
	struct nlattr *n = nest(m, type);

	put(m, VIRTHW_STAT_A_COUNT, count, 4);
	put(m, VIRTHW_STAT_A_MIN, min, 8);
	put(m, VIRTHW_STAT_A_MEDIAN, med, 8);
	put(m, VIRTHW_STAT_A_MEAN, mean, 8);
	put(m, VIRTHW_STAT_A_MAX, max, 8);
	nla_nest_end(m, n);
}

static void settings(struct nl_msg *m, int mode, uint64_t delay, int use, int reason)
{
	struct nlattr *n = nest(m, VIRTHW_A_SETTINGS);

	put(m, VIRTHW_SET_A_TIMER_MODE, mode, 1);
	put(m, VIRTHW_SET_A_MIN_MAX_DELAY_NS, delay, 8);
	put(m, VIRTHW_SET_A_TIMER_USE, use, 1);
	put(m, VIRTHW_SET_A_TIMER_REASON, reason, 1);
	nla_nest_end(m, n);
}

/* Writes the messages one after the other, as one receive buffer holds them. */
static void out(const char *dir, const char *name, struct nl_msg **ms, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	if (!f)
		abort();
	for (size_t i = 0; i < n; i++) {
		fwrite(nlmsg_hdr(ms[i]), 1, NLMSG_ALIGN(nlmsg_hdr(ms[i])->nlmsg_len), f);
		nlmsg_free(ms[i]);
	}
	if (fclose(f) != 0)
		abort();
}

static void caps(const char *dir)
{
	struct nl_msg *m = msg(VIRTHW_CMD_GET_CAPS);
	struct nlattr *n = nest(m, VIRTHW_A_CAPS);

	put(m, VIRTHW_CAPS_A_FEATURE, VIRTHW_FEATURE_VMX, 1);
	put(m, VIRTHW_CAPS_A_TSC_KHZ, 2394000, 4);
	put(m, VIRTHW_CAPS_A_VMX_MISC, 0x200401e5, 8);
	put(m, VIRTHW_CAPS_A_TIMER_RATE, 5, 1);
	put(m, VIRTHW_CAPS_A_TIMER_PIN_CTL, 1, 1);
	put(m, VIRTHW_CAPS_A_TIMER_ERRATUM, 0, 1);
	put(m, VIRTHW_CAPS_A_TIMER_MAX_NS, 57396000000ULL, 8);
	put(m, VIRTHW_CAPS_A_CPUID_SIG, 0x000306c3, 4);
	put(m, VIRTHW_CAPS_A_NR_CPUS, 4, 4);
	nla_nest_end(m, n);
	out(dir, "caps-vmx", &m, 1);

	m = msg(VIRTHW_CMD_GET_CAPS);
	n = nest(m, VIRTHW_A_CAPS);
	put(m, VIRTHW_CAPS_A_FEATURE, VIRTHW_FEATURE_SVM, 1);
	put(m, VIRTHW_CAPS_A_TSC_KHZ, 2496000, 4);
	put(m, VIRTHW_CAPS_A_CPUID_SIG, 0x00a20f12, 4);
	put(m, VIRTHW_CAPS_A_NR_CPUS, 2, 4);
	nla_nest_end(m, n);
	out(dir, "caps-svm", &m, 1);
}

static void cpus_and_events(const char *dir)
{
	struct nl_msg *ms[3];

	/* A GET_CPUS dump: one message per CPU, then NLMSG_DONE. */
	ms[0] = msg(VIRTHW_CMD_GET_CPUS);
	cpu(ms[0], 0, 1, VIRTHW_FEATURE_SVM, 1, 1, 1);
	ms[1] = msg(VIRTHW_CMD_GET_CPUS);
	cpu(ms[1], 1, 0, 0, 0, 0, 0);
	ms[2] = nlmsg_alloc_simple(NLMSG_DONE, NLM_F_MULTI);
	if (!ms[2] || nlmsg_append(ms[2], &(int){ 0 }, sizeof(int), NLMSG_ALIGNTO) < 0)
		abort();
	out(dir, "cpus-dump", ms, 3);

	ms[0] = msg(VIRTHW_CMD_GET_CPUS);
	cpu(ms[0], 3, 1, VIRTHW_FEATURE_VMX, 1, 0, 0);
	out(dir, "cpu-vmx", ms, 1);

	ms[0] = msg(VIRTHW_CMD_CPU_EVENT);
	put(ms[0], VIRTHW_A_EVENT, VIRTHW_EVENT_CPU_ONLINE, 1);
	cpu(ms[0], 1, 1, VIRTHW_FEATURE_SVM, 1, 0, 1);
	out(dir, "event-online", ms, 1);

	ms[0] = msg(VIRTHW_CMD_CPU_EVENT);
	put(ms[0], VIRTHW_A_EVENT, VIRTHW_EVENT_CPU_OFFLINE, 1);
	cpu(ms[0], 1, 0, 0, 0, 0, 0);
	out(dir, "event-offline", ms, 1);

	ms[0] = msg(VIRTHW_CMD_SETTINGS_EVENT);
	settings(ms[0], VIRTHW_TIMER_MODE_ON, 1000000, 1, VIRTHW_TIMER_REASON_FORCED_UNSAFE);
	out(dir, "event-settings", ms, 1);

	ms[0] = msg(VIRTHW_CMD_GET_SETTINGS);
	settings(ms[0], VIRTHW_TIMER_MODE_AUTO, 10000000000ULL, 0, VIRTHW_TIMER_REASON_NOT_VMX);
	out(dir, "settings", ms, 1);
}

static void probes(const char *dir)
{
	struct nl_msg *m = msg(VIRTHW_CMD_PROBE);
	struct nlattr *n = nest(m, VIRTHW_A_PROBE);

	put(m, VIRTHW_PROBE_A_CPU, 1, 4);
	put(m, VIRTHW_PROBE_A_FEATURE, VIRTHW_FEATURE_VMX, 1);
	put(m, VIRTHW_PROBE_A_ITERATIONS, 1000, 4);
	put(m, VIRTHW_PROBE_A_TSC_KHZ, 2394000, 4);
	put(m, VIRTHW_PROBE_A_TIMER_USE, 1, 1);
	stat(m, VIRTHW_PROBE_A_ROUND_TRIP, 1000, 1200, 1500, 1600, 9000);
	stat(m, VIRTHW_PROBE_A_TOGGLE, 1000, 2500, 3100, 3300, 12000);
	stat(m, VIRTHW_PROBE_A_IMMEDIATE, 1000, 1300, 1400, 1450, 5000);
	put(m, VIRTHW_PROBE_A_IMMEDIATE_METHOD, VIRTHW_IMMEDIATE_TIMER_ZERO, 1);
	put(m, VIRTHW_PROBE_A_TIMER_RATE, 5, 1);
	put(m, VIRTHW_PROBE_A_TIMER_PROGRAMMED, 10000, 4);
	put(m, VIRTHW_PROBE_A_TIMER_EXPECTED, 320000, 8);
	stat(m, VIRTHW_PROBE_A_TIMER_ELAPSED, 1000, 99000, 100028, 100100, 130000);
	put(m, VIRTHW_PROBE_A_SPURIOUS_TIMER_EXITS, 0, 4);
	put(m, VIRTHW_PROBE_A_INTERRUPTED, 3, 4);
	put(m, VIRTHW_PROBE_A_DURATION_NS, 123456789, 8);
	nla_nest_end(m, n);
	out(dir, "probe-vmx", &m, 1);

	m = msg(VIRTHW_CMD_PROBE);
	n = nest(m, VIRTHW_A_PROBE);
	put(m, VIRTHW_PROBE_A_CPU, 0, 4);
	put(m, VIRTHW_PROBE_A_FEATURE, VIRTHW_FEATURE_SVM, 1);
	put(m, VIRTHW_PROBE_A_ITERATIONS, 1000, 4);
	put(m, VIRTHW_PROBE_A_TSC_KHZ, 0, 4);
	stat(m, VIRTHW_PROBE_A_ROUND_TRIP, 1000, 1200, 1500, 1600, 9000);
	stat(m, VIRTHW_PROBE_A_IMMEDIATE, 1000, 1300, 1400, 1450, 5000);
	put(m, VIRTHW_PROBE_A_IMMEDIATE_METHOD, VIRTHW_IMMEDIATE_SELF_IPI, 1);
	put(m, VIRTHW_PROBE_A_SPURIOUS_TIMER_EXITS, 0, 4);
	put(m, VIRTHW_PROBE_A_INTERRUPTED, 0, 4);
	put(m, VIRTHW_PROBE_A_DURATION_NS, 5000, 8);
	nla_nest_end(m, n);
	out(dir, "probe-svm", &m, 1);
}

int main(int argc, char *argv[])
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	caps(argv[1]);
	cpus_and_events(argv[1]);
	probes(argv[1]);
	return 0;
}
