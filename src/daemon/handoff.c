/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* handoff.c: the transparent hand-off: FAN_OPEN_EXEC_PERM on the profiles' VM programs, the lock taken for the process. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "handoff.h"
#include "hv-detect.h"
#include "log.h"
#include "manager.h"
#include "status-json.h"

#define HANDOFF_PROGS_MAX (PROFILES_MAX * PROFILE_LIST_MAX)
#define HANDOFF_PENDING_MAX 64		/* executions waiting for one profile's lock; beyond: denied at once */
#define HANDOFF_PROCS_MAX 64		/* processes let through under one profile's lock */

struct program {
	char path[PROFILE_ITEM_MAX + 1];
	char profile[PROFILE_NAME_MAX + 1];
	dev_t dev;			/* the marked inode; a replaced program is a new inode */
	ino_t ino;
	bool marked;
};

/* An execve() waiting in the kernel for our answer. */
struct pending {
	int fd;				/* the event's file: its answer names it */
	pid_t pid;
	char comm[STATUS_COMM_MAX];
	char prog[PROFILE_ITEM_MAX + 1];
};

struct proc {
	pid_t pid;
	uint64_t start;			/* lock_proc_start(): with the pid, what the lock's metadata records */
	char comm[STATUS_COMM_MAX];
	sd_event_source *source;	/* the pidfd: readable once the process has exited */
};

struct session;

/* One profile's hand-off: its lock (requested or held), the executions waiting for it, the processes under it. */
struct session {
	char profile[PROFILE_NAME_MAX + 1];
	struct lock_request *req;	/* waiting for the lock */
	int lock_fd;			/* held: the FIFO's write end; -1 none */
	uint32_t lock_id;
	struct pending pending[HANDOFF_PENDING_MAX];
	size_t n_pending;
	struct proc procs[HANDOFF_PROCS_MAX];
	size_t n_procs;
	handoff *h;
};

struct handoff {
	struct manager *m;
	int fan_fd;
	sd_event_source *fan_source;
	int ino_fd;
	sd_event_source *ino_source;
	const char *state;
	char reason[256];
	struct program progs[HANDOFF_PROGS_MAX];
	size_t n_progs;
	struct session sessions[PROFILES_MAX];
	size_t n_sessions;
};

static void respond(handoff *h, int fd, bool allow)
{
	struct fanotify_response resp = { .fd = fd, .response = allow ? FAN_ALLOW : FAN_DENY };

	if (fd < 0)
		return;
	/* The process blocks in execve() until this is written: it must be, even if the group is going away. */
	if (h->fan_fd >= 0 && write(h->fan_fd, &resp, sizeof(resp)) != (ssize_t)sizeof(resp))
		log_warning_errno(-errno, "Failed to answer a hand-off permission event: %m");
	close(fd);
}

static const struct hv_profile *find_profile(handoff *h, const char *name)
{
	const struct hv_profiles *ps = h->m->profiles;

	for (size_t i = 0; ps && i < ps->n; i++)
		if (strcasecmp(ps->p[i].name, name) == 0)
			return &ps->p[i];
	return NULL;
}

static struct session *find_session(handoff *h, const char *profile, bool create)
{
	struct session *s;

	for (size_t i = 0; i < h->n_sessions; i++)
		if (strcasecmp(h->sessions[i].profile, profile) == 0)
			return &h->sessions[i];
	if (!create || h->n_sessions >= PROFILES_MAX)
		return NULL;
	s = &h->sessions[h->n_sessions++];
	*s = (struct session) { .lock_fd = -1, .h = h };
	snprintf(s->profile, sizeof(s->profile), "%s", profile);
	return s;
}

static bool proc_add(struct session *s, pid_t pid, const char *comm);

/* The lock's metadata names S's processes (handoff=), so that a restarted virtd holds it for them again. */
static void session_record(struct session *s)
{
	struct lock_proc procs[LOCK_HANDOFF_MAX];
	size_t n = 0;
	int r;

	if (s->lock_fd < 0)
		return;
	for (size_t i = 0; i < s->n_procs && n < LOCK_HANDOFF_MAX; i++)
		if (s->procs[i].start)
			procs[n++] = (struct lock_proc) { .pid = s->procs[i].pid, .start = s->procs[i].start };
	r = lock_registry_set_handoff(s->h->m->locks, s->lock_id, procs, n);
	if (r < 0)
		log_warning_errno(r, "Hand-off: cannot record %s's processes in lock %" PRIu32 "'s metadata (a restart of "
				  "virtd would drop the lock): %m", s->profile, s->lock_id);
}

static void session_release(struct session *s)
{
	if (s->lock_fd < 0 || s->n_procs > 0 || s->n_pending > 0 || s->req)
		return;
	/* The FIFO hangs up: the registry drops the lock and the manager reconciles (on_lock_released()). */
	log_info("Hand-off: the last process under %s's lock %" PRIu32 " has exited, releasing it", s->profile,
		 s->lock_id);
	close(s->lock_fd);
	s->lock_fd = -1;
	s->lock_id = 0;
}

static void proc_remove(struct session *s, size_t i)
{
	sd_event_source_disable_unref(s->procs[i].source);
	memmove(s->procs + i, s->procs + i + 1, (s->n_procs - i - 1) * sizeof(*s->procs));
	s->n_procs--;
}

static int on_pidfd(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct session *s = userdata;

	(void)fd;
	(void)revents;
	for (size_t i = 0; i < s->n_procs; i++)
		if (s->procs[i].source == src) {
			log_info("Hand-off: %s (pid %d) under %s's lock has exited", s->procs[i].comm, (int)s->procs[i].pid,
				 s->profile);
			proc_remove(s, i);
			session_record(s);
			break;
		}
	session_release(s);
	return 0;
}

/*
 * Hand-off locks a restarted virtd adopted (lock.c holds their FIFOs again
 * while one of their recorded processes runs): their sessions, watching
 * those processes, released when the last has exited, as before the restart.
 */
static void claim_adopted(handoff *h)
{
	lock_registry *r = h->m->locks;

	for (size_t i = 0; r && i < lock_registry_n_held(r); i++) {
		const struct lock_info *l = lock_registry_held(r, i);
		struct session *s;
		int fd;

		if (lock_registry_claim_kept(r, i, &fd) < 0)
			continue;
		s = find_session(h, l->who, true);
		if (!s || s->lock_fd >= 0) {
			log_warning("Hand-off: cannot take over adopted lock %" PRIu32 " of %s; it is released", l->id, l->who);
			close(fd);
			continue;
		}
		s->lock_fd = fd;
		s->lock_id = l->id;
		for (size_t k = 0; k < l->n_handoff; k++) {
			char path[64], comm[STATUS_COMM_MAX] = "?";
			FILE *f;

			if (lock_proc_start(l->handoff[k].pid) != l->handoff[k].start)
				continue;	/* gone, or its pid is another process's now */
			snprintf(path, sizeof(path), "/proc/%d/comm", (int)l->handoff[k].pid);
			f = fopen(path, "re");
			if (f) {
				if (fgets(comm, sizeof(comm), f))
					comm[strcspn(comm, "\n")] = '\0';
				fclose(f);
			}
			if (proc_add(s, l->handoff[k].pid, comm))
				log_info("Hand-off: %s (pid %d) runs under %s's lock %" PRIu32 " again, as before virtd's restart",
					 comm, (int)l->handoff[k].pid, s->profile, s->lock_id);
		}
		session_record(s);
		session_release(s);
	}
}

/* Remembers PID as a process under S's lock; false when it is gone already (or cannot be watched). */
static bool proc_add(struct session *s, pid_t pid, const char *comm)
{
	struct proc *p;
	int pidfd, r;

	for (size_t i = 0; i < s->n_procs; i++)
		if (s->procs[i].pid == pid)
			return true;
	if (s->n_procs >= HANDOFF_PROCS_MAX) {
		log_warning("Hand-off: more than %d processes under %s's lock; %s (pid %d) is not tracked, the lock "
			    "goes when the others have exited", HANDOFF_PROCS_MAX, s->profile, comm, (int)pid);
		return true;
	}
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		if (errno != ESRCH)
			log_warning_errno(-errno, "Hand-off: cannot watch %s (pid %d) under %s's lock: %m", comm, (int)pid,
					  s->profile);
		return false;
	}
	p = &s->procs[s->n_procs];
	*p = (struct proc) { .pid = pid, .start = lock_proc_start(pid) };
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	r = sd_event_add_io(s->h->m->event, &p->source, pidfd, EPOLLIN, on_pidfd, s);
	if (r < 0) {
		close(pidfd);
		log_warning_errno(r, "Hand-off: cannot watch %s (pid %d) under %s's lock: %m", comm, (int)pid, s->profile);
		return false;
	}
	(void)sd_event_source_set_io_fd_own(p->source, true);
	(void)sd_event_source_set_description(p->source, "handoff-pidfd");
	s->n_procs++;
	session_record(s);
	return true;
}

/* The lock is S's now (FD >= 0) or refused (TEXT): every waiting execution is answered. */
static void session_answer(struct session *s, int fd, uint32_t id, const char *text)
{
	handoff *h = s->h;

	if (fd >= 0) {
		s->lock_fd = fd;
		s->lock_id = id;
	}
	for (size_t i = 0; i < s->n_pending; i++) {
		struct pending *p = &s->pending[i];

		if (fd >= 0) {
			(void)proc_add(s, p->pid, p->comm);
			log_info("Hand-off: %s (pid %d) runs %s, allowed under %s's lock %" PRIu32, p->comm, (int)p->pid,
				 p->prog, s->profile, id);
		} else
			log_warning("Hand-off: %s (pid %d) runs %s, denied: %s's lock cannot be had: %s", p->comm,
				    (int)p->pid, p->prog, s->profile, text);
		respond(h, p->fd, fd >= 0);
	}
	s->n_pending = 0;
	session_release(s);
}

static void on_lock_answer(const struct lock_info *info, int fd, enum virtd_error e, const char *text, void *userdata)
{
	struct session *s = userdata;

	(void)e;
	s->req = NULL;
	session_answer(s, fd, info->id, text ? text : "refused");
}

static void lock_info_for(const struct session *s, pid_t pid, const char *comm, const char *prog,
			  struct lock_info *info)
{
	char p[64];
	struct stat st;

	*info = (struct lock_info) { .pid = pid };
	snprintf(info->who, sizeof(info->who), "%s", s->profile);
	snprintf(info->why, sizeof(info->why), "hand-off: %s (pid %d) runs %s", comm, (int)pid, prog);
	snprintf(p, sizeof(p), "/proc/%d", (int)pid);
	if (stat(p, &st) == 0)
		info->uid = st.st_uid;
}

/* PID executes PROG: answered now, or queued until the lock is decided. */
static void on_exec(handoff *h, int fd, pid_t pid, const struct program *prog)
{
	struct manager *m = h->m;
	const struct hv_profile *prof = find_profile(h, prog->profile);
	struct hv_mode_choice ch;
	struct lock_info info;
	struct session *s;
	const char *base;
	char comm[STATUS_COMM_MAX], reason[400], what[200];
	int r;

	/* virtd's own (none are meant to happen) must never wait for virtd. */
	if (pid == getpid() || !prof) {
		respond(h, fd, true);
		return;
	}
	/* What the process is about to become, as ps will show it (comm is the caller's until execve() returns). */
	base = strrchr(prog->path, '/');
	/* The kernel keeps the first 15 bytes of the name, and so does this. */
	snprintf(comm, sizeof(comm), "%.*s", (int)sizeof(comm) - 1, base ? base + 1 : prog->path);
	s = find_session(h, prof->name, true);
	if (!s) {
		log_warning("Hand-off: %s (pid %d) runs %s, allowed without a lock: too many hand-off sessions",
			    comm, (int)pid, prog->path);
		respond(h, fd, true);
		return;
	}
	if (s->lock_fd >= 0) {
		/* The hypervisor's lock is ours for it already: one more of its processes. */
		(void)proc_add(s, pid, comm);
		log_info("Hand-off: %s (pid %d) runs %s, allowed under %s's lock %" PRIu32, comm, (int)pid,
			 prog->path, s->profile, s->lock_id);
		respond(h, fd, true);
		return;
	}
	/* Someone took the hypervisor's lock already (virtctl lock --who=…, whose child this may be): that one covers it. */
	for (size_t i = 0; i < lock_registry_n_held(m->locks); i++) {
		const struct lock_info *l = lock_registry_held(m->locks, i);

		if (profiles_match_who(m->profiles, l->who) == prof) {
			log_info("Hand-off: %s (pid %d) runs %s, allowed: %s's lock is held by %s (pid %d)", comm,
				 (int)pid, prog->path, prof->name, l->who, (int)l->pid);
			respond(h, fd, true);
			return;
		}
	}
	if (s->n_pending >= HANDOFF_PENDING_MAX) {
		log_warning("Hand-off: %s (pid %d) runs %s, denied: %d wait for %s's lock already", comm,
			    (int)pid, prog->path, HANDOFF_PENDING_MAX, s->profile);
		respond(h, fd, false);
		return;
	}
	s->pending[s->n_pending++] = (struct pending) { .fd = fd, .pid = pid };
	snprintf(s->pending[s->n_pending - 1].comm, STATUS_COMM_MAX, "%s", comm);
	snprintf(s->pending[s->n_pending - 1].prog, sizeof(s->pending[0].prog), "%s", prog->path);
	if (s->req)
		return;		/* answered with the request already made */

	hv_mode_of(prof, &m->cfg, vendor_from_module(m->observed ? m->kobs.vendor_module : NULL), NULL, &ch);
	lock_info_for(s, pid, comm, prog->path, &info);
	log_info("Hand-off: %s (pid %d) runs %s: taking %s's lock in %s mode for it (%s)", comm, (int)pid, prog->path,
		 prof->name, hv_mode_to_string(ch.mode), ch.reason);
	switch (policy_lock_grant(&m->cfg, prof->name, ch.mode, reason, sizeof(reason))) {
	case LOCK_GRANT_REFUSED:
		session_answer(s, -1, 0, reason);
		return;
	case LOCK_GRANT_SHARED: {
		struct timespec ts;
		int wfd;

		clock_gettime(CLOCK_REALTIME, &ts);
		info.since_usec = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
		r = lock_registry_grant_mode(m->locks, &info, true, &wfd);
		if (r < 0) {
			snprintf(reason, sizeof(reason), "virtd could not create the lock: %s", strerror(-r));
			session_answer(s, -1, 0, reason);
			return;
		}
		log_info("Foreign lock %" PRIu32 " granted to %s (pid %d) by hand-off in shared mode, KVM kept: %s",
			 info.id, info.who, (int)pid, ch.reason);
		session_answer(s, wfd, info.id, NULL);
		snprintf(what, sizeof(what), "shared foreign lock handed off to %s (pid %d)", comm, (int)pid);
		manager_reconcile(m, what);
		return;
	}
	case LOCK_GRANT_EXCLUSIVE:
		break;
	}
	/* As AcquireForeign() with --wait: KVM VMs may end within the timeout. */
	r = lock_registry_add_request_internal(m->locks, on_lock_answer, s, &info, LOCK_FLAG_WAIT,
					       m->cfg.handoff_timeout_ns / 1000, &s->req);
	if (r < 0) {
		s->req = NULL;
		snprintf(reason, sizeof(reason), "virtd could not queue the request: %s", strerror(-r));
		session_answer(s, -1, 0, reason);
		return;
	}
	snprintf(what, sizeof(what), "foreign lock handed off to %s (pid %d)", comm, (int)pid);
	m->retries = 0;
	manager_reconcile(m, what);
}

static const struct program *program_of_fd(handoff *h, int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return NULL;
	for (size_t i = 0; i < h->n_progs; i++)
		if (h->progs[i].marked && h->progs[i].dev == st.st_dev && h->progs[i].ino == st.st_ino)
			return &h->progs[i];
	return NULL;
}

static int on_fanotify(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	handoff *h = userdata;
	char buf[4096] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));

	(void)src;
	(void)revents;
	for (;;) {
		const struct fanotify_event_metadata *ev = (const void *)buf;
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (; FAN_EVENT_OK(ev, n); ev = FAN_EVENT_NEXT(ev, n)) {
			const struct program *prog;

			if (ev->vers != FANOTIFY_METADATA_VERSION) {
				log_error("Hand-off: fanotify metadata version %u, expected %u; allowing it", ev->vers,
					  FANOTIFY_METADATA_VERSION);
				respond(h, ev->fd, true);
				continue;
			}
			if (ev->fd < 0)
				continue;	/* an overflow: nothing to answer */
			if (!(ev->mask & FAN_OPEN_EXEC_PERM)) {
				close(ev->fd);
				continue;
			}
			prog = program_of_fd(h, ev->fd);
			if (!prog) {
				/* Marked before a reload that dropped it: nothing to hand off. */
				respond(h, ev->fd, true);
				continue;
			}
			on_exec(h, ev->fd, ev->pid, prog);
		}
	}
	return 0;
}

static void mark_program(handoff *h, struct program *n, bool quiet)
{
	struct stat st;

	n->marked = false;
	if (stat(n->path, &st) < 0) {
		if (errno != ENOENT && !quiet)
			log_warning_errno(-errno, "Hand-off: cannot look at %s (profile %s): %m", n->path, n->profile);
		return;
	}
	if (fanotify_mark(h->fan_fd, FAN_MARK_ADD, FAN_OPEN_EXEC_PERM, AT_FDCWD, n->path) < 0) {
		log_warning_errno(-errno, "Hand-off: cannot watch %s (profile %s) with fanotify: %m%s", n->path,
				  n->profile, errno == EINVAL ? " (kernel without CONFIG_FANOTIFY_ACCESS_PERMISSIONS?)" : "");
		return;
	}
	n->dev = st.st_dev;
	n->ino = st.st_ino;
	n->marked = true;
	log_info("Hand-off: watching %s (profile %s)", n->path, n->profile);
}

static int on_inotify(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	handoff *h = userdata;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	(void)src;
	(void)revents;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;

			p += sizeof(*ev) + ev->len;
			if (ev->len == 0)
				continue;
			/* A program that appears, or is replaced (an upgrade renames a new inode into place): mark it. */
			for (size_t i = 0; i < h->n_progs; i++) {
				const char *base = strrchr(h->progs[i].path, '/');

				if (base && strcmp(base + 1, ev->name) == 0)
					mark_program(h, &h->progs[i], false);
			}
		}
	}
	return 0;
}

/* The programs of every profile (HandOffPrograms=). */
static void collect_programs(handoff *h)
{
	const struct hv_profiles *ps = h->m->profiles;

	h->n_progs = 0;
	for (size_t i = 0; ps && i < ps->n; i++)
		for (size_t k = 0; k < ps->p[i].handoff_programs.n && h->n_progs < HANDOFF_PROGS_MAX; k++) {
			struct program *n = &h->progs[h->n_progs++];

			*n = (struct program) {};
			snprintf(n->path, sizeof(n->path), "%s", ps->p[i].handoff_programs.items[k]);
			snprintf(n->profile, sizeof(n->profile), "%s", ps->p[i].name);
		}
}

static void watch_dirs(handoff *h)
{
	int r;

	h->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (h->ino_fd < 0) {
		log_warning_errno(-errno, "Hand-off: cannot watch for new programs (inotify), only those there now "
				  "are watched: %m");
		return;
	}
	for (size_t i = 0; i < h->n_progs; i++) {
		char dir[PROFILE_ITEM_MAX + 1];
		char *slash;

		snprintf(dir, sizeof(dir), "%s", h->progs[i].path);
		slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			continue;
		*slash = '\0';
		/* Adding a directory twice just returns its watch. */
		if (inotify_add_watch(h->ino_fd, dir, IN_CREATE | IN_MOVED_TO | IN_ONLYDIR) < 0 && errno != ENOENT)
			log_warning_errno(-errno, "Hand-off: cannot watch %s for %s: %m", dir, h->progs[i].path);
	}
	r = sd_event_add_io(h->m->event, &h->ino_source, h->ino_fd, EPOLLIN, on_inotify, h);
	if (r < 0) {
		log_warning_errno(r, "Hand-off: cannot watch the inotify descriptor: %m");
		close(h->ino_fd);
		h->ino_fd = -1;
		return;
	}
	(void)sd_event_source_set_description(h->ino_source, "handoff-inotify");
}

/* Every waiting execution denied: called before the group goes (its close would allow them). */
static void deny_waiting(handoff *h, const char *why)
{
	for (size_t i = 0; i < h->n_sessions; i++) {
		struct session *s = &h->sessions[i];

		if (s->req)
			/* Its answer (on_lock_answer()) denies the waiting executions. */
			lock_request_fail(s->req, VIRTD_ERROR_CANNOT_HOLD, "%s", why);
		else if (s->n_pending > 0)
			session_answer(s, -1, 0, why);
	}
}

static void stop(handoff *h, const char *why)
{
	deny_waiting(h, why);
	h->ino_source = sd_event_source_disable_unref(h->ino_source);
	if (h->ino_fd >= 0)
		close(h->ino_fd);
	h->ino_fd = -1;
	h->fan_source = sd_event_source_disable_unref(h->fan_source);
	if (h->fan_fd >= 0)
		close(h->fan_fd);
	h->fan_fd = -1;
	for (size_t i = 0; i < h->n_progs; i++)
		h->progs[i].marked = false;
}

int handoff_new(struct manager *m, handoff **ret)
{
	handoff *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->m = m;
	h->fan_fd = -1;
	h->ino_fd = -1;
	h->state = "off";
	*ret = h;
	return 0;
}

handoff *handoff_free(handoff *h)
{
	if (!h)
		return NULL;
	/*
	 * Denied, not allowed: an execution still waiting means KVM has not let go,
	 * so the hypervisor would fail anyway, and allowing would let it run
	 * with no lock recorded.  (A virtd that dies without this gets the
	 * kernel's default, allow, when the group's descriptor closes.)
	 */
	stop(h, "virtd is stopping");
	for (size_t i = 0; i < h->n_sessions; i++) {
		struct session *s = &h->sessions[i];

		while (s->n_procs > 0)
			proc_remove(s, s->n_procs - 1);
		if (s->lock_fd >= 0)
			close(s->lock_fd);
	}
	free(h);
	return NULL;
}

void handoff_configure(handoff *h)
{
	const bool want = h->m->cfg.handoff;
	int r;

	claim_adopted(h);

	if (!want) {
		if (h->fan_fd >= 0)
			log_info("Hand-off: turned off (HandOff=no); locks it holds stay until their processes exit");
		stop(h, "hand-off was turned off (HandOff=no)");
		collect_programs(h);
		h->state = "off";
		h->reason[0] = '\0';
		return;
	}
	/* Marks and directory watches follow the profiles: start over, keeping waiting executions and held locks. */
	h->ino_source = sd_event_source_disable_unref(h->ino_source);
	if (h->ino_fd >= 0)
		close(h->ino_fd);
	h->ino_fd = -1;
	if (h->fan_fd < 0) {
		h->fan_fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY | O_CLOEXEC | O_LARGEFILE);
		if (h->fan_fd < 0) {
			r = -errno;
			h->state = "unavailable";
			snprintf(h->reason, sizeof(h->reason), "fanotify_init: %s%s", strerror(-r),
				 r == -EPERM ? " (needs CAP_SYS_ADMIN, and fanotify_init/fanotify_mark allowed by a seccomp filter)" :
				 r == -EINVAL ? " (kernel without CONFIG_FANOTIFY_ACCESS_PERMISSIONS?)" :
				 r == -ENOSYS ? " (kernel without fanotify)" : "");
			log_warning("Hand-off unavailable, starting a hypervisor's VM program no longer takes the lock: %s; "
				    "`virtctl lock` still works", h->reason);
			collect_programs(h);
			return;
		}
		r = sd_event_add_io(h->m->event, &h->fan_source, h->fan_fd, EPOLLIN, on_fanotify, h);
		if (r < 0) {
			close(h->fan_fd);
			h->fan_fd = -1;
			h->state = "unavailable";
			snprintf(h->reason, sizeof(h->reason), "cannot watch the fanotify descriptor: %s", strerror(-r));
			log_warning("Hand-off unavailable: %s; `virtctl lock` still works", h->reason);
			collect_programs(h);
			return;
		}
		(void)sd_event_source_set_description(h->fan_source, "handoff-fanotify");
	} else if (fanotify_mark(h->fan_fd, FAN_MARK_FLUSH, 0, AT_FDCWD, NULL) < 0)
		log_warning_errno(-errno, "Hand-off: cannot drop the old marks: %m");
	h->state = "active";
	h->reason[0] = '\0';
	collect_programs(h);
	watch_dirs(h);
	for (size_t i = 0; i < h->n_progs; i++)
		mark_program(h, &h->progs[i], false);
	/* The first failure to mark names the cause in status (EINVAL: no permission events in this kernel). */
	for (size_t i = 0; i < h->n_progs; i++)
		if (!h->progs[i].marked && access(h->progs[i].path, F_OK) == 0) {
			snprintf(h->reason, sizeof(h->reason), "cannot mark %s with fanotify", h->progs[i].path);
			break;
		}
}

void handoff_status(const handoff *h, struct status_handoff *ret)
{
	*ret = (struct status_handoff) { .state = h ? h->state : "off" };
	if (!h)
		return;
	snprintf(ret->reason, sizeof(ret->reason), "%s", h->reason);
	for (size_t i = 0; i < h->n_progs && i < ELEMENTSOF(ret->programs); i++) {
		struct status_handoff_program *p = &ret->programs[ret->n_programs++];

		snprintf(p->path, sizeof(p->path), "%s", h->progs[i].path);
		snprintf(p->profile, sizeof(p->profile), "%s", h->progs[i].profile);
		p->watched = h->progs[i].marked;
	}
	for (size_t i = 0; i < h->n_sessions && ret->n_locks < ELEMENTSOF(ret->locks); i++) {
		const struct session *s = &h->sessions[i];
		struct status_handoff_lock *l;

		if (s->lock_fd < 0)
			continue;
		l = &ret->locks[ret->n_locks++];
		l->id = s->lock_id;
		l->n_procs = s->n_procs;
		for (size_t k = 0; k < s->n_procs && k < STATUS_HANDOFF_PROCS_MAX; k++) {
			l->pids[k] = s->procs[k].pid;
			snprintf(l->comms[k], sizeof(l->comms[k]), "%s", s->procs[k].comm);
		}
	}
}
