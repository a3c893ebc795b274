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

int hw_parse_event_msg(const struct nlmsghdr *nlh, struct virthw_event_msg *ret, const char **ret_why)
{
	struct nlattr *tb[VIRTHW_A_MAX + 1];
	struct virthw_event_msg e = {};
	uint8_t v;
	int r;

	CHECK(parse_attrs(tb, VIRTHW_A_MAX, nlh), "malformed generic netlink message");
	if (((struct genlmsghdr *)nlmsg_data(nlh))->cmd != VIRTHW_CMD_CPU_EVENT)
		return fail(-EBADMSG, ret_why, "not a VIRTHW_CMD_CPU_EVENT message");
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
