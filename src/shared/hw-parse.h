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

/* Settings of the module: GET_SETTINGS/SET_SETTINGS replies and
 * SETTINGS_EVENT. */
struct virthw_settings {
	enum virthw_timer_mode mode;
	uint64_t min_max_delay_ns;
	bool timer_use;                 /* the decision the run path applies */
	enum virthw_timer_reason reason;
};

/* One statistics nest of a probe reply; absent measurements have
 * present == false and zeros. Figures are TSC cycles. */
struct virthw_probe_stat {
	bool present;
	uint32_t count;
	uint64_t min, median, mean, max;
};

/* Reply to VIRTHW_CMD_PROBE. */
struct virthw_probe {
	uint32_t cpu;
	enum virthw_feature feature;
	uint32_t iterations;
	uint32_t tsc_khz;
	bool has_timer_use;
	bool timer_use;
	struct virthw_probe_stat round_trip;    /* (a), always present */
	struct virthw_probe_stat toggle;        /* (b) */
	struct virthw_probe_stat immediate;     /* (c) */
	struct virthw_probe_stat timer_elapsed; /* (d) */
	enum virthw_immediate_method immediate_method;
	bool has_timer_rate;
	uint8_t timer_rate;
	bool has_timer;                 /* PROGRAMMED and EXPECTED */
	uint32_t timer_programmed;
	uint64_t timer_expected;
	uint32_t spurious_timer_exits;
	uint32_t interrupted;
	uint64_t duration_ns;
};

/* What a message on the events group announces. */
enum hw_event_kind {
	HW_EVENT_KIND_CPU,              /* VIRTHW_CMD_CPU_EVENT: event, cpu */
	HW_EVENT_KIND_SETTINGS,         /* VIRTHW_CMD_SETTINGS_EVENT: settings */
};

/* A multicast message of the events group.  For HW_EVENT_KIND_SETTINGS,
 * event is VIRTHW_EVENT_UNSPEC and cpu is zeroed. */
struct virthw_event_msg {
	enum virthw_event event;
	struct virthw_cpu_state cpu;
	enum hw_event_kind kind;
	struct virthw_settings settings;
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
/* A CPU event or a settings event; anything else is -EBADMSG. */
int hw_parse_event_msg(const struct nlmsghdr *nlh, struct virthw_event_msg *ret, const char **ret_why);
int hw_parse_settings_nest(const struct nlattr *nest, struct virthw_settings *ret, const char **ret_why);
/* GET_SETTINGS and SET_SETTINGS replies, and SETTINGS_EVENT. */
int hw_parse_settings_msg(const struct nlmsghdr *nlh, struct virthw_settings *ret, const char **ret_why);
/* PROBE reply.  Besides the types, it checks that every statistics nest is
 * ordered (min <= median <= max, min <= mean <= max) and that the count
 * does not exceed the iterations asked for. */
int hw_parse_probe_msg(const struct nlmsghdr *nlh, struct virthw_probe *ret, const char **ret_why);

/* Names for output; never NULL ("unknown" for values outside the enum). */
const char *hw_feature_to_string(enum virthw_feature f);
const char *hw_event_to_string(enum virthw_event e);
const char *hw_timer_mode_to_string(enum virthw_timer_mode m);          /* "auto" "on" "off" */
const char *hw_timer_reason_to_string(enum virthw_timer_reason r);      /* a short phrase */
const char *hw_immediate_method_to_string(enum virthw_immediate_method m); /* "timer-zero" "self-ipi" "none" */
/* "auto", "on", "off" → the mode; -EINVAL otherwise. */
int hw_timer_mode_from_string(const char *s, enum virthw_timer_mode *ret);

/* CPUID.1:EAX → family/model/stepping, with the extended fields folded in
 * the way both vendors document. */
struct hw_cpuid_decoded hw_cpuid_decode(uint32_t eax);
