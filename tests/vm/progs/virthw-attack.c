/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virthw-attack.c: guest test program that floods virthw with random and mutated generic netlink requests. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "linux/virthw.h"
#include "progs-common.h"

/*
 * Every request goes to the virthw family with a netlink header the kernel
 * parses as one message (a length it would read past the end of, or one
 * that leaves a second message behind, could reach another family).  After
 * each request a NLMSG_NOOP with NLM_F_ACK follows on the same socket: the
 * kernel handles requests in order, so once its ACK is read, everything the
 * request caused synchronously is in; only a dump that has started goes on
 * until its NLMSG_DONE (or error).
 */

#define BUF_SIZE 65536
#define MAX_ATTRS 8
#define MAX_DEPTH 3
#define RECV_TIMEOUT_S 10
#define N_ERRNO 256

struct stats {
	long sent;		/* requests the kernel took (sendmsg succeeded) */
	long send_failed;	/* sendmsg refused them */
	long acked;		/* NLMSG_ERROR 0 for the request */
	long err[N_ERRNO];	/* NLMSG_ERROR (or DONE) with -errno */
	long silent;		/* nothing for the request before the NOOP's ACK */
	long data;		/* virthw messages in replies */
	long dumps;		/* dumps that ran to NLMSG_DONE */
	long interrupted;	/* dumps left half way, on a socket then closed */
	long probes;		/* PROBE requests let name a possible CPU */
	long probes_ran;	/* PROBE replies: the run path ran */
	long generated, mutated;
};

static struct stats st;
static uint64_t rng_state;
static uint16_t family_id;
static uint32_t nr_cpus = 1;
static long probe_budget = 20;
static uint32_t seq = 1;
static bool privileged = true;

/* xorshift64*: small, seedable, the same sequence on every build. */
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static uint32_t below(uint32_t n)
{
	return n ? (uint32_t)(rnd() % n) : 0;
}

static bool chance(uint32_t one_in)
{
	return below(one_in) == 0;
}

static int nl_open(void)
{
	struct timeval tv = { .tv_sec = RECV_TIMEOUT_S };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int one = 1;
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	/* Extended ACKs make the kernel build longer error messages: one more
	 * path to exercise.  Failure only means an older kernel. */
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	return fd;
}

static int nl_send(int fd, const void *buf, size_t len)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	if (sendto(fd, buf, len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return 0;
}

/* --- building messages ----------------------------------------------------- */

struct msg {
	unsigned char buf[4096];
	size_t len;
};

static struct nlmsghdr *msg_init(struct msg *m, uint16_t flags, uint8_t cmd, uint8_t version)
{
	struct nlmsghdr *h = (struct nlmsghdr *)m->buf;
	struct genlmsghdr *g;

	memset(m->buf, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	h->nlmsg_type = family_id;
	h->nlmsg_flags = flags;
	h->nlmsg_seq = seq;
	g = (struct genlmsghdr *)(m->buf + NLMSG_HDRLEN);
	g->cmd = cmd;
	g->version = version;
	m->len = NLMSG_HDRLEN + GENL_HDRLEN;
	h->nlmsg_len = (uint32_t)m->len;
	return h;
}

static void msg_finish(struct msg *m)
{
	((struct nlmsghdr *)m->buf)->nlmsg_len = (uint32_t)m->len;
}

static bool room(const struct msg *m, size_t n)
{
	return m->len + NLA_ALIGN(NLA_HDRLEN + n) <= sizeof(m->buf);
}

/* Starts an attribute; its length is fixed by attr_end(). */
static size_t attr_start(struct msg *m, uint16_t type)
{
	struct nlattr *a = (struct nlattr *)(m->buf + m->len);
	size_t off = m->len;

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN;
	m->len += NLA_HDRLEN;
	return off;
}

static void attr_end(struct msg *m, size_t off)
{
	struct nlattr *a = (struct nlattr *)(m->buf + off);
	size_t end;

	a->nla_len = (uint16_t)(m->len - off);
	end = NLA_ALIGN(m->len);
	memset(m->buf + m->len, 0, end - m->len);
	m->len = end;
}

static void attr_put(struct msg *m, uint16_t type, const void *data, size_t n)
{
	size_t off;

	if (!room(m, n))
		return;
	off = attr_start(m, type);
	memcpy(m->buf + m->len, data, n);
	m->len += n;
	attr_end(m, off);
}

static void put_u8(struct msg *m, uint16_t type, uint8_t v) { attr_put(m, type, &v, 1); }
static void put_u32(struct msg *m, uint16_t type, uint32_t v) { attr_put(m, type, &v, 4); }
static void put_u64(struct msg *m, uint16_t type, uint64_t v) { attr_put(m, type, &v, 8); }

/* Values near the edges the module checks. */
static uint64_t interesting(void)
{
	static const uint64_t v[] = {
		0, 1, 2, 3, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff,
		0x80000000, 0xffffffff, 0x100000000ULL, VIRTHW_PROBE_MAX_ITERATIONS,
		VIRTHW_PROBE_MAX_ITERATIONS + 1, VIRTHW_MIN_MAX_DELAY_MAX_NS,
		VIRTHW_MIN_MAX_DELAY_MAX_NS + 1, 10000000000ULL, UINT64_MAX, UINT64_MAX - 1,
	};

	switch (below(4)) {
	case 0:
		return nr_cpus + below(3) - 1;
	case 1:
		return rnd();
	default:
		return v[below(sizeof(v) / sizeof(v[0]))];
	}
}

/* An attribute type: mostly ones the family knows, sometimes not, with the
 * nested and byte-order flags now and then. */
static uint16_t random_type(unsigned int max_known)
{
	uint16_t t;

	switch (below(8)) {
	case 0:
		t = (uint16_t)rnd();
		break;
	case 1:
		t = (uint16_t)(max_known + 1 + below(100));
		break;
	default:
		t = (uint16_t)below(max_known + 1);
		break;
	}
	if (chance(10))
		t |= NLA_F_NESTED;
	if (chance(20))
		t |= NLA_F_NET_BYTEORDER;
	return t;
}

static unsigned int max_attr_at(int depth)
{
	static const unsigned int maxes[] = { VIRTHW_A_MAX, VIRTHW_SET_A_MAX, VIRTHW_CPU_A_MAX,
					      VIRTHW_PROBE_A_MAX, VIRTHW_STAT_A_MAX };

	return depth == 0 ? VIRTHW_A_MAX : maxes[below(sizeof(maxes) / sizeof(maxes[0]))];
}

static void random_attrs(struct msg *m, int depth);

static void random_attr(struct msg *m, int depth)
{
	uint16_t type = random_type(max_attr_at(depth));
	unsigned char data[64];
	uint64_t v = interesting();
	size_t n, off;

	if (!room(m, sizeof(data) + 64))
		return;
	if (depth < MAX_DEPTH && chance(4)) {
		/* A nest, flagged or not, possibly empty. */
		off = attr_start(m, chance(2) ? (uint16_t)(type | NLA_F_NESTED) : type);
		random_attrs(m, depth + 1);
		attr_end(m, off);
		return;
	}
	switch (below(6)) {
	case 0: n = 1; break;
	case 1: n = 4; break;
	case 2: n = 8; break;
	case 3: n = 0; break;
	case 4: n = 2; break;
	default: n = below(sizeof(data) + 1); break;
	}
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i < 8 ? v >> (8 * i) : rnd());
	attr_put(m, type, data, n);
}

static void random_attrs(struct msg *m, int depth)
{
	unsigned int n = below(depth ? 4 : MAX_ATTRS);

	for (unsigned int i = 0; i < n; i++)
		random_attr(m, depth);
}

/* A command: mostly the family's, sometimes a notification, 0 or beyond. */
static uint8_t random_cmd(void)
{
	if (chance(10))
		return (uint8_t)rnd();
	return (uint8_t)below(VIRTHW_CMD_MAX + 2);
}

static uint16_t random_flags(void)
{
	uint16_t f = NLM_F_REQUEST | NLM_F_ACK;

	if (chance(3))
		f |= NLM_F_DUMP;
	if (chance(8))
		f &= (uint16_t)~NLM_F_ACK;
	if (chance(20))
		f ^= (uint16_t)(1u << below(16));
	return f;
}

/* A request from nothing: valid headers, random attributes. */
static void generate(struct msg *m)
{
	uint8_t version = chance(10) ? (uint8_t)rnd() : VIRTHW_GENL_VERSION;

	msg_init(m, random_flags(), random_cmd(), version);
	if (chance(20))
		((struct genlmsghdr *)(m->buf + NLMSG_HDRLEN))->reserved = (uint16_t)rnd();
	random_attrs(m, 0);
	msg_finish(m);
	st.generated++;
}

/* A request the module accepts, before mutation. */
static void valid_request(struct msg *m)
{
	size_t off;

	switch (below(6)) {
	case 0:
		msg_init(m, NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP, VIRTHW_CMD_GET_CPUS, VIRTHW_GENL_VERSION);
		break;
	case 1:
		msg_init(m, NLM_F_REQUEST | NLM_F_ACK, VIRTHW_CMD_GET_CPUS, VIRTHW_GENL_VERSION);
		put_u32(m, VIRTHW_A_CPU_ID, below(nr_cpus));
		break;
	case 2:
		msg_init(m, NLM_F_REQUEST | NLM_F_ACK, VIRTHW_CMD_GET_CAPS, VIRTHW_GENL_VERSION);
		break;
	case 3:
		msg_init(m, NLM_F_REQUEST | NLM_F_ACK, VIRTHW_CMD_GET_SETTINGS, VIRTHW_GENL_VERSION);
		break;
	case 4:
		msg_init(m, NLM_F_REQUEST | NLM_F_ACK, VIRTHW_CMD_SET_SETTINGS, VIRTHW_GENL_VERSION);
		off = attr_start(m, VIRTHW_A_SETTINGS | NLA_F_NESTED);
		put_u8(m, VIRTHW_SET_A_TIMER_MODE, (uint8_t)below(3));
		put_u64(m, VIRTHW_SET_A_MIN_MAX_DELAY_NS, 1 + rnd() % VIRTHW_MIN_MAX_DELAY_MAX_NS);
		attr_end(m, off);
		break;
	default:
		msg_init(m, NLM_F_REQUEST | NLM_F_ACK, VIRTHW_CMD_PROBE, VIRTHW_GENL_VERSION);
		put_u32(m, VIRTHW_A_CPU_ID, below(nr_cpus));
		put_u32(m, VIRTHW_A_PROBE_ITERATIONS, 1 + below(50));
		break;
	}
	msg_finish(m);
}

/* One change to a message, header lengths kept parseable (see the top). */
static void mutate_once(struct msg *m)
{
	const size_t body = NLMSG_HDRLEN;	/* from the genetlink header on */
	struct nlmsghdr *h = (struct nlmsghdr *)m->buf;
	size_t pos, span = m->len - body;

	switch (below(9)) {
	case 0:	/* a bit */
		pos = body + below((uint32_t)span);
		m->buf[pos] ^= (unsigned char)(1u << below(8));
		break;
	case 1:	/* a byte */
		pos = body + below((uint32_t)span);
		m->buf[pos] = (unsigned char)(chance(2) ? rnd() : interesting());
		break;
	case 2:	/* an aligned 32-bit word, e.g. a value or an nla_len + nla_type */
		if (span >= 4) {
			uint32_t v = (uint32_t)interesting();

			pos = body + 4 * below((uint32_t)(span / 4));
			memcpy(m->buf + pos, &v, 4);
		}
		break;
	case 3:	/* a random attribute appended */
		random_attr(m, 0);
		break;
	case 4:	/* the tail cut off */
		if (m->len > body + GENL_HDRLEN)
			m->len -= below((uint32_t)(m->len - body - GENL_HDRLEN) + 1);
		break;
	case 5:	/* the first attribute again */
		if (m->len > body + GENL_HDRLEN + NLA_HDRLEN) {
			size_t n = m->len - body - GENL_HDRLEN;

			if (room(m, n)) {
				memcpy(m->buf + m->len, m->buf + body + GENL_HDRLEN, n);
				m->len += n;
			}
		}
		break;
	case 6:	/* the flags */
		h->nlmsg_flags = random_flags();
		break;
	case 7:	/* the command */
		((struct genlmsghdr *)(m->buf + body))->cmd = random_cmd();
		break;
	default:	/* the nested flag on some attribute header */
		if (span >= GENL_HDRLEN + NLA_HDRLEN) {
			struct nlattr *a = (struct nlattr *)(m->buf + body + GENL_HDRLEN);

			a->nla_type ^= NLA_F_NESTED;
		}
		break;
	}
	msg_finish(m);
	/* A length a little short of what is sent: the kernel takes the
	 * message as that long and the rest (under a header) as padding. */
	if (chance(15) && m->len > NLMSG_HDRLEN + 4) {
		uint32_t cut = 1 + below(15);

		if (m->len - cut >= NLMSG_HDRLEN)
			h->nlmsg_len = (uint32_t)(m->len - cut);
	} else if (chance(30)) {
		/* Longer than sent: the kernel drops it unanswered. */
		h->nlmsg_len = (uint32_t)(m->len + 1 + below(100));
	}
}

static void mutated(struct msg *m)
{
	unsigned int n = 1 + below(3);

	valid_request(m);
	for (unsigned int i = 0; i < n; i++)
		mutate_once(m);
	st.mutated++;
}

/* --- the PROBE budget --------------------------------------------------------- */

/*
 * A PROBE that names a possible CPU may run the SVM/VMX guest, which takes
 * milliseconds under TCG (and keeps KVM from enabling that CPU meanwhile).
 * Within the budget such a request keeps its CPU and has any
 * PROBE_ITERATIONS above 1000 folded into 1..1000; past the budget, every
 * CPU_ID in a PROBE request is made impossible (the checks before it still
 * run).
 */
static void probe_budget_apply(struct msg *m)
{
	const uint32_t max_it = 1000;
	const struct genlmsghdr *g = (const struct genlmsghdr *)(m->buf + NLMSG_HDRLEN);
	size_t off = NLMSG_HDRLEN + GENL_HDRLEN;
	bool names_cpu = false;

	/* Unprivileged, no probe can run: the budget is root's. */
	if (!privileged || m->len < off || g->cmd != VIRTHW_CMD_PROBE)
		return;
	while (off + NLA_HDRLEN <= m->len) {
		struct nlattr *a = (struct nlattr *)(m->buf + off);
		uint32_t cpu;

		if (a->nla_len < NLA_HDRLEN || off + a->nla_len > m->len)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == VIRTHW_A_CPU_ID && a->nla_len >= NLA_HDRLEN + 4) {
			memcpy(&cpu, m->buf + off + NLA_HDRLEN, 4);
			if (cpu < nr_cpus) {
				if (st.probes < probe_budget) {
					names_cpu = true;
				} else {
					cpu = nr_cpus + below(1000);
					memcpy(m->buf + off + NLA_HDRLEN, &cpu, 4);
				}
			}
		}
		off += NLA_ALIGN(a->nla_len);
	}
	if (!names_cpu)
		return;
	st.probes++;
	/* And one that runs stays short. */
	for (off = NLMSG_HDRLEN + GENL_HDRLEN; off + NLA_HDRLEN <= m->len;) {
		struct nlattr *a = (struct nlattr *)(m->buf + off);
		uint32_t it;

		if (a->nla_len < NLA_HDRLEN || off + a->nla_len > m->len)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == VIRTHW_A_PROBE_ITERATIONS && a->nla_len >= NLA_HDRLEN + 4) {
			memcpy(&it, m->buf + off + NLA_HDRLEN, 4);
			if (it > max_it) {
				it = 1 + it % max_it;
				memcpy(m->buf + off + NLA_HDRLEN, &it, 4);
			}
		}
		off += NLA_ALIGN(a->nla_len);
	}
}

/* --- one exchange ------------------------------------------------------------------ */

static long unexpected;

static void count_errno(int e, const char *what)
{
	if (e < 0 || e >= N_ERRNO)
		e = N_ERRNO - 1;
	st.err[e]++;
	if (!privileged && e != EPERM) {
		unexpected++;
		if (unexpected <= 5)
			printf("attack: unprivileged %s answered %s, not EPERM\n", what, e ? errname(e) : "0 (accepted)");
	} else if (privileged && e == EPERM) {
		unexpected++;
		if (unexpected <= 5)
			printf("attack: root refused with EPERM (%s)\n", what);
	}
}

static void send_noop(int fd, uint32_t s)
{
	struct nlmsghdr h = {
		.nlmsg_len = NLMSG_HDRLEN,
		.nlmsg_type = NLMSG_NOOP,
		.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
		.nlmsg_seq = s,
	};
	int r = nl_send(fd, &h, sizeof(h));

	if (r < 0) {
		printf("attack: FAIL cannot send the NOOP after a request: %s\n", strerror(-r));
		exit(EXIT_FAILURE);
	}
}

/*
 * Reads what request @s caused, up to the ACK of NOOP @s + 1 and, when the
 * request started a dump, its end.  Returns -ETIMEDOUT when the kernel
 * stopped answering, else 0.
 */
static int drain(int fd, uint32_t s, bool dump)
{
	static unsigned char buf[BUF_SIZE];
	bool synced = false, got = false, done = false;

	while (!synced || (dump && got && !done)) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;
		int left;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return -ETIMEDOUT;
			/* ENOBUFS: replies were dropped; the NOOP's ACK may be among them. */
			printf("attack: recv: %s\n", strerror(errno));
			return -errno;
		}
		left = (int)n;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq == s + 1 && h->nlmsg_type == NLMSG_ERROR) {
				synced = true;
				continue;
			}
			if (h->nlmsg_seq != s)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				got = done = true;
				if (e->error)
					count_errno(-e->error, "request");
				else
					count_errno(0, "request"), st.acked++;
			} else if (h->nlmsg_type == NLMSG_DONE) {
				int err = 0;

				got = done = true;
				if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
					memcpy(&err, NLMSG_DATA(h), sizeof(err));
				if (err)
					count_errno(-err, "dump");
				else
					st.dumps++;
			} else if (h->nlmsg_type == family_id) {
				got = true;
				const struct genlmsghdr *g = NLMSG_DATA(h);

				st.data++;
				if (h->nlmsg_len >= NLMSG_LENGTH(GENL_HDRLEN) && g->cmd == VIRTHW_CMD_PROBE)
					st.probes_ran++;
				if (!privileged) {
					unexpected++;
					printf("attack: unprivileged request got a virthw reply\n");
				}
			}
		}
	}
	if (!got)
		st.silent++;
	return 0;
}

static int exchange(int fd, struct msg *m)
{
	uint16_t flags = ((struct nlmsghdr *)m->buf)->nlmsg_flags;
	uint32_t s = seq;
	int r;

	seq += 2;
	((struct nlmsghdr *)m->buf)->nlmsg_seq = s;
	r = nl_send(fd, m->buf, m->len);
	if (r < 0) {
		st.send_failed++;
		count_errno(-r, "sendmsg");
		return 0;
	}
	st.sent++;
	send_noop(fd, s + 1);
	/* Both bits, as genetlink tests them; one alone is a plain request. */
	return drain(fd, s, (flags & NLM_F_DUMP) == NLM_F_DUMP);
}

/*
 * A dump left half way: on a socket of its own, a GET_CPUS dump (sometimes
 * mutated) and then one of: nothing read, one reply read into a buffer too
 * small for it, a second dump and a request on top; then the socket closed.
 */
static void interrupted_dump(void)
{
	unsigned char small[24];
	struct msg m;
	int fd, r;

	fd = nl_open();
	if (fd < 0) {
		printf("attack: FAIL cannot open a socket: %s\n", strerror(-fd));
		exit(EXIT_FAILURE);
	}
	msg_init(&m, NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP, VIRTHW_CMD_GET_CPUS, VIRTHW_GENL_VERSION);
	msg_finish(&m);
	if (chance(4)) {
		mutate_once(&m);
		probe_budget_apply(&m);
	}
	r = nl_send(fd, m.buf, m.len);
	if (r < 0) {
		st.send_failed++;
		count_errno(-r, "sendmsg");
		close(fd);
		return;
	}
	st.sent++;
	switch (below(3)) {
	case 0:
		break;
	case 1:
		(void)recv(fd, small, sizeof(small), MSG_DONTWAIT);
		break;
	default:
		(void)nl_send(fd, m.buf, m.len);
		valid_request(&m);
		probe_budget_apply(&m);
		if (nl_send(fd, m.buf, m.len) == 0)
			st.sent += 2;
		break;
	}
	st.interrupted++;
	close(fd);
}

/* --- setup ---------------------------------------------------------------------------- */

/* The family's id through nlctrl; 0 and family_id, or a negative errno. */
static int resolve_family(int fd)
{
	static unsigned char buf[8192];
	struct msg m;
	struct nlmsghdr *h = (struct nlmsghdr *)m.buf;
	struct genlmsghdr *g = (struct genlmsghdr *)(m.buf + NLMSG_HDRLEN);
	ssize_t n;
	int left;

	memset(&m, 0, sizeof(m));
	h->nlmsg_type = GENL_ID_CTRL;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	h->nlmsg_seq = seq;
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	m.len = NLMSG_HDRLEN + GENL_HDRLEN;
	attr_put(&m, CTRL_ATTR_FAMILY_NAME, VIRTHW_GENL_NAME, sizeof(VIRTHW_GENL_NAME));
	msg_finish(&m);
	if (nl_send(fd, m.buf, m.len) < 0)
		return -errno;
	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			return -errno;
		left = (int)n;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				if (e->error)
					return e->error;
				seq++;
				return family_id ? 0 : -ENOENT;
			}
			if (h->nlmsg_type == GENL_ID_CTRL) {
				int alen = (int)h->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
				struct nlattr *a = (struct nlattr *)((unsigned char *)NLMSG_DATA(h) + GENL_HDRLEN);

				for (; alen >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= alen;
				     alen -= NLA_ALIGN(a->nla_len),
				     a = (struct nlattr *)((unsigned char *)a + NLA_ALIGN(a->nla_len)))
					if (a->nla_type == CTRL_ATTR_FAMILY_ID && a->nla_len >= NLA_HDRLEN + 2)
						memcpy(&family_id, (unsigned char *)a + NLA_HDRLEN, 2);
			}
		}
	}
}

static int become(long uid)
{
	gid_t gid = (gid_t)uid;

	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0)
		return -errno;
	/* A process that can get root back proves nothing. */
	if (setuid(0) == 0)
		return -EPERM;
	return 0;
}

static void help(void)
{
	printf("Usage: virthw-attack [--count=N] [--seed=N] [--user=UID] [--cpus=N] [--probes=N]\n"
	       "\n"
	       "Sends N (default 100000) random and mutated generic netlink requests to\n"
	       "the virthw family, reading every reply, and prints how many requests got\n"
	       "which answer.  Requests are generated from nothing (valid headers, random\n"
	       "attributes, nests, lengths and types) or are valid requests mutated; one\n"
	       "in 50 is a dump left half way on a socket then closed.\n"
	       "--seed       the PRNG's seed (default: from the clock; always printed)\n"
	       "--user=UID   become UID (and gid UID) before the socket exists; then\n"
	       "             every answer must be EPERM and no reply may carry data\n"
	       "--cpus=N     possible CPUs (default: the configured count)\n"
	       "--probes=N   PROBE requests that may name a possible CPU (default 20)\n"
	       "Exit status: 0 every request answered (and, with --user, refused with\n"
	       "EPERM), 1 a check failed or virthw is missing, 2 usage.\n");
}

int main(int argc, char *argv[])
{
	enum { ARG_COUNT = 0x100, ARG_SEED, ARG_USER, ARG_CPUS, ARG_PROBES };
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "count", required_argument, NULL, ARG_COUNT },
		{ "seed", required_argument, NULL, ARG_SEED },
		{ "user", required_argument, NULL, ARG_USER },
		{ "cpus", required_argument, NULL, ARG_CPUS },
		{ "probes", required_argument, NULL, ARG_PROBES },
		{}
	};
	long count = 100000, seed = -1, uid = -1, cpus = -1, v;
	long long t0, t1;
	int opt, fd, r, hung = 0;
	struct msg m;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		if (opt == 'h') {
			help();
			return 0;
		}
		if (opt < ARG_COUNT || parse_positive(optarg, &v) < 0) {
			fprintf(stderr, "attack: invalid command line (see --help)\n");
			return 2;
		}
		switch (opt) {
		case ARG_COUNT: count = v; break;
		case ARG_SEED: seed = v; break;
		case ARG_USER: uid = v; break;
		case ARG_CPUS: cpus = v; break;
		default: probe_budget = v; break;
		}
	}
	if (optind < argc || uid == 0 || cpus == 0) {
		fprintf(stderr, "attack: invalid command line (see --help)\n");
		return 2;
	}
	if (seed < 0)
		seed = (long)(now_us() & 0x7fffffff);
	rng_state = (uint64_t)seed * 0x9E3779B97F4A7C15ULL + 1;
	if (cpus < 0)
		cpus = sysconf(_SC_NPROCESSORS_CONF);
	nr_cpus = cpus > 0 ? (uint32_t)cpus : 1;

	/* Before the socket exists: the kernel checks the opener's credentials. */
	if (uid > 0) {
		r = become(uid);
		if (r < 0) {
			printf("attack: FAIL cannot become uid %ld: %s\n", uid, strerror(-r));
			return 1;
		}
		privileged = false;
	}
	fd = nl_open();
	if (fd < 0) {
		printf("attack: FAIL cannot open a generic netlink socket: %s\n", strerror(-fd));
		return 1;
	}
	r = resolve_family(fd);
	if (r < 0) {
		printf("attack: FAIL cannot resolve the %s family: %s\n", VIRTHW_GENL_NAME, strerror(-r));
		return 1;
	}
	printf("attack: seed=%ld count=%ld uid=%d family=%u cpus=%u\n", seed, count, (int)getuid(), family_id,
	       nr_cpus);
	fflush(stdout);

	t0 = now_us();
	for (long i = 0; i < count; i++) {
		if (privileged && chance(50)) {
			interrupted_dump();
			continue;
		}
		if (privileged ? chance(2) : false)
			generate(&m);
		else if (privileged)
			mutated(&m);
		else {
			/* Unprivileged: real commands and headers, so that the
			 * only refusal left is the permission check. */
			static const uint8_t cmds[] = { VIRTHW_CMD_GET_CPUS, VIRTHW_CMD_GET_CAPS,
							VIRTHW_CMD_GET_SETTINGS, VIRTHW_CMD_SET_SETTINGS,
							VIRTHW_CMD_PROBE };
			uint8_t cmd = cmds[below(sizeof(cmds))];
			uint16_t flags = NLM_F_REQUEST | NLM_F_ACK;

			if (cmd == VIRTHW_CMD_GET_CPUS && chance(2))
				flags |= NLM_F_DUMP;
			msg_init(&m, flags, cmd, VIRTHW_GENL_VERSION);
			random_attrs(&m, 0);
			msg_finish(&m);
			st.generated++;
		}
		probe_budget_apply(&m);
		r = exchange(fd, &m);
		if (r == -ETIMEDOUT) {
			printf("attack: FAIL no answer within %d s to request %ld (seq %u)\n", RECV_TIMEOUT_S, i,
			       seq - 2);
			hung = 1;
			break;
		}
		if (r < 0) {
			/* Lost replies: start over on a new socket. */
			close(fd);
			fd = nl_open();
			if (fd < 0) {
				printf("attack: FAIL cannot reopen the socket: %s\n", strerror(-fd));
				return 1;
			}
		}
	}
	t1 = now_us();
	close(fd);

	printf("attack: sent=%ld send_failed=%ld generated=%ld mutated=%ld interrupted_dumps=%ld probes=%ld "
	       "probes_ran=%ld duration_ms=%lld\n",
	       st.sent, st.send_failed, st.generated, st.mutated, st.interrupted, st.probes, st.probes_ran,
	       (t1 - t0) / 1000);
	printf("attack: replies ok=%ld silent=%ld data=%ld dumps_done=%ld", st.acked, st.silent, st.data, st.dumps);
	for (int e = 1; e < N_ERRNO; e++)
		if (st.err[e])
			printf(" %s=%ld", errname(e), st.err[e]);
	printf("\n");
	if (unexpected)
		printf("attack: FAIL %ld unexpected answer(s)\n", unexpected);
	printf("attack: %s\n", hung || unexpected ? "FAILED" : "OK");
	fflush(stdout);
	return hung || unexpected ? 1 : 0;
}
