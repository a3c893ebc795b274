/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* probe-json.c: virtctl probe's result document, written by virtd from virthw's PROBE replies (pure). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "output.h"
#include "probe-json.h"

uint64_t probe_cycles_to_ns(uint64_t cycles, uint32_t tsc_khz)
{
	unsigned __int128 ns;

	if (tsc_khz == 0)
		return UINT64_MAX;
	ns = ((unsigned __int128)cycles * 1000000U + tsc_khz / 2) / tsc_khz;
	return ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}

static void stat_json(FILE *f, const char *key, const struct virthw_probe_stat *s, uint32_t tsc_khz)
{
	uint64_t ns;

	fprintf(f, ",\"%s\":", key);
	if (!s->present) {
		fputs("null", f);
		return;
	}
	fprintf(f, "{\"count\":%" PRIu32 ",\"min\":%" PRIu64 ",\"median\":%" PRIu64 ",\"mean\":%" PRIu64
		",\"max\":%" PRIu64 ",\"median_ns\":", s->count, s->min, s->median, s->mean, s->max);
	ns = probe_cycles_to_ns(s->median, tsc_khz);
	if (ns == UINT64_MAX)
		fputs("null}", f);
	else
		fprintf(f, "%" PRIu64 "}", ns);
}

static const char *jbool(bool b)
{
	return b ? "true" : "false";
}

static void cpu_json(FILE *f, const struct virthw_probe *p)
{
	fprintf(f, "{\"cpu\":%" PRIu32 ",\"feature\":\"%s\",\"iterations\":%" PRIu32 ",\"tsc_khz\":%" PRIu32
		",\"timer_use\":%s", p->cpu, hw_feature_to_string(p->feature), p->iterations, p->tsc_khz,
		p->has_timer_use ? jbool(p->timer_use) : "null");
	stat_json(f, "round_trip", &p->round_trip, p->tsc_khz);
	stat_json(f, "toggle", &p->toggle, p->tsc_khz);
	if (p->round_trip.present && p->toggle.present && p->round_trip.median > 0)
		fprintf(f, ",\"toggle_ratio\":%.3f", (double)p->toggle.median / (double)p->round_trip.median);
	else
		fputs(",\"toggle_ratio\":null", f);
	stat_json(f, "immediate", &p->immediate, p->tsc_khz);
	fprintf(f, ",\"immediate_method\":\"%s\"", hw_immediate_method_to_string(p->immediate_method));
	if (p->has_timer_rate)
		fprintf(f, ",\"timer_rate\":%u", (unsigned)p->timer_rate);
	else
		fputs(",\"timer_rate\":null", f);
	if (p->has_timer)
		fprintf(f, ",\"timer_programmed\":%" PRIu32 ",\"timer_expected\":%" PRIu64, p->timer_programmed,
			p->timer_expected);
	else
		fputs(",\"timer_programmed\":null,\"timer_expected\":null", f);
	stat_json(f, "timer_elapsed", &p->timer_elapsed, p->tsc_khz);
	if (p->has_timer && p->timer_elapsed.present && p->timer_expected > 0)
		fprintf(f, ",\"timer_error_percent\":%.3f",
			((double)p->timer_elapsed.median - (double)p->timer_expected) * 100.0 / (double)p->timer_expected);
	else
		fputs(",\"timer_error_percent\":null", f);
	fprintf(f, ",\"spurious_timer_exits\":%" PRIu32 ",\"interrupted\":%" PRIu32 ",\"duration_ns\":%" PRIu64 "}",
		p->spurious_timer_exits, p->interrupted, p->duration_ns);
}

int probe_json(uint32_t cpu_request, uint32_t iterations, const struct virthw_probe *p, size_t n, char **ret)
{
	struct memtext t;
	FILE *f;

	if (memtext_open(&t) < 0)
		return -ENOMEM;
	f = t.f;
	if (cpu_request == PROBE_CPU_ALL)
		fputs("{\"cpu_request\":\"all\"", f);
	else
		fprintf(f, "{\"cpu_request\":%" PRIu32, cpu_request);
	fprintf(f, ",\"iterations\":%" PRIu32 ",\"timer_use\":%s,\"cpus\":[", iterations,
		n > 0 && p[0].has_timer_use ? jbool(p[0].timer_use) : "null");
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', f);
		cpu_json(f, &p[i]);
	}
	fputs("]}", f);
	return memtext_close(&t, ret);
}
