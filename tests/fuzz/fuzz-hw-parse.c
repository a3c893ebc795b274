/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-hw-parse.c: virthw's generic netlink replies and events, as one receive buffer (one or more messages), through every parser of src/shared/hw-parse.c and the JSON views of src/shared/hw-json.c. */
#include <errno.h>

#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "fuzz-common.h"
#include "hw-json.h"
#include "hw-parse.h"

/* The verdicts the header promises, with a reason on every failure. */
static void check_verdict(int r, const char *why)
{
	FUZZ_ASSERT(r == 0 || r == -EBADMSG || r == -ENODATA);
	FUZZ_ASSERT(r == 0 || (why && *why));
}

static void check_stat(const struct virthw_probe_stat *s, uint32_t iterations)
{
	if (!s->present)
		return;
	FUZZ_ASSERT(s->count <= iterations);
	FUZZ_ASSERT(s->count == 0 || (s->min <= s->median && s->median <= s->max));
	FUZZ_ASSERT(s->count == 0 || (s->min <= s->mean && s->mean <= s->max));
}

static void check_settings(const struct virthw_settings *s)
{
	FUZZ_ASSERT(s->mode <= VIRTHW_TIMER_MODE_OFF);
	FUZZ_ASSERT(s->reason != VIRTHW_TIMER_REASON_UNSPEC && s->reason <= VIRTHW_TIMER_REASON_UNKNOWN);
	FUZZ_ASSERT(hw_timer_mode_to_string(s->mode) && hw_timer_reason_to_string(s->reason));
}

static void one_message(const struct nlmsghdr *nlh)
{
	struct virthw_cpu_state cpu;
	struct virthw_caps caps;
	struct virthw_event_msg ev;
	struct virthw_settings set;
	struct virthw_probe probe;
	const char *why;
	int r;

	why = NULL;
	r = hw_parse_cpu_msg(nlh, &cpu, &why);
	check_verdict(r, why);
	if (r == 0)
		FUZZ_ASSERT(!cpu.has_details || cpu.feature <= VIRTHW_FEATURE_SVM);

	why = NULL;
	r = hw_parse_caps_msg(nlh, &caps, &why);
	check_verdict(r, why);
	if (r == 0) {
		FUZZ_ASSERT(caps.nr_cpus > 0 && (!caps.has_timer_rate || caps.timer_rate <= 31));
		(void)hw_cpuid_decode(caps.cpuid_sig);
		/* What "virtctl hw --json" prints from a reply and a CPU. */
		FUZZ_ASSERT(hw_doc_print_json(fuzz_sink(), &caps, &cpu, 1) == 0);
	}

	why = NULL;
	r = hw_parse_event_msg(nlh, &ev, &why);
	check_verdict(r, why);
	if (r == 0) {
		if (ev.kind == HW_EVENT_KIND_SETTINGS)
			check_settings(&ev.settings);
		else
			FUZZ_ASSERT(hw_event_print_json(fuzz_sink(), &ev) == 0);
	}

	why = NULL;
	r = hw_parse_settings_msg(nlh, &set, &why);
	check_verdict(r, why);
	if (r == 0)
		check_settings(&set);

	why = NULL;
	r = hw_parse_probe_msg(nlh, &probe, &why);
	check_verdict(r, why);
	if (r == 0) {
		FUZZ_ASSERT(probe.iterations > 0 && probe.iterations <= VIRTHW_PROBE_MAX_ITERATIONS);
		FUZZ_ASSERT(probe.round_trip.present);
		check_stat(&probe.round_trip, probe.iterations);
		check_stat(&probe.toggle, probe.iterations);
		check_stat(&probe.immediate, probe.iterations);
		check_stat(&probe.timer_elapsed, probe.iterations);
		FUZZ_ASSERT(hw_immediate_method_to_string(probe.immediate_method));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nlmsghdr *nlh;
	void *buf;
	int rem;

	if (size > 65536)
		return -1;
	/* A receive buffer is aligned; libFuzzer's input need not be. */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	/* libnl's receive loop: each message whose length fits what is left. */
	rem = (int)size;
	for (nlh = buf; nlmsg_ok(nlh, rem); nlh = nlmsg_next(nlh, &rem))
		one_message(nlh);
	free(buf);
	return 0;
}
