/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* probe-print.c: the human view of virtctl probe's result document (pure: JSON in, text out). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "probe-print.h"

#define CELL 64

static bool u64_at(const json_object *o, const char *key, uint64_t *ret)
{
	return jv_get_u64(jv_get(o, key), ret) == 0;
}

/* A count, or "-" when absent. */
static void u64_cell(char *buf, size_t size, const json_object *o, const char *key)
{
	uint64_t u;

	if (u64_at(o, key, &u))
		snprintf(buf, size, "%" PRIu64, u);
	else
		snprintf(buf, size, "-");
}

/* "15234 (7.617 us)", "15234", or "-" for an absent statistic. */
static void stat_cell(char *buf, size_t size, const json_object *cpu, const char *key)
{
	const json_object *s = jv_get(cpu, key);
	char dur[DURATION_MAX];
	uint64_t median, ns;

	if (!u64_at(s, "median", &median)) {
		snprintf(buf, size, "-");
		return;
	}
	if (u64_at(s, "median_ns", &ns))
		snprintf(buf, size, "%" PRIu64 " (%s)", median, format_duration_ns(dur, sizeof(dur), ns));
	else
		snprintf(buf, size, "%" PRIu64, median);
}

/* Only the characters a method name has: the document comes over the bus. */
static void word_cell(char *buf, size_t size, const char *s)
{
	size_t o = 0;

	if (!s || !*s) {
		snprintf(buf, size, "-");
		return;
	}
	for (; *s && o + 1 < size; s++)
		buf[o++] = (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ? *s : '?';
	buf[o] = '\0';
}

int probe_print(FILE *f, const json_object *doc, bool color)
{
	static const char *const headers[] = {
		"CPU", "FEATURE", "(a) ROUND TRIP", "(b) TOGGLE", "(b)/(a)", "(c) IMMEDIATE", "METHOD",
		"(d) TIMER EXPECTED", "(d) ELAPSED", "ERROR", "SPURIOUS", "INTERRUPTED",
	};
	const json_object *cpus = jv_get(doc, "cpus");
	_cleanup_(table_freep) table *t = NULL;
	uint64_t iterations = 0, tsc = 0, u;
	bool tsc_mixed = false;
	int r;

	if (!jv_is_array(cpus))
		return -EINVAL;
	t = table_new(ELEMENTSOF(headers), headers);
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < jv_len(cpus); i++) {
		const json_object *c = jv_at(cpus, i);
		char cells[ELEMENTSOF(headers)][CELL];
		const char *row[ELEMENTSOF(headers)], *colors[ELEMENTSOF(headers)] = {};
		uint64_t prog, exp;
		double d;

		u64_cell(cells[0], CELL, c, "cpu");
		word_cell(cells[1], CELL, jv_str(jv_get(c, "feature")));
		stat_cell(cells[2], CELL, c, "round_trip");
		stat_cell(cells[3], CELL, c, "toggle");
		if (jv_get_double(jv_get(c, "toggle_ratio"), &d) == 0) {
			snprintf(cells[4], CELL, "%.2f", d);
			/* KVM keeps the pin control set because toggling it costs a full check on entry. */
			if (d >= 2.0)
				colors[4] = ANSI_YELLOW;
		} else {
			snprintf(cells[4], CELL, "-");
		}
		stat_cell(cells[5], CELL, c, "immediate");
		word_cell(cells[6], CELL, jv_str(jv_get(c, "immediate_method")));
		if (u64_at(c, "timer_programmed", &prog) && u64_at(c, "timer_expected", &exp))
			snprintf(cells[7], CELL, "%" PRIu64 " ticks = %" PRIu64, prog, exp);
		else
			snprintf(cells[7], CELL, "-");
		stat_cell(cells[8], CELL, c, "timer_elapsed");
		if (jv_get_double(jv_get(c, "timer_error_percent"), &d) == 0)
			snprintf(cells[9], CELL, "%+.2f%%", d);
		else
			snprintf(cells[9], CELL, "-");
		u64_cell(cells[10], CELL, c, "spurious_timer_exits");
		if (u64_at(c, "spurious_timer_exits", &u) && u > 0)
			colors[10] = ANSI_YELLOW;
		u64_cell(cells[11], CELL, c, "interrupted");
		for (size_t k = 0; k < ELEMENTSOF(headers); k++)
			row[k] = cells[k];
		r = table_add_row(t, row, colors);
		if (r < 0)
			return r;
		if (i == 0) {
			(void)u64_at(c, "iterations", &iterations);
			(void)u64_at(c, "tsc_khz", &tsc);
		} else if (u64_at(c, "tsc_khz", &u) && u != tsc) {
			tsc_mixed = true;
		}
	}
	if (jv_len(cpus) == 0)
		fprintf(f, "No CPU was probed.\n");
	else if (tsc > 0 && !tsc_mixed)
		fprintf(f, "Medians of %" PRIu64 " iterations, in TSC cycles (time at %" PRIu64 " kHz):\n", iterations, tsc);
	else
		fprintf(f, "Medians of %" PRIu64 " iterations, in TSC cycles (the TSC rate is unknown: no times):\n",
			iterations);
	r = table_print(t, f, color);
	if (r < 0)
		return r;
	return ferror(f) ? -EIO : 0;
}
