/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fixtures.c: inputs more than one unit test program builds its documents from. */
#include "fixtures.h"

const struct virthw_probe fixture_probe_vmx = {
	.cpu = 0, .feature = VIRTHW_FEATURE_VMX, .iterations = 1000, .tsc_khz = 100000,
	.has_timer_use = true, .timer_use = true,
	.round_trip = { .present = true, .count = 1000, .min = 900, .median = 1000, .mean = 1010, .max = 5000 },
	.toggle = { .present = true, .count = 1000, .min = 2000, .median = 2500, .mean = 2600, .max = 9000 },
	.immediate = { .present = true, .count = 1000, .min = 1100, .median = 1200, .mean = 1250, .max = 3000 },
	.immediate_method = VIRTHW_IMMEDIATE_TIMER_ZERO, .has_timer_rate = true, .timer_rate = 0,
	.has_timer = true, .timer_programmed = 100000, .timer_expected = 100000,
	.timer_elapsed = { .present = true, .count = 1000, .min = 100010, .median = 100028, .mean = 100030,
			   .max = 100100 },
	.spurious_timer_exits = 2, .interrupted = 1, .duration_ns = 123456789,
};
