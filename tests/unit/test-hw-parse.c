/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-hw-parse.c: unit tests of the virthw message parsers, on messages built in memory. */
#include <errno.h>
#include <stdlib.h>

#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "hw-parse.h"
#include "tests.h"

/* Any family id will do: the parsers do not look at it. */
#define FAMILY 0x1c

static struct nl_msg *new_msg(uint8_t cmd)
{
	struct nl_msg *m = nlmsg_alloc();

	if (!m || !genlmsg_put(m, 0, 0, FAMILY, 0, 0, cmd, VIRTHW_GENL_VERSION))
		abort();
	return m;
}

static void put_raw(struct nl_msg *m, int type, const void *data, int len)
{
	if (nla_put(m, type, len, data) < 0)
		abort();
}

static void put_u8(struct nl_msg *m, int type, uint8_t v)
{
	put_raw(m, type, &v, sizeof(v));
}

static void put_u32(struct nl_msg *m, int type, uint32_t v)
{
	put_raw(m, type, &v, sizeof(v));
}

static void put_u64(struct nl_msg *m, int type, uint64_t v)
{
	put_raw(m, type, &v, sizeof(v));
}

static struct nlattr *nest(struct nl_msg *m, int type)
{
	struct nlattr *n = nla_nest_start(m, type);

	if (!n)
		abort();
	/* The kernel always marks nests; the parser must not mind the flag. */
	n->nla_type |= NLA_F_NESTED;
	return n;
}

/* What each CPU message of a test is built from; a field set to -1 is left
 * out, and the *_len fields, when non-zero, override the attribute size. */
struct cpu_spec {
	int64_t id, online, feature, fw_enabled, virt_on, fw_msr;
	int id_len, msr_len, online_len;
};

static const struct cpu_spec good_cpu = {
	.id = 3, .online = 1, .feature = VIRTHW_FEATURE_SVM, .fw_enabled = 1, .virt_on = 0, .fw_msr = 0x10,
};

static void put_sized(struct nl_msg *m, int type, int64_t v, int len, int dflt)
{
	uint64_t u = (uint64_t)v;

	if (v < 0)
		return;
	/* Little-endian host: the first len bytes of u are the value. */
	put_raw(m, type, &u, len ? len : dflt);
}

static void put_cpu(struct nl_msg *m, const struct cpu_spec *s)
{
	struct nlattr *n = nest(m, VIRTHW_A_CPU);

	put_sized(m, VIRTHW_CPU_A_ID, s->id, s->id_len, 4);
	put_sized(m, VIRTHW_CPU_A_ONLINE, s->online, s->online_len, 1);
	put_sized(m, VIRTHW_CPU_A_FEATURE, s->feature, 0, 1);
	put_sized(m, VIRTHW_CPU_A_FW_ENABLED, s->fw_enabled, 0, 1);
	put_sized(m, VIRTHW_CPU_A_FW_MSR, s->fw_msr, s->msr_len, 8);
	put_sized(m, VIRTHW_CPU_A_VIRT_ON, s->virt_on, 0, 1);
	nla_nest_end(m, n);
}

static int parse_cpu(const struct cpu_spec *s, struct virthw_cpu_state *st, const char **why)
{
	struct nl_msg *m = new_msg(VIRTHW_CMD_GET_CPUS);
	int r;

	put_cpu(m, s);
	r = hw_parse_cpu_msg(nlmsg_hdr(m), st, why);
	nlmsg_free(m);
	return r;
}

static void test_cpu(void)
{
	struct virthw_cpu_state st;
	struct cpu_spec s;
	const char *why = NULL;
	int r;

	r = parse_cpu(&good_cpu, &st, &why);
	CHECK(r == 0 && st.id == 3 && st.online && st.has_details && st.feature == VIRTHW_FEATURE_SVM &&
	      st.fw_enabled && !st.virt_on && st.has_fw_msr && st.fw_msr == 0x10,
	      "good online CPU: r=%d", r);

	s = good_cpu;
	s.fw_msr = -1;
	r = parse_cpu(&s, &st, &why);
	CHECK(r == 0 && st.has_details && !st.has_fw_msr, "FW_MSR is optional (unreadable MSR)");

	s = (struct cpu_spec){ .id = 1, .online = 0, .feature = -1, .fw_enabled = -1, .virt_on = -1, .fw_msr = -1 };
	r = parse_cpu(&s, &st, &why);
	CHECK(r == 0 && st.id == 1 && !st.online && !st.has_details && !st.has_fw_msr,
	      "offline CPU with only ID and ONLINE");

	s = good_cpu;
	s.online = 0;
	r = parse_cpu(&s, &st, &why);
	CHECK(r == 0 && !st.online && !st.has_details && !st.has_fw_msr, "details of an offline CPU are ignored");

	s = good_cpu;
	s.id = -1;
	r = parse_cpu(&s, &st, &why);
	CHECK(r == -ENODATA, "missing CPU ID: r=%d (%s)", r, why);

	s = good_cpu;
	s.online = -1;
	r = parse_cpu(&s, &st, &why);
	CHECK(r == -ENODATA, "missing ONLINE: r=%d (%s)", r, why);

	s = good_cpu;
	s.feature = -1;
	r = parse_cpu(&s, &st, &why);
	CHECK(r == -ENODATA, "online CPU without FEATURE: r=%d (%s)", r, why);

	s = good_cpu;
	s.virt_on = -1;
	r = parse_cpu(&s, &st, &why);
	CHECK(r == -ENODATA, "online CPU without VIRT_ON: r=%d (%s)", r, why);

	s = good_cpu;
	s.id_len = 1;
	r = parse_cpu(&s, &st, &why);
	CHECK(r == -EBADMSG, "CPU ID as u8: r=%d (%s)", r, why);

	s = good_cpu;
	s.id_len = 8;
	r = parse_cpu(&s, &st, &why);
	CHECK(r == -EBADMSG, "CPU ID as u64: r=%d (%s)", r, why);

	s = good_cpu;
	s.msr_len = 4;
	r = parse_cpu(&s, &st, &why);
	CHECK(r == -EBADMSG, "FW_MSR as u32: r=%d (%s)", r, why);

	s = good_cpu;
	s.online_len = 4;
	r = parse_cpu(&s, &st, &why);
	CHECK(r == -EBADMSG, "ONLINE as u32: r=%d (%s)", r, why);

	s = good_cpu;
	s.online = 2;
	r = parse_cpu(&s, &st, &why);
	CHECK(r == -EBADMSG, "ONLINE = 2: r=%d (%s)", r, why);

	s = good_cpu;
	s.fw_enabled = 7;
	r = parse_cpu(&s, &st, &why);
	CHECK(r == -EBADMSG, "FW_ENABLED = 7: r=%d (%s)", r, why);

	s = good_cpu;
	s.feature = VIRTHW_FEATURE_SVM + 1;
	r = parse_cpu(&s, &st, &why);
	CHECK(r == -EBADMSG, "FEATURE out of the enum: r=%d (%s)", r, why);

	s = good_cpu;
	s.feature = VIRTHW_FEATURE_VMX;
	r = parse_cpu(&s, &st, &why);
	CHECK(r == 0 && st.feature == VIRTHW_FEATURE_VMX, "FEATURE = VMX");
}

static void test_cpu_odd_messages(void)
{
	struct virthw_cpu_state st;
	const char *why = NULL;
	struct nl_msg *m;
	struct nlattr *n;
	int r;

	m = new_msg(VIRTHW_CMD_GET_CPUS);
	r = hw_parse_cpu_msg(nlmsg_hdr(m), &st, &why);
	CHECK(r == -ENODATA, "message without VIRTHW_A_CPU: r=%d (%s)", r, why);
	nlmsg_free(m);

	/* Attributes appended by a newer module are skipped. */
	m = new_msg(VIRTHW_CMD_GET_CPUS);
	put_u32(m, 42, 7);
	n = nest(m, VIRTHW_A_CPU);
	put_u32(m, VIRTHW_CPU_A_ID, 0);
	put_u8(m, VIRTHW_CPU_A_ONLINE, 0);
	put_u64(m, 40, 0);
	nla_nest_end(m, n);
	r = hw_parse_cpu_msg(nlmsg_hdr(m), &st, &why);
	CHECK(r == 0 && st.id == 0 && !st.online, "unknown attributes ignored: r=%d", r);
	nlmsg_free(m);

	/* An attribute header claiming 2 bytes (less than a header). */
	m = new_msg(VIRTHW_CMD_GET_CPUS);
	n = nest(m, VIRTHW_A_CPU);
	put_u32(m, VIRTHW_CPU_A_ID, 0);
	put_u8(m, VIRTHW_CPU_A_ONLINE, 0);
	{
		struct nlattr *bad = nlmsg_reserve(m, NLA_HDRLEN, NLA_ALIGNTO);

		bad->nla_len = 2;
		bad->nla_type = VIRTHW_CPU_A_FEATURE;
	}
	nla_nest_end(m, n);
	r = hw_parse_cpu_msg(nlmsg_hdr(m), &st, &why);
	CHECK(r == -EBADMSG, "garbage attribute header inside the nest: r=%d (%s)", r, why);
	nlmsg_free(m);

	/* A top-level attribute whose length runs past the message. */
	m = new_msg(VIRTHW_CMD_GET_CPUS);
	put_cpu(m, &good_cpu);
	{
		struct nlattr *bad = nlmsg_reserve(m, NLA_HDRLEN, NLA_ALIGNTO);

		bad->nla_len = 64;
		bad->nla_type = VIRTHW_A_CPU_ID;
	}
	r = hw_parse_cpu_msg(nlmsg_hdr(m), &st, &why);
	CHECK(r == -EBADMSG, "truncated top-level attribute: r=%d (%s)", r, why);
	nlmsg_free(m);

	/* Too short to hold a generic netlink header. */
	{
		struct nlmsghdr h = { .nlmsg_len = NLMSG_HDRLEN + 2, .nlmsg_type = FAMILY };
		char buf[NLMSG_HDRLEN + 4] = {};

		memcpy(buf, &h, sizeof(h));
		r = hw_parse_cpu_msg((const struct nlmsghdr *)buf, &st, &why);
		CHECK(r == -EBADMSG, "message shorter than a genl header: r=%d (%s)", r, why);
	}

	/* VIRTHW_A_CPU as a scalar instead of a nest. */
	m = new_msg(VIRTHW_CMD_GET_CPUS);
	put_u32(m, VIRTHW_A_CPU, 1);
	r = hw_parse_cpu_msg(nlmsg_hdr(m), &st, &why);
	CHECK(r < 0, "VIRTHW_A_CPU that is a u32, not a nest: r=%d (%s)", r, why);
	nlmsg_free(m);
}

struct caps_spec {
	int64_t feature, tsc_khz, vmx_misc, timer_rate, pin_ctl, erratum, max_ns, sig, nr_cpus;
	int max_ns_len, tsc_len;
};

static const struct caps_spec vmx_caps = {
	.feature = VIRTHW_FEATURE_VMX, .tsc_khz = 100000, .vmx_misc = 0x200401e0, .timer_rate = 0,
	.pin_ctl = 1, .erratum = 0, .max_ns = 42949672960LL, .sig = 0x000306c3, .nr_cpus = 1,
};

static const struct caps_spec svm_caps = {
	.feature = VIRTHW_FEATURE_SVM, .tsc_khz = 2496000, .vmx_misc = -1, .timer_rate = -1,
	.pin_ctl = -1, .erratum = -1, .max_ns = -1, .sig = 0x00a20f12, .nr_cpus = 2,
};

static int parse_caps(const struct caps_spec *s, struct virthw_caps *c, const char **why)
{
	struct nl_msg *m = new_msg(VIRTHW_CMD_GET_CAPS);
	struct nlattr *n = nest(m, VIRTHW_A_CAPS);
	int r;

	put_sized(m, VIRTHW_CAPS_A_FEATURE, s->feature, 0, 1);
	put_sized(m, VIRTHW_CAPS_A_TSC_KHZ, s->tsc_khz, s->tsc_len, 4);
	put_sized(m, VIRTHW_CAPS_A_VMX_MISC, s->vmx_misc, 0, 8);
	put_sized(m, VIRTHW_CAPS_A_TIMER_RATE, s->timer_rate, 0, 1);
	put_sized(m, VIRTHW_CAPS_A_TIMER_PIN_CTL, s->pin_ctl, 0, 1);
	put_sized(m, VIRTHW_CAPS_A_TIMER_ERRATUM, s->erratum, 0, 1);
	put_sized(m, VIRTHW_CAPS_A_TIMER_MAX_NS, s->max_ns, s->max_ns_len, 8);
	put_sized(m, VIRTHW_CAPS_A_CPUID_SIG, s->sig, 0, 4);
	put_sized(m, VIRTHW_CAPS_A_NR_CPUS, s->nr_cpus, 0, 4);
	nla_nest_end(m, n);
	r = hw_parse_caps_msg(nlmsg_hdr(m), c, why);
	nlmsg_free(m);
	return r;
}

static void test_caps(void)
{
	struct virthw_caps c;
	struct caps_spec s;
	const char *why = NULL;
	int r;

	r = parse_caps(&vmx_caps, &c, &why);
	CHECK(r == 0 && c.feature == VIRTHW_FEATURE_VMX && c.tsc_khz == 100000 && c.has_vmx_misc &&
	      c.vmx_misc == 0x200401e0 && c.has_timer_rate && c.timer_rate == 0 && c.has_timer_pin_ctl &&
	      c.timer_pin_ctl && c.has_timer_erratum && !c.timer_erratum && c.has_timer_max_ns &&
	      c.timer_max_ns == 42949672960ULL && c.cpuid_sig == 0x000306c3 && c.nr_cpus == 1,
	      "VMX caps with every field: r=%d", r);

	r = parse_caps(&svm_caps, &c, &why);
	CHECK(r == 0 && c.feature == VIRTHW_FEATURE_SVM && c.tsc_khz == 2496000 && !c.has_vmx_misc &&
	      !c.has_timer_rate && !c.has_timer_pin_ctl && !c.has_timer_erratum && !c.has_timer_max_ns &&
	      c.nr_cpus == 2,
	      "SVM caps without the VMX-only fields: r=%d", r);

	s = vmx_caps;
	s.tsc_khz = -1;
	r = parse_caps(&s, &c, &why);
	CHECK(r == -ENODATA, "missing TSC_KHZ: r=%d (%s)", r, why);

	s = vmx_caps;
	s.nr_cpus = -1;
	r = parse_caps(&s, &c, &why);
	CHECK(r == -ENODATA, "missing NR_CPUS: r=%d (%s)", r, why);

	s = vmx_caps;
	s.nr_cpus = 0;
	r = parse_caps(&s, &c, &why);
	CHECK(r == -EBADMSG, "NR_CPUS = 0: r=%d (%s)", r, why);

	s = vmx_caps;
	s.timer_rate = 32;
	r = parse_caps(&s, &c, &why);
	CHECK(r == -EBADMSG, "TIMER_RATE = 32 (a 5-bit field): r=%d (%s)", r, why);

	s = vmx_caps;
	s.timer_rate = 31;
	r = parse_caps(&s, &c, &why);
	CHECK(r == 0 && c.timer_rate == 31, "TIMER_RATE = 31");

	s = vmx_caps;
	s.pin_ctl = 2;
	r = parse_caps(&s, &c, &why);
	CHECK(r == -EBADMSG, "TIMER_PIN_CTL = 2: r=%d (%s)", r, why);

	s = vmx_caps;
	s.max_ns_len = 4;
	r = parse_caps(&s, &c, &why);
	CHECK(r == -EBADMSG, "TIMER_MAX_NS as u32: r=%d (%s)", r, why);

	s = vmx_caps;
	s.tsc_len = 8;
	r = parse_caps(&s, &c, &why);
	CHECK(r == -EBADMSG, "TSC_KHZ as u64: r=%d (%s)", r, why);

	s = vmx_caps;
	s.feature = 9;
	r = parse_caps(&s, &c, &why);
	CHECK(r == -EBADMSG, "FEATURE = 9: r=%d (%s)", r, why);

	s = vmx_caps;
	s.max_ns = -1;
	s.tsc_khz = 0;
	r = parse_caps(&s, &c, &why);
	CHECK(r == 0 && c.tsc_khz == 0 && !c.has_timer_max_ns, "unknown TSC (0) accepted");

	{
		struct nl_msg *m = new_msg(VIRTHW_CMD_GET_CAPS);

		r = hw_parse_caps_msg(nlmsg_hdr(m), &c, &why);
		CHECK(r == -ENODATA, "reply without VIRTHW_A_CAPS: r=%d (%s)", r, why);
		nlmsg_free(m);
	}
}

static int parse_event(uint8_t cmd, int64_t event, const struct cpu_spec *cpu, struct virthw_event_msg *e,
		       const char **why)
{
	struct nl_msg *m = new_msg(cmd);
	int r;

	if (event >= 0)
		put_u8(m, VIRTHW_A_EVENT, (uint8_t)event);
	if (cpu)
		put_cpu(m, cpu);
	r = hw_parse_event_msg(nlmsg_hdr(m), e, why);
	nlmsg_free(m);
	return r;
}

static void test_event(void)
{
	const struct cpu_spec offline = { .id = 1, .online = 0, .feature = -1, .fw_enabled = -1,
					  .virt_on = -1, .fw_msr = -1 };
	struct virthw_event_msg e;
	const char *why = NULL;
	int r;

	r = parse_event(VIRTHW_CMD_CPU_EVENT, VIRTHW_EVENT_CPU_ONLINE, &good_cpu, &e, &why);
	CHECK(r == 0 && e.event == VIRTHW_EVENT_CPU_ONLINE && e.cpu.id == 3 && e.cpu.online && e.cpu.has_details,
	      "CPU online event: r=%d", r);

	r = parse_event(VIRTHW_CMD_CPU_EVENT, VIRTHW_EVENT_CPU_OFFLINE, &offline, &e, &why);
	CHECK(r == 0 && e.event == VIRTHW_EVENT_CPU_OFFLINE && e.cpu.id == 1 && !e.cpu.online && !e.cpu.has_details,
	      "CPU offline event with only ID and ONLINE: r=%d", r);

	r = parse_event(VIRTHW_CMD_CPU_EVENT, VIRTHW_EVENT_UNSPEC, &good_cpu, &e, &why);
	CHECK(r == -EBADMSG, "event UNSPEC: r=%d (%s)", r, why);

	r = parse_event(VIRTHW_CMD_CPU_EVENT, VIRTHW_EVENT_CPU_OFFLINE + 1, &good_cpu, &e, &why);
	CHECK(r == -EBADMSG, "event out of the enum: r=%d (%s)", r, why);

	r = parse_event(VIRTHW_CMD_CPU_EVENT, -1, &good_cpu, &e, &why);
	CHECK(r == -ENODATA, "event without VIRTHW_A_EVENT: r=%d (%s)", r, why);

	r = parse_event(VIRTHW_CMD_CPU_EVENT, VIRTHW_EVENT_CPU_ONLINE, NULL, &e, &why);
	CHECK(r == -ENODATA, "event without VIRTHW_A_CPU: r=%d (%s)", r, why);

	r = parse_event(VIRTHW_CMD_GET_CPUS, VIRTHW_EVENT_CPU_ONLINE, &good_cpu, &e, &why);
	CHECK(r == -EBADMSG, "event with the wrong command: r=%d (%s)", r, why);

	r = parse_event(VIRTHW_CMD_CPU_EVENT, VIRTHW_EVENT_CPU_ONLINE, &good_cpu, &e, NULL);
	CHECK(r == 0, "ret_why may be NULL");
	r = parse_event(VIRTHW_CMD_CPU_EVENT, VIRTHW_EVENT_CPU_ONLINE, &offline, &e, NULL);
	CHECK(r == 0, "ret_why may be NULL (offline)");
	{
		struct cpu_spec bad = good_cpu;

		bad.id_len = 2;
		r = parse_event(VIRTHW_CMD_CPU_EVENT, VIRTHW_EVENT_CPU_ONLINE, &bad, &e, NULL);
		CHECK(r == -EBADMSG, "bad nested CPU in an event, ret_why NULL: r=%d", r);
	}
}

/* Settings nest; a field set to -1 is left out. */
struct settings_spec {
	int64_t mode, delay, use, reason;
	int delay_len;
};

static const struct settings_spec good_settings = {
	.mode = VIRTHW_TIMER_MODE_AUTO, .delay = 10000000000LL, .use = 1, .reason = VIRTHW_TIMER_REASON_SAFE,
};

static void put_settings(struct nl_msg *m, const struct settings_spec *s)
{
	struct nlattr *n = nest(m, VIRTHW_A_SETTINGS);

	put_sized(m, VIRTHW_SET_A_TIMER_MODE, s->mode, 0, 1);
	put_sized(m, VIRTHW_SET_A_MIN_MAX_DELAY_NS, s->delay, s->delay_len, 8);
	put_sized(m, VIRTHW_SET_A_TIMER_USE, s->use, 0, 1);
	put_sized(m, VIRTHW_SET_A_TIMER_REASON, s->reason, 0, 1);
	nla_nest_end(m, n);
}

static int parse_settings(const struct settings_spec *s, struct virthw_settings *st, const char **why)
{
	struct nl_msg *m = new_msg(VIRTHW_CMD_GET_SETTINGS);
	int r;

	if (s)
		put_settings(m, s);
	r = hw_parse_settings_msg(nlmsg_hdr(m), st, why);
	nlmsg_free(m);
	return r;
}

static void test_settings(void)
{
	struct virthw_settings st;
	struct settings_spec s;
	const char *why = NULL;
	int r;

	r = parse_settings(&good_settings, &st, &why);
	CHECK(r == 0 && st.mode == VIRTHW_TIMER_MODE_AUTO && st.min_max_delay_ns == 10000000000ULL && st.timer_use &&
	      st.reason == VIRTHW_TIMER_REASON_SAFE, "good settings: r=%d", r);

	s = (struct settings_spec){ .mode = VIRTHW_TIMER_MODE_OFF, .delay = 1, .use = 0,
				    .reason = VIRTHW_TIMER_REASON_MODE_OFF };
	r = parse_settings(&s, &st, &why);
	CHECK(r == 0 && st.mode == VIRTHW_TIMER_MODE_OFF && !st.timer_use && st.reason == VIRTHW_TIMER_REASON_MODE_OFF,
	      "settings off: r=%d", r);

	s = (struct settings_spec){ .mode = VIRTHW_TIMER_MODE_ON, .delay = 60000000000LL, .use = 1,
				    .reason = VIRTHW_TIMER_REASON_FORCED_UNSAFE };
	r = parse_settings(&s, &st, &why);
	CHECK(r == 0 && st.mode == VIRTHW_TIMER_MODE_ON && st.timer_use, "settings forced on: r=%d", r);

	r = parse_settings(NULL, &st, &why);
	CHECK(r == -ENODATA, "reply without VIRTHW_A_SETTINGS: r=%d (%s)", r, why);

	s = good_settings;
	s.mode = VIRTHW_TIMER_MODE_OFF + 1;
	r = parse_settings(&s, &st, &why);
	CHECK(r == -EBADMSG, "mode out of the enum: r=%d (%s)", r, why);

	s = good_settings;
	s.reason = VIRTHW_TIMER_REASON_UNKNOWN + 1;
	r = parse_settings(&s, &st, &why);
	CHECK(r == -EBADMSG, "reason out of the enum: r=%d (%s)", r, why);

	s = good_settings;
	s.reason = VIRTHW_TIMER_REASON_UNSPEC;
	r = parse_settings(&s, &st, &why);
	CHECK(r == -EBADMSG, "reason UNSPEC: r=%d (%s)", r, why);

	s = good_settings;
	s.reason = VIRTHW_TIMER_REASON_SHORT_MAX_DELAY;
	r = parse_settings(&s, &st, &why);
	CHECK(r == -EBADMSG, "timer in use with a refusing reason: r=%d (%s)", r, why);

	s = good_settings;
	s.use = 0;
	r = parse_settings(&s, &st, &why);
	CHECK(r == -EBADMSG, "timer unused with reason SAFE: r=%d (%s)", r, why);

	s = good_settings;
	s.use = 2;
	r = parse_settings(&s, &st, &why);
	CHECK(r == -EBADMSG, "TIMER_USE 2: r=%d (%s)", r, why);

	s = good_settings;
	s.delay_len = 4;
	r = parse_settings(&s, &st, &why);
	CHECK(r == -EBADMSG, "MIN_MAX_DELAY_NS as u32: r=%d (%s)", r, why);

	s = good_settings;
	s.mode = -1;
	r = parse_settings(&s, &st, &why);
	CHECK(r == -ENODATA, "settings without TIMER_MODE: r=%d (%s)", r, why);

	s = good_settings;
	s.delay = -1;
	r = parse_settings(&s, &st, &why);
	CHECK(r == -ENODATA, "settings without MIN_MAX_DELAY_NS: r=%d (%s)", r, why);

	s = good_settings;
	s.use = -1;
	r = parse_settings(&s, &st, NULL);
	CHECK(r == -ENODATA, "settings without TIMER_USE, ret_why NULL: r=%d", r);
}

struct stat_spec {
	int64_t count, min, median, mean, max;
};

static void put_stat(struct nl_msg *m, int type, const struct stat_spec *s)
{
	struct nlattr *n = nest(m, type);

	put_sized(m, VIRTHW_STAT_A_COUNT, s->count, 0, 4);
	put_sized(m, VIRTHW_STAT_A_MIN, s->min, 0, 8);
	put_sized(m, VIRTHW_STAT_A_MEDIAN, s->median, 0, 8);
	put_sized(m, VIRTHW_STAT_A_MEAN, s->mean, 0, 8);
	put_sized(m, VIRTHW_STAT_A_MAX, s->max, 0, 8);
	nla_nest_end(m, n);
}

/* A probe reply; the stats pointers, when NULL, leave the nest out. */
struct probe_spec {
	int64_t cpu, feature, iterations, tsc_khz, timer_use, method, rate, programmed, expected;
	int64_t spurious, interrupted, duration;
	const struct stat_spec *round_trip, *toggle, *immediate, *elapsed;
};

static const struct stat_spec good_rt = { 1000, 1200, 1500, 1600, 9000 };
static const struct stat_spec good_toggle = { 1000, 2500, 3100, 3300, 12000 };
static const struct stat_spec good_imm = { 1000, 1300, 1400, 1450, 5000 };
static const struct stat_spec good_elapsed = { 1000, 99000, 100028, 100100, 130000 };

static const struct probe_spec vmx_probe = {
	.cpu = 1, .feature = VIRTHW_FEATURE_VMX, .iterations = 1000, .tsc_khz = 2000000, .timer_use = 1,
	.method = VIRTHW_IMMEDIATE_TIMER_ZERO, .rate = 5, .programmed = 10000, .expected = 320000,
	.spurious = 0, .interrupted = 3, .duration = 123456789,
	.round_trip = &good_rt, .toggle = &good_toggle, .immediate = &good_imm, .elapsed = &good_elapsed,
};

static const struct probe_spec svm_probe = {
	.cpu = 0, .feature = VIRTHW_FEATURE_SVM, .iterations = 1000, .tsc_khz = 0, .timer_use = -1,
	.method = -1, .rate = -1, .programmed = -1, .expected = -1,
	.spurious = 0, .interrupted = 0, .duration = 5000,
	.round_trip = &good_rt,
};

static int parse_probe(const struct probe_spec *s, struct virthw_probe *p, const char **why)
{
	struct nl_msg *m = new_msg(VIRTHW_CMD_PROBE);
	struct nlattr *n = nest(m, VIRTHW_A_PROBE);
	int r;

	put_sized(m, VIRTHW_PROBE_A_CPU, s->cpu, 0, 4);
	put_sized(m, VIRTHW_PROBE_A_FEATURE, s->feature, 0, 1);
	put_sized(m, VIRTHW_PROBE_A_ITERATIONS, s->iterations, 0, 4);
	put_sized(m, VIRTHW_PROBE_A_TSC_KHZ, s->tsc_khz, 0, 4);
	put_sized(m, VIRTHW_PROBE_A_TIMER_USE, s->timer_use, 0, 1);
	if (s->round_trip)
		put_stat(m, VIRTHW_PROBE_A_ROUND_TRIP, s->round_trip);
	if (s->toggle)
		put_stat(m, VIRTHW_PROBE_A_TOGGLE, s->toggle);
	if (s->immediate)
		put_stat(m, VIRTHW_PROBE_A_IMMEDIATE, s->immediate);
	put_sized(m, VIRTHW_PROBE_A_IMMEDIATE_METHOD, s->method, 0, 1);
	put_sized(m, VIRTHW_PROBE_A_TIMER_RATE, s->rate, 0, 1);
	put_sized(m, VIRTHW_PROBE_A_TIMER_PROGRAMMED, s->programmed, 0, 4);
	put_sized(m, VIRTHW_PROBE_A_TIMER_EXPECTED, s->expected, 0, 8);
	if (s->elapsed)
		put_stat(m, VIRTHW_PROBE_A_TIMER_ELAPSED, s->elapsed);
	put_sized(m, VIRTHW_PROBE_A_SPURIOUS_TIMER_EXITS, s->spurious, 0, 4);
	put_sized(m, VIRTHW_PROBE_A_INTERRUPTED, s->interrupted, 0, 4);
	put_sized(m, VIRTHW_PROBE_A_DURATION_NS, s->duration, 0, 8);
	nla_nest_end(m, n);
	r = hw_parse_probe_msg(nlmsg_hdr(m), p, why);
	nlmsg_free(m);
	return r;
}

static void test_probe(void)
{
	struct stat_spec bad_stat;
	struct virthw_probe p;
	struct probe_spec s;
	const char *why = NULL;
	int r;

	r = parse_probe(&vmx_probe, &p, &why);
	CHECK(r == 0 && p.cpu == 1 && p.feature == VIRTHW_FEATURE_VMX && p.iterations == 1000 &&
	      p.tsc_khz == 2000000 && p.has_timer_use && p.timer_use && p.round_trip.present &&
	      p.round_trip.count == 1000 && p.round_trip.min == 1200 && p.round_trip.median == 1500 &&
	      p.round_trip.mean == 1600 && p.round_trip.max == 9000 && p.toggle.present && p.toggle.median == 3100 &&
	      p.immediate.present && p.immediate_method == VIRTHW_IMMEDIATE_TIMER_ZERO && p.has_timer_rate &&
	      p.timer_rate == 5 && p.has_timer && p.timer_programmed == 10000 && p.timer_expected == 320000 &&
	      p.timer_elapsed.present && p.timer_elapsed.median == 100028 && p.spurious_timer_exits == 0 &&
	      p.interrupted == 3 && p.duration_ns == 123456789,
	      "full VMX probe reply: r=%d (%s)", r, r ? why : "");

	r = parse_probe(&svm_probe, &p, &why);
	CHECK(r == 0 && p.feature == VIRTHW_FEATURE_SVM && !p.has_timer_use && p.round_trip.present &&
	      !p.toggle.present && !p.immediate.present && !p.timer_elapsed.present &&
	      p.immediate_method == VIRTHW_IMMEDIATE_NONE && !p.has_timer_rate && !p.has_timer,
	      "SVM probe reply, round trips only: r=%d (%s)", r, r ? why : "");

	s = vmx_probe;
	s.elapsed = NULL;
	s.programmed = s.expected = -1;
	s.method = VIRTHW_IMMEDIATE_SELF_IPI;
	s.timer_use = 0;
	r = parse_probe(&s, &p, &why);
	CHECK(r == 0 && !p.has_timer && !p.timer_elapsed.present && p.immediate_method == VIRTHW_IMMEDIATE_SELF_IPI &&
	      p.has_timer_use && !p.timer_use, "VMX probe with the timer off: r=%d", r);

	s = vmx_probe;
	s.round_trip = NULL;
	r = parse_probe(&s, &p, &why);
	CHECK(r == -ENODATA, "probe without ROUND_TRIP: r=%d (%s)", r, why);

	s = vmx_probe;
	s.cpu = -1;
	r = parse_probe(&s, &p, &why);
	CHECK(r == -ENODATA, "probe without CPU: r=%d (%s)", r, why);

	s = vmx_probe;
	s.duration = -1;
	r = parse_probe(&s, &p, &why);
	CHECK(r == -ENODATA, "probe without DURATION_NS: r=%d (%s)", r, why);

	s = vmx_probe;
	s.feature = VIRTHW_FEATURE_NONE;
	r = parse_probe(&s, &p, &why);
	CHECK(r == -EBADMSG, "probe of feature none: r=%d (%s)", r, why);

	s = vmx_probe;
	s.iterations = 0;
	r = parse_probe(&s, &p, &why);
	CHECK(r == -EBADMSG, "probe with 0 iterations: r=%d (%s)", r, why);

	s = vmx_probe;
	s.iterations = VIRTHW_PROBE_MAX_ITERATIONS + 1;
	r = parse_probe(&s, &p, &why);
	CHECK(r == -EBADMSG, "probe with too many iterations: r=%d (%s)", r, why);

	s = vmx_probe;
	s.iterations = 999;
	r = parse_probe(&s, &p, &why);
	CHECK(r == -EBADMSG, "stats count above the iterations: r=%d (%s)", r, why);

	bad_stat = good_rt;
	bad_stat.median = bad_stat.max + 1;
	s = vmx_probe;
	s.toggle = &bad_stat;
	r = parse_probe(&s, &p, &why);
	CHECK(r == -EBADMSG, "median above max: r=%d (%s)", r, why);

	bad_stat = good_rt;
	bad_stat.mean = bad_stat.min - 1;
	s = vmx_probe;
	s.round_trip = &bad_stat;
	r = parse_probe(&s, &p, &why);
	CHECK(r == -EBADMSG, "mean below min: r=%d (%s)", r, why);

	bad_stat = good_rt;
	bad_stat.mean = -1;
	s = vmx_probe;
	s.elapsed = &bad_stat;
	r = parse_probe(&s, &p, &why);
	CHECK(r == -ENODATA, "stats without MEAN: r=%d (%s)", r, why);

	s = vmx_probe;
	s.method = -1;
	r = parse_probe(&s, &p, &why);
	CHECK(r == -EBADMSG, "IMMEDIATE without a method: r=%d (%s)", r, why);

	s = vmx_probe;
	s.immediate = NULL;
	r = parse_probe(&s, &p, &why);
	CHECK(r == -EBADMSG, "a method without IMMEDIATE: r=%d (%s)", r, why);

	s = vmx_probe;
	s.method = VIRTHW_IMMEDIATE_SELF_IPI + 1;
	r = parse_probe(&s, &p, &why);
	CHECK(r == -EBADMSG, "method out of the enum: r=%d (%s)", r, why);

	s = vmx_probe;
	s.rate = 32;
	r = parse_probe(&s, &p, &why);
	CHECK(r == -EBADMSG, "rate 32: r=%d (%s)", r, why);

	s = vmx_probe;
	s.expected = -1;
	r = parse_probe(&s, &p, &why);
	CHECK(r == -ENODATA, "PROGRAMMED without EXPECTED: r=%d (%s)", r, why);

	s = vmx_probe;
	s.timer_use = 3;
	r = parse_probe(&s, &p, NULL);
	CHECK(r == -EBADMSG, "TIMER_USE 3, ret_why NULL: r=%d", r);

	{
		struct nl_msg *m = new_msg(VIRTHW_CMD_PROBE);

		r = hw_parse_probe_msg(nlmsg_hdr(m), &p, &why);
		CHECK(r == -ENODATA, "reply without VIRTHW_A_PROBE: r=%d (%s)", r, why);
		nlmsg_free(m);
	}
}

static void test_settings_event(void)
{
	struct virthw_event_msg e;
	struct settings_spec s;
	const char *why = NULL;
	struct nl_msg *m;
	int r;

	m = new_msg(VIRTHW_CMD_SETTINGS_EVENT);
	put_settings(m, &good_settings);
	r = hw_parse_event_msg(nlmsg_hdr(m), &e, &why);
	nlmsg_free(m);
	CHECK(r == 0 && e.kind == HW_EVENT_KIND_SETTINGS && e.settings.mode == VIRTHW_TIMER_MODE_AUTO &&
	      e.settings.timer_use && e.event == VIRTHW_EVENT_UNSPEC && e.cpu.id == 0,
	      "settings event: r=%d", r);

	r = parse_event(VIRTHW_CMD_CPU_EVENT, VIRTHW_EVENT_CPU_ONLINE, &good_cpu, &e, &why);
	CHECK(r == 0 && e.kind == HW_EVENT_KIND_CPU, "CPU event has kind CPU: r=%d", r);

	m = new_msg(VIRTHW_CMD_SETTINGS_EVENT);
	r = hw_parse_event_msg(nlmsg_hdr(m), &e, &why);
	nlmsg_free(m);
	CHECK(r == -ENODATA, "settings event without VIRTHW_A_SETTINGS: r=%d (%s)", r, why);

	s = good_settings;
	s.reason = 77;
	m = new_msg(VIRTHW_CMD_SETTINGS_EVENT);
	put_settings(m, &s);
	r = hw_parse_event_msg(nlmsg_hdr(m), &e, &why);
	nlmsg_free(m);
	CHECK(r == -EBADMSG, "settings event with a bad reason: r=%d (%s)", r, why);
}

static void test_names(void)
{
	enum virthw_timer_mode mode;

	CHECK_STR(hw_timer_mode_to_string(VIRTHW_TIMER_MODE_AUTO), "auto", "mode name auto");
	CHECK_STR(hw_timer_mode_to_string(VIRTHW_TIMER_MODE_ON), "on", "mode name on");
	CHECK_STR(hw_timer_mode_to_string(VIRTHW_TIMER_MODE_OFF), "off", "mode name off");
	CHECK_STR(hw_timer_mode_to_string((enum virthw_timer_mode)9), "unknown", "mode name out of range");
	CHECK(hw_timer_mode_from_string("on", &mode) == 0 && mode == VIRTHW_TIMER_MODE_ON, "mode from \"on\"");
	CHECK(hw_timer_mode_from_string("auto", &mode) == 0 && mode == VIRTHW_TIMER_MODE_AUTO, "mode from \"auto\"");
	CHECK(hw_timer_mode_from_string("Off", &mode) == -EINVAL, "mode from \"Off\" refused");
	CHECK(hw_timer_mode_from_string(NULL, &mode) == -EINVAL, "mode from NULL refused");
	CHECK_STR(hw_timer_reason_to_string(VIRTHW_TIMER_REASON_NOT_VMX), "not VMX", "reason not VMX");
	CHECK_STR(hw_timer_reason_to_string(VIRTHW_TIMER_REASON_NO_PIN_CTL), "pin control unavailable",
		  "reason no pin control");
	CHECK_STR(hw_timer_reason_to_string(VIRTHW_TIMER_REASON_SHORT_MAX_DELAY), "maximum delay below the minimum",
		  "reason short max delay");
	CHECK_STR(hw_timer_reason_to_string(VIRTHW_TIMER_REASON_UNSPEC), "unknown", "reason unspec");
	for (int i = VIRTHW_TIMER_REASON_SAFE; i <= VIRTHW_TIMER_REASON_UNKNOWN; i++)
		CHECK(strcmp(hw_timer_reason_to_string(i), "unknown") != 0, "reason %d has a name", i);
	CHECK_STR(hw_immediate_method_to_string(VIRTHW_IMMEDIATE_TIMER_ZERO), "timer-zero", "method timer-zero");
	CHECK_STR(hw_immediate_method_to_string(VIRTHW_IMMEDIATE_SELF_IPI), "self-ipi", "method self-ipi");
	CHECK_STR(hw_immediate_method_to_string(VIRTHW_IMMEDIATE_NONE), "none", "method none");

	CHECK_STR(hw_feature_to_string(VIRTHW_FEATURE_VMX), "vmx", "feature name vmx");
	CHECK_STR(hw_feature_to_string(VIRTHW_FEATURE_SVM), "svm", "feature name svm");
	CHECK_STR(hw_feature_to_string(VIRTHW_FEATURE_NONE), "none", "feature name none");
	CHECK_STR(hw_feature_to_string((enum virthw_feature)7), "unknown", "feature name out of range");
	CHECK_STR(hw_event_to_string(VIRTHW_EVENT_CPU_ONLINE), "cpu-online", "event name online");
	CHECK_STR(hw_event_to_string(VIRTHW_EVENT_CPU_OFFLINE), "cpu-offline", "event name offline");
	CHECK_STR(hw_event_to_string(VIRTHW_EVENT_UNSPEC), "unknown", "event name unspec");
}

static void test_cpuid(void)
{
	static const struct {
		uint32_t eax;
		unsigned family, model, stepping;
	} cases[] = {
		{ 0x000906ea, 6, 158, 10 },     /* Intel Coffee Lake */
		{ 0x000306c3, 6, 60, 3 },       /* Intel Haswell (Bochs' model) */
		{ 0x00a20f12, 25, 33, 2 },      /* AMD Zen 3 */
		{ 0x00000f41, 15, 4, 1 },       /* Pentium 4: family 0xf, no extension */
		{ 0x00000663, 6, 6, 3 },        /* QEMU's default model */
		{ 0x00000543, 5, 4, 3 },        /* family 5: extended model ignored */
		{ 0x00010543, 5, 4, 3 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hw_cpuid_decoded d = hw_cpuid_decode(cases[i].eax);

		CHECK(d.family == cases[i].family && d.model == cases[i].model && d.stepping == cases[i].stepping,
		      "cpuid 0x%08x -> family %u model %u stepping %u", (unsigned)cases[i].eax, d.family, d.model,
		      d.stepping);
	}
}

int main(void)
{
	test_cpu();
	test_cpu_odd_messages();
	test_caps();
	test_event();
	test_settings();
	test_probe();
	test_settings_event();
	test_names();
	test_cpuid();
	return tests_finish();
}
