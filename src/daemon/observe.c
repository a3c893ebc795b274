/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* observe.c: the host's KVM state read from the kernel (sysfs, /proc, /dev, virthw, the module helper) as struct observed. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dropin.h"
#include "hv-detect.h"
#include "macro.h"
#include "observe.h"

const char *module_state_to_string(enum module_state s)
{
	switch (s) {
	case MODULE_MISSING:
		return "missing";
	case MODULE_UNLOADED:
		return "unloaded";
	case MODULE_LOADED:
		return "loaded";
	case MODULE_BUILTIN:
		return "builtin";
	}
	return NULL;
}

bool fd_link_is_kvm_vm(const char *target)
{
	/* KVM names the VM's anon inode "kvm-vm"; vCPUs are "kvm-vcpu:N". */
	return target && strcmp(target, "anon_inode:kvm-vm") == 0;
}

/* Reads a small file whole, without the trailing newline; -errno on failure. */
static int read_small_file_at(int dir, const char *path, char *buf, size_t size, size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	ssize_t n;

	fd = openat(dir, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (ret_len)
		*ret_len = (size_t)n;
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return 0;
}

static int read_small_file(const char *path, char *buf, size_t size, size_t *ret_len)
{
	return read_small_file_at(AT_FDCWD, path, buf, size, ret_len);
}

char *cmdline_from_buf(const char *buf, size_t len)
{
	char *s = malloc(len + 1);

	if (!s)
		return NULL;
	/* Arguments end in NUL; the last one's NUL is not a separator. */
	while (len > 0 && buf[len - 1] == '\0')
		len--;
	for (size_t i = 0; i < len; i++)
		s[i] = buf[i] == '\0' ? ' ' : (unsigned char)buf[i] < 0x20 || buf[i] == 0x7f ? '?' : buf[i];
	s[len] = '\0';
	return s;
}

uint64_t proc_start_time(const char *root, pid_t pid)
{
	char path[PATH_MAX], buf[1024];
	unsigned long long start;
	const char *p;

	snprintf(path, sizeof(path), "%s/proc/%d/stat", root, (int)pid);
	if (pid <= 0 || read_small_file(path, buf, sizeof(buf), NULL) < 0)
		return 0;
	/* After the command's closing parenthesis (the command may hold any byte): state is field 3, start time 22. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
			 &start) != 1)
		return 0;
	return start;
}

pid_t proc_tgid(const char *root, pid_t tid)
{
	char path[PATH_MAX], buf[4096];
	const char *p;
	long v;

	snprintf(path, sizeof(path), "%s/proc/%d/status", root, (int)tid);
	if (tid <= 0)
		return -EINVAL;
	if (read_small_file(path, buf, sizeof(buf), NULL) < 0)
		return -ESRCH;
	p = strstr(buf, "\nTgid:");
	if (!p || sscanf(p + 6, "%ld", &v) != 1 || v <= 0 || v > INT_MAX)
		return -ESRCH;
	return (pid_t)v;
}

void vm_owners_free(struct vm_owner *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].cmdline);
	free(v);
}

void vm_owners_describe(unsigned n_vms, const struct vm_owner *v, size_t n, char *buf, size_t size)
{
	size_t o = 0, shown = 0;
	const char *hv = NULL;

	if (n_vms > 0 || n == 0)
		o = (size_t)snprintf(buf, size, "%u KVM VM%s running", n_vms, n_vms == 1 ? "" : "s");
	else if (size > 0)
		buf[0] = '\0';
	for (size_t i = 0; i < n && o < size; i++) {
		const char *what = v[i].cmdline && *v[i].cmdline ? v[i].cmdline : v[i].comm;

		if (v[i].hv[0])
			continue;
		o += (size_t)snprintf(buf + o, size - o, "%s pid %d (%.60s%s)", shown++ ? "," : ":", (int)v[i].pid, what,
				      strlen(what) > 60 ? "..." : "");
	}
	/* The hypervisors' VMs, grouped by profile in the order they come. */
	for (size_t i = 0; i < n && o < size; i++) {
		if (!v[i].hv[0] || (hv && strcmp(hv, v[i].hv) == 0))
			continue;
		hv = v[i].hv;
		o += (size_t)snprintf(buf + o, size - o, "%s%s VMs run inside KVM", o ? "; " : "", hv);
		shown = 0;
		for (size_t j = i; j < n && o < size; j++)
			if (strcmp(v[j].hv, hv) == 0)
				o += (size_t)snprintf(buf + o, size - o, "%s %.60s (pid %d)", shown++ ? "," : ":",
						      v[j].name, (int)v[j].pid);
	}
}

bool vms_running(const char *root, pid_t self, const struct hv_vm_match *hm, char *buf, size_t size)
{
	struct vm_owner *v = NULL;
	size_t n = 0;
	unsigned total = 0;
	bool running = false;

	if (scan_vms(root, self, hm, &v, &n, &total) >= 0 && n > 0) {
		vm_owners_describe(total, v, n, buf, size);
		running = true;
	}
	vm_owners_free(v, n);
	return running;
}

/* Whether NAME, a comm (cut to 15 characters by the kernel) or a base name, is one of L's. */
static bool process_name_in(const struct profile_list *l, const char *name, bool is_comm)
{
	for (size_t i = 0; i < l->n; i++) {
		const char *it = l->items[i];

		if (is_comm ? strlen(name) == strnlen(it, 15) && strncmp(name, it, 15) == 0 : strcmp(name, it) == 0)
			return true;
	}
	return false;
}

/*
 * Whether ROOT/proc/PID/fd has one of L's device nodes open: a link to one
 * of its paths, or a character device with one's device number (the path
 * is the opener's: a chroot or container with its own /dev shows another).
 */
static bool holds_device(const char *root, pid_t pid, const struct profile_list *l)
{
	_cleanup_(closedirp) DIR *d = NULL;
	dev_t rdev[PROFILE_LIST_MAX];
	size_t n_rdev = 0;
	char path[PATH_MAX];
	struct dirent *de;

	for (size_t i = 0; i < l->n && n_rdev < ELEMENTSOF(rdev); i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s%s", root, l->items[i]);
		if (stat(path, &st) == 0 && S_ISCHR(st.st_mode))
			rdev[n_rdev++] = st.st_rdev;
	}
	snprintf(path, sizeof(path), "%s/proc/%d/fd", root, (int)pid);
	d = opendir(path);
	if (!d)
		return false;
	while ((de = readdir(d))) {
		char target[PROFILE_ITEM_MAX + 2];
		struct stat st;
		ssize_t k;

		if (de->d_name[0] == '.')
			continue;
		k = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
		if (k < 0)
			continue;
		target[k] = '\0';
		for (size_t i = 0; i < l->n; i++)
			if (strcmp(target, l->items[i]) == 0)
				return true;
		/* stat() follows the magic link to the open file without opening anything. */
		if (n_rdev == 0 || target[0] != '/' || fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISCHR(st.st_mode))
			continue;
		for (size_t i = 0; i < n_rdev; i++)
			if (st.st_rdev == rdev[i])
				return true;
	}
	return false;
}

/* The argument after --comment, else after --startvm ("--opt VALUE" or "--opt=VALUE") of BUF's LEN bytes. */
static bool vm_name_from_cmdline(const char *buf, size_t len, char *name, size_t size)
{
	static const char *const opts[] = { "--comment", "--startvm" };

	for (size_t k = 0; k < ELEMENTSOF(opts); k++) {
		size_t ol = strlen(opts[k]);

		for (size_t i = 0; i < len; i += strnlen(buf + i, len - i) + 1) {
			const char *a = buf + i, *val = NULL;
			size_t al = strnlen(a, len - i);

			if (al == ol && strncmp(a, opts[k], ol) == 0 && i + al + 1 < len)
				val = a + al + 1;
			else if (al > ol && strncmp(a, opts[k], ol) == 0 && a[ol] == '=')
				val = a + ol + 1;
			if (!val || !*val)
				continue;
			{
				size_t vl = strnlen(val, len - (size_t)(val - buf));
				_cleanup_free_ char *c = cmdline_from_buf(val, vl);

				if (!c)
					return false;
				snprintf(name, size, "%s", c);
				return true;
			}
		}
	}
	return false;
}

int vm_holder_hypervisor(const char *root, pid_t pid, const struct hv_vm_match *hm, char *name, size_t size)
{
	char path[PATH_MAX], comm[64] = "", exe[PATH_MAX];
	const char *base = NULL;
	ssize_t l;

	if (!hm || !hm->profiles || pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "%s/proc/%d/comm", root, (int)pid);
	if (read_small_file(path, comm, sizeof(comm), NULL) < 0)
		comm[0] = '\0';
	snprintf(path, sizeof(path), "%s/proc/%d/exe", root, (int)pid);
	l = readlink(path, exe, sizeof(exe) - 1);
	if (l > 0) {
		exe[l] = '\0';
		/* A replaced binary reads "PATH (deleted)": still its name. */
		if (l > 10 && strcmp(exe + l - 10, " (deleted)") == 0)
			exe[l - 10] = '\0';
		base = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
	}
	for (size_t i = 0; i < hm->profiles->n && i < PROFILES_MAX; i++) {
		const struct hv_profile *p = &hm->profiles->p[i];
		char buf[4096];
		size_t len = 0;

		if (!hm->shared[i])
			continue;
		if (!(comm[0] && process_name_in(&p->processes, comm, true)) &&
		    !(base && *base && process_name_in(&p->processes, base, false)))
			continue;
		if (!holds_device(root, pid, &p->devices))
			continue;
		snprintf(path, sizeof(path), "%s/proc/%d/cmdline", root, (int)pid);
		if (read_small_file(path, buf, sizeof(buf), &len) < 0)
			len = 0;
		if (!vm_name_from_cmdline(buf, len, name, size)) {
			_cleanup_free_ char *c = cmdline_from_buf(comm, strlen(comm));

			snprintf(name, size, "%s", c ? c : "?");
		}
		return (int)i;
	}
	return -1;
}

static unsigned count_vm_fds(const char *root, const char *pid)
{
	_cleanup_(closedirp) DIR *d = NULL;
	char path[PATH_MAX];
	struct dirent *de;
	unsigned n = 0;

	snprintf(path, sizeof(path), "%s/proc/%s/fd", root, pid);
	d = opendir(path);
	if (!d)
		return 0;	/* gone, or not ours to read */
	while ((de = readdir(d))) {
		char target[64];
		ssize_t l;

		if (de->d_name[0] == '.')
			continue;
		l = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
		if (l < 0)
			continue;
		target[l] = '\0';
		if (fd_link_is_kvm_vm(target))
			n++;
	}
	return n;
}

unsigned proc_count_vm_fds(const char *root, pid_t pid)
{
	char p[16];

	snprintf(p, sizeof(p), "%d", (int)pid);
	return pid > 0 ? count_vm_fds(root, p) : 0;
}

static int vm_owner_fill(const char *root, struct vm_owner *v)
{
	char path[PATH_MAX], buf[4096];
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/proc/%d/comm", root, (int)v->pid);
	if (read_small_file(path, buf, sizeof(buf), NULL) >= 0) {
		size_t l = strnlen(buf, sizeof(v->comm) - 1);

		memcpy(v->comm, buf, l);
		v->comm[l] = '\0';
	}
	snprintf(path, sizeof(path), "%s/proc/%d/cmdline", root, (int)v->pid);
	if (read_small_file(path, buf, sizeof(buf), &len) < 0)
		len = 0;
	v->cmdline = cmdline_from_buf(buf, len);
	return v->cmdline ? 0 : -ENOMEM;
}

static int cmp_owner(const void *a, const void *b)
{
	const struct vm_owner *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Appends PID, holder of K VMs, to *V (a hypervisor's, or counted in *TOTAL); on failure frees *V. */
static int owner_add(const char *root, const struct hv_vm_match *hm, pid_t pid, unsigned k, struct vm_owner **v,
		     size_t *n, size_t *cap, unsigned *total)
{
	struct vm_owner *o;
	int r, h;

	if (*n == *cap) {
		struct vm_owner *nv = reallocarray(*v, *cap ? *cap * 2 : 4, sizeof(**v));

		if (!nv) {
			vm_owners_free(*v, *n);
			*v = NULL;
			return -ENOMEM;
		}
		*v = nv;
		*cap = *cap ? *cap * 2 : 4;
	}
	o = &(*v)[(*n)++];
	*o = (struct vm_owner) { .pid = pid, .n_vms = k };
	r = vm_owner_fill(root, o);
	if (r < 0) {
		vm_owners_free(*v, *n);
		*v = NULL;
		return r;
	}
	h = vm_holder_hypervisor(root, pid, hm, o->name, sizeof(o->name));
	if (h >= 0)
		snprintf(o->hv, sizeof(o->hv), "%s", hm->profiles->p[h].name);
	else
		*total += k;
	return 0;
}

int scan_vms(const char *root, pid_t self, const struct hv_vm_match *hm, struct vm_owner **ret, size_t *ret_n,
	     unsigned *ret_total)
{
	_cleanup_(closedirp) DIR *d = NULL;
	struct vm_owner *v = NULL;
	size_t n = 0, cap = 0;
	unsigned total = 0;
	char path[PATH_MAX];
	struct dirent *de;

	/*
	 * Threads share their process's fd table, so /proc/PID (not
	 * /proc/PID/task) sees each descriptor once.  A descriptor passed to
	 * another process counts in each: the kernel gives no VM identity to
	 * compare, and the count KVM reports in its uevents counts VMs, not
	 * holders, so the two may differ in that rare case.
	 */
	snprintf(path, sizeof(path), "%s/proc", root);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;
		long pid;
		unsigned k;
		int r;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		errno = 0;
		pid = strtol(de->d_name, &end, 10);
		if (*end || errno || pid <= 0 || pid > INT_MAX || (pid_t)pid == self)
			continue;
		k = count_vm_fds(root, de->d_name);
		if (k == 0)
			continue;
		r = owner_add(root, hm, (pid_t)pid, k, &v, &n, &cap, &total);
		if (r < 0)
			return r;
	}
	/*
	 * The made VMs, per process: as many as its live entries, or its
	 * descriptors if it has more (a process whose VM has a descriptor as
	 * well, e.g. one that opened /dev/kvm itself, is not counted twice).
	 */
	for (size_t j = 0; hm && j < hm->n_made; j++) {
		const struct hv_made_vm *mv = &hm->made[j];
		unsigned k = 0;
		size_t i;
		int r;

		if (mv->pid == self || proc_start_time(root, mv->pid) != mv->start)
			continue;	/* gone: its VM went with it */
		for (i = 0; i < j && hm->made[i].pid != mv->pid; i++)
			;
		if (i < j)
			continue;	/* counted with its first entry */
		for (i = j; i < hm->n_made; i++)
			k += hm->made[i].pid == mv->pid && hm->made[i].start == mv->start;
		for (i = 0; i < n && v[i].pid != mv->pid; i++)
			;
		if (i < n) {
			if (k > v[i].n_vms) {
				total += v[i].hv[0] ? 0 : k - v[i].n_vms;
				v[i].n_vms = k;
			}
			continue;
		}
		r = owner_add(root, hm, mv->pid, k, &v, &n, &cap, &total);
		if (r < 0)
			return r;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_owner);
	*ret = v;
	*ret_n = n;
	*ret_total = total;
	return 0;
}

int module_sysfs_state(const char *root, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/sys/module/%s/initstate", root, name);
	if (access(path, F_OK) == 0)
		return MODULE_LOADED;
	snprintf(path, sizeof(path), "%s/sys/module/%s", root, name);
	if (access(path, F_OK) == 0)
		return MODULE_BUILTIN;
	return -ENOENT;
}

/* What modprobe would find for NAME; missing when nobody can say. */
static struct module_file module_file(const struct observe_sources *src, const char *name)
{
	struct module_file f = {};

	if (src->module_file && src->module_file(src->module_file_data, name, &f) < 0)
		f = (struct module_file) {};
	return f;
}

static enum module_state module_state(const struct observe_sources *src, const char *name)
{
	int s = module_sysfs_state(src->root, name);

	if (s >= 0)
		return (enum module_state)s;
	return module_file(src, name).available ? MODULE_UNLOADED : MODULE_MISSING;
}

static int add_params(const struct observe_sources *src, const char *module, struct kvm_observation *o)
{
	_cleanup_(closedirp) DIR *d = NULL;
	char path[PATH_MAX];
	struct dirent *de;

	snprintf(path, sizeof(path), "%s/sys/module/%s/parameters", src->root, module);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		struct module_param *np;
		char val[256];

		if (de->d_name[0] == '.')
			continue;
		/* Some are root-only or write-only; those are left out. */
		if (read_small_file_at(dirfd(d), de->d_name, val, sizeof(val), NULL) < 0)
			continue;
		np = reallocarray(o->params, o->n_params + 1, sizeof(*np));
		if (!np)
			return -ENOMEM;
		o->params = np;
		np = &o->params[o->n_params];
		*np = (struct module_param) {};
		if (asprintf(&np->name, "%s.%s", module, de->d_name) < 0)
			return -ENOMEM;
		np->value = strdup(val);
		o->n_params++;
		if (!np->value)
			return -ENOMEM;
	}
	return 0;
}

static int cmp_param(const void *a, const void *b)
{
	return strcmp(((const struct module_param *)a)->name, ((const struct module_param *)b)->name);
}

void kvm_observation_done(struct kvm_observation *o)
{
	free(o->cpus);
	vm_owners_free(o->vms, o->n_vm_owners);
	for (size_t i = 0; i < o->n_params; i++) {
		free(o->params[i].name);
		free(o->params[i].value);
	}
	free(o->params);
	*o = (struct kvm_observation) {};
}

static int observe_cpus(const struct observe_sources *src, struct kvm_observation *o)
{
	_cleanup_free_ struct virthw_cpu_state *st = NULL;
	size_t n = 0;
	int r;

	if (!src->hw) {
		snprintf(o->hw_error, sizeof(o->hw_error), "%s",
			 src->hw_error ? src->hw_error : "virthw module is not loaded");
		return 0;
	}
	r = hw_client_dump_cpus(src->hw, &st, &n);
	if (r < 0) {
		errno = -r;
		snprintf(o->hw_error, sizeof(o->hw_error), "cannot read per-CPU state from virthw: %m");
		return r == -ENOMEM ? r : 0;
	}
	o->cpus = calloc(n ? n : 1, sizeof(*o->cpus));
	if (!o->cpus)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		o->cpus[i] = (struct observed_cpu) {
			.id = st[i].id,
			.online = st[i].online && st[i].has_details,
			.feature = (enum virt_feature)st[i].feature,
			.fw_enabled = st[i].fw_enabled,
			.virt_on = st[i].virt_on,
		};
	o->obs.cpus = o->cpus;
	o->obs.n_cpus = n;
	o->have_caps = hw_client_get_caps(src->hw, &o->caps) >= 0;
	return 0;
}

/* kvm_intel or kvm_amd: what the CPUs have, else (without virthw) whichever is loaded. */
static const char *vendor_module(const struct observe_sources *src, const struct observed *obs)
{
	for (size_t i = 0; i < obs->n_cpus; i++)
		if (obs->cpus[i].online && obs->cpus[i].feature != VIRT_FEATURE_NONE)
			return obs->cpus[i].feature == VIRT_FEATURE_VMX ? "kvm_intel" : "kvm_amd";
	if (module_sysfs_state(src->root, "kvm_intel") >= 0)
		return "kvm_intel";
	if (module_sysfs_state(src->root, "kvm_amd") >= 0)
		return "kvm_amd";
	return NULL;
}

/* The modules, kvm's enable_virt_at_load, TDX, virtd's drop-in and /dev/kvm. */
static void observe_modules(const struct observe_sources *src, struct kvm_observation *o)
{
	struct observed *obs = &o->obs;
	char path[PATH_MAX], buf[4096];
	struct stat st;

	o->vendor_module = vendor_module(src, obs);
	obs->kvm = module_state(src, "kvm");
	obs->vendor = o->vendor_module ? module_state(src, o->vendor_module) : MODULE_MISSING;

	snprintf(path, sizeof(path), "%s/sys/module/kvm/parameters/enable_virt_at_load", src->root);
	if (read_small_file(path, buf, sizeof(buf), NULL) >= 0) {
		obs->has_enable_virt_at_load = true;
		obs->enable_virt_at_load = parse_kernel_bool(buf) == 1;
	} else if (obs->kvm == MODULE_UNLOADED) {
		obs->has_enable_virt_at_load = module_file(src, "kvm").has_enable_virt_at_load;
	}

	snprintf(path, sizeof(path), "%s/sys/module/kvm_intel/parameters/tdx", src->root);
	if (read_small_file(path, buf, sizeof(buf), NULL) >= 0)
		obs->tdx_active = parse_kernel_bool(buf) == 1;

	snprintf(path, sizeof(path), "%s%s", src->root, DROPIN_PATH);
	if (read_small_file(path, buf, sizeof(buf), NULL) >= 0)
		dropin_parse(buf, &obs->dropin);
	else
		obs->dropin = (struct policy_dropin) { .enable_virt_at_load = -1 };

	snprintf(path, sizeof(path), "%s/dev/kvm", src->root);
	obs->dev_kvm = stat(path, &st) == 0;
}

/* The VMs and their owners; only -ENOMEM is an error. */
static int observe_vms(const struct observe_sources *src, struct kvm_observation *o)
{
	struct hv_vm_match hm = {};
	size_t np = 0;
	int r = 0;

	if (src->profiles && src->cfg)
		hv_vm_match_fill(src->profiles, src->cfg, vendor_from_module(o->vendor_module), src->release, &hm);
	hm.made = src->made;
	hm.n_made = src->n_made;
	/*
	 * Every VM file pins KVM's vendor module (KVM makes it the owner of
	 * /dev/kvm's and the VMs' file operations): with neither kvm_intel nor
	 * kvm_amd loaded or built in there is no VM, and the /proc scan, the
	 * costliest part of an observation, is skipped (under never, while a
	 * foreign lock is held, on the way back from one).
	 */
	if (module_sysfs_state(src->root, "kvm_intel") >= 0 || module_sysfs_state(src->root, "kvm_amd") >= 0)
		r = scan_vms(src->root, src->self, &hm, &o->vms, &o->n_vm_owners, &o->obs.n_vms);
	if (r == -ENOMEM)
		return r;
	/* Each PID once: "2 KVM VMs running (pids 812, ...)" reads better than a repeated PID.  KVM's only. */
	for (size_t i = 0; i < o->n_vm_owners; i++) {
		if (o->vms[i].hv[0]) {
			o->n_hv_vms += o->vms[i].n_vms;
			continue;
		}
		if (np < POLICY_MAX_PIDS)
			o->obs.vm_pids[np++] = o->vms[i].pid;
	}
	o->obs.n_hv_vms = o->n_hv_vms;
	return 0;
}

int observe(const struct observe_sources *src, struct kvm_observation *ret)
{
	struct kvm_observation o = {};
	int r;

	o.obs.pinned_vm = src->pinned_vm;
	r = observe_cpus(src, &o);
	if (r < 0)
		goto fail;
	observe_modules(src, &o);
	r = observe_vms(src, &o);
	if (r < 0)
		goto fail;
	r = add_params(src, "kvm", &o);
	if (r >= 0 && o.vendor_module)
		r = add_params(src, o.vendor_module, &o);
	if (r < 0)
		goto fail;
	if (o.n_params > 1)
		qsort(o.params, o.n_params, sizeof(*o.params), cmp_param);

	*ret = o;
	return 0;
fail:
	kvm_observation_done(&o);
	return r;
}
