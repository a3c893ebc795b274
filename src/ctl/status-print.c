/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* status-print.c: the human view of virtd's status document (pure: JSON in, text out). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output.h"
#include "status-print.h"
#include "virtctl-args.h"

/* As systemctl status: the longest key ("Parameters") plus a margin. */
#define KEY_WIDTH 11

/* Strings made for one rendering, freed together at its end. */
struct ctx {
	FILE *f;
	const struct status_print_options *o;
	char **owned;
	size_t n_owned, cap_owned;
	bool oom;
};

static const char *own(struct ctx *c, char *s)
{
	if (!s) {
		c->oom = true;
		return "?";
	}
	if (c->n_owned == c->cap_owned) {
		size_t ncap = c->cap_owned ? c->cap_owned * 2 : 32;
		char **t = realloc(c->owned, ncap * sizeof(*t));

		if (!t) {
			free(s);
			c->oom = true;
			return "?";
		}
		c->owned = t;
		c->cap_owned = ncap;
	}
	c->owned[c->n_owned++] = s;
	return s;
}

_printf_(2, 3)
static const char *fmt(struct ctx *c, const char *format, ...)
{
	char *s = NULL;
	va_list ap;

	va_start(ap, format);
	if (vasprintf(&s, format, ap) < 0)
		s = NULL;
	va_end(ap);
	return own(c, s);
}

/*
 * A copy of s safe for a terminal: C0 and C1 control characters and DEL
 * become '?', so a VM's command line cannot move the cursor or change the
 * title of an administrator's terminal.  With max > 0, at most max
 * characters, then "...".  NULL gives "-".
 */
static const char *clean(struct ctx *c, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t chars = 0;
	char *out, *o;

	if (!s)
		return "-";
	out = malloc(strlen(s) + 4);
	if (!out)
		return own(c, NULL);
	o = out;
	while (*p) {
		if (max > 0 && chars == max) {
			o = stpcpy(o, "...");
			break;
		}
		chars++;
		if (*p < 0x20 || *p == 0x7f) {
			*o++ = '?';
			p++;
		} else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			*o++ = '?';
			p += 2;
		} else {
			/* The parser admits only valid UTF-8: copy one character. */
			*o++ = (char)*p++;
			while ((*p & 0xc0) == 0x80)
				*o++ = (char)*p++;
		}
	}
	*o = '\0';
	return own(c, out);
}

_printf_(4, 5)
static void kv(struct ctx *c, const char *key, const char *color, const char *format, ...)
{
	char *v = NULL;
	va_list ap;

	va_start(ap, format);
	if (vasprintf(&v, format, ap) < 0) {
		v = NULL;
		c->oom = true;
	}
	va_end(ap);
	fprintf(c->f, "%*s: ", KEY_WIDTH, key);
	if (c->o->color && color)
		fprintf(c->f, "%s%s%s\n", color, v ? v : "?", ANSI_NORMAL);
	else
		fprintf(c->f, "%s\n", v ? v : "?");
	free(v);
}

/* A continuation line under the value column of the Key: value lines. */
static void kv_more(struct ctx *c, const char *value)
{
	fprintf(c->f, "%*s  %s\n", KEY_WIDTH, "", value);
}

/* Typed lookups: absent, null and wrong-typed values all read as missing. */
static const char *str_of(const json_object *o, const char *key)
{
	return jv_str(jv_get(o, key));
}

static bool bool_of(const json_object *o, const char *key, bool *ret)
{
	return jv_get_bool(jv_get(o, key), ret) >= 0;
}

static bool u64_of(const json_object *o, const char *key, uint64_t *ret)
{
	return jv_get_u64(jv_get(o, key), ret) >= 0;
}

static const char *yes_no(const json_object *o, const char *key)
{
	bool b;

	return bool_of(o, key, &b) ? (b ? "yes" : "no") : "-";
}

struct state_look {
	const char *state;
	const char *words;      /* after "policy NAME " in the verdict line */
	const char *color;
};

static const struct state_look states[] = {
	{ "holds", "holds", ANSI_GREEN },
	{ "pending", "is pending", ANSI_YELLOW },
	{ "cannot-hold", "cannot hold", ANSI_RED },
	{ "mismatch", "does not hold (CPU state mismatch)", ANSI_RED },
	{ "starting", "not applied yet", ANSI_YELLOW },
	{ "locked", "is suspended: a foreign hypervisor holds the lock", ANSI_GREEN },
};

static const struct state_look *state_look(const char *state)
{
	for (size_t i = 0; state && i < ELEMENTSOF(states); i++)
		if (strcmp(state, states[i].state) == 0)
			return &states[i];
	return NULL;
}

int status_exit_code(const json_object *doc)
{
	const char *state = str_of(doc, "state");

	return state && (strcmp(state, "holds") == 0 || strcmp(state, "locked") == 0) ? EXIT_OK : EXIT_NOT_HOLDING;
}

static void print_verdict(struct ctx *c, const json_object *doc)
{
	const char *state = str_of(doc, "state");
	const struct state_look *look = state_look(state);
	const json_object *cpus = jv_get(doc, "cpus");
	const char *color = look ? look->color : ANSI_RED;
	const char *words = look ? look->words : fmt(c, "in unknown state '%s'", clean(c, state, 32));
	size_t online = 0, offline = 0, on = 0;
	uint64_t vms;

	if (!state)
		words = "in an unknown state (virtd sent none)";
	for (size_t i = 0; i < jv_len(cpus); i++) {
		const json_object *cpu = jv_at(cpus, i);
		bool b;

		if (!bool_of(cpu, "online", &b) || !b) {
			offline++;
			continue;
		}
		online++;
		if (bool_of(cpu, "virt_on", &b) && b)
			on++;
	}

	if (c->o->color)
		fprintf(c->f, "%s\u25cf%s ", color, ANSI_NORMAL);
	else
		fputs("\u25cf ", c->f);
	if (state && strcmp(state, "starting") == 0)
		fputs("virtd: starting, ", c->f);
	else
		fputs("virtd: ", c->f);
	fprintf(c->f, "policy %s %s", clean(c, str_of(doc, "policy"), 32), words);
	if (online > 0) {
		fprintf(c->f, " \u2014 virtualization %s, %zu/%zu CPUs", on > 0 ? "on" : "off", on, online);
		if (offline > 0)
			fprintf(c->f, " (%zu offline)", offline);
	} else
		fputs(" \u2014 no per-CPU state", c->f);
	if (u64_of(doc, "vm_count", &vms) && vms > 0)
		fprintf(c->f, ", %" PRIu64 " KVM VM%s", vms, vms == 1 ? "" : "s");
	fputc('\n', c->f);
}

static const char *module_words(struct ctx *c, const char *name, const char *state)
{
	if (!state)
		return fmt(c, "%s state unknown", name);
	if (strcmp(state, "loaded") == 0)
		return fmt(c, "%s loaded", name);
	if (strcmp(state, "unloaded") == 0)
		return fmt(c, "%s not loaded", name);
	if (strcmp(state, "builtin") == 0)
		return fmt(c, "%s built in", name);
	if (strcmp(state, "missing") == 0)
		return fmt(c, "%s not installed", name);
	return fmt(c, "%s %s", name, clean(c, state, 32));
}

static void print_kvm(struct ctx *c, const json_object *doc)
{
	const json_object *kvm = jv_get(doc, "kvm");
	const json_object *params;
	const char *vendor, *line;
	bool b;

	if (!jv_is_object(kvm)) {
		kv(c, "KVM", NULL, "-");
		return;
	}

	line = module_words(c, "kvm", str_of(kvm, "kvm_module"));
	vendor = str_of(kvm, "vendor_module");
	if (vendor)
		line = fmt(c, "%s, %s", line, module_words(c, clean(c, vendor, 32), str_of(kvm, "vendor_state")));
	else if (jv_null_at(kvm, "vendor_module"))
		line = fmt(c, "%s, no vendor module (no VMX/SVM)", line);
	if (bool_of(kvm, "enable_virt_at_load", &b))
		line = fmt(c, "%s, enable_virt_at_load=%c", line, b ? 'Y' : 'N');
	else if (jv_null_at(kvm, "enable_virt_at_load"))
		line = fmt(c, "%s, no enable_virt_at_load", line);
	if (bool_of(kvm, "dev_kvm", &b))
		line = fmt(c, "%s, /dev/kvm %s", line, b ? "present" : "absent");
	if (bool_of(kvm, "autoload_blocked", &b) && b)
		line = fmt(c, "%s, autoload blocked", line);
	kv(c, "KVM", NULL, "%s", line);

	if (str_of(kvm, "dropin"))
		kv(c, "Drop-in", NULL, "%s", clean(c, str_of(kvm, "dropin"), 0));
	else if (jv_null_at(kvm, "dropin"))
		kv(c, "Drop-in", NULL, "none");

	params = jv_get(kvm, "params");
	if (jv_obj_len(params) == 0)
		return;
	if (!c->o->full) {
		kv(c, "Parameters", NULL, "%zu (virtctl status --full lists them)", jv_obj_len(params));
		return;
	}
	/* In the document's order. */
	struct json_object_iterator it = json_object_iter_begin((json_object *)params);
	struct json_object_iterator end = json_object_iter_end((json_object *)params);
	for (size_t i = 0; !json_object_iter_equal(&it, &end); i++, json_object_iter_next(&it)) {
		const char *value = jv_str(json_object_iter_peek_value(&it));
		const char *item = fmt(c, "%s=%s", clean(c, json_object_iter_peek_name(&it), 0),
				       value ? clean(c, value, 0) : "?");

		if (i == 0)
			kv(c, "Parameters", NULL, "%s", item);
		else
			kv_more(c, item);
	}
}

static const char *vm_words(struct ctx *c, const json_object *vm)
{
	const char *cmdline = str_of(vm, "cmdline"), *comm = str_of(vm, "comm");
	size_t max = c->o->full ? 0 : STATUS_CMDLINE_MAX;
	const char *what, *pid;
	uint64_t u, n;

	pid = u64_of(vm, "pid", &u) ? fmt(c, "%" PRIu64, u) : "?";
	if (cmdline && *cmdline)
		what = clean(c, cmdline, max);
	else if (comm && *comm)
		what = fmt(c, "[%s]", clean(c, comm, 32));
	else
		what = "?";
	if (u64_of(vm, "vms", &n) && n > 1)
		return fmt(c, "pid %s %s (%" PRIu64 " VMs)", pid, what, n);
	return fmt(c, "pid %s %s", pid, what);
}

/* A VM list entry of KVM's own (an older virtd has no "owner"): a shared hypervisor's are shown under it. */
static bool vm_is_kvms(const json_object *vm)
{
	const char *owner = str_of(vm, "owner");

	return !owner || strcmp(owner, "kvm") == 0;
}

static void print_vms(struct ctx *c, const json_object *doc)
{
	const json_object *vms = jv_get(doc, "vms"), *only = NULL;
	size_t n = 0;
	const char *count;
	uint64_t u;
	bool b;

	for (size_t i = 0; i < jv_len(vms); i++)
		if (vm_is_kvms(jv_at(vms, i))) {
			only = jv_at(vms, i);
			n++;
		}
	count = u64_of(doc, "vm_count", &u) ? fmt(c, "%" PRIu64, u) : "-";
	if (n == 1)
		kv(c, "VMs", NULL, "%s (%s)", count, vm_words(c, only));
	else {
		kv(c, "VMs", NULL, "%s", count);
		for (size_t i = 0; i < jv_len(vms); i++)
			if (vm_is_kvms(jv_at(vms, i)))
				kv_more(c, vm_words(c, jv_at(vms, i)));
	}

	if (bool_of(doc, "pinned_vm", &b))
		kv(c, "Pinned VM", NULL, "%s", b ? "yes (virtd's own empty KVM VM, held under boot)" : "no");
	else
		kv(c, "Pinned VM", NULL, "-");
}

/* "5s ago", "3min 5s ago", "2h 3min ago", "4d 2h ago" */
static const char *ago(struct ctx *c, uint64_t since_usec)
{
	uint64_t s;

	if (c->o->now_usec == 0 || since_usec > c->o->now_usec)
		return NULL;
	s = (c->o->now_usec - since_usec) / 1000000;
	if (s < 60)
		return fmt(c, "%" PRIu64 "s ago", s);
	if (s < 3600)
		return fmt(c, "%" PRIu64 "min %" PRIu64 "s ago", s / 60, s % 60);
	if (s < 86400)
		return fmt(c, "%" PRIu64 "h %" PRIu64 "min ago", s / 3600, s / 60 % 60);
	return fmt(c, "%" PRIu64 "d %" PRIu64 "h ago", s / 86400, s / 3600 % 24);
}

/* "virtualbox (pid 1234) since 12:00:03, 5s ago: VBoxHeadless --startvm win11" */
static const char *lock_words(struct ctx *c, const json_object *l)
{
	const char *why = str_of(l, "why"), *line, *when;
	uint64_t pid, since;

	line = fmt(c, "%s (pid %s)", clean(c, str_of(l, "who"), 64),
		   u64_of(l, "pid", &pid) ? fmt(c, "%" PRIu64, pid) : "?");
	if (u64_of(l, "since_usec", &since) && since > 0) {
		time_t t = (time_t)(since / 1000000);
		struct tm tm;
		char hms[32];

		if (localtime_r(&t, &tm) && strftime(hms, sizeof(hms), "%H:%M:%S", &tm) > 0) {
			when = ago(c, since);
			line = fmt(c, "%s since %s%s%s", line, hms, when ? ", " : "", when ? when : "");
		}
	}
	if (why && *why)
		line = fmt(c, "%s: %s", line, clean(c, why, c->o->full ? 0 : STATUS_CMDLINE_MAX));
	return line;
}

static void print_locks(struct ctx *c, const json_object *doc)
{
	const json_object *locks = jv_get(doc, "locks");
	size_t n = jv_len(locks);
	const char *waiting = NULL;
	uint64_t w;

	if (!jv_is_array(locks))
		return;
	if (u64_of(doc, "lock_waiting", &w) && w > 0)
		waiting = fmt(c, "%" PRIu64 " request%s waiting for KVM VMs to end", w, w == 1 ? "" : "s");
	if (n == 0) {
		if (waiting)
			kv(c, "Locks", NULL, "none held, %s", waiting);
		else
			kv(c, "Locks", NULL, "none");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const char *line = lock_words(c, jv_at(locks, i));

		if (i == 0)
			kv(c, "Locks", NULL, "%s", line);
		else
			kv_more(c, line);
	}
	if (waiting)
		kv_more(c, waiting);
}

/* "foreignhv 1.0: loaded (foreignhv), mode exclusive, held by foreignhv (pid 42)", then the mode's reason. */
static void hypervisor_lines(struct ctx *c, const json_object *h, bool *first)
{
	const json_object *mods = jv_get(h, "modules"), *holders = jv_get(h, "holders"), *vms = jv_get(h, "vms");
	const char *version = str_of(h, "version"), *line, *loaded = "", *reason = str_of(h, "mode_reason");
	bool b, forced = false;
	size_t n_handoff = 0;

	for (size_t i = 0; i < jv_len(mods); i++)
		if (bool_of(jv_at(mods, i), "loaded", &b) && b)
			loaded = fmt(c, "%s%s%s", loaded, *loaded ? ", " : "", clean(c, str_of(jv_at(mods, i), "name"), 64));
	(void)bool_of(h, "mode_forced", &forced);
	line = fmt(c, "%s%s%s: %s, mode %s%s", clean(c, str_of(h, "name"), 32), version ? " " : "",
		   version ? clean(c, version, 48) : "",
		   bool_of(h, "loaded", &b) && b ? fmt(c, "loaded (%s)", loaded) : "not loaded",
		   clean(c, str_of(h, "mode"), 16), forced ? " (forced)" : "");
	for (size_t i = 0; i < jv_len(holders); i++) {
		const json_object *l = jv_at(holders, i);
		uint64_t pid;
		bool shared = false, handoff = false;

		(void)bool_of(l, "shared", &shared);
		(void)bool_of(l, "handoff", &handoff);
		line = fmt(c, "%s%s %s (pid %s%s%s)", line, i == 0 ? ", held by" : ",", clean(c, str_of(l, "who"), 64),
			   u64_of(l, "pid", &pid) ? fmt(c, "%" PRIu64, pid) : "?", shared ? ", shared" : "",
			   handoff ? ", hand-off" : "");
		n_handoff += handoff;
	}
	if (*first)
		kv(c, "Hypervisors", NULL, "%s", line);
	else
		kv_more(c, line);
	*first = false;
	if (reason && *reason)
		kv_more(c, fmt(c, "  %s", clean(c, reason, c->o->full ? 0 : STATUS_CMDLINE_MAX)));
	/* The processes a hand-off holds the lock for: the lock goes when the last has exited. */
	for (size_t i = 0; n_handoff > 0 && i < jv_len(holders); i++) {
		const json_object *l = jv_at(holders, i), *ps = jv_get(l, "processes");
		uint64_t pid, n = 0;

		if (!jv_is_array(ps))
			continue;
		line = "  Hand-off for:";
		for (size_t k = 0; k < jv_len(ps); k++) {
			const json_object *pr = jv_at(ps, k);
			const char *comm = str_of(pr, "comm");

			line = fmt(c, "%s%s %s (pid %s)", line, k ? "," : "", comm ? clean(c, comm, 16) : "?",
				   u64_of(pr, "pid", &pid) ? fmt(c, "%" PRIu64, pid) : "?");
		}
		if (u64_of(l, "n_processes", &n) && n > jv_len(ps))
			line = fmt(c, "%s and %" PRIu64 " more", line, n - jv_len(ps));
		kv_more(c, line);
	}
	/* Its own VMs inside KVM (shared mode): not KVM VMs, not in the VM count. */
	if (jv_len(vms) > 0) {
		line = "  VMs:";
		for (size_t i = 0; i < jv_len(vms); i++) {
			const json_object *v = jv_at(vms, i);
			const char *name = str_of(v, "name");
			uint64_t pid;

			line = fmt(c, "%s%s %s (pid %s)", line, i ? "," : "", name ? clean(c, name, 64) : "?",
				   u64_of(v, "pid", &pid) ? fmt(c, "%" PRIu64, pid) : "?");
		}
		kv_more(c, line);
	}
}

/* "Hand-off: active, 1 of 3 programs watched" (--full: which), "off (HandOff=no)" or "unavailable: why". */
static void print_handoff(struct ctx *c, const json_object *doc)
{
	const json_object *ho = jv_get(doc, "handoff"), *hvs = jv_get(doc, "hypervisors");
	const char *state = str_of(ho, "state"), *reason = str_of(ho, "reason");
	size_t n = 0, n_watched = 0;

	if (!state)
		return;
	for (size_t i = 0; i < jv_len(hvs); i++) {
		const json_object *progs = jv_get(jv_at(hvs, i), "handoff_programs");

		for (size_t k = 0; k < jv_len(progs); k++) {
			bool w = false;

			n++;
			if (bool_of(jv_at(progs, k), "watched", &w) && w)
				n_watched++;
		}
	}
	if (strcmp(state, "off") == 0)
		kv(c, "Hand-off", NULL, "off (HandOff=no in virtd.conf)");
	else if (strcmp(state, "active") == 0)
		kv(c, "Hand-off", NULL, "active, %zu of %zu program%s watched%s%s", n_watched, n, n == 1 ? "" : "s",
		   reason ? ": " : "", reason ? clean(c, reason, STATUS_CMDLINE_MAX) : "");
	else
		kv(c, "Hand-off", NULL, "%s: %s; virtctl lock still works", clean(c, state, 16),
		   reason ? clean(c, reason, STATUS_CMDLINE_MAX) : "no reason given");
	if (!c->o->full)
		return;
	for (size_t i = 0; i < jv_len(hvs); i++) {
		const json_object *progs = jv_get(jv_at(hvs, i), "handoff_programs");

		for (size_t k = 0; k < jv_len(progs); k++) {
			bool w = false;

			(void)bool_of(jv_at(progs, k), "watched", &w);
			kv_more(c, fmt(c, "  %s (%s): %s", clean(c, str_of(jv_at(progs, k), "path"), 0),
				       clean(c, str_of(jv_at(hvs, i), "name"), 32), w ? "watched" : "not watched"));
		}
	}
}

/*
 * The profiles' hypervisors that are here (a module loaded) or hold the
 * lock; with --full every profile, so that the modes can be checked before
 * anything is installed.
 */
static void print_hypervisors(struct ctx *c, const json_object *doc)
{
	const json_object *hvs = jv_get(doc, "hypervisors"), *errs = jv_get(doc, "profile_errors");
	bool first = true;
	size_t n_known;

	if (!jv_is_array(hvs))
		return;
	n_known = jv_len(hvs);
	for (size_t i = 0; i < n_known; i++) {
		const json_object *h = jv_at(hvs, i);
		bool loaded = false;

		if (c->o->full || (bool_of(h, "loaded", &loaded) && loaded) || jv_len(jv_get(h, "holders")) > 0 ||
		    jv_len(jv_get(h, "vms")) > 0)
			hypervisor_lines(c, h, &first);
	}
	if (first)
		kv(c, "Hypervisors", NULL, "none loaded (%zu profile%s)", n_known, n_known == 1 ? "" : "s");
	print_handoff(c, doc);
	/* Always shown: a profile that is not used is a mistake to fix. */
	for (size_t i = 0; i < jv_len(errs); i++) {
		const json_object *e = jv_at(errs, i);

		kv_more(c, fmt(c, "profile %s not used: %s", clean(c, str_of(e, "name"), 32),
			       clean(c, str_of(e, "message"), c->o->full ? 0 : STATUS_CMDLINE_MAX)));
	}
}

/* The decided timer's figures: rate, TSC, maximum delay and threshold; pin control and erratum. */
static void print_timer_figures(struct ctx *c, const json_object *t, bool has_min, uint64_t min)
{
	char dur[DURATION_MAX], dur2[DURATION_MAX];
	const char *line;
	uint64_t u;
	bool b;

	if (u64_of(t, "rate", &u))
		line = fmt(c, "rate %" PRIu64, u);
	else
		line = "rate unknown";
	if (bool_of(t, "tsc_assumed", &b) && b)
		line = fmt(c, "%s, TSC kHz unknown (5 GHz assumed)", line);
	else if (u64_of(t, "tsc_khz", &u))
		line = fmt(c, "%s, TSC %" PRIu64 " kHz", line, u);
	if (u64_of(t, "max_delay_ns", &u))
		line = fmt(c, "%s, maximum delay %s", line,
			   u == UINT64_MAX ? "beyond 584 years" : format_duration_ns(dur, sizeof(dur), u));
	if (has_min)
		line = fmt(c, "%s, threshold %s", line, format_duration_ns(dur2, sizeof(dur2), min));
	kv_more(c, line);
	line = NULL;
	if (bool_of(t, "pin_control", &b))
		line = fmt(c, "pin control %s", b ? "yes" : "no");
	if (bool_of(t, "erratum", &b))
		line = fmt(c, "%s%s", line ? fmt(c, "%s, ", line) : "", b ? "on the errata list" : "no erratum");
	if (line)
		kv_more(c, line);
}

/* What virthw's own run path uses, and what KVM's preemption_timer= is. */
static void print_timer_sides(struct ctx *c, const json_object *t)
{
	const json_object *mod = jv_get(t, "module"), *kvm = jv_get(t, "kvm_intel");
	const char *err = str_of(t, "module_error"), *state = str_of(kvm, "state");

	if (jv_is_object(mod)) {
		bool m_use = false, matches = true;
		const char *line;

		(void)bool_of(mod, "use", &m_use);
		(void)bool_of(mod, "matches", &matches);
		line = fmt(c, "virthw: %s (%s)%s", m_use ? "used" : "not used", clean(c, str_of(mod, "reason"), 32),
			   matches ? ", as virtd decided" : ", NOT as virtd decided");
		if (!matches)
			kv(c, "Mismatch", ANSI_RED, "%s", line);
		else
			kv_more(c, line);
	} else if (err) {
		kv_more(c, fmt(c, "virthw: %s", clean(c, err, 0)));
	}

	if (state) {
		const char *color = strcmp(state, "applied") == 0 || strcmp(state, "not-loaded") == 0 ? NULL :
				    strcmp(state, "pending") == 0 ? ANSI_YELLOW : ANSI_RED;

		kv(c, "KVM timer", color, "%s: %s", clean(c, state, 32), clean(c, str_of(kvm, "reason"), 0));
	}
}

/* The "timer" object of a virtd that decides the preemption timer; false when there is none. */
static bool print_timer(struct ctx *c, const json_object *doc)
{
	const json_object *t = jv_get(doc, "timer");
	const char *mode, *why;
	char dur[DURATION_MAX];
	uint64_t min = 0;
	bool decided = false, applies = true, use = false, warning = false, has_min;

	if (!jv_is_object(t))
		return false;
	mode = clean(c, str_of(t, "mode"), 16);
	has_min = u64_of(t, "min_max_delay_ns", &min);
	(void)bool_of(t, "decided", &decided);
	(void)bool_of(t, "applies", &applies);

	if (!decided) {
		kv(c, "Timer", ANSI_YELLOW, "undecided: %s (mode %s)", clean(c, str_of(jv_get(t, "kvm_intel"), "reason"), 0),
		   mode);
		return true;
	}
	if (!applies) {
		if (has_min)
			kv(c, "Timer", NULL, "does not apply: not VMX (mode %s, min-max-delay %s)", mode,
			   format_duration_ns(dur, sizeof(dur), min));
		else
			kv(c, "Timer", NULL, "does not apply: not VMX (mode %s)", mode);
		return true;
	}

	(void)bool_of(t, "use", &use);
	(void)bool_of(t, "warning", &warning);
	why = str_of(t, "reason_text");
	kv(c, "Timer", warning ? ANSI_YELLOW : NULL, "%s: %s (mode %s)", use ? "used" : "not used",
	   why ? clean(c, why, 0) : clean(c, str_of(t, "reason"), 32), mode);
	print_timer_figures(c, t, has_min, min);
	print_timer_sides(c, t);
	return true;
}

static void print_hardware(struct ctx *c, const json_object *doc)
{
	const json_object *caps = jv_get(doc, "caps");
	const json_object *config = jv_get(doc, "config");
	const char *feature = str_of(caps, "feature"), *line, *mode;
	char dur[DURATION_MAX];
	uint64_t u, fam, model, step;
	bool b;

	if (jv_is_object(caps)) {
		if (!feature)
			line = "-";
		else if (strcmp(feature, "vmx") == 0)
			line = "VMX (Intel)";
		else if (strcmp(feature, "svm") == 0)
			line = "SVM (AMD)";
		else if (strcmp(feature, "none") == 0)
			line = "no VMX/SVM";
		else
			line = clean(c, feature, 16);
		if (u64_of(caps, "tsc_khz", &u) && u > 0)
			line = fmt(c, "%s, TSC %" PRIu64 " kHz", line, u);
		if (u64_of(caps, "cpuid_family", &fam) && u64_of(caps, "cpuid_model", &model) &&
		    u64_of(caps, "cpuid_stepping", &step))
			line = fmt(c, "%s, family %" PRIu64 " model %" PRIu64 " stepping %" PRIu64, line, fam, model, step);
		kv(c, "Hardware", NULL, "%s", line);

		/* The preemption timer is VMX's: on SVM these are all null. */
		if (print_timer(c, doc)) {
			/* virtd's own decision says it all. */
		} else if (u64_of(caps, "timer_max_delay_ns", &u)) {
			line = fmt(c, "max delay %s", format_duration_ns(dur, sizeof(dur), u));
			if (u64_of(caps, "timer_rate", &u))
				line = fmt(c, "%s (rate %" PRIu64 ")", line, u);
			if (bool_of(caps, "timer_pin_control", &b))
				line = fmt(c, "%s, pin control %s", line, b ? "yes" : "no");
			if (bool_of(caps, "timer_erratum", &b))
				line = fmt(c, "%s, %s", line, b ? "erratum: timer broken on this CPU" : "no erratum");
			kv(c, "Timer", NULL, "%s", line);
		}
	}

	else
		(void)print_timer(c, doc);

	/* The timer settings matter only where there is a VMX preemption timer. */
	mode = str_of(config, "timer_mode");
	if (jv_is_object(jv_get(doc, "timer"))) {
		/* Printed with the decision. */
	} else if (mode && (c->o->full || !feature || strcmp(feature, "vmx") == 0)) {
		if (u64_of(config, "min_max_delay_ns", &u))
			kv(c, "Timer mode", NULL, "%s (min-max-delay %s)", clean(c, mode, 16),
			   format_duration_ns(dur, sizeof(dur), u));
		else
			kv(c, "Timer mode", NULL, "%s", clean(c, mode, 16));
	}
}

enum check { CHECK_NONE, CHECK_PASS, CHECK_WARN, CHECK_FAIL };

static enum check cpu_check(const json_object *cpu)
{
	const char *expected = str_of(cpu, "expected"), *owner = str_of(cpu, "owner");
	bool online, ok;

	if (!bool_of(cpu, "online", &online) || !online)
		return CHECK_NONE;
	if (expected && strcmp(expected, "skip") == 0)
		return CHECK_NONE;
	if (!bool_of(cpu, "ok", &ok))
		return CHECK_WARN;
	if (!ok)
		return CHECK_FAIL;
	/* As promised, yet held by someone virtd does not manage. */
	if (owner && (strcmp(owner, "unknown") == 0 || strcmp(owner, "tdx") == 0))
		return CHECK_WARN;
	return CHECK_PASS;
}

/* One line that says why a check did not pass and what to do. */
static const char *cpu_hint(struct ctx *c, const json_object *cpu, enum check k, const char *id)
{
	const char *expected = str_of(cpu, "expected"), *owner = str_of(cpu, "owner");
	bool fw, on, has_on = bool_of(cpu, "virt_on", &on);
	const char *line;

	if (k == CHECK_WARN && !jv_get(cpu, "ok"))
		return fmt(c, "CPU %s: WARN: not verified by virtd", id);
	if (k == CHECK_WARN || k == CHECK_FAIL)
		line = fmt(c, "CPU %s: %s: ", id, k == CHECK_FAIL ? "FAIL" : "WARN");
	else
		return NULL;
	if (k == CHECK_FAIL)
		line = fmt(c, "%sexpected %s, virtualization is %s", line, clean(c, expected, 16),
			   has_on ? (on ? "on" : "off") : "unknown");
	else
		line = fmt(c, "%svirtualization is %s", line, has_on ? (on ? "on" : "off") : "unknown");
	if (owner && strcmp(owner, "unknown") == 0)
		line = fmt(c, "%s, held by a hypervisor other than KVM (VirtualBox? VMware?)", line);
	else if (owner && strcmp(owner, "tdx") == 0)
		line = fmt(c, "%s, held by TDX", line);
	else if (owner && strcmp(owner, "none") != 0)
		line = fmt(c, "%s, owner %s", line, clean(c, owner, 16));
	if (bool_of(cpu, "firmware_enabled", &fw) && !fw)
		line = fmt(c, "%s; the firmware disables it: enable VT-x/AMD-V in the firmware setup", line);
	return line;
}

static int print_cpus(struct ctx *c, const json_object *doc)
{
	static const char *const headers[] = { "CPU", "ONLINE", "FEATURE", "FIRMWARE", "ON", "EXPECTED", "OWNER", "CHECK" };
	static const char *const check_words[] = { "-", "PASS", "WARN", "FAIL" };
	static const char *const check_colors[] = { NULL, ANSI_GREEN, ANSI_YELLOW, ANSI_RED };
	const json_object *cpus = jv_get(doc, "cpus");
	_cleanup_(table_freep) table *t = NULL;
	const char **hints = NULL;
	size_t n_hints = 0;
	int r;

	if (jv_len(cpus) == 0) {
		const char *state = str_of(doc, "state");

		if (state && strcmp(state, "starting") == 0)
			fputs("\nNo per-CPU state yet: virtd is starting.\n", c->f);
		else
			fputs("\nNo per-CPU state from virtd (is the virthw module loaded?)\n", c->f);
		return 0;
	}
	t = table_new(ELEMENTSOF(headers), headers);
	hints = calloc(jv_len(cpus), sizeof(*hints));
	if (!t || !hints) {
		free(hints);
		return -ENOMEM;
	}
	for (size_t i = 0; i < jv_len(cpus); i++) {
		const json_object *cpu = jv_at(cpus, i);
		const char *cells[ELEMENTSOF(headers)], *colors[ELEMENTSOF(headers)] = {};
		enum check k = cpu_check(cpu);
		uint64_t id;
		bool b;

		cells[0] = u64_of(cpu, "cpu", &id) ? fmt(c, "%" PRIu64, id) : "?";
		cells[1] = yes_no(cpu, "online");
		if (bool_of(cpu, "online", &b) && !b)
			colors[1] = ANSI_YELLOW;
		cells[2] = clean(c, str_of(cpu, "feature"), 16);
		if (bool_of(cpu, "firmware_enabled", &b)) {
			cells[3] = b ? "enabled" : "disabled";
			colors[3] = b ? NULL : ANSI_RED;
		} else
			cells[3] = "-";
		cells[4] = yes_no(cpu, "virt_on");
		cells[5] = clean(c, str_of(cpu, "expected"), 16);
		cells[6] = clean(c, str_of(cpu, "owner"), 16);
		cells[7] = check_words[k];
		colors[7] = check_colors[k];
		r = table_add_row(t, cells, colors);
		if (r < 0) {
			free(hints);
			return r;
		}
		if (k == CHECK_WARN || k == CHECK_FAIL)
			hints[n_hints++] = cpu_hint(c, cpu, k, cells[0]);
	}
	fputc('\n', c->f);
	r = table_print(t, c->f, c->o->color);
	if (r >= 0 && n_hints > 0) {
		fputc('\n', c->f);
		for (size_t i = 0; i < n_hints; i++)
			fprintf(c->f, "%s\n", hints[i]);
	}
	free(hints);
	return r;
}

int status_print(FILE *f, const json_object *doc, const struct status_print_options *o)
{
	struct ctx c = { .f = f, .o = o };
	const struct state_look *look;
	const json_object *verify;
	const char *reason, *failed, *applied;
	uint64_t checked, bad;
	bool ok;
	int r;

	if (!jv_is_object(doc))
		return -EINVAL;

	print_verdict(&c, doc);

	applied = str_of(doc, "applied_policy");
	kv(&c, "Policy", NULL, "%s (applied: %s)", clean(&c, str_of(doc, "policy"), 32),
	   applied ? clean(&c, applied, 32) : "none");
	if (o->full && str_of(jv_get(doc, "config"), "path"))
		kv(&c, "Config", NULL, "%s", clean(&c, str_of(jv_get(doc, "config"), "path"), 0));
	look = state_look(str_of(doc, "state"));
	kv(&c, "State", look ? look->color : ANSI_RED, "%s", clean(&c, str_of(doc, "state"), 32));
	reason = str_of(doc, "reason");
	if (reason && *reason)
		kv(&c, "Reason", NULL, "%s", clean(&c, reason, 0));

	verify = jv_get(doc, "verify");
	if (bool_of(verify, "ok", &ok)) {
		const char *msg = str_of(verify, "message");

		if (ok && u64_of(verify, "checked", &checked) && checked == 0)
			kv(&c, "Verify", ANSI_YELLOW, "nothing checked: no per-CPU state");
		else if (ok && u64_of(verify, "checked", &checked))
			kv(&c, "Verify", NULL, "%" PRIu64 " CPU%s as promised", checked, checked == 1 ? "" : "s");
		else if (ok)
			kv(&c, "Verify", NULL, "CPUs as promised");
		else if (u64_of(verify, "mismatched", &bad) && u64_of(verify, "checked", &checked))
			kv(&c, "Verify", ANSI_RED, "%" PRIu64 " of %" PRIu64 " CPUs not as promised%s%s", bad, checked,
			   msg && *msg ? ": " : "", msg && *msg ? clean(&c, msg, 0) : "");
		else
			kv(&c, "Verify", ANSI_RED, "CPUs not as promised%s%s", msg && *msg ? ": " : "",
			   msg && *msg ? clean(&c, msg, 0) : "");
	}
	failed = str_of(doc, "actions_failed");
	if (failed && *failed)
		kv(&c, "Last error", ANSI_RED, "%s", clean(&c, failed, 0));

	print_kvm(&c, doc);
	print_vms(&c, doc);
	print_locks(&c, doc);
	print_hypervisors(&c, doc);
	print_hardware(&c, doc);
	if (o->full && str_of(doc, "version"))
		kv(&c, "Version", NULL, "virtd %s", clean(&c, str_of(doc, "version"), 32));

	r = print_cpus(&c, doc);

	for (size_t i = 0; i < c.n_owned; i++)
		free(c.owned[i]);
	free(c.owned);
	if (r < 0)
		return r;
	if (c.oom)
		return -ENOMEM;
	return ferror(f) ? -EIO : 0;
}

int status_print_text(FILE *f, const char *text, size_t len, const struct status_print_options *o,
		      char *err, size_t err_size)
{
	_cleanup_(json_object_putp) json_object *doc = NULL;
	char perr[256];
	int r;

	r = jv_parse(text, len, &doc, perr, sizeof(perr));
	if (r < 0) {
		snprintf(err, err_size, "virtd sent a status that is not valid JSON: %s", perr);
		return r;
	}
	if (!jv_is_object(doc)) {
		snprintf(err, err_size, "virtd sent a status that is a JSON %s, not an object",
			 jv_type_name(doc));
		return -EINVAL;
	}
	r = status_print(f, doc, o);
	if (r < 0) {
		snprintf(err, err_size, "could not print the status: %s", strerror(-r));
		return r;
	}
	return status_exit_code(doc);
}
