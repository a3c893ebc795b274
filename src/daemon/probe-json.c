/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* probe-json.c: virtctl probe's result document, written by virtd from virthw's PROBE replies (pure). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "json-util.h"
#include "probe-json.h"

uint64_t probe_cycles_to_ns(uint64_t cycles, uint32_t tsc_khz)
{
	unsigned __int128 ns;

	if (tsc_khz == 0)
		return UINT64_MAX;
	ns = ((unsigned __int128)cycles * 1000000U + tsc_khz / 2) / tsc_khz;
	return ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}

static json_object *stat_json(const struct virthw_probe_stat *s, uint32_t tsc_khz)
{
	json_object *o;
	uint64_t ns;

	if (!s->present)
		return NULL;
	o = jv_object();
	jv_set(o, "count", jv_u64(s->count));
	jv_set(o, "min", jv_u64(s->min));
	jv_set(o, "median", jv_u64(s->median));
	jv_set(o, "mean", jv_u64(s->mean));
	jv_set(o, "max", jv_u64(s->max));
	ns = probe_cycles_to_ns(s->median, tsc_khz);
	jv_set(o, "median_ns", ns == UINT64_MAX ? NULL : jv_u64(ns));
	return o;
}

/* The measured figures of one CPU's reply, in the order virtctl(8) lists them. */
static json_object *cpu_json(const struct virthw_probe *p)
{
	json_object *o = jv_object();

	jv_set(o, "cpu", jv_u64(p->cpu));
	jv_set(o, "feature", jv_text(hw_feature_to_string(p->feature)));
	jv_set(o, "iterations", jv_u64(p->iterations));
	jv_set(o, "tsc_khz", jv_u64(p->tsc_khz));
	jv_set(o, "timer_use", jv_opt_bool(p->has_timer_use, p->timer_use));
	jv_set(o, "round_trip", stat_json(&p->round_trip, p->tsc_khz));
	jv_set(o, "toggle", stat_json(&p->toggle, p->tsc_khz));
	jv_set(o, "toggle_ratio",
	       p->round_trip.present && p->toggle.present && p->round_trip.median > 0
		       ? jv_fixed3((double)p->toggle.median / (double)p->round_trip.median)
		       : NULL);
	jv_set(o, "immediate", stat_json(&p->immediate, p->tsc_khz));
	jv_set(o, "immediate_method", jv_text(hw_immediate_method_to_string(p->immediate_method)));
	jv_set(o, "timer_rate", p->has_timer_rate ? jv_u64(p->timer_rate) : NULL);
	jv_set(o, "timer_programmed", p->has_timer ? jv_u64(p->timer_programmed) : NULL);
	jv_set(o, "timer_expected", p->has_timer ? jv_u64(p->timer_expected) : NULL);
	jv_set(o, "timer_elapsed", stat_json(&p->timer_elapsed, p->tsc_khz));
	jv_set(o, "timer_error_percent",
	       p->has_timer && p->timer_elapsed.present && p->timer_expected > 0
		       ? jv_fixed3(((double)p->timer_elapsed.median - (double)p->timer_expected) * 100.0 /
				   (double)p->timer_expected)
		       : NULL);
	jv_set(o, "spurious_timer_exits", jv_u64(p->spurious_timer_exits));
	jv_set(o, "interrupted", jv_u64(p->interrupted));
	jv_set(o, "duration_ns", jv_u64(p->duration_ns));
	return o;
}

int probe_json(uint32_t cpu_request, uint32_t iterations, const struct virthw_probe *p, size_t n, char **ret)
{
	_cleanup_(json_object_putp) json_object *doc = jv_object();
	json_object *cpus = jv_array();

	jv_set(doc, "cpu_request", cpu_request == PROBE_CPU_ALL ? jv_text("all") : jv_u64(cpu_request));
	jv_set(doc, "iterations", jv_u64(iterations));
	jv_set(doc, "timer_use", jv_opt_bool(n > 0 && p[0].has_timer_use, n > 0 && p[0].timer_use));
	for (size_t i = 0; i < n; i++)
		jv_append(cpus, cpu_json(&p[i]));
	jv_set(doc, "cpus", cpus);
	return jv_to_text(doc, ret);
}
