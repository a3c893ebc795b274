/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config.c: parsing and validation of /etc/virtd.conf, with diagnostics. */

/* The build force-includes autoconf's header, which defines it; hand builds do not. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "macro.h"
#include "quote.h"

static const char *const policy_names[_VIRT_POLICY_MAX] = {
	[VIRT_POLICY_BOOT] = "boot",
	[VIRT_POLICY_FIRST_VM] = "first-vm",
	[VIRT_POLICY_NEVER] = "never",
};

static const char *const timer_mode_names[_TIMER_MODE_MAX] = {
	[TIMER_MODE_AUTO] = "auto",
	[TIMER_MODE_ON] = "on",
	[TIMER_MODE_OFF] = "off",
};

static const char *const hv_mode_names[_HV_MODE_MAX] = {
	[HV_MODE_AUTO] = "auto",
	[HV_MODE_SHARED] = "shared",
	[HV_MODE_EXCLUSIVE] = "exclusive",
};

const char *virt_policy_to_string(enum virt_policy p)
{
	return (unsigned)p < _VIRT_POLICY_MAX ? policy_names[p] : NULL;
}

/* Keywords are case-insensitive: "Boot" cannot mean anything but boot. */
static int lookup(const char *const *names, size_t n, const char *s)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(names[i], s) == 0)
			return (int)i;
	return -EINVAL;
}

int virt_policy_from_string(const char *s)
{
	return lookup(policy_names, ELEMENTSOF(policy_names), s);
}

const char *timer_mode_to_string(enum timer_mode m)
{
	return (unsigned)m < _TIMER_MODE_MAX ? timer_mode_names[m] : NULL;
}

int timer_mode_from_string(const char *s)
{
	return lookup(timer_mode_names, ELEMENTSOF(timer_mode_names), s);
}

const char *hv_mode_to_string(enum hv_mode m)
{
	return (unsigned)m < _HV_MODE_MAX ? hv_mode_names[m] : NULL;
}

int hv_mode_from_string(const char *s)
{
	return lookup(hv_mode_names, ELEMENTSOF(hv_mode_names), s);
}

enum hv_mode config_hv_mode(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->n_hv_modes; i++)
		if (strcasecmp(c->hv_modes[i].name, name) == 0)
			return c->hv_modes[i].mode;
	return HV_MODE_AUTO;
}

void config_init_defaults(struct config *c)
{
	*c = (struct config) {
		.policy = CONFIG_DEFAULT_POLICY,
		.timer_mode = CONFIG_DEFAULT_TIMER_MODE,
		.timer_min_max_delay_ns = CONFIG_DEFAULT_MIN_MAX_DELAY_NS,
		.handoff = true,
		.handoff_timeout_ns = CONFIG_DEFAULT_HANDOFF_TIMEOUT_NS,
	};
}

#define NSEC_PER_USEC 1000ULL
#define NSEC_PER_MSEC (1000ULL * NSEC_PER_USEC)
#define NSEC_PER_SEC (1000ULL * NSEC_PER_MSEC)

static const struct {
	const char *suffix;
	uint64_t ns;
} duration_units[] = {
	{ "", NSEC_PER_SEC },
	{ "s", NSEC_PER_SEC },
	{ "ms", NSEC_PER_MSEC },
	{ "us", NSEC_PER_USEC },
	{ "min", 60 * NSEC_PER_SEC },
};

/* WHY gets a static explanation for the message when the value is refused. */
static int parse_duration(const char *s, uint64_t *ret_ns, const char **why)
{
	uint64_t n = 0, mult = 0;
	bool overflow = false;
	const char *p = s;

	/* Checked by hand: strtoull() would accept "-1" and leading blanks. */
	if (!isdigit((unsigned char)*p)) {
		*why = "expected a whole number";
		return -EINVAL;
	}
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');

		if (n > (UINT64_MAX - d) / 10)
			overflow = true;
		else
			n = n * 10 + d;
	}
	if (*p == '.' || *p == ',') {
		*why = "fractions are not supported, use a smaller unit (1500ms, not 1.5s)";
		return -EINVAL;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	for (size_t i = 0; i < ELEMENTSOF(duration_units); i++)
		if (strcasecmp(p, duration_units[i].suffix) == 0) {
			mult = duration_units[i].ns;
			break;
		}
	if (mult == 0) {
		*why = strcasecmp(p, "m") == 0 ? "'m' is ambiguous, write min or ms" : "unknown unit";
		return -EINVAL;
	}
	if (overflow || n > UINT64_MAX / mult) {
		*why = "out of range, the longest is 18446744073s";
		return -ERANGE;
	}
	*ret_ns = n * mult;
	return 0;
}

int config_parse_duration(const char *s, uint64_t *ret_ns)
{
	const char *why;

	if (!s)
		return -EINVAL;
	return parse_duration(s, ret_ns, &why);
}

void config_diag_done(struct config_diag *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_entries; i++) {
		free(d->entries[i].file);
		free(d->entries[i].message);
	}
	free(d->entries);
	*d = CONFIG_DIAG_INIT;
}

/*
 * Values are quoted back in messages that end up in the journal and in D-Bus
 * replies; D-Bus strings must be valid UTF-8, and a control character would
 * garble a terminal, so anything but printable ASCII is escaped, and a long
 * value is cut short (text_quote(): at most 60 characters).
 */
static void quote(const char *s, char *buf, size_t size)
{
	text_quote(s, 60, buf, size);
}

struct key_def;

struct parse_state {
	const char *filename;
	const char *pos;		/* reader position in the text */
	unsigned line;			/* line the reader handed out last */
	unsigned section_line;		/* line of the last [section] header */
	unsigned warned_section_line;
	unsigned n_syntax_errors;
	size_t n_errors;
	int error;			/* first internal failure (-ENOMEM) */
	struct config cfg;
	unsigned set_line[8];		/* per key_defs[] entry, 0: not set */
	struct config_diag *diags;
	size_t first_entry;		/* this parse's first entry in diags */
};

/* Stores TEXT as an entry of D, in line order from FIRST on; counts and caps as struct config_diag says. */
static int diag_store(struct config_diag *d, size_t first, enum config_severity sev, const char *file, unsigned line,
		      const char *text)
{
	struct config_diag_entry *e, new;
	size_t pos;
	int n;

	if (sev == CONFIG_ERROR)
		d->n_errors++;
	else
		d->n_warnings++;
	if (d->n_entries >= CONFIG_DIAG_MAX) {
		d->n_suppressed++;
		return 0;
	}
	new = (struct config_diag_entry) { .severity = sev, .line = line };
	new.file = strdup(file);
	if (line > 0)
		n = asprintf(&new.message, "%s:%u: %s", file, line, text);
	else
		n = asprintf(&new.message, "%s: %s", file, text);
	if (n < 0)
		new.message = NULL;
	e = new.file && new.message ? realloc(d->entries, (d->n_entries + 1) * sizeof(*e)) : NULL;
	if (!e) {
		free(new.file);
		free(new.message);
		return -ENOMEM;
	}
	d->entries = e;
	/* In line order: an unknown section is only reported at its first key,
	 * after what the lines between the header and that key got. */
	pos = d->n_entries;
	while (pos > first && d->entries[pos - 1].line > line)
		pos--;
	memmove(&d->entries[pos + 1], &d->entries[pos], (d->n_entries - pos) * sizeof(*e));
	d->entries[pos] = new;
	d->n_entries++;
	return 0;
}

int config_diag_add(struct config_diag *d, enum config_severity sev, const char *file, unsigned line, const char *fmt,
		    ...)
{
	char text[512];
	va_list ap;

	if (!d)
		return 0;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return diag_store(d, d->n_entries, sev, file, line, text);
}

_printf_(4, 5)
static void diag(struct parse_state *st, enum config_severity sev, unsigned line, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	if (sev == CONFIG_ERROR)
		st->n_errors++;
	if (!st->diags)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (diag_store(st->diags, st->first_entry, sev, st->filename, line, text) < 0 && st->error == 0)
		st->error = -ENOMEM;
}

static int parse_policy(const char *v, struct config *c, const char **why)
{
	int r = virt_policy_from_string(v);

	(void)why;
	if (r < 0)
		return r;
	c->policy = (enum virt_policy)r;
	return 0;
}

static int parse_timer_mode(const char *v, struct config *c, const char **why)
{
	int r = timer_mode_from_string(v);

	(void)why;
	if (r < 0)
		return r;
	c->timer_mode = (enum timer_mode)r;
	return 0;
}

static int parse_min_max_delay(const char *v, struct config *c, const char **why)
{
	uint64_t ns;
	int r;

	r = parse_duration(v, &ns, why);
	if (r < 0)
		return r;
	/* virthw takes 1 ns .. 1 h; the same range here, so a file virtd accepts is one it can apply. */
	if (ns == 0) {
		*why = "must be longer than 0 (0 would trust any timer; use Mode=on for that)";
		return -ERANGE;
	}
	if (ns > CONFIG_MIN_MAX_DELAY_MAX_NS) {
		*why = "out of range, the longest is 60min (3600s)";
		return -ERANGE;
	}
	c->timer_min_max_delay_ns = ns;
	return 0;
}

/*
 * node_exporter's textfile collector reads the file; the directory is its
 * --collector.textfile.directory.  Checked here so that a mistake is
 * refused with its line, not found later in the journal.
 */
_Static_assert(CONFIG_METRICS_FILE_MAX == 256, "the message below says 255 bytes");
static int parse_metrics_file(const char *v, struct config *c, const char **why)
{
	const char *base = strrchr(v, '/');
	struct stat st;

	if (v[0] != '/') {
		*why = "not an absolute path (it must start with /)";
		return -EINVAL;
	}
	if (strlen(v) >= sizeof(c->metrics_file)) {
		*why = "longer than 255 bytes";
		return -ENAMETOOLONG;
	}
	base = base ? base + 1 : v;
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || (stat(v, &st) == 0 && S_ISDIR(st.st_mode))) {
		*why = "a directory, not a file: name a file in it, e.g. DIRECTORY/virtd.prom";
		return -EISDIR;
	}
	snprintf(c->metrics_file, sizeof(c->metrics_file), "%s", v);
	return 0;
}

/* Canonical spellings; see name_matches() for what else is accepted. */
static const struct key_def {
	const char *section;
	const char *name;
	const char *accepted;
	int (*parse)(const char *value, struct config *c, const char **why);
} key_defs[] = {
	{ "Virtualization", "Policy", "boot, first-vm, never", parse_policy },
	{ "PreemptionTimer", "Mode", "auto, on, off", parse_timer_mode },
	{ "PreemptionTimer", "MinMaxDelay",
	  "a whole number with unit s, ms, us or min (no unit: seconds), from 1us to 60min, e.g. 10s",
	  parse_min_max_delay },
	{ "Metrics", "File",
	  "the absolute path of the file to write, e.g. /var/lib/prometheus/node-exporter/virtd.prom "
	  "(to turn metrics off, remove the line)",
	  parse_metrics_file },
};

/*
 * Section and key names match case-insensitively, with '-', '_' and blanks
 * ignored, so MinMaxDelay, min-max-delay and min_max_delay are one key and
 * "[ Virtualization ]" is that section (inih keeps the blanks in a header):
 * the design spells keys both ways, and no two keys could ever differ only
 * in case or dashes.
 */
static bool name_matches(const char *given, const char *canonical)
{
	for (;;) {
		while (*given == '-' || *given == '_' || *given == ' ' || *given == '\t')
			given++;
		if (!*given || !*canonical)
			return !*given && !*canonical;
		if (tolower((unsigned char)*given) != tolower((unsigned char)*canonical))
			return false;
		given++;
		canonical++;
	}
}

static const struct key_def *find_key(const char *section, const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(key_defs); i++)
		if ((!section || name_matches(section, key_defs[i].section)) && name_matches(name, key_defs[i].name))
			return &key_defs[i];
	return NULL;
}

static bool section_known(const char *section)
{
	for (size_t i = 0; i < ELEMENTSOF(key_defs); i++)
		if (name_matches(section, key_defs[i].section))
			return true;
	return false;
}

static void known_keys(const char *section, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ELEMENTSOF(key_defs) && o < size; i++)
		if (name_matches(section, key_defs[i].section))
			o += (size_t)snprintf(buf + o, size - o, "%s%s=", o ? ", " : "", key_defs[i].name);
}

/* A profile's name as a key: what a file name may be (profiles.c takes NAME.conf). */
static bool hv_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CONFIG_HV_NAME_MAX)
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return false;
	return true;
}

/* yes/no and their usual synonyms; 1, 0 or -EINVAL. */
static int parse_boolean(const char *v)
{
	static const char *const yes[] = { "yes", "true", "on", "1" }, *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	}
	return -EINVAL;
}

/* [Hypervisor] Mode.NAME=auto|shared|exclusive; NAME a profile, checked against the profiles when they are read. */
static void hypervisor_key(struct parse_state *st, const char *name, const char *value, const char *qn, const char *qv)
{
	static const char accepted[] = "auto, shared, exclusive";
	unsigned line = st->line;
	const char *prof;
	size_t i;
	int r;

	if (name_matches(name, "HandOff")) {
		r = parse_boolean(value);
		if (r < 0)
			diag(st, CONFIG_ERROR, line, "invalid value '%s' for %s= in [Hypervisor]; accepted values: yes, no",
			     qv, qn);
		else
			st->cfg.handoff = r;
		return;
	}
	if (name_matches(name, "HandOffTimeout")) {
		const char *why = "not a duration";
		uint64_t ns;

		r = parse_duration(value, &ns, &why);
		if (r >= 0 && (ns < 1000000 || ns > CONFIG_HANDOFF_TIMEOUT_MAX_NS)) {
			why = "out of range, from 1ms to 10min";
			r = -ERANGE;
		}
		if (r < 0)
			diag(st, CONFIG_ERROR, line, "invalid value '%s' for %s= in [Hypervisor]: %s; accepted values: a "
			     "whole number with unit s, ms, us or min (no unit: seconds), from 1ms to 10min, e.g. 10s",
			     qv, qn, why);
		else
			st->cfg.handoff_timeout_ns = ns;
		return;
	}
	if (strncasecmp(name, "Mode.", 5) != 0) {
		diag(st, CONFIG_WARNING, line, "unknown key '%s' in [Hypervisor], ignoring it (known keys: Mode.NAME=, "
		     "NAME a hypervisor profile such as virtualbox, HandOff=, HandOffTimeout=)", qn);
		return;
	}
	prof = name + 5;
	if (!hv_name_valid(prof)) {
		diag(st, CONFIG_ERROR, line, "invalid profile name in '%s' in [Hypervisor]: expected Mode.NAME=, NAME of "
		     "1 to %d letters, digits, '-' or '_'", qn, CONFIG_HV_NAME_MAX);
		return;
	}
	r = hv_mode_from_string(value);
	if (r < 0) {
		diag(st, CONFIG_ERROR, line, "invalid value '%s' for %s= in [Hypervisor]; accepted values: %s", qv, qn,
		     accepted);
		return;
	}
	for (i = 0; i < st->cfg.n_hv_modes; i++)
		if (strcasecmp(st->cfg.hv_modes[i].name, prof) == 0)
			break;
	if (i < st->cfg.n_hv_modes) {
		diag(st, CONFIG_WARNING, line, "%s= in [Hypervisor] is set again, the last value wins", qn);
	} else if (i >= CONFIG_HV_MODES_MAX) {
		diag(st, CONFIG_ERROR, line, "too many Mode.NAME= keys in [Hypervisor] (at most %d)", CONFIG_HV_MODES_MAX);
		return;
	} else {
		snprintf(st->cfg.hv_modes[i].name, sizeof(st->cfg.hv_modes[i].name), "%s", prof);
		st->cfg.n_hv_modes++;
	}
	st->cfg.hv_modes[i].mode = (enum hv_mode)r;
}

static int handler(void *userdata, const char *section, const char *name, const char *value)
{
	struct parse_state *st = userdata;
	char qs[512], qn[512], qv[512], hint[128];
	const struct key_def *k;
	const char *why = NULL;
	unsigned line = st->line;
	size_t idx;
	int r;

	quote(section, qs, sizeof(qs));
	quote(name, qn, sizeof(qn));
	quote(value, qv, sizeof(qv));

	if (!*section) {
		k = find_key(NULL, name);
		if (k)
			diag(st, CONFIG_WARNING, line, "key '%s' outside of any section, ignoring it (it belongs in [%s])",
			     qn, k->section);
		else
			diag(st, CONFIG_WARNING, line, "key '%s' outside of any section, ignoring it", qn);
		return 1;
	}

	if (name_matches(section, "Hypervisor")) {
		hypervisor_key(st, name, value, qn, qv);
		return 1;
	}

	if (!section_known(section)) {
		/* Once per header, not once per key under it. */
		if (st->warned_section_line != st->section_line || st->section_line == 0) {
			st->warned_section_line = st->section_line;
			diag(st, CONFIG_WARNING, st->section_line ?: line,
			     "unknown section [%s], ignoring its keys (known sections: [Virtualization], [PreemptionTimer], "
			     "[Metrics], [Hypervisor])",
			     qs);
		}
		return 1;
	}

	k = find_key(section, name);
	if (!k) {
		k = find_key(NULL, name);
		if (k) {
			diag(st, CONFIG_WARNING, line, "unknown key '%s' in [%s], ignoring it (it belongs in [%s])",
			     qn, qs, k->section);
		} else {
			known_keys(section, hint, sizeof(hint));
			diag(st, CONFIG_WARNING, line, "unknown key '%s' in [%s], ignoring it (known keys: %s)",
			     qn, qs, hint);
		}
		return 1;
	}

	idx = (size_t)(k - key_defs);
	if (st->set_line[idx] != 0)
		diag(st, CONFIG_WARNING, line, "%s= in [%s] is set again (first on line %u), the last value wins",
		     k->name, k->section, st->set_line[idx]);
	st->set_line[idx] = line;

	if (!*value) {
		diag(st, CONFIG_ERROR, line, "empty value for %s= in [%s]; accepted values: %s",
		     k->name, k->section, k->accepted);
		return 1;
	}

	r = k->parse(value, &st->cfg, &why);
	if (r < 0)
		diag(st, CONFIG_ERROR, line, "invalid value '%s' for %s= in [%s]%s%s; accepted values: %s",
		     qv, k->name, k->section, why ? ": " : "", why ?: "", k->accepted);
	/* Always "success" to inih: our own diagnostics say what was wrong. */
	return 1;
}

/* Where an unquoted value or key would end, as inih sees it (" ;" comment). */
static bool has_separator(const char *s)
{
	for (const char *p = s; *p; p++) {
		if (*p == '=' || *p == ':')
			return true;
		if (*p == ';' && p > s && isspace((unsigned char)p[-1]))
			return false;
	}
	return false;
}

/*
 * inih's fgets-style reader.  Feeding lines ourselves gives us the line
 * number of every handler call (this inih's handler gets none), lets every
 * syntax error be reported rather than only the first, and keeps lines longer
 * than inih's buffer from being split into two "lines".  Leading blanks are
 * dropped here, so inih never treats an indented line as the continuation of
 * the previous value: indentation is just indentation.
 */
static char *reader(char *buf, int num, void *userdata)
{
	struct parse_state *st = userdata;
	const char *b, *e;
	char q[512];
	size_t len;

	if (!*st->pos)
		return NULL;

	b = st->pos;
	e = strchrnul(b, '\n');
	st->pos = *e ? e + 1 : e;
	st->line++;

	if (st->line == 1 && strncmp(b, "\xef\xbb\xbf", 3) == 0)
		b += 3;
	while (b < e && isspace((unsigned char)*b))
		b++;
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	len = (size_t)(e - b);
	buf[0] = '\0';

	/* Comments never reach inih, so their length is never limited. */
	if (len == 0 || *b == '#' || *b == ';')
		return buf;

	if (num < 1 || len > (size_t)num - 1) {
		diag(st, CONFIG_ERROR, st->line, "line too long (%zu bytes, at most %d outside comments)",
		     len, num < 1 ? 0 : num - 1);
		st->n_syntax_errors++;
		return buf;
	}
	memcpy(buf, b, len);
	buf[len] = '\0';

	if (buf[0] == '[') {
		if (strchr(buf, ']')) {
			st->section_line = st->line;
		} else {
			quote(buf, q, sizeof(q));
			diag(st, CONFIG_ERROR, st->line, "syntax error: section header '%s' lacks its closing ']'", q);
			st->n_syntax_errors++;
			buf[0] = '\0';
		}
	} else if (!has_separator(buf)) {
		quote(buf, q, sizeof(q));
		diag(st, CONFIG_ERROR, st->line, "syntax error: expected '[Section]' or 'Key=Value', got '%s'", q);
		st->n_syntax_errors++;
		buf[0] = '\0';
	}
	return buf;
}

/* What parses but will not work: node_exporter's textfile collector reads *.prom files only. */
static void check_metrics_file(struct parse_state *st)
{
	const struct key_def *k = find_key("Metrics", "File");
	const char *f = st->cfg.metrics_file;
	size_t n = strlen(f);

	if (n > 0 && (n < 5 || strcmp(f + n - 5, ".prom") != 0))
		diag(st, CONFIG_WARNING, st->set_line[k - key_defs],
		     "File= in [Metrics] does not end in .prom: node_exporter's textfile collector reads only *.prom files");
}

int config_parse_string(const char *text, const char *filename, struct config *out, struct config_diag *diags)
{
	struct parse_state st = {
		.filename = filename ?: "(string)",
		.pos = text ?: "",
		.diags = diags,
		.first_entry = diags ? diags->n_entries : 0,
	};
	int r;

	_Static_assert(ELEMENTSOF(key_defs) <= ELEMENTSOF(st.set_line), "set_line[] too small");

	config_init_defaults(&st.cfg);

	r = ini_parse_stream(reader, &st, handler, &st);
	if (st.error < 0)
		return st.error;
	if (r == -2)
		return -ENOMEM;
	if (r < 0)
		return -EIO;
	/* Only lines the reader judged valid reach inih; this is a backstop. */
	if (r > 0 && st.n_syntax_errors == 0)
		diag(&st, CONFIG_ERROR, (unsigned)r, "syntax error");
	if (st.n_errors == 0)
		check_metrics_file(&st);
	if (st.error < 0)
		return st.error;
	if (st.n_errors > 0)
		return -EINVAL;

	*out = st.cfg;
	return 0;
}

int config_load(const char *path, struct config *out, struct config_diag *diags)
{
	_cleanup_(fclosep) FILE *f = NULL;
	_cleanup_free_ char *buf = NULL;
	struct parse_state st = { .filename = path, .diags = diags, .first_entry = diags ? diags->n_entries : 0 };
	struct stat sb;
	size_t n = 0;
	const char *nul;
	int r;

	f = fopen(path, "re");
	if (!f) {
		r = -errno;
		if (r == -ENOENT) {
			config_init_defaults(out);
			return 0;
		}
		diag(&st, CONFIG_ERROR, 0, "cannot open: %m");
		return st.error ?: r;
	}
	if (fstat(fileno(f), &sb) < 0) {
		r = -errno;
		diag(&st, CONFIG_ERROR, 0, "cannot stat: %m");
		return st.error ?: r;
	}
	if (S_ISDIR(sb.st_mode)) {
		errno = EISDIR;
		diag(&st, CONFIG_ERROR, 0, "cannot read: %m");
		return st.error ?: -EISDIR;
	}

	buf = malloc(CONFIG_FILE_MAX + 1);
	if (!buf)
		return -ENOMEM;
	/* Read one byte past the limit to tell "exactly at" from "over". */
	while (n <= CONFIG_FILE_MAX) {
		size_t k = fread(buf + n, 1, CONFIG_FILE_MAX + 1 - n, f);

		if (k == 0)
			break;
		n += k;
	}
	if (ferror(f)) {
		int err = errno ?: EIO;

		errno = err;
		diag(&st, CONFIG_ERROR, 0, "cannot read: %m");
		return st.error ?: -err;
	}
	if (n > CONFIG_FILE_MAX) {
		diag(&st, CONFIG_ERROR, 0, "larger than %d bytes, refusing to parse it", CONFIG_FILE_MAX);
		return st.error ?: -EFBIG;
	}

	nul = memchr(buf, '\0', n);
	if (nul) {
		unsigned line = 1;

		for (const char *p = buf; p < nul; p++)
			line += *p == '\n';
		diag(&st, CONFIG_ERROR, line, "contains a NUL byte, this is not a text file");
		return st.error ?: -EINVAL;
	}
	buf[n] = '\0';

	return config_parse_string(buf, path, out, diags);
}
