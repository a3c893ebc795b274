/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kvm-backend.c: applies the policy engine's actions: the drop-in, modules via the helper virtd-kmod, the pinned VM, /dev/kvm. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kvm.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "dropin.h"
#include "kvm-backend.h"
#include "log.h"
#include "macro.h"

struct module_cache_entry {
	char name[KMOD_PROTO_NAME_MAX + 1];
	struct module_file file;
};

struct kvm_backend {
	int pinned_fd;
	/* What the helper said about module files, valid while modules.dep is the same file. */
	struct module_cache_entry cache[4];
	size_t n_cache;
	struct stat cache_key;
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
	/* The pinned VM ends with the daemon: see "what stop does" in virtd(8). */
	if (b->pinned_fd >= 0)
		close(b->pinned_fd);
	free(b);
	return NULL;
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

const char *kvm_backend_helper_path(void)
{
	const char *p = getenv("VIRTD_KMOD_HELPER");

	return p && *p ? p : VIRTD_KMOD_HELPER;
}

/*
 * Runs the helper once and waits for it: a transition is synchronous in
 * virtd anyway, as it was with libkmod in-process.  WHAT ("load kvm_amd")
 * starts the messages about the helper itself.
 */
static int run_helper(const char *const argv[], enum kmod_proto_op op, const char *what, struct kmod_reply *ret,
		      char *err, size_t err_size)
{
	const char *path = kvm_backend_helper_path();
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dflt;
	char buf[KMOD_PROTO_REPLY_MAX + 1];
	size_t len = 0;
	bool too_long = false;
	int p[2], status, r;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return fail(err, err_size, "Failed to %s: cannot create a pipe for the module helper: %m", what);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	/* virtd blocks the signals its event loop reads; the helper gets them back. */
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigemptyset(&dflt);
	sigaddset(&dflt, SIGTERM);
	sigaddset(&dflt, SIGINT);
	sigaddset(&dflt, SIGHUP);
	sigaddset(&dflt, SIGPIPE);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dflt);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	r = posix_spawn(&pid, path, &fa, &attr, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(p[1]);
	if (r != 0) {
		close(p[0]);
		errno = r;
		return fail(err, err_size, "Failed to %s: cannot run the module helper %s: %m (reinstall virtd)", what, path);
	}
	for (;;) {
		char *dst = len < sizeof(buf) ? buf + len : NULL;
		char sink[256];
		ssize_t n = read(p[0], dst ? dst : sink, dst ? sizeof(buf) - len : sizeof(sink));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (dst)
			len += (size_t)n;
		else
			too_long = true;
	}
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			status = -1;
			break;
		}
	if (status != -1 && WIFSIGNALED(status)) {
		errno = EIO;
		return fail(err, err_size, "Failed to %s: the module helper %s was killed by signal %d (%s)", what, path,
			    WTERMSIG(status), strsignal(WTERMSIG(status)));
	}
	/* "ok" with exit status 0, "error" with another: anything else is a broken helper. */
	if (too_long || status == -1 || kmod_reply_parse(buf, len, op, ret) < 0 ||
	    (ret->error == 0) != (WEXITSTATUS(status) == 0)) {
		errno = EPROTO;
		return fail(err, err_size, "Failed to %s: the module helper %s gave no valid answer (exit status %d)", what,
			    path, status == -1 ? -1 : WEXITSTATUS(status));
	}
	if (ret->error) {
		snprintf(err, err_size, "%s", ret->message);
		return -ret->error;
	}
	return 0;
}

int kvm_backend_load_module(kvm_backend *b, const char *name, const char *options, char *err, size_t err_size)
{
	const char *argv[] = { "virtd-kmod", "load", name, options, NULL };
	struct kmod_reply y;
	char what[96];

	(void)b;
	snprintf(what, sizeof(what), "load %s", name);
	return run_helper(argv, KMOD_OP_LOAD, what, &y, err, err_size);
}

static void list_holders(const char *name, char *buf, size_t size)
{
	char path[PATH_MAX];
	struct dirent *de;
	size_t o = 0;
	DIR *d;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/sys/module/%s/holders", name);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d)) && o < size)
		if (de->d_name[0] != '.')
			o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? ", " : "", de->d_name);
	closedir(d);
}

/*
 * An unload is one system call, with nothing to look up: done here rather
 * than in the helper, which saves an exec (and libkmod's start-up) on the
 * way to a foreign-hypervisor lock.  O_NONBLOCK: fail with EWOULDBLOCK/EBUSY
 * while in use, as modprobe -r does, instead of waiting for the last user.
 */
int kvm_backend_unload_module(kvm_backend *b, const char *name, char *err, size_t err_size)
{
	char refcnt[32] = "?", holders[128], path[PATH_MAX];
	FILE *f;

	(void)b;
	if (!kmod_proto_name_valid(name)) {
		errno = EINVAL;
		return fail(err, err_size, "Failed to unload %s: not a module name", name);
	}
	if (syscall(SYS_delete_module, name, O_NONBLOCK) == 0 || errno == ENOENT)
		return 0;	/* ENOENT: gone already */
	if (errno != EBUSY && errno != EAGAIN)
		return fail(err, err_size, "Failed to unload %s: %m", name);
	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", name);
	f = fopen(path, "re");
	if (f) {
		if (!fgets(refcnt, sizeof(refcnt), f))
			snprintf(refcnt, sizeof(refcnt), "?");
		refcnt[strcspn(refcnt, "\n")] = '\0';
		fclose(f);
	}
	list_holders(name, holders, sizeof(holders));
	errno = EBUSY;
	return fail(err, err_size, "Failed to unload %s: in use (use count %s%s%s)", name, refcnt,
		    holders[0] ? ", used by " : "", holders);
}

/* modules.dep changes whenever modules are installed or removed (depmod): the cache's validity. */
static bool cache_key_same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

int kvm_backend_module_file(void *userdata, const char *name, struct module_file *ret)
{
	kvm_backend *b = userdata;
	const char *argv[] = { "virtd-kmod", "info", name, NULL };
	char path[PATH_MAX], err[512], what[96];
	struct kmod_reply y;
	struct utsname u;
	struct stat st;
	bool cacheable;
	int r;

	uname(&u);
	snprintf(path, sizeof(path), "/lib/modules/%s/modules.dep", u.release);
	cacheable = stat(path, &st) == 0;
	if (!cacheable || !cache_key_same(&st, &b->cache_key))
		b->n_cache = 0;
	for (size_t i = 0; i < b->n_cache; i++)
		if (strcmp(b->cache[i].name, name) == 0) {
			*ret = b->cache[i].file;
			return 0;
		}
	snprintf(what, sizeof(what), "look up module %s", name);
	r = run_helper(argv, KMOD_OP_INFO, what, &y, err, sizeof(err));
	if (r < 0) {
		log_warning("%s", err);
		return r;
	}
	*ret = (struct module_file) {
		.available = y.available,
		.has_enable_virt_at_load = kmod_params_have(y.params, "enable_virt_at_load"),
	};
	if (cacheable && strlen(name) <= KMOD_PROTO_NAME_MAX) {
		if (b->n_cache == ELEMENTSOF(b->cache))
			b->n_cache = 0;
		b->cache_key = st;
		snprintf(b->cache[b->n_cache].name, sizeof(b->cache[b->n_cache].name), "%s", name);
		b->cache[b->n_cache++].file = *ret;
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

	err[0] = '\0';
	switch (a->kind) {
	case ACTION_WRITE_DROPIN:
		/* Each helper run reads modprobe.d anew: nothing to drop here. */
		return write_dropin(&a->dropin, policy, err, err_size);
	case ACTION_REMOVE_DROPIN:
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
		snprintf(buf, size, "create virtd's pinned VM (keeps virtualization on where the parameter cannot, and KVM's first-VM setup done)");
		return;
	case ACTION_REMOVE_DEV_KVM:
		snprintf(buf, size, "remove the stale /dev/kvm node");
		return;
	case _ACTION_KIND_MAX:
		break;
	}
	snprintf(buf, size, "unknown action %d", (int)a->kind);
}
