/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hw-json.c: virthw's capabilities as JSON, one writer so that one parser reads both outputs. */
#include <inttypes.h>

#include "hw-json.h"
#include "output.h"

void hw_caps_print_json(FILE *f, const struct virthw_caps *c)
{
	struct hw_cpuid_decoded d = hw_cpuid_decode(c->cpuid_sig);

	fputs("{\"feature\":", f);
	json_print_string(f, hw_feature_to_string(c->feature));
	fprintf(f, ",\"tsc_khz\":%" PRIu32, c->tsc_khz);
	if (c->has_vmx_misc)
		fprintf(f, ",\"vmx_misc\":\"0x%016" PRIx64 "\"", c->vmx_misc);
	else
		fputs(",\"vmx_misc\":null", f);
	if (c->has_timer_rate)
		fprintf(f, ",\"timer_rate\":%u", c->timer_rate);
	else
		fputs(",\"timer_rate\":null", f);
	fputs(",\"timer_pin_control\":", f);
	json_print_opt_bool(f, c->has_timer_pin_ctl, c->timer_pin_ctl);
	fputs(",\"timer_erratum\":", f);
	json_print_opt_bool(f, c->has_timer_erratum, c->timer_erratum);
	if (c->has_timer_max_ns)
		fprintf(f, ",\"timer_max_delay_ns\":%" PRIu64, c->timer_max_ns);
	else
		fputs(",\"timer_max_delay_ns\":null", f);
	fprintf(f, ",\"cpuid_signature\":\"0x%08" PRIx32 "\",\"cpuid_family\":%u,\"cpuid_model\":%u,"
		"\"cpuid_stepping\":%u,\"nr_cpus\":%" PRIu32 "}",
		c->cpuid_sig, d.family, d.model, d.stepping, c->nr_cpus);
}
