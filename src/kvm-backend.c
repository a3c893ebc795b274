/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kvm-backend.c: applies the policy engine's actions: the drop-in, modules via libkmod, the pinned VM, /dev/kvm. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <libkmod.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "dropin.h"
#include "kvm-backend.h"
#include "log.h"

struct kvm_backend {
	struct kmod_ctx *kmod;
	int pinned_fd;
};

int kvm_backend_new(kvm_backend **ret)
{
	kvm_backend *b = calloc(1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	b->pinned_fd = -1;
	*ret = b;
	return 0;
}

kvm_backend *kvm_backend_free(kvm_backend *b)
{
	if (!b)
		return NULL;
	kvm_backend_drop_kmod(b);
	/* The pinned VM ends with the daemon: see "what stop does" in virtd(8). */
	if (b->pinned_fd >= 0)
		close(b->pinned_fd);
	free(b);
	return NULL;
}

struct kmod_ctx *kvm_backend_kmod(kvm_backend *b)
{
	if (!b->kmod) {
		b->kmod = kmod_new(NULL, NULL);
		if (!b->kmod)
			return NULL;
		/* Errors here only make lookups slower (no index). */
		(void)kmod_load_resources(b->kmod);
	}
	return b->kmod;
}

void kvm_backend_drop_kmod(kvm_backend *b)
{
	if (b->kmod)
		kmod_unref(b->kmod);
	b->kmod = NULL;
}

bool kvm_backend_has_pinned_vm(const kvm_backend *b)
{
	return b->pinned_fd >= 0;
}

_printf_(3, 4)
static int fail(char *err, size_t size, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
	return -saved;
}

const char *module_load_error_hint(int r)
{
	switch (r) {
	case -ENOENT:
		return "not built for the running kernel: install it for this kernel (DKMS: dkms autoinstall)";
	case -EKEYREJECTED:
	case -ENOKEY:
	case -EKEYEXPIRED:
		return "the kernel refuses its signature (Secure Boot): sign it with an enrolled key "
		       "(DKMS signs with its MOK key; enroll it with mokutil --import and reboot)";
	case -EPERM:
		return "the kernel refuses to load modules (lockdown, Secure Boot with an unsigned module, "
		       "kernel.modules_disabled, or no CAP_SYS_MODULE)";
	case -ENOEXEC:
	case -EINVAL:
		return "it was built for another kernel or is damaged (invalid module format): rebuild it for the running kernel";
	case -EBUSY:
		return "the hardware is busy: another hypervisor holds VMX/SVM";
	case -EIO:
	case -ENODEV:
	case -EOPNOTSUPP:
		return "the CPU or the firmware does not allow it (see the kernel log)";
	}
	return NULL;
}

static inline void kmod_module_unref_listp(struct kmod_list **l)
{
	if (*l)
		kmod_module_unref_list(*l);
}

static inline void kmod_module_unrefp(struct kmod_module **m)
{
	if (*m)
		kmod_module_unref(*m);
}

int kvm_backend_load_module(kvm_backend *b, const char *name, const char *options, char *err, size_t err_size)
{
	_cleanup_(kmod_module_unref_listp) struct kmod_list *l = NULL;
	struct kmod_ctx *ctx = kvm_backend_kmod(b);
	struct kmod_module *mod;
	struct utsname u;
	const char *hint;
	int r;

	uname(&u);
	if (!ctx) {
		errno = ENOMEM;
		return fail(err, err_size, "Failed to load %s: cannot set up libkmod: %m", name);
	}
	r = kmod_module_new_from_lookup(ctx, name, &l);
	if (r < 0) {
		errno = -r;
		return fail(err, err_size, "Failed to look up module %s: %m", name);
	}
	if (!l) {
		errno = ENOENT;
		return fail(err, err_size, "Failed to load %s: not found in /lib/modules/%s: %s", name, u.release,
			    module_load_error_hint(-ENOENT));
	}
	mod = kmod_module_get_module(l);
	r = kmod_module_probe_insert_module(mod, KMOD_PROBE_IGNORE_COMMAND, options, NULL, NULL, NULL);
	kmod_module_unref(mod);
	if (r == 0 || r == -EEXIST)
		return 0;
	if (r > 0)
		r = -EPERM;	/* a blacklist verdict; not asked for, so not expected */
	hint = module_load_error_hint(r);
	errno = -r;
	return fail(err, err_size, "Failed to load %s%s%s: %m%s%s", name, options ? " with " : "", options ? options : "",
		    hint ? ": " : "", hint ? hint : "");
}

int kvm_backend_unload_module(kvm_backend *b, const char *name, char *err, size_t err_size)
{
	_cleanup_(kmod_module_unrefp) struct kmod_module *mod = NULL;
	struct kmod_ctx *ctx = kvm_backend_kmod(b);
	int r;

	if (!ctx) {
		errno = ENOMEM;
		return fail(err, err_size, "Failed to unload %s: cannot set up libkmod: %m", name);
	}
	r = kmod_module_new_from_name(ctx, name, &mod);
	if (r < 0) {
		errno = -r;
		return fail(err, err_size, "Failed to unload %s: %m", name);
	}
	r = kmod_module_remove_module(mod, 0);
	if (r == -ENOENT)
		return 0;	/* gone already */
	if (r == -EBUSY || r == -EAGAIN) {
		_cleanup_(kmod_module_unref_listp) struct kmod_list *holders = kmod_module_get_holders(mod);
		char names[128] = "";
		struct kmod_list *i;
		size_t o = 0;

		kmod_list_foreach(i, holders) {
			struct kmod_module *h = kmod_module_get_module(i);

			if (o < sizeof(names))
				o += (size_t)snprintf(names + o, sizeof(names) - o, "%s%s", o ? ", " : "",
						      kmod_module_get_name(h));
			kmod_module_unref(h);
		}
		errno = EBUSY;
		return fail(err, err_size, "Failed to unload %s: in use (use count %d%s%s)", name,
			    kmod_module_get_refcnt(mod), o ? ", used by " : "", names);
	}
	if (r < 0) {
		errno = -r;
		return fail(err, err_size, "Failed to unload %s: %m", name);
	}
	return 0;
}

static int write_dropin(const struct policy_dropin *d, const char *policy, char *err, size_t err_size)
{
	_cleanup_free_ char *text = dropin_render(d, policy);
	char tmp[] = DROPIN_DIR "/.virtd.conf.XXXXXX";
	_cleanup_close_ int fd = -1;
	size_t len, done = 0;

	if (!text) {
		errno = ENOMEM;
		return fail(err, err_size, "Failed to render %s: %m", DROPIN_PATH);
	}
	if (mkdir(DROPIN_DIR, 0755) < 0 && errno != EEXIST)
		return fail(err, err_size, "Failed to create %s: %m", DROPIN_DIR);
	/* A new file renamed over the old: modprobe never reads half of it.
	 * modprobe.d only reads *.conf, so the temporary name is ignored. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return fail(err, err_size, "Failed to create a temporary file in %s: %m", DROPIN_DIR);
	len = strlen(text);
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);

		if (n < 0) {
			int r = fail(err, err_size, "Failed to write %s: %m", tmp);

			unlink(tmp);
			return r;
		}
		done += (size_t)n;
	}
	if (fchmod(fd, 0644) < 0 || rename(tmp, DROPIN_PATH) < 0) {
		int r = fail(err, err_size, "Failed to install %s: %m", DROPIN_PATH);

		unlink(tmp);
		return r;
	}
	return 0;
}

static int create_pinned_vm(kvm_backend *b, char *err, size_t err_size)
{
	_cleanup_close_ int kfd = -1;
	int vm;

	if (b->pinned_fd >= 0)
		return 0;
	kfd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kfd < 0)
		return fail(err, err_size, "Failed to open /dev/kvm for virtd's pinned VM: %m");
	/* Type 0: the default VM type; no vCPUs, no memory: it only keeps KVM's users above zero. */
	vm = ioctl(kfd, KVM_CREATE_VM, 0UL);
	if (vm < 0)
		return fail(err, err_size, "Failed to create virtd's pinned VM (KVM_CREATE_VM): %m");
	b->pinned_fd = vm;
	return 0;
}

static int remove_dev_kvm(char *err, size_t err_size)
{
	struct stat st;

	if (lstat("/dev/kvm", &st) < 0)
		return errno == ENOENT ? 0 : fail(err, err_size, "Failed to stat /dev/kvm: %m");
	/* Only a device node: anything else is not ours to delete. */
	if (!S_ISCHR(st.st_mode)) {
		errno = EEXIST;
		return fail(err, err_size, "Refusing to remove /dev/kvm: not a character device");
	}
	if (unlink("/dev/kvm") < 0 && errno != ENOENT)
		return fail(err, err_size, "Failed to remove the stale node /dev/kvm: %m");
	return 0;
}

int kvm_backend_apply(kvm_backend *b, const struct action *a, const char *vendor, const char *policy,
		      char *err, size_t err_size)
{
	char opt[32];
	int r;

	err[0] = '\0';
	switch (a->kind) {
	case ACTION_WRITE_DROPIN:
		r = write_dropin(&a->dropin, policy, err, err_size);
		kvm_backend_drop_kmod(b);	/* the next load must read the new options */
		return r;
	case ACTION_REMOVE_DROPIN:
		kvm_backend_drop_kmod(b);
		if (unlink(DROPIN_PATH) < 0 && errno != ENOENT)
			return fail(err, err_size, "Failed to remove %s: %m", DROPIN_PATH);
		return 0;
	case ACTION_RELEASE_PINNED_VM:
		if (b->pinned_fd >= 0)
			close(b->pinned_fd);
		b->pinned_fd = -1;
		return 0;
	case ACTION_UNLOAD_VENDOR:
		if (!vendor)
			return 0;
		return kvm_backend_unload_module(b, vendor, err, err_size);
	case ACTION_UNLOAD_KVM:
		return kvm_backend_unload_module(b, "kvm", err, err_size);
	case ACTION_LOAD_KVM:
		if (a->enable_virt_at_load >= 0)
			snprintf(opt, sizeof(opt), "enable_virt_at_load=%d", a->enable_virt_at_load);
		return kvm_backend_load_module(b, "kvm", a->enable_virt_at_load >= 0 ? opt : NULL, err, err_size);
	case ACTION_LOAD_VENDOR:
		if (!vendor) {
			errno = ENODEV;
			return fail(err, err_size, "Failed to load KVM's vendor module: no CPU with VMX or SVM");
		}
		return kvm_backend_load_module(b, vendor, NULL, err, err_size);
	case ACTION_CREATE_PINNED_VM:
		return create_pinned_vm(b, err, err_size);
	case ACTION_REMOVE_DEV_KVM:
		return remove_dev_kvm(err, err_size);
	case _ACTION_KIND_MAX:
		break;
	}
	errno = EINVAL;
	return fail(err, err_size, "Unknown action %d", (int)a->kind);
}

void action_describe(const struct action *a, const char *vendor, char *buf, size_t size)
{
	const char *v = vendor ? vendor : "the vendor module";

	switch (a->kind) {
	case ACTION_WRITE_DROPIN:
		snprintf(buf, size, "write %s (%s%s%s)", DROPIN_PATH,
			 a->dropin.enable_virt_at_load < 0 ? "" :
			 a->dropin.enable_virt_at_load ? "kvm.enable_virt_at_load=1" : "kvm.enable_virt_at_load=0",
			 a->dropin.enable_virt_at_load >= 0 && a->dropin.block_vendor ? ", " : "",
			 a->dropin.block_vendor ? "kvm_intel/kvm_amd blocked" : "");
		return;
	case ACTION_REMOVE_DROPIN:
		snprintf(buf, size, "remove %s", DROPIN_PATH);
		return;
	case ACTION_RELEASE_PINNED_VM:
		snprintf(buf, size, "release virtd's pinned VM");
		return;
	case ACTION_UNLOAD_VENDOR:
		snprintf(buf, size, "unload %s", v);
		return;
	case ACTION_UNLOAD_KVM:
		snprintf(buf, size, "unload kvm");
		return;
	case ACTION_LOAD_KVM:
		if (a->enable_virt_at_load >= 0)
			snprintf(buf, size, "load kvm with enable_virt_at_load=%d", a->enable_virt_at_load);
		else
			snprintf(buf, size, "load kvm");
		return;
	case ACTION_LOAD_VENDOR:
		snprintf(buf, size, "load %s", v);
		return;
	case ACTION_CREATE_PINNED_VM:
		snprintf(buf, size, "create virtd's pinned VM (keeps virtualization on without the module parameter)");
		return;
	case ACTION_REMOVE_DEV_KVM:
		snprintf(buf, size, "remove the stale /dev/kvm node");
		return;
	case _ACTION_KIND_MAX:
		break;
	}
	snprintf(buf, size, "unknown action %d", (int)a->kind);
}
