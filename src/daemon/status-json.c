/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* status-json.c: the GetStatus JSON document, rendered from the model (model.h) the reconcile loop computed (pure). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dropin.h"
#include "hw-json.h"
#include "hw-parse.h"
#include "json-util.h"
#include "status-json.h"

static bool present(enum module_state s)
{
	return s == MODULE_LOADED || s == MODULE_BUILTIN;
}

const char *cpu_expect_to_string(enum cpu_expect e)
{
	switch (e) {
	case CPU_EXPECT_SKIP:
		return "skip";
	case CPU_EXPECT_ANY:
		return "any";
	case CPU_EXPECT_OFF:
		return "off";
	case CPU_EXPECT_ON:
		return "on";
	}
	return NULL;
}

static const char *feature_name(enum virt_feature f)
{
	return f == VIRT_FEATURE_VMX ? "vmx" : f == VIRT_FEATURE_SVM ? "svm" : "none";
}

static json_object *kvm_json(const struct kvm_observation *k)
{
	const struct observed *obs = &k->obs;
	json_object *o = jv_object(), *params = jv_object();

	jv_set(o, "kvm_module", jv_text(module_state_to_string(obs->kvm)));
	jv_set(o, "vendor_module", jv_text(k->vendor_module));
	jv_set(o, "vendor_state", jv_text(k->vendor_module ? module_state_to_string(obs->vendor) : NULL));
	/* The value only means something while kvm is in the kernel. */
	jv_set(o, "enable_virt_at_load",
	       jv_opt_bool(obs->has_enable_virt_at_load && present(obs->kvm), obs->enable_virt_at_load));
	jv_set(o, "dev_kvm", jv_bool(obs->dev_kvm));
	jv_set(o, "autoload_blocked", jv_bool(obs->dropin.exists && obs->dropin.block_vendor));
	jv_set(o, "dropin", jv_text(obs->dropin.exists ? DROPIN_PATH : NULL));
	for (size_t i = 0; i < k->n_params; i++)
		jv_set(params, k->params[i].name, jv_text(k->params[i].value));
	jv_set(o, "params", params);
	return o;
}

static json_object *vms_json(const struct kvm_observation *k)
{
	json_object *a = jv_array();

	for (size_t i = 0; k && i < k->n_vm_owners; i++) {
		const struct vm_owner *v = &k->vms[i];
		json_object *o = jv_object();

		jv_set(o, "pid", jv_i64(v->pid));
		jv_set(o, "vms", jv_u64(v->n_vms));
		jv_set(o, "comm", jv_text(v->comm));
		jv_set(o, "cmdline", jv_text(v->cmdline));
		/* KVM's, or a shared-mode hypervisor's made inside KVM (not in vm_count), with the VM's name. */
		jv_set(o, "owner", jv_text(v->hv[0] ? v->hv : "kvm"));
		jv_set(o, "name", jv_text(v->hv[0] ? v->name : NULL));
		jv_append(a, o);
	}
	return a;
}

static json_object *cpus_json(const struct status_input *in)
{
	const struct observed *obs = &in->kobs->obs;
	json_object *a = jv_array();

	for (size_t i = 0; i < obs->n_cpus; i++) {
		const struct observed_cpu *c = &obs->cpus[i];
		json_object *o = jv_object();

		jv_set(o, "cpu", jv_u64(c->id));
		jv_set(o, "online", jv_bool(c->online));
		jv_set(o, "feature", c->online ? jv_text(feature_name(c->feature)) : NULL);
		jv_set(o, "firmware_enabled", jv_opt_bool(c->online, c->fw_enabled));
		jv_set(o, "virt_on", jv_opt_bool(c->online, c->virt_on));
		jv_set(o, "expected", jv_text(cpu_expect_to_string(in->cpus[i].expect)));
		jv_set(o, "owner", jv_text(in->cpus[i].owner));
		jv_set(o, "ok", jv_bool(in->cpus[i].ok));
		jv_append(a, o);
	}
	return a;
}

static const struct status_handoff_lock *handoff_lock(const struct status_input *in, uint32_t id)
{
	for (size_t i = 0; in->handoff && i < in->handoff->n_locks; i++)
		if (in->handoff->locks[i].id == id)
			return &in->handoff->locks[i];
	return NULL;
}

static void add_locks(json_object *doc, const struct status_input *in)
{
	json_object *a = jv_array();

	for (size_t i = 0; i < in->n_lock_list; i++) {
		const struct lock_info *l = &in->lock_list[i];
		json_object *o = jv_object();

		jv_set(o, "id", jv_u64(l->id));
		jv_set(o, "who", jv_text(l->who));
		jv_set(o, "why", jv_text(l->why));
		jv_set(o, "pid", jv_i64(l->pid));
		jv_set(o, "uid", jv_u64(l->uid));
		jv_set(o, "since_usec", jv_u64(l->since_usec));
		jv_set(o, "shared", jv_bool(in->lock_shared && in->lock_shared[i]));
		jv_set(o, "handoff", jv_bool(handoff_lock(in, l->id) != NULL));
		jv_append(a, o);
	}
	jv_set(doc, "locks", a);
	jv_set(doc, "lock_waiting", jv_u64(in->locks ? in->locks->n_waiting : 0));
}

static json_object *handoff_json(const struct status_input *in)
{
	json_object *o;

	if (!in->handoff)
		return NULL;
	o = jv_object();
	jv_set(o, "state", jv_text(in->handoff->state));
	jv_set(o, "reason", jv_text(in->handoff->reason[0] ? in->handoff->reason : NULL));
	return o;
}

/* The profiles' hypervisors; a lock is a profile's holder when its who names that profile (profiles_match_who()). */
static json_object *hypervisors_json(const struct status_input *in)
{
	json_object *a = jv_array();

	for (size_t i = 0; in->profiles && i < in->profiles->n; i++) {
		const struct hv_detected *d = &in->hvs[i];
		const struct hv_profile *p = d->profile;
		json_object *o = jv_object(), *mods = jv_array(), *devs = jv_array(), *holders = jv_array(),
			    *vms = jv_array(), *progs = jv_array();

		jv_set(o, "name", jv_text(p->name));
		jv_set(o, "description", jv_text(p->description[0] ? p->description : NULL));
		jv_set(o, "loaded", jv_bool(d->loaded));
		jv_set(o, "version", jv_text(d->version[0] ? d->version : NULL));
		for (size_t j = 0; j < p->modules.n; j++) {
			json_object *m = jv_object();

			jv_set(m, "name", jv_text(p->modules.items[j]));
			jv_set(m, "loaded", jv_bool(d->module_loaded[j]));
			jv_append(mods, m);
		}
		jv_set(o, "modules", mods);
		for (size_t j = 0; j < p->devices.n; j++) {
			json_object *m = jv_object();

			jv_set(m, "path", jv_text(p->devices.items[j]));
			jv_set(m, "present", jv_bool(d->device_present[j]));
			jv_append(devs, m);
		}
		jv_set(o, "devices", devs);
		for (size_t j = 0; j < p->handoff_programs.n; j++) {
			json_object *m = jv_object();
			bool watched = false;

			for (size_t k = 0; in->handoff && k < in->handoff->n_programs; k++)
				if (strcmp(in->handoff->programs[k].profile, p->name) == 0 &&
				    strcmp(in->handoff->programs[k].path, p->handoff_programs.items[j]) == 0)
					watched = in->handoff->programs[k].watched;
			jv_set(m, "path", jv_text(p->handoff_programs.items[j]));
			jv_set(m, "watched", jv_bool(watched));
			jv_append(progs, m);
		}
		jv_set(o, "handoff_programs", progs);
		jv_set(o, "mode", jv_text(hv_mode_to_string(d->mode.mode)));
		jv_set(o, "mode_reason", jv_text(d->mode.reason));
		jv_set(o, "mode_forced", jv_bool(in->cfg && config_hv_mode(in->cfg, p->name) != HV_MODE_AUTO));
		for (size_t j = 0; j < in->n_lock_list; j++) {
			const struct lock_info *l = &in->lock_list[j];
			const struct status_handoff_lock *hl;
			json_object *h;

			if (profiles_match_who(in->profiles, l->who) != p)
				continue;
			h = jv_object();
			jv_set(h, "id", jv_u64(l->id));
			jv_set(h, "who", jv_text(l->who));
			jv_set(h, "pid", jv_i64(l->pid));
			jv_set(h, "shared", jv_bool(in->lock_shared && in->lock_shared[j]));
			hl = handoff_lock(in, l->id);
			jv_set(h, "handoff", jv_bool(hl != NULL));
			if (hl) {
				json_object *ps = jv_array();

				for (size_t k = 0; k < hl->n_procs && k < STATUS_HANDOFF_PROCS_MAX; k++) {
					json_object *pr = jv_object();

					jv_set(pr, "pid", jv_i64(hl->pids[k]));
					jv_set(pr, "comm", jv_text(hl->comms[k]));
					jv_append(ps, pr);
				}
				jv_set(h, "processes", ps);
				jv_set(h, "n_processes", jv_u64(hl->n_procs));
			}
			jv_append(holders, h);
		}
		jv_set(o, "holders", holders);
		for (size_t j = 0; in->kobs && j < in->kobs->n_vm_owners; j++) {
			const struct vm_owner *v = &in->kobs->vms[j];
			json_object *h;

			if (strcmp(v->hv, p->name) != 0)
				continue;
			h = jv_object();
			jv_set(h, "pid", jv_i64(v->pid));
			jv_set(h, "name", jv_text(v->name));
			jv_append(vms, h);
		}
		jv_set(o, "vms", vms);
		jv_append(a, o);
	}
	return a;
}

/* The profile files that are not used, each with its first error. */
static json_object *profile_errors_json(const struct status_input *in)
{
	json_object *a = jv_array();

	for (size_t i = 0; in->profiles && i < in->profiles->n_errors; i++) {
		json_object *o = jv_object();

		jv_set(o, "name", jv_text(in->profiles->errors[i].name));
		jv_set(o, "message", jv_text(in->profiles->errors[i].message));
		jv_append(a, o);
	}
	return a;
}

static json_object *verify_json(const struct policy_check *v)
{
	json_object *o;

	if (!v)
		return NULL;
	o = jv_object();
	jv_set(o, "ok", jv_bool(v->n_mismatched == 0));
	jv_set(o, "checked", jv_u64(v->n_checked));
	jv_set(o, "mismatched", jv_u64(v->n_mismatched));
	jv_set(o, "message", jv_text(v->message));
	return o;
}

static json_object *config_json(const struct status_input *in)
{
	json_object *o = jv_object();

	jv_set(o, "path", jv_text(in->config_path));
	jv_set(o, "policy", jv_text(virt_policy_to_string(in->cfg->policy)));
	jv_set(o, "timer_mode", jv_text(timer_mode_to_string(in->cfg->timer_mode)));
	jv_set(o, "min_max_delay_ns", jv_u64(in->cfg->timer_min_max_delay_ns));
	return o;
}

static json_object *timer_json(const struct timer_status *t, const struct config *cfg);

int status_json(const struct status_input *in, char **ret)
{
	_cleanup_(json_object_putp) json_object *doc = jv_object();
	const struct kvm_observation *k = in->kobs;

	jv_set(doc, "version", jv_text(in->version));
	jv_set(doc, "policy", jv_text(virt_policy_to_string(in->cfg->policy)));
	jv_set(doc, "applied_policy", jv_text(in->applied_policy));
	jv_set(doc, "state", jv_text(in->state));
	jv_set(doc, "reason", jv_text(in->reason ? in->reason : ""));
	jv_set(doc, "config", config_json(in));
	jv_set(doc, "kvm", k ? kvm_json(k) : NULL);
	jv_set(doc, "vm_count", jv_u64(k ? k->obs.n_vms : 0));
	jv_set(doc, "vms", vms_json(k));
	jv_set(doc, "pinned_vm", jv_bool(k && k->obs.pinned_vm));
	jv_set(doc, "cpus", k ? cpus_json(in) : jv_array());
	jv_set(doc, "verify", verify_json(in->verify));
	jv_set(doc, "caps", k && k->have_caps ? hw_caps_to_json(&k->caps) : NULL);
	jv_set(doc, "actions_failed", jv_text(in->actions_failed));
	jv_set(doc, "timer", timer_json(in->timer, in->cfg));
	add_locks(doc, in);
	jv_set(doc, "hypervisors", hypervisors_json(in));
	jv_set(doc, "handoff", handoff_json(in));
	jv_set(doc, "profile_errors", profile_errors_json(in));
	return jv_to_text(doc, ret);
}

/* The decision's half of "timer"; every key null (warning false) before it is decided. */
static void add_decision(json_object *o, const struct timer_status *t)
{
	const struct timer_decision *d = &t->decision;
	bool vmx = t->caps.feature == VIRTHW_FEATURE_VMX;

	if (!t->decided) {
		static const char *const keys[] = { "applies", "feature", "tsc_khz", "tsc_assumed", "rate", "pin_control",
						    "erratum", "max_delay_ns", "use", "reason", "reason_text" };

		for (size_t i = 0; i < ELEMENTSOF(keys); i++)
			jv_set(o, keys[i], NULL);
		jv_set(o, "warning", jv_bool(false));
		return;
	}
	jv_set(o, "applies", jv_bool(vmx));
	jv_set(o, "feature", jv_text(hw_feature_to_string(t->caps.feature)));
	jv_set(o, "tsc_khz", jv_u64(t->caps.tsc_khz));
	jv_set(o, "tsc_assumed", jv_bool(d->tsc_assumed));
	jv_set(o, "rate", t->caps.has_rate && vmx ? jv_u64(t->caps.rate) : NULL);
	jv_set(o, "pin_control", jv_opt_bool(t->caps.has_pin_ctl, t->caps.pin_ctl));
	jv_set(o, "erratum", jv_opt_bool(t->caps.has_erratum, t->caps.erratum));
	jv_set(o, "max_delay_ns", d->has_max_delay ? jv_u64(d->max_delay_ns) : NULL);
	jv_set(o, "use", jv_bool(d->use));
	jv_set(o, "reason", jv_text(timer_reason_to_string(d->reason)));
	jv_set(o, "reason_text", jv_text(t->reason_text));
	jv_set(o, "warning", jv_bool(d->warning));
}

static json_object *timer_module_json(const struct timer_status *t)
{
	json_object *o;

	if (!t->has_module)
		return NULL;
	o = jv_object();
	jv_set(o, "mode", jv_text(hw_timer_mode_to_string(t->module.mode)));
	jv_set(o, "min_max_delay_ns", jv_u64(t->module.min_max_delay_ns));
	jv_set(o, "use", jv_bool(t->module.timer_use));
	jv_set(o, "reason", jv_text(timer_reason_to_string(t->module.reason)));
	jv_set(o, "matches", jv_bool(!t->module_mismatch));
	return o;
}

static json_object *timer_kvm_json(const struct timer_status *t)
{
	json_object *o = jv_object();

	jv_set(o, "state", jv_text(t->kvm_state));
	jv_set(o, "want", jv_opt_bool(t->decided && t->caps.feature == VIRTHW_FEATURE_VMX, t->want_param));
	jv_set(o, "current", jv_opt_bool(t->has_param, t->param));
	jv_set(o, "reason", jv_text(t->kvm_reason));
	return o;
}

static json_object *timer_json(const struct timer_status *t, const struct config *cfg)
{
	json_object *o;

	if (!t)
		return NULL;
	o = jv_object();
	jv_set(o, "mode", jv_text(timer_mode_to_string(cfg->timer_mode)));
	jv_set(o, "min_max_delay_ns", jv_u64(cfg->timer_min_max_delay_ns));
	jv_set(o, "decided", jv_bool(t->decided));
	add_decision(o, t);
	jv_set(o, "module", timer_module_json(t));
	jv_set(o, "module_error", jv_text(t->module_error[0] ? t->module_error : NULL));
	jv_set(o, "kvm_intel", timer_kvm_json(t));
	return o;
}
