/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* status-json.c: the GetStatus JSON document, rendered from the model (model.h) the reconcile loop computed (pure). */
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
		enum cpu_expect e = in->cpus[i].expect;
		bool ok = in->cpus[i].ok;

		fprintf(f, "%s{\"cpu\":%u,\"online\":%s", i ? "," : "", c->id, jbool(c->online));
		if (c->online)
			fprintf(f, ",\"feature\":\"%s\",\"firmware_enabled\":%s,\"virt_on\":%s", feature_name(c->feature),
				jbool(c->fw_enabled), jbool(c->virt_on));
		else
			fputs(",\"feature\":null,\"firmware_enabled\":null,\"virt_on\":null", f);
		fprintf(f, ",\"expected\":\"%s\",\"owner\":", cpu_expect_to_string(e));
		jstr(f, in->cpus[i].owner);
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
