/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-metrics.c: the metrics file's renderer (every family, its HELP and
 * TYPE, the one-hot gauges, the counters, escaping) and its atomic write.
 * With VIRTD_METRICS_SAMPLES=DIR, each rendered state is also written to
 * DIR/NAME.prom for `promtool check metrics` (scripts/test.sh).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"
#include "model.h"
#include "tests.h"

#define T0 1765000000123456ULL	/* a start time, in microseconds since the epoch */

static const struct sample {
	const char *name;
	struct metrics_snapshot s;
} samples[] = {
	{ "starting", { .version = "0.1", .policy = VIRT_POLICY_FIRST_VM, .state = STATE_STARTING,
			.applied_policy = "", .counters = { .start_usec = T0 } } },
	{ "boot-holds", { .version = "0.1", .policy = VIRT_POLICY_BOOT, .state = STATE_HOLDS, .applied_policy = "boot",
			  .n_cpus_online = 4, .n_cpus_on = 4, .n_cpus_expected_on = 4, .pinned_vm = true,
			  .counters = { .reconciles = 3, .actions = 4, .start_usec = T0, .last_verify_usec = T0 + 2500000 },
			  .state_transitions = { [1] = 1 } } },
	{ "first-vm-pending", { .version = "0.1", .policy = VIRT_POLICY_NEVER, .state = STATE_PENDING,
				.applied_policy = "first-vm", .n_cpus_online = 2, .n_cpus_on = 2, .n_vms = 2,
				.n_cpus_mismatched = 2, .n_locks_waiting = 1,
				.counters = { .reconciles = 9, .actions = 6, .reloads = 1, .reloads_failed = 2,
					      .start_usec = T0, .last_verify_usec = T0 + 60000000 },
				.state_transitions = { [1] = 2, [2] = 1 } } },
	{ "locked", { .version = "0.1", .policy = VIRT_POLICY_BOOT, .state = STATE_LOCKED, .applied_policy = "boot",
		      .n_cpus_online = 2, .n_cpus_on = 2, .n_locks_held = 2, .n_locks_waiting = 3,
		      .counters = { .reconciles = 12, .actions = 8, .start_usec = T0, .last_verify_usec = T0 + 1 },
		      .state_transitions = { [1] = 2, [5] = 1 } } },
	{ "cannot-hold", { .version = "0.1\"x\\y\nz", .policy = VIRT_POLICY_NEVER, .state = STATE_CANNOT_HOLD,
			   .applied_policy = "first-vm", .n_cpus_online = 1, .n_cpus_on = 1, .n_cpus_mismatched = 1,
			   .counters = { .reconciles = 40, .actions = 1, .actions_failed = 17, .start_usec = T0,
					 .last_verify_usec = T0 },
			   .state_transitions = { [1] = 1, [2] = 3, [3] = 1, [4] = 1 } } },
};

/* Every family the file must have, with its type. */
static const struct family {
	const char *name;
	const char *type;
} families[] = {
	{ "virtd_info", "gauge" },
	{ "virtd_start_time_seconds", "gauge" },
	{ "virtd_policy", "gauge" },
	{ "virtd_applied_policy", "gauge" },
	{ "virtd_state", "gauge" },
	{ "virtd_cpus_online", "gauge" },
	{ "virtd_cpus_virtualization_on", "gauge" },
	{ "virtd_cpus_expected_on", "gauge" },
	{ "virtd_cpus_mismatched", "gauge" },
	{ "virtd_vms", "gauge" },
	{ "virtd_pinned_vm", "gauge" },
	{ "virtd_foreign_lock_holders", "gauge" },
	{ "virtd_foreign_lock_waiters", "gauge" },
	{ "virtd_state_transitions_total", "counter" },
	{ "virtd_reconciles_total", "counter" },
	{ "virtd_actions_total", "counter" },
	{ "virtd_actions_failed_total", "counter" },
	{ "virtd_config_reloads_total", "counter" },
	{ "virtd_config_reloads_failed_total", "counter" },
	{ "virtd_last_verification_timestamp_seconds", "gauge" },
};

/* The value of the sample line SERIES ("name" or "name{labels}") in TEXT, or NULL. */
static const char *value_of(const char *text, const char *series, char *buf, size_t size)
{
	size_t n = strlen(series);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, series, n) == 0 && p[n] == ' ') {
			const char *e = strchrnul(p + n + 1, '\n');

			snprintf(buf, size, "%.*s", (int)(e - (p + n + 1)), p + n + 1);
			return buf;
		}
	return NULL;
}

static size_t count_lines(const char *text, const char *prefix)
{
	size_t n = 0, k = strlen(prefix);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		n += strncmp(p, prefix, k) == 0;
	return n;
}

static void check_value(const struct sample *t, const char *text, const char *series, const char *want)
{
	char buf[64];

	CHECK_STR(value_of(text, series, buf, sizeof(buf)), want, "%s: %s is %s", t->name, series, want);
}

static void check_families(const struct sample *t, const char *text)
{
	char line[160];

	for (size_t i = 0; i < ELEMENTSOF(families); i++) {
		const struct family *f = &families[i];
		const char *type, *help;

		snprintf(line, sizeof(line), "# TYPE %s %s\n", f->name, f->type);
		type = strstr(text, line);
		CHECK(type && count_lines(text, line) == 1, "%s: one \"# TYPE %s %s\"", t->name, f->name, f->type);
		snprintf(line, sizeof(line), "# HELP %s ", f->name);
		help = strstr(text, line);
		CHECK(help && help < type && count_lines(text, line) == 1, "%s: %s has one HELP, before its TYPE", t->name,
		      f->name);
	}
	/* Nothing but comments and samples of the families above, no blank lines, one final newline. */
	for (const char *p = text; *p; p = strchr(p, '\n') + 1) {
		bool known = *p == '#';

		for (size_t i = 0; !known && i < ELEMENTSOF(families); i++) {
			size_t n = strlen(families[i].name);

			known = strncmp(p, families[i].name, n) == 0 && (p[n] == ' ' || p[n] == '{');
		}
		CHECK(known, "%s: line \"%.*s\" belongs to a family", t->name, (int)(strchrnul(p, '\n') - p), p);
		if (!strchr(p, '\n'))
			break;
	}
	CHECK(text[strlen(text) - 1] == '\n', "%s: ends with a newline", t->name);
}

static void check_one_hot(const struct sample *t, const char *text)
{
	char series[96], want[32];
	const char *policy = virt_policy_to_string(t->s.policy);

	for (int p = 0; p < _VIRT_POLICY_MAX; p++) {
		const char *name = virt_policy_to_string((enum virt_policy)p);

		snprintf(series, sizeof(series), "virtd_policy{policy=\"%s\"}", name);
		check_value(t, text, series, strcmp(name, policy) == 0 ? "1" : "0");
		snprintf(series, sizeof(series), "virtd_applied_policy{policy=\"%s\"}", name);
		check_value(t, text, series, strcmp(name, t->s.applied_policy) == 0 ? "1" : "0");
	}
	for (size_t i = 0; i < METRICS_N_STATES; i++) {
		snprintf(series, sizeof(series), "virtd_state{state=\"%s\"}", metrics_states[i]);
		check_value(t, text, series, strcmp(metrics_states[i], t->s.state) == 0 ? "1" : "0");
		snprintf(series, sizeof(series), "virtd_state_transitions_total{state=\"%s\"}", metrics_states[i]);
		snprintf(want, sizeof(want), "%llu", (unsigned long long)t->s.state_transitions[i]);
		check_value(t, text, series, want);
	}
	CHECK(count_lines(text, "virtd_state{") == METRICS_N_STATES, "%s: every state has its series", t->name);
}

static void check_numbers(const struct sample *t, const char *text)
{
	const struct metrics_snapshot *s = &t->s;
	const struct { const char *series; unsigned long long v; } plain[] = {
		{ "virtd_cpus_online", s->n_cpus_online },
		{ "virtd_cpus_virtualization_on", s->n_cpus_on },
		{ "virtd_cpus_expected_on", s->n_cpus_expected_on },
		{ "virtd_cpus_mismatched", s->n_cpus_mismatched },
		{ "virtd_vms", s->n_vms },
		{ "virtd_pinned_vm", s->pinned_vm },
		{ "virtd_foreign_lock_holders", s->n_locks_held },
		{ "virtd_foreign_lock_waiters", s->n_locks_waiting },
		{ "virtd_reconciles_total", s->counters.reconciles },
		{ "virtd_actions_total", s->counters.actions },
		{ "virtd_actions_failed_total", s->counters.actions_failed },
		{ "virtd_config_reloads_total", s->counters.reloads },
		{ "virtd_config_reloads_failed_total", s->counters.reloads_failed },
	};
	char want[48];

	for (size_t i = 0; i < ELEMENTSOF(plain); i++) {
		snprintf(want, sizeof(want), "%llu", plain[i].v);
		check_value(t, text, plain[i].series, want);
	}
	snprintf(want, sizeof(want), "%llu.%06llu", (unsigned long long)(s->counters.start_usec / 1000000),
		 (unsigned long long)(s->counters.start_usec % 1000000));
	check_value(t, text, "virtd_start_time_seconds", want);
	snprintf(want, sizeof(want), "%llu.%06llu", (unsigned long long)(s->counters.last_verify_usec / 1000000),
		 (unsigned long long)(s->counters.last_verify_usec % 1000000));
	check_value(t, text, "virtd_last_verification_timestamp_seconds", want);
}

static void save_sample(const char *dir, const char *name, const char *text)
{
	char path[512], err[512];

	snprintf(path, sizeof(path), "%s/unit-%s.prom", dir, name);
	CHECK(metrics_write_file(path, text, err, sizeof(err)) == 0, "sample %s saved for promtool (%s)", path, err);
}

static void test_render(void)
{
	const char *samples_dir = getenv("VIRTD_METRICS_SAMPLES");

	for (size_t i = 0; i < ELEMENTSOF(samples); i++) {
		const struct sample *t = &samples[i];
		_cleanup_free_ char *text = NULL;
		int r = metrics_render(&t->s, &text);

		CHECK(r == 0 && text, "%s: renders (%d)", t->name, r);
		if (!text)
			continue;
		check_families(t, text);
		check_one_hot(t, text);
		check_numbers(t, text);
		if (samples_dir)
			save_sample(samples_dir, t->name, text);
		if (tests_failed)
			printf("# %s:\n%s", t->name, text);
	}
}

static void test_escaping(void)
{
	_cleanup_free_ char *text = NULL;

	(void)metrics_render(&samples[ELEMENTSOF(samples) - 1].s, &text);
	CHECK(text && strstr(text, "virtd_info{version=\"0.1\\\"x\\\\y\\nz\"} 1\n"),
	      "a label value's quote, backslash and line feed are escaped");
}

static unsigned n_entries(const char *dir)
{
	_cleanup_(closedirp) DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	while (d && (e = readdir(d)))
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	return n;
}

static void test_write(void)
{
	char dir[] = "/tmp/test-metrics.XXXXXX", path[128], sub[128], err[512] = "";
	struct stat st1 = {}, st2 = {};
	char buf[64] = "";
	FILE *f;
	int r;

	CHECK(mkdtemp(dir) != NULL, "write: temporary directory");
	snprintf(path, sizeof(path), "%s/virtd.prom", dir);
	umask(077);
	r = metrics_write_file(path, "a 1\n", err, sizeof(err));
	CHECK(r == 0 && stat(path, &st1) == 0, "write: the file is there (%s)", err);
	CHECK((st1.st_mode & 07777) == 0644, "write: mode 0644 whatever the umask (%o)", st1.st_mode & 07777);
	r = metrics_write_file(path, "b 2\n", err, sizeof(err));
	CHECK(r == 0 && stat(path, &st2) == 0 && st2.st_ino != st1.st_ino, "write: replaced by a rename (a new inode)");
	f = fopen(path, "re");
	CHECK(f && fgets(buf, sizeof(buf), f) && strcmp(buf, "b 2\n") == 0, "write: the new text (%s)", buf);
	if (f)
		fclose(f);
	CHECK(n_entries(dir) == 1, "write: no temporary file left beside it");
	umask(022);

	snprintf(sub, sizeof(sub), "%s/missing/virtd.prom", dir);
	r = metrics_write_file(sub, "x\n", err, sizeof(err));
	CHECK(r == -ENOENT && strstr(err, "cannot create a file in") && strstr(err, "/missing") &&
	      strstr(err, "does the directory exist"), "write: a missing directory is named (%s)", err);

	/* A directory where the file should be: the rename fails, the temporary file goes. */
	snprintf(sub, sizeof(sub), "%s/dir.prom", dir);
	CHECK(mkdir(sub, 0755) == 0, "write: a directory in the way");
	r = metrics_write_file(sub, "x\n", err, sizeof(err));
	CHECK(r == -EISDIR && strstr(err, "cannot rename"), "write: ... is an error naming the rename (%s)", err);
	CHECK(n_entries(dir) == 2, "write: ... and leaves no temporary file");
	rmdir(sub);

	r = metrics_write_file("virtd.prom", "x\n", err, sizeof(err));
	CHECK(r == -EINVAL, "write: a bare name is refused");
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_render();
	test_escaping();
	test_write();
	return tests_finish();
}
