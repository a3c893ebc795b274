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
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "dropin.h"
#include "kvm-backend.h"
#include "log.h"
#include "macro.h"

struct module_cache_entry {
	char name[KMOD_PROTO_NAME_MAX + 1];
	struct module_file file;
};

/*
 * Under virtd.service (ProtectKernelModules=yes) /lib/modules cannot be
 * seen, so modules.dep cannot key the cache: the helper's answers are then
 * kept this long, and forgotten after every load and unload.
 */
#define MODULE_CACHE_TTL_USEC (60ULL * 1000000ULL)

/* The longest virtd waits for the helper's socket to answer. */
#define HELPER_SOCKET_TIMEOUT_MSEC 60000

struct kvm_backend {
	int pinned_fd;
	/* What the helper said about module files, valid while modules.dep is
	 * the same file (or, where it cannot be seen, for the TTL above). */
	struct module_cache_entry cache[4];
	size_t n_cache;
	struct stat cache_key;
	bool cache_by_age;
	uint64_t cache_since;
};

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

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

const char *kvm_backend_helper_socket(void)
{
	const char *p = getenv("VIRTD_KMOD_SOCKET");

	return p && *p ? p : NULL;
}

/* Reads to end of file into BUF; more than fits sets *TOO_LONG and is drained. */
static int read_reply(int fd, int timeout_msec, char *buf, size_t size, size_t *ret_len, bool *too_long)
{
	size_t len = 0;

	*too_long = false;
	for (;;) {
		char *dst = len < size ? buf + len : NULL;
		char sink[256];
		ssize_t n;

		if (timeout_msec >= 0) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			int r = poll(&pfd, 1, timeout_msec);

			if (r < 0 && errno == EINTR)
				continue;
			if (r == 0) {
				errno = ETIMEDOUT;
				return -ETIMEDOUT;
			}
		}
		n = read(fd, dst ? dst : sink, dst ? size - len : sizeof(sink));
		if (n < 0 && errno == EINTR)
			continue;
		/* A helper that exits without reading the request resets the
		 * connection: the same as ending its answer there. */
		if (n < 0 && errno == ECONNRESET)
			break;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		if (dst)
			len += (size_t)n;
		else
			*too_long = true;
	}
	*ret_len = len;
	return 0;
}

/*
 * The helper as a child, the request its arguments.  Returns its exit
 * status (0-255), or a negative errno with ERR set.
 */
static int helper_spawn(const char *const argv[], const char *what, char *buf, size_t size, size_t *ret_len,
			bool *too_long, char *err, size_t err_size)
{
	const char *path = kvm_backend_helper_path();
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dflt;
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
	/* No timeout: a transition is synchronous, as with libkmod in-process. */
	(void)read_reply(p[0], -1, buf, size, ret_len, too_long);
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			errno = ECHILD;
			return fail(err, err_size, "Failed to %s: lost the module helper %s: %m", what, path);
		}
	if (WIFSIGNALED(status)) {
		errno = EIO;
		return fail(err, err_size, "Failed to %s: the module helper %s was killed by signal %d (%s)", what, path,
			    WTERMSIG(status), strsignal(WTERMSIG(status)));
	}
	return WEXITSTATUS(status);
}

/*
 * The helper through its socket (virtd-kmod.socket): systemd starts one
 * virtd-kmod@.service for the connection.  The request is its words, each
 * ended by a NUL.  0, or a negative errno with ERR set.
 */
static int helper_socket(const char *sock, const char *const argv[], const char *what, char *buf, size_t size,
			 size_t *ret_len, bool *too_long, char *err, size_t err_size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char req[KMOD_PROTO_REQUEST_MAX];
	_cleanup_close_ int fd = -1;
	size_t len = 0, done = 0;
	int r;

	for (size_t i = 1; argv[i]; i++) {
		size_t n = strlen(argv[i]) + 1;

		if (len + n > sizeof(req)) {
			errno = E2BIG;
			return fail(err, err_size, "Failed to %s: request too long for the module helper", what);
		}
		memcpy(req + len, argv[i], n);
		len += n;
	}
	if (strlen(sock) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return fail(err, err_size, "Failed to %s: the module helper's socket path %s is too long", what, sock);
	}
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(err, err_size, "Failed to %s: cannot create a socket: %m", what);
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0)
		return fail(err, err_size,
			    "Failed to %s: cannot reach the module helper at %s: %m "
			    "(start it: systemctl start virtd-kmod.socket)", what, sock);
	while (done < len) {
		ssize_t n = send(fd, req + done, len - done, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		/* The helper hung up before reading it all: what it answered, if
		 * anything, is still to be read (and judged) below. */
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			break;
		if (n < 0)
			return fail(err, err_size, "Failed to %s: cannot send the request to the module helper at %s: %m",
				    what, sock);
		done += (size_t)n;
	}
	(void)shutdown(fd, SHUT_WR);
	r = read_reply(fd, HELPER_SOCKET_TIMEOUT_MSEC, buf, size, ret_len, too_long);
	if (r == -ETIMEDOUT)
		return fail(err, err_size,
			    "Failed to %s: the module helper at %s did not answer in %d s "
			    "(journalctl -u 'virtd-kmod@*')", what, sock, HELPER_SOCKET_TIMEOUT_MSEC / 1000);
	if (r < 0)
		return fail(err, err_size, "Failed to %s: cannot read the module helper's answer from %s: %m", what, sock);
	return 0;
}

/*
 * Runs the helper once and waits for it: a transition is synchronous in
 * virtd anyway, as it was with libkmod in-process.  WHAT ("load kvm_amd")
 * starts the messages about the helper itself.
 */
static int run_helper(const char *const argv[], enum kmod_proto_op op, const char *what, struct kmod_reply *ret,
		      char *err, size_t err_size)
{
	const char *sock = kvm_backend_helper_socket();
	const char *name = sock ? sock : kvm_backend_helper_path();
	char buf[KMOD_PROTO_REPLY_MAX + 1];
	size_t len = 0;
	bool too_long = false;
	int status;

	if (sock) {
		status = helper_socket(sock, argv, what, buf, sizeof(buf) - 1, &len, &too_long, err, err_size);
		if (status < 0)
			return status;
	} else {
		status = helper_spawn(argv, what, buf, sizeof(buf) - 1, &len, &too_long, err, err_size);
		if (status < 0)
			return status;
	}
	/* "ok" with exit status 0, "error" with another (a child's only: a
	 * socket has no exit status); anything else is a broken helper. */
	if (too_long || kmod_reply_parse(buf, len, op, ret) < 0 || (!sock && (ret->error == 0) != (status == 0))) {
		errno = EPROTO;
		if (sock)
			return fail(err, err_size,
				    "Failed to %s: the module helper at %s gave no valid answer (journalctl -u 'virtd-kmod@*')",
				    what, name);
		return fail(err, err_size, "Failed to %s: the module helper %s gave no valid answer (exit status %d)", what,
			    name, status);
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

	if (b->cache_by_age)
		b->n_cache = 0;
	snprintf(what, sizeof(what), "load %s", name);
	return run_helper(argv, KMOD_OP_LOAD, what, &y, err, err_size);
}

/* An unload goes through the helper too: under systemd virtd itself cannot remove modules. */
int kvm_backend_unload_module(kvm_backend *b, const char *name, char *err, size_t err_size)
{
	const char *argv[] = { "virtd-kmod", "unload", name, NULL };
	struct kmod_reply y;
	char what[96];

	if (!kmod_proto_name_valid(name)) {
		errno = EINVAL;
		return fail(err, err_size, "Failed to unload %s: not a module name", name);
	}
	if (b->cache_by_age)
		b->n_cache = 0;
	snprintf(what, sizeof(what), "unload %s", name);
	return run_helper(argv, KMOD_OP_UNLOAD, what, &y, err, err_size);
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
	int r;

	uname(&u);
	snprintf(path, sizeof(path), "/lib/modules/%s/modules.dep", u.release);
	if (stat(path, &st) == 0) {
		if (b->cache_by_age || !cache_key_same(&st, &b->cache_key))
			b->n_cache = 0;
		b->cache_by_age = false;
	} else {
		/* Hidden (ProtectKernelModules=yes) or absent: keep answers a while. */
		if (!b->cache_by_age || now_usec() - b->cache_since > MODULE_CACHE_TTL_USEC)
			b->n_cache = 0;
		b->cache_by_age = true;
		st = (struct stat) {};
	}
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
	if (strlen(name) <= KMOD_PROTO_NAME_MAX) {
		if (b->n_cache == ELEMENTSOF(b->cache))
			b->n_cache = 0;
		if (b->n_cache == 0)
			b->cache_since = now_usec();
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
