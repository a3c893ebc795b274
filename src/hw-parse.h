/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hw-parse.h: pure decoding and validation of virthw generic netlink messages. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <linux/virthw.h>
#include <netlink/msg.h>

/* One CPU as reported by VIRTHW_CMD_GET_CPUS or in an event. */
struct virthw_cpu_state {
	uint32_t id;
	bool online;
	/* The fields below are only read on an online CPU; has_details says
	 * whether the module reported them. */
	bool has_details;
	enum virthw_feature feature;
	bool fw_enabled;
	bool virt_on;
	bool has_fw_msr;
	uint64_t fw_msr;
};

/* Reply to VIRTHW_CMD_GET_CAPS.  The timer figures exist on VMX only. */
struct virthw_caps {
	enum virthw_feature feature;
	uint32_t tsc_khz;
	uint32_t cpuid_sig;
	uint32_t nr_cpus;
	bool has_vmx_misc;
	uint64_t vmx_misc;
	bool has_timer_rate;
	uint8_t timer_rate;
	bool has_timer_pin_ctl;
	bool timer_pin_ctl;
	bool has_timer_erratum;
	bool timer_erratum;
	bool has_timer_max_ns;
	uint64_t timer_max_ns;
};

/* A VIRTHW_CMD_CPU_EVENT multicast message. */
struct virthw_event_msg {
	enum virthw_event event;
	struct virthw_cpu_state cpu;
};

struct hw_cpuid_decoded {
	unsigned family;
	unsigned model;
	unsigned stepping;
};

/*
 * All parsers return 0 on success, -EBADMSG for a malformed message (wrong
 * length, out-of-range value, truncated header), -ENODATA when a required
 * attribute is missing.  When ret_why is not NULL it receives a static string
 * naming the offending attribute and the problem, for error messages.
 * Unknown attribute types are ignored: the protocol only ever appends.
 */
int hw_parse_cpu_nest(const struct nlattr *nest, struct virthw_cpu_state *ret, const char **ret_why);
int hw_parse_caps_nest(const struct nlattr *nest, struct virthw_caps *ret, const char **ret_why);

/* Whole messages: nlmsghdr + genlmsghdr + attributes. */
int hw_parse_cpu_msg(const struct nlmsghdr *nlh, struct virthw_cpu_state *ret, const char **ret_why);
int hw_parse_caps_msg(const struct nlmsghdr *nlh, struct virthw_caps *ret, const char **ret_why);
int hw_parse_event_msg(const struct nlmsghdr *nlh, struct virthw_event_msg *ret, const char **ret_why);

/* Names for output; never NULL ("unknown" for values outside the enum). */
const char *hw_feature_to_string(enum virthw_feature f);
const char *hw_event_to_string(enum virthw_event e);

/* CPUID.1:EAX → family/model/stepping, with the extended fields folded in
 * the way both vendors document. */
struct hw_cpuid_decoded hw_cpuid_decode(uint32_t eax);
