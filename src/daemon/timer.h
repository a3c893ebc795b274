/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* timer.h: the VMX preemption-timer decision: maximum delay and whether the timer may be used (pure). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <linux/virthw.h>

#include "config.h"

/* KVM's stand-in for a TSC the kernel could not calibrate. */
#define TIMER_FALLBACK_TSC_KHZ 5000000U

/* What the hardware says, as virthw's GET_CAPS reports it (absent values: has_* false). */
struct timer_caps {
	enum virthw_feature feature;
	uint32_t tsc_khz;		/* 0: unknown */
	bool has_rate;
	uint8_t rate;			/* IA32_VMX_MISC[4:0] */
	bool has_pin_ctl;
	bool pin_ctl;			/* PIN_BASED_VMX_PREEMPTION_TIMER can be set */
	bool has_erratum;
	bool erratum;			/* on KVM's list of broken timers */
};

struct timer_decision {
	bool use;				/* the VMX run paths may use the timer */
	enum virthw_timer_reason reason;
	bool has_max_delay;			/* VMX with a known rate */
	uint64_t max_delay_ns;			/* 2^32 ticks at TSC >> rate; UINT64_MAX: saturated */
	bool tsc_assumed;			/* the TSC is unknown: 5 GHz assumed, as KVM does */
	bool auto_would_use;			/* what auto would decide: false with a forced timer */
	bool warning;				/* on forces a timer that auto refuses */
	const char *unsafe_why;			/* with warning: "erratum", "short maximum delay", NULL */
};

/*
 * 2^(32 + rate) TSC cycles in ns, rounded down, at TSC_KHZ (0: 5 GHz);
 * UINT64_MAX when it does not fit or rate is beyond the 5-bit field.  The
 * same arithmetic as virthw's, so both sides agree to the nanosecond.
 */
uint64_t timer_max_delay_ns(uint8_t rate, uint32_t tsc_khz);

/*
 * The rule of the uapi header's SET_SETTINGS: without VMX never (NOT_VMX);
 * rate unreadable: never (UNKNOWN); without the pin control never
 * (NO_PIN_CTL); off: never (MODE_OFF); auto: when the CPU is not on the
 * errata list (ERRATUM) and the maximum delay is at least MIN_MAX_DELAY_NS
 * (SHORT_MAX_DELAY), then SAFE; on: whenever the pin control can be set,
 * SAFE or FORCED_UNSAFE with the warning flag.  An unreadable pin control or
 * erratum flag counts as absent support and as no erratum respectively,
 * as KVM reads them.
 */
void timer_decide(enum timer_mode mode, uint64_t min_max_delay_ns, const struct timer_caps *caps,
		  struct timer_decision *out);

/* Mapping to and from the uapi's enum (the same order, checked at build time). */
enum virthw_timer_mode timer_mode_to_virthw(enum timer_mode m);

/* "safe", "forced-unsafe", "mode-off", "not-vmx", "no-pin-control", "erratum", "short-max-delay", "unknown". */
const char *timer_reason_to_string(enum virthw_timer_reason r);
/* The reason in words for status and the journal, e.g. "maximum delay 42.9 s < minimum 60 s". */
void timer_reason_describe(const struct timer_decision *d, uint64_t min_max_delay_ns, char *buf, size_t size);
