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

static void test_names(void)
{
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
	test_names();
	test_cpuid();
	return tests_finish();
}
