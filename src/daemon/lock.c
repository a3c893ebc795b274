/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lock.c: the foreign-hypervisor lock registry: FIFOs in /run/virtd/locks, hang-up watch, adoption, waiting requests. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "observe.h"
#include "log.h"

struct held {
	struct lock_info info;
	bool shared;			/* granted in shared mode: KVM stays (kept across a restart: mode= in the metadata) */
	int fd;				/* the FIFO's read end */
	int kept_fd;			/* an adopted hand-off lock: the write end virtd opened for it again, until claimed */
	sd_event_source *source;
	lock_registry *registry;
};

struct lock_registry {
	sd_event *event;
	char *dir;
	struct lock_callbacks cb;
	void *userdata;
	struct held **held;
	size_t n_held;
	struct lock_request **requests;
	size_t n_requests;
	uint32_t next_id;
};

static void path_of(const lock_registry *r, uint32_t id, const char *suffix, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%" PRIu32 "%s", r->dir, id, suffix);
}

static void unlink_lock_files(const lock_registry *r, uint32_t id)
{
	char p[PATH_MAX];

	path_of(r, id, ".lock", p, sizeof(p));
	(void)unlink(p);
	path_of(r, id, ".fifo", p, sizeof(p));
	(void)unlink(p);
}

static int mkdir_p(const char *dir, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, dir, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int lock_registry_new(sd_event *e, const char *dir, const struct lock_callbacks *cb, void *userdata,
		      lock_registry **ret)
{
	lock_registry *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->dir = strdup(dir);
	if (!r->dir) {
		free(r);
		return -ENOMEM;
	}
	r->event = sd_event_ref(e);
	r->cb = *cb;
	r->userdata = userdata;
	r->next_id = 1;
	*ret = r;
	return 0;
}

static int write_meta(const lock_registry *r, const struct lock_info *info);

static void held_free(struct held *h)
{
	if (!h)
		return;
	sd_event_source_disable_unref(h->source);
	if (h->fd >= 0)
		close(h->fd);
	if (h->kept_fd >= 0)
		close(h->kept_fd);
	free(h);
}

uint64_t lock_proc_start(pid_t pid)
{
	return proc_start_time("", pid);
}

/* Whether one of INFO's hand-off processes still runs (same pid, same start time). */
static bool handoff_alive(const struct lock_info *info)
{
	for (size_t i = 0; i < info->n_handoff; i++)
		if (lock_proc_start(info->handoff[i].pid) == info->handoff[i].start)
			return true;
	return false;
}

int lock_registry_set_handoff(lock_registry *r, uint32_t id, const struct lock_proc *procs, size_t n)
{
	for (size_t i = 0; i < r->n_held; i++) {
		struct lock_info *info = &r->held[i]->info;

		if (info->id != id)
			continue;
		info->n_handoff = n < LOCK_HANDOFF_MAX ? n : LOCK_HANDOFF_MAX;
		memcpy(info->handoff, procs, info->n_handoff * sizeof(*procs));
		return write_meta(r, info);
	}
	return -ENOENT;
}

int lock_registry_claim_kept(lock_registry *r, size_t i, int *ret_fd)
{
	if (i >= r->n_held || r->held[i]->kept_fd < 0)
		return -ENOENT;
	*ret_fd = r->held[i]->kept_fd;
	r->held[i]->kept_fd = -1;
	return 0;
}

static void request_free(struct lock_request *req)
{
	lock_registry *r;

	if (!req)
		return;
	r = req->registry;
	for (size_t i = 0; r && i < r->n_requests; i++)
		if (r->requests[i] == req) {
			memmove(r->requests + i, r->requests + i + 1, (r->n_requests - i - 1) * sizeof(*r->requests));
			r->n_requests--;
			break;
		}
	sd_event_source_disable_unref(req->timer);
	sd_bus_track_unref(req->track);
	sd_bus_message_unref(req->msg);
	free(req);
}

void lock_registry_fail_waiting(lock_registry *r, enum virtd_error e, const char *message)
{
	while (r && r->n_requests > 0)
		lock_request_fail(r->requests[0], e, "%s", message);
}

lock_registry *lock_registry_free(lock_registry *r)
{
	if (!r)
		return NULL;
	lock_registry_fail_waiting(r, VIRTD_ERROR_CANNOT_HOLD, "virtd is stopping; ask again once it runs");
	for (size_t i = 0; i < r->n_held; i++)
		held_free(r->held[i]);
	free(r->held);
	free(r->requests);
	sd_event_unref(r->event);
	free(r->dir);
	free(r);
	return NULL;
}

static void held_remove(lock_registry *r, struct held *h)
{
	for (size_t i = 0; i < r->n_held; i++)
		if (r->held[i] == h) {
			memmove(r->held + i, r->held + i + 1, (r->n_held - i - 1) * sizeof(*r->held));
			r->n_held--;
			break;
		}
}

static int on_fifo(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct held *h = userdata;
	lock_registry *r = h->registry;
	struct lock_info info;
	char buf[256];
	ssize_t n;

	(void)s;
	/* Nothing is meant to be written; whatever is, is thrown away. */
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		break;
	}
	/* EOF: no writer is left.  EAGAIN: writers remain, unless the kernel says hang-up. */
	if (n != 0 && !(revents & (EPOLLHUP | EPOLLERR)))
		return 0;

	info = h->info;
	held_remove(r, h);
	unlink_lock_files(r, info.id);
	held_free(h);
	if (r->cb.released)
		r->cb.released(&info, r->userdata);
	return 0;
}

static int watch(lock_registry *r, const struct lock_info *info, int fd)
{
	struct held *h, **a;
	int k;

	a = reallocarray(r->held, r->n_held + 1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	r->held = a;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	*h = (struct held) { .info = *info, .fd = fd, .kept_fd = -1, .registry = r };
	/* EPOLLHUP is always reported; EPOLLIN catches a holder that writes. */
	k = sd_event_add_io(r->event, &h->source, fd, EPOLLIN, on_fifo, h);
	if (k < 0) {
		h->fd = -1;	/* the caller still owns it */
		held_free(h);
		return k;
	}
	(void)sd_event_source_set_description(h->source, "foreign-lock");
	/* Before the reconcile it causes: a hang-up is released first. */
	(void)sd_event_source_set_priority(h->source, SD_EVENT_PRIORITY_NORMAL - 10);
	r->held[r->n_held++] = h;
	return 0;
}

static int write_meta(const lock_registry *r, const struct lock_info *info)
{
	_cleanup_free_ char *text = lock_meta_render(info);
	char tmp[PATH_MAX], path[PATH_MAX];
	_cleanup_close_ int fd = -1;
	size_t len, done = 0;

	if (!text)
		return -ENOMEM;
	snprintf(tmp, sizeof(tmp), "%s/.%" PRIu32 ".lock.XXXXXX", r->dir, info->id);
	path_of(r, info->id, ".lock", path, sizeof(path));
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = strlen(text);
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0) {
			int k = -errno;

			(void)unlink(tmp);
			return k;
		}
		done += (size_t)n;
	}
	/* Renamed into place whole: a crash never leaves half a file to adopt. */
	if (fchmod(fd, 0644) < 0 || rename(tmp, path) < 0) {
		int k = -errno;

		(void)unlink(tmp);
		return k;
	}
	return 0;
}

int lock_registry_grant(lock_registry *r, struct lock_info *info, int *ret_fd)
{
	return lock_registry_grant_mode(r, info, false, ret_fd);
}

int lock_registry_grant_mode(lock_registry *r, struct lock_info *info, bool shared, int *ret_fd)
{
	_cleanup_close_ int rfd = -1, wfd = -1;
	char fifo[PATH_MAX];
	int k;

	k = mkdir_p(r->dir, 0755);
	if (k < 0)
		return log_error_errno(k, "Failed to create %s: %m", r->dir);
	info->id = r->next_id++;
	if (r->next_id == 0)
		r->next_id = 1;
	path_of(r, info->id, ".fifo", fifo, sizeof(fifo));
	(void)unlink(fifo);
	if (mkfifo(fifo, 0600) < 0)
		return log_error_errno(-errno, "Failed to create the lock FIFO %s: %m", fifo);
	/* The reader first: opening the write end without one would fail with ENXIO. */
	rfd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (rfd >= 0)
		wfd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (rfd < 0 || wfd < 0) {
		k = log_error_errno(-errno, "Failed to open the lock FIFO %s: %m", fifo);
		(void)unlink(fifo);
		return k;
	}
	/* The holder's copy shares the file status flags: leave it blocking, as a plain open would. */
	(void)fcntl(wfd, F_SETFL, O_WRONLY);
	info->shared = shared;
	k = write_meta(r, info);
	if (k < 0) {
		log_error_errno(k, "Failed to write the metadata of lock %" PRIu32 " in %s: %m", info->id, r->dir);
		(void)unlink(fifo);
		return k;
	}
	k = watch(r, info, rfd);
	if (k < 0) {
		log_error_errno(k, "Failed to watch the lock FIFO %s: %m", fifo);
		unlink_lock_files(r, info->id);
		return k;
	}
	rfd = -1;	/* the registry's now */
	r->held[r->n_held - 1]->shared = shared;
	*ret_fd = wfd;
	wfd = -1;
	return 0;
}

static int read_meta(int dir, const char *name, struct lock_info *ret)
{
	_cleanup_close_ int fd = -1;
	char buf[4096];
	ssize_t n;

	fd = openat(dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	if ((size_t)n == sizeof(buf) - 1)
		return -EBADMSG;
	buf[n] = '\0';
	if (strlen(buf) != (size_t)n)
		return -EBADMSG;
	return lock_meta_parse(buf, ret);
}

/* One <id>.lock: 1 adopted, 0 dropped (stale or broken). */
static int adopt_one(lock_registry *r, int dirfd_, uint32_t id, const char *name)
{
	_cleanup_close_ int fd = -1;
	struct lock_info info;
	char fifo[PATH_MAX];
	struct pollfd p;
	struct stat st;
	int k, w, kept;

	k = read_meta(dirfd_, name, &info);
	if (k < 0) {
		log_warning_errno(k, "Removing lock %" PRIu32 ": cannot use its metadata %s/%s: %m", id, r->dir, name);
		unlink_lock_files(r, id);
		return 0;
	}
	info.id = id;
	path_of(r, id, ".fifo", fifo, sizeof(fifo));
	fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
		log_warning_errno(fd < 0 ? -errno : -EBADF, "Removing lock %" PRIu32 " of %s (pid %d): %s is missing or not a FIFO",
				  id, info.who, (int)info.pid, fifo);
		unlink_lock_files(r, id);
		return 0;
	}
	/*
	 * Linux reports a hang-up to a FIFO's reader only once a writer has
	 * come and gone since the reader opened.  Open and close a write end
	 * now: the holder's copy keeps the pipe quiet; without one it hangs
	 * up at once.
	 */
	w = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (w >= 0)
		close(w);
	p = (struct pollfd) { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, 0) < 0)
		p.revents = 0;
	kept = -1;
	if ((p.revents & (POLLHUP | POLLERR)) && info.n_handoff > 0 && handoff_alive(&info)) {
		/* A hand-off lock: virtd itself was its writer, for processes that still run.  Hold it again for them. */
		kept = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (kept >= 0 && poll(&p, 1, 0) >= 0 && !(p.revents & (POLLHUP | POLLERR)))
			log_info("Lock %" PRIu32 " of %s was a hand-off; its process (pid %d) still runs: held for it again",
				 id, info.who, (int)info.handoff[0].pid);
		else if (kept >= 0) {
			close(kept);
			kept = -1;
		}
	}
	if (kept < 0 && (p.revents & (POLLHUP | POLLERR))) {
		log_info("Dropped lock %" PRIu32 " of %s (pid %d): its holder closed it while virtd was not running",
			 id, info.who, (int)info.pid);
		unlink_lock_files(r, id);
		return 0;
	}
	k = watch(r, &info, fd);
	if (k < 0) {
		if (kept >= 0)
			close(kept);
		return log_error_errno(k, "Failed to watch the lock FIFO %s: %m", fifo);
	}
	fd = -1;
	r->held[r->n_held - 1]->kept_fd = kept;
	/* As granted: a shared holder keeps KVM as the policy says, an exclusive one keeps it away. */
	r->held[r->n_held - 1]->shared = info.shared;
	log_info("Adopted lock %" PRIu32 " held by %s (pid %d, %s mode) since before this start", id, info.who,
		 (int)info.pid, info.shared ? "shared" : "exclusive");
	return 1;
}

int lock_registry_adopt(lock_registry *r)
{
	_cleanup_(closedirp) DIR *d = NULL;
	_cleanup_free_ uint32_t *ids = NULL;
	size_t n_ids = 0, cap = 0;
	struct dirent *de;
	int k;

	k = mkdir_p(r->dir, 0755);
	if (k < 0)
		return log_error_errno(k, "Failed to create %s: %m", r->dir);
	d = opendir(r->dir);
	if (!d)
		return log_error_errno(-errno, "Failed to read %s: %m", r->dir);
	while ((de = readdir(d))) {
		uint32_t id;

		if (lock_id_from_name(de->d_name, ".lock", &id) < 0)
			continue;
		k = adopt_one(r, dirfd(d), id, de->d_name);
		if (k < 0)
			return k;
		if (n_ids == cap) {
			uint32_t *a = reallocarray(ids, cap ? cap * 2 : 8, sizeof(*ids));

			if (!a)
				return -ENOMEM;
			ids = a;
			cap = cap ? cap * 2 : 8;
		}
		/* Dropped ones too: their ids are not reused by this virtd. */
		ids[n_ids++] = id;
	}
	/* What no metadata explains: a crash between mkfifo() and the rename, or leftovers. */
	rewinddir(d);
	while ((de = readdir(d))) {
		uint32_t id;
		bool known = false;

		if (de->d_name[0] == '.' && strstr(de->d_name, ".lock.")) {
			(void)unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		if (lock_id_from_name(de->d_name, ".fifo", &id) < 0)
			continue;
		for (size_t i = 0; i < r->n_held && !known; i++)
			known = r->held[i]->info.id == id;
		if (!known) {
			log_debug("Removing %s/%s: no lock metadata names it", r->dir, de->d_name);
			(void)unlinkat(dirfd(d), de->d_name, 0);
		}
	}
	r->next_id = lock_id_next(ids, n_ids);
	return (int)r->n_held;
}

struct lock_holders lock_registry_holders(const lock_registry *r)
{
	struct lock_holders h = {};

	if (!r)
		return h;
	h.n_waiting = (unsigned)r->n_requests;
	for (size_t i = 0; i < r->n_held; i++) {
		if (r->held[i]->shared)
			h.n_shared++;
		else
			h.n_held++;
	}
	return h;
}

bool lock_registry_held_shared(const lock_registry *r, size_t i)
{
	return r && i < r->n_held && r->held[i]->shared;
}

size_t lock_registry_n_held(const lock_registry *r)
{
	return r ? r->n_held : 0;
}

const struct lock_info *lock_registry_held(const lock_registry *r, size_t i)
{
	return r && i < r->n_held ? &r->held[i]->info : NULL;
}

size_t lock_registry_n_waiting(const lock_registry *r)
{
	return r ? r->n_requests : 0;
}

struct lock_request *lock_registry_request(const lock_registry *r, size_t i)
{
	return r && i < r->n_requests ? r->requests[i] : NULL;
}

static int on_request_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct lock_request *req = userdata;
	lock_registry *r = req->registry;

	(void)s;
	(void)usec;
	if (r->cb.timeout)
		r->cb.timeout(req, r->userdata);
	else
		lock_request_fail(req, VIRTD_ERROR_TIMEOUT, "timed out");
	return 0;
}

static int on_caller_gone(sd_bus_track *t, void *userdata)
{
	struct lock_request *req = userdata;
	lock_registry *r = req->registry;
	struct lock_info info = req->info;

	(void)t;
	request_free(req);
	if (r->cb.withdrawn)
		r->cb.withdrawn(&info, r->userdata);
	return 0;
}

static int add_request(lock_registry *r, sd_bus_message *msg, virtd_error_name_fn error_name, lock_answer_fn answer,
		       void *answer_data, const struct lock_info *info, uint64_t flags, uint64_t timeout_usec,
		       struct lock_request **ret)
{
	struct lock_request *req, **a;
	uint64_t now = 0;
	int k;

	a = reallocarray(r->requests, r->n_requests + 1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	r->requests = a;
	req = calloc(1, sizeof(*req));
	if (!req)
		return -ENOMEM;
	*req = (struct lock_request) {
		.info = *info,
		.flags = flags,
		.timeout_usec = timeout_usec,
		.msg = sd_bus_message_ref(msg),
		.error_name = error_name,
		.answer = answer,
		.answer_data = answer_data,
		.registry = r,
	};
	r->requests[r->n_requests++] = req;

	(void)sd_event_now(r->event, CLOCK_MONOTONIC, &now);
	req->deadline = lock_deadline(now, timeout_usec);
	if (req->deadline != UINT64_MAX) {
		k = sd_event_add_time(r->event, &req->timer, CLOCK_MONOTONIC, req->deadline, 0, on_request_timeout, req);
		if (k < 0)
			goto fail;
	}
	if (msg) {
		k = sd_bus_track_new(sd_bus_message_get_bus(msg), &req->track, on_caller_gone, req);
		if (k >= 0)
			k = sd_bus_track_add_sender(req->track, msg);
		if (k < 0)
			goto fail;
	}
	*ret = req;
	return 0;
fail:
	request_free(req);
	return k;
}

int lock_registry_add_request(lock_registry *r, sd_bus_message *msg, virtd_error_name_fn error_name,
			      const struct lock_info *info, uint64_t flags, uint64_t timeout_usec,
			      struct lock_request **ret)
{
	return add_request(r, msg, error_name, NULL, NULL, info, flags, timeout_usec, ret);
}

int lock_registry_add_request_internal(lock_registry *r, lock_answer_fn answer, void *userdata,
				       const struct lock_info *info, uint64_t flags, uint64_t timeout_usec,
				       struct lock_request **ret)
{
	if (!answer)
		return -EINVAL;
	return add_request(r, NULL, NULL, answer, userdata, info, flags, timeout_usec, ret);
}

int lock_request_grant(struct lock_request *req, struct lock_info *ret_info)
{
	lock_registry *r = req->registry;
	struct lock_info info = req->info;
	_cleanup_close_ int fd = -1;
	int k;

	info.since_usec = 0;
	{
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		info.since_usec = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	}
	k = lock_registry_grant(r, &info, &fd);
	if (k < 0) {
		lock_request_fail(req, VIRTD_ERROR_CANNOT_HOLD, "virtd could not create the lock in %s: %s",
				  r->dir, strerror(-k));
		return k;
	}
	if (!req->msg) {
		lock_answer_fn answer = req->answer;
		void *data = req->answer_data;
		int wfd = fd;

		/* Freed first: the callee may queue another request or reconcile. */
		fd = -1;
		request_free(req);
		answer(&info, wfd, VIRTD_ERROR_NONE, NULL, data);
		if (ret_info)
			*ret_info = info;
		return 0;
	}
	/* sd-bus sends a duplicate; ours closes when this returns. */
	k = sd_bus_reply_method_return(req->msg, "h", fd);
	if (k < 0)
		log_warning_errno(k, "Failed to hand lock %" PRIu32 " to %s (pid %d); its FIFO hangs up and it is dropped: %m",
				  info.id, info.who, (int)info.pid);
	request_free(req);
	if (ret_info)
		*ret_info = info;
	return 0;
}

void lock_request_fail(struct lock_request *req, enum virtd_error e, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int k;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!req->msg) {
		lock_answer_fn answer = req->answer;
		void *data = req->answer_data;
		struct lock_info info = req->info;

		request_free(req);
		answer(&info, -1, e, msg ? msg : "out of memory", data);
		return;
	}
	k = sd_bus_reply_method_errorf(req->msg, req->error_name(e), "%s", msg ? msg : "out of memory");
	if (k < 0)
		log_debug("Failed to answer the lock request of %s (pid %d): %s", req->info.who, (int)req->info.pid,
			  strerror(-k));
	request_free(req);
}
