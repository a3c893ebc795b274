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

int status_json(const struct status_input *in, char **ret)
{
	const struct kvm_observation *k = in->kobs;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;

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
	print_locks(f, in);
	fputs("}", f);

	if (fclose(f) != 0 || !buf) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}
