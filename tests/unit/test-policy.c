/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-policy.c: table tests of the policy engine, with a tiny kernel simulator for convergence. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "macro.h"
#include "policy.h"
#include "tests.h"

#define NCPU 4

enum cpus_kind {
	CPUS_NORMAL,		/* 4 online VMX CPUs, firmware on; virt_on follows KVM */
	CPUS_SVM,		/* the same with SVM */
	CPUS_OFFLINE,		/* CPU 3 offline */
	CPUS_FW_OFF,		/* CPU 2: firmware disabled */
	CPUS_NO_FEATURE,	/* no VMX/SVM anywhere */
	CPUS_FOREIGN,		/* CPUs 0, 1 on by someone virtd does not know */
	CPUS_NONE,		/* virthw reported no CPUs */
	_CPUS_KIND_MAX,
};

/*
 * Drop-ins and actions are written as short words so a table row reads like
 * the transition it describes: "e0", "e1", "block", "e1+block", "" (none);
 * actions: "dropin:e0 unload-vendor unload-kvm load-kvm:e0 load-vendor".
 */
struct row {
	const char *name;
	enum virt_policy policy;
	bool k612;			/* kvm has enable_virt_at_load */
	enum module_state kvm, vendor;
	int eval;
	const char *dropin;
	unsigned n_vms;
	bool pinned, tdx, stale_dev_kvm;
	unsigned held, waiting;
	enum cpus_kind cpus;
	const char *actions;
	enum policy_verdict verdict;
	const char *reason;		/* substring of the reason, NULL: empty */
	enum policy_verdict after;	/* verdict once the actions are applied */
	bool grantable_after;
};

static struct policy_dropin parse_dropin(const char *s)
{
	struct policy_dropin d = { .enable_virt_at_load = -1 };

	if (!s || !*s)
		return d;
	d.exists = true;
	if (strstr(s, "e0"))
		d.enable_virt_at_load = 0;
	if (strstr(s, "e1"))
		d.enable_virt_at_load = 1;
	d.block_vendor = strstr(s, "block") != NULL;
	return d;
}

static void format_dropin(const struct policy_dropin *d, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s", d->enable_virt_at_load == 0 ? "e0" : d->enable_virt_at_load == 1 ? "e1" : "",
		 d->enable_virt_at_load >= 0 && d->block_vendor ? "+" : "", d->block_vendor ? "block" : "");
}

static void format_actions(const struct actions *a, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < a->n && o < size; i++) {
		const struct action *x = &a->list[i];
		char extra[32] = "";

		switch (x->kind) {
		case ACTION_WRITE_DROPIN:
			extra[0] = ':';
			format_dropin(&x->dropin, extra + 1, sizeof(extra) - 1);
			break;
		case ACTION_LOAD_KVM:
			if (x->enable_virt_at_load >= 0)
				snprintf(extra, sizeof(extra), ":e%d", x->enable_virt_at_load);
			break;
		default:
			break;
		}
		o += (size_t)snprintf(buf + o, size - o, "%s%s%s", o ? " " : "",
				      x->kind == ACTION_WRITE_DROPIN ? "dropin" : action_kind_to_string(x->kind), extra);
	}
}

static bool sim_kvm_holds(const struct observed *o)
{
	bool vendor = o->vendor == MODULE_LOADED || o->vendor == MODULE_BUILTIN;
	bool eval = o->has_enable_virt_at_load && (o->kvm == MODULE_LOADED || o->kvm == MODULE_BUILTIN) &&
		    o->enable_virt_at_load;

	return vendor && (eval || o->n_vms > 0 || o->pinned_vm);
}

/* What the hardware shows for a module state; FOREIGN CPUs stay on regardless. */
static void sim_cpus(struct observed *o, struct observed_cpu *cpus, const bool *foreign)
{
	bool on = sim_kvm_holds(o) || o->tdx_active;

	for (size_t i = 0; i < o->n_cpus; i++) {
		struct observed_cpu *c = &cpus[i];

		c->virt_on = c->online && c->feature != VIRT_FEATURE_NONE && c->fw_enabled && on;
		if (foreign[i])
			c->virt_on = true;
	}
}

static void build(const struct row *r, struct observed *o, struct observed_cpu *cpus, bool *foreign)
{
	*o = (struct observed) {
		.kvm = r->kvm,
		.vendor = r->vendor,
		.has_enable_virt_at_load = r->k612,
		.enable_virt_at_load = r->k612 && r->eval == 1,
		.dropin = parse_dropin(r->dropin),
		.n_vms = r->n_vms,
		.pinned_vm = r->pinned,
		.tdx_active = r->tdx,
		.cpus = cpus,
		.n_cpus = r->cpus == CPUS_NONE ? 0 : NCPU,
	};
	for (unsigned i = 0; i < r->n_vms && i < POLICY_MAX_PIDS; i++)
		o->vm_pids[i] = (pid_t)(1000 + i);
	o->dev_kvm = o->vendor == MODULE_LOADED || o->vendor == MODULE_BUILTIN || r->stale_dev_kvm;

	for (unsigned i = 0; i < NCPU; i++) {
		cpus[i] = (struct observed_cpu) {
			.id = i,
			.online = !(r->cpus == CPUS_OFFLINE && i == 3),
			.feature = r->cpus == CPUS_SVM ? VIRT_FEATURE_SVM :
				   r->cpus == CPUS_NO_FEATURE ? VIRT_FEATURE_NONE : VIRT_FEATURE_VMX,
			.fw_enabled = !(r->cpus == CPUS_FW_OFF && i == 2),
		};
		foreign[i] = r->cpus == CPUS_FOREIGN && i < 2;
	}
	sim_cpus(o, cpus, foreign);
}

/*
 * Applies actions as the kernel would, refusing what the kernel would refuse
 * (unloading a module in use, loading a blocked one), so a wrong order shows.
 * Returns the index of the first refused action, or -1.
 */
static int simulate(const struct actions *a, struct observed *o, struct observed_cpu *cpus, const bool *foreign)
{
	for (size_t i = 0; i < a->n; i++) {
		const struct action *x = &a->list[i];

		switch (x->kind) {
		case ACTION_WRITE_DROPIN:
			o->dropin = x->dropin;
			break;
		case ACTION_REMOVE_DROPIN:
			o->dropin = (struct policy_dropin) { .enable_virt_at_load = -1 };
			break;
		case ACTION_RELEASE_PINNED_VM:
			if (!o->pinned_vm)
				return (int)i;
			o->pinned_vm = false;
			break;
		case ACTION_UNLOAD_VENDOR:
			if (o->vendor != MODULE_LOADED || o->n_vms > 0 || o->pinned_vm)
				return (int)i;
			o->vendor = MODULE_UNLOADED;
			o->dev_kvm = false;
			break;
		case ACTION_UNLOAD_KVM:
			if (o->kvm != MODULE_LOADED || o->vendor == MODULE_LOADED)
				return (int)i;
			o->kvm = MODULE_UNLOADED;
			break;
		case ACTION_LOAD_KVM:
			if (o->kvm != MODULE_UNLOADED)
				return (int)i;
			o->kvm = MODULE_LOADED;
			if (o->has_enable_virt_at_load)
				o->enable_virt_at_load = x->enable_virt_at_load >= 0 ? x->enable_virt_at_load :
							 o->dropin.enable_virt_at_load >= 0 ? o->dropin.enable_virt_at_load : 1;
			break;
		case ACTION_LOAD_VENDOR:
			if (o->vendor != MODULE_UNLOADED || o->dropin.block_vendor)
				return (int)i;
			if (o->kvm == MODULE_UNLOADED) {
				o->kvm = MODULE_LOADED;
				o->enable_virt_at_load = o->has_enable_virt_at_load &&
							 o->dropin.enable_virt_at_load != 0;
			}
			o->vendor = MODULE_LOADED;
			o->dev_kvm = true;
			break;
		case ACTION_CREATE_PINNED_VM:
			if (o->pinned_vm || !(o->vendor == MODULE_LOADED || o->vendor == MODULE_BUILTIN))
				return (int)i;
			o->pinned_vm = true;
			break;
		case ACTION_REMOVE_DEV_KVM:
			o->dev_kvm = false;
			break;
		default:
			return (int)i;
		}
		sim_cpus(o, cpus, foreign);
	}
	return -1;
}

/* The policy's promise, stated independently of the engine. */
static bool promise_met(enum virt_policy p, const struct observed *o, const struct lock_holders *l)
{
	for (size_t i = 0; i < o->n_cpus; i++) {
		const struct observed_cpu *c = &o->cpus[i];
		bool want;

		if (!c->online)
			continue;
		if (l->n_held > 0) {
			if (o->vendor == MODULE_LOADED || o->dev_kvm)
				return false;
			continue;
		}
		if (l->n_waiting > 0 || p == VIRT_POLICY_NEVER)
			want = false;
		else if (p == VIRT_POLICY_BOOT)
			want = true;
		else
			want = o->n_vms > 0;
		if (c->virt_on != want)
			return false;
	}
	if ((l->n_held > 0 || l->n_waiting > 0 || p == VIRT_POLICY_NEVER) && o->dev_kvm)
		return false;
	return true;
}

#define K61 false
#define K612 true
#define L MODULE_LOADED
#define U MODULE_UNLOADED
#define B MODULE_BUILTIN
#define M MODULE_MISSING
#define BOOT VIRT_POLICY_BOOT
#define FVM VIRT_POLICY_FIRST_VM
#define NEVER VIRT_POLICY_NEVER
#define HOLDS POLICY_HOLDS
#define PENDING POLICY_PENDING
#define CANNOT POLICY_CANNOT_HOLD

static const struct row rows[] = {
	/* --- boot ----------------------------------------------------------------------- */
	{ "boot, 6.12 default (eval=1 loaded), no drop-in", BOOT, K612, L, L, 1, "", 0,
	  .actions = "dropin:e1 create-pinned-vm", .verdict = HOLDS, .after = HOLDS },
	{ "boot, 6.12 steady state (parameter and pinned VM)", BOOT, K612, L, L, 1, "e1", 0, .pinned = true,
	  .actions = "", .verdict = HOLDS, .after = HOLDS },
	{ "boot, 6.12 steady state with 2 VMs", BOOT, K612, L, L, 1, "e1", 2, .pinned = true,
	  .actions = "", .verdict = HOLDS, .after = HOLDS },
	{ "boot, 6.12 eval=1, the pinned VM gone (a restarted virtd): made again", BOOT, K612, L, L, 1, "e1", 0,
	  .actions = "create-pinned-vm", .verdict = HOLDS, .after = HOLDS },
	{ "boot, 6.12 eval=1, 1 VM, no pinned VM: made too", BOOT, K612, L, L, 1, "e1", 1,
	  .actions = "create-pinned-vm", .verdict = HOLDS, .after = HOLDS },
	{ "boot, 6.12 kvm loaded with eval=0, no VMs: reload", BOOT, K612, L, L, 0, "e0", 0,
	  .actions = "dropin:e1 unload-vendor unload-kvm load-kvm:e1 load-vendor create-pinned-vm", .verdict = HOLDS, .after = HOLDS },
	{ "boot, 6.12 eval=0, 1 VM: bridge with a pinned VM", BOOT, K612, L, L, 0, "e1", 1,
	  .actions = "create-pinned-vm", .verdict = HOLDS, .after = HOLDS },
	{ "boot, 6.12 eval=0, pinned bridge, VMs gone: switch to the parameter", BOOT, K612, L, L, 0, "e1", 0,
	  .pinned = true,
	  .actions = "release-pinned-vm unload-vendor unload-kvm load-kvm:e1 load-vendor create-pinned-vm", .verdict = HOLDS,
	  .after = HOLDS },
	{ "boot, 6.12 nothing loaded", BOOT, K612, U, U, 0, "", 0,
	  .actions = "dropin:e1 load-kvm:e1 load-vendor create-pinned-vm", .verdict = HOLDS, .after = HOLDS },
	{ "boot, 6.12 kvm loaded eval=0, vendor unloaded (after never)", BOOT, K612, L, U, 0, "e0+block", 0,
	  .actions = "dropin:e1 unload-kvm load-kvm:e1 load-vendor create-pinned-vm", .verdict = HOLDS, .after = HOLDS },
	{ "boot, 6.12 kvm built in with eval=1", BOOT, K612, B, L, 1, "e1", 0,
	  .actions = "create-pinned-vm", .verdict = HOLDS, .after = HOLDS },
	{ "boot, 6.12 kvm built in with eval=0: pinned VM", BOOT, K612, B, L, 0, "e1", 0,
	  .actions = "create-pinned-vm", .verdict = HOLDS, .after = HOLDS },
	{ "boot, 6.12 kvm built in with eval=0, vendor modular unloaded", BOOT, K612, B, U, 0, "e1", 0,
	  .actions = "load-vendor create-pinned-vm", .verdict = HOLDS, .after = HOLDS },
	{ "boot, 6.1 vendor loaded, no pinned VM", BOOT, K61, L, L, 0, "", 0,
	  .actions = "create-pinned-vm", .verdict = HOLDS, .after = HOLDS },
	{ "boot, 6.1 steady state (pinned VM)", BOOT, K61, L, L, 0, "", 0, .pinned = true,
	  .actions = "", .verdict = HOLDS, .after = HOLDS },
	{ "boot, 6.1 steady state with 2 VMs", BOOT, K61, L, L, 0, "", 2, .pinned = true,
	  .actions = "", .verdict = HOLDS, .after = HOLDS },
	{ "boot, 6.1 nothing loaded", BOOT, K61, U, U, 0, "", 0,
	  .actions = "load-kvm load-vendor create-pinned-vm", .verdict = HOLDS, .after = HOLDS },
	{ "boot, 6.1 after never: drop-in blocks the vendor", BOOT, K61, L, U, 0, "block", 0,
	  .actions = "remove-dropin load-vendor create-pinned-vm", .verdict = HOLDS, .after = HOLDS },
	{ "boot, 6.1 KVM built in", BOOT, K61, B, B, 0, "", 0,
	  .actions = "create-pinned-vm", .verdict = HOLDS, .after = HOLDS },
	{ "boot, SVM host", BOOT, K612, U, U, 0, "", 0, .cpus = CPUS_SVM,
	  .actions = "dropin:e1 load-kvm:e1 load-vendor create-pinned-vm", .verdict = HOLDS, .after = HOLDS },
	{ "boot, CPU 3 offline", BOOT, K612, L, L, 1, "e1", 0, .cpus = CPUS_OFFLINE, .pinned = true,
	  .actions = "", .verdict = HOLDS, .after = HOLDS },
	{ "boot, TDX on", BOOT, K612, L, L, 1, "e1", 0, .tdx = true, .pinned = true,
	  .actions = "", .verdict = HOLDS, .after = HOLDS },
	{ "boot, firmware disabled on CPU 2", BOOT, K612, U, U, 0, "e1", 0, .cpus = CPUS_FW_OFF,
	  .actions = "", .verdict = CANNOT, .reason = "disabled by the firmware on CPU 2", .after = CANNOT },
	{ "boot, no VMX/SVM", BOOT, K612, U, U, 0, "e1", 0, .cpus = CPUS_NO_FEATURE,
	  .actions = "", .verdict = CANNOT, .reason = "no online CPU supports VMX or SVM", .after = CANNOT },
	{ "boot, vendor module not built", BOOT, K612, M, M, 0, "", 0,
	  .actions = "dropin:e1", .verdict = CANNOT, .reason = "kvm_intel is not built", .after = CANNOT },
	{ "boot, unknown hypervisor holds CPUs 0, 1", BOOT, K612, U, U, 0, "e1", 0, .cpus = CPUS_FOREIGN,
	  .actions = "", .verdict = CANNOT, .reason = "on CPU 0, 1 without virtd's lock", .after = CANNOT },
	{ "boot, no CPU state from virthw", BOOT, K612, L, L, 1, "e1", 0, .cpus = CPUS_NONE,
	  .actions = "", .verdict = CANNOT, .reason = "virthw", .after = CANNOT },

	/* --- first-vm ------------------------------------------------------------------- */
	{ "first-vm, 6.12 default (eval=1), no VMs: reload with eval=0", FVM, K612, L, L, 1, "", 0,
	  .actions = "dropin:e0 unload-vendor unload-kvm load-kvm:e0 load-vendor", .verdict = HOLDS, .after = HOLDS },
	{ "first-vm, 6.12 eval=1, 2 VMs: pending", FVM, K612, L, L, 1, "", 2,
	  .actions = "dropin:e0", .verdict = PENDING, .reason = "2 KVM VMs running (pids 1000, 1001)",
	  .after = PENDING },
	{ "first-vm, 6.12 eval=1, 1 VM: pending", FVM, K612, L, L, 1, "e0", 1,
	  .actions = "", .verdict = PENDING, .reason = "1 KVM VM running (pid 1000)", .after = PENDING },
	{ "first-vm, 6.12 steady state, no VMs", FVM, K612, L, L, 0, "e0", 0,
	  .actions = "", .verdict = HOLDS, .after = HOLDS },
	{ "first-vm, 6.12 steady state, 2 VMs", FVM, K612, L, L, 0, "e0", 2,
	  .actions = "", .verdict = HOLDS, .after = HOLDS },
	{ "first-vm, 6.12 nothing loaded", FVM, K612, U, U, 0, "", 0,
	  .actions = "dropin:e0 load-kvm:e0 load-vendor", .verdict = HOLDS, .after = HOLDS },
	{ "first-vm, 6.12 kvm loaded eval=1, vendor unloaded", FVM, K612, L, U, 1, "e1+block", 0,
	  .actions = "dropin:e0 unload-kvm load-kvm:e0 load-vendor", .verdict = HOLDS, .after = HOLDS },
	{ "first-vm, 6.12 from boot's pinned bridge", FVM, K612, L, L, 0, "e1", 0, .pinned = true,
	  .actions = "dropin:e0 release-pinned-vm", .verdict = HOLDS, .after = HOLDS },
	{ "first-vm, 6.12 kvm built in with eval=1", FVM, K612, B, L, 1, "e0", 0,
	  .actions = "", .verdict = CANNOT, .reason = "boot with kvm.enable_virt_at_load=0", .after = CANNOT },
	{ "first-vm, 6.12 kvm built in with eval=0", FVM, K612, B, B, 0, "e0", 1,
	  .actions = "", .verdict = HOLDS, .after = HOLDS },
	{ "first-vm, 6.1 steady state", FVM, K61, L, L, 0, "", 0,
	  .actions = "", .verdict = HOLDS, .after = HOLDS },
	{ "first-vm, 6.1 from boot (pinned VM)", FVM, K61, L, L, 0, "", 1, .pinned = true,
	  .actions = "release-pinned-vm", .verdict = HOLDS, .after = HOLDS },
	{ "first-vm, 6.1 vendor unloaded", FVM, K61, U, U, 0, "", 0,
	  .actions = "load-kvm load-vendor", .verdict = HOLDS, .after = HOLDS },
	{ "first-vm, 6.1 after never: unblock and load", FVM, K61, L, U, 0, "block", 0,
	  .actions = "remove-dropin load-vendor", .verdict = HOLDS, .after = HOLDS },
	{ "first-vm, 6.1 KVM built in", FVM, K61, B, B, 0, "", 0,
	  .actions = "", .verdict = HOLDS, .after = HOLDS },
	{ "first-vm, TDX on", FVM, K612, L, L, 0, "e0", 0, .tdx = true,
	  .actions = "", .verdict = CANNOT, .reason = "TDX", .after = CANNOT },
	{ "first-vm, firmware disabled on CPU 2", FVM, K61, U, U, 0, "", 0, .cpus = CPUS_FW_OFF,
	  .actions = "", .verdict = CANNOT, .reason = "VMX is disabled by the firmware on CPU 2", .after = CANNOT },
	{ "first-vm, no VMX/SVM", FVM, K61, U, U, 0, "", 0, .cpus = CPUS_NO_FEATURE,
	  .actions = "", .verdict = CANNOT, .reason = "no online CPU supports VMX or SVM", .after = CANNOT },
	{ "first-vm, unknown hypervisor holds CPUs 0, 1", FVM, K612, L, L, 0, "e0", 0, .cpus = CPUS_FOREIGN,
	  .actions = "", .verdict = CANNOT, .reason = "another hypervisor holds VMX on CPU 0, 1", .after = CANNOT },

	/* --- never ---------------------------------------------------------------------- */
	{ "never, 6.12 default, no VMs: unload and block", NEVER, K612, L, L, 1, "", 0,
	  .actions = "dropin:e0+block unload-vendor", .verdict = HOLDS, .after = HOLDS },
	{ "never, 6.12 2 VMs running: pending", NEVER, K612, L, L, 1, "", 2,
	  .actions = "dropin:e0+block", .verdict = PENDING, .reason = "2 KVM VMs running (pids 1000, 1001); KVM is unloaded",
	  .after = PENDING },
	{ "never, 6.12 steady state", NEVER, K612, L, U, 1, "e0+block", 0,
	  .actions = "", .verdict = HOLDS, .after = HOLDS },
	{ "never, 6.1 from boot (pinned VM)", NEVER, K61, L, L, 0, "", 0, .pinned = true,
	  .actions = "dropin:block release-pinned-vm unload-vendor", .verdict = HOLDS, .after = HOLDS },
	{ "never, 6.1 pinned VM and 1 VM", NEVER, K61, L, L, 0, "block", 1, .pinned = true,
	  .actions = "release-pinned-vm", .verdict = PENDING, .reason = "1 KVM VM running", .after = PENDING },
	{ "never, 6.1 steady state", NEVER, K61, U, U, 0, "block", 0,
	  .actions = "", .verdict = HOLDS, .after = HOLDS },
	{ "never, stale /dev/kvm static node", NEVER, K61, U, U, 0, "block", 0, .stale_dev_kvm = true,
	  .actions = "remove-dev-kvm", .verdict = HOLDS, .after = HOLDS },
	{ "never, KVM (vendor too) built in", NEVER, K61, B, B, 0, "", 0,
	  .actions = "dropin:block", .verdict = CANNOT, .reason = "kvm_intel is built into the kernel", .after = CANNOT },
	{ "never, kvm built in, vendor modular", NEVER, K612, B, L, 1, "", 0,
	  .actions = "dropin:e0+block unload-vendor", .verdict = HOLDS, .after = HOLDS },
	{ "never, KVM not built at all", NEVER, K61, M, M, 0, "block", 0,
	  .actions = "", .verdict = HOLDS, .after = HOLDS },
	{ "never, firmware disabled on CPU 2", NEVER, K61, U, U, 0, "block", 0, .cpus = CPUS_FW_OFF,
	  .actions = "", .verdict = HOLDS, .after = HOLDS },
	{ "never, no VMX/SVM", NEVER, K61, U, U, 0, "block", 0, .cpus = CPUS_NO_FEATURE,
	  .actions = "", .verdict = HOLDS, .after = HOLDS },
	{ "never, unknown hypervisor holds CPUs 0, 1", NEVER, K612, L, U, 0, "e0+block", 0, .cpus = CPUS_FOREIGN,
	  .actions = "", .verdict = CANNOT, .reason = "neither KVM nor a lock holder owns it", .after = CANNOT },
	{ "never, unknown hypervisor, KVM still loaded", NEVER, K612, L, L, 0, "e0+block", 0, .cpus = CPUS_FOREIGN,
	  .actions = "unload-vendor", .verdict = HOLDS, .after = CANNOT },
	{ "never, TDX on", NEVER, K612, L, L, 1, "e0+block", 0, .tdx = true,
	  .actions = "", .verdict = CANNOT, .reason = "TDX", .after = CANNOT },

	/* --- foreign lock --------------------------------------------------------------- */
	{ "lock waiting, boot, 6.12, no VMs: KVM out", BOOT, K612, L, L, 1, "e1", 0, .waiting = 1,
	  .actions = "dropin:e1+block unload-vendor", .verdict = HOLDS, .after = HOLDS, .grantable_after = true },
	{ "lock waiting, boot, 6.12, 2 VMs: pending", BOOT, K612, L, L, 1, "e1", 2, .waiting = 1,
	  .actions = "dropin:e1+block", .verdict = PENDING, .reason = "2 KVM VMs running (pids 1000, 1001); the lock",
	  .after = PENDING },
	{ "lock waiting, boot, 6.1, pinned VM", BOOT, K61, L, L, 0, "", 0, .pinned = true, .waiting = 1,
	  .actions = "dropin:block release-pinned-vm unload-vendor", .verdict = HOLDS, .after = HOLDS,
	  .grantable_after = true },
	{ "lock held, first-vm, steady: foreign CPUs on is theirs", FVM, K612, L, U, 0, "e0+block", 0,
	  .cpus = CPUS_FOREIGN, .held = 1,
	  .actions = "", .verdict = HOLDS, .after = HOLDS, .grantable_after = true },
	{ "lock held and another waiting, never", NEVER, K61, L, U, 0, "block", 0, .held = 1, .waiting = 1,
	  .actions = "", .verdict = HOLDS, .after = HOLDS, .grantable_after = true },
	{ "lock held, KVM built in", FVM, K61, B, B, 0, "block", 0, .held = 1,
	  .actions = "", .verdict = CANNOT, .reason = "built into the kernel", .after = CANNOT },
	{ "lock waiting, unknown hypervisor already on", FVM, K612, L, U, 0, "e0+block", 0, .cpus = CPUS_FOREIGN,
	  .waiting = 1,
	  .actions = "", .verdict = CANNOT, .reason = "another hypervisor runs without virtd's lock", .after = CANNOT },
	{ "lock gone, first-vm, 6.12: KVM back with eval=0", FVM, K612, L, U, 0, "e0+block", 0,
	  .actions = "dropin:e0 load-vendor", .verdict = HOLDS, .after = HOLDS },
	{ "lock gone, boot, 6.12: KVM back with eval=1", BOOT, K612, L, U, 0, "e1+block", 0,
	  .actions = "dropin:e1 unload-kvm load-kvm:e1 load-vendor create-pinned-vm", .verdict = HOLDS, .after = HOLDS },
};

static void run_row(const struct row *r, const struct config *base)
{
	struct config cfg = *base;
	struct observed_cpu cpus[NCPU];
	bool foreign[NCPU];
	struct observed obs;
	struct lock_holders locks = { .n_held = r->held, .n_waiting = r->waiting };
	struct actions a, again;
	struct policy_check chk;
	char got[256], again_s[256];
	int fail;

	cfg.policy = r->policy;
	build(r, &obs, cpus, foreign);

	CHECK(policy_decide(&cfg, &obs, &locks, &a) == 0, "%s: decides", r->name);
	format_actions(&a, got, sizeof(got));
	CHECK_STR(got, r->actions, "%s: actions", r->name);
	CHECK(a.verdict == r->verdict, "%s: verdict %s (got %s: %s)", r->name, policy_verdict_to_string(r->verdict),
	      policy_verdict_to_string(a.verdict), a.reason);
	if (r->reason)
		CHECK(strstr(a.reason, r->reason) != NULL, "%s: reason has \"%s\" (got \"%s\")", r->name, r->reason,
		      a.reason);
	else
		CHECK(a.reason[0] == '\0' || a.verdict != HOLDS, "%s: no reason when it holds", r->name);

	fail = simulate(&a, &obs, cpus, foreign);
	CHECK(fail < 0, "%s: the kernel accepts every action (refused #%d)", r->name, fail);

	CHECK(policy_decide(&cfg, &obs, &locks, &again) == 0, "%s: decides again", r->name);
	format_actions(&again, again_s, sizeof(again_s));
	CHECK_STR(again_s, "", "%s: idempotent, nothing left to do", r->name);
	CHECK(again.verdict == r->after, "%s: then verdict %s (got %s: %s)", r->name,
	      policy_verdict_to_string(r->after), policy_verdict_to_string(again.verdict), again.reason);
	CHECK(again.lock_grantable == r->grantable_after, "%s: lock grantable %s", r->name,
	      r->grantable_after ? "yes" : "no");

	/* Verification agrees with the hardware whenever the engine is at rest. */
	if (again.verdict != CANNOT) {
		CHECK(policy_verify(&cfg, &obs, &locks, &chk) == 0 && chk.n_mismatched == 0,
		      "%s: verification passes (%s)", r->name, chk.message);
	}
	if (again.verdict == HOLDS)
		CHECK(promise_met(r->policy, &obs, &locks), "%s: the policy's promise is kept per CPU", r->name);
}

static void test_verify(const struct config *base)
{
	struct config cfg = *base;
	struct observed_cpu cpus[NCPU];
	bool foreign[NCPU];
	struct observed obs;
	struct policy_check chk;
	const struct row boot = { "v", BOOT, K612, L, L, 1, "e1", 0, .pinned = false };
	const struct row nev = { "v", NEVER, K612, L, U, 0, "e0+block", 0, .pinned = false };
	const struct row held = { "v", NEVER, K612, L, U, 0, "e0+block", 0, .held = 1 };
	struct lock_holders none = {}, one = { .n_held = 1 };

	cfg.policy = VIRT_POLICY_BOOT;
	build(&boot, &obs, cpus, foreign);
	cpus[1].virt_on = false;
	cpus[3].virt_on = false;
	CHECK(policy_verify(&cfg, &obs, &none, &chk) == -EIO, "verify: boot with CPUs 1, 3 off fails");
	CHECK(chk.n_checked == 4 && chk.n_mismatched == 2, "verify: 4 checked, 2 mismatched");
	CHECK(strstr(chk.message, "off on CPU 1, 3") != NULL, "verify: message names the CPUs (%s)", chk.message);

	cfg.policy = VIRT_POLICY_NEVER;
	build(&nev, &obs, cpus, foreign);
	cpus[2].virt_on = true;
	CHECK(policy_verify(&cfg, &obs, &none, &chk) == -EIO, "verify: never with CPU 2 on fails");
	CHECK(strstr(chk.message, "on on CPU 2") != NULL, "verify: message names CPU 2 (%s)", chk.message);
	CHECK(policy_cpu_expect(&cfg, &obs, &none, &cpus[2]) == CPU_EXPECT_OFF, "verify: never expects off");

	build(&held, &obs, cpus, foreign);
	cpus[2].virt_on = true;
	CHECK(policy_verify(&cfg, &obs, &one, &chk) == 0, "verify: a lock holder may have CPU 2 on");
	CHECK(policy_cpu_expect(&cfg, &obs, &one, &cpus[2]) == CPU_EXPECT_ANY, "verify: lock held expects any");

	cpus[3].online = false;
	CHECK(policy_cpu_expect(&cfg, &obs, &one, &cpus[3]) == CPU_EXPECT_SKIP, "verify: offline CPU skipped");
	CHECK(policy_verify(&cfg, &obs, &one, &chk) == 0 && chk.n_checked == 3, "verify: 3 online CPUs checked");

	CHECK(policy_verify(NULL, &obs, &one, &chk) == -EINVAL, "verify: NULL config is -EINVAL");
	CHECK(policy_decide(&cfg, NULL, &one, &(struct actions) {}) == -EINVAL, "decide: NULL state is -EINVAL");
}

static void test_pids(const struct config *base)
{
	struct config cfg = *base;
	struct observed_cpu cpus[NCPU];
	bool foreign[NCPU];
	struct observed obs;
	struct actions a;
	const struct row r = { "p", FVM, K612, L, L, 1, "e0", 12, .pinned = false };

	build(&r, &obs, cpus, foreign);
	CHECK(policy_decide(&cfg, &obs, NULL, &a) == 0 && a.verdict == PENDING, "pids: 12 VMs pending");
	CHECK(strstr(a.reason, "12 KVM VMs running (pids 1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, ...)") != NULL,
	      "pids: the first 8 pids and an ellipsis (%s)", a.reason);
	obs.vm_pids[0] = 0;
	obs.n_vms = 1;
	CHECK(policy_decide(&cfg, &obs, NULL, &a) == 0 && strstr(a.reason, "1 KVM VM running;") != NULL,
	      "pids: an unknown pid is left out (%s)", a.reason);
	CHECK(a.vendor_module && strcmp(a.vendor_module, "kvm_intel") == 0, "vendor module on VMX is kvm_intel");
}

/*
 * Every consistent state × policy × locks: the engine's actions are accepted by
 * the simulated kernel, and the state after them asks for no more.
 */
static void test_exhaustive(const struct config *base)
{
	static const enum module_state states[] = { MODULE_MISSING, MODULE_UNLOADED, MODULE_LOADED, MODULE_BUILTIN };
	static const char *const dropins[] = { "", "e0", "e1", "block", "e0+block", "e1+block" };
	unsigned n = 0, n_bad = 0, n_unconverged = 0, n_unverified = 0, n_broken = 0;

	for (int p = 0; p < _VIRT_POLICY_MAX; p++)
	for (int k = 0; k < 2; k++)
	for (size_t kv = 0; kv < 4; kv++)
	for (size_t vd = 0; vd < 4; vd++)
	for (int ev = 0; ev < 2; ev++)
	for (size_t d = 0; d < ELEMENTSOF(dropins); d++)
	for (unsigned vms = 0; vms < 3; vms++)
	for (int pin = 0; pin < 2; pin++)
	for (unsigned held = 0; held < 2; held++)
	for (unsigned waiting = 0; waiting < 2; waiting++)
	for (int tdx = 0; tdx < 2; tdx++)
	for (int ck = 0; ck < _CPUS_KIND_MAX; ck++) {
		struct row r = {
			.name = "x", .policy = (enum virt_policy)p, .k612 = k, .kvm = states[kv], .vendor = states[vd],
			.eval = ev, .dropin = dropins[d], .n_vms = vms, .pinned = pin, .tdx = tdx,
			.held = held, .waiting = waiting, .cpus = (enum cpus_kind)ck,
		};
		struct config cfg = *base;
		struct lock_holders locks = { .n_held = held, .n_waiting = waiting };
		struct observed_cpu cpus[NCPU];
		bool foreign[NCPU];
		struct observed obs;
		struct actions a, again;
		struct policy_check chk;

		/* States the kernel cannot be in. */
		if ((r.vendor == L || r.vendor == B) && !(r.kvm == L || r.kvm == B))
			continue;
		if (r.vendor == B && r.kvm != B)
			continue;
		if ((vms > 0 || pin) && !(r.vendor == L || r.vendor == B))
			continue;
		if ((r.kvm == M) != (r.vendor == M))
			continue;
		if (held > 0 && (vms > 0 || pin || r.vendor == L))
			continue;
		if ((ck == CPUS_NO_FEATURE || ck == CPUS_FW_OFF) && r.vendor == L)
			continue;
		if (!k && ev)
			continue;

		cfg.policy = r.policy;
		build(&r, &obs, cpus, foreign);
		n++;
		if (policy_decide(&cfg, &obs, &locks, &a) < 0 || simulate(&a, &obs, cpus, foreign) >= 0) {
			if (n_bad++ < 5) {
				char s[256];

				format_actions(&a, s, sizeof(s));
				printf("# refused: policy %d k612 %d kvm %d vendor %d eval %d dropin '%s' vms %u pin %d "
				       "held %u waiting %u tdx %d cpus %d: %s\n", p, k, r.kvm, r.vendor, ev, dropins[d],
				       vms, pin, held, waiting, tdx, ck, s);
			}
			continue;
		}
		if (policy_decide(&cfg, &obs, &locks, &again) < 0 || again.n != 0) {
			if (n_unconverged++ < 5) {
				char s[256];

				format_actions(&again, s, sizeof(s));
				printf("# unconverged: policy %d k612 %d kvm %d vendor %d eval %d dropin '%s' vms %u pin %d "
				       "held %u waiting %u tdx %d cpus %d: then %s\n", p, k, r.kvm, r.vendor, ev,
				       dropins[d], vms, pin, held, waiting, tdx, ck, s);
			}
			continue;
		}
		if (again.verdict == HOLDS && policy_verify(&cfg, &obs, &locks, &chk) != 0)
			n_unverified++;
		if (again.verdict == HOLDS && !promise_met(r.policy, &obs, &locks)) {
			if (n_broken++ < 5)
				printf("# holds but promise broken: policy %d k612 %d kvm %d vendor %d eval %d dropin '%s' "
				       "vms %u pin %d held %u waiting %u tdx %d cpus %d\n", p, k, r.kvm, r.vendor, ev,
				       dropins[d], vms, pin, held, waiting, tdx, ck);
		}
	}
	CHECK(n > 1000, "exhaustive: %u consistent states", n);
	CHECK(n_bad == 0, "exhaustive: every action list is accepted by the simulated kernel (%u refused)", n_bad);
	CHECK(n_unconverged == 0, "exhaustive: one round of actions converges (%u did not)", n_unconverged);
	CHECK(n_unverified == 0, "exhaustive: a holding state passes per-CPU verification (%u did not)", n_unverified);
	CHECK(n_broken == 0, "exhaustive: a holding state keeps the policy's promise on every CPU (%u did not)", n_broken);
}

/* kvm_intel's preemption_timer= follows the timer decision: drop-in line, reload only without VMs. */
static void kinds(const struct actions *a, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < a->n && o < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? " " : "", action_kind_to_string(a->list[i].kind));
}

static void test_preemption_timer(const struct config *base)
{
	struct observed_cpu cpus[2] = {
		{ .id = 0, .online = true, .feature = VIRT_FEATURE_VMX, .fw_enabled = true, .virt_on = false },
		{ .id = 1, .online = true, .feature = VIRT_FEATURE_VMX, .fw_enabled = true, .virt_on = false },
	};
	struct observed obs = {
		.kvm = MODULE_LOADED, .vendor = MODULE_LOADED, .cpus = cpus, .n_cpus = 2,
		.dropin = { .exists = true, .enable_virt_at_load = -1, .has_preemption_timer = true },
		.has_want_preemption_timer = true, .want_preemption_timer = false,
		.has_preemption_timer = true, .preemption_timer = true,
	};
	struct config cfg = *base;
	struct actions a;
	char buf[256];

	/* first-vm on 6.1, kvm_intel loaded with Y, the decision says N, no VMs: reload the vendor module. */
	CHECK(policy_decide(&cfg, &obs, NULL, &a) == 0, "timer: decides");
	kinds(&a, buf, sizeof(buf));
	CHECK_STR(buf, "unload-vendor load-vendor", "timer: Y loaded, N wanted, no VMs: kvm_intel reloaded");
	CHECK(a.verdict == POLICY_HOLDS, "timer: the policy itself holds");

	/* The drop-in lacks the line: written first, so the load reads it. */
	obs.dropin = (struct policy_dropin) { .enable_virt_at_load = -1 };
	(void)policy_decide(&cfg, &obs, NULL, &a);
	kinds(&a, buf, sizeof(buf));
	CHECK_STR(buf, "write-dropin unload-vendor load-vendor", "timer: drop-in first, then the reload");
	CHECK(a.n > 0 && a.list[0].dropin.has_preemption_timer && !a.list[0].dropin.preemption_timer,
	      "timer: the drop-in says preemption_timer=N");

	/* VMs running: only the drop-in; the change waits. */
	obs.n_vms = 1;
	obs.vm_pids[0] = 812;
	cpus[0].virt_on = cpus[1].virt_on = true;
	(void)policy_decide(&cfg, &obs, NULL, &a);
	kinds(&a, buf, sizeof(buf));
	CHECK_STR(buf, "write-dropin", "timer: with a VM only the drop-in changes");
	CHECK(a.verdict == POLICY_HOLDS, "timer: a pending timer change does not make the policy pending");
	obs.n_vms = 0;
	cpus[0].virt_on = cpus[1].virt_on = false;
	obs.dropin = (struct policy_dropin) { .exists = true, .enable_virt_at_load = -1, .has_preemption_timer = true };

	/* boot without the parameter: the pinned VM is released, the reload done, the VM made again next round. */
	cfg.policy = VIRT_POLICY_BOOT;
	obs.pinned_vm = true;
	cpus[0].virt_on = cpus[1].virt_on = true;
	(void)policy_decide(&cfg, &obs, NULL, &a);
	kinds(&a, buf, sizeof(buf));
	CHECK_STR(buf, "release-pinned-vm unload-vendor load-vendor", "timer: boot: pinned VM dropped for the reload");
	obs.pinned_vm = false;
	obs.preemption_timer = false;
	cpus[0].virt_on = cpus[1].virt_on = false;
	(void)policy_decide(&cfg, &obs, NULL, &a);
	kinds(&a, buf, sizeof(buf));
	CHECK_STR(buf, "create-pinned-vm", "timer: boot: after the reload the VM is pinned again");
	cfg.policy = base->policy;

	/* Matching value: nothing. */
	(void)policy_decide(&cfg, &obs, NULL, &a);
	CHECK(a.n == 0, "timer: N loaded, N wanted: no actions");

	/* Built in: cannot be reloaded, no action. */
	obs.preemption_timer = true;
	obs.vendor = MODULE_BUILTIN;
	(void)policy_decide(&cfg, &obs, NULL, &a);
	kinds(&a, buf, sizeof(buf));
	CHECK_STR(buf, "", "timer: a built-in kvm_intel is never reloaded");
	obs.vendor = MODULE_LOADED;

	/* AMD: no kvm_intel line, no reload, whatever the fields say. */
	cpus[0].feature = cpus[1].feature = VIRT_FEATURE_SVM;
	obs.has_want_preemption_timer = false;
	obs.dropin = (struct policy_dropin) { .enable_virt_at_load = -1 };
	(void)policy_decide(&cfg, &obs, NULL, &a);
	CHECK(a.n == 0, "timer: SVM without a decision: no drop-in, no reload");
	obs.has_want_preemption_timer = true;
	obs.dropin = (struct policy_dropin) { .exists = true, .enable_virt_at_load = -1, .has_preemption_timer = true };
	(void)policy_decide(&cfg, &obs, NULL, &a);
	kinds(&a, buf, sizeof(buf));
	CHECK(strstr(buf, "unload-vendor") == NULL, "timer: never reloads kvm_amd for the timer (%s)", buf);
	cpus[0].feature = cpus[1].feature = VIRT_FEATURE_VMX;

	/* never: kvm_intel unloaded and blocked; the drop-in keeps the line for the return. */
	cfg.policy = VIRT_POLICY_NEVER;
	obs.vendor = MODULE_UNLOADED;
	obs.has_preemption_timer = false;
	obs.dropin = (struct policy_dropin) { .exists = true, .enable_virt_at_load = -1, .block_vendor = true };
	(void)policy_decide(&cfg, &obs, NULL, &a);
	kinds(&a, buf, sizeof(buf));
	CHECK_STR(buf, "write-dropin", "timer: never: the drop-in gains the line");
	CHECK(a.n == 1 && a.list[0].dropin.block_vendor && a.list[0].dropin.has_preemption_timer,
	      "timer: never: blocked, with preemption_timer=N for the next load");
}

/* Shared mode: a holder whose hypervisor runs inside KVM suspends nothing; never refuses it. */
static void test_shared(const struct config *base)
{
	static const struct {
		enum virt_policy policy;
		const char *name;
		enum hv_mode mode;
		enum lock_grant want;
	} table[] = {
		{ BOOT, "virtualbox", HV_MODE_SHARED, LOCK_GRANT_SHARED },
		{ FVM, "virtualbox", HV_MODE_SHARED, LOCK_GRANT_SHARED },
		{ NEVER, "virtualbox", HV_MODE_SHARED, LOCK_GRANT_REFUSED },
		{ BOOT, "virtualbox", HV_MODE_EXCLUSIVE, LOCK_GRANT_EXCLUSIVE },
		{ NEVER, "vmware", HV_MODE_EXCLUSIVE, LOCK_GRANT_EXCLUSIVE },
		{ BOOT, NULL, HV_MODE_SHARED, LOCK_GRANT_EXCLUSIVE },
	};
	struct config cfg = *base;
	struct observed_cpu cpus[NCPU];
	bool foreign[NCPU];
	struct observed obs;
	struct actions none, shared, held;
	struct lock_holders h_shared = { .n_shared = 1 }, h_held = { .n_held = 1 };
	const struct row r = { "s", BOOT, K612, L, L, 1, "e1", 0, .pinned = true };
	char reason[400];

	for (size_t i = 0; i < ELEMENTSOF(table); i++) {
		enum lock_grant g;

		cfg.policy = table[i].policy;
		memset(reason, 'x', sizeof(reason));
		g = policy_lock_grant(&cfg, table[i].name, table[i].mode, reason, sizeof(reason));
		CHECK(g == table[i].want && (g == LOCK_GRANT_REFUSED) == (reason[0] != '\0'),
		      "lock grant: %s, %s in %s mode: %d (%s)", virt_policy_to_string(table[i].policy),
		      table[i].name ?: "no profile", hv_mode_to_string(table[i].mode), g, reason);
	}
	cfg.policy = NEVER;
	(void)policy_lock_grant(&cfg, "virtualbox", HV_MODE_SHARED, reason, sizeof(reason));
	CHECK(strstr(reason, "virtualbox runs inside KVM (shared mode), and policy never keeps KVM unloaded") &&
	      strstr(reason, "Mode.virtualbox=exclusive in [Hypervisor] of virtd.conf"),
	      "never: the refusal says why and what to change (%s)", reason);

	/* Under boot, steady: a shared holder changes nothing, an exclusive one unloads KVM. */
	cfg.policy = BOOT;
	build(&r, &obs, cpus, foreign);
	CHECK(policy_decide(&cfg, &obs, NULL, &none) == 0 && policy_decide(&cfg, &obs, &h_shared, &shared) == 0 &&
	      policy_decide(&cfg, &obs, &h_held, &held) == 0, "shared: decisions made");
	CHECK(shared.n == none.n && shared.verdict == none.verdict && !shared.lock_grantable && none.n == 0,
	      "shared: a shared holder leaves boot's steady state alone (%zu actions)", shared.n);
	CHECK(held.n > 0, "shared: an exclusive holder does not (%zu actions)", held.n);
	for (size_t i = 0; i < obs.n_cpus; i++)
		CHECK(policy_cpu_expect(&cfg, &obs, &h_shared, &obs.cpus[i]) == policy_cpu_expect(&cfg, &obs, NULL, &obs.cpus[i]),
		      "shared: cpu %zu expected as without a holder", i);
}

int main(void)
{
	struct config base;

	config_init_defaults(&base);
	for (size_t i = 0; i < ELEMENTSOF(rows); i++)
		run_row(&rows[i], &base);
	test_verify(&base);
	test_pids(&base);
	test_exhaustive(&base);
	test_preemption_timer(&base);
	test_shared(&base);

	CHECK(strcmp(action_kind_to_string(ACTION_CREATE_PINNED_VM), "create-pinned-vm") == 0, "action names");
	CHECK(action_kind_to_string(_ACTION_KIND_MAX) == NULL, "no name past the last action");
	return tests_finish();
}
