/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* policy.c: the pure policy engine (no I/O, no globals): next actions, verdict, per-CPU verification. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "policy.h"

const char *action_kind_to_string(enum action_kind k)
{
	static const char *const names[_ACTION_KIND_MAX] = {
		[ACTION_WRITE_DROPIN] = "write-dropin",
		[ACTION_REMOVE_DROPIN] = "remove-dropin",
		[ACTION_RELEASE_PINNED_VM] = "release-pinned-vm",
		[ACTION_UNLOAD_VENDOR] = "unload-vendor",
		[ACTION_UNLOAD_KVM] = "unload-kvm",
		[ACTION_LOAD_KVM] = "load-kvm",
		[ACTION_LOAD_VENDOR] = "load-vendor",
		[ACTION_CREATE_PINNED_VM] = "create-pinned-vm",
		[ACTION_REMOVE_DEV_KVM] = "remove-dev-kvm",
	};

	return (unsigned)k < _ACTION_KIND_MAX ? names[k] : NULL;
}

enum lock_grant policy_lock_grant(const struct config *cfg, const char *name, enum hv_mode mode, char *reason,
				  size_t size)
{
	if (size > 0)
		reason[0] = '\0';
	if (!name || mode != HV_MODE_SHARED)
		return LOCK_GRANT_EXCLUSIVE;
	if (cfg->policy == VIRT_POLICY_NEVER) {
		snprintf(reason, size, "%s runs inside KVM (shared mode), and policy never keeps KVM unloaded: set "
			 "Policy=first-vm or boot, or Mode.%s=exclusive in [Hypervisor] of virtd.conf", name, name);
		return LOCK_GRANT_REFUSED;
	}
	return LOCK_GRANT_SHARED;
}

const char *policy_verdict_to_string(enum policy_verdict v)
{
	switch (v) {
	case POLICY_HOLDS:
		return "holds";
	case POLICY_PENDING:
		return "pending";
	case POLICY_CANNOT_HOLD:
		return "cannot hold";
	}
	return NULL;
}

static bool module_present(enum module_state s)
{
	return s == MODULE_LOADED || s == MODULE_BUILTIN;
}

/* The parameter's value, or -1 where it does not exist or cannot be read. */
static int eval_now(const struct observed *obs)
{
	if (!obs->has_enable_virt_at_load || !module_present(obs->kvm))
		return -1;
	return obs->enable_virt_at_load;
}

/* Whether KVM itself keeps virtualization on, judged from the kernel side alone. */
static bool kvm_holds(const struct observed *obs)
{
	if (!module_present(obs->vendor))
		return false;
	return eval_now(obs) == 1 || obs->n_vms > 0 || obs->pinned_vm;
}

static enum virt_feature host_feature(const struct observed *obs)
{
	for (size_t i = 0; i < obs->n_cpus; i++)
		if (obs->cpus[i].online && obs->cpus[i].feature != VIRT_FEATURE_NONE)
			return obs->cpus[i].feature;
	return VIRT_FEATURE_NONE;
}

/* Appends "0, 1, 5" style CPU numbers; the list is cut with "..." when full. */
static void cpu_list_add(char *buf, size_t size, unsigned id)
{
	size_t o = strlen(buf);

	if (o + 16 >= size) {
		if (o + 4 < size && (o < 3 || strcmp(buf + o - 3, "...") != 0))
			strcpy(buf + o, "...");
		return;
	}
	snprintf(buf + o, size - o, "%s%u", o ? ", " : "", id);
}

/* CPUs on although neither KVM, TDX nor a lock holder explains it. */
static size_t unknown_owner_cpus(const struct observed *obs, const struct lock_holders *locks, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	if (locks->n_held > 0 || obs->tdx_active || kvm_holds(obs))
		return 0;
	for (size_t i = 0; i < obs->n_cpus; i++)
		if (obs->cpus[i].online && obs->cpus[i].virt_on) {
			cpu_list_add(buf, size, obs->cpus[i].id);
			n++;
		}
	return n;
}

/* First CPU that has the feature but whose firmware forbids it, or NULL. */
static const struct observed_cpu *fw_disabled_cpu(const struct observed *obs)
{
	for (size_t i = 0; i < obs->n_cpus; i++)
		if (obs->cpus[i].online && obs->cpus[i].feature != VIRT_FEATURE_NONE && !obs->cpus[i].fw_enabled)
			return &obs->cpus[i];
	return NULL;
}

static void describe_vms(const struct observed *obs, char *buf, size_t size)
{
	size_t n_pids = obs->n_vms < POLICY_MAX_PIDS ? obs->n_vms : POLICY_MAX_PIDS, o, shown = 0;

	o = (size_t)snprintf(buf, size, "%u KVM VM%s running", obs->n_vms, obs->n_vms == 1 ? "" : "s");
	for (size_t i = 0; i < n_pids && o < size; i++) {
		if (obs->vm_pids[i] <= 0)
			continue;
		o += (size_t)snprintf(buf + o, size - o, "%s%d", shown ? ", " : obs->n_vms == 1 ? " (pid " : " (pids ",
				      (int)obs->vm_pids[i]);
		shown++;
	}
	if (shown > 0 && o < size)
		snprintf(buf + o, size - o, "%s)", obs->n_vms > shown ? ", ..." : "");
}

/* The most severe verdict wins; among equals the first reason stays. */
_printf_(3, 4)
static void verdict(struct actions *out, enum policy_verdict v, const char *fmt, ...)
{
	va_list ap;

	if (v <= out->verdict)
		return;
	out->verdict = v;
	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
}

static struct action *push(struct actions *out, enum action_kind kind)
{
	struct action *a;

	/* Cannot happen: no path emits more than ELEMENTSOF(out->list). */
	if (out->n >= ELEMENTSOF(out->list))
		return NULL;
	a = &out->list[out->n++];
	*a = (struct action) { .kind = kind, .enable_virt_at_load = -1 };
	return a;
}

static void push_load_kvm(struct actions *out, int eval)
{
	struct action *a = push(out, ACTION_LOAD_KVM);

	if (a)
		a->enable_virt_at_load = (signed char)eval;
}

static bool dropin_equal(const struct policy_dropin *a, const struct policy_dropin *b)
{
	if (a->exists != b->exists)
		return false;
	return !a->exists || (a->enable_virt_at_load == b->enable_virt_at_load && a->block_vendor == b->block_vendor &&
			      a->has_preemption_timer == b->has_preemption_timer &&
			      (!a->has_preemption_timer || a->preemption_timer == b->preemption_timer));
}

/*
 * The drop-in always says what the policy wants, even while the change itself
 * is pending: whoever loads KVM next, for whatever reason, gets it right.
 */
static void sync_dropin(const struct observed *obs, bool block, int eval, struct actions *out)
{
	struct policy_dropin want = {
		.exists = block || eval >= 0 || obs->has_want_preemption_timer,
		.enable_virt_at_load = (signed char)eval,
		.block_vendor = block,
		.has_preemption_timer = obs->has_want_preemption_timer,
		.preemption_timer = obs->has_want_preemption_timer && obs->want_preemption_timer,
	};
	struct action *a;

	if (!want.exists)
		want.enable_virt_at_load = -1;
	if (dropin_equal(&obs->dropin, &want))
		return;
	if (!want.exists) {
		push(out, ACTION_REMOVE_DROPIN);
		return;
	}
	a = push(out, ACTION_WRITE_DROPIN);
	if (a)
		a->dropin = want;
}

static bool pushed(const struct actions *out, enum action_kind kind)
{
	for (size_t i = 0; i < out->n; i++)
		if (out->list[i].kind == kind)
			return true;
	return false;
}

/* Reload kvm so that a new enable_virt_at_load takes effect; needs no VMs. */
static void push_reload(const struct observed *obs, int eval, struct actions *out)
{
	if (obs->pinned_vm && !pushed(out, ACTION_RELEASE_PINNED_VM))
		push(out, ACTION_RELEASE_PINNED_VM);
	if (obs->vendor == MODULE_LOADED)
		push(out, ACTION_UNLOAD_VENDOR);
	push(out, ACTION_UNLOAD_KVM);
	push_load_kvm(out, eval);
	push(out, ACTION_LOAD_VENDOR);
}

/* Load the vendor module, and kvm first so that its options are explicit. */
static void push_load(const struct observed *obs, int eval, struct actions *out)
{
	if (obs->kvm == MODULE_UNLOADED)
		push_load_kvm(out, eval);
	push(out, ACTION_LOAD_VENDOR);
}

static const char *feature_name(enum virt_feature f)
{
	return f == VIRT_FEATURE_SVM ? "SVM" : "VMX";
}

/* What keeps KVM from being had at all on this host now; true (with the verdict) when something does. */
static bool kvm_unavailable(const struct observed *obs, enum virt_feature feature, struct actions *out)
{
	const struct observed_cpu *fw;
	char cpus[96];

	if (obs->n_cpus == 0) {
		verdict(out, POLICY_CANNOT_HOLD, "no per-CPU state from virthw: is the module loaded?");
		return true;
	}
	if (feature == VIRT_FEATURE_NONE) {
		verdict(out, POLICY_CANNOT_HOLD, "no online CPU supports VMX or SVM");
		return true;
	}
	if (obs->vendor == MODULE_MISSING) {
		verdict(out, POLICY_CANNOT_HOLD, "KVM is not available: %s is not built for this kernel",
			out->vendor_module);
		return true;
	}
	fw = fw_disabled_cpu(obs);
	if (fw) {
		verdict(out, POLICY_CANNOT_HOLD, "%s is disabled by the firmware on CPU %u: enable it in the firmware setup",
			feature_name(fw->feature), fw->id);
		return true;
	}
	if (unknown_owner_cpus(obs, &(const struct lock_holders) {}, cpus, sizeof(cpus)) > 0) {
		/* Loading KVM now would only fail with -EBUSY, or break it. */
		verdict(out, POLICY_CANNOT_HOLD,
			"another hypervisor holds %s on CPU %s without virtd's lock; KVM cannot take it",
			feature_name(feature), cpus);
		return true;
	}
	return false;
}

/* first-vm: KVM loaded with enable_virt_at_load=0 (CUR: its value now), no pinned VM. */
static void decide_first_vm(const struct observed *obs, int cur, int want_eval, struct actions *out)
{
	char vms[160];

	if (obs->pinned_vm)
		push(out, ACTION_RELEASE_PINNED_VM);
	if (cur == 1 && obs->kvm == MODULE_BUILTIN) {
		verdict(out, POLICY_CANNOT_HOLD,
			"kvm is built into the kernel with enable_virt_at_load=1; boot with kvm.enable_virt_at_load=0");
		if (obs->vendor == MODULE_UNLOADED)
			push(out, ACTION_LOAD_VENDOR);
		return;
	}
	if (cur == 1) {
		if (obs->n_vms > 0) {
			describe_vms(obs, vms, sizeof(vms));
			verdict(out, POLICY_PENDING, "%s; enable_virt_at_load=0 takes effect when they have exited", vms);
			return;
		}
		push_reload(obs, 0, out);
		return;
	}
	if (obs->vendor == MODULE_UNLOADED)
		push_load(obs, want_eval, out);
}

/*
 * boot: the parameter where it exists and can still be changed, because
 * it outlives virtd (a crashed daemon leaves it on); and virtd's own VM
 * on every kernel.  Without the parameter that VM is what keeps
 * virtualization on; with it, it keeps KVM's other 0->1 VM work done
 * (the scheduler's preempt-notifier hooks, a static key patched into
 * the kernel text with IPIs to every CPU), so that the first VM costs
 * what the second does.  While VMs keep kvm from being reloaded with
 * the parameter, the VM alone bridges.
 */
static void decide_boot(const struct observed *obs, int cur, int want_eval, struct actions *out)
{
	bool param_ok = obs->has_enable_virt_at_load && (obs->kvm != MODULE_BUILTIN || cur == 1);

	if (param_ok && cur == 0 && obs->n_vms == 0)
		push_reload(obs, 1, out);	/* releases the pinned VM first */
	else if (obs->vendor == MODULE_UNLOADED)
		push_load(obs, want_eval, out);
	if (!obs->pinned_vm || pushed(out, ACTION_RELEASE_PINNED_VM))
		push(out, ACTION_CREATE_PINNED_VM);
}

/* boot and first-vm: KVM present, virtualization on always or on demand. */
static void decide_kvm_policy(const struct config *cfg, const struct observed *obs, struct actions *out)
{
	bool boot = cfg->policy == VIRT_POLICY_BOOT;
	int want_eval = obs->has_enable_virt_at_load ? boot : -1;

	sync_dropin(obs, false, want_eval, out);
	if (kvm_unavailable(obs, host_feature(obs), out))
		return;
	if (!boot && obs->tdx_active)
		verdict(out, POLICY_CANNOT_HOLD, "TDX keeps VMX on on every CPU; it cannot be off without VMs");
	if (boot)
		decide_boot(obs, eval_now(obs), want_eval, out);
	else
		decide_first_vm(obs, eval_now(obs), want_eval, out);
}

/*
 * kvm_intel reads preemption_timer= only when it loads: reload it when the
 * timer decision and the loaded value differ, but only with no VM to lose
 * (virtd's own pinned VM is released and made again by the next round).
 * With VMs, the drop-in already says the new value and the change waits;
 * the manager reports it as pending.
 */
static void sync_vendor_params(const struct observed *obs, struct actions *out)
{
	if (!obs->has_want_preemption_timer || !obs->has_preemption_timer ||
	    obs->want_preemption_timer == obs->preemption_timer)
		return;
	if (!out->vendor_module || strcmp(out->vendor_module, "kvm_intel") != 0)
		return;
	if (obs->vendor != MODULE_LOADED || obs->n_vms > 0 || out->verdict == POLICY_CANNOT_HOLD)
		return;
	if (pushed(out, ACTION_UNLOAD_VENDOR))
		return;		/* reloaded anyway, with the drop-in's options */
	/* A VM made now would only be released again. */
	if (out->n > 0 && out->list[out->n - 1].kind == ACTION_CREATE_PINNED_VM)
		out->n--;
	if (obs->pinned_vm && !pushed(out, ACTION_RELEASE_PINNED_VM))
		push(out, ACTION_RELEASE_PINNED_VM);
	push(out, ACTION_UNLOAD_VENDOR);
	push(out, ACTION_LOAD_VENDOR);
}

static void decide_kvm_in(const struct config *cfg, const struct observed *obs, struct actions *out)
{
	decide_kvm_policy(cfg, obs, out);
	sync_vendor_params(obs, out);
}

/* never, or a foreign lock requested or held: KVM unloaded and kept out. */
static void decide_kvm_out(const struct config *cfg, const struct observed *obs, const struct lock_holders *locks,
			   struct actions *out)
{
	bool lock = locks->n_held > 0 || locks->n_waiting > 0;
	int eval = obs->has_enable_virt_at_load ? cfg->policy == VIRT_POLICY_BOOT : -1;
	char cpus[96], vms[160];

	/* The eval line is for the return: the policy's, once the lock is gone. */
	sync_dropin(obs, true, eval, out);

	if (obs->pinned_vm)
		push(out, ACTION_RELEASE_PINNED_VM);

	if (obs->vendor == MODULE_BUILTIN) {
		verdict(out, POLICY_CANNOT_HOLD, "%s is built into the kernel and cannot be unloaded",
			out->vendor_module ?: "the KVM vendor module");
		return;
	}
	if (obs->tdx_active) {
		verdict(out, POLICY_CANNOT_HOLD, "TDX keeps VMX on on every CPU; it cannot be handed over");
		return;
	}
	if (obs->vendor == MODULE_LOADED) {
		if (obs->n_vms > 0) {
			describe_vms(obs, vms, sizeof(vms));
			verdict(out, POLICY_PENDING, "%s; %s when they have exited", vms,
				lock ? "the lock is granted" : "KVM is unloaded");
			return;
		}
		push(out, ACTION_UNLOAD_VENDOR);
		return;
	}
	if (obs->dev_kvm)
		push(out, ACTION_REMOVE_DEV_KVM);

	if (unknown_owner_cpus(obs, locks, cpus, sizeof(cpus)) > 0)
		verdict(out, POLICY_CANNOT_HOLD,
			"virtualization is on on CPU %s, but neither KVM nor a lock holder owns it: "
			"another hypervisor runs without virtd's lock", cpus);
}

int policy_decide(const struct config *cfg, const struct observed *obs, const struct lock_holders *locks,
		  struct actions *out)
{
	const struct lock_holders none = {};
	enum virt_feature feature;

	if (!cfg || !obs || !out || (obs->n_cpus > 0 && !obs->cpus))
		return -EINVAL;
	if (!locks)
		locks = &none;

	*out = (struct actions) { .verdict = POLICY_HOLDS };
	feature = host_feature(obs);
	out->vendor_module = feature == VIRT_FEATURE_VMX ? "kvm_intel" : feature == VIRT_FEATURE_SVM ? "kvm_amd" : NULL;

	if (locks->n_held > 0 || locks->n_waiting > 0 || cfg->policy == VIRT_POLICY_NEVER)
		decide_kvm_out(cfg, obs, locks, out);
	else
		decide_kvm_in(cfg, obs, out);

	out->lock_grantable = (locks->n_held > 0 || locks->n_waiting > 0) && out->n == 0 &&
			      out->verdict == POLICY_HOLDS;
	return 0;
}

enum cpu_expect policy_cpu_expect(const struct config *cfg, const struct observed *obs,
				  const struct lock_holders *locks, const struct observed_cpu *cpu)
{
	(void)cfg;	/* the policy acts through the module state; see policy.h */

	if (!cpu->online)
		return CPU_EXPECT_SKIP;
	if (locks && locks->n_held > 0)
		return CPU_EXPECT_ANY;
	if (cpu->feature == VIRT_FEATURE_NONE || !cpu->fw_enabled)
		return CPU_EXPECT_OFF;
	if (obs->tdx_active || kvm_holds(obs))
		return CPU_EXPECT_ON;
	return CPU_EXPECT_OFF;
}

int policy_verify(const struct config *cfg, const struct observed *obs, const struct lock_holders *locks,
		  struct policy_check *out)
{
	char want_on[96] = "", want_off[96] = "";
	size_t o = 0;

	if (!cfg || !obs || !out || (obs->n_cpus > 0 && !obs->cpus))
		return -EINVAL;

	*out = (struct policy_check) {};
	for (size_t i = 0; i < obs->n_cpus; i++) {
		const struct observed_cpu *c = &obs->cpus[i];
		enum cpu_expect e = policy_cpu_expect(cfg, obs, locks, c);

		if (e == CPU_EXPECT_SKIP)
			continue;
		out->n_checked++;
		if (e == CPU_EXPECT_ON && !c->virt_on) {
			cpu_list_add(want_on, sizeof(want_on), c->id);
			out->n_mismatched++;
		} else if (e == CPU_EXPECT_OFF && c->virt_on) {
			cpu_list_add(want_off, sizeof(want_off), c->id);
			out->n_mismatched++;
		}
	}
	if (out->n_mismatched == 0)
		return 0;

	if (want_on[0])
		o += (size_t)snprintf(out->message, sizeof(out->message),
				      "virtualization is off on CPU %s, but KVM should hold it on", want_on);
	if (want_off[0] && o < sizeof(out->message))
		snprintf(out->message + o, sizeof(out->message) - o,
			 "%svirtualization is on on CPU %s, but nothing virtd knows of should hold it",
			 o ? "; " : "", want_off);
	return -EIO;
}
