/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* profiles.c: hypervisor profiles read from ini files (inih), and the lock mode each gets on this host (pure but for profiles_load()). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "macro.h"
#include "profiles.h"
#include "quote.h"

static const char *const vendor_names[_PROFILE_VENDOR_MAX] = {
	[PROFILE_VENDOR_ANY] = "any",
	[PROFILE_VENDOR_INTEL] = "intel",
	[PROFILE_VENDOR_AMD] = "amd",
};

const char *profile_vendor_to_string(enum profile_vendor v)
{
	return (unsigned)v < _PROFILE_VENDOR_MAX ? vendor_names[v] : NULL;
}

struct pstate {
	const char *filename;
	const char *pos;
	unsigned line;
	struct hv_profile prof;
	struct config_diag *diags;
	size_t n_errors;
	int error;
	unsigned key_line[7];		/* where each [Profile] key was first set (profile_keys[]) */
};

static const char *const profile_keys[] = { "Description", "Modules", "VersionModule", "Devices", "Processes", "Who",
						    "HandOffPrograms" };

_printf_(4, 5)
static void pdiag(struct pstate *st, enum config_severity sev, unsigned line, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	if (sev == CONFIG_ERROR)
		st->n_errors++;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (config_diag_add(st->diags, sev, st->filename, line, "%s", text) < 0 && st->error == 0)
		st->error = -ENOMEM;
}

/* Blank-separated words into L; false (with a message) when one is too long or there are too many. */
static bool parse_list(struct pstate *st, const char *key, const char *value, struct profile_list *l)
{
	const char *p = value;

	l->n = 0;
	for (;;) {
		size_t n;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		n = strcspn(p, " \t");
		if (l->n >= PROFILE_LIST_MAX) {
			pdiag(st, CONFIG_ERROR, st->line, "%s= lists more than %d entries", key, PROFILE_LIST_MAX);
			return false;
		}
		if (n > PROFILE_ITEM_MAX) {
			pdiag(st, CONFIG_ERROR, st->line, "an entry of %s= is longer than %d bytes", key, PROFILE_ITEM_MAX);
			return false;
		}
		memcpy(l->items[l->n], p, n);
		l->items[l->n][n] = '\0';
		l->n++;
		p += n;
	}
	return true;
}

/* "any", ">=6.16", "<6.16" into R. */
static int parse_kernel(const char *s, struct profile_rule *r)
{
	unsigned major, minor;
	int n = -1;

	if (strcasecmp(s, "any") == 0) {
		r->cmp = PROFILE_KERNEL_ANY;
		return 0;
	}
	if (strncmp(s, ">=", 2) == 0) {
		r->cmp = PROFILE_KERNEL_AT_LEAST;
		s += 2;
	} else if (s[0] == '<') {
		r->cmp = PROFILE_KERNEL_BELOW;
		s += 1;
	} else
		return -EINVAL;
	if (!isdigit((unsigned char)s[0]) || sscanf(s, "%u.%u%n", &major, &minor, &n) != 2 || n < 0 || s[n] ||
	    major > 1000 || minor > 1000)
		return -EINVAL;
	r->major = major;
	r->minor = minor;
	return 0;
}

/* Rule = VENDOR KERNEL MODE REASON...: the reason is the rest of the line, and required. */
static void parse_rule(struct pstate *st, const char *value)
{
	static const char accepted[] = "VENDOR KERNEL MODE REASON, VENDOR one of any, intel, amd; KERNEL any, >=X.Y "
				       "or <X.Y; MODE shared or exclusive; e.g. 'amd any exclusive why'";
	char vendor[16], kernel[16], mode[16], q[512];
	struct profile_rule r = { .line = st->line };
	int n = -1, v, m;
	const char *reason;

	text_quote(value, 60, q, sizeof(q));
	if (st->prof.n_rules >= PROFILE_RULES_MAX) {
		pdiag(st, CONFIG_ERROR, st->line, "more than %d Rule= lines in [Mode]", PROFILE_RULES_MAX);
		return;
	}
	if (sscanf(value, "%15s %15s %15s %n", vendor, kernel, mode, &n) != 3 || n < 0) {
		pdiag(st, CONFIG_ERROR, st->line, "invalid Rule= '%s' in [Mode]: expected %s", q, accepted);
		return;
	}
	reason = value + n;
	v = -EINVAL;
	for (int i = 0; i < _PROFILE_VENDOR_MAX; i++)
		if (strcasecmp(vendor, vendor_names[i]) == 0)
			v = i;
	m = hv_mode_from_string(mode);
	if (v < 0 || parse_kernel(kernel, &r) < 0 || (m != HV_MODE_SHARED && m != HV_MODE_EXCLUSIVE) || !*reason ||
	    strlen(reason) > PROFILE_REASON_MAX) {
		const char *what = v < 0 ? "unknown vendor" : parse_kernel(kernel, &r) < 0 ? "bad kernel condition" :
				   (m != HV_MODE_SHARED && m != HV_MODE_EXCLUSIVE) ? "bad mode" :
				   !*reason ? "no reason given" : "reason too long";

		if (*reason && strlen(reason) > PROFILE_REASON_MAX)
			pdiag(st, CONFIG_ERROR, st->line, "invalid Rule= '%s' in [Mode] (reason too long): at most %d bytes, "
			      "shorten it and keep the details in a comment", q, PROFILE_REASON_MAX);
		else
			pdiag(st, CONFIG_ERROR, st->line, "invalid Rule= '%s' in [Mode] (%s): expected %s", q, what,
			      accepted);
		return;
	}
	r.vendor = (enum profile_vendor)v;
	r.mode = (enum hv_mode)m;
	snprintf(r.reason, sizeof(r.reason), "%s", reason);
	st->prof.rules[st->prof.n_rules++] = r;
}

static int phandler(void *userdata, const char *section, const char *name, const char *value)
{
	struct pstate *st = userdata;
	struct hv_profile *p = &st->prof;
	char qn[512], qs[512];

	text_quote(name, 60, qn, sizeof(qn));
	text_quote(section, 60, qs, sizeof(qs));
	if (strcasecmp(section, "Profile") == 0) {
		/* A list given twice would lose its first half without a word: refuse it. */
		for (size_t i = 0; i < ELEMENTSOF(profile_keys); i++)
			if (strcasecmp(name, profile_keys[i]) == 0) {
				if (st->key_line[i]) {
					pdiag(st, CONFIG_ERROR, st->line, "%s= in [Profile] is set again (first on line %u): "
					      "put all its entries on one line", profile_keys[i], st->key_line[i]);
					return 1;
				}
				st->key_line[i] = st->line;
			}
		if (strcasecmp(name, "Description") == 0) {
			if (strlen(value) > PROFILE_ITEM_MAX)
				pdiag(st, CONFIG_ERROR, st->line, "Description= in [Profile] is longer than %d bytes: shorten it",
				      PROFILE_ITEM_MAX);
			snprintf(p->description, sizeof(p->description), "%s", value);
		} else if (strcasecmp(name, "Modules") == 0) {
			parse_list(st, "Modules", value, &p->modules);
		} else if (strcasecmp(name, "VersionModule") == 0) {
			if (strlen(value) > PROFILE_ITEM_MAX || strpbrk(value, "/ \t"))
				pdiag(st, CONFIG_ERROR, st->line, "invalid VersionModule= in [Profile]: expected one module name");
			else
				snprintf(p->version_module, sizeof(p->version_module), "%s", value);
		} else if (strcasecmp(name, "Devices") == 0) {
			if (parse_list(st, "Devices", value, &p->devices))
				for (size_t i = 0; i < p->devices.n; i++)
					if (strncmp(p->devices.items[i], "/dev/", 5) != 0 || strstr(p->devices.items[i], "/..")) {
						text_quote(p->devices.items[i], 60, qs, sizeof(qs));
						pdiag(st, CONFIG_ERROR, st->line,
						      "invalid entry '%s' of Devices= in [Profile]: expected a path under /dev/", qs);
					}
		} else if (strcasecmp(name, "HandOffPrograms") == 0) {
			if (parse_list(st, "HandOffPrograms", value, &p->handoff_programs))
				for (size_t i = 0; i < p->handoff_programs.n; i++)
					if (p->handoff_programs.items[i][0] != '/' || strstr(p->handoff_programs.items[i], "/..")) {
						text_quote(p->handoff_programs.items[i], 60, qs, sizeof(qs));
						pdiag(st, CONFIG_ERROR, st->line, "invalid entry '%s' of HandOffPrograms= in [Profile]: "
						      "expected an absolute path", qs);
					}
		} else if (strcasecmp(name, "Processes") == 0) {
			parse_list(st, "Processes", value, &p->processes);
		} else if (strcasecmp(name, "Who") == 0) {
			parse_list(st, "Who", value, &p->who);
			p->who_line = st->line;
		} else {
			pdiag(st, CONFIG_WARNING, st->line, "unknown key '%s' in [Profile], ignoring it (known keys: "
			      "Description=, Modules=, VersionModule=, Devices=, Processes=, Who=, HandOffPrograms=)", qn);
		}
	} else if (strcasecmp(section, "Mode") == 0) {
		if (strcasecmp(name, "Rule") == 0)
			parse_rule(st, value);
		else
			pdiag(st, CONFIG_WARNING, st->line, "unknown key '%s' in [Mode], ignoring it (known keys: Rule=)", qn);
	} else {
		pdiag(st, CONFIG_WARNING, st->line, "unknown section [%s], ignoring its keys (known sections: [Profile], "
		      "[Mode])", qs);
	}
	return 1;
}

/* Hands inih one line at a time, so that every message has its line; comments and blank lines never reach it. */
static char *preader(char *buf, int num, void *userdata)
{
	struct pstate *st = userdata;
	const char *b, *e;
	size_t len;

	if (!*st->pos)
		return NULL;
	b = st->pos;
	e = strchrnul(b, '\n');
	st->pos = *e ? e + 1 : e;
	st->line++;
	while (b < e && isspace((unsigned char)*b))
		b++;
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	len = (size_t)(e - b);
	buf[0] = '\0';
	if (len == 0 || *b == '#' || *b == ';')
		return buf;
	if (num < 1 || len > (size_t)num - 1) {
		pdiag(st, CONFIG_ERROR, st->line, "line too long (%zu bytes, at most %d)", len, num < 1 ? 0 : num - 1);
		return buf;
	}
	memcpy(buf, b, len);
	buf[len] = '\0';
	if ((buf[0] == '[' && !strchr(buf, ']')) || (buf[0] != '[' && !strchr(buf, '='))) {
		char q[512];

		text_quote(buf, 60, q, sizeof(q));
		pdiag(st, CONFIG_ERROR, st->line, "syntax error: expected '[Section]' or 'Key=Value', got '%s'", q);
		buf[0] = '\0';
	}
	return buf;
}

int profile_parse_string(const char *text, const char *name, const char *filename, struct hv_profile *out,
			 struct config_diag *diags)
{
	struct pstate st = { .filename = filename ?: "(string)", .pos = text ?: "", .diags = diags };
	int r;

	snprintf(st.prof.name, sizeof(st.prof.name), "%s", name);
	snprintf(st.prof.file, sizeof(st.prof.file), "%s", st.filename);
	r = ini_parse_stream(preader, &st, phandler, &st);
	if (st.error < 0)
		return st.error;
	if (r == -2)
		return -ENOMEM;
	if (r != 0 && st.n_errors == 0)
		pdiag(&st, CONFIG_ERROR, r > 0 ? (unsigned)r : 0, "syntax error");
	/* Without a way to tell it is there, a profile could never show as loaded nor match a lock. */
	if (st.prof.modules.n == 0 && st.prof.devices.n == 0 && st.prof.who.n == 0)
		pdiag(&st, CONFIG_ERROR, 0, "the profile names no Modules=, Devices= or Who= in [Profile]");
	if (st.prof.version_module[0] && st.prof.modules.n == 0)
		pdiag(&st, CONFIG_WARNING, 0, "VersionModule= without Modules=");
	if (st.error < 0)
		return st.error;
	if (st.n_errors > 0)
		return -EINVAL;
	*out = st.prof;
	return 0;
}

static bool profile_name_valid(const char *s, size_t n)
{
	if (n == 0 || n > PROFILE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return false;
	return true;
}

static int load_one(const char *path, const char *name, struct hv_profile *out, struct config_diag *diags)
{
	_cleanup_(fclosep) FILE *f = fopen(path, "re");
	char buf[65536];
	size_t n;

	if (!f) {
		int r = -errno;

		config_diag_add(diags, CONFIG_ERROR, path, 0, "cannot open: %s", strerror(-r));
		return r;
	}
	n = fread(buf, 1, sizeof(buf), f);
	if (ferror(f) || n == sizeof(buf) || memchr(buf, '\0', n)) {
		config_diag_add(diags, CONFIG_ERROR, path, 0, "%s", ferror(f) ? "cannot read" :
				n == sizeof(buf) ? "larger than 64 KiB, refusing to parse it" :
				"contains a NUL byte, this is not a text file");
		return -EINVAL;
	}
	buf[n] = '\0';
	return profile_parse_string(buf, name, path, out, diags);
}

static int cmp_profile(const void *a, const void *b)
{
	return strcmp(((const struct hv_profile *)a)->name, ((const struct hv_profile *)b)->name);
}

static bool list_has(const struct profile_list *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->items[i], s) == 0)
			return true;
	return false;
}

/* Work space of profiles_load(): the profiles so far, each with the directory it came from and whether it is broken. */
struct ploader {
	struct hv_profiles ps;
	size_t dir_of[PROFILES_MAX];
	bool broken[PROFILES_MAX];
	struct config_diag *diags;
};

/* Records NAME as not used, with the first error DIAGS got since entry FIRST (or FALLBACK). */
static void note_broken(struct ploader *l, const char *name, const struct config_diag *d, size_t first,
			const char *fallback)
{
	struct hv_profile_error *e;

	if (l->ps.n_errors >= PROFILES_MAX)
		return;
	e = &l->ps.errors[l->ps.n_errors++];
	snprintf(e->name, sizeof(e->name), "%s", name);
	snprintf(e->message, sizeof(e->message), "%s", fallback);
	for (size_t i = first; d && i < d->n_entries; i++)
		if (d->entries[i].severity == CONFIG_ERROR) {
			snprintf(e->message, sizeof(e->message), "%s", d->entries[i].message);
			break;
		}
}

static size_t find_name(const struct ploader *l, const char *name)
{
	size_t k;

	for (k = 0; k < l->ps.n; k++)
		if (strcasecmp(l->ps.p[k].name, name) == 0)
			break;
	return k;
}

/* One file of directory D: parsed, then added, replacing or refused. */
static int load_entry(struct ploader *l, size_t d, const char *dir, const char *path, const char *name,
		      struct hv_profile *p)
{
	struct config_diag local = CONFIG_DIAG_INIT, *diags = l->diags ?: &local;
	size_t first = diags->n_entries, k = find_name(l, name);
	char fallback[PROFILE_ERROR_MAX + 1];
	int r;

	*p = (struct hv_profile) {};
	if (k < l->ps.n && l->dir_of[k] == d) {
		/* scandir() gives them in order: the second of two names that differ in case only. */
		config_diag_add(diags, CONFIG_ERROR, path, 0, "the profile name %s differs only in case from %s/%s.conf's: "
				"names are compared case-insensitively, rename or remove one of them", name, dir,
				l->ps.p[k].name);
		note_broken(l, name, diags, first, "");
		config_diag_done(&local);
		return 0;
	}
	r = load_one(path, name, p, diags);
	if (r == -ENOMEM) {
		config_diag_done(&local);
		return r;
	}
	if (r < 0) {
		if (k < l->ps.n) {
			/* Falling back to the file this one was meant to replace would hide the mistake. */
			config_diag_add(diags, CONFIG_ERROR, path, 0, "not used, and neither is %s, which it replaces: fix "
					"this file, or remove it to use %s again", l->ps.p[k].file, l->ps.p[k].file);
			l->broken[k] = true;
		}
		snprintf(fallback, sizeof(fallback), "%s: invalid (see the journal)", path);
		note_broken(l, name, diags, first, fallback);
		config_diag_done(&local);
		return 0;
	}
	config_diag_done(&local);
	if (k < l->ps.n) {
		snprintf(p->replaces, sizeof(p->replaces), "%s", l->ps.p[k].file);
		l->ps.p[k] = *p;
		l->dir_of[k] = d;
		l->broken[k] = false;
		return 0;
	}
	if (k == PROFILES_MAX) {
		config_diag_add(l->diags, CONFIG_ERROR, path, 0, "more than %d profiles: not used, remove one of them",
				PROFILES_MAX);
		snprintf(fallback, sizeof(fallback), "%s: more than %d profiles", path, PROFILES_MAX);
		note_broken(l, name, NULL, 0, fallback);
		return 0;
	}
	l->ps.p[k] = *p;
	l->dir_of[k] = d;
	l->broken[k] = false;
	l->ps.n++;
	return 0;
}

/*
 * A lock's --who= must name one profile.  A profile whose Who= has another
 * profile's name is not used; of two whose Who= lists share a name, the later
 * (by name) is not.
 */
static void check_who(struct ploader *l)
{
	for (size_t i = 0; i < l->ps.n; i++) {
		const struct hv_profile *p = &l->ps.p[i];

		for (size_t j = 0; j < l->ps.n && !l->broken[i]; j++) {
			const struct hv_profile *o = &l->ps.p[j];
			const char *clash = NULL;
			size_t first = l->diags ? l->diags->n_entries : 0;

			if (j == i || l->broken[j])
				continue;
			for (size_t w = 0; !clash && w < p->who.n; w++)
				if (strcasecmp(p->who.items[w], o->name) == 0 || (j < i && list_has(&o->who, p->who.items[w])))
					clash = p->who.items[w];
			if (!clash)
				continue;
			config_diag_add(l->diags, CONFIG_ERROR, p->file, p->who_line, "profile %s is not used: the name '%s' "
					"in its Who= is %s's too (%s): a lock's --who= must name one profile, remove it from "
					"one of them", p->name, clash, o->name, o->file);
			l->broken[i] = true;
			if (l->diags)
				note_broken(l, p->name, l->diags, first, "");
			else {
				char m[PROFILE_ERROR_MAX + 1];

				snprintf(m, sizeof(m), "%s:%u: the name '%s' in its Who= is %s's too", p->file, p->who_line,
					 clash, o->name);
				note_broken(l, p->name, NULL, 0, m);
			}
		}
	}
}

int profiles_load(const char *const *dirs, size_t n_dirs, struct hv_profiles *out, struct config_diag *diags)
{
	_cleanup_free_ struct ploader *l = calloc(1, sizeof(*l));
	_cleanup_free_ struct hv_profile *p = malloc(sizeof(*p));
	size_t o = 0;
	int ret = 0;

	if (!l || !p)
		return -ENOMEM;
	l->diags = diags;
	for (size_t d = 0; d < n_dirs && ret == 0; d++) {
		struct dirent **names = NULL;
		int n = scandir(dirs[d], &names, NULL, alphasort);

		if (n < 0) {
			if (errno != ENOENT)
				config_diag_add(diags, CONFIG_WARNING, dirs[d], 0, "cannot read the directory: %m");
			continue;
		}
		for (int i = 0; i < n && ret == 0; i++) {
			const char *fn = names[i]->d_name;
			size_t len = strlen(fn);
			_cleanup_free_ char *path = NULL;

			if (len <= 5 || strcmp(fn + len - 5, ".conf") != 0 || fn[0] == '.')
				continue;
			if (!profile_name_valid(fn, len - 5)) {
				config_diag_add(diags, CONFIG_WARNING, dirs[d], 0, "ignoring '%s': a profile's name is 1 to "
						"%d letters, digits, '-' or '_' before .conf", fn, PROFILE_NAME_MAX);
				continue;
			}
			if (asprintf(&path, "%s/%s", dirs[d], fn) < 0) {
				ret = -ENOMEM;
				break;
			}
			ret = load_entry(l, d, dirs[d], path, strndupa(fn, len - 5), p);
		}
		for (int i = 0; i < n; i++)
			free(names[i]);
		free(names);
	}
	if (ret < 0)
		return ret;
	/* A broken override takes the file it replaces with it. */
	for (size_t i = 0; i < l->ps.n; i++)
		if (!l->broken[i])
			l->ps.p[o++] = l->ps.p[i];
	l->ps.n = o;
	memset(l->broken, 0, sizeof(l->broken));
	qsort(l->ps.p, l->ps.n, sizeof(l->ps.p[0]), cmp_profile);
	check_who(l);
	o = 0;
	for (size_t i = 0; i < l->ps.n; i++)
		if (!l->broken[i])
			l->ps.p[o++] = l->ps.p[i];
	l->ps.n = o;
	*out = l->ps;
	return 0;
}

const struct hv_profile *profiles_match_who(const struct hv_profiles *ps, const char *who)
{
	const struct hv_profile *any = NULL;

	if (!who)
		return NULL;
	for (size_t i = 0; i < ps->n; i++) {
		if (strcasecmp(ps->p[i].name, who) == 0 || list_has(&ps->p[i].who, who))
			return &ps->p[i];
		if (!any && list_has(&ps->p[i].who, "*"))
			any = &ps->p[i];
	}
	return any;
}

int kernel_release_parse(const char *release, unsigned *ret_major, unsigned *ret_minor)
{
	unsigned major, minor;
	int n = -1;

	if (!release || !isdigit((unsigned char)release[0]) || sscanf(release, "%u.%u%n", &major, &minor, &n) != 2 ||
	    n < 0 || isdigit((unsigned char)release[n]))
		return -EINVAL;
	*ret_major = major;
	*ret_minor = minor;
	return 0;
}

static bool rule_matches(const struct profile_rule *r, enum profile_vendor vendor, bool kernel_known, unsigned major,
			 unsigned minor)
{
	bool at_least = major > r->major || (major == r->major && minor >= r->minor);

	if (r->vendor != PROFILE_VENDOR_ANY && r->vendor != vendor)
		return false;
	switch (r->cmp) {
	case PROFILE_KERNEL_ANY:
		return true;
	case PROFILE_KERNEL_AT_LEAST:
		return kernel_known && at_least;
	case PROFILE_KERNEL_BELOW:
		return kernel_known && !at_least;
	}
	return false;
}

void profile_choose_mode(const struct hv_profile *p, enum profile_vendor vendor, bool kernel_known, unsigned major,
			 unsigned minor, enum hv_mode override, struct hv_mode_choice *ret)
{
	if (override == HV_MODE_SHARED || override == HV_MODE_EXCLUSIVE) {
		ret->mode = override;
		snprintf(ret->reason, sizeof(ret->reason), "forced by Mode.%s= in [Hypervisor] of virtd.conf", p->name);
		return;
	}
	for (size_t i = 0; i < p->n_rules; i++)
		if (rule_matches(&p->rules[i], vendor, kernel_known, major, minor)) {
			ret->mode = p->rules[i].mode;
			snprintf(ret->reason, sizeof(ret->reason), "%s", p->rules[i].reason);
			return;
		}
	/* Exclusive is the mode every hypervisor works in: KVM gives way. */
	ret->mode = HV_MODE_EXCLUSIVE;
	snprintf(ret->reason, sizeof(ret->reason), "no rule of %s matches %s CPUs on kernel %s%u.%u: exclusive, which "
		 "any hypervisor can run in", p->name, vendor_names[vendor < _PROFILE_VENDOR_MAX ? vendor : 0],
		 kernel_known ? "" : "(unknown) ", major, minor);
}
