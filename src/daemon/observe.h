/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* observe.h: the host's KVM state read from the kernel (sysfs, /proc, /dev, virthw, the module helper) as struct observed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "hw-client.h"
#include "policy.h"

/* What modprobe would find for a module that is not loaded. */
struct module_file {
	bool available;			/* a module file for the running kernel */
	bool has_enable_virt_at_load;	/* it declares that parameter (kvm) */
};
typedef int (*module_file_fn)(void *userdata, const char *name, struct module_file *ret);

/* One process holding KVM VM file descriptors. */
struct vm_owner {
	pid_t pid;
	unsigned n_vms;
	char comm[32];
	char *cmdline;		/* arguments joined by blanks, possibly empty (kernel threads, zombies) */
};

struct module_param {
	char *name;		/* "kvm.enable_virt_at_load" */
	char *value;
};

struct kvm_observation {
	struct observed obs;		/* what the policy engine sees; obs.cpus points at cpus */
	struct observed_cpu *cpus;
	const char *vendor_module;	/* "kvm_intel", "kvm_amd", or NULL without VMX/SVM */
	struct vm_owner *vms;
	size_t n_vm_owners;
	struct module_param *params;
	size_t n_params;
	bool have_caps;
	struct virthw_caps caps;
	char hw_error[384];		/* why there is no per-CPU state, when there is none */
};

void kvm_observation_done(struct kvm_observation *o);

struct observe_sources {
	const char *root;		/* "" on a real host; a fake tree in tests */
	module_file_fn module_file;	/* NULL: modules not loaded count as missing/unknown */
	void *module_file_data;
	hw_client *hw;			/* NULL: no per-CPU state */
	const char *hw_error;		/* why hw is NULL, for the reason shown */
	pid_t self;			/* excluded from the VM scan: its VM is the pinned one */
	bool pinned_vm;
};

/* Reads everything anew.  Returns 0, or -ENOMEM; what cannot be read is reported in the result, not as failure. */
int observe(const struct observe_sources *src, struct kvm_observation *ret);

/* --- the parts, exported for the unit tests --------------------------------- */

/* A /proc/PID/fd/N link target that is a KVM VM. */
bool fd_link_is_kvm_vm(const char *target);

/* Scans ROOT/proc/[0-9]*\/fd for VM file descriptors, skipping SELF. */
int scan_vms(const char *root, pid_t self, struct vm_owner **ret, size_t *ret_n, unsigned *ret_total);
void vm_owners_free(struct vm_owner *v, size_t n);
/* "N KVM VMs running: pid P (cmdline), ..." for N VMs and the owners V[0 .. n - 1], cut to SIZE. */
void vm_owners_describe(unsigned n_vms, const struct vm_owner *v, size_t n, char *buf, size_t size);
/* Whether KVM VMs run now (SELF's not counted): if so, true and their description in BUF (a fresh /proc scan). */
bool vms_running(const char *root, pid_t self, char *buf, size_t size);

/* /proc/PID/cmdline's NUL-separated arguments joined by blanks, with control characters replaced. */
char *cmdline_from_buf(const char *buf, size_t len);

/*
 * MODULE_LOADED when ROOT/sys/module/NAME/initstate exists, MODULE_BUILTIN when
 * only ROOT/sys/module/NAME does (built-in modules have no initstate), and
 * -ENOENT when neither: the caller asks the module helper whether it can be loaded.
 */
int module_sysfs_state(const char *root, const char *name);

const char *module_state_to_string(enum module_state s);
