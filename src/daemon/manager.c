/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manager.c: the daemon's state and its level-triggered reconcile loop:
 * observe, decide, act, verify, model (model.h), then tell the observer
 * (the bus layer) what changed.  Includes no front end.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "hv-detect.h"
#include "log.h"
#include "manager.h"

/*
 * After a transition the kernel may lag a little: KVM announces a VM's end
 * before it has put the module reference and turned virtualization off, so
 * an unload can fail with EBUSY and a CPU can still read "on".  Such
 * results are retried with a short backoff (50 ms doubling, about 12 s in
 * all) before they count; the timer is armed only while that lasts, so an
 * idle daemon never wakes up on its own.
 */
#define RETRY_MAX 8
#define RETRY_BASE_USEC 50000ULL

#define ROUNDS_MAX 4

/* How often CPUs held by an unknown hypervisor are looked at again. */
#define RECHECK_USEC (2ULL * 1000 * 1000)

static int connect_hw(struct manager *m, bool load);

static int on_hw_event(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct manager *m = userdata;
	struct virthw_event_msg ev;
	char what[96];
	int r;

	(void)s;
	(void)fd;
	(void)revents;
	r = hw_client_receive_event(m->hw, &ev);
	if (r < 0) {
		/* The module went away under the socket; a module uevent reconnects. */
		log_warning_errno(r, "Lost the virthw event socket: %m");
		m->hw_event_source = sd_event_source_unref(m->hw_event_source);
		m->hw = hw_client_free(m->hw);
		snprintf(m->hw_error, sizeof(m->hw_error), "lost the connection to the virthw module");
		manager_queue_reconcile(m, "virthw connection lost");
		return 0;
	}
	if (ev.kind == HW_EVENT_KIND_SETTINGS) {
		if (ev.settings.mode == timer_mode_to_virthw(m->cfg.timer_mode) &&
		    ev.settings.min_max_delay_ns == m->cfg.timer_min_max_delay_ns) {
			/* The echo of virtd's own push. */
			timer_status_module(&m->timer, &ev.settings, NULL);
			return 0;
		}
		log_warning("virthw's timer settings were changed behind virtd's back (mode %s, minimum maximum delay "
			    "%" PRIu64 " ns); setting them back to %s's", hw_timer_mode_to_string(ev.settings.mode),
			    ev.settings.min_max_delay_ns, m->config_path);
		m->settings_pushed = false;
		manager_queue_reconcile(m, "virthw settings changed");
		return 0;
	}
	snprintf(what, sizeof(what), "virthw: CPU %u %s", ev.cpu.id, hw_event_to_string(ev.event));
	manager_queue_reconcile(m, what);
	return 0;
}

/* The profiles whose VMs are a hypervisor's, not KVM's (their shared mode on this host), and the VMs they made. */
static void vm_match(struct manager *m, struct hv_vm_match *ret)
{
	hv_vm_match_fill(m->profiles, &m->cfg, vendor_from_module(m->observed ? m->kobs.vendor_module : NULL), NULL,
			 ret);
	ret->made = m->hv_made;
	ret->n_made = m->n_hv_made;
}

/* Writes the made VMs to hv_made_path ("TID PID START" lines), or removes it when there are none. */
static void hv_made_save(struct manager *m)
{
	char tmp[PATH_MAX + 8];
	FILE *f;

	if (!m->hv_made_path[0])
		return;
	if (m->n_hv_made == 0) {
		if (unlink(m->hv_made_path) < 0 && errno != ENOENT)
			log_warning_errno(-errno, "Cannot remove %s: %m", m->hv_made_path);
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s.new", m->hv_made_path);
	f = fopen(tmp, "we");
	if (!f) {
		log_warning_errno(-errno, "Cannot write %s (a restarted virtd would not know the hypervisors' VMs): %m",
				  tmp);
		return;
	}
	for (size_t i = 0; i < m->n_hv_made; i++)
		fprintf(f, "%d %d %" PRIu64 "\n", (int)m->hv_made[i].tid, (int)m->hv_made[i].pid, m->hv_made[i].start);
	if (fclose(f) != 0 || rename(tmp, m->hv_made_path) < 0) {
		log_warning_errno(-errno, "Cannot write %s: %m", m->hv_made_path);
		(void)unlink(tmp);
	}
}

/* Drops the made VMs whose process is gone (its VMs went with it); true when one was dropped. */
static bool hv_made_prune(struct manager *m)
{
	size_t k = 0;

	for (size_t i = 0; i < m->n_hv_made; i++)
		if (proc_start_time("", m->hv_made[i].pid) == m->hv_made[i].start)
			m->hv_made[k++] = m->hv_made[i];
	if (k == m->n_hv_made)
		return false;
	m->n_hv_made = k;
	return true;
}

/* The made VMs a virtd before this one recorded, those whose process still runs. */
static void hv_made_load(struct manager *m)
{
	_cleanup_(fclosep) FILE *f = NULL;
	int tid, pid;
	uint64_t start;

	f = fopen(m->hv_made_path, "re");
	if (!f)
		return;
	while (m->n_hv_made < MANAGER_HV_MADE_MAX && fscanf(f, "%d %d %" SCNu64, &tid, &pid, &start) == 3)
		if (tid > 0 && pid > 0 && start > 0)
			m->hv_made[m->n_hv_made++] = (struct hv_made_vm) { .tid = tid, .pid = pid, .start = start };
	if (hv_made_prune(m))
		hv_made_save(m);
	if (m->n_hv_made > 0)
		log_info("%zu VM%s made inside KVM by a hypervisor's process still run%s (%s)", m->n_hv_made,
			 m->n_hv_made == 1 ? "" : "s", m->n_hv_made == 1 ? "s" : "", m->hv_made_path);
}

/*
 * KVM's create uevent names the creating thread.  When that thread's
 * process is a shared-mode hypervisor's (a profile's process holding its
 * device open), the VM is the hypervisor's: VirtualBox's vboxdrv makes one
 * per VM process on Intel from 6.16 and keeps no descriptor of it, so the
 * /proc scan would never see it, while KVM's count does.  The destroy
 * uevent names the same thread.
 */
static void hv_made_track(struct manager *m, const struct kvm_uevent *u)
{
	struct hv_vm_match hm;
	char name[64];
	pid_t pid;
	uint64_t start;
	int h;

	if (!u || u->pid <= 0)
		return;
	if (u->kind == KVM_UEVENT_DESTROY) {
		for (size_t i = 0; i < m->n_hv_made; i++)
			if (m->hv_made[i].tid == u->pid) {
				memmove(&m->hv_made[i], &m->hv_made[i + 1], (m->n_hv_made - i - 1) * sizeof(m->hv_made[0]));
				m->n_hv_made--;
				hv_made_save(m);
				break;
			}
		return;
	}
	if (u->kind != KVM_UEVENT_CREATE)
		return;
	vm_match(m, &hm);
	h = vm_holder_hypervisor("", u->pid, &hm, name, sizeof(name));
	if (h < 0)
		return;
	pid = proc_tgid("", u->pid);
	start = pid > 0 ? proc_start_time("", pid) : 0;
	if (start == 0)
		return;	/* gone already, and its VM with it */
	/*
	 * One that holds its VMs' descriptors (it opened /dev/kvm itself) is
	 * seen by the scan.  Should KVM's descriptor not be installed yet when
	 * this is read, the record is harmless: the scan counts a process's
	 * descriptors or its records, whichever are more.
	 */
	if (proc_count_vm_fds("", pid) > 0)
		return;
	if (m->n_hv_made == MANAGER_HV_MADE_MAX) {
		log_warning("More than %d VMs made inside KVM by hypervisors: VM %s (pid %d) is not told apart from KVM's",
			    MANAGER_HV_MADE_MAX, name, (int)pid);
		return;
	}
	m->hv_made[m->n_hv_made++] = (struct hv_made_vm) { .tid = u->pid, .pid = pid, .start = start };
	hv_made_save(m);
	log_info("KVM VM made inside the kernel for %s's VM %s (pid %d, thread %d): %s's, not counted as a KVM VM",
		 hm.profiles->p[h].name, name, (int)pid, (int)u->pid, hm.profiles->p[h].name);
}

/*
 * Whether a VM's uevent can change nothing but the VM count: the policy
 * holds, its verdict and actions stay the same with KVM's new count, and no
 * CPU's promised state depends on it (boot, or first-vm past its first VM).
 * Then virtd takes the count from the uevent and skips the observation: no
 * /proc scan, no virthw dump while the VMM that sent it is still starting.
 * The VM list (PIDs, command lines) is read again when status asks for it.
 */
static bool vm_event_only_counts(struct manager *m, const struct kvm_uevent *u, unsigned *ret_n_vms)
{
	const struct lock_holders holders = lock_registry_holders(m->locks);
	unsigned pinned = m->kobs.obs.pinned_vm ? 1 : 0;
	struct actions acts;
	struct observed obs;
	struct hv_vm_match hm;
	char name[64];

	/* Anything else in flight (a queued reconcile, a failure, settling, a waiting lock): the full path. */
	if (!u || !u->has_count || !m->observed || m->why[0] || m->actions_failed[0] || m->retries > 0 ||
	    holders.n_waiting > 0 || strcmp(m->state, STATE_HOLDS) != 0 || m->acts.verdict != POLICY_HOLDS ||
	    u->count < pinned)
		return false;
	/*
	 * KVM's COUNT includes the VMs a shared-mode hypervisor makes inside
	 * KVM, which are not KVM VMs to virtd: while one is known, or when the
	 * uevent's creator is such a hypervisor's process (or unknown while a
	 * profile is in shared mode), only the /proc scan can tell the two apart.
	 */
	vm_match(m, &hm);
	if (m->kobs.n_hv_vms > 0 || m->n_hv_made > 0 || vm_holder_hypervisor("", u->pid, &hm, name, sizeof(name)) >= 0)
		return false;
	for (size_t i = 0; u->pid <= 0 && hm.profiles && i < hm.profiles->n && i < PROFILES_MAX; i++)
		if (hm.shared[i])
			return false;
	obs = m->kobs.obs;
	obs.n_vms = u->count - pinned;	/* KVM counts virtd's pinned VM too */
	memset(obs.vm_pids, 0, sizeof(obs.vm_pids));
	if (policy_decide(&m->cfg, &obs, &holders, &acts) < 0 || acts.n > 0 || acts.verdict != POLICY_HOLDS)
		return false;
	for (size_t i = 0; i < obs.n_cpus; i++)
		if (policy_cpu_expect(&m->cfg, &obs, &holders, &obs.cpus[i]) !=
		    policy_cpu_expect(&m->cfg, &m->kobs.obs, &holders, &obs.cpus[i]))
			return false;
	*ret_n_vms = obs.n_vms;
	return true;
}

/*
 * Module and /dev/kvm uevents are mostly the echo of virtd's own loads and
 * unloads, which the reconcile that made them has observed already (the
 * system calls are synchronous): when the modules and /dev/kvm are as last
 * observed and nothing else is in flight, another full observation would
 * only compete with whoever waits for the transition (a lock holder, a VMM).
 */
static bool module_event_is_echo(struct manager *m)
{
	const struct observed *o = &m->kobs.obs;
	const char *vendor = m->kobs.vendor_module;
	struct stat st;
	int kvm, v;

	if (!m->observed || m->why[0] || m->actions_failed[0] || m->retries > 0 || strcmp(m->state, STATE_PENDING) == 0)
		return false;
	kvm = module_sysfs_state("", "kvm");
	v = vendor ? module_sysfs_state("", vendor) : -ENOENT;
	/* Not loaded: the last observation said unloaded or missing, either is the same to a uevent. */
	if ((kvm >= 0 ? kvm : MODULE_UNLOADED) != (o->kvm == MODULE_MISSING ? MODULE_UNLOADED : (int)o->kvm))
		return false;
	if (vendor && (v >= 0 ? v : MODULE_UNLOADED) != (o->vendor == MODULE_MISSING ? MODULE_UNLOADED : (int)o->vendor))
		return false;
	return (stat("/dev/kvm", &st) == 0) == o->dev_kvm;
}

static void notify_changed(struct manager *m, const struct manager_published *old)
{
	for (size_t i = 0; i < m->n_observers; i++)
		if (m->observers[i].changed)
			m->observers[i].changed(m->observers_data[i], old);
}

static void notify_reconciled(struct manager *m)
{
	for (size_t i = 0; i < m->n_observers; i++)
		if (m->observers[i].reconciled)
			m->observers[i].reconciled(m->observers_data[i]);
}

static uint64_t realtime_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* The per-CPU model of the last observation, again (the VM count or the CPUs moved). */
static void update_cpus_model(struct manager *m)
{
	const struct lock_holders holders = lock_registry_holders(m->locks);

	model_cpus(&m->cfg, &m->kobs.obs, &holders, m->cpus_model);
}

static void set_vm_count(struct manager *m, unsigned n_vms, const char *what)
{
	struct manager_published old;

	if (n_vms == m->kobs.obs.n_vms)
		return;
	manager_publish(m, &old);
	old.n_locks = m->last_n_held;
	m->kobs.obs.n_vms = n_vms;
	memset(m->kobs.obs.vm_pids, 0, sizeof(m->kobs.obs.vm_pids));
	m->vms_stale = true;
	update_cpus_model(m);
	status_words(&m->cfg, m->state, m->reason, &m->kobs.obs, m->status_line, sizeof(m->status_line));
	log_debug("%s: %s", what, m->status_line);
	(void)sd_notifyf(false, "STATUS=%s", m->status_line);
	notify_changed(m, &old);
}

static void on_kvm_event(const char *what, enum kvm_event_source source, const struct kvm_uevent *vm, void *userdata)
{
	struct manager *m = userdata;
	unsigned n_vms;

	log_debug("uevent: %s", what);
	if (source == KVM_EVENT_VM)
		hv_made_track(m, vm);
	if (source == KVM_EVENT_VM && vm_event_only_counts(m, vm, &n_vms)) {
		set_vm_count(m, n_vms, what);
		return;
	}
	if ((source == KVM_EVENT_MODULE || source == KVM_EVENT_DEV) && module_event_is_echo(m)) {
		log_debug("%s: as last observed, nothing to do", what);
		return;
	}
	if (source == KVM_EVENT_MODULE || source == KVM_EVENT_DEV) {
		/*
		 * Mostly the echo of virtd's own loads and unloads.  They are
		 * worth a look, but must not restart a failing action: a load
		 * that fails emits add and remove uevents of its own, and would
		 * otherwise be retried for ever.
		 */
		manager_queue_reconcile_full(m, what, false);
		return;
	}
	if (source == KVM_EVENT_VIRTHW) {
		/* A reloaded module has a new family id: start over. */
		m->hw_event_source = sd_event_source_unref(m->hw_event_source);
		m->hw = hw_client_free(m->hw);
		(void)connect_hw(m, false);
	}
	manager_queue_reconcile(m, what);
}

static void explain_virthw_error(struct manager *m, int r, const char *load_error)
{
	if (load_error && *load_error)
		snprintf(m->hw_error, sizeof(m->hw_error), "virthw module unavailable: %s", load_error);
	else if (r == -ENOPKG && m->hw_load_error[0])
		/* Still what the start-up load said: more use than "not loaded". */
		snprintf(m->hw_error, sizeof(m->hw_error), "virthw module unavailable: %s", m->hw_load_error);
	else if (r == -ENOPKG)
		snprintf(m->hw_error, sizeof(m->hw_error), "virthw module is not loaded");
	else if (r == -EPROTO)
		snprintf(m->hw_error, sizeof(m->hw_error), "virthw module speaks a newer protocol than this virtd: update virtd");
	else {
		errno = -r;
		snprintf(m->hw_error, sizeof(m->hw_error), "cannot talk to the virthw module: %m");
	}
}

static int connect_hw(struct manager *m, bool load)
{
	char err[384] = "";
	int r, fd;

	if (m->hw)
		return 0;
	/*
	 * Looking the family up loads the module: the kernel asks modprobe for
	 * its alias when the family is missing.  Where virtd is not to load it
	 * (--no-load-virthw, or after start-up: removed by an administrator,
	 * it stays removed until it is loaded again), only a module that is
	 * there is asked.
	 */
	if ((!load || !m->load_virthw) && module_sysfs_state("", "virthw") < 0)
		r = -ENOPKG;
	else
		r = hw_client_new(&m->hw);
	if (r == -ENOPKG && load && m->load_virthw) {
		/* Per-CPU truth comes from the module; load it as modprobe would. */
		r = kvm_backend_load_module(m->backend, "virthw", NULL, err, sizeof(err));
		if (r < 0) {
			log_error("%s", err);
			snprintf(m->hw_load_error, sizeof(m->hw_load_error), "%s", err);
			explain_virthw_error(m, r, err);
			return r;
		}
		log_info("Loaded the virthw module");
		r = hw_client_new(&m->hw);
	}
	if (r < 0) {
		explain_virthw_error(m, r, NULL);
		if (load)
			log_error("%s; per-CPU state and verification are unavailable", m->hw_error);
		return r;
	}
	m->hw_error[0] = '\0';
	m->hw_load_error[0] = '\0';
	/* A (re)appeared module starts with its defaults: give it the configuration. */
	m->settings_pushed = false;

	r = hw_client_subscribe_full(m->hw, true);
	if (r < 0) {
		/* Status still works without it; CPU hotplug is then noticed on the next event. */
		log_warning_errno(r, "Failed to subscribe to virthw events, CPU hotplug goes unnoticed: %m");
		return 0;
	}
	fd = hw_client_event_fd(m->hw);
	r = sd_event_add_io(m->event, &m->hw_event_source, fd, EPOLLIN, on_hw_event, m);
	if (r < 0)
		log_warning_errno(r, "Failed to watch the virthw event socket: %m");
	return 0;
}

static void on_lock_released(const struct lock_info *l, void *userdata)
{
	struct manager *m = userdata;
	/* Exclusive holders: shared ones keep nothing blocked. */
	size_t left = lock_registry_holders(m->locks).n_held;
	char why[160];

	snprintf(why, sizeof(why), "foreign lock released by %s (pid %d)", l->who, (int)l->pid);
	/* At once, not deferred: the hang-up is the news, and KVM should be back soon after. */
	manager_reconcile(m, why);
	if (left > 0)
		log_info("Foreign lock %" PRIu32 " released by %s (pid %d); %zu holder%s remain, KVM stays blocked",
			 l->id, l->who, (int)l->pid, left, left == 1 ? "" : "s");
	else if (strcmp(m->state, STATE_HOLDS) == 0)
		log_info("Foreign lock released by %s (pid %d); policy %s re-applied", l->who, (int)l->pid,
			 virt_policy_to_string(m->cfg.policy));
	else
		log_info("Foreign lock released by %s (pid %d); %s", l->who, (int)l->pid, m->status_line);
}

static void on_lock_timeout(struct lock_request *req, void *userdata)
{
	struct manager *m = userdata;
	char vms[400];

	manager_describe_vms(m, vms, sizeof(vms));
	if (!(req->flags & LOCK_FLAG_WAIT)) {
		log_warning("Foreign lock for %s (pid %d) refused: virtualization did not get free in time: %s",
			    req->info.who, (int)req->info.pid, m->reason[0] ? m->reason : m->status_line);
		lock_request_fail(req, VIRTD_ERROR_CANNOT_HOLD, "virtualization did not get free in time: %s",
				  m->reason[0] ? m->reason : m->status_line);
	} else if (m->kobs.obs.n_vms > 0 || m->kobs.n_hv_vms > 0) {
		log_info("Foreign lock for %s (pid %d) timed out after %.1f s: %s", req->info.who, (int)req->info.pid,
			 (double)req->timeout_usec / 1e6, vms);
		lock_request_fail(req, VIRTD_ERROR_TIMEOUT, "waited %.1f s, %s", (double)req->timeout_usec / 1e6, vms);
	} else {
		log_info("Foreign lock for %s (pid %d) timed out after %.1f s: %s", req->info.who, (int)req->info.pid,
			 (double)req->timeout_usec / 1e6, m->reason[0] ? m->reason : m->status_line);
		lock_request_fail(req, VIRTD_ERROR_TIMEOUT, "waited %.1f s: %s", (double)req->timeout_usec / 1e6,
				  m->reason[0] ? m->reason : m->status_line);
	}
	manager_reconcile(m, "foreign lock request timed out");
}

static void on_lock_withdrawn(const struct lock_info *l, void *userdata)
{
	struct manager *m = userdata;
	char why[160];

	snprintf(why, sizeof(why), "foreign lock request of %s (pid %d) withdrawn: the caller left the bus", l->who,
		 (int)l->pid);
	log_info("%s", why);
	manager_reconcile(m, why);
}

static int on_reconcile(sd_event_source *s, void *userdata)
{
	struct manager *m = userdata;

	(void)s;
	/* After a failed action, only news or the retry timer may try again. */
	m->hold_actions = m->actions_failed[0] && !m->queued_news;
	m->queued_news = false;
	manager_reconcile(m, m->why[0] ? m->why : "event");
	m->hold_actions = false;
	m->why[0] = '\0';
	return 0;
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct manager *m = userdata;

	(void)s;
	(void)usec;
	manager_reconcile(m, "retry");
	return 0;
}

int manager_new(sd_event *e, const char *config_path, bool load_virthw, struct manager **ret)
{
	_cleanup_(manager_freep) struct manager *m = NULL;
	int r;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->event = sd_event_ref(e);
	m->counters.start_usec = realtime_usec();
	m->load_virthw = load_virthw;
	m->state = STATE_STARTING;
	m->applied_policy = "";
	config_init_defaults(&m->cfg);
	m->profile_dirs[0] = VIRTD_PROFILES_DIR;
	m->profile_dirs[1] = PROFILES_ETC_DIR;
	m->config_path = strdup(config_path);
	if (!m->config_path)
		return -ENOMEM;
	r = kvm_backend_new(&m->backend);
	if (r < 0)
		return r;
	{
		/* Next to the lock directory: /run/virtd/hv-vms. */
		const char *ld = getenv("VIRTD_LOCK_DIR") ?: LOCK_DIR, *slash = strrchr(ld, '/');

		if (slash && slash > ld)
			snprintf(m->hv_made_path, sizeof(m->hv_made_path), "%.*s/hv-vms", (int)(slash - ld), ld);
		hv_made_load(m);
	}
	r = lock_registry_new(e, getenv("VIRTD_LOCK_DIR") ?: LOCK_DIR,
			      &(const struct lock_callbacks) {
				      .released = on_lock_released,
				      .timeout = on_lock_timeout,
				      .withdrawn = on_lock_withdrawn,
			      }, m, &m->locks);
	if (r < 0)
		return r;
	r = sd_event_add_defer(e, &m->reconcile_source, on_reconcile, m);
	if (r < 0)
		return log_error_errno(r, "Failed to set up the reconcile event source: %m");
	(void)sd_event_source_set_enabled(m->reconcile_source, SD_EVENT_OFF);
	(void)sd_event_source_set_description(m->reconcile_source, "reconcile");
	*ret = TAKE_PTR(m);
	return 0;
}

struct manager *manager_free(struct manager *m)
{
	if (!m)
		return NULL;
	/* The front end has told its callers that virtd stops (bus_manager_free()), so nobody waits here. */
	handoff_free(m->handoff);
	lock_registry_free(m->locks);
	sd_event_source_unref(m->reconcile_source);
	sd_event_source_unref(m->retry_source);
	sd_event_source_unref(m->recheck_source);
	sd_event_source_unref(m->hw_event_source);
	kvm_events_free(m->events);
	hw_client_free(m->hw);
	kvm_backend_free(m->backend);
	kvm_observation_done(&m->kobs);
	free(m->cpus_model);
	sd_event_unref(m->event);
	free(m->config_path);
	free(m->profiles);
	free(m);
	return NULL;
}

int manager_load_config(struct manager *m, bool initial, char **ret_errors)
{
	struct config_diag diags = CONFIG_DIAG_INIT;
	struct config c = m->cfg;
	int r;

	_cleanup_free_ struct hv_profiles *ps = calloc(1, sizeof(*ps));

	if (!ps)
		return -ENOMEM;
	r = config_load(m->config_path, &c, &diags);
	if (r >= 0)
		r = profiles_load(m->profile_dirs, ELEMENTSOF(m->profile_dirs), ps, &diags);
	/* A forced mode for a profile that does not exist is a typo, not a setting. */
	for (size_t i = 0; r >= 0 && i < c.n_hv_modes; i++) {
		size_t k;

		for (k = 0; k < ps->n && strcasecmp(ps->p[k].name, c.hv_modes[i].name) != 0; k++)
			;
		if (k == ps->n)
			config_diag_add(&diags, CONFIG_WARNING, m->config_path, 0, "Mode.%s= in [Hypervisor]: there is no "
					"profile %s (in %s or %s), ignoring it", c.hv_modes[i].name, c.hv_modes[i].name,
					m->profile_dirs[0], m->profile_dirs[1]);
	}
	for (size_t i = 0; i < diags.n_entries; i++) {
		if (diags.entries[i].severity == CONFIG_WARNING)
			log_warning("%s", diags.entries[i].message);
		else
			log_error("%s", diags.entries[i].message);
	}
	if (r < 0) {
		if (ret_errors) {
			char *s = NULL;
			size_t len = 0;
			FILE *f = open_memstream(&s, &len);

			if (f) {
				size_t n = 0;

				for (size_t i = 0; i < diags.n_entries; i++)
					if (diags.entries[i].severity == CONFIG_ERROR)
						fprintf(f, "%s%s", n++ ? "\n" : "", diags.entries[i].message);
				if (n == 0) {
					errno = -r;
					fprintf(f, "%s: %m", m->config_path);
				}
				if (diags.n_suppressed)
					fprintf(f, "\n(%zu more messages not shown)", diags.n_suppressed);
				fclose(f);
			}
			*ret_errors = s;
		}
		config_diag_done(&diags);
		if (initial)
			return log_error_errno(r, "Refusing to start with an invalid configuration (%s)", m->config_path);
		return log_error_errno(r, "Reload refused, keeping the running configuration (policy %s): %s is invalid",
				       virt_policy_to_string(m->cfg.policy), m->config_path);
	}
	config_diag_done(&diags);

	if (initial)
		log_info("Configuration %s: policy %s, preemption timer %s", m->config_path,
			 virt_policy_to_string(c.policy), timer_mode_to_string(c.timer_mode));
	else if (c.policy != m->cfg.policy)
		log_info("Configuration reloaded: policy %s -> %s", virt_policy_to_string(m->cfg.policy),
			 virt_policy_to_string(c.policy));
	else
		log_info("Configuration reloaded: policy %s unchanged", virt_policy_to_string(c.policy));
	if (!initial && (c.timer_mode != m->cfg.timer_mode || c.timer_min_max_delay_ns != m->cfg.timer_min_max_delay_ns))
		log_info("Configuration reloaded: preemption timer mode %s, minimum maximum delay %" PRIu64 " ns -> "
			 "mode %s, %" PRIu64 " ns", timer_mode_to_string(m->cfg.timer_mode), m->cfg.timer_min_max_delay_ns,
			 timer_mode_to_string(c.timer_mode), c.timer_min_max_delay_ns);
	m->cfg = c;
	free(m->profiles);
	m->profiles = TAKE_PTR(ps);
	/* Pushed on every start and reload, so virthw never runs on stale settings. */
	m->settings_pushed = false;
	return 0;
}

int manager_start(struct manager *m)
{
	int r;

	(void)connect_hw(m, true);
	/* Before the first reconcile: a lock that outlived the last virtd keeps KVM out. */
	r = lock_registry_adopt(m->locks);
	if (r < 0)
		log_warning_errno(r, "Locks from before this start cannot be adopted; KVM may come back under them: %m");
	r = kvm_events_new(m->event, on_kvm_event, m, &m->events);
	if (r < 0)
		return r;
	/* Last: an open it intercepts takes the lock through the reconcile, which needs the rest. */
	r = handoff_new(m, &m->handoff);
	if (r < 0)
		return r;
	handoff_configure(m->handoff);
	return 0;
}

int manager_add_observer(struct manager *m, const struct manager_observer *o, void *userdata)
{
	if (m->n_observers >= MANAGER_OBSERVERS_MAX)
		return -ENOSPC;
	m->observers[m->n_observers] = *o;
	m->observers_data[m->n_observers] = userdata;
	m->n_observers++;
	return 0;
}

void manager_remove_observer(struct manager *m, void *userdata)
{
	size_t k = 0;

	for (size_t i = 0; i < m->n_observers; i++)
		if (m->observers_data[i] != userdata) {
			m->observers[k] = m->observers[i];
			m->observers_data[k] = m->observers_data[i];
			k++;
		}
	m->n_observers = k;
}

void manager_publish(const struct manager *m, struct manager_published *ret)
{
	*ret = (struct manager_published) {
		.policy = m->cfg.policy,
		.state = m->state,
		.applied_policy = m->applied_policy,
		.n_vms = m->kobs.obs.n_vms,
		.pinned_vm = m->kobs.obs.pinned_vm,
		.n_locks = (unsigned)lock_registry_n_held(m->locks),
	};
	snprintf(ret->reason, sizeof(ret->reason), "%s", m->reason);
}

int manager_reload(struct manager *m, char **ret_errors)
{
	struct manager_published old;
	enum virt_policy policy = m->cfg.policy;
	int r;

	r = manager_load_config(m, false, ret_errors);
	if (r < 0) {
		m->counters.reloads_failed++;
		/* Nothing published moved, but the counters did: the observers may look. */
		manager_publish(m, &old);
		notify_changed(m, &old);
		return r;
	}
	m->counters.reloads++;
	m->retries = 0;
	if (m->handoff)
		handoff_configure(m->handoff);
	manager_reconcile(m, "configuration reloaded");
	/* The reconcile told what it changed; the policy itself changed before it. */
	manager_publish(m, &old);
	if (old.policy != policy) {
		old.policy = policy;
		notify_changed(m, &old);
	}
	return 0;
}

void manager_queue_reconcile_full(struct manager *m, const char *why, bool news)
{
	/* Several events before the loop gets here: the first names the cause. */
	if (!m->why[0])
		snprintf(m->why, sizeof(m->why), "%s", why);
	if (news) {
		/* Something new happened: a settling transition gets its full retry budget again. */
		m->retries = 0;
		m->queued_news = true;
	}
	(void)sd_event_source_set_enabled(m->reconcile_source, SD_EVENT_ONESHOT);
}

void manager_queue_reconcile(struct manager *m, const char *why)
{
	manager_queue_reconcile_full(m, why, true);
}

static void arm_retry(struct manager *m)
{
	uint64_t now = 0, delay = RETRY_BASE_USEC << m->retries;
	int r;

	m->retries++;
	(void)sd_event_now(m->event, CLOCK_MONOTONIC, &now);
	if (m->retry_source) {
		(void)sd_event_source_set_time(m->retry_source, now + delay);
		(void)sd_event_source_set_enabled(m->retry_source, SD_EVENT_ONESHOT);
		return;
	}
	r = sd_event_add_time(m->event, &m->retry_source, CLOCK_MONOTONIC, now + delay, 10000, on_retry, m);
	if (r < 0)
		log_warning_errno(r, "Failed to arm the retry timer: %m");
}

static int on_recheck(sd_event_source *s, uint64_t usec, void *userdata)
{
	(void)s;
	(void)usec;
	manager_queue_reconcile_full(userdata, "recheck: CPUs held by an unknown hypervisor", false);
	return 0;
}

/*
 * An unknown hypervisor sends no event when it lets go of the CPUs: look
 * again now and then while one holds them, and only then.
 */
static void arm_recheck(struct manager *m, bool on)
{
	uint64_t now = 0;

	if (!on) {
		if (m->recheck_source)
			(void)sd_event_source_set_enabled(m->recheck_source, SD_EVENT_OFF);
		return;
	}
	(void)sd_event_now(m->event, CLOCK_MONOTONIC, &now);
	if (m->recheck_source) {
		(void)sd_event_source_set_time(m->recheck_source, now + RECHECK_USEC);
		(void)sd_event_source_set_enabled(m->recheck_source, SD_EVENT_ONESHOT);
	} else if (sd_event_add_time(m->event, &m->recheck_source, CLOCK_MONOTONIC, now + RECHECK_USEC, 100000,
				     on_recheck, m) < 0)
		log_warning("Failed to arm the recheck timer; an unknown hypervisor's exit goes unnoticed until the next event");
}

static void disarm_retry(struct manager *m)
{
	if (m->retry_source)
		(void)sd_event_source_set_enabled(m->retry_source, SD_EVENT_OFF);
}

/* Online CPUs with virtualization on that neither KVM, TDX, virtd's VM nor a lock holder accounts for; how many. */
static size_t cpus_unexplained(const struct observed *obs, const struct cpu_model *model, char *buf, size_t size)
{
	size_t n = 0, o = 0;

	if (size > 0)
		buf[0] = '\0';
	for (size_t i = 0; i < obs->n_cpus; i++) {
		const char *owner = model[i].owner;

		if (!owner || strcmp(owner, "unknown") != 0)
			continue;
		n++;
		if (o < size)
			o += (size_t)snprintf(buf + o, size - o, "%s%u", o ? ", " : "", obs->cpus[i].id);
	}
	return n;
}

void manager_refresh_vms(struct manager *m)
{
	struct vm_owner *v = NULL;
	size_t n = 0;
	unsigned total, n_hv = 0;
	struct hv_vm_match hm;
	size_t np = 0;

	vm_match(m, &hm);
	if (!m->vms_stale || scan_vms("", getpid(), &hm, &v, &n, &total) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		n_hv += v[i].hv[0] ? v[i].n_vms : 0;
	/* A hypervisor's VM the uevent's count took for KVM's: the count is wrong, look properly. */
	if (n_hv != m->kobs.n_hv_vms)
		manager_queue_reconcile_full(m, "a shared-mode hypervisor's VMs changed", false);
	vm_owners_free(m->kobs.vms, m->kobs.n_vm_owners);
	m->kobs.vms = v;
	m->kobs.n_vm_owners = n;
	memset(m->kobs.obs.vm_pids, 0, sizeof(m->kobs.obs.vm_pids));
	for (size_t i = 0; i < n; i++)
		if (!v[i].hv[0] && np < POLICY_MAX_PIDS)
			m->kobs.obs.vm_pids[np++] = v[i].pid;
	m->vms_stale = false;
}

void manager_describe_vms(struct manager *m, char *buf, size_t size)
{
	manager_refresh_vms(m);
	vm_owners_describe(m->kobs.obs.n_vms, m->kobs.vms, m->kobs.n_vm_owners, buf, size);
}

bool manager_vms_running(struct manager *m, char *buf, size_t size)
{
	struct hv_vm_match hm;

	vm_match(m, &hm);
	return vms_running("", getpid(), &hm, buf, size);
}

/* Every online CPU reads off: what the first holder is promised. */
static bool cpus_all_off(const struct observed *obs, size_t *ret_online, size_t *ret_off)
{
	size_t online = 0, off = 0;

	for (size_t i = 0; i < obs->n_cpus; i++)
		if (obs->cpus[i].online) {
			online++;
			off += !obs->cpus[i].virt_on;
		}
	*ret_online = online;
	*ret_off = off;
	return online > 0 && off == online;
}

/* "held by virtualbox (pid 1234) and 1 more" */
static void describe_holders(const lock_registry *r, char *buf, size_t size)
{
	const struct lock_info *l = lock_registry_held(r, 0);
	size_t n = lock_registry_n_held(r);

	if (!l) {
		snprintf(buf, size, "held by nobody");
		return;
	}
	if (n > 1)
		snprintf(buf, size, "held by %s (pid %d) and %zu more", l->who, (int)l->pid, n - 1);
	else
		snprintf(buf, size, "held by %s (pid %d)", l->who, (int)l->pid);
}

static void join_plan(const struct actions *acts, const char *vendor, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < acts->n && o < size; i++) {
		char d[160];

		action_describe(&acts->list[i], vendor, d, sizeof(d));
		o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? "; " : "", d);
	}
}

/*
 * virthw gets the configuration's timer settings whenever it may not have
 * them (start, reload, a module that appeared); its reply is its decision,
 * which must be virtd's.  Then the journal hears what changed.
 */
static void timer_apply(struct manager *m, struct timer_status *ts)
{
	bool reloaded = m->timer.has_param && ts->has_param && m->timer.param != ts->param;
	char line[sizeof(m->timer_line)];
	int r;

	if (!m->hw) {
		timer_status_module(ts, NULL, m->hw_error[0] ? m->hw_error : "virthw is not connected");
	} else if (!m->settings_pushed) {
		struct virthw_settings reply;

		r = hw_client_set_settings(m->hw, timer_mode_to_virthw(m->cfg.timer_mode), m->cfg.timer_min_max_delay_ns,
					   &reply);
		m->settings_pushed = true;
		if (r < 0) {
			const char *ext = hw_client_extack(m->hw);
			char err[256];

			errno = -r;
			snprintf(err, sizeof(err), "virthw refused the timer settings: %m%s%s%s",
				 ext ? " (" : "", ext ? ext : "", ext ? ")" : "");
			if (r == -EOPNOTSUPP || r == -EINVAL)
				snprintf(err + strlen(err), sizeof(err) - strlen(err),
					 "; is the loaded virthw older than virtd?");
			log_error("%s", err);
			timer_status_module(ts, NULL, err);
		} else {
			timer_status_module(ts, &reply, NULL);
			log_debug("virthw settings: mode %s, minimum maximum delay %" PRIu64 " ns; its decision: %s (%s)",
				  hw_timer_mode_to_string(reply.mode), reply.min_max_delay_ns, reply.timer_use ? "on" : "off",
				  hw_timer_reason_to_string(reply.reason));
		}
	} else {
		/* The decision may have moved with the capabilities: compare again. */
		timer_status_module(ts, ts->has_module ? &ts->module : NULL, ts->module_error);
	}

	if (reloaded && ts->decided)
		snprintf(line, sizeof(line), "preemption timer: %s (%s); kvm_intel reloaded with preemption_timer=%c",
			 ts->decision.use ? "on" : "off", ts->reason_text, ts->param ? 'Y' : 'N');
	else
		timer_status_words(ts, line, sizeof(line));
	if (strcmp(line, m->timer_line) != 0) {
		if (ts->module_mismatch || ts->decision.warning || strcmp(ts->kvm_state, TIMER_KVM_CANNOT_APPLY) == 0)
			log_warning("%s", line);
		else
			log_info("%s", line);
		/* The reload is news once; the steady state is what later lines compare with. */
		if (reloaded)
			timer_status_words(ts, line, sizeof(line));
		snprintf(m->timer_line, sizeof(m->timer_line), "%s", line);
	}
	if (ts->module_mismatch && !m->timer.module_mismatch)
		log_warning("virthw decided the preemption timer %s (%s), virtd %s (%s): check that virthw and virtd "
			    "are the same version", ts->module.timer_use ? "on" : "off",
			    hw_timer_reason_to_string(ts->module.reason), ts->decision.use ? "on" : "off",
			    timer_reason_to_string(ts->decision.reason));
	m->timer = *ts;
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* One reconcile pass's working state, from the first observation to what is published. */
struct pass {
	struct lock_holders holders;	/* as the pass began: the engine's input */
	struct kvm_observation k;
	struct cpu_model *cpus;		/* the model of k.obs.cpus */
	struct actions acts;
	struct policy_check check;
	struct timer_status ts;
	char failed[sizeof(((struct manager *)NULL)->actions_failed)];
	bool busy;			/* the failed action met a module in use */
	bool retry, settling;
	char settle_reason[sizeof(((struct manager *)NULL)->reason)];
	/* Where the time goes. */
	uint64_t t_start, t_observe, t_act;
	unsigned n_observe, n_act;
};

static int pass_observe(struct manager *m, struct pass *p, bool reuse_last)
{
	struct observe_sources src = {
		.root = "",
		.module_file = kvm_backend_module_file,
		.module_file_data = m->backend,
		.hw = m->hw,
		.hw_error = m->hw_error,
		.self = getpid(),
		.pinned_vm = kvm_backend_has_pinned_vm(m->backend),
		.profiles = m->profiles,
		.cfg = &m->cfg,
	};
	uint64_t t;
	int r;

	if (hv_made_prune(m))
		hv_made_save(m);
	src.made = m->hv_made;
	src.n_made = m->n_hv_made;
	kvm_observation_done(&p->k);
	if (reuse_last) {
		p->k = m->kobs;
		m->kobs = (struct kvm_observation) {};
		return 0;
	}
	t = now_usec();
	r = observe(&src, &p->k);
	p->t_observe += now_usec() - t;
	p->n_observe++;
	return r;
}

/* Applies the actions in order; the first failure ends the list (the next reconcile derives the rest). */
static void pass_apply(struct manager *m, struct pass *p, const char *policy)
{
	for (size_t i = 0; i < p->acts.n; i++) {
		char err[512];
		uint64_t t = now_usec();
		int r;

		r = kvm_backend_apply(m->backend, &p->acts.list[i], p->acts.vendor_module, policy, err, sizeof(err));
		p->t_act += now_usec() - t;
		p->n_act++;
		if (r < 0)
			m->counters.actions_failed++;
		else
			m->counters.actions++;
		if (r < 0) {
			snprintf(p->failed, sizeof(p->failed), "%s", err);
			log_error("%s", err);
			p->busy = r == -EBUSY || r == -EAGAIN;
			return;
		}
	}
}

/*
 * Observes, decides and acts until the engine wants nothing more, an
 * action failed, actions are held back, or ROUNDS_MAX rounds did not
 * converge.  Negative: nothing could be observed or decided (logged).
 */
static int pass_act(struct manager *m, struct pass *p, const char *why, bool reuse)
{
	const char *policy = virt_policy_to_string(m->cfg.policy);
	char plan[1024];
	int r;

	for (unsigned round = 0;; round++) {
		r = pass_observe(m, p, round == 0 && reuse && m->observed && !m->vms_stale);
		if (r < 0)
			return log_error_errno(r, "Failed to observe the KVM state: %m");
		timer_status_fill(&m->cfg, &p->k, NULL, &p->ts);
		timer_status_observed(&p->ts, &p->k);
		r = policy_decide(&m->cfg, &p->k.obs, &p->holders, &p->acts);
		if (r < 0)
			return log_error_errno(r, "Policy engine refused the observed state: %m");
		if (p->acts.n == 0 || p->failed[0])
			return 0;
		if (m->hold_actions) {
			/* Keep the last failure on show until the retry timer or news. */
			snprintf(p->failed, sizeof(p->failed), "%s", m->actions_failed);
			return 0;
		}
		join_plan(&p->acts, p->acts.vendor_module, plan, sizeof(plan));
		if (round >= ROUNDS_MAX) {
			snprintf(p->failed, sizeof(p->failed), "actions did not converge after %u rounds, still wanted: %.400s",
				 ROUNDS_MAX, plan);
			log_error("%s", p->failed);
			return 0;
		}
		log_info("Policy %s (%s): %s", policy, why, plan);
		pass_apply(m, p, policy);
	}
}

/* The verdict and the verification as State and Reason; a failure or a transition still settling as such. */
static void pass_judge(struct manager *m, struct pass *p)
{
	const struct observed *obs = &p->k.obs;

	(void)policy_verify(&m->cfg, obs, &p->holders, &p->check);
	m->counters.last_verify_usec = realtime_usec();
	m->state = model_state(p->acts.verdict, &p->check);
	if (p->acts.verdict == POLICY_CANNOT_HOLD && obs->n_cpus == 0 && p->k.hw_error[0])
		snprintf(m->reason, sizeof(m->reason), "%s", p->k.hw_error);
	else if (p->acts.verdict != POLICY_HOLDS)
		snprintf(m->reason, sizeof(m->reason), "%s", p->acts.reason);
	else if (p->check.n_mismatched > 0)
		snprintf(m->reason, sizeof(m->reason), "%s", p->check.message);
	else
		m->reason[0] = '\0';

	if (p->failed[0]) {
		p->retry = true;
		m->state = p->busy ? STATE_PENDING : STATE_CANNOT_HOLD;
		snprintf(m->reason, sizeof(m->reason), "%s", p->failed);
	} else if (strcmp(m->state, STATE_MISMATCH) == 0) {
		p->settling = true;
		snprintf(p->settle_reason, sizeof(p->settle_reason), "waiting for the CPUs to follow: %s", p->check.message);
	} else if (p->acts.verdict == POLICY_CANNOT_HOLD && (obs->vendor == MODULE_LOADED || obs->vendor == MODULE_BUILTIN) &&
		   cpus_unexplained(obs, p->cpus, NULL, 0) > 0) {
		/*
		 * KVM's destroy uevent comes before it turns the CPUs off:
		 * CPUs on with nothing to explain them look like a foreign
		 * hypervisor until then.
		 */
		char cpus[96];

		p->settling = true;
		(void)cpus_unexplained(obs, p->cpus, cpus, sizeof(cpus));
		snprintf(p->settle_reason, sizeof(p->settle_reason),
			 "virtualization is on on CPU %s, owned by neither KVM, virtd nor a lock holder: "
			 "waiting for KVM to finish turning it off after the last VM, else an unknown hypervisor holds it",
			 cpus);
	}
}

/* A failure or a settling transition arms the retry timer, while the budget lasts. */
static void pass_schedule_retry(struct manager *m, struct pass *p)
{
	if ((p->retry || p->settling) && m->retries < RETRY_MAX) {
		if (p->settling) {
			/* Not yet a verdict: the CPUs may still be following. */
			m->state = STATE_PENDING;
			snprintf(m->reason, sizeof(m->reason), "%s", p->settle_reason);
		}
		/* A reconcile that only looked leaves the armed timer be. */
		if (!m->hold_actions)
			arm_retry(m);
	} else if (m->hold_actions) {
		/* Retries used up: the failure stands until news or a reload. */
	} else {
		if (!p->retry && !p->settling)
			m->retries = 0;
		disarm_retry(m);
	}
	snprintf(m->actions_failed, sizeof(m->actions_failed), "%s", p->failed);
}

/* A held lock suspends the policy; CPUs nobody owns are named (once per transition) and looked at again. */
static void pass_judge_owners(struct manager *m, struct pass *p)
{
	char unknown[sizeof(m->unknown_cpus)];
	size_t n_unknown;

	/* The policy is suspended while a lock is held; that KVM is out is what was promised. */
	if (p->holders.n_held > 0 && strcmp(m->state, STATE_HOLDS) == 0) {
		char h[200];

		describe_holders(m->locks, h, sizeof(h));
		m->state = STATE_LOCKED;
		snprintf(m->reason, sizeof(m->reason), "%s: KVM is unloaded and blocked until the last holder releases", h);
	}

	/* Once per transition, not per reconcile; never while KVM may still be turning CPUs off. */
	n_unknown = cpus_unexplained(&p->k.obs, p->cpus, unknown, sizeof(unknown));
	if (n_unknown > 0 && strcmp(m->state, STATE_CANNOT_HOLD) == 0 && !p->failed[0]) {
		char old[sizeof(m->reason)];

		memcpy(old, m->reason, sizeof(old));
		snprintf(m->reason, sizeof(m->reason), "an unknown hypervisor holds virtualization on CPU %.60s: %.360s",
			 unknown, old);
	}
	if (!(p->settling && strcmp(m->state, STATE_PENDING) == 0) && strcmp(unknown, m->unknown_cpus) != 0) {
		if (n_unknown > 0)
			log_warning("Virtualization is on on CPU %s, but neither KVM, virtd nor a lock holder owns it: "
				    "an unknown hypervisor runs without virtd's lock", unknown);
		else
			log_info("No CPU is held by an unknown hypervisor any more");
		snprintf(m->unknown_cpus, sizeof(m->unknown_cpus), "%s", unknown);
	}
	arm_recheck(m, n_unknown > 0);
}

/* The pass's results become the manager's: what status and the bus show. */
static void pass_store(struct manager *m, struct pass *p)
{
	timer_status_fill(&m->cfg, &p->k, p->failed[0] ? p->failed : NULL, &p->ts);
	timer_status_observed(&p->ts, &p->k);
	timer_apply(m, &p->ts);

	kvm_observation_done(&m->kobs);
	m->kobs = p->k;
	p->k = (struct kvm_observation) {};
	free(m->cpus_model);
	m->cpus_model = TAKE_PTR(p->cpus);
	m->observed = true;
	m->vms_stale = false;
	m->acts = p->acts;
	m->verify = p->check;
	m->applied_policy = model_applied_policy(&m->cfg, &m->kobs.obs,
						 strcmp(m->state, STATE_LOCKED) == 0 ? POLICY_PENDING : p->acts.verdict);
	m->last_n_held = p->holders.n_held;
	/* An idle daemon gives back the heap it used. */
	(void)malloc_trim(0);
}

/* The journal, STATUS= and the observer hear what changed since OLD. */
static void pass_publish(struct manager *m, const struct pass *p, const struct manager_published *old, const char *why)
{
	bool changed;

	status_words(&m->cfg, m->state, m->reason, &m->kobs.obs, m->status_line, sizeof(m->status_line));
	/* Where a transition's time goes, for profiling (virtd --log-level=debug). */
	log_debug("Reconcile (%s): %.1f ms: %u observation%s %.1f ms, %u action%s %.1f ms", why,
		  (double)(now_usec() - p->t_start) / 1e3, p->n_observe, p->n_observe == 1 ? "" : "s",
		  (double)p->t_observe / 1e3, p->n_act, p->n_act == 1 ? "" : "s", (double)p->t_act / 1e3);
	changed = strcmp(old->state, m->state) != 0 || strcmp(old->reason, m->reason) != 0 ||
		  strcmp(old->applied_policy, m->applied_policy) != 0 || old->n_vms != m->kobs.obs.n_vms ||
		  old->pinned_vm != m->kobs.obs.pinned_vm || old->n_locks != p->holders.n_held;
	if (!changed)
		return;
	if (strcmp(m->state, STATE_MISMATCH) == 0)
		log_warning("Verification failed: %s", m->status_line);
	else if (p->settling)
		log_debug("%s", m->status_line);	/* the next result is the one that counts */
	else
		log_info("%s", m->status_line);
	(void)sd_notifyf(false, "STATUS=%s", m->status_line);
	notify_changed(m, old);
}

/*
 * REUSE: start from the last observation instead of reading everything
 * again; only for a pass right after another in the same call, when only
 * the lock holders changed (a grant or refusal touches nothing in the
 * kernel).  Actions, if the new holders want any, are followed by a real
 * observation as always.
 */
static void reconcile_once(struct manager *m, const char *why, bool reuse)
{
	struct pass p = {
		.holders = lock_registry_holders(m->locks),
		.ts = m->timer,
		.t_start = now_usec(),
	};
	struct manager_published old;

	m->counters.reconciles++;
	manager_publish(m, &old);
	/* What the bus said last, not what the registry holds by now. */
	old.n_locks = m->last_n_held;
	if (!m->hw)
		(void)connect_hw(m, false);

	if (pass_act(m, &p, why, reuse) < 0)
		goto done;
	p.cpus = calloc(p.k.obs.n_cpus ? p.k.obs.n_cpus : 1, sizeof(*p.cpus));
	if (!p.cpus) {
		log_error_errno(-ENOMEM, "Failed to model the CPUs: %m");
		goto done;
	}
	model_cpus(&m->cfg, &p.k.obs, &p.holders, p.cpus);
	pass_judge(m, &p);
	pass_schedule_retry(m, &p);
	pass_judge_owners(m, &p);
	pass_store(m, &p);
	pass_publish(m, &p, &old, why);
done:
	kvm_observation_done(&p.k);
	free(p.cpus);
}

/*
 * Answers the waiting lock requests that the last reconcile decided; the
 * number answered.
 */
static unsigned process_lock_requests(struct manager *m)
{
	const struct observed *obs = &m->kobs.obs;
	unsigned answered = 0;
	size_t i = 0, online = 0, n_off = 0;
	bool off;

	if (!m->observed)
		return 0;
	off = cpus_all_off(obs, &online, &n_off);
	while (i < lock_registry_n_waiting(m->locks)) {
		struct lock_request *req = lock_registry_request(m->locks, i);
		struct lock_info info = req->info, granted;
		char vms[400];

		if (obs->n_vms > 0) {
			if (req->flags & LOCK_FLAG_WAIT) {
				i++;
				continue;
			}
			manager_describe_vms(m, vms, sizeof(vms));
			log_info("Foreign lock for %s (pid %d) refused: %s", info.who, (int)info.pid, vms);
			lock_request_fail(req, VIRTD_ERROR_VMS_RUNNING, "%s", vms);
		} else if (obs->n_cpus == 0) {
			log_warning("Foreign lock for %s (pid %d) refused: %s", info.who, (int)info.pid,
				    m->kobs.hw_error[0] ? m->kobs.hw_error : "no per-CPU state");
			lock_request_fail(req, VIRTD_ERROR_CANNOT_HOLD,
					  "cannot check that VMX/SVM is off on every CPU: %s",
					  m->kobs.hw_error[0] ? m->kobs.hw_error : "no per-CPU state from virthw");
		} else if (m->acts.lock_grantable && !m->actions_failed[0] &&
			   (lock_registry_holders(m->locks).n_held > 0 || off)) {
			/* KVM is unloaded and blocked, and virthw read every CPU off (or a holder already has them). */
			if (lock_request_grant(req, &granted) < 0)
				log_warning("Foreign lock for %s (pid %d) refused: virtd could not create it", info.who,
					    (int)info.pid);
			else
				log_info("Foreign lock %" PRIu32 " granted to %s (pid %d): virtualization off on %zu/%zu CPUs%s%s",
					 granted.id, info.who, (int)info.pid, n_off, online,
					 info.why[0] ? "; why: " : "", info.why);
		} else if (strcmp(m->state, STATE_PENDING) == 0 || strcmp(m->state, STATE_HOLDS) == 0) {
			/* Settling, or an action waits for a retry: the deadline decides. */
			i++;
			continue;
		} else {
			log_warning("Foreign lock for %s (pid %d) refused: %s", info.who, (int)info.pid, m->reason);
			lock_request_fail(req, VIRTD_ERROR_CANNOT_HOLD, "%s", m->reason[0] ? m->reason : m->status_line);
		}
		answered++;
	}
	return answered;
}

void manager_reconcile(struct manager *m, const char *why)
{
	reconcile_once(m, why, false);
	/* A grant or a refusal changes the lock holders: the state follows at once (bounded: each pass answers one at least). */
	for (unsigned i = 0; i < 8 && process_lock_requests(m) > 0; i++)
		reconcile_once(m, "foreign lock request answered", true);
	/* E.g. a probe waits for KVM to be out, and answers once the policy is back. */
	notify_reconciled(m);
}

void manager_refresh_cpus(struct manager *m)
{
	const struct lock_holders holders = lock_registry_holders(m->locks);
	_cleanup_free_ struct virthw_cpu_state *st = NULL;
	bool changed = false;
	size_t n = 0;

	if (!m->hw || !m->observed || hw_client_dump_cpus(m->hw, &st, &n) < 0 || n != m->kobs.obs.n_cpus)
		return;
	for (size_t i = 0; i < n; i++) {
		struct observed_cpu *c = &m->kobs.cpus[i];
		bool online = st[i].online && st[i].has_details;

		if (c->id != st[i].id)
			return;	/* another set of CPUs: the hotplug event's reconcile sorts it out */
		if (c->online != online || (online && c->virt_on != st[i].virt_on)) {
			c->online = online;
			c->virt_on = online && st[i].virt_on;
			changed = true;
		}
	}
	if (!changed)
		return;
	(void)policy_verify(&m->cfg, &m->kobs.obs, &holders, &m->verify);
	update_cpus_model(m);
	/* Nothing told virtd (a foreign hypervisor sends no event): look properly, soon. */
	manager_queue_reconcile_full(m, "CPU state changed without an event", false);
}
