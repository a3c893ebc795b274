/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-timer.c: the preemption-timer decision at its boundaries. */
#include <inttypes.h>
#include <stdint.h>

#include "tests.h"
#include "timer.h"

#define SEC 1000000000ULL

static struct timer_caps vmx(uint8_t rate, uint32_t tsc_khz)
{
	return (struct timer_caps) {
		.feature = VIRTHW_FEATURE_VMX,
		.tsc_khz = tsc_khz,
		.has_rate = true,
		.rate = rate,
		.has_pin_ctl = true,
		.pin_ctl = true,
		.has_erratum = true,
		.erratum = false,
	};
}

static void test_every_rate(void)
{
	for (unsigned r = 0; r <= 31; r++) {
		uint64_t cycles = 1ULL << (32 + r);

		/* 5 GHz (TSC unknown): one cycle is 0.2 ns. */
		CHECK(timer_max_delay_ns((uint8_t)r, 0) == cycles / 5,
		      "rate %u, TSC unknown: %" PRIu64 " ns", r, timer_max_delay_ns((uint8_t)r, 0));
		CHECK(timer_max_delay_ns((uint8_t)r, 5000000) == cycles / 5,
		      "rate %u, 5 GHz given equals the assumed 5 GHz", r);
		/* 2.5 GHz: 0.4 ns a cycle, 2^(32+r) * 2 / 5 (no overflow: at most 2^64 / 5). */
		CHECK(timer_max_delay_ns((uint8_t)r, 2500000) == (cycles / 5) * 2 + (cycles % 5) * 2 / 5,
		      "rate %u, 2.5 GHz: %" PRIu64 " ns", r, timer_max_delay_ns((uint8_t)r, 2500000));
		/* 100 MHz (Bochs): 10 ns a cycle; saturates from rate 29 (2^61 * 10 > 2^64). */
		if (r <= 28)
			CHECK(timer_max_delay_ns((uint8_t)r, 100000) == cycles * 10,
			      "rate %u, 100 MHz: %" PRIu64 " ns", r, cycles * 10);
		else
			CHECK(timer_max_delay_ns((uint8_t)r, 100000) == UINT64_MAX,
			      "rate %u, 100 MHz: saturated", r);
	}
	/* Figures one can check by hand. */
	CHECK(timer_max_delay_ns(0, 0) == 858993459ULL, "rate 0, 5 GHz: 0.859 s (4294967296 / 5, rounded down)");
	CHECK(timer_max_delay_ns(0, 100000) == 42949672960ULL, "rate 0, 100 MHz: 42.95 s (the Bochs machine)");
	CHECK(timer_max_delay_ns(5, 3000000) == 45812984490ULL, "rate 5, 3 GHz: 45.8 s (2^37 / 3e9, rounded down)");
	CHECK(timer_max_delay_ns(31, 0) == (1ULL << 63) / 5, "rate 31, 5 GHz: 2^63 / 5 fits");
}

static void test_saturation(void)
{
	CHECK(timer_max_delay_ns(31, 1) == UINT64_MAX, "rate 31 at 1 kHz saturates");
	CHECK(timer_max_delay_ns(31, 1000000) == 1ULL << 63, "rate 31 at 1 GHz: 2^63 ns still fits");
	CHECK(timer_max_delay_ns(31, 500000) == UINT64_MAX, "rate 31 at 500 MHz: 2^64 ns saturates");
	CHECK(timer_max_delay_ns(30, 500000) == 1ULL << 63, "rate 30 at 500 MHz: 2^63 ns fits");
	CHECK(timer_max_delay_ns(32, 0) == UINT64_MAX, "a rate beyond the 5-bit field saturates");
	CHECK(timer_max_delay_ns(255, 0) == UINT64_MAX, "rate 255 saturates");
	CHECK(timer_max_delay_ns(0, UINT32_MAX) == 4294967296ULL * 1000000ULL / UINT32_MAX,
	      "the fastest TSC a u32 kHz holds: %" PRIu64 " ns", timer_max_delay_ns(0, UINT32_MAX));
	CHECK(timer_max_delay_ns(0, UINT32_MAX) == 1000000ULL, "... which is 1 ms");
}

static void expect(const char *what, enum timer_mode mode, uint64_t min, const struct timer_caps *caps, bool use,
		   enum virthw_timer_reason reason, bool warning)
{
	struct timer_decision d;

	timer_decide(mode, min, caps, &d);
	CHECK(d.use == use && d.reason == reason && d.warning == warning,
	      "%s: use %d reason %s warning %d (want %d %s %d)", what, d.use, timer_reason_to_string(d.reason),
	      d.warning, use, timer_reason_to_string(reason), warning);
}

static void test_threshold(void)
{
	struct timer_caps c = vmx(0, 100000);		/* 42.95 s */
	uint64_t max = 42949672960ULL;
	struct timer_decision d;

	expect("auto, minimum == maximum delay", TIMER_MODE_AUTO, max, &c, true, VIRTHW_TIMER_REASON_SAFE, false);
	expect("auto, minimum 1 ns below", TIMER_MODE_AUTO, max - 1, &c, true, VIRTHW_TIMER_REASON_SAFE, false);
	expect("auto, minimum 1 ns above", TIMER_MODE_AUTO, max + 1, &c, false, VIRTHW_TIMER_REASON_SHORT_MAX_DELAY,
	       false);
	expect("on, minimum 1 ns above: forced", TIMER_MODE_ON, max + 1, &c, true,
	       VIRTHW_TIMER_REASON_FORCED_UNSAFE, true);
	expect("on, minimum == maximum: safe", TIMER_MODE_ON, max, &c, true, VIRTHW_TIMER_REASON_SAFE, false);
	expect("off, minimum below", TIMER_MODE_OFF, max - 1, &c, false, VIRTHW_TIMER_REASON_MODE_OFF, false);
	expect("auto, default 10 s", TIMER_MODE_AUTO, CONFIG_DEFAULT_MIN_MAX_DELAY_NS, &c, true,
	       VIRTHW_TIMER_REASON_SAFE, false);
	expect("auto, 60 s", TIMER_MODE_AUTO, 60 * SEC, &c, false, VIRTHW_TIMER_REASON_SHORT_MAX_DELAY, false);

	timer_decide(TIMER_MODE_AUTO, 60 * SEC, &c, &d);
	CHECK(d.has_max_delay && d.max_delay_ns == max && !d.tsc_assumed, "the decision carries the maximum delay");
	{
		char buf[160];

		timer_reason_describe(&d, 60 * SEC, buf, sizeof(buf));
		CHECK_STR(buf, "maximum delay 42.9 s < minimum 60 s", "words for a short maximum delay");
	}

	/* TSC unknown: 5 GHz, rate 0 → 0.859 s, below KVM's 10 s. */
	c = vmx(0, 0);
	timer_decide(TIMER_MODE_AUTO, 10 * SEC, &c, &d);
	CHECK(!d.use && d.reason == VIRTHW_TIMER_REASON_SHORT_MAX_DELAY && d.tsc_assumed &&
	      d.max_delay_ns == 858993459ULL, "TSC unknown, rate 0: 5 GHz assumed, 0.86 s < 10 s");
	/* rate 4 at 5 GHz: 2^36 / 5e9 = 13.7 s, above 10 s. */
	c = vmx(4, 0);
	expect("TSC unknown, rate 4: 13.7 s >= 10 s", TIMER_MODE_AUTO, 10 * SEC, &c, true, VIRTHW_TIMER_REASON_SAFE,
	       false);
	c = vmx(3, 0);
	expect("TSC unknown, rate 3: 6.9 s < 10 s", TIMER_MODE_AUTO, 10 * SEC, &c, false,
	       VIRTHW_TIMER_REASON_SHORT_MAX_DELAY, false);
	/* A saturated maximum is above any minimum. */
	c = vmx(31, 1);
	expect("saturated maximum delay", TIMER_MODE_AUTO, UINT64_MAX, &c, true, VIRTHW_TIMER_REASON_SAFE, false);
}

static void test_caps(void)
{
	struct timer_caps c = vmx(5, 3000000);
	struct timer_decision d;

	c.erratum = true;
	expect("errata CPU, auto", TIMER_MODE_AUTO, 10 * SEC, &c, false, VIRTHW_TIMER_REASON_ERRATUM, false);
	expect("errata CPU, on", TIMER_MODE_ON, 10 * SEC, &c, true, VIRTHW_TIMER_REASON_FORCED_UNSAFE, true);
	timer_decide(TIMER_MODE_ON, 10 * SEC, &c, &d);
	CHECK(!d.auto_would_use && d.unsafe_why && strcmp(d.unsafe_why, "erratum") == 0, "forced over the erratum");
	expect("errata CPU, off", TIMER_MODE_OFF, 10 * SEC, &c, false, VIRTHW_TIMER_REASON_MODE_OFF, false);
	c.erratum = false;
	c.has_erratum = false;
	expect("erratum flag unreadable counts as none", TIMER_MODE_AUTO, 10 * SEC, &c, true,
	       VIRTHW_TIMER_REASON_SAFE, false);

	c = vmx(5, 3000000);
	c.pin_ctl = false;
	expect("no pin control, auto", TIMER_MODE_AUTO, 10 * SEC, &c, false, VIRTHW_TIMER_REASON_NO_PIN_CTL, false);
	expect("no pin control, on: cannot be forced", TIMER_MODE_ON, 10 * SEC, &c, false,
	       VIRTHW_TIMER_REASON_NO_PIN_CTL, false);
	c.has_pin_ctl = false;
	expect("pin control unreadable", TIMER_MODE_ON, 10 * SEC, &c, false, VIRTHW_TIMER_REASON_NO_PIN_CTL, false);

	c = vmx(5, 3000000);
	c.has_rate = false;
	expect("rate unreadable, auto", TIMER_MODE_AUTO, 10 * SEC, &c, false, VIRTHW_TIMER_REASON_UNKNOWN, false);
	expect("rate unreadable, on", TIMER_MODE_ON, 10 * SEC, &c, false, VIRTHW_TIMER_REASON_UNKNOWN, false);
	timer_decide(TIMER_MODE_AUTO, 10 * SEC, &c, &d);
	CHECK(!d.has_max_delay, "no maximum delay without the rate");

	c = (struct timer_caps) { .feature = VIRTHW_FEATURE_SVM, .tsc_khz = 3000000 };
	for (int m = 0; m < _TIMER_MODE_MAX; m++)
		expect("SVM", (enum timer_mode)m, 10 * SEC, &c, false, VIRTHW_TIMER_REASON_NOT_VMX, false);
	timer_decide(TIMER_MODE_AUTO, 10 * SEC, &c, &d);
	CHECK(!d.has_max_delay, "no maximum delay on SVM");
	c.feature = VIRTHW_FEATURE_NONE;
	expect("no virtualization", TIMER_MODE_ON, 10 * SEC, &c, false, VIRTHW_TIMER_REASON_NOT_VMX, false);
}

static void test_names(void)
{
	for (int r = VIRTHW_TIMER_REASON_UNSPEC; r <= VIRTHW_TIMER_REASON_UNKNOWN + 1; r++)
		CHECK(timer_reason_to_string((enum virthw_timer_reason)r) != NULL, "reason %d has a name", r);
	CHECK_STR(timer_reason_to_string(VIRTHW_TIMER_REASON_SHORT_MAX_DELAY), "short-max-delay", "reason name");
	CHECK(timer_mode_to_virthw(TIMER_MODE_OFF) == VIRTHW_TIMER_MODE_OFF, "mode mapping");
}

int main(void)
{
	test_every_rate();
	test_saturation();
	test_threshold();
	test_caps();
	test_names();
	return tests_finish();
}
