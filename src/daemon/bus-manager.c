/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-manager.c: the org.virtd1.Manager D-Bus interface on /org/virtd1 (properties, GetStatus, Reload, AcquireForeign). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <inttypes.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "bus-manager.h"
#include "log.h"
#include "manager-probe.h"
#include "manager.h"
#include "observe.h"

/*
 * A request without --wait still waits for what the kernel may lag behind
 * (a module reference put late, CPUs turned off a moment after the last VM):
 * this long at most, then it is refused.
 */
#define LOCK_SETTLE_USEC (30ULL * 1000 * 1000)

int manager_reload(struct manager *m, char **ret_errors)
{
	enum virt_policy old = m->cfg.policy;
	int r;

	r = manager_load_config(m, false, ret_errors);
	if (r < 0)
		return r;
	m->retries = 0;
	manager_reconcile(m, "configuration reloaded");
	if (old != m->cfg.policy && m->bus) {
		r = sd_bus_emit_properties_changed(m->bus, BUS_PATH, BUS_INTERFACE, "Policy", NULL);
		if (r < 0)
			log_warning_errno(r, "Failed to emit PropertiesChanged for Policy: %m");
	}
	return 0;
}

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
			sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;

	(void)bus;
	(void)path;
	(void)interface;
	(void)error;
	if (strcmp(property, "Version") == 0)
		return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
	if (strcmp(property, "Policy") == 0)
		return sd_bus_message_append(reply, "s", virt_policy_to_string(m->cfg.policy));
	if (strcmp(property, "AppliedPolicy") == 0)
		return sd_bus_message_append(reply, "s", m->applied_policy);
	if (strcmp(property, "State") == 0)
		return sd_bus_message_append(reply, "s", m->state);
	if (strcmp(property, "Reason") == 0)
		return sd_bus_message_append(reply, "s", m->reason);
	if (strcmp(property, "VMCount") == 0)
		return sd_bus_message_append(reply, "u", (uint32_t)m->kobs.obs.n_vms);
	if (strcmp(property, "PinnedVM") == 0)
		return sd_bus_message_append(reply, "b", (int)m->kobs.obs.pinned_vm);
	if (strcmp(property, "ForeignLocks") == 0)
		return sd_bus_message_append(reply, "u", (uint32_t)lock_registry_n_held(m->locks));
	return -ENOENT;
}

static int method_get_status(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	_cleanup_free_ char *json = NULL;
	struct manager *m = userdata;
	int r;

	(void)error;
	manager_refresh_cpus(m);
	r = manager_status_json(m, &json);
	if (r < 0)
		return r;
	return sd_bus_reply_method_return(msg, "s", json);
}

/* The bus policy already keeps others out; this holds even where it is missing or too lax. */
static int check_root(sd_bus_message *msg, const char *what, sd_bus_error *error)
{
	_cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
	uid_t uid;
	int r;

	r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID | SD_BUS_CREDS_UID | SD_BUS_CREDS_AUGMENT, &creds);
	if (r < 0)
		return r;
	/* dbus-daemon reports the connection's uid; the euid needs /proc. */
	r = sd_bus_creds_get_euid(creds, &uid);
	if (r < 0)
		r = sd_bus_creds_get_uid(creds, &uid);
	if (r < 0)
		return r;
	if (uid != 0)
		return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
					 "Only root may %s (caller uid %u)", what, (unsigned)uid);
	return 0;
}

static int method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	_cleanup_free_ char *errors = NULL;
	struct manager *m = userdata;
	int r;

	r = check_root(msg, "reload virtd", error);
	if (r != 0)
		return r;
	log_info("Reload requested over D-Bus");
	r = manager_reload(m, &errors);
	if (r < 0)
		return sd_bus_error_set(error, BUS_ERROR_CONFIG_INVALID,
					errors ? errors : "the configuration file is invalid");
	return sd_bus_reply_method_return(msg, NULL);
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

unsigned manager_process_lock_requests(struct manager *m)
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
			lock_request_fail(req, BUS_ERROR_VMS_RUNNING, "%s", vms);
		} else if (obs->n_cpus == 0) {
			log_warning("Foreign lock for %s (pid %d) refused: %s", info.who, (int)info.pid,
				    m->kobs.hw_error[0] ? m->kobs.hw_error : "no per-CPU state");
			lock_request_fail(req, BUS_ERROR_CANNOT_HOLD,
					  "cannot check that VMX/SVM is off on every CPU: %s",
					  m->kobs.hw_error[0] ? m->kobs.hw_error : "no per-CPU state from virthw");
		} else if (m->acts.lock_grantable && !m->actions_failed[0] &&
			   (lock_registry_n_held(m->locks) > 0 || off)) {
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
			lock_request_fail(req, BUS_ERROR_CANNOT_HOLD, "%s", m->reason[0] ? m->reason : m->status_line);
		}
		answered++;
	}
	return answered;
}

bool bus_vms_running(char *vms, size_t size)
{
	struct vm_owner *v = NULL;
	size_t n = 0;
	unsigned total = 0;
	bool running = false;

	if (scan_vms("", getpid(), &v, &n, &total) >= 0 && total > 0) {
		size_t o = (size_t)snprintf(vms, size, "%u KVM VM%s running", total, total == 1 ? "" : "s");

		for (size_t i = 0; i < n && o < size; i++) {
			const char *c = v[i].cmdline && *v[i].cmdline ? v[i].cmdline : v[i].comm;

			o += (size_t)snprintf(vms + o, size - o, "%s pid %d (%.60s%s)", i ? "," : ":", (int)v[i].pid,
					      c, strlen(c) > 60 ? "..." : "");
		}
		running = true;
	}
	vm_owners_free(v, n);
	return running;
}

static int method_acquire_foreign(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	_cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
	struct manager *m = userdata;
	struct lock_request *req;
	struct lock_info info = {};
	const char *who, *why;
	uint64_t flags, timeout;
	char err[160], what[200];
	pid_t pid = 0;
	uid_t uid = 0;
	int r;

	r = check_root(msg, "take the foreign-hypervisor lock", error);
	if (r != 0)
		return r;
	r = sd_bus_message_read(msg, "sstt", &who, &why, &flags, &timeout);
	if (r < 0)
		return r;
	if (lock_who_valid(who, err, sizeof(err)) < 0 || lock_why_valid(why, err, sizeof(err)) < 0)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "%s", err);
	if (flags & ~LOCK_FLAGS_ALL)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "unknown flags 0x%" PRIx64 " (known: 0x%" PRIx64 ")",
					 flags & ~LOCK_FLAGS_ALL, LOCK_FLAGS_ALL);

	r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_PID | SD_BUS_CREDS_EUID | SD_BUS_CREDS_UID | SD_BUS_CREDS_AUGMENT,
				      &creds);
	if (r >= 0) {
		(void)sd_bus_creds_get_pid(creds, &pid);
		if (sd_bus_creds_get_euid(creds, &uid) < 0)
			(void)sd_bus_creds_get_uid(creds, &uid);
	}
	snprintf(info.who, sizeof(info.who), "%s", who);
	snprintf(info.why, sizeof(info.why), "%s", why);
	info.pid = pid;
	info.uid = uid;

	if (flags & LOCK_FLAG_WAIT) {
		if (timeout > 0)
			snprintf(what, sizeof(what), " (waits up to %.1f s for KVM VMs)", (double)timeout / 1e6);
		else
			snprintf(what, sizeof(what), " (waits for KVM VMs for as long as it takes)");
	} else
		what[0] = '\0';
	log_info("Foreign lock requested by %s (pid %d)%s%s%s", who, (int)pid, what, why[0] ? ": " : "", why);

	if (!(flags & LOCK_FLAG_WAIT)) {
		char vms[400];

		/* Refused at once, before anything is unloaded for nothing. */
		if (bus_vms_running(vms, sizeof(vms))) {
			log_info("Foreign lock for %s (pid %d) refused: %s", who, (int)pid, vms);
			return sd_bus_error_setf(error, BUS_ERROR_VMS_RUNNING, "%s", vms);
		}
	}

	r = lock_registry_add_request(m->locks, msg, &info, flags,
				      (flags & LOCK_FLAG_WAIT) ? timeout : LOCK_SETTLE_USEC, &req);
	if (r < 0)
		return log_error_errno(r, "Failed to queue the lock request of %s (pid %d): %m", who, (int)pid);
	snprintf(what, sizeof(what), "foreign lock requested by %s (pid %d)", who, (int)pid);
	m->retries = 0;
	manager_reconcile(m, what);
	/* Answered by now, or when the VMs end, the CPUs settle or the deadline passes. */
	return 1;
}

static int method_probe(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	_cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
	struct manager *m = userdata;
	uint32_t cpu, iterations;
	uint64_t flags;
	pid_t pid = 0;
	int r;

	r = check_root(msg, "run the probe", error);
	if (r != 0)
		return r;
	r = sd_bus_message_read(msg, "uut", &cpu, &iterations, &flags);
	if (r < 0)
		return r;
	if (flags != 0)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "unknown flags 0x%" PRIx64 " (none are defined)",
					 flags);
	if (sd_bus_query_sender_creds(msg, SD_BUS_CREDS_PID | SD_BUS_CREDS_AUGMENT, &creds) >= 0)
		(void)sd_bus_creds_get_pid(creds, &pid);
	return manager_probe_start(m, msg, cpu, iterations, pid, error);
}

static const sd_bus_vtable manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Version", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Policy", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("AppliedPolicy", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("State", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Reason", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("VMCount", "u", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("PinnedVM", "b", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("ForeignLocks", "u", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_METHOD_WITH_NAMES("GetStatus", "", , "s", SD_BUS_PARAM(status), method_get_status,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	/* Unprivileged for sd-bus, whose own check wants CAP_SYS_ADMIN: check_root() answers with a clearer error. */
	SD_BUS_METHOD("Reload", "", "", method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
	/* Root only, as Reload; the reply's descriptor is the lock (see lock.h). */
	SD_BUS_METHOD_WITH_NAMES("AcquireForeign", "sstt", SD_BUS_PARAM(who) SD_BUS_PARAM(why) SD_BUS_PARAM(flags)
				 SD_BUS_PARAM(timeout_usec), "h", SD_BUS_PARAM(fd), method_acquire_foreign,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	/* Root only, as AcquireForeign; answered when the probe is done and the policy back (manager-probe.h). */
	SD_BUS_METHOD_WITH_NAMES("Probe", "uut", SD_BUS_PARAM(cpu) SD_BUS_PARAM(iterations) SD_BUS_PARAM(flags),
				 "s", SD_BUS_PARAM(json), method_probe, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END
};

int bus_manager_init(struct manager *m)
{
	int r;

	r = sd_bus_open_system(&m->bus);
	if (r < 0)
		return log_error_errno(r, "Failed to connect to the system bus: %m");
	r = sd_bus_add_object_vtable(m->bus, NULL, BUS_PATH, BUS_INTERFACE, manager_vtable, m);
	if (r < 0)
		return log_error_errno(r, "Failed to publish %s on the bus: %m", BUS_PATH);
	r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
	if (r < 0)
		return log_error_errno(r, "Failed to attach the bus to the event loop: %m");
	/* Last: the name says "ready to answer", so the object must exist first. */
	r = sd_bus_request_name(m->bus, BUS_NAME, 0);
	if (r == -EEXIST)
		return log_error_errno(r, "Failed to take the bus name %s: another virtd is running", BUS_NAME);
	if (r < 0)
		return log_error_errno(r, "Failed to take the bus name %s: %m (is conf/org.virtd1.conf installed in "
				       "/usr/share/dbus-1/system.d/?)", BUS_NAME);
	return 0;
}

void bus_manager_done(struct manager *m)
{
	if (m->bus) {
		(void)sd_bus_flush(m->bus);
		m->bus = sd_bus_flush_close_unref(m->bus);
	}
}

void bus_manager_emit_changes(struct manager *m, const char *old_state, const char *old_reason,
			      const char *old_applied, unsigned old_vms, bool old_pinned, unsigned old_locks)
{
	const char *names[8];
	size_t n = 0;
	int r;

	if (!m->bus)
		return;
	if (strcmp(old_state, m->state) != 0)
		names[n++] = "State";
	if (strcmp(old_reason, m->reason) != 0)
		names[n++] = "Reason";
	if (strcmp(old_applied, m->applied_policy) != 0)
		names[n++] = "AppliedPolicy";
	if (old_vms != m->kobs.obs.n_vms)
		names[n++] = "VMCount";
	if (old_pinned != m->kobs.obs.pinned_vm)
		names[n++] = "PinnedVM";
	if (old_locks != lock_registry_n_held(m->locks))
		names[n++] = "ForeignLocks";
	if (n == 0)
		return;
	names[n] = NULL;
	r = sd_bus_emit_properties_changed_strv(m->bus, BUS_PATH, BUS_INTERFACE, (char **)names);
	if (r < 0)
		log_warning_errno(r, "Failed to emit PropertiesChanged: %m");
}
