/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-config.c: table tests of the virtd.conf parser and its diagnostics. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "macro.h"
#include "tests.h"

/* A configuration no default equals, to see what a parse changed. */
static const struct config sentinel = {
	.policy = VIRT_POLICY_NEVER,
	.timer_mode = TIMER_MODE_OFF,
	.timer_min_max_delay_ns = 123,
};

static bool diag_has(const struct config_diag *d, enum config_severity sev, const char *needle)
{
	for (size_t i = 0; i < d->n_entries; i++)
		if (d->entries[i].severity == sev && strstr(d->entries[i].message, needle))
			return true;
	return false;
}

static void dump(const struct config_diag *d)
{
	for (size_t i = 0; i < d->n_entries; i++)
		printf("#   %s %s\n", d->entries[i].severity == CONFIG_ERROR ? "error:" : "warning:",
		       d->entries[i].message);
}

/* Whole files that parse: what they set, and which warnings they carry. */
static const struct good {
	const char *name;
	const char *text;
	enum virt_policy policy;
	enum timer_mode mode;
	uint64_t delay_ns;
	size_t n_warnings;
	const char *warning;	/* substring of one warning */
} goods[] = {
	{ "empty file", "", VIRT_POLICY_FIRST_VM, TIMER_MODE_AUTO, 10000000000ULL, 0, NULL },
	{ "only comments and blanks", "# x\n; y\n\n   \n\t# z\n", VIRT_POLICY_FIRST_VM, TIMER_MODE_AUTO,
	  10000000000ULL, 0, NULL },
	{ "empty sections", "[Virtualization]\n[PreemptionTimer]\n", VIRT_POLICY_FIRST_VM, TIMER_MODE_AUTO,
	  10000000000ULL, 0, NULL },
	{ "Policy=boot", "[Virtualization]\nPolicy=boot\n", VIRT_POLICY_BOOT, TIMER_MODE_AUTO, 10000000000ULL, 0, NULL },
	{ "Policy=first-vm", "[Virtualization]\nPolicy=first-vm\n", VIRT_POLICY_FIRST_VM, TIMER_MODE_AUTO,
	  10000000000ULL, 0, NULL },
	{ "Policy=never", "[Virtualization]\nPolicy=never\n", VIRT_POLICY_NEVER, TIMER_MODE_AUTO, 10000000000ULL, 0,
	  NULL },
	{ "Mode=on", "[PreemptionTimer]\nMode=on\n", VIRT_POLICY_FIRST_VM, TIMER_MODE_ON, 10000000000ULL, 0, NULL },
	{ "Mode=off", "[PreemptionTimer]\nMode=off\n", VIRT_POLICY_FIRST_VM, TIMER_MODE_OFF, 10000000000ULL, 0, NULL },
	{ "Mode=auto", "[PreemptionTimer]\nMode=auto\n", VIRT_POLICY_FIRST_VM, TIMER_MODE_AUTO, 10000000000ULL, 0, NULL },
	{ "MinMaxDelay=30s", "[PreemptionTimer]\nMinMaxDelay=30s\n", VIRT_POLICY_FIRST_VM, TIMER_MODE_AUTO,
	  30000000000ULL, 0, NULL },
	{ "MinMaxDelay=60min (the longest)", "[PreemptionTimer]\nMinMaxDelay=60min\n", VIRT_POLICY_FIRST_VM,
	  TIMER_MODE_AUTO, 3600000000000ULL, 0, NULL },
	{ "MinMaxDelay=1us (the shortest)", "[PreemptionTimer]\nMinMaxDelay=1us\n", VIRT_POLICY_FIRST_VM,
	  TIMER_MODE_AUTO, 1000ULL, 0, NULL },
	{ "all keys", "[Virtualization]\nPolicy=boot\n[PreemptionTimer]\nMode=off\nMinMaxDelay=2min\n",
	  VIRT_POLICY_BOOT, TIMER_MODE_OFF, 120000000000ULL, 0, NULL },
	{ "case and blanks everywhere", "  [ virtualization ]  \n\t POLICY   =   NeVeR  \n[preemptiontimer]\nMODE=On\n",
	  VIRT_POLICY_NEVER, TIMER_MODE_ON, 10000000000ULL, 0, NULL },
	{ "dashed and underscored names", "[Preemption-Timer]\nmin-max-delay = 500ms\n[preemption_timer]\nmode=off\n",
	  VIRT_POLICY_FIRST_VM, TIMER_MODE_OFF, 500000000ULL, 0, NULL },
	{ "inline ';' comment", "[Virtualization]\nPolicy = boot ; on from the start\n", VIRT_POLICY_BOOT,
	  TIMER_MODE_AUTO, 10000000000ULL, 0, NULL },
	{ "CRLF line ends", "[Virtualization]\r\nPolicy=never\r\n", VIRT_POLICY_NEVER, TIMER_MODE_AUTO,
	  10000000000ULL, 0, NULL },
	{ "UTF-8 BOM", "\xef\xbb\xbf[Virtualization]\nPolicy=boot\n", VIRT_POLICY_BOOT, TIMER_MODE_AUTO,
	  10000000000ULL, 0, NULL },
	{ "no final newline", "[Virtualization]\nPolicy=boot", VIRT_POLICY_BOOT, TIMER_MODE_AUTO, 10000000000ULL, 0,
	  NULL },
	{ "repeated section accumulates", "[Virtualization]\n[PreemptionTimer]\nMode=on\n[Virtualization]\nPolicy=boot\n",
	  VIRT_POLICY_BOOT, TIMER_MODE_ON, 10000000000ULL, 0, NULL },
	{ "duplicate key: last wins, with a warning", "[Virtualization]\nPolicy=boot\n\nPolicy=never\n",
	  VIRT_POLICY_NEVER, TIMER_MODE_AUTO, 10000000000ULL, 1,
	  "t.conf:4: Policy= in [Virtualization] is set again (first on line 2), the last value wins" },
	{ "duplicate across repeated sections", "[PreemptionTimer]\nMode=on\n[Virtualization]\n[PreemptionTimer]\nmode=off\n",
	  VIRT_POLICY_FIRST_VM, TIMER_MODE_OFF, 10000000000ULL, 1, "t.conf:5: Mode= in [PreemptionTimer] is set again" },
	{ "unknown key", "[Virtualization]\nPolicy=boot\nFrobnicate=yes\n", VIRT_POLICY_BOOT, TIMER_MODE_AUTO,
	  10000000000ULL, 1, "t.conf:3: unknown key 'Frobnicate' in [Virtualization], ignoring it (known keys: Policy=)" },
	{ "key in the wrong section", "[Virtualization]\nMode=on\n", VIRT_POLICY_FIRST_VM, TIMER_MODE_AUTO,
	  10000000000ULL, 1, "t.conf:2: unknown key 'Mode' in [Virtualization], ignoring it (it belongs in [PreemptionTimer])" },
	{ "unknown section, warned once at its header", "[Lock]\nA=1\nB=2\n[Virtualization]\nPolicy=never\n",
	  VIRT_POLICY_NEVER, TIMER_MODE_AUTO, 10000000000ULL, 1,
	  "t.conf:1: unknown section [Lock], ignoring its keys" },
	{ "unknown section twice, warned twice", "[Lock]\nA=1\n[Virtualization]\n[Lock]\nB=2\n", VIRT_POLICY_FIRST_VM,
	  TIMER_MODE_AUTO, 10000000000ULL, 2, "t.conf:4: unknown section [Lock]" },
	{ "key before any section", "Policy=boot\n", VIRT_POLICY_FIRST_VM, TIMER_MODE_AUTO, 10000000000ULL, 1,
	  "t.conf:1: key 'Policy' outside of any section, ignoring it (it belongs in [Virtualization])" },
	{ "long comment lines are fine", NULL /* built in main() */, VIRT_POLICY_BOOT, TIMER_MODE_AUTO,
	  10000000000ULL, 0, NULL },
};

/* Files that are refused: the error's line, and what its message must name. */
static const struct bad {
	const char *name;
	const char *text;
	const char *needles[4];
} bads[] = {
	{ "bad Policy", "[Virtualization]\nPolicy=sometimes\n",
	  { "t.conf:2:", "'sometimes'", "Policy=", "accepted values: boot, first-vm, never" } },
	{ "Policy with a '#' comment", "[Virtualization]\nPolicy=boot # comment\n",
	  { "t.conf:2:", "'boot # comment'", "boot, first-vm, never", NULL } },
	{ "Policy with quotes", "[Virtualization]\nPolicy=\"boot\"\n", { "t.conf:2:", "'\"boot\"'", NULL } },
	{ "empty Policy", "[Virtualization]\nPolicy=\n",
	  { "t.conf:2:", "empty value for Policy=", "boot, first-vm, never", NULL } },
	{ "bad Mode", "\n[PreemptionTimer]\nMode=maybe\n", { "t.conf:3:", "'maybe'", "Mode=", "auto, on, off" } },
	{ "bad unit", "[PreemptionTimer]\nMinMaxDelay=10x\n",
	  { "t.conf:2:", "'10x'", "unknown unit", "s, ms, us or min" } },
	{ "ambiguous unit m", "[PreemptionTimer]\nMinMaxDelay=10m\n", { "t.conf:2:", "'10m'", "write min or ms", NULL } },
	{ "hours are not a unit", "[PreemptionTimer]\nMinMaxDelay=1h\n", { "'1h'", "unknown unit", NULL } },
	{ "fraction", "[PreemptionTimer]\nMinMaxDelay=1.5s\n", { "'1.5s'", "fractions are not supported", NULL } },
	{ "negative", "[PreemptionTimer]\nMinMaxDelay=-1s\n", { "'-1s'", "expected a whole number", NULL } },
	{ "unit alone", "[PreemptionTimer]\nMinMaxDelay=s\n", { "'s'", "expected a whole number", NULL } },
	{ "duration overflow", "[PreemptionTimer]\nMinMaxDelay=18446744074s\n",
	  { "t.conf:2:", "'18446744074s'", "out of range, the longest is 18446744073s", NULL } },
	{ "MinMaxDelay=0", "[PreemptionTimer]\nMinMaxDelay=0\n", { "t.conf:2:", "'0'", "must be longer than 0", NULL } },
	{ "MinMaxDelay=0ms", "[PreemptionTimer]\nMinMaxDelay=0ms\n", { "'0ms'", "must be longer than 0", NULL } },
	{ "MinMaxDelay one second past 1 h", "[PreemptionTimer]\nMinMaxDelay=3601s\n",
	  { "t.conf:2:", "'3601s'", "the longest is 60min", "from 1us to 60min" } },
	{ "MinMaxDelay 1 us past 1 h", "[PreemptionTimer]\nMinMaxDelay=3600000001us\n", { "the longest is 60min", NULL } },
	{ "digits overflow", "[PreemptionTimer]\nMinMaxDelay=99999999999999999999999\n",
	  { "out of range", NULL } },
	{ "minutes overflow", "[PreemptionTimer]\nMinMaxDelay=307445734561825861min\n", { "out of range", NULL } },
	{ "syntax: no '='", "[Virtualization]\nPolicy boot\n",
	  { "t.conf:2: syntax error: expected '[Section]' or 'Key=Value', got 'Policy boot'", NULL } },
	{ "syntax: unclosed header", "[Virtualization\nPolicy=boot\n",
	  { "t.conf:1: syntax error: section header '[Virtualization' lacks its closing ']'", NULL } },
	{ "indentation does not continue a value", "[Virtualization]\nPolicy=boot\n    never\n",
	  { "t.conf:3: syntax error", "'never'", NULL } },
	{ "control bytes are escaped", "[Virtualization]\nPolicy=bo\x01ot\xff\n", { "'bo\\x01ot\\xff'", NULL } },
	{ "a bad value among good ones", "[Virtualization]\nPolicy=boot\n[PreemptionTimer]\nMode=on\nMinMaxDelay=ten\n",
	  { "t.conf:5:", "'ten'", NULL } },
	{ "metrics: relative File=", "[Metrics]\nFile=virtd.prom\n",
	  { "t.conf:2:", "'virtd.prom'", "not an absolute path (it must start with /)", "e.g. /var/lib/prometheus/" } },
	{ "metrics: empty File=", "[Virtualization]\n[Metrics]\nFile=\n",
	  { "t.conf:3:", "empty value for File= in [Metrics]", "to turn metrics off, remove the line", NULL } },
	{ "metrics: File= ends in /", "[Metrics]\nFile=/var/lib/prometheus/node-exporter/\n",
	  { "t.conf:2:", "a directory, not a file", "DIRECTORY/virtd.prom", NULL } },
	{ "metrics: File=/", "[Metrics]\nFile=/\n", { "t.conf:2:", "a directory, not a file", NULL } },
	{ "metrics: File= ends in /..", "[Metrics]\nFile=/var/..\n", { "a directory, not a file", NULL } },
	{ "metrics: a bad File= among good keys", "[Virtualization]\nPolicy=boot\n[Metrics]\nFile=./x.prom\n",
	  { "t.conf:4:", "'./x.prom'", "not an absolute path", NULL } },
};

static void test_goods(void)
{
	for (size_t i = 0; i < ELEMENTSOF(goods); i++) {
		const struct good *g = &goods[i];
		struct config_diag d = CONFIG_DIAG_INIT;
		struct config c = sentinel;
		_cleanup_free_ char *text = NULL;
		int r;

		if (!g->text) {
			size_t n = 100000;

			text = malloc(n + 64);
			memset(text, 'x', n);
			text[0] = '#';
			strcpy(text + n, "\n[Virtualization]\nPolicy=boot\n");
		}
		r = config_parse_string(text ?: g->text, "t.conf", &c, &d);
		CHECK(r == 0, "%s: parses (%d)", g->name, r);
		CHECK(c.policy == g->policy && c.timer_mode == g->mode && c.timer_min_max_delay_ns == g->delay_ns,
		      "%s: values (policy %s, mode %s, %llu ns)", g->name, virt_policy_to_string(c.policy),
		      timer_mode_to_string(c.timer_mode), (unsigned long long)c.timer_min_max_delay_ns);
		CHECK(d.n_errors == 0 && d.n_warnings == g->n_warnings, "%s: %zu warning(s), no errors", g->name,
		      g->n_warnings);
		if (g->warning)
			CHECK(diag_has(&d, CONFIG_WARNING, g->warning), "%s: warning \"%s\"", g->name, g->warning);
		if (tests_failed)
			dump(&d);
		config_diag_done(&d);
	}
}

static void test_bads(void)
{
	for (size_t i = 0; i < ELEMENTSOF(bads); i++) {
		const struct bad *b = &bads[i];
		struct config_diag d = CONFIG_DIAG_INIT;
		struct config c = sentinel;
		int r;

		r = config_parse_string(b->text, "t.conf", &c, &d);
		CHECK(r == -EINVAL, "%s: refused with -EINVAL (%d)", b->name, r);
		CHECK(memcmp(&c, &sentinel, sizeof(c)) == 0, "%s: the previous configuration is untouched", b->name);
		CHECK(d.n_errors >= 1 && d.n_entries >= 1, "%s: an error is recorded", b->name);
		for (size_t k = 0; k < ELEMENTSOF(b->needles) && b->needles[k]; k++)
			CHECK(diag_has(&d, CONFIG_ERROR, b->needles[k]), "%s: message names \"%s\"", b->name,
			      b->needles[k]);
		for (size_t k = 0; k < d.n_entries; k++)
			CHECK(d.entries[k].file && strcmp(d.entries[k].file, "t.conf") == 0 && d.entries[k].line > 0,
			      "%s: entry %zu has file and line", b->name, k);
		if (tests_failed)
			dump(&d);
		config_diag_done(&d);
	}
}

static const struct duration {
	const char *text;
	int ret;
	uint64_t ns;
} durations[] = {
	{ "10s", 0, 10000000000ULL },
	{ "10", 0, 10000000000ULL },
	{ "0", 0, 0 },
	{ "500ms", 0, 500000000ULL },
	{ "250us", 0, 250000ULL },
	{ "2min", 0, 120000000000ULL },
	{ "10 s", 0, 10000000000ULL },
	{ "10\tms", 0, 10000000ULL },
	{ "10S", 0, 10000000000ULL },
	{ "3MIN", 0, 180000000000ULL },
	{ "007s", 0, 7000000000ULL },
	{ "18446744073s", 0, 18446744073000000000ULL },
	{ "18446744073709551us", 0, 18446744073709551000ULL },
	{ "18446744074s", -ERANGE, 0 },
	{ "18446744073709552us", -ERANGE, 0 },
	{ "307445734min", 0, 18446744040000000000ULL },
	{ "307445735min", -ERANGE, 0 },
	{ "18446744073709551616", -ERANGE, 0 },
	{ "99999999999999999999999999999999ms", -ERANGE, 0 },
	{ "", -EINVAL, 0 },
	{ "s", -EINVAL, 0 },
	{ " 10s", -EINVAL, 0 },
	{ "+10s", -EINVAL, 0 },
	{ "-10s", -EINVAL, 0 },
	{ "0x10", -EINVAL, 0 },
	{ "1.5s", -EINVAL, 0 },
	{ "1,5s", -EINVAL, 0 },
	{ "10m", -EINVAL, 0 },
	{ "10h", -EINVAL, 0 },
	{ "10ns", -EINVAL, 0 },
	{ "10 s s", -EINVAL, 0 },
	{ "10s ", -EINVAL, 0 },
	{ "1min30s", -EINVAL, 0 },
};

static void test_durations(void)
{
	for (size_t i = 0; i < ELEMENTSOF(durations); i++) {
		const struct duration *t = &durations[i];
		uint64_t ns = 42;
		int r = config_parse_duration(t->text, &ns);

		CHECK(r == t->ret && (r < 0 ? ns == 42 : ns == t->ns), "duration \"%s\" → %d, %llu ns", t->text, t->ret,
		      (unsigned long long)t->ns);
	}
	CHECK(config_parse_duration(NULL, &(uint64_t) { 0 }) == -EINVAL, "duration NULL → -EINVAL");
}

static void test_names(void)
{
	for (int p = 0; p < _VIRT_POLICY_MAX; p++)
		CHECK(virt_policy_from_string(virt_policy_to_string((enum virt_policy)p)) == p, "policy %s round trip",
		      virt_policy_to_string((enum virt_policy)p));
	for (int m = 0; m < _TIMER_MODE_MAX; m++)
		CHECK(timer_mode_from_string(timer_mode_to_string((enum timer_mode)m)) == m, "mode %s round trip",
		      timer_mode_to_string((enum timer_mode)m));
	CHECK(virt_policy_from_string("first_vm") == -EINVAL, "first_vm is not first-vm (values are exact)");
	CHECK(virt_policy_from_string(NULL) == -EINVAL, "policy NULL → -EINVAL");
	CHECK(virt_policy_to_string(_VIRT_POLICY_MAX) == NULL, "no name past the last policy");
}

static void test_misc(void)
{
	struct config_diag d = CONFIG_DIAG_INIT;
	struct config c = sentinel;
	_cleanup_free_ char *text = NULL, *big = NULL;
	size_t o = 0;
	int r;

	/* Default policy, and a NULL text. */
	r = config_parse_string(NULL, NULL, &c, NULL);
	CHECK(r == 0 && c.policy == VIRT_POLICY_FIRST_VM && c.timer_mode == TIMER_MODE_AUTO &&
	      c.timer_min_max_delay_ns == 10000000000ULL, "NULL text: defaults (first-vm, auto, 10s)");

	/* Without a diagnostics sink a bad file is still refused. */
	c = sentinel;
	r = config_parse_string("[Virtualization]\nPolicy=bogus\n", "t.conf", &c, NULL);
	CHECK(r == -EINVAL && memcmp(&c, &sentinel, sizeof(c)) == 0, "no diagnostics sink: still -EINVAL, untouched");

	/* Every error is reported, not only the first. */
	r = config_parse_string("[Virtualization]\nPolicy=a\njunk\n[PreemptionTimer]\nMode=b\n[Oops\n", "t.conf", &c, &d);
	CHECK(r == -EINVAL && d.n_errors == 4, "four errors in one file: four reported (%zu)", d.n_errors);
	CHECK(d.n_entries == 4 && d.entries[0].line == 2 && d.entries[1].line == 3 && d.entries[2].line == 5 &&
	      d.entries[3].line == 6, "in line order 2, 3, 5, 6");
	config_diag_done(&d);
	CHECK(d.n_entries == 0 && d.entries == NULL, "config_diag_done() empties");

	/* An unknown section is reported at its first key but sorted to its
	 * header's line (found by fuzz/config). */
	r = config_parse_string("[Foo]\ngarbage\na=b\n", "t.conf", &c, &d);
	CHECK(r == -EINVAL && d.n_entries == 2 && d.entries[0].line == 1 && d.entries[1].line == 2,
	      "unknown section before a later line's error: in line order 1, 2");
	config_diag_done(&d);

	/* ... but never before an earlier parse's entries. */
	config_parse_string("[V]\n\n\n\nx\n", "a.conf", &c, &d);
	config_parse_string("[W]\nb=1\n", "b.conf", &c, &d);
	CHECK(d.n_entries == 2 && strcmp(d.entries[0].file, "a.conf") == 0 && strcmp(d.entries[1].file, "b.conf") == 0,
	      "ordering stays within one parse");
	config_diag_done(&d);

	/* A huge value line. */
	big = malloc(200000);
	strcpy(big, "[Virtualization]\nPolicy=");
	memset(big + strlen(big), 'b', 150000);
	strcpy(big + strlen("[Virtualization]\nPolicy=") + 150000, "\n");
	c = sentinel;
	r = config_parse_string(big, "t.conf", &c, &d);
	CHECK(r == -EINVAL && memcmp(&c, &sentinel, sizeof(c)) == 0, "huge line: refused, untouched");
	CHECK(diag_has(&d, CONFIG_ERROR, "t.conf:2: line too long (150007 bytes"), "huge line: named with its length");
	CHECK(strlen(d.entries[0].message) < 200, "huge line: the message stays short");
	config_diag_done(&d);

	/* A long but reasonable value is quoted cut short. */
	r = config_parse_string("[Virtualization]\nPolicy=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
				"t.conf", &c, &d);
	CHECK(r == -EINVAL && diag_has(&d, CONFIG_ERROR, "aaaa...'"), "long value quoted with an ellipsis");
	config_diag_done(&d);

	/* Diagnostics are capped; the counts stay exact. */
	text = malloc(100 * 16 + 32);
	o = (size_t)sprintf(text, "[Virtualization]\n");
	for (int i = 0; i < 100; i++)
		o += (size_t)sprintf(text + o, "Unknown%d=1\n", i);
	r = config_parse_string(text, "t.conf", &c, &d);
	CHECK(r == 0, "100 unknown keys: only warnings, parses");
	CHECK(d.n_entries == CONFIG_DIAG_MAX && d.n_warnings == 100 && d.n_suppressed == 100 - CONFIG_DIAG_MAX,
	      "100 warnings: %d kept, %d counted as suppressed", CONFIG_DIAG_MAX, 100 - CONFIG_DIAG_MAX);
	config_diag_done(&d);

	/* Diagnostics of two parses accumulate (start, then reload). */
	config_parse_string("[X]\na=1\n", "a.conf", &c, &d);
	config_parse_string("[Y]\nb=1\n", "b.conf", &c, &d);
	CHECK(d.n_entries == 2 && strcmp(d.entries[1].file, "b.conf") == 0, "diagnostics accumulate across parses");
	config_diag_done(&d);
}

/* [Metrics] File=: set, warned, refused, reset by a file without it (a reload that removes it). */
static void test_metrics(void)
{
	char dir[] = "/tmp/test-config-metrics.XXXXXX", text[300], path[256];
	struct config_diag d = CONFIG_DIAG_INIT;
	struct config c = sentinel;
	int r;

	r = config_parse_string("[Metrics]\nFile=/var/lib/prometheus/node-exporter/virtd.prom\n", "t.conf", &c, &d);
	CHECK(r == 0 && d.n_entries == 0, "metrics: File= parses without diagnostics (%d)", r);
	CHECK_STR(c.metrics_file, "/var/lib/prometheus/node-exporter/virtd.prom", "metrics: File= is kept");
	CHECK(c.policy == VIRT_POLICY_FIRST_VM, "metrics: the other keys keep their defaults");
	r = config_parse_string("[ metrics ]\nfile = /run/virtd.prom\n", "t.conf", &c, &d);
	CHECK(r == 0 && strcmp(c.metrics_file, "/run/virtd.prom") == 0, "metrics: names match as every key's do");
	r = config_parse_string("[Virtualization]\nPolicy=boot\n", "t.conf", &c, &d);
	CHECK(r == 0 && c.metrics_file[0] == '\0', "metrics: a file without [Metrics] turns them off (reload)");
	config_diag_done(&d);

	r = config_parse_string("[Metrics]\nFile=/run/virtd.txt\n", "t.conf", &c, &d);
	CHECK(r == 0 && strcmp(c.metrics_file, "/run/virtd.txt") == 0, "metrics: a name without .prom is accepted");
	CHECK(d.n_warnings == 1 && diag_has(&d, CONFIG_WARNING, "t.conf:2: File= in [Metrics] does not end in .prom"),
	      "metrics: ... with a warning on its line");
	config_diag_done(&d);

	r = config_parse_string("[Metrics]\nFile=/run/virtd.prom\nPath=/x\n", "t.conf", &c, &d);
	CHECK(r == 0 && diag_has(&d, CONFIG_WARNING, "t.conf:3: unknown key 'Path' in [Metrics], ignoring it (known keys: File=)"),
	      "metrics: an unknown key in [Metrics] is warned of, with the known keys");
	config_diag_done(&d);
	r = config_parse_string("[Metrix]\nFile=/run/virtd.prom\n", "t.conf", &c, &d);
	CHECK(r == 0 && diag_has(&d, CONFIG_WARNING, "known sections: [Virtualization], [PreemptionTimer], [Metrics]"),
	      "metrics: a misspelt section names [Metrics] among the known ones");
	config_diag_done(&d);

	/* An existing directory, named without a slash at the end. */
	CHECK(mkdtemp(dir) != NULL, "metrics: temporary directory");
	snprintf(text, sizeof(text), "[Metrics]\nFile=%s\n", dir);
	c = sentinel;
	r = config_parse_string(text, "t.conf", &c, &d);
	CHECK(r == -EINVAL && diag_has(&d, CONFIG_ERROR, "t.conf:2:") && diag_has(&d, CONFIG_ERROR, "a directory, not a file"),
	      "metrics: an existing directory is refused");
	CHECK(memcmp(&c, &sentinel, sizeof(c)) == 0, "metrics: ... and the configuration is untouched");
	config_diag_done(&d);
	rmdir(dir);

	/* The longest path a line holds ("File=" and 194 bytes: 199), and one byte more. */
	memset(path, 'a', sizeof(path));
	path[0] = '/';
	memcpy(path + 194 - 5, ".prom", 6);
	snprintf(text, sizeof(text), "[Metrics]\nFile=%s\n", path);
	r = config_parse_string(text, "t.conf", &c, &d);
	CHECK(r == 0 && strlen(c.metrics_file) == 194, "metrics: a path of 194 bytes fits on a line");
	config_diag_done(&d);
	path[194 - 5] = 'a';
	memcpy(path + 195 - 5, ".prom", 6);
	snprintf(text, sizeof(text), "[Metrics]\nFile=%s\n", path);
	r = config_parse_string(text, "t.conf", &c, &d);
	CHECK(r == -EINVAL && diag_has(&d, CONFIG_ERROR, "t.conf:2: line too long (200 bytes"),
	      "metrics: one byte more is a line too long");
	config_diag_done(&d);
}

static int write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -errno;
	if (n > 0 && fwrite(data, 1, n, f) != n) {
		fclose(f);
		return -EIO;
	}
	return fclose(f) == 0 ? 0 : -errno;
}

static void test_load(void)
{
	char dir[] = "/tmp/test-config.XXXXXX", path[128];
	const char *srcdir = getenv("srcdir") ?: ".";
	struct config_diag d = CONFIG_DIAG_INIT;
	struct config c = sentinel;
	_cleanup_free_ char *big = NULL, *shipped = NULL, *uncommented = NULL;
	FILE *f;
	size_t n;
	int r;

	CHECK(mkdtemp(dir) != NULL, "load: temporary directory");

	snprintf(path, sizeof(path), "%s/missing.conf", dir);
	r = config_load(path, &c, &d);
	CHECK(r == 0 && c.policy == VIRT_POLICY_FIRST_VM && d.n_entries == 0, "load: a missing file means defaults");

	snprintf(path, sizeof(path), "%s/good.conf", dir);
	write_file(path, "[Virtualization]\nPolicy=boot\n", 29);
	r = config_load(path, &c, &d);
	CHECK(r == 0 && c.policy == VIRT_POLICY_BOOT, "load: a good file");

	snprintf(path, sizeof(path), "%s/bad.conf", dir);
	write_file(path, "[Virtualization]\nPolicy=nope\n", 29);
	c = sentinel;
	r = config_load(path, &c, &d);
	CHECK(r == -EINVAL && memcmp(&c, &sentinel, sizeof(c)) == 0, "load: a bad file is refused, untouched");
	CHECK(d.n_entries == 1 && strstr(d.entries[0].message, path) && strstr(d.entries[0].message, ":2: "),
	      "load: the message names the path and line");
	config_diag_done(&d);

	snprintf(path, sizeof(path), "%s/nul.conf", dir);
	write_file(path, "[Virtualization]\n\nPol\0icy=boot\n", 30);
	r = config_load(path, &c, &d);
	CHECK(r == -EINVAL && diag_has(&d, CONFIG_ERROR, ":3: contains a NUL byte"), "load: a NUL byte, on line 3");
	config_diag_done(&d);

	snprintf(path, sizeof(path), "%s/big.conf", dir);
	big = malloc(CONFIG_FILE_MAX + 1);
	memset(big, '#', CONFIG_FILE_MAX + 1);
	write_file(path, big, CONFIG_FILE_MAX + 1);
	r = config_load(path, &c, &d);
	CHECK(r == -EFBIG && diag_has(&d, CONFIG_ERROR, "larger than"), "load: a file over the limit is -EFBIG");
	config_diag_done(&d);
	write_file(path, big, CONFIG_FILE_MAX);
	r = config_load(path, &c, &d);
	CHECK(r == 0, "load: a file exactly at the limit parses");
	config_diag_done(&d);
	unlink(path);

	r = config_load(dir, &c, &d);
	CHECK(r == -EISDIR && d.n_errors == 1, "load: a directory is -EISDIR with an error");
	config_diag_done(&d);

	unlink(path);
	snprintf(path, sizeof(path), "%s/missing.conf", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/good.conf", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/bad.conf", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/nul.conf", dir);
	unlink(path);

	/* The shipped file: clean as is, and its documented defaults are the defaults. */
	snprintf(path, sizeof(path), "%s/conf/virtd.conf", srcdir);
	c = sentinel;
	r = config_load(path, &c, &d);
	CHECK(r == 0 && d.n_entries == 0, "shipped %s parses without diagnostics", path);
	CHECK(c.policy == VIRT_POLICY_FIRST_VM && c.timer_mode == TIMER_MODE_AUTO &&
	      c.timer_min_max_delay_ns == CONFIG_DEFAULT_MIN_MAX_DELAY_NS, "shipped file: defaults");
	config_diag_done(&d);

	f = fopen(path, "re");
	CHECK(f != NULL, "shipped file readable");
	if (!f)
		goto out;
	shipped = calloc(1, 65536);
	n = fread(shipped, 1, 65535, f);
	fclose(f);
	uncommented = calloc(1, n + 1);
	/* Uncomment "#Key=..." lines: the values shown must be the defaults. */
	for (size_t i = 0, o = 0; i < n; i++) {
		bool bol = i == 0 || shipped[i - 1] == '\n';

		if (bol && shipped[i] == '#' && i + 1 < n && isupper((unsigned char)shipped[i + 1]))
			continue;
		uncommented[o++] = shipped[i];
	}
	c = sentinel;
	r = config_parse_string(uncommented, "uncommented", &c, &d);
	CHECK(r == 0 && d.n_entries == 0, "shipped file, keys uncommented: parses cleanly");
	CHECK(c.policy == VIRT_POLICY_FIRST_VM && c.timer_mode == TIMER_MODE_AUTO &&
	      c.timer_min_max_delay_ns == CONFIG_DEFAULT_MIN_MAX_DELAY_NS,
	      "shipped file, keys uncommented: the documented values are the defaults");
	CHECK(strstr(uncommented, "\nPolicy=") && strstr(uncommented, "\nMode=") && strstr(uncommented, "\nMinMaxDelay=") &&
	      strstr(uncommented, "\nFile="), "shipped file documents every key");
	CHECK(c.metrics_file[0] == '/', "shipped file, keys uncommented: the metrics example is an absolute path");
	dump(&d);
	config_diag_done(&d);
out:
	rmdir(dir);
}

/* [Hypervisor] Mode.NAME=: forced lock modes by profile name. */
static void test_hypervisor(void)
{
	struct config_diag d = CONFIG_DIAG_INIT;
	struct config c = sentinel;
	int r;

	r = config_parse_string("[Hypervisor]\nMode.virtualbox=shared\nmode.VMware = Exclusive\nMode.other=auto\n", "t.conf",
				&c, &d);
	CHECK(r == 0 && d.n_entries == 0 && c.n_hv_modes == 3, "three Mode.NAME= keys parse (%d, %zu)", r, c.n_hv_modes);
	CHECK(config_hv_mode(&c, "virtualbox") == HV_MODE_SHARED && config_hv_mode(&c, "vmware") == HV_MODE_EXCLUSIVE &&
	      config_hv_mode(&c, "other") == HV_MODE_AUTO && config_hv_mode(&c, "unset") == HV_MODE_AUTO,
	      "the modes by name, case-insensitive; an unset name is auto");
	dump(&d);
	config_diag_done(&d);

	c = sentinel;
	r = config_parse_string("[Hypervisor]\nMode.virtualbox=shared\nMode.virtualbox=exclusive\n", "t.conf", &c, &d);
	CHECK(r == 0 && c.n_hv_modes == 1 && config_hv_mode(&c, "virtualbox") == HV_MODE_EXCLUSIVE &&
	      diag_has(&d, CONFIG_WARNING, "t.conf:3: Mode.virtualbox= in [Hypervisor] is set again"),
	      "set twice: one entry, the last wins, a warning with the line");
	config_diag_done(&d);

	c = sentinel;
	r = config_parse_string("[Hypervisor]\nMode.virtualbox=sometimes\n", "t.conf", &c, &d);
	CHECK(r == -EINVAL && memcmp(&c, &sentinel, sizeof(c)) == 0 &&
	      diag_has(&d, CONFIG_ERROR, "t.conf:2: invalid value 'sometimes' for Mode.virtualbox= in [Hypervisor]; "
		       "accepted values: auto, shared, exclusive"), "a bad mode: file:line and the accepted values");
	config_diag_done(&d);

	r = config_parse_string("[Hypervisor]\nMode.=shared\nMode.a/b=shared\nMode.v=\n", "t.conf", &c, &d);
	CHECK(r == -EINVAL && d.n_errors == 3 && diag_has(&d, CONFIG_ERROR, "t.conf:2: invalid profile name") &&
	      diag_has(&d, CONFIG_ERROR, "t.conf:3: invalid profile name") &&
	      diag_has(&d, CONFIG_ERROR, "t.conf:4: invalid value '' for Mode.v="),
	      "an empty or bad profile name, an empty value: three errors with their lines");
	dump(&d);
	config_diag_done(&d);

	r = config_parse_string("[Hypervisor]\nPolicy=boot\n", "t.conf", &c, &d);
	CHECK(r == 0 && diag_has(&d, CONFIG_WARNING, "t.conf:2: unknown key 'Policy' in [Hypervisor]"),
	      "another key in [Hypervisor]: a warning");
	config_diag_done(&d);

	/* Sixteen names fit, a seventeenth is refused. */
	{
		char text[2048];
		size_t o = (size_t)snprintf(text, sizeof(text), "[Hypervisor]\n");

		for (int i = 0; i <= CONFIG_HV_MODES_MAX; i++)
			o += (size_t)snprintf(text + o, sizeof(text) - o, "Mode.p%d=shared\n", i);
		r = config_parse_string(text, "t.conf", &c, &d);
		CHECK(r == -EINVAL && diag_has(&d, CONFIG_ERROR, "t.conf:18: too many Mode.NAME= keys"),
		      "more than %d names: refused at the line that is one too many", CONFIG_HV_MODES_MAX);
		config_diag_done(&d);
	}
}

/* [Hypervisor] HandOff= and HandOffTimeout=: the transparent hand-off. */
static void test_handoff(void)
{
	struct config_diag d = CONFIG_DIAG_INIT;
	struct config c = sentinel;
	int r;

	config_init_defaults(&c);
	CHECK(c.handoff && c.handoff_timeout_ns == 10ULL * 1000000000, "defaults: on, 10 s");
	c = sentinel;
	r = config_parse_string("[Hypervisor]\nHandOff=no\nhand-off-timeout = 1500ms\n", "t.conf", &c, &d);
	CHECK(r == 0 && d.n_entries == 0 && !c.handoff && c.handoff_timeout_ns == 1500ULL * 1000000,
	      "HandOff=no, the timeout in ms, spelled with dashes");
	config_diag_done(&d);
	r = config_parse_string("[Hypervisor]\nHandOff=on\nHandOffTimeout=10min\n", "t.conf", &c, &d);
	CHECK(r == 0 && c.handoff && c.handoff_timeout_ns == 600ULL * 1000000000, "on, the longest timeout");
	config_diag_done(&d);

	c = sentinel;
	r = config_parse_string("[Hypervisor]\nHandOff=maybe\nHandOffTimeout=0\nHandOffTimeout=11min\n"
				"HandOffTimeout=999us\nHandOffTimeout=1.5s\n", "t.conf", &c, &d);
	CHECK(r == -EINVAL && d.n_errors == 5 && memcmp(&c, &sentinel, sizeof(c)) == 0 &&
	      diag_has(&d, CONFIG_ERROR, "t.conf:2: invalid value 'maybe' for HandOff= in [Hypervisor]; accepted values: yes, no") &&
	      diag_has(&d, CONFIG_ERROR, "t.conf:3: invalid value '0' for HandOffTimeout= in [Hypervisor]: out of range") &&
	      diag_has(&d, CONFIG_ERROR, "t.conf:4: invalid value '11min'") &&
	      diag_has(&d, CONFIG_ERROR, "t.conf:5: invalid value '999us'") &&
	      diag_has(&d, CONFIG_ERROR, "t.conf:6: invalid value '1.5s' for HandOffTimeout= in [Hypervisor]: fractions"),
	      "a bad switch, timeouts out of range and a fraction: five errors with their lines");
	dump(&d);
	config_diag_done(&d);
}

int main(void)
{
	test_handoff();
	test_goods();
	test_bads();
	test_durations();
	test_names();
	test_misc();
	test_metrics();
	test_load();
	test_hypervisor();
	return tests_finish();
}
