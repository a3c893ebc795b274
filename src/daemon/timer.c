/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* timer.c: the VMX preemption-timer decision: maximum delay and whether the timer may be used (pure). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stdio.h>

#include "timer.h"

_Static_assert((int)TIMER_MODE_AUTO == (int)VIRTHW_TIMER_MODE_AUTO &&
	       (int)TIMER_MODE_ON == (int)VIRTHW_TIMER_MODE_ON &&
	       (int)TIMER_MODE_OFF == (int)VIRTHW_TIMER_MODE_OFF,
	       "config's timer modes and the uapi's differ");

#define NSEC_PER_MSEC 1000000U

uint64_t timer_max_delay_ns(uint8_t rate, uint32_t tsc_khz)
{
	unsigned __int128 ns;

	if (rate > 31)
		return UINT64_MAX;
	if (tsc_khz == 0)
		tsc_khz = TIMER_FALLBACK_TSC_KHZ;
	/*
	 * 2^(32+rate) cycles of 10^6/tsc_khz ns each.  At most 2^63 cycles
	 * times 10^6 < 2^83: exact in 128 bits, rounded down once at the end.
	 */
	ns = ((unsigned __int128)1 << (32 + rate)) * NSEC_PER_MSEC / tsc_khz;
	return ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}

enum virthw_timer_mode timer_mode_to_virthw(enum timer_mode m)
{
	return (enum virthw_timer_mode)m;
}

void timer_decide(enum timer_mode mode, uint64_t min_max_delay_ns, const struct timer_caps *caps,
		  struct timer_decision *out)
{
	bool vmx = caps->feature == VIRTHW_FEATURE_VMX;
	bool pin_ctl = caps->has_pin_ctl && caps->pin_ctl;
	bool erratum = caps->has_erratum && caps->erratum;
	bool short_delay;

	*out = (struct timer_decision) { .reason = VIRTHW_TIMER_REASON_UNSPEC };
	if (vmx && caps->has_rate) {
		out->has_max_delay = true;
		out->max_delay_ns = timer_max_delay_ns(caps->rate, caps->tsc_khz);
		out->tsc_assumed = caps->tsc_khz == 0;
	}

	if (!vmx) {
		out->reason = VIRTHW_TIMER_REASON_NOT_VMX;
		return;
	}
	if (mode == TIMER_MODE_OFF) {
		out->reason = VIRTHW_TIMER_REASON_MODE_OFF;
		return;
	}
	if (!caps->has_rate) {
		out->reason = VIRTHW_TIMER_REASON_UNKNOWN;
		return;
	}
	if (!pin_ctl) {
		out->reason = VIRTHW_TIMER_REASON_NO_PIN_CTL;
		return;
	}

	short_delay = out->max_delay_ns < min_max_delay_ns;
	out->auto_would_use = !erratum && !short_delay;
	if (mode == TIMER_MODE_ON) {
		out->use = true;
		if (out->auto_would_use) {
			out->reason = VIRTHW_TIMER_REASON_SAFE;
		} else {
			out->reason = VIRTHW_TIMER_REASON_FORCED_UNSAFE;
			out->warning = true;
			out->unsafe_why = erratum ? "erratum" : "short maximum delay";
		}
		return;
	}
	if (erratum) {
		out->reason = VIRTHW_TIMER_REASON_ERRATUM;
		return;
	}
	if (short_delay) {
		out->reason = VIRTHW_TIMER_REASON_SHORT_MAX_DELAY;
		return;
	}
	out->use = true;
	out->reason = VIRTHW_TIMER_REASON_SAFE;
}

const char *timer_reason_to_string(enum virthw_timer_reason r)
{
	switch (r) {
	case VIRTHW_TIMER_REASON_UNSPEC:
		return "unspecified";
	case VIRTHW_TIMER_REASON_SAFE:
		return "safe";
	case VIRTHW_TIMER_REASON_FORCED_UNSAFE:
		return "forced-unsafe";
	case VIRTHW_TIMER_REASON_MODE_OFF:
		return "mode-off";
	case VIRTHW_TIMER_REASON_NOT_VMX:
		return "not-vmx";
	case VIRTHW_TIMER_REASON_NO_PIN_CTL:
		return "no-pin-control";
	case VIRTHW_TIMER_REASON_ERRATUM:
		return "erratum";
	case VIRTHW_TIMER_REASON_SHORT_MAX_DELAY:
		return "short-max-delay";
	case VIRTHW_TIMER_REASON_UNKNOWN:
		return "unknown";
	}
	return "unknown";
}

/* "42.9 s", "10 s", "1.5 ms": short, for one line of words. */
static void seconds(char *buf, size_t size, uint64_t ns)
{
	if (ns == UINT64_MAX)
		snprintf(buf, size, "more than 584 years");
	else if (ns >= 1000000000ULL && ns % 1000000000ULL == 0)
		snprintf(buf, size, "%llu s", (unsigned long long)(ns / 1000000000ULL));
	else if (ns >= 1000000000ULL)
		snprintf(buf, size, "%.1f s", (double)ns / 1e9);
	else if (ns >= 1000000ULL)
		snprintf(buf, size, "%.1f ms", (double)ns / 1e6);
	else if (ns >= 1000ULL)
		snprintf(buf, size, "%.1f us", (double)ns / 1e3);
	else
		snprintf(buf, size, "%llu ns", (unsigned long long)ns);
}

void timer_reason_describe(const struct timer_decision *d, uint64_t min_max_delay_ns, char *buf, size_t size)
{
	char max[40], min[40];

	seconds(max, sizeof(max), d->max_delay_ns);
	seconds(min, sizeof(min), min_max_delay_ns);
	switch (d->reason) {
	case VIRTHW_TIMER_REASON_SAFE:
		snprintf(buf, size, "maximum delay %s >= minimum %s", max, min);
		return;
	case VIRTHW_TIMER_REASON_FORCED_UNSAFE:
		if (d->unsafe_why && d->unsafe_why[0] == 'e')
			snprintf(buf, size, "forced by Mode=on although this CPU is on the errata list (unsafe)");
		else
			snprintf(buf, size, "forced by Mode=on although the maximum delay %s < minimum %s (unsafe)",
				 max, min);
		return;
	case VIRTHW_TIMER_REASON_MODE_OFF:
		snprintf(buf, size, "Mode=off");
		return;
	case VIRTHW_TIMER_REASON_NOT_VMX:
		snprintf(buf, size, "does not apply: not VMX");
		return;
	case VIRTHW_TIMER_REASON_NO_PIN_CTL:
		snprintf(buf, size, "the CPU cannot set the preemption-timer pin control");
		return;
	case VIRTHW_TIMER_REASON_ERRATUM:
		snprintf(buf, size, "this CPU is on KVM's list of broken preemption timers");
		return;
	case VIRTHW_TIMER_REASON_SHORT_MAX_DELAY:
		snprintf(buf, size, "maximum delay %s < minimum %s", max, min);
		return;
	case VIRTHW_TIMER_REASON_UNKNOWN:
		snprintf(buf, size, "the timer rate (IA32_VMX_MISC) is unreadable");
		return;
	case VIRTHW_TIMER_REASON_UNSPEC:
		break;
	}
	snprintf(buf, size, "undecided");
}
