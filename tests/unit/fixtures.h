/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fixtures.h: inputs more than one unit test program builds its documents from (fixtures.c). */
#pragma once

#include "hw-parse.h"

/*
 * One VMX CPU's PROBE reply with every part present: round trip, toggle,
 * immediate exit (timer zero), a programmed timer and its error, spurious
 * exits, an interruption.  At 100 MHz, so every median converts to whole ns.
 */
extern const struct virthw_probe fixture_probe_vmx;
/* fixture_probe_vmx as virtd writes it in its probe document. */
#define FIXTURE_PROBE_VMX_JSON \
	"{\"cpu\":0,\"feature\":\"vmx\",\"iterations\":1000,\"tsc_khz\":100000,\"timer_use\":true," \
	"\"round_trip\":{\"count\":1000,\"min\":900,\"median\":1000,\"mean\":1010,\"max\":5000,\"median_ns\":10000}," \
	"\"toggle\":{\"count\":1000,\"min\":2000,\"median\":2500,\"mean\":2600,\"max\":9000,\"median_ns\":25000}," \
	"\"toggle_ratio\":2.500," \
	"\"immediate\":{\"count\":1000,\"min\":1100,\"median\":1200,\"mean\":1250,\"max\":3000,\"median_ns\":12000}," \
	"\"immediate_method\":\"timer-zero\",\"timer_rate\":0,\"timer_programmed\":100000,\"timer_expected\":100000," \
	"\"timer_elapsed\":{\"count\":1000,\"min\":100010,\"median\":100028,\"mean\":100030,\"max\":100100," \
	"\"median_ns\":1000280},\"timer_error_percent\":0.028,\"spurious_timer_exits\":2,\"interrupted\":1," \
	"\"duration_ns\":123456789}"

