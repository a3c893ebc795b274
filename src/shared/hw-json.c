/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hw-json.c: virthw's capabilities and CPU states as JSON, one writer so that one parser reads both outputs. */
#include "hw-json.h"

json_object *hw_caps_to_json(const struct virthw_caps *c)
{
	struct hw_cpuid_decoded d = hw_cpuid_decode(c->cpuid_sig);
	json_object *o = jv_object();

	jv_set(o, "feature", jv_text(hw_feature_to_string(c->feature)));
	jv_set(o, "tsc_khz", jv_u64(c->tsc_khz));
	jv_set(o, "vmx_misc", c->has_vmx_misc ? jv_hex(c->vmx_misc, 16) : NULL);
	jv_set(o, "timer_rate", c->has_timer_rate ? jv_u64(c->timer_rate) : NULL);
	jv_set(o, "timer_pin_control", jv_opt_bool(c->has_timer_pin_ctl, c->timer_pin_ctl));
	jv_set(o, "timer_erratum", jv_opt_bool(c->has_timer_erratum, c->timer_erratum));
	jv_set(o, "timer_max_delay_ns", c->has_timer_max_ns ? jv_u64(c->timer_max_ns) : NULL);
	jv_set(o, "cpuid_signature", jv_hex(c->cpuid_sig, 8));
	jv_set(o, "cpuid_family", jv_u64(d.family));
	jv_set(o, "cpuid_model", jv_u64(d.model));
	jv_set(o, "cpuid_stepping", jv_u64(d.stepping));
	jv_set(o, "nr_cpus", jv_u64(c->nr_cpus));
	return o;
}

static json_object *cpu_to_json(const struct virthw_cpu_state *s)
{
	json_object *o = jv_object();

	jv_set(o, "cpu", jv_u64(s->id));
	jv_set(o, "online", jv_bool(s->online));
	jv_set(o, "feature", s->has_details ? jv_text(hw_feature_to_string(s->feature)) : NULL);
	jv_set(o, "firmware_enabled", jv_opt_bool(s->has_details, s->fw_enabled));
	jv_set(o, "virt_on", jv_opt_bool(s->has_details, s->virt_on));
	jv_set(o, "fw_msr", s->has_fw_msr ? jv_hex(s->fw_msr, 16) : NULL);
	return o;
}

int hw_doc_print_json(FILE *f, const struct virthw_caps *caps, const struct virthw_cpu_state *cpus, size_t n)
{
	_cleanup_(json_object_putp) json_object *doc = jv_object();
	json_object *arr = jv_array();

	jv_set(doc, "caps", hw_caps_to_json(caps));
	for (size_t i = 0; i < n; i++)
		jv_append(arr, cpu_to_json(&cpus[i]));
	jv_set(doc, "cpus", arr);
	return jv_print(f, doc);
}

int hw_event_print_json(FILE *f, const struct virthw_event_msg *e)
{
	_cleanup_(json_object_putp) json_object *doc = jv_object();

	jv_set(doc, "event", jv_text(hw_event_to_string(e->event)));
	jv_set(doc, "cpu", cpu_to_json(&e->cpu));
	return jv_print(f, doc);
}
