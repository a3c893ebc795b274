/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hw-parse.c: pure decoding and validation of virthw generic netlink messages. */
#include <errno.h>
#include <string.h>

#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include "hw-parse.h"
#include "macro.h"

static int fail(int r, const char **ret_why, const char *why)
{
	if (ret_why)
		*ret_why = why;
	return r;
}

/*
 * libnl's own policy check only enforces a minimum length; the kernel puts
 * fixed-size payloads, so anything but the exact size means the two sides
 * disagree about the protocol.
 */
static int get_fixed(struct nlattr *const *tb, int type, size_t size, void *ret)
{
	if (!tb[type])
		return -ENODATA;
	if ((size_t)nla_len(tb[type]) != size)
		return -EBADMSG;
	memcpy(ret, nla_data(tb[type]), size);
	return 0;
}

static int get_bool(struct nlattr *const *tb, int type, bool *ret)
{
	uint8_t v;
	int r;

	r = get_fixed(tb, type, sizeof(v), &v);
	if (r < 0)
		return r;
	if (v > 1)
		return -EBADMSG;
	*ret = v;
	return 0;
}

static int get_feature(struct nlattr *const *tb, int type, enum virthw_feature *ret)
{
	uint8_t v;
	int r;

	r = get_fixed(tb, type, sizeof(v), &v);
	if (r < 0)
		return r;
	if (v > VIRTHW_FEATURE_SVM)
		return -EBADMSG;
	*ret = v;
	return 0;
}

/* Splits a nest into a table indexed by type; rejects a nest whose contents
 * do not tile it exactly (a truncated or garbage attribute header). */
static int parse_nest(struct nlattr **tb, int maxtype, const struct nlattr *nest)
{
	const struct nlattr *pos;
	int rem;

	memset(tb, 0, sizeof(struct nlattr *) * (maxtype + 1));
	nla_for_each_nested(pos, nest, rem) {
		int type = nla_type(pos);

		if (type > 0 && type <= maxtype)
			tb[type] = (struct nlattr *)pos;
	}
	/* A negative remainder is only the last attribute's missing alignment
	 * padding; a positive one is bytes that do not form an attribute. */
	return rem <= 0 ? 0 : -EBADMSG;
}

static int parse_attrs(struct nlattr **tb, int maxtype, const struct nlmsghdr *nlh)
{
	const struct nlattr *pos;
	int rem;

	if (!genlmsg_valid_hdr((struct nlmsghdr *)nlh, 0))
		return -EBADMSG;
	memset(tb, 0, sizeof(struct nlattr *) * (maxtype + 1));
	nla_for_each_attr(pos, genlmsg_attrdata(nlmsg_data(nlh), 0), genlmsg_attrlen(nlmsg_data(nlh), 0), rem) {
		int type = nla_type(pos);

		if (type > 0 && type <= maxtype)
			tb[type] = (struct nlattr *)pos;
	}
	/* A negative remainder is only the last attribute's missing alignment
	 * padding; a positive one is bytes that do not form an attribute. */
	return rem <= 0 ? 0 : -EBADMSG;
}

#define CHECK(expr, why)                                        \
	do {                                                    \
		int _r = (expr);                                \
		if (_r < 0)                                     \
			return fail(_r, ret_why, (why));        \
	} while (0)

int hw_parse_cpu_nest(const struct nlattr *nest, struct virthw_cpu_state *ret, const char **ret_why)
{
	struct nlattr *tb[VIRTHW_CPU_A_MAX + 1];
	struct virthw_cpu_state s = {};

	if (!nest)
		return fail(-ENODATA, ret_why, "VIRTHW_A_CPU missing");
	CHECK(parse_nest(tb, VIRTHW_CPU_A_MAX, nest), "VIRTHW_A_CPU: malformed nested attribute");
	CHECK(get_fixed(tb, VIRTHW_CPU_A_ID, sizeof(s.id), &s.id), "VIRTHW_CPU_A_ID missing or not a u32");
	CHECK(get_bool(tb, VIRTHW_CPU_A_ONLINE, &s.online), "VIRTHW_CPU_A_ONLINE missing or not a 0/1 u8");

	/* An offline CPU cannot be asked anything, so the rest is meaningless
	 * for it even if a module sent it. */
	if (s.online) {
		CHECK(get_feature(tb, VIRTHW_CPU_A_FEATURE, &s.feature),
		      "VIRTHW_CPU_A_FEATURE missing, not a u8 or not a known feature");
		CHECK(get_bool(tb, VIRTHW_CPU_A_FW_ENABLED, &s.fw_enabled),
		      "VIRTHW_CPU_A_FW_ENABLED missing or not a 0/1 u8");
		CHECK(get_bool(tb, VIRTHW_CPU_A_VIRT_ON, &s.virt_on),
		      "VIRTHW_CPU_A_VIRT_ON missing or not a 0/1 u8");
		if (tb[VIRTHW_CPU_A_FW_MSR]) {
			CHECK(get_fixed(tb, VIRTHW_CPU_A_FW_MSR, sizeof(s.fw_msr), &s.fw_msr),
			      "VIRTHW_CPU_A_FW_MSR is not a u64");
			s.has_fw_msr = true;
		}
		s.has_details = true;
	}

	*ret = s;
	return 0;
}

/* Optional attribute: absent is fine, present must be well-formed. */
#define OPTIONAL(type, has, getter, why)                                 \
	do {                                                                    \
		if (tb[type]) {                                                 \
			CHECK(getter, why);                                     \
			c.has = true;                                           \
		}                                                               \
	} while (0)

int hw_parse_caps_nest(const struct nlattr *nest, struct virthw_caps *ret, const char **ret_why)
{
	struct nlattr *tb[VIRTHW_CAPS_A_MAX + 1];
	struct virthw_caps c = {};

	if (!nest)
		return fail(-ENODATA, ret_why, "VIRTHW_A_CAPS missing");
	CHECK(parse_nest(tb, VIRTHW_CAPS_A_MAX, nest), "VIRTHW_A_CAPS: malformed nested attribute");
	CHECK(get_feature(tb, VIRTHW_CAPS_A_FEATURE, &c.feature),
	      "VIRTHW_CAPS_A_FEATURE missing, not a u8 or not a known feature");
	CHECK(get_fixed(tb, VIRTHW_CAPS_A_TSC_KHZ, sizeof(c.tsc_khz), &c.tsc_khz),
	      "VIRTHW_CAPS_A_TSC_KHZ missing or not a u32");
	CHECK(get_fixed(tb, VIRTHW_CAPS_A_CPUID_SIG, sizeof(c.cpuid_sig), &c.cpuid_sig),
	      "VIRTHW_CAPS_A_CPUID_SIG missing or not a u32");
	CHECK(get_fixed(tb, VIRTHW_CAPS_A_NR_CPUS, sizeof(c.nr_cpus), &c.nr_cpus),
	      "VIRTHW_CAPS_A_NR_CPUS missing or not a u32");
	if (c.nr_cpus == 0)
		return fail(-EBADMSG, ret_why, "VIRTHW_CAPS_A_NR_CPUS is 0");

	OPTIONAL(VIRTHW_CAPS_A_VMX_MISC, has_vmx_misc,
		 get_fixed(tb, VIRTHW_CAPS_A_VMX_MISC, sizeof(c.vmx_misc), &c.vmx_misc),
		 "VIRTHW_CAPS_A_VMX_MISC is not a u64");
	OPTIONAL(VIRTHW_CAPS_A_TIMER_RATE, has_timer_rate,
		 get_fixed(tb, VIRTHW_CAPS_A_TIMER_RATE, sizeof(c.timer_rate), &c.timer_rate),
		 "VIRTHW_CAPS_A_TIMER_RATE is not a u8");
	/* The rate is a 5-bit field of IA32_VMX_MISC. */
	if (c.has_timer_rate && c.timer_rate > 31)
		return fail(-EBADMSG, ret_why, "VIRTHW_CAPS_A_TIMER_RATE exceeds 31");
	OPTIONAL(VIRTHW_CAPS_A_TIMER_PIN_CTL, has_timer_pin_ctl,
		 get_bool(tb, VIRTHW_CAPS_A_TIMER_PIN_CTL, &c.timer_pin_ctl),
		 "VIRTHW_CAPS_A_TIMER_PIN_CTL is not a 0/1 u8");
	OPTIONAL(VIRTHW_CAPS_A_TIMER_ERRATUM, has_timer_erratum,
		 get_bool(tb, VIRTHW_CAPS_A_TIMER_ERRATUM, &c.timer_erratum),
		 "VIRTHW_CAPS_A_TIMER_ERRATUM is not a 0/1 u8");
	OPTIONAL(VIRTHW_CAPS_A_TIMER_MAX_NS, has_timer_max_ns,
		 get_fixed(tb, VIRTHW_CAPS_A_TIMER_MAX_NS, sizeof(c.timer_max_ns), &c.timer_max_ns),
		 "VIRTHW_CAPS_A_TIMER_MAX_NS is not a u64");

	*ret = c;
	return 0;
}

int hw_parse_cpu_msg(const struct nlmsghdr *nlh, struct virthw_cpu_state *ret, const char **ret_why)
{
	struct nlattr *tb[VIRTHW_A_MAX + 1];

	CHECK(parse_attrs(tb, VIRTHW_A_MAX, nlh), "malformed generic netlink message");
	return hw_parse_cpu_nest(tb[VIRTHW_A_CPU], ret, ret_why);
}

int hw_parse_caps_msg(const struct nlmsghdr *nlh, struct virthw_caps *ret, const char **ret_why)
{
	struct nlattr *tb[VIRTHW_A_MAX + 1];

	CHECK(parse_attrs(tb, VIRTHW_A_MAX, nlh), "malformed generic netlink message");
	return hw_parse_caps_nest(tb[VIRTHW_A_CAPS], ret, ret_why);
}

static int get_u8_max(struct nlattr *const *tb, int type, uint8_t max, uint8_t *ret)
{
	uint8_t v;
	int r;

	r = get_fixed(tb, type, sizeof(v), &v);
	if (r < 0)
		return r;
	if (v > max)
		return -EBADMSG;
	*ret = v;
	return 0;
}

int hw_parse_settings_nest(const struct nlattr *nest, struct virthw_settings *ret, const char **ret_why)
{
	struct nlattr *tb[VIRTHW_SET_A_MAX + 1];
	struct virthw_settings s = {};
	uint8_t v;

	if (!nest)
		return fail(-ENODATA, ret_why, "VIRTHW_A_SETTINGS missing");
	CHECK(parse_nest(tb, VIRTHW_SET_A_MAX, nest), "VIRTHW_A_SETTINGS: malformed nested attribute");
	CHECK(get_u8_max(tb, VIRTHW_SET_A_TIMER_MODE, VIRTHW_TIMER_MODE_OFF, &v),
	      "VIRTHW_SET_A_TIMER_MODE missing, not a u8 or not a known mode");
	s.mode = v;
	CHECK(get_fixed(tb, VIRTHW_SET_A_MIN_MAX_DELAY_NS, sizeof(s.min_max_delay_ns), &s.min_max_delay_ns),
	      "VIRTHW_SET_A_MIN_MAX_DELAY_NS missing or not a u64");
	CHECK(get_bool(tb, VIRTHW_SET_A_TIMER_USE, &s.timer_use), "VIRTHW_SET_A_TIMER_USE missing or not a 0/1 u8");
	CHECK(get_u8_max(tb, VIRTHW_SET_A_TIMER_REASON, VIRTHW_TIMER_REASON_UNKNOWN, &v),
	      "VIRTHW_SET_A_TIMER_REASON missing, not a u8 or not a known reason");
	if (v == VIRTHW_TIMER_REASON_UNSPEC)
		return fail(-EBADMSG, ret_why, "VIRTHW_SET_A_TIMER_REASON is UNSPEC");
	s.reason = v;
	/* Only these two reasons go with a timer in use. */
	if (s.timer_use != (s.reason == VIRTHW_TIMER_REASON_SAFE || s.reason == VIRTHW_TIMER_REASON_FORCED_UNSAFE))
		return fail(-EBADMSG, ret_why, "VIRTHW_SET_A_TIMER_USE contradicts VIRTHW_SET_A_TIMER_REASON");

	*ret = s;
	return 0;
}

int hw_parse_settings_msg(const struct nlmsghdr *nlh, struct virthw_settings *ret, const char **ret_why)
{
	struct nlattr *tb[VIRTHW_A_MAX + 1];

	CHECK(parse_attrs(tb, VIRTHW_A_MAX, nlh), "malformed generic netlink message");
	return hw_parse_settings_nest(tb[VIRTHW_A_SETTINGS], ret, ret_why);
}

static int parse_stat(const struct nlattr *nest, uint32_t iterations, struct virthw_probe_stat *ret)
{
	struct nlattr *tb[VIRTHW_STAT_A_MAX + 1];
	struct virthw_probe_stat s = { .present = true };
	int r;

	r = parse_nest(tb, VIRTHW_STAT_A_MAX, nest);
	if (r < 0)
		return r;
	if ((r = get_fixed(tb, VIRTHW_STAT_A_COUNT, sizeof(s.count), &s.count)) < 0 ||
	    (r = get_fixed(tb, VIRTHW_STAT_A_MIN, sizeof(s.min), &s.min)) < 0 ||
	    (r = get_fixed(tb, VIRTHW_STAT_A_MEDIAN, sizeof(s.median), &s.median)) < 0 ||
	    (r = get_fixed(tb, VIRTHW_STAT_A_MEAN, sizeof(s.mean), &s.mean)) < 0 ||
	    (r = get_fixed(tb, VIRTHW_STAT_A_MAX, sizeof(s.max), &s.max)) < 0)
		return r;
	if (s.count > iterations)
		return -EBADMSG;
	if (s.count > 0 && (s.min > s.median || s.median > s.max || s.min > s.mean || s.mean > s.max))
		return -EBADMSG;
	*ret = s;
	return 0;
}

#define STAT(type, field, name)                                                                 \
	do {                                                                                    \
		if (tb[type])                                                                   \
			CHECK(parse_stat(tb[type], p.iterations, &p.field),                     \
			      name ": malformed, missing a member, or min/median/mean/max out of order"); \
	} while (0)

int hw_parse_probe_msg(const struct nlmsghdr *nlh, struct virthw_probe *ret, const char **ret_why)
{
	struct nlattr *top[VIRTHW_A_MAX + 1];
	struct nlattr *tb[VIRTHW_PROBE_A_MAX + 1];
	struct virthw_probe p = {};
	uint8_t v;

	CHECK(parse_attrs(top, VIRTHW_A_MAX, nlh), "malformed generic netlink message");
	if (!top[VIRTHW_A_PROBE])
		return fail(-ENODATA, ret_why, "VIRTHW_A_PROBE missing");
	CHECK(parse_nest(tb, VIRTHW_PROBE_A_MAX, top[VIRTHW_A_PROBE]), "VIRTHW_A_PROBE: malformed nested attribute");

	CHECK(get_fixed(tb, VIRTHW_PROBE_A_CPU, sizeof(p.cpu), &p.cpu), "VIRTHW_PROBE_A_CPU missing or not a u32");
	CHECK(get_feature(tb, VIRTHW_PROBE_A_FEATURE, &p.feature),
	      "VIRTHW_PROBE_A_FEATURE missing, not a u8 or not a known feature");
	if (p.feature == VIRTHW_FEATURE_NONE)
		return fail(-EBADMSG, ret_why, "VIRTHW_PROBE_A_FEATURE is none");
	CHECK(get_fixed(tb, VIRTHW_PROBE_A_ITERATIONS, sizeof(p.iterations), &p.iterations),
	      "VIRTHW_PROBE_A_ITERATIONS missing or not a u32");
	if (p.iterations == 0 || p.iterations > VIRTHW_PROBE_MAX_ITERATIONS)
		return fail(-EBADMSG, ret_why, "VIRTHW_PROBE_A_ITERATIONS out of range");
	CHECK(get_fixed(tb, VIRTHW_PROBE_A_TSC_KHZ, sizeof(p.tsc_khz), &p.tsc_khz),
	      "VIRTHW_PROBE_A_TSC_KHZ missing or not a u32");
	if (tb[VIRTHW_PROBE_A_TIMER_USE]) {
		CHECK(get_bool(tb, VIRTHW_PROBE_A_TIMER_USE, &p.timer_use),
		      "VIRTHW_PROBE_A_TIMER_USE is not a 0/1 u8");
		p.has_timer_use = true;
	}

	if (!tb[VIRTHW_PROBE_A_ROUND_TRIP])
		return fail(-ENODATA, ret_why, "VIRTHW_PROBE_A_ROUND_TRIP missing");
	STAT(VIRTHW_PROBE_A_ROUND_TRIP, round_trip, "VIRTHW_PROBE_A_ROUND_TRIP");
	STAT(VIRTHW_PROBE_A_TOGGLE, toggle, "VIRTHW_PROBE_A_TOGGLE");
	STAT(VIRTHW_PROBE_A_IMMEDIATE, immediate, "VIRTHW_PROBE_A_IMMEDIATE");
	STAT(VIRTHW_PROBE_A_TIMER_ELAPSED, timer_elapsed, "VIRTHW_PROBE_A_TIMER_ELAPSED");

	if (tb[VIRTHW_PROBE_A_IMMEDIATE_METHOD]) {
		CHECK(get_u8_max(tb, VIRTHW_PROBE_A_IMMEDIATE_METHOD, VIRTHW_IMMEDIATE_SELF_IPI, &v),
		      "VIRTHW_PROBE_A_IMMEDIATE_METHOD is not a u8 or not a known method");
		p.immediate_method = v;
	}
	if (p.immediate.present != (p.immediate_method != VIRTHW_IMMEDIATE_NONE))
		return fail(-EBADMSG, ret_why,
			    "VIRTHW_PROBE_A_IMMEDIATE and VIRTHW_PROBE_A_IMMEDIATE_METHOD disagree");
	if (tb[VIRTHW_PROBE_A_TIMER_RATE]) {
		CHECK(get_u8_max(tb, VIRTHW_PROBE_A_TIMER_RATE, 31, &p.timer_rate),
		      "VIRTHW_PROBE_A_TIMER_RATE is not a u8 or exceeds 31");
		p.has_timer_rate = true;
	}
	if (tb[VIRTHW_PROBE_A_TIMER_PROGRAMMED] || tb[VIRTHW_PROBE_A_TIMER_EXPECTED]) {
		CHECK(get_fixed(tb, VIRTHW_PROBE_A_TIMER_PROGRAMMED, sizeof(p.timer_programmed), &p.timer_programmed),
		      "VIRTHW_PROBE_A_TIMER_PROGRAMMED missing (EXPECTED present) or not a u32");
		CHECK(get_fixed(tb, VIRTHW_PROBE_A_TIMER_EXPECTED, sizeof(p.timer_expected), &p.timer_expected),
		      "VIRTHW_PROBE_A_TIMER_EXPECTED missing (PROGRAMMED present) or not a u64");
		p.has_timer = true;
	}
	CHECK(get_fixed(tb, VIRTHW_PROBE_A_SPURIOUS_TIMER_EXITS, sizeof(p.spurious_timer_exits),
			&p.spurious_timer_exits),
	      "VIRTHW_PROBE_A_SPURIOUS_TIMER_EXITS missing or not a u32");
	CHECK(get_fixed(tb, VIRTHW_PROBE_A_INTERRUPTED, sizeof(p.interrupted), &p.interrupted),
	      "VIRTHW_PROBE_A_INTERRUPTED missing or not a u32");
	CHECK(get_fixed(tb, VIRTHW_PROBE_A_DURATION_NS, sizeof(p.duration_ns), &p.duration_ns),
	      "VIRTHW_PROBE_A_DURATION_NS missing or not a u64");

	*ret = p;
	return 0;
}

int hw_parse_event_msg(const struct nlmsghdr *nlh, struct virthw_event_msg *ret, const char **ret_why)
{
	struct nlattr *tb[VIRTHW_A_MAX + 1];
	struct virthw_event_msg e = {};
	uint8_t v;
	int r;

	CHECK(parse_attrs(tb, VIRTHW_A_MAX, nlh), "malformed generic netlink message");
	switch (((struct genlmsghdr *)nlmsg_data(nlh))->cmd) {
	case VIRTHW_CMD_CPU_EVENT:
		break;
	case VIRTHW_CMD_SETTINGS_EVENT:
		e.kind = HW_EVENT_KIND_SETTINGS;
		r = hw_parse_settings_nest(tb[VIRTHW_A_SETTINGS], &e.settings, ret_why);
		if (r < 0)
			return r;
		*ret = e;
		return 0;
	default:
		return fail(-EBADMSG, ret_why, "not a VIRTHW_CMD_CPU_EVENT or VIRTHW_CMD_SETTINGS_EVENT message");
	}
	CHECK(get_fixed(tb, VIRTHW_A_EVENT, sizeof(v), &v), "VIRTHW_A_EVENT missing or not a u8");
	if (v != VIRTHW_EVENT_CPU_ONLINE && v != VIRTHW_EVENT_CPU_OFFLINE)
		return fail(-EBADMSG, ret_why, "VIRTHW_A_EVENT is not a known event");
	e.event = v;
	r = hw_parse_cpu_nest(tb[VIRTHW_A_CPU], &e.cpu, ret_why);
	if (r < 0)
		return r;

	*ret = e;
	return 0;
}

const char *hw_feature_to_string(enum virthw_feature f)
{
	switch (f) {
	case VIRTHW_FEATURE_NONE:
		return "none";
	case VIRTHW_FEATURE_VMX:
		return "vmx";
	case VIRTHW_FEATURE_SVM:
		return "svm";
	}
	return "unknown";
}

const char *hw_event_to_string(enum virthw_event e)
{
	switch (e) {
	case VIRTHW_EVENT_CPU_ONLINE:
		return "cpu-online";
	case VIRTHW_EVENT_CPU_OFFLINE:
		return "cpu-offline";
	case VIRTHW_EVENT_UNSPEC:
		break;
	}
	return "unknown";
}

struct hw_cpuid_decoded hw_cpuid_decode(uint32_t eax)
{
	struct hw_cpuid_decoded d;
	unsigned base_family = (eax >> 8) & 0xf;

	d.stepping = eax & 0xf;
	d.family = base_family;
	d.model = (eax >> 4) & 0xf;
	if (base_family == 0xf)
		d.family += (eax >> 20) & 0xff;
	if (base_family == 0x6 || base_family == 0xf)
		d.model += ((eax >> 16) & 0xf) << 4;
	return d;
}

const char *hw_timer_mode_to_string(enum virthw_timer_mode m)
{
	switch (m) {
	case VIRTHW_TIMER_MODE_AUTO:
		return "auto";
	case VIRTHW_TIMER_MODE_ON:
		return "on";
	case VIRTHW_TIMER_MODE_OFF:
		return "off";
	}
	return "unknown";
}

int hw_timer_mode_from_string(const char *s, enum virthw_timer_mode *ret)
{
	static const enum virthw_timer_mode modes[] = {
		VIRTHW_TIMER_MODE_AUTO, VIRTHW_TIMER_MODE_ON, VIRTHW_TIMER_MODE_OFF,
	};

	for (size_t i = 0; i < ELEMENTSOF(modes); i++)
		if (s && strcmp(s, hw_timer_mode_to_string(modes[i])) == 0) {
			*ret = modes[i];
			return 0;
		}
	return -EINVAL;
}

const char *hw_timer_reason_to_string(enum virthw_timer_reason r)
{
	switch (r) {
	case VIRTHW_TIMER_REASON_SAFE:
		return "supported and safe";
	case VIRTHW_TIMER_REASON_FORCED_UNSAFE:
		return "forced on although unsafe";
	case VIRTHW_TIMER_REASON_MODE_OFF:
		return "turned off";
	case VIRTHW_TIMER_REASON_NOT_VMX:
		return "not VMX";
	case VIRTHW_TIMER_REASON_NO_PIN_CTL:
		return "pin control unavailable";
	case VIRTHW_TIMER_REASON_ERRATUM:
		return "CPU erratum";
	case VIRTHW_TIMER_REASON_SHORT_MAX_DELAY:
		return "maximum delay below the minimum";
	case VIRTHW_TIMER_REASON_UNKNOWN:
		return "VMX capabilities unreadable";
	case VIRTHW_TIMER_REASON_UNSPEC:
		break;
	}
	return "unknown";
}

const char *hw_immediate_method_to_string(enum virthw_immediate_method m)
{
	switch (m) {
	case VIRTHW_IMMEDIATE_NONE:
		return "none";
	case VIRTHW_IMMEDIATE_TIMER_ZERO:
		return "timer-zero";
	case VIRTHW_IMMEDIATE_SELF_IPI:
		return "self-ipi";
	}
	return "unknown";
}
