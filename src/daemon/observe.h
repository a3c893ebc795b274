/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* observe.h: the host's KVM state read from the kernel (sysfs, /proc, /dev, virthw, the module helper) as struct observed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hw-client.h"
#include "policy.h"
#include "profiles.h"

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
	/*
	 * "" for KVM's own VMs; else the profile whose shared-mode hypervisor
	 * made them (its process holding its device open) and the VM's name:
	 * not KVM VMs to the policy, not in n_vms.
	 */
	char hv[PROFILE_NAME_MAX + 1];
	char name[64];
};

/*
 * A VM that a process made through a driver, inside the kernel, keeping no
 * descriptor of it in any process (VirtualBox's vboxdrv on Intel from 6.16,
 * SUPDrv-linux.c supdrvOSEnableHwvirtForVm()): no /proc scan sees it, so it
 * is known from KVM's create uevent, whose PID= names the creating thread.
 */
struct hv_made_vm {
	pid_t tid;		/* the uevent's PID=: the thread that made it; its destroy uevent names the same */
	pid_t pid;		/* that thread's process */
	uint64_t start;		/* the process's start time (/proc/PID/stat field 22), against a reused PID */
};

/* Which profiles' processes make VMs of their own inside KVM: those whose chosen mode is shared. */
struct hv_vm_match {
	const struct hv_profiles *profiles;	/* NULL: none, every VM is KVM's */
	bool shared[PROFILES_MAX];		/* per profiles->p[i] */
	const struct hv_made_vm *made;		/* VMs without a descriptor, counted for their processes */
	size_t n_made;
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
	size_t n_vm_owners;		/* KVM's and the hypervisors' (vm_owner.hv) */
	unsigned n_hv_vms;		/* the hypervisors' VMs, not in obs.n_vms */
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
	/* NULL: no hypervisor's VMs told apart; else with CFG's modes and the kernel RELEASE (NULL: uname()'s). */
	const struct hv_profiles *profiles;
	const struct config *cfg;
	const char *release;
	/* The VMs made without a descriptor (struct hv_made_vm), known to the caller from KVM's uevents. */
	const struct hv_made_vm *made;
	size_t n_made;
};

/* Reads everything anew.  Returns 0, or -ENOMEM; what cannot be read is reported in the result, not as failure. */
int observe(const struct observe_sources *src, struct kvm_observation *ret);

/* --- the parts, exported for the unit tests --------------------------------- */

/* A /proc/PID/fd/N link target that is a KVM VM. */
bool fd_link_is_kvm_vm(const char *target);

/*
 * Scans ROOT/proc/[0-9]*\/fd for VM file descriptors, skipping SELF.  With
 * HM, a holder that is a shared-mode profile's process holding one of its
 * device nodes open gets vm_owner.hv and .name, and its VMs are not in
 * *RET_TOTAL (HM NULL: all are KVM's).  HM's made VMs whose process still
 * runs (same start time) count for it as well, as one VM each.
 */
int scan_vms(const char *root, pid_t self, const struct hv_vm_match *hm, struct vm_owner **ret, size_t *ret_n,
	     unsigned *ret_total);
void vm_owners_free(struct vm_owner *v, size_t n);
/*
 * "N KVM VMs running: pid P (cmdline), ..." for N VMs and the KVM owners of
 * V[0 .. n - 1], then "; HV VMs run inside KVM: NAME (pid P), ..." for the
 * hypervisors' (N 0 and none of those: "0 KVM VMs running"), cut to SIZE.
 */
void vm_owners_describe(unsigned n_vms, const struct vm_owner *v, size_t n, char *buf, size_t size);
/* Whether VMs (KVM's or a shared hypervisor's) run now, SELF's not counted: if so, true and their description. */
bool vms_running(const char *root, pid_t self, const struct hv_vm_match *hm, char *buf, size_t size);

/*
 * Whether PID is a process of a shared-mode profile of HM (its comm or exe's
 * base name in the profile's Processes=) holding one of the profile's
 * Devices= open: its index, and the VM's name in NAME (the argument after
 * --comment or --startvm, else the comm); -1 when not.
 */
int vm_holder_hypervisor(const char *root, pid_t pid, const struct hv_vm_match *hm, char *name, size_t size);

/* How many KVM VM descriptors ROOT/proc/PID/fd holds (0 when PID is gone or unreadable). */
unsigned proc_count_vm_fds(const char *root, pid_t pid);
/* ROOT/proc/PID/stat's start time (field 22), 0 when PID is gone or unreadable. */
uint64_t proc_start_time(const char *root, pid_t pid);
/* The process (Tgid:) of thread TID, from ROOT/proc/TID/status; -errno when it is gone. */
pid_t proc_tgid(const char *root, pid_t tid);

/* /proc/PID/cmdline's NUL-separated arguments joined by blanks, with control characters replaced. */
char *cmdline_from_buf(const char *buf, size_t len);

/*
 * MODULE_LOADED when ROOT/sys/module/NAME/initstate exists, MODULE_BUILTIN when
 * only ROOT/sys/module/NAME does (built-in modules have no initstate), and
 * -ENOENT when neither: the caller asks the module helper whether it can be loaded.
 */
int module_sysfs_state(const char *root, const char *name);

const char *module_state_to_string(enum module_state s);
