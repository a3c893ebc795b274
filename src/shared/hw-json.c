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

static void print_json_cpu(FILE *f, const struct virthw_cpu_state *s)
{
	fprintf(f, "{\"cpu\":%" PRIu32 ",\"online\":%s,\"feature\":", s->id, s->online ? "true" : "false");
	if (s->has_details)
		json_print_string(f, hw_feature_to_string(s->feature));
	else
		fputs("null", f);
	fputs(",\"firmware_enabled\":", f);
	json_print_opt_bool(f, s->has_details, s->fw_enabled);
	fputs(",\"virt_on\":", f);
	json_print_opt_bool(f, s->has_details, s->virt_on);
	if (s->has_fw_msr)
		fprintf(f, ",\"fw_msr\":\"0x%016" PRIx64 "\"}", s->fw_msr);
	else
		fputs(",\"fw_msr\":null}", f);
}

void hw_doc_print_json(FILE *f, const struct virthw_caps *caps, const struct virthw_cpu_state *cpus, size_t n)
{
	fputs("{\"caps\":", f);
	hw_caps_print_json(f, caps);
	fputs(",\"cpus\":[", f);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			fputc(',', f);
		print_json_cpu(f, &cpus[i]);
	}
	fputs("]}\n", f);
}

void hw_event_print_json(FILE *f, const struct virthw_event_msg *e)
{
	fprintf(f, "{\"event\":");
	json_print_string(f, hw_event_to_string(e->event));
	fputs(",\"cpu\":", f);
	print_json_cpu(f, &e->cpu);
	fputs("}\n", f);
}
