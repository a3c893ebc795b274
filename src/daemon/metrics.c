/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* metrics.c: the Prometheus text-format file of [Metrics] File=: snapshot, rendering, atomic replacement. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "log.h"
#include "metrics.h"

const char *const metrics_states[METRICS_N_STATES] = {
	STATE_STARTING, STATE_HOLDS, STATE_PENDING, STATE_CANNOT_HOLD, STATE_MISMATCH, STATE_LOCKED,
};

static int state_index(const char *state)
{
	for (int i = 0; i < METRICS_N_STATES; i++)
		if (state && strcmp(state, metrics_states[i]) == 0)
			return i;
	return -1;
}

void metrics_snapshot_take(const struct manager *m, const uint64_t transitions[METRICS_N_STATES],
			   struct metrics_snapshot *ret)
{
	const struct observed *obs = &m->kobs.obs;

	*ret = (struct metrics_snapshot) {
		.version = PACKAGE_VERSION,
		.policy = m->cfg.policy,
		.state = m->state,
		.applied_policy = m->applied_policy,
		.n_vms = obs->n_vms,
		.pinned_vm = obs->pinned_vm,
		.n_locks_held = (unsigned)lock_registry_n_held(m->locks),
		.n_locks_waiting = (unsigned)lock_registry_n_waiting(m->locks),
		.counters = m->counters,
	};
	memcpy(ret->state_transitions, transitions, sizeof(ret->state_transitions));
	for (size_t i = 0; i < obs->n_cpus; i++) {
		const struct observed_cpu *c = &obs->cpus[i];

		if (!c->online)
			continue;
		ret->n_cpus_online++;
		ret->n_cpus_on += c->virt_on;
		if (m->cpus_model) {
			ret->n_cpus_expected_on += m->cpus_model[i].expect == CPU_EXPECT_ON;
			ret->n_cpus_mismatched += !m->cpus_model[i].ok;
		}
	}
}

/* The text format's label value escapes: backslash, double quote, line feed. */
static void put_label(FILE *f, const char *v)
{
	for (; v && *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void gauge(FILE *f, const char *name, const char *help, uint64_t v)
{
	header(f, name, "gauge", help);
	fprintf(f, "%s %" PRIu64 "\n", name, v);
}

static void counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	header(f, name, "counter", help);
	fprintf(f, "%s %" PRIu64 "\n", name, v);
}

/* Seconds since the epoch from microseconds, exactly (no floating point rounding). */
static void seconds(FILE *f, const char *name, const char *help, uint64_t usec)
{
	header(f, name, "gauge", help);
	fprintf(f, "%s %" PRIu64 ".%06" PRIu64 "\n", name, usec / 1000000, usec % 1000000);
}

/* NAME{LABEL="value"} 1 for the one that is, 0 for the others: each always there, so rates and alerts see edges. */
static void enum_gauge(FILE *f, const char *name, const char *label, const char *help, const char *const *values,
		       size_t n, const char *current)
{
	header(f, name, "gauge", help);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s{%s=\"%s\"} %d\n", name, label, values[i], current && strcmp(values[i], current) == 0);
}

static void render_state(FILE *f, const struct metrics_snapshot *s)
{
	const char *policies[_VIRT_POLICY_MAX];

	for (size_t i = 0; i < _VIRT_POLICY_MAX; i++)
		policies[i] = virt_policy_to_string((enum virt_policy)i);
	header(f, "virtd_info", "gauge", "virtd's version, as a label; always 1.");
	fputs("virtd_info{version=\"", f);
	put_label(f, s->version);
	fputs("\"} 1\n", f);
	seconds(f, "virtd_start_time_seconds", "When this virtd started, in seconds since the epoch; the counters count from then.",
		s->counters.start_usec);
	enum_gauge(f, "virtd_policy", "policy", "The configured policy (Policy= of virtd.conf): 1 for the one in force.",
		   policies, ELEMENTSOF(policies), virt_policy_to_string(s->policy));
	enum_gauge(f, "virtd_applied_policy", "policy",
		   "The policy the host is set up for now, judged from the kernel: 1 for that one, none before the first reconcile.",
		   policies, ELEMENTSOF(policies), s->applied_policy);
	enum_gauge(f, "virtd_state", "state",
		   "virtd's State: 1 for the current one (holds: the policy holds and the CPUs show it; locked: a foreign "
		   "hypervisor holds the lock).", metrics_states, METRICS_N_STATES, s->state);
}

static void render_host(FILE *f, const struct metrics_snapshot *s)
{
	gauge(f, "virtd_cpus_online", "Online CPUs, as virthw reported them at the last observation.", s->n_cpus_online);
	gauge(f, "virtd_cpus_virtualization_on", "Online CPUs with VMX or SVM on at the last observation.", s->n_cpus_on);
	gauge(f, "virtd_cpus_expected_on", "Online CPUs on which the policy wants VMX or SVM on.", s->n_cpus_expected_on);
	gauge(f, "virtd_cpus_mismatched", "Online CPUs not in the state the policy wants (0 when verification passed).",
	      s->n_cpus_mismatched);
	gauge(f, "virtd_vms", "KVM VMs running, virtd's own pinned VM not counted.", s->n_vms);
	gauge(f, "virtd_pinned_vm", "1 while virtd holds its own VM to keep virtualization on (policy boot).", s->pinned_vm);
	gauge(f, "virtd_foreign_lock_holders", "Foreign-hypervisor locks held (virtctl lock).", s->n_locks_held);
	gauge(f, "virtd_foreign_lock_waiters", "Foreign-hypervisor lock requests waiting for KVM to get out of the way.",
	      s->n_locks_waiting);
}

static void render_counters(FILE *f, const struct metrics_snapshot *s)
{
	const struct manager_counters *c = &s->counters;

	header(f, "virtd_state_transitions_total", "counter", "Times virtd's State became each value, since virtd started.");
	for (size_t i = 0; i < METRICS_N_STATES; i++)
		fprintf(f, "virtd_state_transitions_total{state=\"%s\"} %" PRIu64 "\n", metrics_states[i],
			s->state_transitions[i]);
	counter(f, "virtd_reconciles_total", "Reconcile passes (observe, decide, act, verify) since virtd started.",
		c->reconciles);
	counter(f, "virtd_actions_total", "Actions applied successfully (module loads and unloads, drop-in writes, the pinned VM).",
		c->actions);
	counter(f, "virtd_actions_failed_total", "Actions that failed, each try counted.", c->actions_failed);
	counter(f, "virtd_config_reloads_total", "Configuration reloads accepted (SIGHUP, virtctl reload).", c->reloads);
	counter(f, "virtd_config_reloads_failed_total", "Configuration reloads refused for an invalid file.",
		c->reloads_failed);
	seconds(f, "virtd_last_verification_timestamp_seconds",
		"When virtd last verified every CPU against the policy, in seconds since the epoch (0: not yet).",
		c->last_verify_usec);
}

int metrics_render(const struct metrics_snapshot *s, char **ret)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	render_state(f, s);
	render_host(f, s);
	render_counters(f, s);
	if (ferror(f) || fclose(f) != 0) {
		free(text);
		return -ENOMEM;
	}
	*ret = text;
	return 0;
}

static int write_all(int fd, const char *text)
{
	size_t left = strlen(text);

	while (left > 0) {
		ssize_t k = write(fd, text, left);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		text += k;
		left -= (size_t)k;
	}
	return 0;
}

int metrics_write_file(const char *path, const char *text, char *err, size_t size)
{
	_cleanup_free_ char *tmp = NULL;
	const char *slash = strrchr(path, '/');
	int fd, r;

	if (!slash || !slash[1]) {
		snprintf(err, size, "%s: not a path of a file", path);
		return -EINVAL;
	}
	/* "DIR/.virtd.prom.XXXXXX": the collector reads *.prom only, so never this one. */
	if (asprintf(&tmp, "%.*s/.%s.XXXXXX", (int)(slash - path), path, slash + 1) < 0) {
		tmp = NULL;
		snprintf(err, size, "%s: out of memory", path);
		return -ENOMEM;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(err, size, "cannot create a file in %.*s: %s (%s)", (int)(slash - path) ?: 1, path, strerror(-r),
			 r == -EROFS ? "virtd.service's ProtectSystem=strict: add the directory with ReadWritePaths= "
				       "(systemctl edit virtd)" : "does the directory exist, and may virtd write there?");
		return r;
	}
	r = fchmod(fd, 0644) < 0 ? -errno : 0;
	if (r >= 0)
		r = write_all(fd, text);
	if (close(fd) < 0 && r >= 0)
		r = -errno;
	if (r < 0) {
		snprintf(err, size, "cannot write %s: %s", tmp, strerror(-r));
		(void)unlink(tmp);
		return r;
	}
	if (rename(tmp, path) < 0) {
		r = -errno;
		snprintf(err, size, "cannot rename %s to %s: %s", tmp, path, strerror(-r));
		(void)unlink(tmp);
		return r;
	}
	return 0;
}

struct metrics {
	struct manager *m;
	sd_event_source *defer;		/* one write per event-loop turn, however many changes */
	uint64_t transitions[METRICS_N_STATES];
	char written[CONFIG_METRICS_FILE_MAX];	/* the file virtd wrote last, "" when none */
	char error[512];			/* the last write's error, logged once */
};

static void set_error(metrics *mt, const char *e)
{
	if (strcmp(mt->error, e) == 0)
		return;
	if (*e)
		log_warning("Failed to write the metrics file: %s; virtd goes on without it and tries again on the next change", e);
	else if (mt->error[0])
		log_info("Metrics file %s written again", mt->m->cfg.metrics_file);
	snprintf(mt->error, sizeof(mt->error), "%s", e);
}

/* A file virtd wrote but no longer should (File= changed or removed): it would show a state that is gone. */
static void remove_written(metrics *mt)
{
	if (!mt->written[0])
		return;
	if (unlink(mt->written) < 0 && errno != ENOENT)
		log_warning_errno(-errno, "Failed to remove the old metrics file %s: %m", mt->written);
	else
		log_info("Metrics file %s removed", mt->written);
	mt->written[0] = '\0';
}

void metrics_update(metrics *mt)
{
	const char *path = mt->m->cfg.metrics_file;
	_cleanup_free_ char *text = NULL;
	struct metrics_snapshot s;
	char err[512];

	if (strcmp(path, mt->written) != 0)
		remove_written(mt);
	if (!*path) {
		/* Off: an old error is moot, and nothing was written again. */
		mt->error[0] = '\0';
		return;
	}
	metrics_snapshot_take(mt->m, mt->transitions, &s);
	if (metrics_render(&s, &text) < 0) {
		set_error(mt, "out of memory");
		return;
	}
	if (metrics_write_file(path, text, err, sizeof(err)) < 0) {
		set_error(mt, err);
		return;
	}
	if (!mt->written[0])
		log_info("Metrics: writing %s on every change", path);
	snprintf(mt->written, sizeof(mt->written), "%s", path);
	set_error(mt, "");
}

static int on_defer(sd_event_source *s, void *userdata)
{
	(void)s;
	metrics_update(userdata);
	return 0;
}

static void queue_update(metrics *mt)
{
	if (mt->m->cfg.metrics_file[0] || mt->written[0])
		(void)sd_event_source_set_enabled(mt->defer, SD_EVENT_ONESHOT);
}

static void on_changed(void *userdata, const struct manager_published *old)
{
	metrics *mt = userdata;
	int i;

	if (strcmp(old->state, mt->m->state) != 0 && (i = state_index(mt->m->state)) >= 0)
		mt->transitions[i]++;
	queue_update(mt);
}

static void on_reconciled(void *userdata)
{
	/* The counters and the verification time moved even when nothing published did. */
	queue_update(userdata);
}

int metrics_new(struct manager *m, metrics **ret)
{
	_cleanup_(metrics_freep) metrics *mt = NULL;
	int r;

	mt = calloc(1, sizeof(*mt));
	if (!mt)
		return log_error_errno(-ENOMEM, "Failed to set up the metrics: %m");
	mt->m = m;
	r = sd_event_add_defer(m->event, &mt->defer, on_defer, mt);
	if (r < 0)
		return log_error_errno(r, "Failed to set up the metrics event source: %m");
	(void)sd_event_source_set_enabled(mt->defer, SD_EVENT_OFF);
	(void)sd_event_source_set_description(mt->defer, "metrics");
	r = manager_add_observer(m, &(const struct manager_observer) {
					 .changed = on_changed,
					 .reconciled = on_reconciled,
				 }, mt);
	if (r < 0)
		return log_error_errno(r, "Failed to observe the manager for the metrics: %m");
	*ret = TAKE_PTR(mt);
	return 0;
}

metrics *metrics_free(metrics *mt)
{
	if (!mt)
		return NULL;
	manager_remove_observer(mt->m, mt);
	sd_event_source_unref(mt->defer);
	remove_written(mt);
	free(mt);
	return NULL;
}

const char *metrics_error(const metrics *mt)
{
	return mt ? mt->error : "";
}
