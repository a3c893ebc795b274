/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-golden.c: every JSON document virtd and virtctl emit (GetStatus,
 * Probe, "virtctl hw --json", "virtctl hw monitor --json"), built from fixed
 * inputs and compared byte for byte with tests/unit/golden/.  The files pin
 * keys, key order, types, number formatting and escaping: scripts and the
 * VM suites read these bytes.  VIRTD_GOLDEN_UPDATE=1 rewrites the files from
 * the code instead (then review the diff).
 */
#include <errno.h>
#include <stdlib.h>

#include "hw-json.h"
#include "macro.h"
#include "observe.h"
#include "output.h"
#include "probe-json.h"
#include "status-json.h"
#include "fixtures.h"
#include "tests.h"

#ifndef GOLDEN_DIR
#error "GOLDEN_DIR must name tests/unit/golden"
#endif

static char *read_file(const char *path)
{
	_cleanup_(fclosep) FILE *f = fopen(path, "re");
	struct memtext t;
	char buf[4096];
	size_t n;
	char *s;

	if (!f || memtext_open(&t) < 0)
		return NULL;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, t.f);
	return memtext_close(&t, &s) < 0 ? NULL : s;
}

/* Compares GOT (which it frees) with golden/NAME, or writes it there. */
static void golden(const char *name, char *got)
{
	_cleanup_free_ char *path = NULL, *want = NULL;

	if (asprintf(&path, "%s/%s", GOLDEN_DIR, name) < 0)
		path = NULL;
	if (!path || !got) {
		CHECK(false, "%s: document built", name);
		free(got);
		return;
	}
	if (getenv("VIRTD_GOLDEN_UPDATE")) {
		_cleanup_(fclosep) FILE *f = fopen(path, "we");

		CHECK(f && fputs(got, f) >= 0, "%s: written", name);
		free(got);
		return;
	}
	want = read_file(path);
	CHECK(want && strcmp(got, want) == 0, "%s: byte for byte as golden", name);
	if (want && strcmp(got, want) != 0)
		printf("#   got  %s\n#   want %s\n", got, want);
	free(got);
}

/* A document a function prints to a FILE, as a string. */
#define PRINTED(call)                                                   \
	({                                                              \
		struct memtext _t;                                      \
		char *_s = NULL;                                        \
		if (memtext_open(&_t) == 0) {                           \
			FILE *f = _t.f;                                 \
			call;                                           \
			if (memtext_close(&_t, &_s) < 0)                \
				_s = NULL;                              \
		}                                                       \
		_s;                                                     \
	})

/* --- GetStatus ----------------------------------------------------------------- */

static const struct observed_cpu cpus_svm[] = {
	{ .id = 0, .online = true, .feature = VIRT_FEATURE_SVM, .fw_enabled = true, .virt_on = true },
	{ .id = 1, .online = true, .feature = VIRT_FEATURE_SVM, .fw_enabled = false, .virt_on = false },
	{ .id = 2, .online = false },
	{ .id = 3, .online = true, .feature = VIRT_FEATURE_NONE, .fw_enabled = false, .virt_on = true },
};
static const struct observed_cpu cpus_vmx[] = {
	{ .id = 0, .online = true, .feature = VIRT_FEATURE_VMX, .fw_enabled = true, .virt_on = true },
	{ .id = 1, .online = true, .feature = VIRT_FEATURE_VMX, .fw_enabled = true, .virt_on = true },
};

/* The document of IN, with the CPUs modelled as the reconcile loop does. */
static char *status(const struct status_input *in)
{
	struct status_input with = *in;
	struct cpu_model cpus[8];
	char *j = NULL;

	if (in->kobs) {
		if (in->kobs->obs.n_cpus > ELEMENTSOF(cpus))
			return NULL;
		model_cpus(in->cfg, &in->kobs->obs, in->locks, cpus);
		with.cpus = cpus;
	}
	return status_json(&with, &j) == 0 ? j : NULL;
}

static void test_status_starting(void)
{
	struct config cfg;
	struct status_input in = {
		.version = "0.1", .config_path = "/etc/virtd.conf", .cfg = &cfg, .state = STATE_STARTING,
		.actions_failed = "Failed to load kvm_amd: \x01\x1f \"quoted\" back\\slash",
	};

	config_init_defaults(&cfg);
	golden("status-starting.json", status(&in));
}

/* Strings from the host (a VM's comm and command line, a lock's why) carry
 * whatever bytes they hold: quotes, slashes, control characters, UTF-8 and
 * invalid UTF-8 (which the document carries as U+FFFD). */
static void test_status_svm(void)
{
	struct config cfg;
	struct vm_owner vms[] = {
		{ .pid = 812, .n_vms = 2, .comm = "qemu-\xff\xfe", .cmdline = (char *)"qemu \"x\" /usr/bin\\y \t\n\xc3\xbc\xe2\x82\xac\xf0\x9f\x98\x80 \xc0\xaf \xed\xa0\x80" },
		{ .pid = 900, .n_vms = 1, .comm = "kthread", .cmdline = (char *)"" },
		/* A shared-mode hypervisor's VM inside KVM: not in n_vms, listed under vmware too. */
		{ .pid = 3000, .n_vms = 1, .comm = "vmware-vmx", .cmdline = (char *)"vmware-vmx --comment \"win\" 11",
		  .hv = "vmware", .name = "\"win\" 11" },
	};
	struct module_param params[] = {
		{ .name = (char *)"kvm.enable_virt_at_load", .value = (char *)"Y" },
		{ .name = (char *)"kvm_amd.nested", .value = (char *)"1" },
		{ .name = (char *)"kvm.halt_poll_ns", .value = (char *)"200000" },
	};
	struct kvm_observation k = {
		.obs = { .kvm = MODULE_LOADED, .vendor = MODULE_BUILTIN, .has_enable_virt_at_load = true,
			 .enable_virt_at_load = true, .n_vms = 3, .n_hv_vms = 1, .dev_kvm = true,
			 .dropin = { .exists = true, .enable_virt_at_load = 1, .block_vendor = true },
			 .cpus = cpus_svm, .n_cpus = ELEMENTSOF(cpus_svm) },
		.vendor_module = "kvm_amd",
		.vms = vms, .n_vm_owners = ELEMENTSOF(vms), .n_hv_vms = 1,
		.params = params, .n_params = ELEMENTSOF(params),
		.have_caps = true,
		.caps = { .feature = VIRTHW_FEATURE_SVM, .tsc_khz = 2994374, .cpuid_sig = 0x00a20f12, .nr_cpus = 4 },
	};
	struct lock_holders locks = { .n_held = 2, .n_waiting = 3 };
	struct lock_info lock_list[] = {
		{ .id = 1, .who = "virtualbox", .why = "Windows VM: C:\\vms / \"win11\" \xc3\xa9t\xc3\xa9", .pid = 1234,
		  .uid = 0, .since_usec = 1795000000123456ULL },
		{ .id = 4294967295U, .who = "vmware", .why = "", .pid = 2147483647, .uid = 4294967294U,
		  .since_usec = UINT64_MAX },
	};
	struct policy_check check = { .n_checked = 3, .n_mismatched = 1,
				      .message = "CPU 1: virtualization off, expected on" };
	struct timer_status t = {};
	struct status_input in = {
		.version = "0.1", .config_path = "/etc/virtd.conf", .cfg = &cfg, .state = STATE_MISMATCH,
		.reason = "CPU 1 is off", .applied_policy = "boot", .kobs = &k, .locks = &locks,
		.lock_list = lock_list, .n_lock_list = ELEMENTSOF(lock_list), .verify = &check,
		.actions_failed = NULL, .timer = &t,
	};

	static struct hv_profiles ps;
	const char *dirs[] = { PROFILES_SRC_DIR };
	struct hv_detected hvs[PROFILES_MAX] = {};

	config_init_defaults(&cfg);
	cfg.policy = VIRT_POLICY_BOOT;
	/* The shipped profiles, as on an AMD host running 6.12 with vboxdrv loaded, VMware's mode forced. */
	CHECK(profiles_load(dirs, 1, &ps, NULL) == 0 && ps.n == 3, "the shipped profiles load");
	cfg.n_hv_modes = 1;
	snprintf(cfg.hv_modes[0].name, sizeof(cfg.hv_modes[0].name), "vmware");
	cfg.hv_modes[0].mode = HV_MODE_SHARED;
	for (size_t i = 0; i < ps.n; i++) {
		hvs[i].profile = &ps.p[i];
		profile_choose_mode(&ps.p[i], PROFILE_VENDOR_AMD, true, 6, 12, config_hv_mode(&cfg, ps.p[i].name),
				    &hvs[i].mode);
		if (strcmp(ps.p[i].name, "virtualbox") == 0) {
			hvs[i].loaded = hvs[i].module_loaded[0] = hvs[i].device_present[0] = true;
			snprintf(hvs[i].version, sizeof(hvs[i].version), "7.2.22_Debian r175245");
		}
	}
	in.profiles = &ps;
	in.hvs = hvs;
	/* VirtualBox's lock taken by hand-off for its VM process; one of its programs is installed. */
	static struct status_handoff ho = {
		.state = "active",
		.n_programs = 2,
		.programs = { { "/usr/lib/virtualbox/VBoxHeadless", "virtualbox", true },
			      { "/usr/lib/virtualbox/VirtualBoxVM", "virtualbox", false } },
		.n_locks = 1,
		.locks = { { .id = 1, .n_procs = 1, .pids = { 1234 }, .comms = { "VBoxHeadless" } } },
	};
	in.handoff = &ho;
	timer_status_fill(&cfg, &k, NULL, &t);
	timer_status_module(&t, NULL, "virthw module is not loaded");
	golden("status-svm.json", status(&in));
	in.profiles = NULL;
	in.handoff = NULL;

	/* Nothing held, verified clean, no vendor module known. */
	k.vendor_module = NULL;
	k.have_caps = false;
	k.n_params = 0;
	k.n_vm_owners = 0;
	k.obs.n_vms = 0;
	k.obs.dropin = (struct policy_dropin) { .enable_virt_at_load = -1 };
	k.obs.has_enable_virt_at_load = false;
	k.obs.kvm = MODULE_MISSING;
	k.obs.vendor = MODULE_MISSING;
	check = (struct policy_check) { .n_checked = 3 };
	in.locks = NULL;
	in.n_lock_list = 0;
	in.state = STATE_HOLDS;
	in.reason = "";
	in.timer = NULL;
	golden("status-svm-bare.json", status(&in));
}

static void test_status_vmx(void)
{
	struct config cfg;
	struct vm_owner vms[] = { { .pid = 812, .n_vms = 1, .comm = "qemu", .cmdline = (char *)"qemu-system-x86_64 -m 1G" } };
	struct module_param params[] = {
		{ .name = (char *)"kvm.enable_virt_at_load", .value = (char *)"N" },
		{ .name = (char *)"kvm_intel.preemption_timer", .value = (char *)"Y" },
	};
	struct kvm_observation k = {
		.obs = { .kvm = MODULE_LOADED, .vendor = MODULE_LOADED, .has_enable_virt_at_load = true, .n_vms = 1,
			 .pinned_vm = true, .dropin = { .exists = true, .enable_virt_at_load = 0,
							.has_preemption_timer = true, .preemption_timer = false },
			 .cpus = cpus_vmx, .n_cpus = ELEMENTSOF(cpus_vmx) },
		.vendor_module = "kvm_intel",
		.vms = vms, .n_vm_owners = ELEMENTSOF(vms),
		.params = params, .n_params = ELEMENTSOF(params),
		.have_caps = true,
		.caps = { .feature = VIRTHW_FEATURE_VMX, .tsc_khz = 100000, .cpuid_sig = 0x000906ea, .nr_cpus = 2,
			  .has_vmx_misc = true, .vmx_misc = 0x00000000300481e5ULL, .has_timer_rate = true,
			  .timer_rate = 5, .has_timer_pin_ctl = true, .timer_pin_ctl = true, .has_timer_erratum = true,
			  .timer_erratum = false, .has_timer_max_ns = true, .timer_max_ns = 1374389534720ULL },
	};
	struct virthw_settings mod = { .mode = VIRTHW_TIMER_MODE_ON, .min_max_delay_ns = 60000000000ULL,
				       .timer_use = true, .reason = VIRTHW_TIMER_REASON_SAFE };
	struct policy_check check = { .n_checked = 2 };
	struct timer_status t = {};
	struct status_input in = {
		.version = "0.1~git/x", .config_path = "/etc/virtd.conf", .cfg = &cfg, .state = STATE_PENDING,
		.reason = "1 KVM VM running: pid 812", .applied_policy = "first-vm", .kobs = &k, .verify = &check,
		.actions_failed = "Failed to unload kvm_intel: Device or resource busy", .timer = &t,
	};

	config_init_defaults(&cfg);
	cfg.policy = VIRT_POLICY_NEVER;
	cfg.timer_min_max_delay_ns = 60000000000ULL;
	timer_status_fill(&cfg, &k, in.actions_failed, &t);
	timer_status_module(&t, &mod, NULL);
	golden("status-vmx.json", status(&in));

	/* Forced on: an unsafe timer with a warning; virthw disagrees. */
	cfg.timer_mode = TIMER_MODE_ON;
	k.caps.timer_erratum = true;
	k.caps.has_timer_max_ns = false;
	k.caps.has_vmx_misc = false;
	mod.timer_use = false;
	mod.reason = VIRTHW_TIMER_REASON_ERRATUM;
	timer_status_fill(&cfg, &k, NULL, &t);
	timer_status_module(&t, &mod, NULL);
	in.state = STATE_LOCKED;
	golden("status-vmx-forced.json", status(&in));

	/* No capabilities: undecided. */
	k.have_caps = false;
	snprintf(k.hw_error, sizeof(k.hw_error), "virthw module is not loaded (modprobe virthw)");
	timer_status_fill(&cfg, &k, NULL, &t);
	timer_status_module(&t, NULL, "virthw module is not loaded");
	in.state = STATE_CANNOT_HOLD;
	golden("status-vmx-undecided.json", status(&in));
}

/* --- Probe ---------------------------------------------------------------------- */

static char *probe(uint32_t cpu_request, uint32_t iterations, const struct virthw_probe *p, size_t n)
{
	char *j = NULL;

	return probe_json(cpu_request, iterations, p, n, &j) == 0 ? j : NULL;
}

static void test_probe(void)
{
	struct virthw_probe p[] = {
		/* fixture_probe_vmx, set below */
		{},
		/* Ratios and errors that round: 1/3, 2/3, a negative error, a huge TSC count. */
		{ .cpu = 1, .feature = VIRTHW_FEATURE_VMX, .iterations = 3, .tsc_khz = 2994374,
		  .has_timer_use = true, .timer_use = false,
		  .round_trip = { .present = true, .count = 3, .min = 3, .median = 3, .mean = 3, .max = 3 },
		  .toggle = { .present = true, .count = 3, .min = 1, .median = 1, .mean = 1, .max = 1 },
		  .immediate = { .present = true, .count = 3, .min = 7, .median = 7, .mean = 7, .max = UINT64_MAX },
		  .immediate_method = VIRTHW_IMMEDIATE_SELF_IPI, .has_timer_rate = true, .timer_rate = 7,
		  .has_timer = true, .timer_programmed = UINT32_MAX, .timer_expected = 3,
		  .timer_elapsed = { .present = true, .count = 3, .min = 1, .median = 1, .mean = 2, .max = 3 },
		  .spurious_timer_exits = UINT32_MAX, .interrupted = 0, .duration_ns = UINT64_MAX },
		{ .cpu = 2, .feature = VIRTHW_FEATURE_SVM, .iterations = 10, .tsc_khz = 0,
		  .round_trip = { .present = true, .count = 10, .min = 1, .median = 2, .mean = 3, .max = 4 } },
		/* A median of 0 gives no ratio. */
		{ .cpu = 3, .feature = VIRTHW_FEATURE_NONE, .iterations = 1, .tsc_khz = 1,
		  .round_trip = { .present = true, .count = 1 },
		  .toggle = { .present = true, .count = 1, .median = 5 } },
	};

	p[0] = fixture_probe_vmx;
	golden("probe-all.json", probe(PROBE_CPU_ALL, 0, p, ELEMENTSOF(p)));
	golden("probe-cpu.json", probe(3, 50, &p[2], 1));
	golden("probe-empty.json", probe(7, 100000, NULL, 0));
}

/* --- virtctl hw --json, virtctl hw monitor --json -------------------------------- */

static void test_hw(void)
{
	struct virthw_caps vmx = {
		.feature = VIRTHW_FEATURE_VMX, .tsc_khz = 2112000, .cpuid_sig = 0x000906ea, .nr_cpus = 4,
		.has_vmx_misc = true, .vmx_misc = 0x7004c1e7ULL, .has_timer_rate = true, .timer_rate = 5,
		.has_timer_pin_ctl = true, .timer_pin_ctl = true, .has_timer_erratum = true, .timer_erratum = true,
		.has_timer_max_ns = true, .timer_max_ns = 65075262ULL,
	};
	struct virthw_caps svm = { .feature = VIRTHW_FEATURE_SVM, .tsc_khz = 0, .cpuid_sig = 0xffffffffU, .nr_cpus = 1 };
	struct virthw_cpu_state cpus[] = {
		{ .id = 0, .online = true, .has_details = true, .feature = VIRTHW_FEATURE_VMX, .fw_enabled = true,
		  .virt_on = true, .has_fw_msr = true, .fw_msr = 0x5ULL },
		{ .id = 1, .online = true, .has_details = true, .feature = VIRTHW_FEATURE_VMX, .fw_enabled = false,
		  .virt_on = false, .has_fw_msr = true, .fw_msr = 0xffffffffffffffffULL },
		{ .id = 2, .online = false },
		{ .id = 3, .online = true, .has_details = false },
	};
	struct virthw_event_msg on = { .event = VIRTHW_EVENT_CPU_ONLINE, .cpu = cpus[0] };
	struct virthw_event_msg off = { .event = VIRTHW_EVENT_CPU_OFFLINE, .cpu = cpus[2] };

	golden("hw-vmx.json", PRINTED(hw_doc_print_json(f, &vmx, cpus, ELEMENTSOF(cpus))));
	golden("hw-svm.json", PRINTED(hw_doc_print_json(f, &svm, NULL, 0)));
	golden("hw-events.json", PRINTED(hw_event_print_json(f, &on); hw_event_print_json(f, &off)));
}

int main(void)
{
	test_status_starting();
	test_status_svm();
	test_status_vmx();
	test_probe();
	test_hw();
	return tests_finish();
}
