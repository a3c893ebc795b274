/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* status-json.c: virtd's status in words (STATUS=, the journal) and as the GetStatus JSON document (pure). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dropin.h"
#include "hw-json.h"
#include "hw-parse.h"
#include "output.h"
#include "status-json.h"

static bool present(enum module_state s)
{
	return s == MODULE_LOADED || s == MODULE_BUILTIN;
}

static bool eval_on(const struct observed *obs)
{
	return obs->has_enable_virt_at_load && present(obs->kvm) && obs->enable_virt_at_load;
}

const char *status_cpu_owner(const struct observed *obs, const struct lock_holders *locks,
			     const struct observed_cpu *cpu)
{
	if (!cpu->online)
		return NULL;
	if (!cpu->virt_on)
		return "none";
	if (obs->tdx_active)
		return "tdx";
	if (present(obs->vendor) && (eval_on(obs) || obs->n_vms > 0))
		return "kvm";
	/* Only virtd's own VM keeps it on. */
	if (present(obs->vendor) && obs->pinned_vm)
		return "virtd";
	if (locks && locks->n_held > 0)
		return "lock";
	return "unknown";
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

const char *status_applied_policy(const struct config *cfg, const struct observed *obs, enum policy_verdict v)
{
	if (v == POLICY_HOLDS)
		return virt_policy_to_string(cfg->policy);
	if (!present(obs->vendor) && obs->dropin.exists && obs->dropin.block_vendor)
		return "never";
	if (present(obs->vendor) && (eval_on(obs) || obs->pinned_vm))
		return "boot";
	if (present(obs->vendor))
		return "first-vm";
	/* KVM is not loaded and not blocked: whatever loads it next gets the drop-in's say. */
	if (obs->dropin.exists && obs->dropin.enable_virt_at_load == 1)
		return "boot";
	return obs->has_enable_virt_at_load && !(obs->dropin.exists && obs->dropin.enable_virt_at_load == 0) ?
		"boot" : "first-vm";
}

const char *status_state(enum policy_verdict v, const struct policy_check *verify)
{
	switch (v) {
	case POLICY_PENDING:
		return STATE_PENDING;
	case POLICY_CANNOT_HOLD:
		return STATE_CANNOT_HOLD;
	case POLICY_HOLDS:
		break;
	}
	if (verify && verify->n_mismatched > 0)
		return STATE_MISMATCH;
	return STATE_HOLDS;
}

void status_words(const struct config *cfg, const char *state, const char *reason, const struct observed *obs,
		  char *buf, size_t size)
{
	const char *policy = virt_policy_to_string(cfg->policy);
	size_t online = 0, on = 0;

	if (!obs || strcmp(state, STATE_STARTING) == 0) {
		snprintf(buf, size, "policy %s: starting", policy);
		return;
	}
	for (size_t i = 0; i < obs->n_cpus; i++)
		if (obs->cpus[i].online) {
			online++;
			on += obs->cpus[i].virt_on;
		}
	if (strcmp(state, STATE_LOCKED) == 0) {
		snprintf(buf, size, "policy %s suspended by a foreign-hypervisor lock: %s (%zu/%zu CPUs on)", policy,
			 reason && *reason ? reason : "held", on, online);
		return;
	}
	if (strcmp(state, STATE_HOLDS) != 0) {
		snprintf(buf, size, "policy %s %s: %s", policy,
			 strcmp(state, STATE_CANNOT_HOLD) == 0 ? "cannot hold" : state,
			 reason && *reason ? reason : "(no reason given)");
		return;
	}
	switch (cfg->policy) {
	case VIRT_POLICY_NEVER:
		snprintf(buf, size, "policy never: KVM's vendor module unloaded and blocked, virtualization off (%zu/%zu CPUs on)",
			 on, online);
		return;
	case VIRT_POLICY_BOOT:
		snprintf(buf, size, "policy boot: virtualization on, %zu/%zu CPUs%s, %u VM%s", on, online,
			 obs->pinned_vm ? " (virtd's pinned VM)" : "", obs->n_vms, obs->n_vms == 1 ? "" : "s");
		return;
	case VIRT_POLICY_FIRST_VM:
		if (obs->n_vms == 0)
			snprintf(buf, size, "policy first-vm: no VMs, virtualization off (%zu/%zu CPUs on)", on, online);
		else
			snprintf(buf, size, "policy first-vm: %u VM%s, virtualization on, %zu/%zu CPUs", obs->n_vms,
				 obs->n_vms == 1 ? "" : "s", on, online);
		return;
	case _VIRT_POLICY_MAX:
		break;
	}
	snprintf(buf, size, "policy %s", policy);
}

static void jstr(FILE *f, const char *s)
{
	if (s)
		json_print_string(f, s);
	else
		fputs("null", f);
}

static const char *jbool(bool b)
{
	return b ? "true" : "false";
}

static const char *feature_name(enum virt_feature f)
{
	return f == VIRT_FEATURE_VMX ? "vmx" : f == VIRT_FEATURE_SVM ? "svm" : "none";
}

static void print_kvm(FILE *f, const struct kvm_observation *k)
{
	const struct observed *obs = &k->obs;

	fputs("\"kvm\":{\"kvm_module\":", f);
	jstr(f, module_state_to_string(obs->kvm));
	fputs(",\"vendor_module\":", f);
	jstr(f, k->vendor_module);
	fputs(",\"vendor_state\":", f);
	jstr(f, k->vendor_module ? module_state_to_string(obs->vendor) : NULL);
	/* The value only means something while kvm is in the kernel. */
	fprintf(f, ",\"enable_virt_at_load\":%s",
		obs->has_enable_virt_at_load && present(obs->kvm) ? jbool(obs->enable_virt_at_load) : "null");
	fprintf(f, ",\"dev_kvm\":%s,\"autoload_blocked\":%s,\"dropin\":", jbool(obs->dev_kvm),
		jbool(obs->dropin.exists && obs->dropin.block_vendor));
	jstr(f, obs->dropin.exists ? DROPIN_PATH : NULL);
	fputs(",\"params\":{", f);
	for (size_t i = 0; i < k->n_params; i++) {
		if (i)
			fputc(',', f);
		jstr(f, k->params[i].name);
		fputc(':', f);
		jstr(f, k->params[i].value);
	}
	fputs("}}", f);
}

static void print_vms(FILE *f, const struct kvm_observation *k)
{
	fputs("\"vms\":[", f);
	for (size_t i = 0; k && i < k->n_vm_owners; i++) {
		const struct vm_owner *v = &k->vms[i];

		fprintf(f, "%s{\"pid\":%d,\"vms\":%u,\"comm\":", i ? "," : "", (int)v->pid, v->n_vms);
		jstr(f, v->comm);
		fputs(",\"cmdline\":", f);
		jstr(f, v->cmdline);
		fputc('}', f);
	}
	fputc(']', f);
}

static void print_cpus(FILE *f, const struct status_input *in)
{
	const struct observed *obs = &in->kobs->obs;

	fputs("\"cpus\":[", f);
	for (size_t i = 0; i < obs->n_cpus; i++) {
		const struct observed_cpu *c = &obs->cpus[i];
		enum cpu_expect e = policy_cpu_expect(in->cfg, obs, in->locks, c);
		bool ok = e == CPU_EXPECT_SKIP || e == CPU_EXPECT_ANY || (e == CPU_EXPECT_ON) == c->virt_on;

		fprintf(f, "%s{\"cpu\":%u,\"online\":%s", i ? "," : "", c->id, jbool(c->online));
		if (c->online)
			fprintf(f, ",\"feature\":\"%s\",\"firmware_enabled\":%s,\"virt_on\":%s", feature_name(c->feature),
				jbool(c->fw_enabled), jbool(c->virt_on));
		else
			fputs(",\"feature\":null,\"firmware_enabled\":null,\"virt_on\":null", f);
		fprintf(f, ",\"expected\":\"%s\",\"owner\":", cpu_expect_to_string(e));
		jstr(f, status_cpu_owner(obs, in->locks, c));
		fprintf(f, ",\"ok\":%s}", jbool(ok));
	}
	fputc(']', f);
}

static void print_locks(FILE *f, const struct status_input *in)
{
	fputs(",\"locks\":[", f);
	for (size_t i = 0; i < in->n_lock_list; i++) {
		const struct lock_info *l = &in->lock_list[i];

		fprintf(f, "%s{\"id\":%" PRIu32 ",\"who\":", i ? "," : "", l->id);
		jstr(f, l->who);
		fputs(",\"why\":", f);
		jstr(f, l->why);
		fprintf(f, ",\"pid\":%d,\"uid\":%u,\"since_usec\":%" PRIu64 "}", (int)l->pid, (unsigned)l->uid,
			l->since_usec);
	}
	fprintf(f, "],\"lock_waiting\":%u", in->locks ? in->locks->n_waiting : 0);
}

static void print_timer(FILE *f, const struct timer_status *t, const struct config *cfg);

int status_json(const struct status_input *in, char **ret)
{
	const struct kvm_observation *k = in->kobs;
	struct memtext t;
	FILE *f;

	if (memtext_open(&t) < 0)
		return -ENOMEM;
	f = t.f;

	fputs("{\"version\":", f);
	jstr(f, in->version);
	fputs(",\"policy\":", f);
	jstr(f, virt_policy_to_string(in->cfg->policy));
	fputs(",\"applied_policy\":", f);
	jstr(f, in->applied_policy);
	fputs(",\"state\":", f);
	jstr(f, in->state);
	fputs(",\"reason\":", f);
	jstr(f, in->reason ? in->reason : "");
	fputs(",\"config\":{\"path\":", f);
	jstr(f, in->config_path);
	fputs(",\"policy\":", f);
	jstr(f, virt_policy_to_string(in->cfg->policy));
	fputs(",\"timer_mode\":", f);
	jstr(f, timer_mode_to_string(in->cfg->timer_mode));
	fprintf(f, ",\"min_max_delay_ns\":%" PRIu64 "},", in->cfg->timer_min_max_delay_ns);

	if (k) {
		print_kvm(f, k);
		fprintf(f, ",\"vm_count\":%u,", k->obs.n_vms);
		print_vms(f, k);
		fprintf(f, ",\"pinned_vm\":%s,", jbool(k->obs.pinned_vm));
		print_cpus(f, in);
	} else {
		fputs("\"kvm\":null,\"vm_count\":0,\"vms\":[],\"pinned_vm\":false,\"cpus\":[]", f);
	}

	if (in->verify) {
		fprintf(f, ",\"verify\":{\"ok\":%s,\"checked\":%zu,\"mismatched\":%zu,\"message\":",
			jbool(in->verify->n_mismatched == 0), in->verify->n_checked, in->verify->n_mismatched);
		jstr(f, in->verify->message);
		fputc('}', f);
	} else {
		fputs(",\"verify\":null", f);
	}
	fputs(",\"caps\":", f);
	if (k && k->have_caps)
		hw_caps_print_json(f, &k->caps);
	else
		fputs("null", f);
	fputs(",\"actions_failed\":", f);
	jstr(f, in->actions_failed);
	print_timer(f, in->timer, in->cfg);
	print_locks(f, in);
	fputs("}", f);

	return memtext_close(&t, ret);
}

/* --- the preemption timer ------------------------------------------------------ */

static const char *find_param(const struct kvm_observation *k, const char *name)
{
	for (size_t i = 0; i < k->n_params; i++)
		if (strcmp(k->params[i].name, name) == 0)
			return k->params[i].value;
	return NULL;
}

static void describe_vm_owners(const struct kvm_observation *k, char *buf, size_t size)
{
	size_t o = (size_t)snprintf(buf, size, "%u KVM VM%s running", k->obs.n_vms, k->obs.n_vms == 1 ? "" : "s");

	for (size_t i = 0; i < k->n_vm_owners && o < size; i++) {
		const struct vm_owner *v = &k->vms[i];
		const char *what = v->cmdline && *v->cmdline ? v->cmdline : v->comm;

		o += (size_t)snprintf(buf + o, size - o, "%s pid %d (%.60s%s)", i ? "," : ":", (int)v->pid, what,
				      strlen(what) > 60 ? "..." : "");
	}
}

void timer_status_fill(const struct config *cfg, const struct kvm_observation *k, const char *actions_failed,
		       struct timer_status *t)
{
	const struct observed *obs = &k->obs;
	char yn, now, vms[320];
	const char *v;
	int b;

	t->decided = k->have_caps;
	t->caps = (struct timer_caps) {};
	t->decision = (struct timer_decision) {};
	t->reason_text[0] = '\0';
	t->want_param = t->has_param = t->param = false;
	if (k->have_caps) {
		t->caps = (struct timer_caps) {
			.feature = k->caps.feature,
			.tsc_khz = k->caps.tsc_khz,
			.has_rate = k->caps.has_timer_rate,
			.rate = k->caps.timer_rate,
			.has_pin_ctl = k->caps.has_timer_pin_ctl,
			.pin_ctl = k->caps.timer_pin_ctl,
			.has_erratum = k->caps.has_timer_erratum,
			.erratum = k->caps.timer_erratum,
		};
		timer_decide(cfg->timer_mode, cfg->timer_min_max_delay_ns, &t->caps, &t->decision);
		timer_reason_describe(&t->decision, cfg->timer_min_max_delay_ns, t->reason_text, sizeof(t->reason_text));
		t->want_param = t->decision.use;
	}

	if (!k->have_caps) {
		t->kvm_state = TIMER_KVM_UNKNOWN;
		snprintf(t->kvm_reason, sizeof(t->kvm_reason), "no decision without virthw's capabilities: %s",
			 k->hw_error[0] ? k->hw_error : "virthw did not report them");
		return;
	}
	if (t->caps.feature != VIRTHW_FEATURE_VMX || !k->vendor_module || strcmp(k->vendor_module, "kvm_intel") != 0) {
		t->kvm_state = TIMER_KVM_NOT_APPLICABLE;
		snprintf(t->kvm_reason, sizeof(t->kvm_reason), "does not apply: not VMX");
		return;
	}

	yn = t->want_param ? 'Y' : 'N';
	v = find_param(k, "kvm_intel.preemption_timer");
	b = v ? parse_kernel_bool(v) : -EINVAL;
	if (present(obs->vendor) && b >= 0) {
		t->has_param = true;
		t->param = b;
	}
	now = t->param ? 'Y' : 'N';

	switch (obs->vendor) {
	case MODULE_MISSING:
		t->kvm_state = TIMER_KVM_NOT_LOADED;
		snprintf(t->kvm_reason, sizeof(t->kvm_reason), "kvm_intel is not available for this kernel");
		return;
	case MODULE_UNLOADED:
		t->kvm_state = TIMER_KVM_NOT_LOADED;
		if (obs->dropin.exists && obs->dropin.has_preemption_timer && obs->dropin.preemption_timer == t->want_param)
			snprintf(t->kvm_reason, sizeof(t->kvm_reason),
				 "kvm_intel is not loaded; %s gives it preemption_timer=%c when it loads", DROPIN_PATH, yn);
		else
			snprintf(t->kvm_reason, sizeof(t->kvm_reason),
				 "kvm_intel is not loaded; it is to get preemption_timer=%c from %s", yn, DROPIN_PATH);
		return;
	case MODULE_BUILTIN:
	case MODULE_LOADED:
		break;
	}
	if (!t->has_param) {
		t->kvm_state = TIMER_KVM_UNKNOWN;
		snprintf(t->kvm_reason, sizeof(t->kvm_reason), "kvm_intel's preemption_timer parameter is unreadable");
		return;
	}
	if (t->param == t->want_param) {
		t->kvm_state = TIMER_KVM_APPLIED;
		snprintf(t->kvm_reason, sizeof(t->kvm_reason), "kvm_intel has preemption_timer=%c", now);
		return;
	}
	if (obs->vendor == MODULE_BUILTIN) {
		t->kvm_state = TIMER_KVM_CANNOT_APPLY;
		snprintf(t->kvm_reason, sizeof(t->kvm_reason),
			 "kvm_intel is built into the kernel with preemption_timer=%c; boot with kvm_intel.preemption_timer=%c",
			 now, yn);
		return;
	}
	if (obs->n_vms > 0) {
		describe_vm_owners(k, vms, sizeof(vms));
		t->kvm_state = TIMER_KVM_PENDING;
		snprintf(t->kvm_reason, sizeof(t->kvm_reason),
			 "kvm_intel has preemption_timer=%c; it is reloaded with %c when the KVM VMs have exited: %s", now, yn,
			 vms);
		return;
	}
	if (actions_failed && *actions_failed) {
		t->kvm_state = TIMER_KVM_CANNOT_APPLY;
		snprintf(t->kvm_reason, sizeof(t->kvm_reason), "kvm_intel has preemption_timer=%c, wanted %c: %.300s", now,
			 yn, actions_failed);
		return;
	}
	t->kvm_state = TIMER_KVM_PENDING;
	snprintf(t->kvm_reason, sizeof(t->kvm_reason), "kvm_intel has preemption_timer=%c; a reload with %c is due", now, yn);
}

void timer_status_module(struct timer_status *t, const struct virthw_settings *module, const char *error)
{
	t->has_module = module != NULL;
	if (module)
		t->module = *module;
	snprintf(t->module_error, sizeof(t->module_error), "%s", module || !error ? "" : error);
	t->module_mismatch = module && t->decided && module->timer_use != t->decision.use;
}

void timer_status_observed(const struct timer_status *t, struct kvm_observation *k)
{
	k->obs.has_want_preemption_timer = t->decided && strcmp(t->kvm_state, TIMER_KVM_NOT_APPLICABLE) != 0 &&
					   t->caps.feature == VIRTHW_FEATURE_VMX;
	k->obs.want_preemption_timer = t->want_param;
	k->obs.has_preemption_timer = t->has_param;
	k->obs.preemption_timer = t->param;
}

void timer_status_words(const struct timer_status *t, char *buf, size_t size)
{
	size_t o;

	if (!t->decided) {
		snprintf(buf, size, "preemption timer: undecided (%s)", t->kvm_reason);
		return;
	}
	if (t->caps.feature != VIRTHW_FEATURE_VMX) {
		snprintf(buf, size, "preemption timer: does not apply (not VMX)");
		return;
	}
	o = (size_t)snprintf(buf, size, "preemption timer: %s (%s)", t->decision.use ? "on" : "off", t->reason_text);
	if (o < size)
		o += (size_t)snprintf(buf + o, size - o, "; %s", t->kvm_reason);
	if (o < size && t->module_mismatch)
		snprintf(buf + o, size - o, "; virthw decided otherwise: %s (%s)", t->module.timer_use ? "on" : "off",
			 hw_timer_reason_to_string(t->module.reason));
}

static void print_timer(FILE *f, const struct timer_status *t, const struct config *cfg)
{
	const struct timer_decision *d;

	fputs(",\"timer\":", f);
	if (!t) {
		fputs("null", f);
		return;
	}
	d = &t->decision;
	fputs("{\"mode\":", f);
	jstr(f, timer_mode_to_string(cfg->timer_mode));
	fprintf(f, ",\"min_max_delay_ns\":%" PRIu64 ",\"decided\":%s", cfg->timer_min_max_delay_ns, jbool(t->decided));
	if (t->decided) {
		fprintf(f, ",\"applies\":%s,\"feature\":", jbool(t->caps.feature == VIRTHW_FEATURE_VMX));
		jstr(f, hw_feature_to_string(t->caps.feature));
		fprintf(f, ",\"tsc_khz\":%" PRIu32 ",\"tsc_assumed\":%s", t->caps.tsc_khz, jbool(d->tsc_assumed));
		if (t->caps.has_rate && t->caps.feature == VIRTHW_FEATURE_VMX)
			fprintf(f, ",\"rate\":%u", (unsigned)t->caps.rate);
		else
			fputs(",\"rate\":null", f);
		fprintf(f, ",\"pin_control\":%s,\"erratum\":%s",
			t->caps.has_pin_ctl ? jbool(t->caps.pin_ctl) : "null",
			t->caps.has_erratum ? jbool(t->caps.erratum) : "null");
		if (d->has_max_delay)
			fprintf(f, ",\"max_delay_ns\":%" PRIu64, d->max_delay_ns);
		else
			fputs(",\"max_delay_ns\":null", f);
		fprintf(f, ",\"use\":%s,\"reason\":", jbool(d->use));
		jstr(f, timer_reason_to_string(d->reason));
		fputs(",\"reason_text\":", f);
		jstr(f, t->reason_text);
		fprintf(f, ",\"warning\":%s", jbool(d->warning));
	} else {
		fputs(",\"applies\":null,\"feature\":null,\"tsc_khz\":null,\"tsc_assumed\":null,\"rate\":null,"
		      "\"pin_control\":null,\"erratum\":null,\"max_delay_ns\":null,\"use\":null,\"reason\":null,"
		      "\"reason_text\":null,\"warning\":false", f);
	}
	fputs(",\"module\":", f);
	if (t->has_module) {
		fprintf(f, "{\"mode\":\"%s\",\"min_max_delay_ns\":%" PRIu64 ",\"use\":%s,\"reason\":",
			hw_timer_mode_to_string(t->module.mode), t->module.min_max_delay_ns, jbool(t->module.timer_use));
		jstr(f, timer_reason_to_string(t->module.reason));
		fprintf(f, ",\"matches\":%s}", jbool(!t->module_mismatch));
	} else {
		fputs("null", f);
	}
	fputs(",\"module_error\":", f);
	jstr(f, t->module_error[0] ? t->module_error : NULL);
	fputs(",\"kvm_intel\":{\"state\":", f);
	jstr(f, t->kvm_state);
	fprintf(f, ",\"want\":%s,\"current\":%s,\"reason\":",
		t->decided && t->caps.feature == VIRTHW_FEATURE_VMX ? jbool(t->want_param) : "null",
		t->has_param ? jbool(t->param) : "null");
	jstr(f, t->kvm_reason);
	fputs("}}", f);
}
