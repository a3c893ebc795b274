/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-daemon.c: unit tests of the daemon's pure parts: drop-in text, /proc and sysfs reading, uevents, status JSON and words. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dropin.h"
#include "hv-detect.h"
#include "kvm-backend.h"
#include "kvm-events.h"
#include "observe.h"
#include "probe-json.h"
#include "status-json.h"
#include "fixtures.h"
#include "tests.h"

static void test_dropin_roundtrip(void)
{
	static const struct policy_dropin cases[] = {
		{ .exists = true, .enable_virt_at_load = -1, .block_vendor = false },
		{ .exists = true, .enable_virt_at_load = 0, .block_vendor = false },
		{ .exists = true, .enable_virt_at_load = 1, .block_vendor = false },
		{ .exists = true, .enable_virt_at_load = -1, .block_vendor = true },
		{ .exists = true, .enable_virt_at_load = 0, .block_vendor = true },
		{ .exists = true, .enable_virt_at_load = 1, .block_vendor = true },
		{ .exists = true, .enable_virt_at_load = -1, .has_preemption_timer = true, .preemption_timer = false },
		{ .exists = true, .enable_virt_at_load = 0, .has_preemption_timer = true, .preemption_timer = true },
		{ .exists = true, .enable_virt_at_load = 1, .block_vendor = true, .has_preemption_timer = true,
		  .preemption_timer = false },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *t = dropin_render(&cases[i], "never");
		struct policy_dropin back;

		CHECK(t != NULL, "render case %zu", i);
		if (!t)
			continue;
		dropin_parse(t, &back);
		CHECK(back.exists && back.enable_virt_at_load == cases[i].enable_virt_at_load &&
		      back.block_vendor == cases[i].block_vendor,
		      "case %zu round-trips (eval %d block %d -> eval %d block %d)", i, cases[i].enable_virt_at_load,
		      cases[i].block_vendor, back.enable_virt_at_load, back.block_vendor);
		CHECK(back.has_preemption_timer == cases[i].has_preemption_timer &&
		      back.preemption_timer == cases[i].preemption_timer, "case %zu: preemption_timer round-trips", i);
		CHECK((strstr(t, "options kvm_intel preemption_timer=") != NULL) == cases[i].has_preemption_timer,
		      "case %zu: a kvm_intel line iff the timer decision is there", i);
		CHECK(strstr(t, "policy never") != NULL, "case %zu names the policy", i);
		CHECK((strstr(t, "install kvm_amd ") != NULL) == cases[i].block_vendor &&
		      (strstr(t, "install kvm_intel ") != NULL) == cases[i].block_vendor,
		      "case %zu: install lines for both vendors iff blocked", i);
		CHECK(t[strlen(t) - 1] == '\n', "case %zu ends in a newline", i);
	}
}

static void test_dropin_render_exact(void)
{
	_cleanup_free_ char *t = dropin_render(&(struct policy_dropin) { .exists = true, .enable_virt_at_load = 0 },
					       "first-vm");

	CHECK_STR(t,
		  "# /run/modprobe.d/virtd.conf: written by virtd(8) for policy first-vm.\n"
		  "# virtd rewrites or removes this file as the policy requires; do not edit it.\n"
		  "options kvm enable_virt_at_load=0\n",
		  "first-vm drop-in text");
}

static void test_dropin_timer(void)
{
	_cleanup_free_ char *t = dropin_render(&(struct policy_dropin) { .exists = true, .enable_virt_at_load = 0,
									 .has_preemption_timer = true },
					       "first-vm");
	static const struct {
		const char *text;
		bool has, value;
	} cases[] = {
		{ "options kvm_intel preemption_timer=Y\n", true, true },
		{ "options kvm-intel foo=1 preemption_timer=0\n", true, false },
		{ "options kvm_intel preemption_timer=N\noptions kvm_intel preemption_timer=1\n", true, true },
		{ "options kvm_intel preemption_timer=maybe\n", false, false },
		{ "options kvm_amd preemption_timer=Y\n", false, false },
		{ "options kvm preemption_timer=Y\n", false, false },
		{ "# options kvm_intel preemption_timer=Y\n", false, false },
	};

	CHECK_STR(t,
		  "# /run/modprobe.d/virtd.conf: written by virtd(8) for policy first-vm.\n"
		  "# virtd rewrites or removes this file as the policy requires; do not edit it.\n"
		  "options kvm enable_virt_at_load=0\n"
		  "options kvm_intel preemption_timer=N\n",
		  "drop-in text with the timer off");
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct policy_dropin d;

		dropin_parse(cases[i].text, &d);
		CHECK(d.has_preemption_timer == cases[i].has && d.preemption_timer == cases[i].value &&
		      d.enable_virt_at_load == -1, "parse \"%s\": timer %d/%d", cases[i].text, d.has_preemption_timer,
		      d.preemption_timer);
	}
}

static void test_dropin_parse(void)
{
	static const struct {
		const char *text;
		signed char eval;
		bool block;
	} cases[] = {
		{ "", -1, false },
		{ "# options kvm enable_virt_at_load=1\n", -1, false },
		{ "options kvm enable_virt_at_load=Y", 1, false },
		{ "options  kvm\tfoo=1 enable_virt_at_load=N bar", 0, false },
		{ "options kvm enable_virt_at_load=1\noptions kvm enable_virt_at_load=0\n", 0, false },
		{ "options kvm_amd enable_virt_at_load=1\n", -1, false },
		{ "options kvm enable_virt_at_load=maybe\n", -1, false },
		{ "options kvm enable_virt_at_load=\n", -1, false },
		{ "install kvm-amd /bin/false\n", -1, true },
		{ "install kvm_intel /bin/true\n", -1, true },
		{ "install kvm /bin/false\n", -1, false },
		{ "install\n", -1, false },
		{ "   install   kvm_amd   x\n", -1, true },
		{ "blacklist kvm_amd\n", -1, false },
		{ "options kvm enable_virt_at_load=1", 1, false },	/* no final newline */
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct policy_dropin d;

		dropin_parse(cases[i].text, &d);
		CHECK(d.exists && d.enable_virt_at_load == cases[i].eval && d.block_vendor == cases[i].block,
		      "parse \"%s\": eval %d block %d (want %d %d)", cases[i].text, d.enable_virt_at_load,
		      d.block_vendor, cases[i].eval, cases[i].block);
	}
	CHECK(parse_kernel_bool("Y") == 1 && parse_kernel_bool("N") == 0 && parse_kernel_bool("1") == 1 &&
	      parse_kernel_bool("0") == 0 && parse_kernel_bool("yes") == -EINVAL && parse_kernel_bool(NULL) == -EINVAL,
	      "kernel booleans");
}

static void test_uevent(void)
{
	struct kvm_uevent u;
	char buf[128];

	CHECK(kvm_uevent_parse("create", "1", "812", &u) == 0 && u.kind == KVM_UEVENT_CREATE && u.has_count &&
	      u.count == 1 && u.pid == 812, "create uevent");
	kvm_uevent_describe(&u, buf, sizeof(buf));
	CHECK_STR(buf, "KVM VM created by PID 812, 1 VM now", "create described");
	CHECK(kvm_uevent_parse("destroy", "0", "812", &u) == 0 && u.kind == KVM_UEVENT_DESTROY && u.count == 0,
	      "destroy uevent");
	kvm_uevent_describe(&u, buf, sizeof(buf));
	CHECK_STR(buf, "KVM VM destroyed (created by PID 812), 0 VMs now", "destroy described");
	CHECK(kvm_uevent_parse(NULL, NULL, NULL, &u) == 0 && u.kind == KVM_UEVENT_OTHER && !u.has_count && u.pid == 0,
	      "no properties");
	kvm_uevent_describe(&u, buf, sizeof(buf));
	CHECK_STR(buf, "KVM VM changed", "no properties described");
	CHECK(kvm_uevent_parse("create", "-1", NULL, &u) == -EINVAL, "negative count refused");
	CHECK(kvm_uevent_parse("create", "1x", NULL, &u) == -EINVAL, "trailing garbage refused");
	CHECK(kvm_uevent_parse("create", "", NULL, &u) == -EINVAL, "empty count refused");
	CHECK(kvm_uevent_parse("create", "1", "99999999999", &u) == -EINVAL, "PID out of range refused");
	CHECK(kvm_uevent_parse("create", "4294967296", NULL, &u) == -EINVAL, "count out of range refused");
	CHECK(module_is_watched("kvm") && module_is_watched("kvm_amd") && module_is_watched("kvm_intel") &&
	      module_is_watched("virthw") && !module_is_watched("kvmgt") && !module_is_watched(NULL),
	      "watched modules");
}

/* --- fake /proc and /sys trees ---------------------------------------------- */

static char root[] = "/tmp/test-daemon.XXXXXX";

static void mk_len(const char *rel, const char *content, size_t len)
{
	char path[512], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (slash = strchr(path + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	if (!content) {
		mkdir(path, 0755);
		return;
	}
	f = fopen(path, "w");
	if (f) {
		fwrite(content, 1, len, f);
		fclose(f);
	}
}

static void mk(const char *rel, const char *content)
{
	mk_len(rel, content, content ? strlen(content) : 0);
}

static void mklink(const char *rel, const char *target)
{
	char path[512];

	mk(rel, "");
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	unlink(path);
	if (symlink(target, path) < 0)
		perror("symlink");
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void test_cmdline(void)
{
	_cleanup_free_ char *a = cmdline_from_buf("qemu\0-m\0001G\0", 12);
	_cleanup_free_ char *b = cmdline_from_buf("", 0);
	_cleanup_free_ char *c = cmdline_from_buf("a\tb\0c", 5);

	CHECK_STR(a, "qemu -m 1G", "cmdline joined");
	CHECK_STR(b, "", "empty cmdline");
	CHECK_STR(c, "a?b c", "control characters replaced, no final NUL");
	CHECK(fd_link_is_kvm_vm("anon_inode:kvm-vm"), "kvm-vm link");
	CHECK(!fd_link_is_kvm_vm("anon_inode:kvm-vcpu:0") && !fd_link_is_kvm_vm("/dev/kvm") &&
	      !fd_link_is_kvm_vm("anon_inode:kvm-vm2") && !fd_link_is_kvm_vm(NULL), "other links");
}

static void test_fake_tree(void)
{
	struct vm_owner *v = NULL;
	size_t n = 0;
	unsigned total = 0;
	int r;

	mklink("proc/812/fd/3", "anon_inode:kvm-vm");
	mklink("proc/812/fd/4", "anon_inode:kvm-vcpu:0");
	mklink("proc/812/fd/7", "anon_inode:kvm-vm");
	mk("proc/812/comm", "qemu-system-x86\n");
	mk_len("proc/812/cmdline", "qemu-system-x86_64\0-enable-kvm\0", 32);
	mklink("proc/99/fd/5", "anon_inode:kvm-vm");
	mk("proc/99/comm", "kvm-vm\n");
	mklink("proc/40/fd/0", "/dev/null");
	mklink("proc/7/fd/9", "anon_inode:kvm-vm");	/* "self": virtd's pinned VM */
	mk("proc/self", NULL);
	mk("proc/sys", NULL);

	r = scan_vms(root, 7, NULL, &v, &n, &total);
	CHECK(r == 0 && n == 2 && total == 3, "scan: 2 owners, 3 VMs (r=%d n=%zu total=%u)", r, n, total);
	if (r == 0 && n == 2) {
		CHECK(v[0].pid == 99 && v[0].n_vms == 1 && strcmp(v[0].comm, "kvm-vm") == 0 &&
		      strcmp(v[0].cmdline, "") == 0, "owner 99 (no cmdline file)");
		CHECK(v[1].pid == 812 && v[1].n_vms == 2 && strcmp(v[1].comm, "qemu-system-x86") == 0 &&
		      strcmp(v[1].cmdline, "qemu-system-x86_64 -enable-kvm") == 0, "owner 812");
	}
	vm_owners_free(v, n);

	mk("sys/module/kvm/initstate", "live\n");
	mk("sys/module/kvm/parameters/enable_virt_at_load", "N\n");
	mk("sys/module/kvm/parameters/halt_poll_ns", "200000\n");
	mk("sys/module/kvm_amd/parameters/npt", "Y\n");	/* built in: no initstate */
	CHECK(module_sysfs_state(root, "kvm") == MODULE_LOADED, "kvm loaded");
	CHECK(module_sysfs_state(root, "kvm_amd") == MODULE_BUILTIN, "kvm_amd built in");
	CHECK(module_sysfs_state(root, "kvm_intel") == -ENOENT, "kvm_intel absent");

	mk("run/modprobe.d/virtd.conf", "options kvm enable_virt_at_load=0\n");
	mk("dev/kvm", "");
	{
		struct observe_sources src = { .root = root, .self = 7, .hw_error = "virthw module is not loaded" };
		struct kvm_observation k;

		r = observe(&src, &k);
		CHECK(r == 0, "observe the fake tree");
		if (r == 0) {
			CHECK(k.obs.kvm == MODULE_LOADED && k.obs.vendor == MODULE_BUILTIN &&
			      strcmp(k.vendor_module, "kvm_amd") == 0, "modules: kvm loaded, kvm_amd built in");
			CHECK(k.obs.has_enable_virt_at_load && !k.obs.enable_virt_at_load, "enable_virt_at_load=N");
			CHECK(k.obs.dropin.exists && k.obs.dropin.enable_virt_at_load == 0 && !k.obs.dropin.block_vendor,
			      "drop-in read");
			CHECK(k.obs.dev_kvm && k.obs.n_vms == 3 && k.obs.vm_pids[0] == 99 && k.obs.vm_pids[1] == 812 &&
			      k.obs.vm_pids[2] == 0, "VMs and PIDs, each PID once");
			CHECK(k.n_params == 3 && strcmp(k.params[0].name, "kvm.enable_virt_at_load") == 0 &&
			      strcmp(k.params[2].name, "kvm_amd.npt") == 0 && strcmp(k.params[2].value, "Y") == 0,
			      "parameters, sorted");
			CHECK(k.obs.n_cpus == 0 && strcmp(k.hw_error, "virthw module is not loaded") == 0,
			      "no virthw: no CPUs, and why");
			kvm_observation_done(&k);
		}
		/* No vendor module: no VM can exist, whatever /proc holds (it is not scanned). */
		{
			char path[512];

			snprintf(path, sizeof(path), "%s/sys/module/kvm_amd", root);
			nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		}
		r = observe(&src, &k);
		CHECK(r == 0 && k.obs.vendor == MODULE_MISSING && k.obs.n_vms == 0 && k.n_vm_owners == 0,
		      "no vendor module loaded: no VMs counted (n_vms %u)", r == 0 ? k.obs.n_vms : 0);
		if (r == 0)
			kvm_observation_done(&k);
	}
}

/* A shared-mode hypervisor's own KVM VMs: its process, holding its device open, made them. */
static void test_hv_vms(void)
{
	static struct hv_profiles ps;
	struct hv_profile *p = &ps.p[0];
	struct hv_vm_match hm = { .profiles = &ps, .shared = { true } };
	struct vm_owner *v = NULL;
	struct config cfg;
	char path[512], name[64], buf[512];
	size_t n = 0;
	unsigned total = 0;
	int r;

	snprintf(path, sizeof(path), "%s/proc", root);
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	snprintf(path, sizeof(path), "%s/sys", root);
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);

	memset(&ps, 0, sizeof(ps));
	ps.n = 1;
	snprintf(p->name, sizeof(p->name), "fakehv");
	snprintf(p->devices.items[0], sizeof(p->devices.items[0]), "/dev/fakehvdrvu");
	snprintf(p->devices.items[1], sizeof(p->devices.items[1]), "/dev/fakehvdrv");
	p->devices.n = 2;
	snprintf(p->processes.items[0], sizeof(p->processes.items[0]), "FakeHVHeadlessLongName");
	snprintf(p->processes.items[1], sizeof(p->processes.items[1]), "FakeHVVM");
	p->processes.n = 2;

	/* By comm (cut to 15 by the kernel), holding the second device, named by --comment. */
	mklink("proc/500/fd/3", "anon_inode:kvm-vm");
	mklink("proc/500/fd/4", "/dev/fakehvdrv");
	mk("proc/500/comm", "FakeHVHeadlessL\n");
	mk_len("proc/500/cmdline", "FakeHVHeadlessLongName\0--comment\0tiny vm\0--startvm\0f00d\0", 56);
	/* By the exe's base name, named by --startvm=. */
	mklink("proc/501/fd/0", "/dev/fakehvdrvu");
	mklink("proc/501/fd/7", "anon_inode:kvm-vm");
	mklink("proc/501/fd/8", "anon_inode:kvm-vm");
	mk("proc/501/comm", "EMT-0\n");
	mklink("proc/501/exe", "/usr/lib/fakehv/FakeHVVM (deleted)");
	mk_len("proc/501/cmdline", "/usr/lib/fakehv/FakeHVVM\0--startvm=second\0", 42);
	/* Its name but not its device: a KVM VM. */
	mklink("proc/502/fd/3", "anon_inode:kvm-vm");
	mklink("proc/502/fd/4", "/dev/null");
	mk("proc/502/comm", "FakeHVVM\n");
	/* Its device but another name: a KVM VM too. */
	mklink("proc/503/fd/3", "anon_inode:kvm-vm");
	mklink("proc/503/fd/4", "/dev/fakehvdrv");
	mk("proc/503/comm", "FakeHVVMx\n");
	/* Its name and device, no VM, no name in the command line: not a VM owner at all. */
	mklink("proc/504/fd/4", "/dev/fakehvdrv");
	mk("proc/504/comm", "FakeHVVM\n");

	name[0] = '\0';
	CHECK(vm_holder_hypervisor(root, 504, &hm, name, sizeof(name)) == 0 && strcmp(name, "FakeHVVM") == 0,
	      "holder by comm, named by its comm without arguments (%s)", name);
	CHECK(vm_holder_hypervisor(root, 502, &hm, name, sizeof(name)) == -1, "no device held: not the hypervisor's");
	CHECK(vm_holder_hypervisor(root, 503, &hm, name, sizeof(name)) == -1, "another name: not the hypervisor's");
	CHECK(vm_holder_hypervisor(root, 500, NULL, name, sizeof(name)) == -1, "no profiles: nobody's");

	r = scan_vms(root, 0, &hm, &v, &n, &total);
	CHECK(r == 0 && n == 4 && total == 2, "shared: 4 owners, 2 KVM VMs (r=%d n=%zu total=%u)", r, n, total);
	if (r == 0 && n == 4) {
		CHECK(v[0].pid == 500 && strcmp(v[0].hv, "fakehv") == 0 && strcmp(v[0].name, "tiny vm") == 0,
		      "500: fakehv's, named by --comment (%s/%s)", v[0].hv, v[0].name);
		CHECK(v[1].pid == 501 && v[1].n_vms == 2 && strcmp(v[1].hv, "fakehv") == 0 &&
		      strcmp(v[1].name, "second") == 0, "501: fakehv's by its exe, named by --startvm= (%s/%s)",
		      v[1].hv, v[1].name);
		CHECK(v[2].pid == 502 && !v[2].hv[0] && v[3].pid == 503 && !v[3].hv[0], "502 and 503: KVM's");
		vm_owners_describe(total, v, n, buf, sizeof(buf));
		CHECK_STR(buf, "2 KVM VMs running: pid 502 (FakeHVVM), pid 503 (FakeHVVMx); fakehv VMs run inside KVM: "
			  "tiny vm (pid 500), second (pid 501)", "described, KVM's first");
		vm_owners_describe(0, v, 2, buf, sizeof(buf));
		CHECK_STR(buf, "fakehv VMs run inside KVM: tiny vm (pid 500), second (pid 501)",
			  "the hypervisor's alone: no \"0 KVM VMs\"");
	}
	vm_owners_free(v, n);

	hm.shared[0] = false;
	r = scan_vms(root, 0, &hm, &v, &n, &total);
	CHECK(r == 0 && n == 4 && total == 5 && !v[0].hv[0] && !v[1].hv[0], "exclusive mode: all 5 are KVM VMs");
	vm_owners_free(v, n);
	CHECK(vms_running(root, 0, &hm, buf, sizeof(buf)), "VMs running");

	/* observe(): the mode from the configuration, the hypervisor's VMs counted apart. */
	config_init_defaults(&cfg);
	mk("sys/module/kvm/initstate", "live\n");
	mk("sys/module/kvm_intel/initstate", "live\n");
	{
		struct observe_sources src = { .root = root, .profiles = &ps, .cfg = &cfg, .release = "6.16.1" };
		struct kvm_observation k;

		r = observe(&src, &k);
		CHECK(r == 0 && k.obs.n_vms == 5 && k.obs.n_hv_vms == 0, "no rule, no override: exclusive, 5 KVM VMs");
		if (r == 0)
			kvm_observation_done(&k);
		p->rules[0] = (struct profile_rule) { .vendor = PROFILE_VENDOR_INTEL, .cmp = PROFILE_KERNEL_AT_LEAST,
						      .major = 6, .minor = 16, .mode = HV_MODE_SHARED };
		p->n_rules = 1;
		r = observe(&src, &k);
		CHECK(r == 0 && k.obs.n_vms == 2 && k.obs.n_hv_vms == 3 && k.n_vm_owners == 4 &&
		      k.obs.vm_pids[0] == 502 && k.obs.vm_pids[1] == 503 && k.obs.vm_pids[2] == 0,
		      "intel >=6.16 shared: 2 KVM VMs (502, 503), 3 of fakehv's (n_vms %u, n_hv_vms %u)",
		      r == 0 ? k.obs.n_vms : 0, r == 0 ? k.obs.n_hv_vms : 0);
		if (r == 0)
			kvm_observation_done(&k);
		src.release = "6.12.9";
		r = observe(&src, &k);
		CHECK(r == 0 && k.obs.n_vms == 5 && k.obs.n_hv_vms == 0, "6.12: the rule does not match, 5 KVM VMs");
		if (r == 0)
			kvm_observation_done(&k);
	}

	/*
	 * A VM process in a chroot with its own /dev (its fd link reads another
	 * path: /dev/zero here for the profile's /dev/fakehvzero, the same
	 * character device), whose VM the driver made with no descriptor left:
	 * known from KVM's create uevent (thread 506 of process 505).
	 */
	mklink("dev/fakehvzero", "/dev/zero");
	snprintf(p->devices.items[2], sizeof(p->devices.items[2]), "/dev/fakehvzero");
	p->devices.n = 3;
	mklink("proc/505/fd/3", "/dev/zero");
	mk("proc/505/comm", "FakeHVVM\n");
	mk_len("proc/505/cmdline", "FakeHVVM\0--startvm\0chrooted\0", 27);
	mk("proc/505/stat", "505 (Fake HV) VM) S 1 505 505 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 4242 1000 10\n");
	mk("proc/506/status", "Name:\tEMT-0\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t505\nNgid:\t0\nPid:\t506\n");
	mk("proc/502/stat", "502 (FakeHVVM) S 1 502 502 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 77 1000 10\n");
	CHECK(proc_tgid(root, 506) == 505 && proc_tgid(root, 999) == -ESRCH, "thread 506's process: 505");
	CHECK(proc_start_time(root, 505) == 4242 && proc_start_time(root, 999) == 0,
	      "start time after a command with ') ' in it");
	hm.shared[0] = true;
	CHECK(vm_holder_hypervisor(root, 505, &hm, name, sizeof(name)) == 0 && strcmp(name, "chrooted") == 0,
	      "a chroot's node, by device number (%s)", name);
	{
		const struct hv_made_vm made[] = {
			{ .tid = 506, .pid = 505, .start = 4242 },
			{ .tid = 610, .pid = 505, .start = 1 },		/* PID reused since: not counted */
			{ .tid = 502, .pid = 502, .start = 77 },	/* not the hypervisor's, and has a descriptor */
			{ .tid = 511, .pid = 503, .start = 0 },		/* no stat file: gone */
			{ .tid = 508, .pid = 505, .start = 4242 },	/* a second one of 505's */
			{ .tid = 700, .pid = 700, .start = 5 },		/* gone */
		};

		hm.made = made;
		hm.n_made = ELEMENTSOF(made);
		r = scan_vms(root, 0, &hm, &v, &n, &total);
		CHECK(r == 0 && n == 5 && total == 2, "made VMs: 5 owners, 2 KVM VMs (r=%d n=%zu total=%u)", r, n,
		      total);
		if (r == 0 && n == 5) {
			CHECK(v[2].pid == 502 && v[2].n_vms == 1 && !v[2].hv[0], "502: one VM, its descriptor's");
			CHECK(v[4].pid == 505 && v[4].n_vms == 2 && strcmp(v[4].hv, "fakehv") == 0 &&
			      strcmp(v[4].name, "chrooted") == 0, "505: fakehv's made VM, named (%s/%s, %u)", v[4].hv,
			      v[4].name, v[4].n_vms);
		}
		vm_owners_free(v, n);
		hm.made = NULL;
		hm.n_made = 0;
	}
	p->devices.n = 2;
	p->n_rules = 0;
	snprintf(path, sizeof(path), "%s/proc", root);
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	snprintf(path, sizeof(path), "%s/sys", root);
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* --- status ----------------------------------------------------------------- */

static const struct observed_cpu cpus_on[] = {
	{ .id = 0, .online = true, .feature = VIRT_FEATURE_SVM, .fw_enabled = true, .virt_on = true },
	{ .id = 1, .online = true, .feature = VIRT_FEATURE_SVM, .fw_enabled = true, .virt_on = true },
	{ .id = 2, .online = false },
};
static const struct observed_cpu cpus_off[] = {
	{ .id = 0, .online = true, .feature = VIRT_FEATURE_SVM, .fw_enabled = true, .virt_on = false },
	{ .id = 1, .online = true, .feature = VIRT_FEATURE_SVM, .fw_enabled = true, .virt_on = false },
};

static void test_owner_and_applied(void)
{
	struct config cfg;
	struct observed o = {
		.kvm = MODULE_LOADED, .vendor = MODULE_LOADED, .has_enable_virt_at_load = true,
		.enable_virt_at_load = true, .cpus = cpus_on, .n_cpus = 3,
		.dropin = { .enable_virt_at_load = -1 },
	};

	config_init_defaults(&cfg);
	CHECK_STR(model_cpu_owner(&o, NULL, &cpus_on[0]), "kvm", "eval=1: kvm owns");
	CHECK(model_cpu_owner(&o, NULL, &cpus_on[2]) == NULL, "offline: no owner");
	CHECK_STR(model_cpu_owner(&o, NULL, &cpus_off[0]), "none", "off: none");
	o.enable_virt_at_load = false;
	o.pinned_vm = true;
	CHECK_STR(model_cpu_owner(&o, NULL, &cpus_on[0]), "virtd", "only the pinned VM: virtd");
	o.n_vms = 1;
	CHECK_STR(model_cpu_owner(&o, NULL, &cpus_on[0]), "kvm", "VMs: kvm");
	o.n_vms = 0;
	o.pinned_vm = false;
	CHECK_STR(model_cpu_owner(&o, NULL, &cpus_on[0]), "unknown", "nothing explains it: unknown");
	o.tdx_active = true;
	CHECK_STR(model_cpu_owner(&o, NULL, &cpus_on[0]), "tdx", "TDX");
	o.tdx_active = false;

	cfg.policy = VIRT_POLICY_FIRST_VM;
	CHECK_STR(model_applied_policy(&cfg, &o, POLICY_HOLDS), "first-vm", "holds: the configured policy");
	o.enable_virt_at_load = true;
	CHECK_STR(model_applied_policy(&cfg, &o, POLICY_PENDING), "boot", "pending with eval=1: boot");
	o.enable_virt_at_load = false;
	cfg.policy = VIRT_POLICY_NEVER;
	CHECK_STR(model_applied_policy(&cfg, &o, POLICY_PENDING), "first-vm", "never pending, eval=0: first-vm");
	o.vendor = MODULE_UNLOADED;
	o.dropin = (struct policy_dropin) { .exists = true, .enable_virt_at_load = 0, .block_vendor = true };
	CHECK_STR(model_applied_policy(&cfg, &o, POLICY_CANNOT_HOLD), "never", "unloaded and blocked: never");

	CHECK_STR(model_state(POLICY_HOLDS, &(struct policy_check) {}), "holds", "state holds");
	CHECK_STR(model_state(POLICY_HOLDS, &(struct policy_check) { .n_mismatched = 1 }), "mismatch", "state mismatch");
	CHECK_STR(model_state(POLICY_PENDING, &(struct policy_check) { .n_mismatched = 1 }), "pending", "state pending");
	CHECK_STR(model_state(POLICY_CANNOT_HOLD, NULL), "cannot-hold", "state cannot-hold");
}

static void test_words(void)
{
	struct config cfg;
	struct observed o = { .kvm = MODULE_LOADED, .vendor = MODULE_LOADED, .cpus = cpus_on, .n_cpus = 3 };
	char buf[256];

	config_init_defaults(&cfg);
	cfg.policy = VIRT_POLICY_BOOT;
	status_words(&cfg, STATE_HOLDS, "", &o, buf, sizeof(buf));
	CHECK_STR(buf, "policy boot: virtualization on, 2/2 CPUs, 0 VMs", "boot words");
	o.pinned_vm = true;
	status_words(&cfg, STATE_HOLDS, "", &o, buf, sizeof(buf));
	CHECK_STR(buf, "policy boot: virtualization on, 2/2 CPUs (virtd's pinned VM), 0 VMs", "boot with pinned VM");
	cfg.policy = VIRT_POLICY_FIRST_VM;
	o.pinned_vm = false;
	o.cpus = cpus_off;
	o.n_cpus = 2;
	status_words(&cfg, STATE_HOLDS, "", &o, buf, sizeof(buf));
	CHECK_STR(buf, "policy first-vm: no VMs, virtualization off (0/2 CPUs on)", "first-vm idle");
	o.n_vms = 2;
	o.cpus = cpus_on;
	o.n_cpus = 3;
	status_words(&cfg, STATE_HOLDS, "", &o, buf, sizeof(buf));
	CHECK_STR(buf, "policy first-vm: 2 VMs, virtualization on, 2/2 CPUs", "first-vm with VMs");
	cfg.policy = VIRT_POLICY_NEVER;
	o.cpus = cpus_off;
	o.n_cpus = 2;
	o.n_vms = 0;
	status_words(&cfg, STATE_HOLDS, "", &o, buf, sizeof(buf));
	CHECK_STR(buf, "policy never: KVM's vendor module unloaded and blocked, virtualization off (0/2 CPUs on)",
		  "never words");
	status_words(&cfg, STATE_PENDING, "2 KVM VMs running", &o, buf, sizeof(buf));
	CHECK_STR(buf, "policy never pending: 2 KVM VMs running", "pending words");
	status_words(&cfg, STATE_CANNOT_HOLD, "kvm_amd is built in", &o, buf, sizeof(buf));
	CHECK_STR(buf, "policy never cannot hold: kvm_amd is built in", "cannot-hold words");
	status_words(&cfg, STATE_STARTING, "", NULL, buf, sizeof(buf));
	CHECK_STR(buf, "policy never: starting", "starting words");
}

static void test_json(void)
{
	struct config cfg;
	struct vm_owner vms[] = { { .pid = 812, .n_vms = 1, .comm = "qemu", .cmdline = (char *)"qemu \"x\"" } };
	struct module_param params[] = { { .name = (char *)"kvm.enable_virt_at_load", .value = (char *)"N" } };
	struct kvm_observation k = {
		.obs = { .kvm = MODULE_LOADED, .vendor = MODULE_LOADED, .has_enable_virt_at_load = true, .n_vms = 1,
			 .dev_kvm = true, .dropin = { .exists = true, .enable_virt_at_load = 0 },
			 .cpus = cpus_on, .n_cpus = 3 },
		.vendor_module = "kvm_amd",
		.vms = vms, .n_vm_owners = 1,
		.params = params, .n_params = 1,
	};
	struct policy_check check = { .n_checked = 2 };
	struct status_input in = {
		.version = "0.1", .config_path = "/etc/virtd.conf", .cfg = &cfg, .state = "holds", .reason = "",
		.applied_policy = "first-vm", .kobs = &k, .verify = &check,
	};
	struct cpu_model model[3];
	_cleanup_free_ char *j = NULL, *j2 = NULL;

	config_init_defaults(&cfg);
	model_cpus(&cfg, &k.obs, NULL, model);
	in.cpus = model;
	CHECK(status_json(&in, &j) == 0, "status JSON built");
	CHECK_STR(j,
		  "{\"version\":\"0.1\",\"policy\":\"first-vm\",\"applied_policy\":\"first-vm\",\"state\":\"holds\","
		  "\"reason\":\"\",\"config\":{\"path\":\"/etc/virtd.conf\",\"policy\":\"first-vm\",\"timer_mode\":\"auto\","
		  "\"min_max_delay_ns\":10000000000},"
		  "\"kvm\":{\"kvm_module\":\"loaded\",\"vendor_module\":\"kvm_amd\",\"vendor_state\":\"loaded\","
		  "\"enable_virt_at_load\":false,\"dev_kvm\":true,\"autoload_blocked\":false,"
		  "\"dropin\":\"/run/modprobe.d/virtd.conf\",\"params\":{\"kvm.enable_virt_at_load\":\"N\"}},"
		  "\"vm_count\":1,\"vms\":[{\"pid\":812,\"vms\":1,\"comm\":\"qemu\",\"cmdline\":\"qemu \\\"x\\\"\",\"owner\":\"kvm\",\"name\":null}],"
		  "\"pinned_vm\":false,"
		  "\"cpus\":[{\"cpu\":0,\"online\":true,\"feature\":\"svm\",\"firmware_enabled\":true,\"virt_on\":true,"
		  "\"expected\":\"on\",\"owner\":\"kvm\",\"ok\":true},"
		  "{\"cpu\":1,\"online\":true,\"feature\":\"svm\",\"firmware_enabled\":true,\"virt_on\":true,"
		  "\"expected\":\"on\",\"owner\":\"kvm\",\"ok\":true},"
		  "{\"cpu\":2,\"online\":false,\"feature\":null,\"firmware_enabled\":null,\"virt_on\":null,"
		  "\"expected\":\"skip\",\"owner\":null,\"ok\":true}],"
		  "\"verify\":{\"ok\":true,\"checked\":2,\"mismatched\":0,\"message\":\"\"},"
		  "\"caps\":null,\"actions_failed\":null,\"timer\":null,\"locks\":[],\"lock_waiting\":0,\"hypervisors\":[],\"handoff\":null,\"profile_errors\":[]}",
		  "full status JSON");

	in.kobs = NULL;
	in.verify = NULL;
	in.state = "starting";
	in.applied_policy = NULL;
	in.actions_failed = "Failed to load kvm_amd: \x01";
	CHECK(status_json(&in, &j2) == 0, "starting JSON built");
	CHECK(j2 && strstr(j2, "\"kvm\":null,\"vm_count\":0,\"vms\":[],\"pinned_vm\":false,\"cpus\":[]") &&
	      strstr(j2, "\"applied_policy\":null") && strstr(j2, "\"verify\":null") &&
	      strstr(j2, "\"actions_failed\":\"Failed to load kvm_amd: \\u0001\""), "starting JSON: %s", j2 ? j2 : "");
}

static void test_timer_status(void)
{
	struct config cfg;
	struct vm_owner vms[] = { { .pid = 812, .n_vms = 1, .comm = "qemu", .cmdline = (char *)"qemu-system-x86_64" } };
	struct module_param params[] = { { .name = (char *)"kvm_intel.preemption_timer", .value = (char *)"Y" } };
	struct kvm_observation k = {
		.obs = { .kvm = MODULE_LOADED, .vendor = MODULE_LOADED, .n_vms = 1, .cpus = cpus_on, .n_cpus = 3 },
		.vendor_module = "kvm_intel",
		.vms = vms, .n_vm_owners = 1,
		.params = params, .n_params = 1,
		.have_caps = true,
		.caps = { .feature = VIRTHW_FEATURE_VMX, .tsc_khz = 100000, .has_timer_rate = true, .timer_rate = 0,
			  .has_timer_pin_ctl = true, .timer_pin_ctl = true, .has_timer_erratum = true },
	};
	struct virthw_settings mod = { .mode = VIRTHW_TIMER_MODE_AUTO, .min_max_delay_ns = 60000000000ULL,
				       .timer_use = false, .reason = VIRTHW_TIMER_REASON_SHORT_MAX_DELAY };
	struct timer_status t = {};
	struct status_input in = { .version = "0.1", .config_path = "/etc/virtd.conf", .cfg = &cfg, .state = "holds",
				   .reason = "", .kobs = &k, .timer = &t };
	struct cpu_model model[3];
	_cleanup_free_ char *j = NULL;
	char buf[600];

	config_init_defaults(&cfg);
	cfg.timer_min_max_delay_ns = 60000000000ULL;
	model_cpus(&cfg, &k.obs, NULL, model);
	in.cpus = model;

	/* Bochs-like: 42.95 s < 60 s → off; kvm_intel has Y with a VM running → pending. */
	timer_status_fill(&cfg, &k, NULL, &t);
	CHECK(t.decided && !t.decision.use && t.decision.reason == VIRTHW_TIMER_REASON_SHORT_MAX_DELAY,
	      "timer status: off for a short maximum delay");
	CHECK(strcmp(t.kvm_state, TIMER_KVM_PENDING) == 0 && t.has_param && t.param && !t.want_param,
	      "timer status: kvm_intel Y with a VM: pending (%s)", t.kvm_state);
	CHECK(strstr(t.kvm_reason, "reloaded with N when the KVM VMs have exited: 1 KVM VM running: pid 812 "
				   "(qemu-system-x86_64)") != NULL, "timer status: pending names the VM: %s", t.kvm_reason);
	/* The same VM made by a shared-mode hypervisor: still in kvm_intel's way, named as its. */
	snprintf(vms[0].hv, sizeof(vms[0].hv), "vbox");
	snprintf(vms[0].name, sizeof(vms[0].name), "win11");
	k.obs.n_vms = 0;
	k.n_hv_vms = k.obs.n_hv_vms = 1;
	timer_status_fill(&cfg, &k, NULL, &t);
	CHECK(strcmp(t.kvm_state, TIMER_KVM_PENDING) == 0 &&
	      strstr(t.kvm_reason, "reloaded with N when the VMs have exited: vbox VMs run inside KVM: win11 (pid 812)"),
	      "timer status: a hypervisor's VM keeps the reload pending: %s", t.kvm_reason);
	CHECK(strcmp(model_cpu_owner(&k.obs, NULL, &cpus_on[0]), "kvm") == 0, "a hypervisor's VM: the CPU is kvm's");
	vms[0].hv[0] = vms[0].name[0] = '\0';
	k.obs.n_vms = 1;
	k.n_hv_vms = k.obs.n_hv_vms = 0;
	timer_status_fill(&cfg, &k, NULL, &t);
	timer_status_observed(&t, &k);
	CHECK(k.obs.has_want_preemption_timer && !k.obs.want_preemption_timer && k.obs.has_preemption_timer &&
	      k.obs.preemption_timer, "timer status: the policy engine sees wanted N, loaded Y");
	timer_status_module(&t, &mod, NULL);
	CHECK(t.has_module && !t.module_mismatch, "timer status: virthw agrees");
	timer_status_words(&t, buf, sizeof(buf));
	CHECK(strncmp(buf, "preemption timer: off (maximum delay 42.9 s < minimum 60 s); kvm_intel has preemption_timer=Y; "
			   "it is reloaded with N", strlen("preemption timer: off (maximum delay 42.9 s < minimum 60 s); "
							   "kvm_intel has preemption_timer=Y; it is reloaded with N")) == 0,
	      "timer words: %s", buf);
	CHECK(status_json(&in, &j) == 0, "timer JSON built");
	CHECK(j && strstr(j, ",\"timer\":{\"mode\":\"auto\",\"min_max_delay_ns\":60000000000,\"decided\":true,"
			     "\"applies\":true,\"feature\":\"vmx\",\"tsc_khz\":100000,\"tsc_assumed\":false,\"rate\":0,"
			     "\"pin_control\":true,\"erratum\":false,\"max_delay_ns\":42949672960,\"use\":false,"
			     "\"reason\":\"short-max-delay\",\"reason_text\":\"maximum delay 42.9 s < minimum 60 s\","
			     "\"warning\":false,\"module\":{\"mode\":\"auto\",\"min_max_delay_ns\":60000000000,"
			     "\"use\":false,\"reason\":\"short-max-delay\",\"matches\":true},\"module_error\":null,"
			     "\"kvm_intel\":{\"state\":\"pending\",\"want\":false,\"current\":true,\"reason\":"),
	      "timer JSON: %s", j ? strstr(j, "\"timer\"") : "");

	/* VM gone: pending until the reload; after it, applied. */
	k.obs.n_vms = 0;
	k.n_vm_owners = 0;
	timer_status_fill(&cfg, &k, NULL, &t);
	CHECK(strcmp(t.kvm_state, TIMER_KVM_PENDING) == 0 && strstr(t.kvm_reason, "a reload with N is due"),
	      "timer status: no VM, reload due");
	timer_status_fill(&cfg, &k, "Failed to unload kvm_intel: busy", &t);
	CHECK(strcmp(t.kvm_state, TIMER_KVM_CANNOT_APPLY) == 0 && strstr(t.kvm_reason, "busy"),
	      "timer status: a failed reload cannot apply");
	params[0].value = (char *)"N";
	timer_status_fill(&cfg, &k, NULL, &t);
	CHECK(strcmp(t.kvm_state, TIMER_KVM_APPLIED) == 0, "timer status: N loaded: applied");
	k.obs.vendor = MODULE_BUILTIN;
	params[0].value = (char *)"Y";
	timer_status_fill(&cfg, &k, NULL, &t);
	CHECK(strcmp(t.kvm_state, TIMER_KVM_CANNOT_APPLY) == 0 &&
	      strstr(t.kvm_reason, "boot with kvm_intel.preemption_timer=N"), "timer status: built in: cannot apply");
	k.obs.vendor = MODULE_UNLOADED;
	timer_status_fill(&cfg, &k, NULL, &t);
	CHECK(strcmp(t.kvm_state, TIMER_KVM_NOT_LOADED) == 0 && !t.has_param, "timer status: not loaded");

	/* virthw decided otherwise. */
	mod.timer_use = true;
	timer_status_module(&t, &mod, NULL);
	CHECK(t.module_mismatch, "timer status: a different decision from virthw is a mismatch");
	timer_status_module(&t, NULL, "virthw module is not loaded");
	CHECK(!t.has_module && !t.module_mismatch && strcmp(t.module_error, "virthw module is not loaded") == 0,
	      "timer status: no virthw");

	/* AMD: not applicable; the policy engine gets no kvm_intel wish. */
	k.caps = (struct virthw_caps) { .feature = VIRTHW_FEATURE_SVM, .tsc_khz = 2994374 };
	k.vendor_module = "kvm_amd";
	k.obs.vendor = MODULE_LOADED;
	timer_status_fill(&cfg, &k, NULL, &t);
	timer_status_observed(&t, &k);
	CHECK(strcmp(t.kvm_state, TIMER_KVM_NOT_APPLICABLE) == 0 && !k.obs.has_want_preemption_timer &&
	      t.decision.reason == VIRTHW_TIMER_REASON_NOT_VMX, "timer status: SVM does not apply");
	timer_status_words(&t, buf, sizeof(buf));
	CHECK_STR(buf, "preemption timer: does not apply (not VMX)", "timer words on SVM");
	free(j);
	j = NULL;
	CHECK(status_json(&in, &j) == 0 && strstr(j, "\"applies\":false,\"feature\":\"svm\"") &&
	      strstr(j, "\"kvm_intel\":{\"state\":\"not-applicable\",\"want\":null,\"current\":null,"
			"\"reason\":\"does not apply: not VMX\"}"), "timer JSON on SVM");

	/* No capabilities: undecided, nothing pushed to kvm_intel. */
	k.have_caps = false;
	snprintf(k.hw_error, sizeof(k.hw_error), "virthw module is not loaded");
	timer_status_fill(&cfg, &k, NULL, &t);
	timer_status_observed(&t, &k);
	CHECK(!t.decided && strcmp(t.kvm_state, TIMER_KVM_UNKNOWN) == 0 && !k.obs.has_want_preemption_timer &&
	      strstr(t.kvm_reason, "virthw module is not loaded"), "timer status: undecided without virthw");
}

static void test_probe_json(void)
{
	struct virthw_probe p[2] = {
		/* fixture_probe_vmx, set below */
		{},
		{ .cpu = 1, .feature = VIRTHW_FEATURE_SVM, .iterations = 10, .tsc_khz = 0,
		  .round_trip = { .present = true, .count = 10, .min = 1, .median = 2, .mean = 3, .max = 4 } },
	};
	_cleanup_free_ char *j = NULL, *j1 = NULL;

	p[0] = fixture_probe_vmx;
	CHECK(probe_json(PROBE_CPU_ALL, 0, p, 2, &j) == 0, "probe JSON built");
	CHECK_STR(j,
		  "{\"cpu_request\":\"all\",\"iterations\":0,\"timer_use\":true,\"cpus\":["
		  FIXTURE_PROBE_VMX_JSON ","
		  "{\"cpu\":1,\"feature\":\"svm\",\"iterations\":10,\"tsc_khz\":0,\"timer_use\":null,"
		  "\"round_trip\":{\"count\":10,\"min\":1,\"median\":2,\"mean\":3,\"max\":4,\"median_ns\":null},"
		  "\"toggle\":null,\"toggle_ratio\":null,\"immediate\":null,\"immediate_method\":\"none\","
		  "\"timer_rate\":null,\"timer_programmed\":null,\"timer_expected\":null,\"timer_elapsed\":null,"
		  "\"timer_error_percent\":null,\"spurious_timer_exits\":0,\"interrupted\":0,\"duration_ns\":0}]}",
		  "probe JSON, VMX and SVM CPUs");
	CHECK(probe_json(3, 50, &p[1], 1, &j1) == 0 && j1 &&
	      strncmp(j1, "{\"cpu_request\":3,\"iterations\":50,\"timer_use\":null,\"cpus\":[{\"cpu\":1,", 62) == 0,
	      "probe JSON for one CPU: %s", j1 ? j1 : "");
	CHECK(probe_cycles_to_ns(3, 2000000) == 2 && probe_cycles_to_ns(1, 3000000) == 0 &&
	      probe_cycles_to_ns(5, 0) == UINT64_MAX && probe_cycles_to_ns(UINT64_MAX, 1) == UINT64_MAX,
	      "cycles to ns: rounded, unknown TSC, saturated");
}

static void test_hints(void)
{
	char buf[256];
	struct action a = { .kind = ACTION_WRITE_DROPIN,
			    .dropin = { .exists = true, .enable_virt_at_load = 1, .block_vendor = true } };

	CHECK(module_load_error_hint(-ENOENT) && strstr(module_load_error_hint(-ENOENT), "not built"), "ENOENT hint");
	CHECK(module_load_error_hint(-EKEYREJECTED) && strstr(module_load_error_hint(-EKEYREJECTED), "Secure Boot"),
	      "signature hint");
	CHECK(module_load_error_hint(-ENOEXEC) && strstr(module_load_error_hint(-ENOEXEC), "another kernel"),
	      "format hint");
	CHECK(module_load_error_hint(-ENOMEM) == NULL, "no hint for ENOMEM");
	action_describe(&a, "kvm_amd", buf, sizeof(buf));
	CHECK_STR(buf, "write /run/modprobe.d/virtd.conf (kvm.enable_virt_at_load=1, kvm_intel/kvm_amd blocked)",
		  "drop-in action described");
	a = (struct action) { .kind = ACTION_LOAD_KVM, .enable_virt_at_load = 0 };
	action_describe(&a, "kvm_amd", buf, sizeof(buf));
	CHECK_STR(buf, "load kvm with enable_virt_at_load=0", "load-kvm described");
	a = (struct action) { .kind = ACTION_UNLOAD_VENDOR };
	action_describe(&a, "kvm_intel", buf, sizeof(buf));
	CHECK_STR(buf, "unload kvm_intel", "unload described");
}

/* The helper protocol: requests refused before libkmod, replies checked, and the spawn path against fake helpers. */
static void test_kmod_proto(void)
{
	struct kmod_request q;
	struct kmod_reply y;
	char err[512], helper[600];
	kvm_backend *b = NULL;
	struct module_file f;
	FILE *fp;
	int r;

	{
		char *ok[] = { "virtd-kmod", "load", "kvm", "enable_virt_at_load=1", NULL };
		char *bad_name[] = { "virtd-kmod", "info", "../kvm", NULL };
		char *opt_name[] = { "virtd-kmod", "load", "-kvm", NULL };
		char *nl_opt[] = { "virtd-kmod", "load", "kvm", "a=1\nb=2", NULL };
		char *extra[] = { "virtd-kmod", "info", "kvm", "x", NULL };
		char *verb[] = { "virtd-kmod", "insmod", "kvm", NULL };
		char *nl_verb[] = { "virtd-kmod", "ok\nok", "kvm", NULL };

		CHECK(kmod_request_parse(4, ok, &q, err, sizeof(err)) == 0 && q.op == KMOD_OP_LOAD &&
		      strcmp(q.name, "kvm") == 0 && q.options && strcmp(q.options, "enable_virt_at_load=1") == 0,
		      "load request with options parsed");
		CHECK(kmod_request_parse(3, bad_name, &q, err, sizeof(err)) == -EINVAL && strstr(err, "invalid module name"),
		      "a path is no module name: %s", err);
		CHECK(kmod_request_parse(3, opt_name, &q, err, sizeof(err)) == -EINVAL, "a name starting with '-' refused");
		CHECK(kmod_request_parse(4, nl_opt, &q, err, sizeof(err)) == -EINVAL && strstr(err, "invalid module options"),
		      "options with a newline refused: %s", err);
		/* The refusal is the reply line: what it quotes is escaped (found by fuzz/kmod-proto). */
		CHECK(!strchr(err, '\n') && strstr(err, "'a=1\\x0ab=2'"), "the newline quoted as \\x0a: %s", err);
		CHECK(kmod_request_parse(3, nl_verb, &q, err, sizeof(err)) == -EINVAL && !strchr(err, '\n') &&
		      strstr(err, "'ok\\x0aok'"), "a request with a newline refused on one line: %s", err);
		CHECK(kmod_request_parse(4, extra, &q, err, sizeof(err)) == -EINVAL && strstr(err, "too many"),
		      "info takes no options: %s", err);
		CHECK(kmod_request_parse(3, verb, &q, err, sizeof(err)) == -EINVAL && strstr(err, "unknown request"),
		      "unknown request refused: %s", err);
		CHECK(kmod_request_parse(1, verb, &q, err, sizeof(err)) == -EINVAL, "no request refused");
	}
	/* The socket's form of a request: words each ended by a NUL. */
	{
		static const char unload[] = "unload\0kvm_amd";	/* the literal's own NUL ends the last word */
		static const char load[] = "load\0kvm\0enable_virt_at_load=1";
		static const char four[] = "load\0kvm\0a=1\0b=2";
		static const char open_end[] = { 'i', 'n', 'f', 'o', '\0', 'k', 'v', 'm' };
		char big[KMOD_PROTO_REQUEST_MAX + 2];

		CHECK(kmod_request_from_wire(unload, sizeof(unload), &q, err, sizeof(err)) == 0 && q.op == KMOD_OP_UNLOAD &&
		      strcmp(q.name, "kvm_amd") == 0 && !q.options, "unload request from the socket parsed");
		CHECK(kmod_request_from_wire(load, sizeof(load), &q, err, sizeof(err)) == 0 && q.op == KMOD_OP_LOAD &&
		      q.options && strcmp(q.options, "enable_virt_at_load=1") == 0, "load request from the socket parsed");
		CHECK(kmod_request_from_wire(four, sizeof(four), &q, err, sizeof(err)) == -EINVAL && strstr(err, "too many"),
		      "four words refused: %s", err);
		CHECK(kmod_request_from_wire(open_end, sizeof(open_end), &q, err, sizeof(err)) == -EINVAL &&
		      strstr(err, "not ended by a NUL"), "an unterminated request refused: %s", err);
		CHECK(kmod_request_from_wire("", 0, &q, err, sizeof(err)) == -EINVAL && strstr(err, "empty"),
		      "an empty request refused: %s", err);
		memset(big, 'a', sizeof(big));
		big[sizeof(big) - 1] = '\0';
		CHECK(kmod_request_from_wire(big, sizeof(big), &q, err, sizeof(err)) == -EINVAL && strstr(err, "longer than"),
		      "an oversized request refused: %s", err);
		CHECK(kmod_request_from_wire("\0\0", 2, &q, err, sizeof(err)) == -EINVAL, "empty words refused: %s", err);
		CHECK(kmod_reply_parse("ok\n", 3, KMOD_OP_UNLOAD, &y) == 0 && y.error == 0, "unload's ok parsed");
		CHECK(kmod_reply_parse("ok missing\n", 11, KMOD_OP_UNLOAD, &y) == -EBADMSG, "an info reply to an unload refused");
	}
	CHECK(kmod_reply_parse("ok\n", 3, KMOD_OP_LOAD, &y) == 0 && y.error == 0, "ok parsed");
	CHECK(kmod_reply_parse("ok", 2, KMOD_OP_LOAD, &y) == -EBADMSG, "a reply without its newline is refused");
	CHECK(kmod_reply_parse("ok\nok\n", 6, KMOD_OP_LOAD, &y) == -EBADMSG, "two lines refused");
	CHECK(kmod_reply_parse("ok missing\n", 11, KMOD_OP_LOAD, &y) == -EBADMSG, "an info reply to a load refused");
	CHECK(kmod_reply_parse("ok available a,enable_virt_at_load,b\n", 37, KMOD_OP_INFO, &y) == 0 && y.available &&
	      kmod_params_have(y.params, "enable_virt_at_load") && !kmod_params_have(y.params, "enable_virt"),
	      "info with parameters parsed");
	CHECK(kmod_reply_parse("ok missing\n", 11, KMOD_OP_INFO, &y) == 0 && !y.available, "missing parsed");
	CHECK(kmod_reply_parse("error 2 Failed to load x: gone\n", 31, KMOD_OP_LOAD, &y) == 0 && y.error == ENOENT &&
	      strcmp(y.message, "Failed to load x: gone") == 0, "error parsed");
	CHECK(kmod_reply_parse("error -2 x\n", 11, KMOD_OP_LOAD, &y) == -EBADMSG, "negative errno refused");
	CHECK(kmod_reply_parse("error 2\n", 8, KMOD_OP_LOAD, &y) == -EBADMSG, "error without a message refused");

	/* The daemon's side: run fake helpers, as virtd runs the real one. */
	CHECK(kvm_backend_new(&b) == 0, "backend created");
	snprintf(helper, sizeof(helper), "%s/fake-kmod", root);
	setenv("VIRTD_KMOD_HELPER", helper, 1);
	CHECK_STR(kvm_backend_helper_path(), helper, "VIRTD_KMOD_HELPER names the helper");

	fp = fopen(helper, "w");
	fprintf(fp, "#!/bin/sh\n"
		    "[ \"$1 $2 $3\" = \"load kvm_amd \" ] || [ \"$1 $2\" = \"load kvm_amd\" ] || { echo \"error 22 bad args: $*\"; exit 2; }\n"
		    "echo 'error 129 Failed to load kvm_amd: Key was rejected by service: the kernel refuses its signature'\n"
		    "exit 1\n");
	fclose(fp);
	chmod(helper, 0755);
	r = kvm_backend_load_module(b, "kvm_amd", NULL, err, sizeof(err));
	CHECK(r == -EKEYREJECTED && strstr(err, "refuses its signature"), "the helper's error and message come back: %d %s", r,
	      err);

	fp = fopen(helper, "w");
	fprintf(fp, "#!/bin/sh\necho \"ok available x,enable_virt_at_load\"\n");
	fclose(fp);
	CHECK(kvm_backend_module_file(b, "kvm", &f) == 0 && f.available && f.has_enable_virt_at_load,
	      "info through the helper");

	fp = fopen(helper, "w");
	fprintf(fp, "#!/bin/sh\necho garbage\nexit 0\n");
	fclose(fp);
	r = kvm_backend_load_module(b, "kvm", NULL, err, sizeof(err));
	CHECK(r == -EPROTO && strstr(err, "gave no valid answer"), "a broken helper is named: %s", err);

	fp = fopen(helper, "w");
	fprintf(fp, "#!/bin/sh\necho ok\nexit 1\n");
	fclose(fp);
	r = kvm_backend_load_module(b, "kvm", NULL, err, sizeof(err));
	CHECK(r == -EPROTO, "ok with a failing exit status is no answer: %s", err);

	fp = fopen(helper, "w");
	fprintf(fp, "#!/bin/sh\nkill -KILL $$\n");
	fclose(fp);
	r = kvm_backend_load_module(b, "kvm", "x=1", err, sizeof(err));
	CHECK(r == -EIO && strstr(err, "killed by signal 9"), "a killed helper is named: %s", err);
	CHECK(kvm_backend_unload_module(b, "../x", err, sizeof(err)) == -EINVAL, "unload refuses a path: %s", err);

	fp = fopen(helper, "w");
	fprintf(fp, "#!/bin/sh\n"
		    "[ \"$*\" = \"unload kvm_amd\" ] || { echo \"error 22 bad args: $*\"; exit 2; }\n"
		    "echo 'error 16 Failed to unload kvm_amd: in use (use count 1)'\nexit 1\n");
	fclose(fp);
	r = kvm_backend_unload_module(b, "kvm_amd", err, sizeof(err));
	CHECK(r == -EBUSY && strstr(err, "in use (use count 1)"), "unload goes through the helper: %d %s", r, err);

	unlink(helper);
	r = kvm_backend_load_module(b, "kvm", NULL, err, sizeof(err));
	CHECK(r == -ENOENT && strstr(err, "cannot run the module helper") && strstr(err, "reinstall virtd"),
	      "a missing helper is named: %s", err);
	unsetenv("VIRTD_KMOD_HELPER");
	kvm_backend_free(b);
}

/*
 * One connection on SOCK answered the way systemd's Accept=yes runs
 * virtd-kmod@.service: the connection as stdin and stdout of PROG.
 */
static pid_t serve_once(const char *sock, const char *prog, const char *arg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int l, c;
	pid_t pid;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	unlink(sock);
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0) {
		perror("serve_once");
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		c = accept(l, NULL, NULL);
		if (c < 0)
			_exit(127);
		dup2(c, STDIN_FILENO);
		dup2(c, STDOUT_FILENO);
		execl(prog, prog, arg, (char *)NULL);
		_exit(127);
	}
	close(l);
	return pid;
}

/* The socket transport ($VIRTD_KMOD_SOCKET), against a fake helper and the real one's request checks. */
static void test_kmod_socket(void)
{
	char sock[100], prog[600], err[512];
	kvm_backend *b = NULL;
	struct module_file f;
	FILE *fp;
	pid_t pid;
	int r, status;

	snprintf(sock, sizeof(sock), "%s/kmod.socket", root);
	snprintf(prog, sizeof(prog), "%s/fake-kmod-stdin", root);
	CHECK(kvm_backend_new(&b) == 0, "backend created");
	setenv("VIRTD_KMOD_SOCKET", sock, 1);
	CHECK_STR(kvm_backend_helper_socket(), sock, "VIRTD_KMOD_SOCKET names the socket");

	/* The fake checks the exact bytes: "unload\0kvm_amd\0". */
	fp = fopen(prog, "w");
	fprintf(fp, "#!/bin/sh\n"
		    "req=$(od -An -c | tr -s ' ' | tr -d '\\n')\n"
		    "[ \"$req\" = ' u n l o a d \\0 k v m _ a m d \\0' ] || { echo \"error 22 bad request [$req]\"; exit 2; }\n"
		    "echo ok\n");
	fclose(fp);
	chmod(prog, 0755);
	pid = serve_once(sock, prog, NULL);
	r = kvm_backend_unload_module(b, "kvm_amd", err, sizeof(err));
	CHECK(r == 0, "unload through the socket: %d %s", r, err);
	waitpid(pid, &status, 0);

	/* An error line comes back with its errno; no exit status to check. */
	fp = fopen(prog, "w");
	fprintf(fp, "#!/bin/sh\ncat >/dev/null\necho 'error 1 Failed to load kvm_amd: Operation not permitted'\n");
	fclose(fp);
	pid = serve_once(sock, prog, NULL);
	r = kvm_backend_load_module(b, "kvm_amd", NULL, err, sizeof(err));
	CHECK(r == -EPERM && strstr(err, "Operation not permitted"), "the helper's error through the socket: %d %s", r, err);
	waitpid(pid, &status, 0);

	/* A helper that dies without a word (a unit that failed to start). */
	fp = fopen(prog, "w");
	fprintf(fp, "#!/bin/sh\nexit 1\n");
	fclose(fp);
	pid = serve_once(sock, prog, NULL);
	r = kvm_backend_module_file(b, "kvm", &f);
	CHECK(r == -EPROTO, "no answer through the socket is a broken helper: %d", r);
	waitpid(pid, &status, 0);

	/* The real helper's request checks, fed through its --stdin. */
	if (access("src/virtd-kmod", X_OK) == 0) {
		snprintf(prog, sizeof(prog), "%s", "src/virtd-kmod");
		pid = serve_once(sock, prog, "--stdin");
		r = kvm_backend_unload_module(b, "-x", err, sizeof(err));
		CHECK(r == -EINVAL && strstr(err, "not a module name"), "virtd refuses a bad name before sending it: %s", err);
		/* virtd never sends a bad request, so talk to the helper by hand. */
		{
			struct sockaddr_un sa = { .sun_family = AF_UNIX };
			static const char req[] = "insmod\0kvm";
			char reply[256] = "";
			ssize_t n;
			int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

			snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
			CHECK(connect(c, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connected to the real helper");
			CHECK(write(c, req, sizeof(req)) == (ssize_t)sizeof(req), "request written");
			shutdown(c, SHUT_WR);
			n = read(c, reply, sizeof(reply) - 1);
			close(c);
			CHECK(n > 0 && strncmp(reply, "error 22 unknown request 'insmod'", 33) == 0,
			      "virtd-kmod --stdin refuses an unknown request: %s", reply);
		}
		waitpid(pid, &status, 0);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 2, "a refused request exits 2");
	} else
		printf("# skipped: src/virtd-kmod not built here, the real helper's --stdin not tried\n");
	unsetenv("VIRTD_KMOD_SOCKET");
	kvm_backend_free(b);
}

int main(void)
{
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	test_dropin_roundtrip();
	test_dropin_render_exact();
	test_dropin_timer();
	test_dropin_parse();
	test_uevent();
	test_cmdline();
	test_fake_tree();
	test_hv_vms();
	test_owner_and_applied();
	test_words();
	test_json();
	test_timer_status();
	test_probe_json();
	test_hints();
	test_kmod_proto();
	test_kmod_socket();
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return tests_finish();
}
