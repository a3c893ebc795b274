/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hw-client.c: generic netlink client of the virthw kernel module. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <linux/filter.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "hw-client.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct hw_client {
	struct nl_sock *sk;
	struct nl_sock *ev_sk;
	int family_id;
	uint32_t version;
	int group_id;           /* -1 when the module has no "events" group */
	bool ev_settings;       /* ev_sk also receives settings events */
	char *extack;
	const char *parse_error;

	/* Events that arrived together in one datagram, handed out one by one. */
	struct virthw_event_msg *evq;
	size_t evq_n, evq_head, evq_cap;
};

/* libnl folds kernel errnos into its own NLE_* codes; callers here speak
 * errno, so undo that as far as the mapping allows. */
static int nlerr_to_errno(int e)
{
	static const int map[][2] = {
		{ NLE_INTR, EINTR },            { NLE_BAD_SOCK, EBADF },
		{ NLE_AGAIN, EAGAIN },          { NLE_NOMEM, ENOMEM },
		{ NLE_EXIST, EEXIST },          { NLE_INVAL, EINVAL },
		{ NLE_RANGE, ERANGE },          { NLE_MSGSIZE, EMSGSIZE },
		{ NLE_OPNOTSUPP, EOPNOTSUPP },  { NLE_AF_NOSUPPORT, EAFNOSUPPORT },
		{ NLE_OBJ_NOTFOUND, ENOENT },   { NLE_NOATTR, ENODATA },
		{ NLE_MISSING_ATTR, ENODATA },  { NLE_SEQ_MISMATCH, EILSEQ },
		{ NLE_MSG_OVERFLOW, EOVERFLOW }, { NLE_MSG_TRUNC, EMSGSIZE },
		{ NLE_MSG_TOOSHORT, EBADMSG },  { NLE_MSGTYPE_NOSUPPORT, EOPNOTSUPP },
		{ NLE_BUSY, EBUSY },            { NLE_PROTO_MISMATCH, EPROTONOSUPPORT },
		{ NLE_NOACCESS, EACCES },       { NLE_PERM, EPERM },
		{ NLE_PARSE_ERR, EBADMSG },     { NLE_NODEV, ENODEV },
		{ NLE_DUMP_INTR, EINTR },
	};

	if (e < 0)
		e = -e;
	if (e == 0)
		return 0;
	for (size_t i = 0; i < ELEMENTSOF(map); i++)
		if (map[i][0] == e)
			return -map[i][1];
	return -EIO;
}

/* Keeps the NLMSGERR_ATTR_MSG text of an error or DONE message whose TLVs
 * start at offset off. */
static void save_extack(hw_client *c, const struct nlmsghdr *nlh, size_t off)
{
	const struct nlattr *a;
	int rem;

	free(c->extack);
	c->extack = NULL;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || off >= nlh->nlmsg_len)
		return;
	nla_for_each_attr(a, (const struct nlattr *)((const char *)nlh + off), (int)(nlh->nlmsg_len - off), rem) {
		if (nla_type(a) == NLMSGERR_ATTR_MSG && nla_len(a) > 0) {
			c->extack = strndup(nla_data(a), nla_len(a));
			return;
		}
	}
}

struct request {
	hw_client *client;
	hw_reply_fn on_reply;
	void *userdata;
	int error;
	bool done;
};

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct request *req = arg;
	int r;

	/* After a callback failed keep draining, so the next request on this
	 * socket does not read the rest of this one's dump. */
	if (req->error < 0 || !req->on_reply)
		return NL_OK;
	r = req->on_reply(nlmsg_hdr(msg), req->userdata);
	if (r < 0)
		req->error = r;
	return NL_OK;
}

static int on_finish(struct nl_msg *msg, void *arg)
{
	struct request *req = arg;
	const struct nlmsghdr *nlh = nlmsg_hdr(msg);
	int err;

	/* A dump that fails part-way ends with an error code in NLMSG_DONE. */
	if (nlh->nlmsg_len >= NLMSG_HDRLEN + sizeof(int)) {
		memcpy(&err, nlmsg_data(nlh), sizeof(err));
		if (err < 0 && req->error >= 0) {
			req->error = err;
			save_extack(req->client, nlh, NLMSG_ALIGN(NLMSG_HDRLEN + sizeof(int)));
		}
	}
	req->done = true;
	return NL_STOP;
}

static int on_ack(struct nl_msg *msg _unused_, void *arg)
{
	struct request *req = arg;

	req->done = true;
	return NL_STOP;
}

static int on_error(struct sockaddr_nl *who _unused_, struct nlmsgerr *e, void *arg)
{
	struct request *req = arg;
	/* libnl hands over the payload only; the header (flags) sits before it. */
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)((const char *)e - NLMSG_HDRLEN);
	size_t off = NLMSG_HDRLEN + sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && e->msg.nlmsg_len > NLMSG_HDRLEN)
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	if (req->error >= 0)
		req->error = e->error;
	save_extack(req->client, nlh, NLMSG_ALIGN(off));
	req->done = true;
	return NL_STOP;
}

static int run_request(hw_client *c, struct nl_msg *msg, hw_reply_fn on_reply, void *userdata)
{
	struct request req = { .client = c, .on_reply = on_reply, .userdata = userdata };
	struct nl_cb *cb;
	int r;

	free(c->extack);
	c->extack = NULL;
	c->parse_error = NULL;

	r = nl_send_auto(c->sk, msg);
	nlmsg_free(msg);
	if (r < 0)
		return nlerr_to_errno(r);

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &req);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, &req);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &req);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, &req);

	while (!req.done) {
		r = nl_recvmsgs(c->sk, cb);
		if (r < 0 && !req.done) {
			req.error = nlerr_to_errno(r);
			break;
		}
	}
	nl_cb_put(cb);
	return req.error;
}

int hw_client_request(hw_client *c, struct nl_msg *msg, hw_reply_fn on_reply, void *userdata)
{
	return run_request(c, msg, on_reply, userdata);
}

static struct nl_msg *new_request(hw_client *c, int flags, uint8_t cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, c->family_id, 0, flags, cmd, VIRTHW_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

struct family_info {
	int id;
	uint32_t version;
	int group_id;
};

static int on_family(const struct nlmsghdr *nlh, void *userdata)
{
	struct family_info *fi = userdata;
	struct nlattr *tb[CTRL_ATTR_MAX + 1];
	struct nlattr *g;
	int rem, r;

	r = genlmsg_parse((struct nlmsghdr *)nlh, 0, tb, CTRL_ATTR_MAX, NULL);
	if (r < 0)
		return -EBADMSG;
	if (!tb[CTRL_ATTR_FAMILY_ID] || nla_len(tb[CTRL_ATTR_FAMILY_ID]) < 2)
		return -EBADMSG;
	fi->id = nla_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	if (tb[CTRL_ATTR_VERSION] && nla_len(tb[CTRL_ATTR_VERSION]) >= 4)
		fi->version = nla_get_u32(tb[CTRL_ATTR_VERSION]);
	if (!tb[CTRL_ATTR_MCAST_GROUPS])
		return 0;
	nla_for_each_nested(g, tb[CTRL_ATTR_MCAST_GROUPS], rem) {
		struct nlattr *gt[CTRL_ATTR_MCAST_GRP_MAX + 1];

		if (nla_parse_nested(gt, CTRL_ATTR_MCAST_GRP_MAX, g, NULL) < 0)
			continue;
		if (!gt[CTRL_ATTR_MCAST_GRP_NAME] || !gt[CTRL_ATTR_MCAST_GRP_ID] ||
		    nla_len(gt[CTRL_ATTR_MCAST_GRP_ID]) < 4)
			continue;
		if (strncmp(nla_data(gt[CTRL_ATTR_MCAST_GRP_NAME]), VIRTHW_MCGRP_EVENTS,
			    nla_len(gt[CTRL_ATTR_MCAST_GRP_NAME])) == 0)
			fi->group_id = nla_get_u32(gt[CTRL_ATTR_MCAST_GRP_ID]);
	}
	return 0;
}

/* One CTRL_CMD_GETFAMILY gives the id, the version and the group ids. */
static int resolve_family(hw_client *c)
{
	struct family_info fi = { .id = -1, .group_id = -1 };
	struct nl_msg *msg;
	int r;

	msg = nlmsg_alloc();
	if (!msg)
		return -ENOMEM;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, GENL_ID_CTRL, 0, 0, CTRL_CMD_GETFAMILY, 1) ||
	    nla_put_string(msg, CTRL_ATTR_FAMILY_NAME, VIRTHW_GENL_NAME) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	r = run_request(c, msg, on_family, &fi);
	if (r == -ENOENT)
		return -ENOPKG;
	if (r < 0)
		return r;
	if (fi.id < 0)
		return -ENOPKG;
	/* The protocol only appends within a version; a bigger number means a
	 * layout this client cannot read. */
	if (fi.version == 0 || fi.version > VIRTHW_GENL_VERSION)
		return -EPROTO;

	c->family_id = fi.id;
	c->version = fi.version;
	c->group_id = fi.group_id;
	return 0;
}

static int connect_socket(struct nl_sock **ret, bool ext_ack)
{
	struct nl_sock *sk;
	int one = 1, r;

	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	r = genl_connect(sk);
	if (r < 0) {
		nl_socket_free(sk);
		return nlerr_to_errno(r);
	}
	/* Without this the kernel says only "Invalid argument"; with it, which
	 * attribute it refused and why. Old kernels lack it: not fatal. */
	if (ext_ack)
		(void)setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	*ret = sk;
	return 0;
}

int hw_client_new(hw_client **ret)
{
	_cleanup_(hw_client_freep) hw_client *c = NULL;
	int r;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->group_id = -1;
	r = connect_socket(&c->sk, true);
	if (r < 0)
		return r;
	r = resolve_family(c);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(c);
	return 0;
}

hw_client *hw_client_free(hw_client *c)
{
	if (!c)
		return NULL;
	if (c->sk)
		nl_socket_free(c->sk);
	if (c->ev_sk)
		nl_socket_free(c->ev_sk);
	free(c->extack);
	free(c->evq);
	free(c);
	return NULL;
}

int hw_client_family_id(const hw_client *c)
{
	return c->family_id;
}

uint32_t hw_client_family_version(const hw_client *c)
{
	return c->version;
}

const char *hw_client_extack(const hw_client *c)
{
	return c->extack;
}

const char *hw_client_parse_error(const hw_client *c)
{
	return c->parse_error;
}

struct caps_reply {
	hw_client *client;
	struct virthw_caps caps;
	bool got;
};

static int on_caps(const struct nlmsghdr *nlh, void *userdata)
{
	struct caps_reply *cr = userdata;
	int r;

	r = hw_parse_caps_msg(nlh, &cr->caps, &cr->client->parse_error);
	if (r < 0)
		return r;
	cr->got = true;
	return 0;
}

int hw_client_get_caps(hw_client *c, struct virthw_caps *ret)
{
	struct caps_reply cr = { .client = c };
	struct nl_msg *msg;
	int r;

	msg = new_request(c, 0, VIRTHW_CMD_GET_CAPS);
	if (!msg)
		return -ENOMEM;
	r = run_request(c, msg, on_caps, &cr);
	if (r < 0)
		return r;
	if (!cr.got) {
		c->parse_error = "GET_CAPS returned no reply message";
		return -EBADMSG;
	}
	*ret = cr.caps;
	return 0;
}

struct cpus_reply {
	hw_client *client;
	struct virthw_cpu_state *cpus;
	size_t n, cap;
};

static int on_cpu(const struct nlmsghdr *nlh, void *userdata)
{
	struct cpus_reply *cr = userdata;
	struct virthw_cpu_state s;
	int r;

	r = hw_parse_cpu_msg(nlh, &s, &cr->client->parse_error);
	if (r < 0)
		return r;
	if (cr->n == cr->cap) {
		size_t ncap = cr->cap ? cr->cap * 2 : 16;
		struct virthw_cpu_state *n = reallocarray(cr->cpus, ncap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		cr->cpus = n;
		cr->cap = ncap;
	}
	cr->cpus[cr->n++] = s;
	return 0;
}

int hw_client_get_cpu(hw_client *c, uint32_t cpu, struct virthw_cpu_state *ret)
{
	struct cpus_reply cr = { .client = c };
	struct nl_msg *msg;
	int r;

	msg = new_request(c, 0, VIRTHW_CMD_GET_CPUS);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, VIRTHW_A_CPU_ID, cpu) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	r = run_request(c, msg, on_cpu, &cr);
	if (r >= 0 && cr.n != 1) {
		c->parse_error = "GET_CPUS for one CPU did not return exactly one CPU";
		r = -EBADMSG;
	}
	if (r >= 0 && cr.cpus[0].id != cpu) {
		c->parse_error = "GET_CPUS returned a different CPU than asked for";
		r = -EBADMSG;
	}
	if (r >= 0)
		*ret = cr.cpus[0];
	free(cr.cpus);
	return r;
}

int hw_client_dump_cpus(hw_client *c, struct virthw_cpu_state **ret, size_t *ret_n)
{
	struct cpus_reply cr = { .client = c };
	struct nl_msg *msg;
	int r;

	msg = new_request(c, NLM_F_DUMP, VIRTHW_CMD_GET_CPUS);
	if (!msg)
		return -ENOMEM;
	r = run_request(c, msg, on_cpu, &cr);
	if (r < 0) {
		free(cr.cpus);
		return r;
	}
	*ret = cr.cpus;
	*ret_n = cr.n;
	return 0;
}

struct settings_reply {
	hw_client *client;
	struct virthw_settings settings;
	bool got;
};

static int on_settings(const struct nlmsghdr *nlh, void *userdata)
{
	struct settings_reply *sr = userdata;
	int r;

	r = hw_parse_settings_msg(nlh, &sr->settings, &sr->client->parse_error);
	if (r < 0)
		return r;
	sr->got = true;
	return 0;
}

static int settings_request(hw_client *c, struct nl_msg *msg, struct virthw_settings *ret)
{
	struct settings_reply sr = { .client = c };
	int r;

	r = run_request(c, msg, on_settings, &sr);
	if (r < 0)
		return r;
	if (!sr.got) {
		c->parse_error = "the settings request returned no reply message";
		return -EBADMSG;
	}
	if (ret)
		*ret = sr.settings;
	return 0;
}

int hw_client_get_settings(hw_client *c, struct virthw_settings *ret)
{
	struct nl_msg *msg;

	msg = new_request(c, 0, VIRTHW_CMD_GET_SETTINGS);
	if (!msg)
		return -ENOMEM;
	return settings_request(c, msg, ret);
}

int hw_client_set_settings(hw_client *c, enum virthw_timer_mode mode, uint64_t min_max_delay_ns,
			   struct virthw_settings *ret)
{
	struct nl_msg *msg;
	struct nlattr *nest;

	msg = new_request(c, 0, VIRTHW_CMD_SET_SETTINGS);
	if (!msg)
		return -ENOMEM;
	nest = nla_nest_start(msg, VIRTHW_A_SETTINGS | NLA_F_NESTED);
	if (!nest || nla_put_u8(msg, VIRTHW_SET_A_TIMER_MODE, (uint8_t)mode) < 0 ||
	    nla_put_u64(msg, VIRTHW_SET_A_MIN_MAX_DELAY_NS, min_max_delay_ns) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nla_nest_end(msg, nest);
	return settings_request(c, msg, ret);
}

struct probe_reply {
	hw_client *client;
	struct virthw_probe probe;
	bool got;
};

static int on_probe(const struct nlmsghdr *nlh, void *userdata)
{
	struct probe_reply *pr = userdata;
	int r;

	r = hw_parse_probe_msg(nlh, &pr->probe, &pr->client->parse_error);
	if (r < 0)
		return r;
	pr->got = true;
	return 0;
}

int hw_client_probe(hw_client *c, uint32_t cpu, uint32_t iterations, struct virthw_probe *ret)
{
	struct probe_reply pr = { .client = c };
	struct nl_msg *msg;
	int r;

	msg = new_request(c, 0, VIRTHW_CMD_PROBE);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, VIRTHW_A_CPU_ID, cpu) < 0 ||
	    (iterations > 0 && nla_put_u32(msg, VIRTHW_A_PROBE_ITERATIONS, iterations) < 0)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	/* The socket is blocking without a receive timeout (libnl sets
	 * none), so a probe that takes seconds in an emulator is waited for. */
	r = run_request(c, msg, on_probe, &pr);
	if (r < 0)
		return r;
	if (!pr.got) {
		c->parse_error = "PROBE returned no reply message";
		return -EBADMSG;
	}
	if (pr.probe.cpu != cpu) {
		c->parse_error = "PROBE replied for a different CPU than asked for";
		return -EBADMSG;
	}
	*ret = pr.probe;
	return 0;
}

/*
 * A socket filter that drops settings events before they reach the socket,
 * for subscribers that only know CPU events: their poll loop then never
 * wakes for a message it would have to skip.  Each multicast datagram holds
 * one message, whose generic netlink command is the byte right after the
 * netlink header.
 */
static int filter_settings_events(int fd)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, NLMSG_HDRLEN),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, VIRTHW_CMD_SETTINGS_EVENT, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0),
		BPF_STMT(BPF_RET | BPF_K, 0xffffffffU),
	};
	struct sock_fprog prog = { .len = ELEMENTSOF(code), .filter = code };

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
		return -errno;
	return 0;
}

int hw_client_subscribe(hw_client *c)
{
	return hw_client_subscribe_full(c, false);
}

int hw_client_subscribe_full(hw_client *c, bool settings_events)
{
	int r;

	if (c->ev_sk)
		return c->ev_settings == settings_events ? 0 : -EBUSY;
	if (c->group_id < 0)
		return -ENOPROTOOPT;
	r = connect_socket(&c->ev_sk, false);
	if (r < 0)
		return r;
	r = settings_events ? 0 : filter_settings_events(nl_socket_get_fd(c->ev_sk));
	if (r >= 0)
		r = nlerr_to_errno(nl_socket_add_membership(c->ev_sk, c->group_id));
	if (r < 0) {
		nl_socket_free(c->ev_sk);
		c->ev_sk = NULL;
		return r;
	}
	c->ev_settings = settings_events;
	return 0;
}

int hw_client_event_fd(const hw_client *c)
{
	return c->ev_sk ? nl_socket_get_fd(c->ev_sk) : -EBADF;
}

int hw_client_event_group(const hw_client *c)
{
	return c->group_id;
}

struct event_batch {
	hw_client *client;
	int error;
};

static int on_event(struct nl_msg *msg, void *arg)
{
	struct event_batch *b = arg;
	hw_client *c = b->client;
	struct virthw_event_msg e;
	int r;

	/* Only this family's messages matter; anything else on the socket is
	 * not ours to interpret. */
	if (nlmsg_hdr(msg)->nlmsg_type != c->family_id)
		return NL_OK;
	r = hw_parse_event_msg(nlmsg_hdr(msg), &e, &c->parse_error);
	if (r < 0) {
		b->error = r;
		return NL_OK;
	}
	if (c->evq_n == c->evq_cap) {
		size_t ncap = c->evq_cap ? c->evq_cap * 2 : 8;
		struct virthw_event_msg *n = reallocarray(c->evq, ncap, sizeof(*n));

		if (!n) {
			b->error = -ENOMEM;
			return NL_STOP;
		}
		c->evq = n;
		c->evq_cap = ncap;
	}
	c->evq[c->evq_n++] = e;
	return NL_OK;
}

/* A fresh nl_cb checks sequence numbers whatever the socket says, and
 * multicast messages answer no request. */
static int accept_any_seq(struct nl_msg *msg _unused_, void *arg _unused_)
{
	return NL_OK;
}

int hw_client_receive_event(hw_client *c, struct virthw_event_msg *ret)
{
	struct event_batch b = { .client = c };
	struct nl_cb *cb;
	int r;

	if (!c->ev_sk)
		return -ENOTCONN;
	if (c->evq_head == c->evq_n) {
		c->evq_head = c->evq_n = 0;
		cb = nl_cb_alloc(NL_CB_DEFAULT);
		if (!cb)
			return -ENOMEM;
		nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_event, &b);
		nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, accept_any_seq, NULL);
		r = nl_recvmsgs(c->ev_sk, cb);
		nl_cb_put(cb);
		if (r < 0)
			return nlerr_to_errno(r);
		if (c->evq_n == 0)
			return b.error < 0 ? b.error : -EAGAIN;
	}
	*ret = c->evq[c->evq_head++];
	return 0;
}
