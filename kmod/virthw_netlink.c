// SPDX-License-Identifier: GPL-2.0
/* The virthw generic netlink family, its requests and events. */

#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/netlink.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netlink.h>

#include "virthw_internal.h"

enum virthw_mcgrp_index {
	VIRTHW_MCGRP_EVENTS_IDX,
};

static struct genl_family virthw_family;

/* A policy entry that refuses its attribute with @msg in the extack. */
#define VIRTHW_POLICY_REJECT(msg) \
	{ .type = NLA_REJECT, .reject_message = (msg) }

/*
 * Strict per-operation policies: the core rejects attribute types above
 * maxattr and any attribute whose entry is empty, so a request carries
 * exactly what its command documents and nothing else.
 */
static const struct nla_policy virthw_get_cpus_policy[VIRTHW_A_CPU_ID + 1] = {
	[VIRTHW_A_CPU_ID] = { .type = NLA_U32 },
};

static const struct nla_policy virthw_get_caps_policy[VIRTHW_A_CPU_ID + 1] = {
	[VIRTHW_A_CPU_ID] = VIRTHW_POLICY_REJECT("GET_CAPS takes no attributes"),
};

static const struct nla_policy virthw_get_settings_policy[VIRTHW_A_CPU_ID + 1] = {
	[VIRTHW_A_CPU_ID] = VIRTHW_POLICY_REJECT("GET_SETTINGS takes no attributes"),
};

/* SET_SETTINGS: the nest is checked here, the values in the handler, so
 * that each refusal names its attribute. */
static const struct nla_policy virthw_settings_policy[VIRTHW_SET_A_MAX + 1] = {
	[VIRTHW_SET_A_TIMER_MODE] = { .type = NLA_U8 },
	[VIRTHW_SET_A_MIN_MAX_DELAY_NS] = { .type = NLA_U64 },
	[VIRTHW_SET_A_TIMER_USE] = VIRTHW_POLICY_REJECT(
		"VIRTHW_SET_A_TIMER_USE is the module's decision, not a setting"),
	[VIRTHW_SET_A_TIMER_REASON] = VIRTHW_POLICY_REJECT(
		"VIRTHW_SET_A_TIMER_REASON is the module's decision, not a setting"),
	[VIRTHW_SET_A_PAD] = VIRTHW_POLICY_REJECT("VIRTHW_SET_A_PAD is not a setting"),
};

#define VIRTHW_SET_ONLY_SETTINGS \
	VIRTHW_POLICY_REJECT("SET_SETTINGS takes only VIRTHW_A_SETTINGS")

static const struct nla_policy virthw_set_settings_policy[VIRTHW_A_SETTINGS + 1] = {
	[VIRTHW_A_CPU_ID] = VIRTHW_SET_ONLY_SETTINGS,
	[VIRTHW_A_CPU] = VIRTHW_SET_ONLY_SETTINGS,
	[VIRTHW_A_CAPS] = VIRTHW_SET_ONLY_SETTINGS,
	[VIRTHW_A_EVENT] = VIRTHW_SET_ONLY_SETTINGS,
	[VIRTHW_A_SETTINGS] = NLA_POLICY_NESTED(virthw_settings_policy),
};

#define VIRTHW_PROBE_ONLY_ID_ITERATIONS \
	VIRTHW_POLICY_REJECT("PROBE takes VIRTHW_A_CPU_ID and VIRTHW_A_PROBE_ITERATIONS only")

static const struct nla_policy virthw_probe_policy[VIRTHW_A_PROBE_ITERATIONS + 1] = {
	[VIRTHW_A_CPU_ID] = { .type = NLA_U32 },
	[VIRTHW_A_CPU] = VIRTHW_PROBE_ONLY_ID_ITERATIONS,
	[VIRTHW_A_CAPS] = VIRTHW_PROBE_ONLY_ID_ITERATIONS,
	[VIRTHW_A_EVENT] = VIRTHW_PROBE_ONLY_ID_ITERATIONS,
	[VIRTHW_A_SETTINGS] = VIRTHW_PROBE_ONLY_ID_ITERATIONS,
	[VIRTHW_A_PROBE_ITERATIONS] = { .type = NLA_U32 },
};

static size_t virthw_settings_nest_size(void)
{
	return nla_total_size(0) +			/* VIRTHW_A_SETTINGS */
	       3 * nla_total_size(sizeof(u8)) +		/* MODE, USE, REASON */
	       nla_total_size_64bit(sizeof(u64));	/* MIN_MAX_DELAY_NS */
}

static size_t virthw_cpu_nest_size(void)
{
	return nla_total_size(0) +			/* VIRTHW_A_CPU */
	       nla_total_size(sizeof(u32)) +		/* ID */
	       4 * nla_total_size(sizeof(u8)) +		/* ONLINE, FEATURE,
							 * FW_ENABLED, VIRT_ON
							 */
	       nla_total_size_64bit(sizeof(u64));	/* FW_MSR */
}

static size_t virthw_caps_nest_size(void)
{
	return nla_total_size(0) +			/* VIRTHW_A_CAPS */
	       4 * nla_total_size(sizeof(u8)) +		/* FEATURE, RATE,
							 * PIN_CTL, ERRATUM
							 */
	       3 * nla_total_size(sizeof(u32)) +	/* TSC_KHZ, SIG, NR */
	       2 * nla_total_size_64bit(sizeof(u64));	/* MISC, MAX_NS */
}

/*
 * The fill functions put one nest's attributes and return true when the
 * message ran out of room; virthw_put_nest() opens the nest around them
 * and takes it out again when it did not fit.
 */
typedef bool (*virthw_fill_fn)(struct sk_buff *skb, const void *arg);

static int virthw_put_nest(struct sk_buff *skb, int type, virthw_fill_fn fill,
			   const void *arg)
{
	struct nlattr *nest;

	nest = nla_nest_start(skb, type);
	if (!nest)
		return -EMSGSIZE;
	if (fill(skb, arg)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

static bool virthw_fill_cpu(struct sk_buff *skb, const void *arg)
{
	const struct virthw_cpu_state *st = arg;

	if (nla_put_u32(skb, VIRTHW_CPU_A_ID, st->id) ||
	    nla_put_u8(skb, VIRTHW_CPU_A_ONLINE, st->online))
		return true;
	if (!st->online)
		return false;
	return nla_put_u8(skb, VIRTHW_CPU_A_FEATURE, st->feature) ||
	       nla_put_u8(skb, VIRTHW_CPU_A_FW_ENABLED, st->fw_enabled) ||
	       nla_put_u8(skb, VIRTHW_CPU_A_VIRT_ON, st->virt_on) ||
	       (st->fw_msr_valid &&
		nla_put_u64_64bit(skb, VIRTHW_CPU_A_FW_MSR, st->fw_msr,
				  VIRTHW_CPU_A_PAD));
}

static int virthw_put_cpu(struct sk_buff *skb,
			  const struct virthw_cpu_state *st)
{
	return virthw_put_nest(skb, VIRTHW_A_CPU, virthw_fill_cpu, st);
}

static bool virthw_fill_caps(struct sk_buff *skb, const void *arg)
{
	const struct virthw_caps *caps = arg;

	return nla_put_u8(skb, VIRTHW_CAPS_A_FEATURE, caps->feature) ||
	       nla_put_u32(skb, VIRTHW_CAPS_A_TSC_KHZ, caps->tsc_khz) ||
	       nla_put_u32(skb, VIRTHW_CAPS_A_CPUID_SIG, caps->cpuid_sig) ||
	       nla_put_u32(skb, VIRTHW_CAPS_A_NR_CPUS, caps->nr_cpus) ||
	       (caps->feature == VIRTHW_FEATURE_VMX &&
		nla_put_u8(skb, VIRTHW_CAPS_A_TIMER_ERRATUM, caps->erratum)) ||
	       (caps->vmx_misc_valid &&
		(nla_put_u64_64bit(skb, VIRTHW_CAPS_A_VMX_MISC, caps->vmx_misc,
				   VIRTHW_CAPS_A_PAD) ||
		 nla_put_u8(skb, VIRTHW_CAPS_A_TIMER_RATE, caps->timer_rate) ||
		 nla_put_u64_64bit(skb, VIRTHW_CAPS_A_TIMER_MAX_NS,
				   caps->timer_max_ns, VIRTHW_CAPS_A_PAD))) ||
	       (caps->pin_ctl_valid &&
		nla_put_u8(skb, VIRTHW_CAPS_A_TIMER_PIN_CTL, caps->pin_ctl));
}

static bool virthw_fill_settings(struct sk_buff *skb, const void *arg)
{
	const struct virthw_settings *set = arg;

	return nla_put_u8(skb, VIRTHW_SET_A_TIMER_MODE, set->mode) ||
	       nla_put_u64_64bit(skb, VIRTHW_SET_A_MIN_MAX_DELAY_NS,
				 set->min_max_delay_ns, VIRTHW_SET_A_PAD) ||
	       nla_put_u8(skb, VIRTHW_SET_A_TIMER_USE, set->timer_use) ||
	       nla_put_u8(skb, VIRTHW_SET_A_TIMER_REASON, set->reason);
}

static int virthw_put_settings(struct sk_buff *skb,
			       const struct virthw_settings *set)
{
	return virthw_put_nest(skb, VIRTHW_A_SETTINGS, virthw_fill_settings,
			       set);
}

static bool virthw_fill_stat(struct sk_buff *skb, const void *arg)
{
	const struct virthw_stat *st = arg;

	return nla_put_u32(skb, VIRTHW_STAT_A_COUNT, st->count) ||
	       nla_put_u64_64bit(skb, VIRTHW_STAT_A_MIN, st->min, VIRTHW_STAT_A_PAD) ||
	       nla_put_u64_64bit(skb, VIRTHW_STAT_A_MEDIAN, st->median, VIRTHW_STAT_A_PAD) ||
	       nla_put_u64_64bit(skb, VIRTHW_STAT_A_MEAN, st->mean, VIRTHW_STAT_A_PAD) ||
	       nla_put_u64_64bit(skb, VIRTHW_STAT_A_MAX, st->max, VIRTHW_STAT_A_PAD);
}

static const int virthw_stat_attr[VIRTHW_M_COUNT] = {
	[VIRTHW_M_ROUND_TRIP] = VIRTHW_PROBE_A_ROUND_TRIP,
	[VIRTHW_M_TOGGLE] = VIRTHW_PROBE_A_TOGGLE,
	[VIRTHW_M_IMMEDIATE] = VIRTHW_PROBE_A_IMMEDIATE,
	[VIRTHW_M_TIMER] = VIRTHW_PROBE_A_TIMER_ELAPSED,
};

static bool virthw_fill_probe(struct sk_buff *skb, const void *arg)
{
	const struct virthw_probe_result *res = arg;
	const struct virthw_probe_counts *c = &res->counts;
	bool vmx = res->feature == VIRTHW_FEATURE_VMX;
	int i;

	if (nla_put_u32(skb, VIRTHW_PROBE_A_CPU, res->cpu) ||
	    nla_put_u8(skb, VIRTHW_PROBE_A_FEATURE, res->feature) ||
	    nla_put_u32(skb, VIRTHW_PROBE_A_ITERATIONS, res->iterations) ||
	    nla_put_u32(skb, VIRTHW_PROBE_A_TSC_KHZ, res->tsc_khz) ||
	    (vmx && nla_put_u8(skb, VIRTHW_PROBE_A_TIMER_USE, res->timer_use)))
		return true;
	for (i = 0; i < VIRTHW_M_COUNT; i++)
		if (res->measured[i] &&
		    virthw_put_nest(skb, virthw_stat_attr[i], virthw_fill_stat,
				    &res->stat[i]))
			return true;
	return (res->measured[VIRTHW_M_IMMEDIATE] &&
		nla_put_u8(skb, VIRTHW_PROBE_A_IMMEDIATE_METHOD, c->method)) ||
	       (c->has_rate &&
		nla_put_u8(skb, VIRTHW_PROBE_A_TIMER_RATE, c->timer_rate)) ||
	       (res->measured[VIRTHW_M_TIMER] &&
		(nla_put_u32(skb, VIRTHW_PROBE_A_TIMER_PROGRAMMED, c->programmed) ||
		 nla_put_u64_64bit(skb, VIRTHW_PROBE_A_TIMER_EXPECTED,
				   c->expected, VIRTHW_PROBE_A_PAD))) ||
	       nla_put_u32(skb, VIRTHW_PROBE_A_SPURIOUS_TIMER_EXITS, c->spurious) ||
	       nla_put_u32(skb, VIRTHW_PROBE_A_INTERRUPTED, c->interrupted) ||
	       nla_put_u64_64bit(skb, VIRTHW_PROBE_A_DURATION_NS,
				 res->duration_ns, VIRTHW_PROBE_A_PAD);
}

static int virthw_put_probe(struct sk_buff *skb,
			    const struct virthw_probe_result *res)
{
	return virthw_put_nest(skb, VIRTHW_A_PROBE, virthw_fill_probe, res);
}

/*
 * The CPU a request names in VIRTHW_A_CPU_ID: 0 and *@cpu, or an errno with
 * the extack set; @has_dump: the command also dumps, which the refusal of a
 * request without the attribute points to.
 */
static int virthw_req_cpu(struct genl_info *info, bool has_dump, u32 *cpu)
{
	struct nlattr *attr;

	if (GENL_REQ_ATTR_CHECK(info, VIRTHW_A_CPU_ID)) {
		if (has_dump)
			NL_SET_ERR_MSG(info->extack,
				       "VIRTHW_A_CPU_ID is required (or use a dump)");
		else
			NL_SET_ERR_MSG(info->extack,
				       "VIRTHW_A_CPU_ID is required");
		return -EINVAL;
	}
	attr = info->attrs[VIRTHW_A_CPU_ID];
	*cpu = nla_get_u32(attr);
	if (*cpu >= nr_cpu_ids || !cpu_possible(*cpu)) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "VIRTHW_A_CPU_ID is not a possible CPU");
		return -ERANGE;
	}
	return 0;
}

/*
 * Replies and events are built in two steps around the caller's nla_put
 * calls: *_begin allocates @size bytes of payload and puts the genetlink
 * header, *_end takes what filling the message returned (0 or an error),
 * then sends it, or frees it when filling failed.
 */
static struct sk_buff *virthw_reply_begin(struct genl_info *info, u8 cmd,
					  size_t size, void **hdr)
{
	struct sk_buff *msg;

	msg = genlmsg_new(size, GFP_KERNEL);
	if (!msg)
		return ERR_PTR(-ENOMEM);
	*hdr = genlmsg_put_reply(msg, info, &virthw_family, 0, cmd);
	if (!*hdr) {
		nlmsg_free(msg);
		return ERR_PTR(-EMSGSIZE);
	}
	return msg;
}

static int virthw_reply_end(struct genl_info *info, struct sk_buff *msg,
			    void *hdr, int put_ret)
{
	if (put_ret) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/* NULL when nobody listens or the message cannot be had. */
static struct sk_buff *virthw_event_begin(u8 cmd, size_t size, void **hdr)
{
	struct sk_buff *msg;

	if (!genl_has_listeners(&virthw_family, &init_net,
				VIRTHW_MCGRP_EVENTS_IDX))
		return NULL;
	msg = genlmsg_new(size, GFP_KERNEL);
	if (!msg)
		return NULL;
	*hdr = genlmsg_put(msg, 0, 0, &virthw_family, 0, cmd);
	if (!*hdr) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static void virthw_event_end(struct sk_buff *msg, void *hdr, int put_ret)
{
	if (put_ret) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	/* -ESRCH only means the last listener left meanwhile. */
	genlmsg_multicast(&virthw_family, msg, 0, VIRTHW_MCGRP_EVENTS_IDX,
			  GFP_KERNEL);
}

/* A reply that carries one nest: begun, filled, sent (or freed). */
static int virthw_reply_nest(struct genl_info *info, u8 cmd, size_t size,
			     int type, virthw_fill_fn fill, const void *arg)
{
	struct sk_buff *msg;
	void *hdr;

	msg = virthw_reply_begin(info, cmd, size, &hdr);
	if (IS_ERR(msg))
		return PTR_ERR(msg);
	return virthw_reply_end(info, msg, hdr,
				virthw_put_nest(msg, type, fill, arg));
}

static int virthw_cpu_read_locked(unsigned int cpu,
				  struct virthw_cpu_state *st)
{
	int ret;

	/* Held only around one CPU so that a long dump never blocks hotplug. */
	cpus_read_lock();
	ret = virthw_cpu_read(cpu, st);
	cpus_read_unlock();
	return ret;
}

static int virthw_get_cpu_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct virthw_cpu_state st;
	u32 cpu;
	int ret;

	ret = virthw_req_cpu(info, true, &cpu);
	if (ret)
		return ret;

	ret = virthw_cpu_read_locked(cpu, &st);
	if (ret) {
		NL_SET_ERR_MSG(info->extack, "Failed to read the CPU's state");
		return ret;
	}

	return virthw_reply_nest(info, VIRTHW_CMD_GET_CPUS,
				 virthw_cpu_nest_size(), VIRTHW_A_CPU,
				 virthw_fill_cpu, &st);
}

/*
 * A dump covers every CPU; a CPU number there is a client bug that should
 * fail loudly rather than silently be ignored.  The core has validated the
 * request against the policy already, so looking the attribute up in the
 * raw message is safe, and it avoids the dump-info layout that changed
 * between kernel releases.
 */
static int virthw_get_cpus_start(struct netlink_callback *cb)
{
	const struct nlattr *attr;

	attr = nlmsg_find_attr(cb->nlh, GENL_HDRLEN, VIRTHW_A_CPU_ID);
	if (attr) {
		NL_SET_ERR_MSG_ATTR(cb->extack, attr,
				    "A GET_CPUS dump takes no VIRTHW_A_CPU_ID");
		return -EINVAL;
	}
	cb->args[0] = 0;
	return 0;
}

static int virthw_get_cpus_dumpit(struct sk_buff *skb,
				  struct netlink_callback *cb)
{
	struct virthw_cpu_state st;
	unsigned int cpu;
	void *hdr;
	int ret;

	/* cb->args[0] is the next CPU to report, kept across calls. */
	for (cpu = cb->args[0]; cpu < nr_cpu_ids; cpu++) {
		if (!cpu_possible(cpu))
			continue;

		ret = virthw_cpu_read_locked(cpu, &st);
		if (ret)
			return ret;

		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &virthw_family,
				  NLM_F_MULTI, VIRTHW_CMD_GET_CPUS);
		if (!hdr)
			break;
		if (virthw_put_cpu(skb, &st)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
	}

	cb->args[0] = cpu;
	return skb->len;
}

static int virthw_get_caps_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct virthw_caps caps;
	int ret = virthw_caps_read(&caps);

	if (!ret)
		return virthw_reply_nest(info, VIRTHW_CMD_GET_CAPS,
					 virthw_caps_nest_size(), VIRTHW_A_CAPS,
					 virthw_fill_caps, &caps);
	NL_SET_ERR_MSG(info->extack, "Failed to read the capabilities");
	return ret;
}

static int virthw_settings_reply(struct genl_info *info, u8 cmd,
				 const struct virthw_settings *set)
{
	return virthw_reply_nest(info, cmd, virthw_settings_nest_size(),
				 VIRTHW_A_SETTINGS, virthw_fill_settings, set);
}

static int virthw_get_settings_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct virthw_settings set;
	int ret;

	ret = virthw_settings_get(&set);
	if (ret) {
		NL_SET_ERR_MSG(info->extack, "Failed to read the capabilities for the timer decision");
		return ret;
	}
	return virthw_settings_reply(info, VIRTHW_CMD_GET_SETTINGS, &set);
}

static int virthw_set_settings_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[VIRTHW_SET_A_MAX + 1];
	struct virthw_settings set;
	struct nlattr *nest;
	bool changed;
	u64 min_ns;
	u8 mode;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, VIRTHW_A_SETTINGS)) {
		NL_SET_ERR_MSG(info->extack, "VIRTHW_A_SETTINGS is required");
		return -EINVAL;
	}
	nest = info->attrs[VIRTHW_A_SETTINGS];
	ret = nla_parse_nested(tb, VIRTHW_SET_A_MAX, nest,
			       virthw_settings_policy, info->extack);
	if (ret)
		return ret;
	if (!tb[VIRTHW_SET_A_TIMER_MODE]) {
		NL_SET_ERR_MSG_ATTR(info->extack, nest,
				    "VIRTHW_SET_A_TIMER_MODE is required");
		return -EINVAL;
	}
	if (!tb[VIRTHW_SET_A_MIN_MAX_DELAY_NS]) {
		NL_SET_ERR_MSG_ATTR(info->extack, nest,
				    "VIRTHW_SET_A_MIN_MAX_DELAY_NS is required");
		return -EINVAL;
	}
	mode = nla_get_u8(tb[VIRTHW_SET_A_TIMER_MODE]);
	if (mode > VIRTHW_TIMER_MODE_OFF) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[VIRTHW_SET_A_TIMER_MODE],
				    "VIRTHW_SET_A_TIMER_MODE is not auto (0), on (1) or off (2)");
		return -EINVAL;
	}
	min_ns = nla_get_u64(tb[VIRTHW_SET_A_MIN_MAX_DELAY_NS]);
	if (!min_ns || min_ns > VIRTHW_MIN_MAX_DELAY_MAX_NS) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[VIRTHW_SET_A_MIN_MAX_DELAY_NS],
				    "VIRTHW_SET_A_MIN_MAX_DELAY_NS must be 1 ns .. 3600 s");
		return -EINVAL;
	}

	ret = virthw_settings_set(mode, min_ns, &set, &changed);
	if (ret) {
		NL_SET_ERR_MSG(info->extack, "Failed to read the capabilities for the timer decision");
		return ret;
	}
	if (changed)
		virthw_netlink_settings_event(&set);
	return virthw_settings_reply(info, VIRTHW_CMD_SET_SETTINGS, &set);
}

static int virthw_probe_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct virthw_probe_result *res;
	u32 cpu, iterations = VIRTHW_PROBE_DEFAULT_ITERATIONS;
	struct nlattr *attr;
	struct sk_buff *msg;
	void *hdr;
	int ret;

	ret = virthw_req_cpu(info, false, &cpu);
	if (ret)
		return ret;
	attr = info->attrs[VIRTHW_A_PROBE_ITERATIONS];
	if (attr) {
		iterations = nla_get_u32(attr);
		if (!iterations || iterations > VIRTHW_PROBE_MAX_ITERATIONS) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "VIRTHW_A_PROBE_ITERATIONS must be 1 .. 100000");
			return -EINVAL;
		}
	}

	res = kzalloc(sizeof(*res), GFP_KERNEL);
	if (!res)
		return -ENOMEM;
	ret = virthw_probe(cpu, iterations, res, info->extack);
	if (ret)
		goto out;

	msg = virthw_reply_begin(info, VIRTHW_CMD_PROBE, NLMSG_GOODSIZE, &hdr);
	if (IS_ERR(msg)) {
		ret = PTR_ERR(msg);
		goto out;
	}
	ret = virthw_reply_end(info, msg, hdr, virthw_put_probe(msg, res));
out:
	kfree(res);
	return ret;
}

/* Sent after SET_SETTINGS changed anything; a lost event only costs a
 * listener its next GET_SETTINGS. */
void virthw_netlink_settings_event(const struct virthw_settings *set)
{
	struct sk_buff *msg;
	void *hdr;

	msg = virthw_event_begin(VIRTHW_CMD_SETTINGS_EVENT,
				 virthw_settings_nest_size(), &hdr);
	if (msg)
		virthw_event_end(msg, hdr, virthw_put_settings(msg, set));
}

/*
 * The hotplug callbacks call this; it never fails the CPU transition, so a
 * lost event only costs a listener its next dump.
 */
void virthw_netlink_cpu_event(enum virthw_event event,
			      const struct virthw_cpu_state *st)
{
	struct sk_buff *msg;
	void *hdr;

	msg = virthw_event_begin(VIRTHW_CMD_CPU_EVENT,
				 nla_total_size(sizeof(u8)) +
				 virthw_cpu_nest_size(), &hdr);
	if (msg)
		virthw_event_end(msg, hdr,
				 nla_put_u8(msg, VIRTHW_A_EVENT, event) ||
				 virthw_put_cpu(msg, st));
}

/* Every command is root's, validated against its own policy. */
#define VIRTHW_OP(c, pol, fn)				\
	.cmd = (c),					\
	.flags = GENL_ADMIN_PERM,			\
	.policy = (pol),				\
	.maxattr = ARRAY_SIZE(pol) - 1,			\
	.doit = (fn)

static const struct genl_ops virthw_ops[] = {
	{
		VIRTHW_OP(VIRTHW_CMD_GET_CPUS, virthw_get_cpus_policy,
			  virthw_get_cpu_doit),
		.start = virthw_get_cpus_start,
		.dumpit = virthw_get_cpus_dumpit,
	},
	{ VIRTHW_OP(VIRTHW_CMD_GET_CAPS, virthw_get_caps_policy,
		    virthw_get_caps_doit) },
	{ VIRTHW_OP(VIRTHW_CMD_GET_SETTINGS, virthw_get_settings_policy,
		    virthw_get_settings_doit) },
	{ VIRTHW_OP(VIRTHW_CMD_SET_SETTINGS, virthw_set_settings_policy,
		    virthw_set_settings_doit) },
	{ VIRTHW_OP(VIRTHW_CMD_PROBE, virthw_probe_policy, virthw_probe_doit) },
};

/*
 * Kernels that know GENL_MCAST_CAP_NET_ADMIN (6.7, and stable kernels that
 * took the fix, Debian's 6.1 among them) can keep unprivileged sockets out
 * of the group; test the flag itself, as its presence is what matters.
 */
static const struct genl_multicast_group virthw_mcgrps[] = {
	[VIRTHW_MCGRP_EVENTS_IDX] = {
		.name = VIRTHW_MCGRP_EVENTS,
#ifdef GENL_MCAST_CAP_NET_ADMIN
		.flags = GENL_MCAST_CAP_NET_ADMIN,
#endif
	},
};

/*
 * resv_start_op stays 0: every command is new, so the core also checks
 * the reserved header byte and never falls back to lax validation.
 * netnsok stays false: the state is the host's, visible in init_net only.
 * The handlers need no genl_mutex: the settings have their own lock, and
 * probes their own (a long probe must not stall every other request).
 */
static struct genl_family virthw_family __ro_after_init = {
	.name = VIRTHW_GENL_NAME,
	.version = VIRTHW_GENL_VERSION,
	.module = THIS_MODULE,
	.parallel_ops = true,
	.ops = virthw_ops,
	.n_ops = ARRAY_SIZE(virthw_ops),
	.mcgrps = virthw_mcgrps,
	.n_mcgrps = ARRAY_SIZE(virthw_mcgrps),
};

int virthw_netlink_init(void)
{
	return genl_register_family(&virthw_family);
}

void virthw_netlink_exit(void)
{
	genl_unregister_family(&virthw_family);
}
