/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus-manager.c: the org.virtd1.Manager D-Bus interface on /org/virtd1
 * (properties, GetStatus, Reload, AcquireForeign, Probe): the front end.
 * It authorizes the callers of the methods that change something (root, or
 * polkit: polkit.h), calls the manager and the probe, hears back through
 * the manager's observer and the probe's callback, and turns enum
 * virtd_error into bus errors.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <inttypes.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-bus.h>

#include "bus-manager.h"
#include "hv-detect.h"
#include "log.h"
#include "manager-probe.h"
#include "manager.h"
#include "polkit.h"
#include "status-json.h"

/*
 * A request without --wait still waits for what the kernel may lag behind
 * (a module reference put late, CPUs turned off a moment after the last VM):
 * this long at most, then it is refused.
 */
#define LOCK_SETTLE_USEC (30ULL * 1000 * 1000)

/*
 * The bus went away (dbus-daemon or dbus-broker restarted): virtd keeps its
 * policy, its pinned VM and the lock holders (their FIFOs are not on the
 * bus) and connects again, first after this long, doubling up to the most.
 */
#define RECONNECT_FIRST_USEC (250ULL * 1000)
#define RECONNECT_MAX_USEC (8ULL * 1000 * 1000)

struct bus_manager {
	struct manager *m;
	sd_bus *bus;
	manager_probe *probe;		/* the running probe, or NULL */
	sd_event_source *reconnect;	/* armed while the bus is gone */
	uint64_t reconnect_usec;
	unsigned n_reconnects;
	/* GetStatus calls waiting for the one read that answers them all. */
	sd_bus_message **status_calls;
	size_t n_status_calls, status_calls_cap;
	sd_event_source *status_flush;
	/* Calls waiting for polkit's answer (authorize()). */
	struct auth_pending *auth_pending;
};

/* A method that changes something, run once its caller is authorized (root, or polkit said yes). */
typedef int (*authorized_method)(bus_manager *b, sd_bus_message *msg, sd_bus_error *error);

struct auth_pending {
	struct auth_pending *next;
	bus_manager *b;
	sd_bus_message *msg;		/* referenced: answered from on_auth_answer() */
	authorized_method run;
	const char *action;
	const char *hint;
	uid_t uid;
	polkit_query *query;
};

const char *bus_error_name(enum virtd_error e)
{
	switch (e) {
	case VIRTD_ERROR_INVALID_ARGS:
		return SD_BUS_ERROR_INVALID_ARGS;
	case VIRTD_ERROR_CONFIG_INVALID:
		return BUS_ERROR_CONFIG_INVALID;
	case VIRTD_ERROR_VMS_RUNNING:
		return BUS_ERROR_VMS_RUNNING;
	case VIRTD_ERROR_TIMEOUT:
		return BUS_ERROR_TIMEOUT;
	case VIRTD_ERROR_CANNOT_HOLD:
		return BUS_ERROR_CANNOT_HOLD;
	case VIRTD_ERROR_PROBE_FAILED:
		return BUS_ERROR_PROBE_FAILED;
	case VIRTD_ERROR_PROBE_BUSY:
		return BUS_ERROR_PROBE_BUSY;
	case VIRTD_ERROR_NONE:
	case _VIRTD_ERROR_MAX:
		break;
	}
	return SD_BUS_ERROR_FAILED;
}

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
			sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	bus_manager *b = userdata;
	struct manager *m = b->m;

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

/* The GetStatus document: the last reconcile's model, the lock list as it is now. */
static int status_document(struct manager *m, char **ret)
{
	const struct lock_holders holders = lock_registry_holders(m->locks);
	size_t n = lock_registry_n_held(m->locks);
	_cleanup_free_ struct lock_info *list = calloc(n ? n : 1, sizeof(*list));
	_cleanup_free_ bool *shared = calloc(n ? n : 1, sizeof(*shared));
	size_t n_hv = m->profiles ? m->profiles->n : 0;
	_cleanup_free_ struct hv_detected *hvs = calloc(n_hv ? n_hv : 1, sizeof(*hvs));
	_cleanup_free_ struct status_handoff *ho = calloc(1, sizeof(*ho));
	struct status_input in = {
		.version = PACKAGE_VERSION,
		.config_path = m->config_path,
		.cfg = &m->cfg,
		.state = m->state,
		.reason = m->reason,
		.applied_policy = m->applied_policy[0] ? m->applied_policy : NULL,
		.kobs = m->observed ? &m->kobs : NULL,
		.cpus = m->cpus_model,
		.verify = m->observed ? &m->verify : NULL,
		.actions_failed = m->actions_failed[0] ? m->actions_failed : NULL,
		.locks = &holders,
		.lock_list = list,
		.n_lock_list = n,
		.lock_shared = shared,
		.timer = m->observed ? &m->timer : NULL,
		.profiles = m->profiles,
		.hvs = hvs,
		.handoff = ho,
	};

	if (!list || !hvs || !shared || !ho)
		return -ENOMEM;
	handoff_status(m->handoff, ho);
	/* Read now, not at the last reconcile: loading vboxdrv wakes no reconcile. */
	if (m->profiles)
		hv_detect("", m->profiles, &m->cfg, vendor_from_module(m->observed ? m->kobs.vendor_module : NULL), NULL,
			  hvs);
	manager_refresh_vms(m);
	for (size_t i = 0; i < n; i++) {
		list[i] = *lock_registry_held(m->locks, i);
		shared[i] = lock_registry_held_shared(m->locks, i);
	}
	return status_json(&in, ret);
}

static void status_calls_drop(bus_manager *b)
{
	for (size_t i = 0; i < b->n_status_calls; i++)
		sd_bus_message_unref(b->status_calls[i]);
	b->n_status_calls = 0;
}

/*
 * Runs once the bus has no message left to dispatch (idle priority): one
 * read of the CPUs and one document answer every GetStatus that came in
 * meanwhile.  Each answer still reflects a read made after its call
 * arrived; under load the calls share it instead of queueing for a read
 * each (one virthw dump is most of a call's cost).
 */
static int on_status_flush(sd_event_source *s, void *userdata)
{
	_cleanup_free_ char *json = NULL;
	bus_manager *b = userdata;
	int r;

	(void)s;
	b->status_flush = sd_event_source_disable_unref(b->status_flush);
	if (b->n_status_calls == 0)
		return 0;
	manager_refresh_cpus(b->m);
	r = status_document(b->m, &json);
	for (size_t i = 0; i < b->n_status_calls; i++) {
		int k = r < 0 ? sd_bus_reply_method_errno(b->status_calls[i], r, NULL)
			      : sd_bus_reply_method_return(b->status_calls[i], "s", json);
		if (k < 0)
			log_debug("Failed to answer GetStatus: %s", strerror(-k));
	}
	status_calls_drop(b);
	return 0;
}

static int method_get_status(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	bus_manager *b = userdata;
	int r;

	(void)error;
	if (b->n_status_calls == b->status_calls_cap) {
		size_t cap = b->status_calls_cap ? b->status_calls_cap * 2 : 16;
		sd_bus_message **calls = reallocarray(b->status_calls, cap, sizeof(*calls));

		if (!calls)
			return -ENOMEM;
		b->status_calls = calls;
		b->status_calls_cap = cap;
	}
	if (!b->status_flush) {
		r = sd_event_add_defer(b->m->event, &b->status_flush, on_status_flush, b);
		if (r < 0)
			return r;
		r = sd_event_source_set_priority(b->status_flush, SD_EVENT_PRIORITY_IDLE);
		if (r < 0) {
			b->status_flush = sd_event_source_disable_unref(b->status_flush);
			return r;
		}
	}
	b->status_calls[b->n_status_calls++] = sd_bus_message_ref(msg);
	return 1;	/* answered by on_status_flush() */
}

/*
 * The polkit actions (conf/org.virtd1.policy), one per method that changes
 * something, and what a refused caller is told to do about it.
 */
#define ACTION_RELOAD "org.virtd1.reload"
#define ACTION_ACQUIRE_FOREIGN "org.virtd1.acquire-foreign"
#define ACTION_PROBE "org.virtd1.probe"
#define HINT_ADMIN "ask an administrator"
/* conf/60-virtd-vboxusers.rules grants it to group vboxusers. */
#define HINT_ACQUIRE_FOREIGN "add the user to group vboxusers, or ask an administrator"

static int caller_uid(sd_bus_message *msg, uid_t *ret)
{
	_cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
	int r;

	r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID | SD_BUS_CREDS_UID | SD_BUS_CREDS_AUGMENT, &creds);
	if (r < 0)
		return r;
	/* dbus-daemon reports the connection's uid; the euid needs /proc. */
	r = sd_bus_creds_get_euid(creds, ret);
	if (r < 0)
		r = sd_bus_creds_get_uid(creds, ret);
	return r;
}

static void auth_pending_unlink(bus_manager *b, struct auth_pending *p)
{
	for (struct auth_pending **pp = &b->auth_pending; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			return;
		}
}

static void auth_pending_free(struct auth_pending *p)
{
	polkit_query_free(p->query);
	sd_bus_message_unref(p->msg);
	free(p);
}

/* RUN's outcome as the answer to MSG: an error it returned is sent; >= 0 means answered or kept. */
static void finish_method(sd_bus_message *msg, int r, sd_bus_error *error)
{
	int k = 0;

	if (r >= 0)
		return;
	if (sd_bus_error_is_set(error))
		k = sd_bus_reply_method_error(msg, error);
	else
		k = sd_bus_reply_method_errno(msg, r, NULL);
	if (k < 0)
		log_debug("Failed to answer %s of %s: %s", sd_bus_message_get_member(msg) ?: "?",
			  sd_bus_message_get_sender(msg) ?: "?", strerror(-k));
}

static void on_auth_answer(const struct polkit_answer *a, void *userdata)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	struct auth_pending *p = userdata;
	char text[600];
	int r;

	p->query = NULL;	/* polkit.c frees it after this returns */
	auth_pending_unlink(p->b, p);
	if (a->verdict == POLKIT_AUTHORIZED) {
		log_info("polkit authorized %s for uid %u (%s)", p->action, (unsigned)p->uid,
			 sd_bus_message_get_sender(p->msg) ?: "?");
		r = p->run(p->b, p->msg, &error);
		finish_method(p->msg, r, &error);
	} else {
		polkit_refusal_text(a, p->action, p->uid, p->hint, text, sizeof(text));
		log_info("%s", text);
		/* A challenge the caller may meet by asking again with interactive authorization allowed. */
		r = sd_bus_reply_method_errorf(p->msg,
					       a->verdict == POLKIT_CHALLENGE ? SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED
									      : SD_BUS_ERROR_ACCESS_DENIED,
					       "%s", text);
		if (r < 0)
			log_debug("Failed to refuse %s to uid %u: %s", p->action, (unsigned)p->uid, strerror(-r));
	}
	auth_pending_free(p);
}

/* Calls still waiting for polkit get TEXT: the bus went away, or virtd stops. */
static void auth_pending_fail_all(bus_manager *b, const char *text)
{
	while (b->auth_pending) {
		struct auth_pending *p = b->auth_pending;

		b->auth_pending = p->next;
		(void)sd_bus_reply_method_errorf(p->msg, bus_error_name(VIRTD_ERROR_CANNOT_HOLD), "%s", text);
		auth_pending_free(p);
	}
}

/*
 * Runs RUN for MSG once its sender may do ACTION: root (euid 0) at once,
 * without polkit (as before polkit, and where polkitd is not installed);
 * anyone else when polkit says yes, asked without blocking the event loop.
 * The bus policy lets everyone send these methods: this is the check.
 */
static int authorize(bus_manager *b, sd_bus_message *msg, const char *action, const char *hint, authorized_method run,
		     sd_bus_error *error)
{
	struct auth_pending *p;
	uid_t uid;
	int r;

	r = caller_uid(msg, &uid);
	if (r < 0)
		return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
					 "Not authorized for %s: virtd could not learn the caller's uid (%s)", action,
					 strerror(-r));
	if (uid == 0)
		return run(b, msg, error);
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	*p = (struct auth_pending) {
		.b = b,
		.msg = sd_bus_message_ref(msg),
		.run = run,
		.action = action,
		.hint = hint,
		.uid = uid,
	};
	r = polkit_check_async(b->bus, msg, action, on_auth_answer, p, &p->query);
	if (r < 0) {
		auth_pending_free(p);
		return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
					 "Not authorized for %s (caller uid %u): polkit could not be asked (%s), so only "
					 "root may do this", action, (unsigned)uid, strerror(-r));
	}
	p->next = b->auth_pending;
	b->auth_pending = p;
	return 1;	/* answered by on_auth_answer() */
}

static int reload_authorized(bus_manager *b, sd_bus_message *msg, sd_bus_error *error)
{
	_cleanup_free_ char *errors = NULL;
	int r;

	log_info("Reload requested over D-Bus");
	r = manager_reload(b->m, &errors);
	if (r < 0)
		return sd_bus_error_set(error, bus_error_name(VIRTD_ERROR_CONFIG_INVALID),
					errors ? errors : "the configuration file is invalid");
	return sd_bus_reply_method_return(msg, NULL);
}

static int method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	return authorize(userdata, msg, ACTION_RELOAD, HINT_ADMIN, reload_authorized, error);
}

/* A lock in shared mode: granted at once, KVM left as it is; the reconcile records the holder. */
static int grant_shared(struct manager *m, sd_bus_message *msg, struct lock_info *info, const struct hv_profile *prof,
			const struct hv_mode_choice *ch)
{
	_cleanup_close_ int fd = -1;
	struct timespec ts;
	char what[200];
	int r;

	clock_gettime(CLOCK_REALTIME, &ts);
	info->since_usec = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	r = lock_registry_grant_mode(m->locks, info, true, &fd);
	if (r < 0)
		return sd_bus_reply_method_errorf(msg, bus_error_name(VIRTD_ERROR_CANNOT_HOLD),
						  "virtd could not create the lock: %s", strerror(-r));
	log_info("Foreign lock %" PRIu32 " granted to %s (pid %d) in shared mode, KVM kept: profile %s, %s", info->id,
		 info->who, (int)info->pid, prof->name, ch->reason);
	r = sd_bus_reply_method_return(msg, "h", fd);
	if (r < 0)
		log_warning_errno(r, "Failed to hand lock %" PRIu32 " to %s (pid %d); its FIFO hangs up and it is dropped: %m",
				  info->id, info->who, (int)info->pid);
	snprintf(what, sizeof(what), "shared foreign lock granted to %s (pid %d)", info->who, (int)info->pid);
	manager_reconcile(m, what);
	return 1;
}

static int acquire_foreign_authorized(bus_manager *b, sd_bus_message *msg, sd_bus_error *error)
{
	_cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
	struct manager *m = b->m;
	const struct hv_profile *prof;
	struct lock_request *req;
	struct lock_info info = {};
	const char *who, *why;
	uint64_t flags, timeout;
	char err[160], what[200];
	pid_t pid = 0;
	uid_t uid = 0;
	int r;

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

	/* A hypervisor that runs inside KVM's VMX root (its profile's mode) needs KVM kept, not gone. */
	prof = m->profiles ? profiles_match_who(m->profiles, who) : NULL;
	if (prof) {
		char reason[400];
		struct hv_mode_choice ch;

		hv_mode_of(prof, &m->cfg, vendor_from_module(m->observed ? m->kobs.vendor_module : NULL), NULL, &ch);
		switch (policy_lock_grant(&m->cfg, prof->name, ch.mode, reason, sizeof(reason))) {
		case LOCK_GRANT_REFUSED:
			log_info("Foreign lock for %s (pid %d) refused: %s", who, (int)pid, reason);
			return sd_bus_error_setf(error, bus_error_name(VIRTD_ERROR_CANNOT_HOLD), "%s", reason);
		case LOCK_GRANT_SHARED:
			return grant_shared(m, msg, &info, prof, &ch);
		case LOCK_GRANT_EXCLUSIVE:
			break;
		}
	}

	if (!(flags & LOCK_FLAG_WAIT)) {
		char vms[400];

		/* Refused at once, before anything is unloaded for nothing. */
		if (manager_vms_running(m, vms, sizeof(vms))) {
			log_info("Foreign lock for %s (pid %d) refused: %s", who, (int)pid, vms);
			return sd_bus_error_setf(error, bus_error_name(VIRTD_ERROR_VMS_RUNNING), "%s", vms);
		}
	}

	r = lock_registry_add_request(m->locks, msg, bus_error_name, &info, flags,
				      (flags & LOCK_FLAG_WAIT) ? timeout : LOCK_SETTLE_USEC, &req);
	if (r < 0)
		return log_error_errno(r, "Failed to queue the lock request of %s (pid %d): %m", who, (int)pid);
	snprintf(what, sizeof(what), "foreign lock requested by %s (pid %d)", who, (int)pid);
	m->retries = 0;
	manager_reconcile(m, what);
	/* Answered by now, or when the VMs end, the CPUs settle or the deadline passes. */
	return 1;
}

static int method_acquire_foreign(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	return authorize(userdata, msg, ACTION_ACQUIRE_FOREIGN, HINT_ACQUIRE_FOREIGN, acquire_foreign_authorized, error);
}

/* The probe's end: its Probe() call (USERDATA, referenced at the start) is answered. */
static void on_probe_done(void *userdata, enum virtd_error e, const char *text)
{
	sd_bus_message *msg = userdata;
	int r;

	if (e != VIRTD_ERROR_NONE)
		r = sd_bus_reply_method_errorf(msg, bus_error_name(e), "%s", text);
	else
		r = sd_bus_reply_method_return(msg, "s", text);
	if (r < 0)
		log_warning_errno(r, "Failed to answer the Probe call of %s: %m", sd_bus_message_get_sender(msg) ?: "?");
	sd_bus_message_unref(msg);
}

static int probe_authorized(bus_manager *b, sd_bus_message *msg, sd_bus_error *error)
{
	_cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
	struct virtd_failure fail = {};
	uint32_t cpu, iterations;
	uint64_t flags;
	pid_t pid = 0;
	int r;

	r = sd_bus_message_read(msg, "uut", &cpu, &iterations, &flags);
	if (r < 0)
		return r;
	if (flags != 0)
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "unknown flags 0x%" PRIx64 " (none are defined)",
					 flags);
	if (sd_bus_query_sender_creds(msg, SD_BUS_CREDS_PID | SD_BUS_CREDS_AUGMENT, &creds) >= 0)
		(void)sd_bus_creds_get_pid(creds, &pid);
	/* The reference is the probe's until on_probe_done(); a refusal never gets there. */
	r = manager_probe_start(b->m, &b->probe, cpu, iterations, pid, on_probe_done, sd_bus_message_ref(msg), &fail);
	if (r <= 0)
		sd_bus_message_unref(msg);
	if (r < 0)
		return r;
	if (r == 0)
		return sd_bus_error_setf(error, bus_error_name(fail.error), "%s", fail.message);
	/* Answered once the probe is done and the policy back. */
	return 1;
}

static int method_probe(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	return authorize(userdata, msg, ACTION_PROBE, HINT_ADMIN, probe_authorized, error);
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
	/*
	 * Unprivileged for sd-bus, whose own check wants CAP_SYS_ADMIN:
	 * authorize() lets root through and asks polkit for anyone else.
	 */
	SD_BUS_METHOD("Reload", "", "", method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
	/* Authorized as Reload (org.virtd1.acquire-foreign); the reply's descriptor is the lock (see lock.h). */
	SD_BUS_METHOD_WITH_NAMES("AcquireForeign", "sstt", SD_BUS_PARAM(who) SD_BUS_PARAM(why) SD_BUS_PARAM(flags)
				 SD_BUS_PARAM(timeout_usec), "h", SD_BUS_PARAM(fd), method_acquire_foreign,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	/* Authorized as Reload (org.virtd1.probe); answered when the probe is done and the policy back (manager-probe.h). */
	SD_BUS_METHOD_WITH_NAMES("Probe", "uut", SD_BUS_PARAM(cpu) SD_BUS_PARAM(iterations) SD_BUS_PARAM(flags),
				 "s", SD_BUS_PARAM(json), method_probe, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END
};

static void on_manager_changed(void *userdata, const struct manager_published *old)
{
	bus_manager *b = userdata;
	struct manager_published now;
	const char *names[9];
	size_t n = 0;
	int r;

	if (!b->bus)
		return;		/* off the bus: whoever connects later reads the properties anew */
	manager_publish(b->m, &now);
	if (old->policy != now.policy)
		names[n++] = "Policy";
	if (strcmp(old->state, now.state) != 0)
		names[n++] = "State";
	if (strcmp(old->reason, now.reason) != 0)
		names[n++] = "Reason";
	if (strcmp(old->applied_policy, now.applied_policy) != 0)
		names[n++] = "AppliedPolicy";
	if (old->n_vms != now.n_vms)
		names[n++] = "VMCount";
	if (old->pinned_vm != now.pinned_vm)
		names[n++] = "PinnedVM";
	if (old->n_locks != now.n_locks)
		names[n++] = "ForeignLocks";
	if (n == 0)
		return;
	names[n] = NULL;
	r = sd_bus_emit_properties_changed_strv(b->bus, BUS_PATH, BUS_INTERFACE, (char **)names);
	if (r < 0)
		log_warning_errno(r, "Failed to emit PropertiesChanged: %m");
}

static void on_manager_reconciled(void *userdata)
{
	bus_manager *b = userdata;

	/* A probe waits for KVM to be out, and is answered once the policy is back. */
	manager_probe_check(b->probe);
}

static int bus_connect(bus_manager *b);

static int on_reconnect_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	bus_manager *b = userdata;
	int r;

	(void)usec;
	r = bus_connect(b);
	if (r >= 0) {
		b->reconnect = sd_event_source_disable_unref(b->reconnect);
		b->n_reconnects++;
		log_info("Back on the system bus as %s (reconnect %u)", BUS_NAME, b->n_reconnects);
		return 0;
	}
	b->reconnect_usec = b->reconnect_usec * 2 > RECONNECT_MAX_USEC ? RECONNECT_MAX_USEC : b->reconnect_usec * 2;
	log_debug("Still no system bus, trying again in %" PRIu64 " ms", b->reconnect_usec / 1000);
	r = sd_event_source_set_time_relative(s, b->reconnect_usec);
	if (r >= 0)
		r = sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	if (r < 0)
		log_error_errno(r, "Failed to arm the bus reconnect timer, virtd stays off the bus: %m");
	return 0;
}

static int on_disconnected(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	bus_manager *b = userdata;
	int r;

	(void)msg;
	(void)error;
	log_warning("Lost the system bus (dbus-daemon stopped or restarted); the policy and lock holders stay, "
		    "connecting again");
	/*
	 * Waiting lock requests cannot be answered: their callers' connections
	 * are gone too.  A running probe finishes; its answer is lost.
	 */
	lock_registry_fail_waiting(b->m->locks, VIRTD_ERROR_CANNOT_HOLD, "virtd lost the system bus; ask again");
	auth_pending_fail_all(b, "virtd lost the system bus; ask again");
	status_calls_drop(b);
	b->bus = sd_bus_flush_close_unref(b->bus);
	b->reconnect_usec = RECONNECT_FIRST_USEC;
	r = sd_event_add_time_relative(b->m->event, &b->reconnect, CLOCK_MONOTONIC, b->reconnect_usec, 0,
				       on_reconnect_timer, b);
	if (r < 0)
		log_error_errno(r, "Failed to arm the bus reconnect timer, virtd stays off the bus: %m");
	return 0;
}

/* Connects, publishes the object and takes the name (last: it says "ready to answer"). */
static int bus_connect(bus_manager *b)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	int r;

	r = sd_bus_open_system(&bus);
	if (r < 0)
		return log_error_errno(r, "Failed to connect to the system bus: %m");
	r = sd_bus_add_object_vtable(bus, NULL, BUS_PATH, BUS_INTERFACE, manager_vtable, b);
	if (r < 0)
		return log_error_errno(r, "Failed to publish %s on the bus: %m", BUS_PATH);
	r = sd_bus_match_signal(bus, NULL, "org.freedesktop.DBus.Local", "/org/freedesktop/DBus/Local",
				"org.freedesktop.DBus.Local", "Disconnected", on_disconnected, b);
	if (r < 0)
		return log_error_errno(r, "Failed to watch the bus connection: %m");
	r = sd_bus_attach_event(bus, b->m->event, SD_EVENT_PRIORITY_NORMAL);
	if (r < 0)
		return log_error_errno(r, "Failed to attach the bus to the event loop: %m");
	r = sd_bus_request_name(bus, BUS_NAME, 0);
	if (r == -EEXIST)
		return log_error_errno(r, "Failed to take the bus name %s: another virtd is running", BUS_NAME);
	if (r < 0)
		return log_error_errno(r, "Failed to take the bus name %s: %m (is conf/org.virtd1.conf installed in "
				       "/usr/share/dbus-1/system.d/?)", BUS_NAME);
	b->bus = TAKE_PTR(bus);
	return 0;
}

int bus_manager_new(struct manager *m, bus_manager **ret)
{
	_cleanup_(bus_manager_freep) bus_manager *b = NULL;
	int r;

	b = calloc(1, sizeof(*b));
	if (!b)
		return log_error_errno(-ENOMEM, "Failed to set up the bus: %m");
	b->m = m;
	r = manager_add_observer(m, &(const struct manager_observer) {
					 .changed = on_manager_changed,
					 .reconciled = on_manager_reconciled,
				 }, b);
	if (r < 0)
		return log_error_errno(r, "Failed to observe the manager: %m");
	r = bus_connect(b);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(b);
	return 0;
}

bus_manager *bus_manager_free(bus_manager *b)
{
	if (!b)
		return NULL;
	manager_remove_observer(b->m, b);
	b->reconnect = sd_event_source_disable_unref(b->reconnect);
	b->status_flush = sd_event_source_disable_unref(b->status_flush);
	status_calls_drop(b);
	free(b->status_calls);
	/* While the bus is still there: waiting callers are told that virtd stops. */
	manager_probe_free(b->probe);
	auth_pending_fail_all(b, "virtd is stopping; ask again once it runs");
	lock_registry_fail_waiting(b->m->locks, VIRTD_ERROR_CANNOT_HOLD, "virtd is stopping; ask again once it runs");
	if (b->bus) {
		(void)sd_bus_flush(b->bus);
		b->bus = sd_bus_flush_close_unref(b->bus);
	}
	free(b);
	return NULL;
}
