/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * model.c: what virtd makes of an observation (pure): the State and its
 * words, the applied policy, each CPU's owner and promise, the preemption
 * timer's decision against virthw's and kvm_intel's.
 *
 * Why a file of its own and not status-json.c, observe.c, policy.c or
 * timer.c: the reconcile loop needs all of this to decide and to say what
 * it did (a CPU nobody owns arms the recheck, the timer's wanted value is
 * an input of the policy engine), so it belongs to the engine side, before
 * any front end; status-json.c only renders the result, and a reload's
 * route (config -> engine -> actions -> verification -> events) must not
 * pass through a renderer.  observe.c reads the kernel and should stay
 * free of judgement; policy.c and timer.c are the pure core library
 * (libvirtd-core), which knows no kvm_observation, no drop-in path and no
 * virthw settings reply.  The model sits just above them: it takes an
 * observation and the engine's verdicts and names the result.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dropin.h"
#include "hw-parse.h"
#include "model.h"

static bool present(enum module_state s)
{
	return s == MODULE_LOADED || s == MODULE_BUILTIN;
}

static bool eval_on(const struct observed *obs)
{
	return obs->has_enable_virt_at_load && present(obs->kvm) && obs->enable_virt_at_load;
}

/* --- the CPUs, the policy, the state ------------------------------------------- */

const char *model_cpu_owner(const struct observed *obs, const struct lock_holders *locks,
			    const struct observed_cpu *cpu)
{
	if (!cpu->online)
		return NULL;
	if (!cpu->virt_on)
		return "none";
	if (obs->tdx_active)
		return "tdx";
	/* KVM turns it on for a shared-mode hypervisor's VMs too. */
	if (present(obs->vendor) && (eval_on(obs) || obs->n_vms > 0 || obs->n_hv_vms > 0))
		return "kvm";
	/* Only virtd's own VM keeps it on. */
	if (present(obs->vendor) && obs->pinned_vm)
		return "virtd";
	if (locks && locks->n_held > 0)
		return "lock";
	return "unknown";
}

void model_cpus(const struct config *cfg, const struct observed *obs, const struct lock_holders *locks,
		struct cpu_model *out)
{
	for (size_t i = 0; i < obs->n_cpus; i++) {
		const struct observed_cpu *c = &obs->cpus[i];
		enum cpu_expect e = policy_cpu_expect(cfg, obs, locks, c);

		out[i] = (struct cpu_model) {
			.owner = model_cpu_owner(obs, locks, c),
			.expect = e,
			.ok = e == CPU_EXPECT_SKIP || e == CPU_EXPECT_ANY || (e == CPU_EXPECT_ON) == c->virt_on,
		};
	}
}

const char *model_applied_policy(const struct config *cfg, const struct observed *obs, enum policy_verdict v)
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

const char *model_state(enum policy_verdict v, const struct policy_check *verify)
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

/*
 * The words are the model's too: the reconcile loop says them (STATUS=, the
 * journal) as the events of a transition, not as a view of the document.
 */
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

/* --- the preemption timer ------------------------------------------------------ */

static const char *find_param(const struct kvm_observation *k, const char *name)
{
	for (size_t i = 0; i < k->n_params; i++)
		if (strcmp(k->params[i].name, name) == 0)
			return k->params[i].value;
	return NULL;
}

/* virtd's decision from virthw's capabilities, when it has them. */
static void timer_decision_fill(const struct config *cfg, const struct kvm_observation *k, struct timer_status *t)
{
	t->decided = k->have_caps;
	t->caps = (struct timer_caps) {};
	t->decision = (struct timer_decision) {};
	t->reason_text[0] = '\0';
	t->want_param = t->has_param = t->param = false;
	if (!k->have_caps)
		return;
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

/* kvm_intel is missing or not loaded: what its next load gets.  False when it is in the kernel. */
static bool timer_kvm_absent(const struct observed *obs, struct timer_status *t)
{
	char yn = t->want_param ? 'Y' : 'N';

	switch (obs->vendor) {
	case MODULE_MISSING:
		t->kvm_state = TIMER_KVM_NOT_LOADED;
		snprintf(t->kvm_reason, sizeof(t->kvm_reason), "kvm_intel is not available for this kernel");
		return true;
	case MODULE_UNLOADED:
		t->kvm_state = TIMER_KVM_NOT_LOADED;
		if (obs->dropin.exists && obs->dropin.has_preemption_timer && obs->dropin.preemption_timer == t->want_param)
			snprintf(t->kvm_reason, sizeof(t->kvm_reason),
				 "kvm_intel is not loaded; %s gives it preemption_timer=%c when it loads", DROPIN_PATH, yn);
		else
			snprintf(t->kvm_reason, sizeof(t->kvm_reason),
				 "kvm_intel is not loaded; it is to get preemption_timer=%c from %s", yn, DROPIN_PATH);
		return true;
	case MODULE_BUILTIN:
	case MODULE_LOADED:
		break;
	}
	return false;
}

/* kvm_intel is in the kernel with its parameter read: applied, or why not yet. */
static void timer_kvm_loaded(const struct kvm_observation *k, const char *actions_failed, struct timer_status *t)
{
	char yn = t->want_param ? 'Y' : 'N', now = t->param ? 'Y' : 'N', vms[320];

	if (t->param == t->want_param) {
		t->kvm_state = TIMER_KVM_APPLIED;
		snprintf(t->kvm_reason, sizeof(t->kvm_reason), "kvm_intel has preemption_timer=%c", now);
		return;
	}
	if (k->obs.vendor == MODULE_BUILTIN) {
		t->kvm_state = TIMER_KVM_CANNOT_APPLY;
		snprintf(t->kvm_reason, sizeof(t->kvm_reason),
			 "kvm_intel is built into the kernel with preemption_timer=%c; boot with kvm_intel.preemption_timer=%c",
			 now, yn);
		return;
	}
	/* A shared-mode hypervisor's VMs keep kvm_intel in use as KVM's do. */
	if (k->obs.n_vms > 0 || k->n_hv_vms > 0) {
		vm_owners_describe(k->obs.n_vms, k->vms, k->n_vm_owners, vms, sizeof(vms));
		t->kvm_state = TIMER_KVM_PENDING;
		snprintf(t->kvm_reason, sizeof(t->kvm_reason),
			 "kvm_intel has preemption_timer=%c; it is reloaded with %c when the %sVMs have exited: %s", now, yn,
			 k->obs.n_vms > 0 ? "KVM " : "", vms);
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

void timer_status_fill(const struct config *cfg, const struct kvm_observation *k, const char *actions_failed,
		       struct timer_status *t)
{
	const char *v;
	int b;

	timer_decision_fill(cfg, k, t);
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

	v = find_param(k, "kvm_intel.preemption_timer");
	b = v ? parse_kernel_bool(v) : -EINVAL;
	if (present(k->obs.vendor) && b >= 0) {
		t->has_param = true;
		t->param = b;
	}
	if (timer_kvm_absent(&k->obs, t))
		return;
	if (!t->has_param) {
		t->kvm_state = TIMER_KVM_UNKNOWN;
		snprintf(t->kvm_reason, sizeof(t->kvm_reason), "kvm_intel's preemption_timer parameter is unreadable");
		return;
	}
	timer_kvm_loaded(k, actions_failed, t);
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
