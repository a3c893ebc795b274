/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* probe-json.h: virtctl probe's result document, written by virtd from virthw's PROBE replies (pure). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "hw-parse.h"

/* Probe(cpu, ...) with this CPU number: every online CPU. */
#define PROBE_CPU_ALL UINT32_MAX

/*
 * The document (keys documented in virtctl(8)):
 *   {"cpu_request":"all"|N, "iterations":N (0: the module's default),
 *    "timer_use":bool|null, "cpus":[{per CPU}]}
 * per CPU: cpu, feature, iterations, tsc_khz (0: unknown), timer_use,
 * round_trip, toggle, immediate, timer_elapsed (each null or {count, min,
 * median, mean, max in TSC cycles, median_ns or null}), toggle_ratio
 * (median (b) / median (a), or null), immediate_method, timer_rate,
 * timer_programmed, timer_expected, timer_error_percent ((median elapsed -
 * expected) / expected * 100, or null), spurious_timer_exits, interrupted,
 * duration_ns.  Returns 0 or -ENOMEM.
 */
int probe_json(uint32_t cpu_request, uint32_t iterations, const struct virthw_probe *p, size_t n, char **ret);

/* TSC cycles at TSC_KHZ in ns, rounded to nearest; UINT64_MAX when TSC_KHZ is 0 or it does not fit. */
uint64_t probe_cycles_to_ns(uint64_t cycles, uint32_t tsc_khz);
