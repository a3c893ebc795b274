/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* policy.h: the pure policy engine: (config, observed state, lock holders) → actions, verdict. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"

/* Same values as enum virthw_feature in the uapi header. */
enum virt_feature {
	VIRT_FEATURE_NONE,
	VIRT_FEATURE_VMX,
	VIRT_FEATURE_SVM,
};

enum module_state {
	MODULE_MISSING,		/* not built for this kernel at all */
	MODULE_UNLOADED,	/* a loadable module, not loaded now */
	MODULE_LOADED,
	MODULE_BUILTIN,		/* part of the kernel image: never unloads */
};

/* One CPU as virthw reported it; the rest is meaningful only when online. */
struct observed_cpu {
	unsigned id;
	bool online;
	enum virt_feature feature;
	bool fw_enabled;
	bool virt_on;
};

/*
 * virtd's runtime modprobe drop-in (/run/modprobe.d/), as virtd wrote it or
 * wants it.  It is what makes a load by anyone — virtd, udev's autoload, an
 * administrator's modprobe — agree with the policy.
 */
struct policy_dropin {
	bool exists;
	signed char enable_virt_at_load;	/* "options kvm enable_virt_at_load=": 0, 1, or -1 for no line */
	bool block_vendor;			/* "install" lines that make kvm_intel/kvm_amd unloadable */
	bool has_preemption_timer;		/* an "options kvm_intel preemption_timer=" line ... */
	bool preemption_timer;			/* ... and its value */
};

#define POLICY_MAX_PIDS 8

struct observed {
	enum module_state kvm;
	enum module_state vendor;	/* kvm_intel or kvm_amd, whichever matches the CPUs */
	bool has_enable_virt_at_load;	/* this kernel's kvm has the parameter (6.12+) */
	bool enable_virt_at_load;	/* its value, when kvm is loaded or built in */
	struct policy_dropin dropin;
	bool dev_kvm;			/* /dev/kvm exists (possibly a stale static node) */
	unsigned n_vms;			/* KVM VMs, virtd's pinned VM not counted */
	pid_t vm_pids[POLICY_MAX_PIDS];	/* creators of the first min(n_vms, POLICY_MAX_PIDS) VMs, 0: unknown */
	bool pinned_vm;			/* virtd holds its own VM (boot) */
	bool tdx_active;		/* the kernel's TDX host support keeps VMX on on every CPU */
	const struct observed_cpu *cpus;
	size_t n_cpus;
	/*
	 * kvm_intel's preemption_timer= (VMX only): what the timer decision
	 * (timer.h) wants, and the loaded module's value.  A mismatch reloads
	 * kvm_intel while no VM exists.
	 */
	bool has_want_preemption_timer;
	bool want_preemption_timer;
	bool has_preemption_timer;		/* kvm_intel is loaded and its parameter readable */
	bool preemption_timer;
};

struct lock_holders {
	unsigned n_held;		/* granted foreign-hypervisor locks (exclusive mode: KVM out) */
	unsigned n_shared;		/* granted in shared mode: the hypervisor runs inside KVM, nothing suspended */
	unsigned n_waiting;		/* requests waiting for KVM to get out of the way */
};

/* Listed in the order they are applied; see policy_decide(). */
enum action_kind {
	ACTION_WRITE_DROPIN,		/* write .dropin (replacing any previous one) */
	ACTION_REMOVE_DROPIN,
	ACTION_RELEASE_PINNED_VM,
	ACTION_UNLOAD_VENDOR,
	ACTION_UNLOAD_KVM,
	ACTION_LOAD_KVM,		/* with .enable_virt_at_load as option unless -1 */
	ACTION_LOAD_VENDOR,
	ACTION_CREATE_PINNED_VM,
	ACTION_REMOVE_DEV_KVM,		/* a static node kmod left behind with KVM gone */
	_ACTION_KIND_MAX,
};

struct action {
	enum action_kind kind;
	struct policy_dropin dropin;		/* ACTION_WRITE_DROPIN */
	signed char enable_virt_at_load;	/* ACTION_LOAD_KVM */
};

enum policy_verdict {
	POLICY_HOLDS,		/* holds, or will once the actions are applied */
	POLICY_PENDING,		/* cannot be reached now (VMs running); reason says why */
	POLICY_CANNOT_HOLD,	/* this host or kernel cannot give it; reason says why */
};

#define POLICY_MAX_ACTIONS 12
#define POLICY_REASON_MAX 256

struct actions {
	struct action list[POLICY_MAX_ACTIONS];
	size_t n;
	enum policy_verdict verdict;
	char reason[POLICY_REASON_MAX];		/* empty when the verdict is POLICY_HOLDS */
	const char *vendor_module;		/* "kvm_intel", "kvm_amd", or NULL without VMX/SVM */
	bool lock_grantable;			/* KVM is out of the way: waiting locks may be granted */
};

/*
 * Level-triggered: the actions take the observed state to the one the policy
 * wants (or as far towards it as possible now), in order; applying them and
 * observing again yields no actions.  A failed action ends the list, and the
 * next reconcile derives the remainder from what is observed then.  Returns
 * 0, or -EINVAL on inputs that are not a state (NULL pointers).
 */
int policy_decide(const struct config *cfg, const struct observed *obs, const struct lock_holders *locks,
		  struct actions *out);

enum cpu_expect {
	CPU_EXPECT_SKIP,	/* offline: nothing can be read, nothing promised */
	CPU_EXPECT_ANY,		/* a foreign lock holder may or may not have it on */
	CPU_EXPECT_OFF,
	CPU_EXPECT_ON,
};

/*
 * What each CPU must show once the kernel is in the observed module state:
 * on while KVM holds it (enable_virt_at_load with the vendor module loaded,
 * a VM, virtd's pinned VM) or TDX does; off otherwise.  Together with a
 * POLICY_HOLDS verdict this is the policy's promise — boot: on everywhere;
 * first-vm: on exactly while VMs exist; never: off.
 */
enum cpu_expect policy_cpu_expect(const struct config *cfg, const struct observed *obs,
				  const struct lock_holders *locks, const struct observed_cpu *cpu);

struct policy_check {
	size_t n_checked;
	size_t n_mismatched;
	char message[POLICY_REASON_MAX];	/* names the mismatched CPUs, empty when all match */
};

/* Verification after a transition: 0 when every online CPU matches, else -EIO (details in *out). */
int policy_verify(const struct config *cfg, const struct observed *obs, const struct lock_holders *locks,
		  struct policy_check *out);

/* How a lock request is answered, from the mode of the requester's hypervisor profile (profiles.h). */
enum lock_grant {
	LOCK_GRANT_EXCLUSIVE,	/* as always: KVM out of the way first, then the lock */
	LOCK_GRANT_SHARED,	/* at once, KVM left as the policy has it */
	LOCK_GRANT_REFUSED,	/* a shared-mode hypervisor needs KVM, which policy never keeps out */
};

/*
 * The answer for a requester whose profile NAME (NULL: none) is in MODE
 * (HV_MODE_SHARED or HV_MODE_EXCLUSIVE) under CFG; for a refusal the
 * message, naming what to change, in REASON.
 */
enum lock_grant policy_lock_grant(const struct config *cfg, const char *name, enum hv_mode mode, char *reason,
				  size_t size);

const char *action_kind_to_string(enum action_kind k);
const char *policy_verdict_to_string(enum policy_verdict v);
