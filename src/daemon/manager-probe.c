/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* manager-probe.c: virtctl probe through virtd: the foreign lock taken for it, the run in a child, the result later. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "manager-probe.h"
#include "observe.h"
#include "manager.h"

/*
 * One CPU's result as the child sends it: a whole record per write(), well
 * under PIPE_BUF, so the parent never sees half of one.
 */
struct probe_record {
	int32_t error;			/* 0, or the negative errno of the request */
	uint32_t cpu;
	char message[480];		/* with error: the kernel's extended ACK or virtd's words */
	struct virthw_probe p;
};

enum probe_phase {
	PROBE_WAITING,			/* the lock is held, KVM is being unloaded */
	PROBE_RUNNING,			/* the child measures */
	PROBE_RELEASING,		/* the lock is being let go; the answer waits for the policy */
};

struct manager_probe {
	struct manager *m;
	manager_probe **slot;		/* the owner's pointer to this run, cleared when it ends */
	probe_done_fn done;
	void *userdata;
	uint32_t cpu, iterations;
	struct lock_info lock;
	int lock_fd;
	pid_t child;
	int pipe_fd;
	sd_event_source *io, *timer;
	enum probe_phase phase;
	struct virthw_probe *results;
	size_t n_results;
	unsigned char buf[sizeof(struct probe_record)];
	size_t buf_len;
	enum virtd_error error;		/* set: the result is this error */
	char error_message[600];
};

static manager_probe *run_free(manager_probe *p)
{
	if (!p)
		return NULL;
	sd_event_source_disable_unref(p->io);
	sd_event_source_disable_unref(p->timer);
	if (p->pipe_fd >= 0)
		close(p->pipe_fd);
	if (p->lock_fd >= 0)
		close(p->lock_fd);
	if (p->child > 0)
		(void)waitpid(p->child, NULL, WNOHANG);
	free(p->results);
	free(p);
	return NULL;
}

/* The answer is sent once the policy is back; until then it is only decided. */
_printf_(3, 4)
static void decide_error(manager_probe *p, enum virtd_error e, const char *fmt, ...)
{
	va_list ap;

	if (p->error)
		return;	/* the first reason stands */
	p->error = e;
	va_start(ap, fmt);
	vsnprintf(p->error_message, sizeof(p->error_message), fmt, ap);
	va_end(ap);
}

static bool lock_present(const struct manager *m, uint32_t id)
{
	for (size_t i = 0; i < lock_registry_n_held(m->locks); i++)
		if (lock_registry_held(m->locks, i)->id == id)
			return true;
	return false;
}

/* Lets go of virtd's copy of the lock; the child's went with it.  The registry's hang-up brings the policy back. */
static void release(manager_probe *p)
{
	p->phase = PROBE_RELEASING;
	p->io = sd_event_source_disable_unref(p->io);
	p->timer = sd_event_source_disable_unref(p->timer);
	if (p->lock_fd >= 0) {
		close(p->lock_fd);
		p->lock_fd = -1;
	}
}

/* The run is over: the owner hears the result, and the run is freed. */
static void answer(manager_probe *p)
{
	struct manager *m = p->m;
	_cleanup_free_ char *json = NULL;

	*p->slot = NULL;
	if (!p->error && probe_json(p->cpu, p->iterations, p->results, p->n_results, &json) < 0)
		decide_error(p, VIRTD_ERROR_PROBE_FAILED, "out of memory writing the results");
	if (p->error)
		log_info("Probe for pid %d failed: %s; %s", (int)p->lock.pid, p->error_message, m->status_line);
	else
		log_info("Probe for pid %d done on %zu CPU%s; %s", (int)p->lock.pid, p->n_results,
			 p->n_results == 1 ? "" : "s", m->status_line);
	p->done(p->userdata, p->error, p->error ? p->error_message : json);
	run_free(p);
}

/* --- the child ------------------------------------------------------------------ */

static void send_record(int fd, const struct probe_record *rec)
{
	ssize_t n;

	do
		n = write(fd, rec, sizeof(*rec));
	while (n < 0 && errno == EINTR);
}

static void send_error(int fd, uint32_t cpu, int r, const char *ext, const char *hint)
{
	struct probe_record rec = { .error = r, .cpu = cpu };

	errno = -r;
	snprintf(rec.message, sizeof(rec.message), "%m%s%s%s%s", ext ? ": " : "", ext ? ext : "", hint ? "; " : "",
		 hint ? hint : "");
	send_record(fd, &rec);
}

static const char *probe_hint(int r)
{
	switch (r) {
	case -EOPNOTSUPP:
		return "the loaded virthw module has no PROBE command: load the virthw built with this virtd";
	case -EBUSY:
		return "VMX/SVM is on on that CPU (another hypervisor holds it, or another probe runs)";
	case -ENXIO:
		return "the CPU is offline";
	case -ENODEV:
		return "the CPU has neither VMX nor SVM";
	case -EACCES:
		return "the firmware has disabled VMX/SVM";
	}
	return NULL;
}

static int probe_one(hw_client *c, int fd, uint32_t cpu, uint32_t iterations)
{
	struct probe_record rec = { .cpu = cpu };
	int r;

	r = hw_client_probe(c, cpu, iterations, &rec.p);
	if (r < 0) {
		send_error(fd, cpu, r, hw_client_extack(c) ?: (r == -EBADMSG ? hw_client_parse_error(c) : NULL),
			   probe_hint(r));
		return r;
	}
	send_record(fd, &rec);
	return 0;
}

/* Runs in the forked child: its own netlink socket, nothing of the parent's loop or bus. */
__attribute__((noreturn))
static void probe_child(int fd, uint32_t cpu, uint32_t iterations)
{
	_cleanup_free_ struct virthw_cpu_state *cpus = NULL;
	hw_client *c = NULL;
	sigset_t none;
	size_t n = 0, done = 0;
	int r;

	/* virtd blocks the signals its loop handles; a stop must still end the child. */
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);

	/* The family's look-up would have the kernel load a removed virthw
	 * (its MODULE_ALIAS_GENL_FAMILY): ask only a module that is there. */
	if (module_sysfs_state("", "virthw") < 0) {
		send_error(fd, cpu == PROBE_CPU_ALL ? 0 : cpu, -ENODEV, NULL,
			   "the virthw module is not loaded (modprobe virthw, or restart virtd)");
		_exit(0);
	}
	r = hw_client_new(&c);
	if (r < 0) {
		send_error(fd, cpu == PROBE_CPU_ALL ? 0 : cpu, r, NULL, "cannot talk to the virthw module");
		_exit(0);
	}
	if (cpu != PROBE_CPU_ALL) {
		(void)probe_one(c, fd, cpu, iterations);
		_exit(0);
	}
	r = hw_client_dump_cpus(c, &cpus, &n);
	if (r < 0) {
		send_error(fd, 0, r, hw_client_extack(c), "cannot list the CPUs");
		_exit(0);
	}
	for (size_t i = 0; i < n; i++) {
		if (!cpus[i].online)
			continue;
		if (probe_one(c, fd, cpus[i].id, iterations) < 0)
			_exit(0);
		done++;
	}
	if (done == 0)
		send_error(fd, 0, -ENXIO, NULL, "no CPU is online");
	_exit(0);
}

/* --- the parent ----------------------------------------------------------------- */

static int on_record(manager_probe *p, const struct probe_record *rec)
{
	struct virthw_probe *n;

	if (rec->error < 0) {
		decide_error(p, VIRTD_ERROR_PROBE_FAILED, "CPU %" PRIu32 ": %s", rec->cpu, rec->message);
		return 0;
	}
	n = reallocarray(p->results, p->n_results + 1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	p->results = n;
	p->results[p->n_results++] = rec->p;
	log_info("Probe: CPU %" PRIu32 " round trip median %" PRIu64 " TSC cycles over %" PRIu32 " iterations",
		 rec->p.cpu, rec->p.round_trip.median, rec->p.iterations);
	return 0;
}

static int on_child_output(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	manager_probe *p = userdata;
	int status = 0;
	ssize_t n;

	(void)s;
	(void)revents;
	for (;;) {
		n = read(fd, p->buf + p->buf_len, sizeof(p->buf) - p->buf_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;	/* more later */
		if (n <= 0)
			break;		/* EOF: the child is done */
		p->buf_len += (size_t)n;
		if (p->buf_len == sizeof(p->buf)) {
			if (on_record(p, (const struct probe_record *)p->buf) < 0)
				decide_error(p, VIRTD_ERROR_PROBE_FAILED, "out of memory collecting the results");
			p->buf_len = 0;
		}
	}
	if (n < 0)
		decide_error(p, VIRTD_ERROR_PROBE_FAILED, "reading the probe's results failed: %s", strerror(errno));
	if (waitpid(p->child, &status, 0) == p->child) {
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			decide_error(p, VIRTD_ERROR_PROBE_FAILED, "the probe process ended abnormally (%s %d)",
				     WIFSIGNALED(status) ? "signal" : "status",
				     WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	}
	p->child = 0;
	if (!p->error && p->n_results == 0)
		decide_error(p, VIRTD_ERROR_PROBE_FAILED, "the probe returned no results");
	release(p);
	/* The hang-up of the lock's FIFO comes next and re-applies the policy; then manager_probe_check() answers. */
	if (!lock_present(p->m, p->lock.id))
		manager_probe_check(p);
	return 0;
}

static int start_child(manager_probe *p)
{
	int fds[2];
	pid_t pid;
	int r;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(fds[0]);
		close(fds[1]);
		return r;
	}
	if (pid == 0) {
		close(fds[0]);
		probe_child(fds[1], p->cpu, p->iterations);
	}
	close(fds[1]);
	p->child = pid;
	p->pipe_fd = fds[0];
	(void)fcntl(p->pipe_fd, F_SETFL, O_NONBLOCK);
	r = sd_event_add_io(p->m->event, &p->io, p->pipe_fd, EPOLLIN, on_child_output, p);
	if (r < 0)
		return r;	/* the child runs on; its pipe is read when the run is freed: never, it is killed */
	p->phase = PROBE_RUNNING;
	return 0;
}

static int on_settle_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	manager_probe *p = userdata;
	struct manager *m = p->m;

	(void)s;
	(void)usec;
	if (p->phase != PROBE_WAITING)
		return 0;
	decide_error(p, VIRTD_ERROR_TIMEOUT, "KVM did not get out of the way in %llu s: %s",
		     (unsigned long long)(PROBE_SETTLE_USEC / 1000000), m->reason[0] ? m->reason : m->status_line);
	release(p);
	return 0;
}

/* KVM is unloaded and blocked and every CPU reads off (or another holder has some). */
static bool kvm_out_of_the_way(const struct manager *m)
{
	const struct observed *obs = &m->kobs.obs;
	size_t online = 0, off = 0;

	if (!m->observed || strcmp(m->state, STATE_LOCKED) != 0 || m->acts.n > 0 || m->actions_failed[0])
		return false;
	for (size_t i = 0; i < obs->n_cpus; i++)
		if (obs->cpus[i].online) {
			online++;
			off += !obs->cpus[i].virt_on;
		}
	return online > 0 && (off == online || lock_registry_n_held(m->locks) > 1);
}

void manager_probe_check(manager_probe *p)
{
	struct manager *m = p ? p->m : NULL;
	char vms[400];
	int r;

	if (!p)
		return;
	switch (p->phase) {
	case PROBE_WAITING:
		if (kvm_out_of_the_way(m)) {
			char what[32];

			if (p->cpu == PROBE_CPU_ALL)
				snprintf(what, sizeof(what), "every online CPU");
			else
				snprintf(what, sizeof(what), "CPU %" PRIu32, p->cpu);
			log_info("Probe for pid %d: KVM is out of the way, measuring %s", (int)p->lock.pid, what);
			r = start_child(p);
			if (r < 0) {
				errno = -r;
				decide_error(p, VIRTD_ERROR_PROBE_FAILED, "cannot start the probe process: %m");
				release(p);
			}
		} else if (m->kobs.obs.n_vms > 0) {
			manager_describe_vms(m, vms, sizeof(vms));
			decide_error(p, VIRTD_ERROR_VMS_RUNNING, "%s", vms);
			release(p);
		} else if (strcmp(m->state, STATE_CANNOT_HOLD) == 0 || strcmp(m->state, STATE_MISMATCH) == 0) {
			decide_error(p, VIRTD_ERROR_CANNOT_HOLD, "KVM cannot be put out of the way: %s",
				     m->reason[0] ? m->reason : m->status_line);
			release(p);
		}
		break;
	case PROBE_RUNNING:
		break;
	case PROBE_RELEASING:
		if (!lock_present(m, p->lock.id))
			answer(p);
		break;
	}
}

_printf_(3, 4)
static int refuse(struct virtd_failure *fail, enum virtd_error e, const char *fmt, ...)
{
	va_list ap;

	fail->error = e;
	va_start(ap, fmt);
	vsnprintf(fail->message, sizeof(fail->message), fmt, ap);
	va_end(ap);
	return 0;
}

int manager_probe_start(struct manager *m, manager_probe **slot, uint32_t cpu, uint32_t iterations, pid_t caller,
			probe_done_fn done, void *userdata, struct virtd_failure *fail)
{
	manager_probe *p;
	struct timespec ts;
	char why[80];
	char vms[400];
	uint64_t now = 0;
	int r;

	if (*slot)
		return refuse(fail, VIRTD_ERROR_PROBE_BUSY, "a probe is running already (for pid %d)",
			      (int)(*slot)->lock.pid);
	if (!m->hw)
		return refuse(fail, VIRTD_ERROR_CANNOT_HOLD, "cannot probe: %s",
			      m->hw_error[0] ? m->hw_error : "the virthw module is not connected");
	if (iterations > VIRTHW_PROBE_MAX_ITERATIONS)
		return refuse(fail, VIRTD_ERROR_INVALID_ARGS, "at most %u iterations (0: the default, %u)",
			      VIRTHW_PROBE_MAX_ITERATIONS, VIRTHW_PROBE_DEFAULT_ITERATIONS);

	/* As AcquireForeign without waiting: refused at once, before anything is unloaded for nothing. */
	if (manager_vms_running(m, vms, sizeof(vms))) {
		log_info("Probe for pid %d refused: %s", (int)caller, vms);
		return refuse(fail, VIRTD_ERROR_VMS_RUNNING, "%s", vms);
	}

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	*p = (manager_probe) { .m = m, .slot = slot, .done = done, .userdata = userdata, .cpu = cpu,
			       .iterations = iterations, .lock_fd = -1, .pipe_fd = -1 };
	snprintf(p->lock.who, sizeof(p->lock.who), "virtctl-probe");
	if (cpu == PROBE_CPU_ALL)
		snprintf(why, sizeof(why), "virtctl probe: virthw's run path on every online CPU");
	else
		snprintf(why, sizeof(why), "virtctl probe: virthw's run path on CPU %" PRIu32, cpu);
	snprintf(p->lock.why, sizeof(p->lock.why), "%s", why);
	p->lock.pid = caller;
	p->lock.uid = 0;
	if (clock_gettime(CLOCK_REALTIME, &ts) == 0)
		p->lock.since_usec = (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
	r = lock_registry_grant(m->locks, &p->lock, &p->lock_fd);
	if (r < 0) {
		run_free(p);
		return refuse(fail, VIRTD_ERROR_CANNOT_HOLD, "virtd could not create its lock: %s", strerror(-r));
	}
	(void)sd_event_now(m->event, CLOCK_MONOTONIC, &now);
	r = sd_event_add_time(m->event, &p->timer, CLOCK_MONOTONIC, now + PROBE_SETTLE_USEC, 100000, on_settle_timeout, p);
	if (r < 0) {
		run_free(p);
		return r;
	}
	*slot = p;
	log_info("Probe requested by pid %d (%s, %" PRIu32 " iterations%s): taking the foreign-hypervisor lock",
		 (int)caller, why, iterations, iterations ? "" : " = the module's default");
	m->retries = 0;
	manager_reconcile(m, "probe requested");
	return 1;
}

void manager_probe_free(manager_probe *p)
{
	if (!p)
		return;
	*p->slot = NULL;
	p->done(p->userdata, VIRTD_ERROR_PROBE_FAILED, "virtd is stopping");
	if (p->child > 0)
		log_warning("virtd stops while the probe (pid %d) runs; its lock is released when it exits", (int)p->child);
	p->child = 0;
	run_free(p);
}
