/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-status-print.c: table tests of virtctl status's human view from status JSON documents. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "output.h"
#include "probe-print.h"
#include "status-print.h"
#include "fixtures.h"
#include "tests.h"
#include "virtctl-args.h"

#define OMIT ((const char *)1)

/* One status document: each member is raw JSON; NULL takes the default
 * (a host where policy boot holds on 2 AMD CPUs), OMIT leaves the key out. */
struct doc {
	const char *policy, *applied, *state, *reason, *config, *kvm, *vm_count, *vms, *pinned, *cpus,
		*verify, *caps, *failed, *locks, *lock_waiting, *timer, *hypervisors, *handoff, *profile_errors;
};

#define CPU_ON(n) "{\"cpu\":" #n ",\"online\":true,\"feature\":\"svm\",\"firmware_enabled\":true," \
		  "\"virt_on\":true,\"expected\":\"on\",\"owner\":\"kvm\",\"ok\":true}"
#define CPU_OFF(n, expected) "{\"cpu\":" #n ",\"online\":true,\"feature\":\"svm\",\"firmware_enabled\":true," \
			     "\"virt_on\":false,\"expected\":\"" expected "\",\"owner\":\"none\",\"ok\":true}"
#define CPU_OFFLINE(n) "{\"cpu\":" #n ",\"online\":false,\"feature\":null,\"firmware_enabled\":null," \
		       "\"virt_on\":null,\"expected\":\"skip\",\"owner\":null,\"ok\":null}"

static char *build(const struct doc *d)
{
	static const struct doc defaults = {
		.policy = "\"boot\"",
		.applied = "\"boot\"",
		.state = "\"holds\"",
		.reason = "\"\"",
		.config = "{\"path\":\"/etc/virtd.conf\",\"policy\":\"boot\",\"timer_mode\":\"auto\","
			  "\"min_max_delay_ns\":10000000000}",
		.kvm = "{\"kvm_module\":\"loaded\",\"vendor_module\":\"kvm_amd\",\"vendor_state\":\"loaded\","
		       "\"enable_virt_at_load\":true,\"dev_kvm\":true,\"autoload_blocked\":false,"
		       "\"dropin\":\"/run/modprobe.d/virtd.conf\",\"params\":{\"kvm.enable_virt_at_load\":\"Y\","
		       "\"kvm_amd.npt\":\"Y\"}}",
		.vm_count = "1",
		.vms = "[{\"pid\":812,\"vms\":1,\"comm\":\"qemu-system-x86\",\"cmdline\":\"qemu-system-x86_64 -enable-kvm -m 2048\"}]",
		.pinned = "false",
		.cpus = "[" CPU_ON(0) "," CPU_ON(1) "]",
		.verify = "{\"ok\":true,\"checked\":2,\"mismatched\":0,\"message\":\"\"}",
		.caps = "{\"feature\":\"svm\",\"tsc_khz\":2994374,\"vmx_misc\":null,\"timer_rate\":null,"
			"\"timer_pin_control\":null,\"timer_erratum\":null,\"timer_max_delay_ns\":null,"
			"\"cpuid_signature\":\"0x00a00f11\",\"cpuid_family\":25,\"cpuid_model\":1,"
			"\"cpuid_stepping\":1,\"nr_cpus\":2}",
		.failed = "null",
		.locks = OMIT,
		.lock_waiting = OMIT,
		.timer = OMIT,
		.hypervisors = OMIT,
		.handoff = OMIT,
		.profile_errors = OMIT,
	};
	const struct {
		const char *key, *v, *def;
	} m[] = {
		{ "policy", d->policy, defaults.policy },
		{ "applied_policy", d->applied, defaults.applied },
		{ "state", d->state, defaults.state },
		{ "reason", d->reason, defaults.reason },
		{ "config", d->config, defaults.config },
		{ "kvm", d->kvm, defaults.kvm },
		{ "vm_count", d->vm_count, defaults.vm_count },
		{ "vms", d->vms, defaults.vms },
		{ "pinned_vm", d->pinned, defaults.pinned },
		{ "cpus", d->cpus, defaults.cpus },
		{ "verify", d->verify, defaults.verify },
		{ "caps", d->caps, defaults.caps },
		{ "actions_failed", d->failed, defaults.failed },
		{ "locks", d->locks, defaults.locks },
		{ "lock_waiting", d->lock_waiting, defaults.lock_waiting },
		{ "timer", d->timer, defaults.timer },
		{ "hypervisors", d->hypervisors, defaults.hypervisors },
		{ "handoff", d->handoff, defaults.handoff },
		{ "profile_errors", d->profile_errors, defaults.profile_errors },
	};
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	bool first = true;

	if (!f)
		return NULL;
	fputs("{\"version\":\"0.1\"", f);
	first = false;
	for (size_t i = 0; i < ELEMENTSOF(m); i++) {
		const char *v = m[i].v ? m[i].v : m[i].def;

		if (v == OMIT)
			continue;
		fprintf(f, "%s\"%s\":%s", first ? "" : ",", m[i].key, v);
	}
	fputs("}", f);
	fclose(f);
	return buf;
}

/* Renders text; returns the output and the exit code (or -errno) in *ret. */
static char *render(const char *text, bool full, bool color, int *ret)
{
	struct status_print_options o = { .full = full, .color = color };
	char *buf = NULL, err[256] = "";
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	*ret = status_print_text(f, text, strlen(text), &o, err, sizeof(err));
	fclose(f);
	if (*ret < 0) {
		free(buf);
		return strdup(err);
	}
	return buf;
}

static const char holds_text[] =
	"\u25cf virtd: policy boot holds \u2014 virtualization on, 2/2 CPUs, 1 KVM VM\n"
	"     Policy: boot (applied: boot)\n"
	"      State: holds\n"
	"     Verify: 2 CPUs as promised\n"
	"        KVM: kvm loaded, kvm_amd loaded, enable_virt_at_load=Y, /dev/kvm present\n"
	"    Drop-in: /run/modprobe.d/virtd.conf\n"
	" Parameters: 2 (virtctl status --full lists them)\n"
	"        VMs: 1 (pid 812 qemu-system-x86_64 -enable-kvm -m 2048)\n"
	"  Pinned VM: no\n"
	"   Hardware: SVM (AMD), TSC 2994374 kHz, family 25 model 1 stepping 1\n"
	"\n"
	"CPU  ONLINE  FEATURE  FIRMWARE  ON   EXPECTED  OWNER  CHECK\n"
	"0    yes     svm      enabled   yes  on        kvm    PASS\n"
	"1    yes     svm      enabled   yes  on        kvm    PASS\n";

static void test_exact(void)
{
	_cleanup_free_ char *doc = build(&(struct doc) {});
	_cleanup_free_ char *out = NULL, *full = NULL, *colored = NULL;
	int r;

	out = render(doc, false, false, &r);
	CHECK(r == EXIT_OK, "holds: exit 0 (got %d)", r);
	CHECK_STR(out, holds_text, "holds: the whole view");

	full = render(doc, true, false, &r);
	CHECK(r == EXIT_OK, "holds --full: exit 0");
	CHECK(full && strstr(full, " Parameters: kvm.enable_virt_at_load=Y\n"
				   "             kvm_amd.npt=Y\n"), "--full lists parameters aligned");
	CHECK(full && strstr(full, "     Config: /etc/virtd.conf\n"), "--full names the config file");
	CHECK(full && strstr(full, " Timer mode: auto (min-max-delay 10.000 s)\n"), "--full shows the timer mode on SVM");
	CHECK(full && strstr(full, "    Version: virtd 0.1\n"), "--full shows virtd's version");

	colored = render(doc, false, true, &r);
	CHECK(colored && strncmp(colored, ANSI_GREEN "\u25cf" ANSI_NORMAL " virtd:", strlen(ANSI_GREEN "\u25cf" ANSI_NORMAL " virtd:")) == 0,
	      "colour: green dot when it holds");
	CHECK(colored && strstr(colored, "      State: " ANSI_GREEN "holds" ANSI_NORMAL "\n"), "colour: state");
	CHECK(colored && strstr(colored, ANSI_GREEN "PASS" ANSI_NORMAL "\n"), "colour: PASS verdict");
	CHECK(out && !strchr(out, '\x1b'), "no escape sequences without colour");
}

#define VMX_CAPS "{\"feature\":\"vmx\",\"tsc_khz\":100000,\"vmx_misc\":\"0x00000000200401e0\",\"timer_rate\":0," \
	"\"timer_pin_control\":true,\"timer_erratum\":false,\"timer_max_delay_ns\":42949672960," \
	"\"cpuid_signature\":\"0x000306c3\",\"cpuid_family\":6,\"cpuid_model\":60,\"cpuid_stepping\":3,\"nr_cpus\":1}"

/* The timer section as virtd writes it (status-json.c's "timer" object). */
static void test_timer(void)
{
	static const struct {
		const char *name;
		const char *caps, *timer;
		const char *want[4];
		const char *not[3];
	} cases[] = {
		{ "Bochs, threshold above the maximum delay: off, kvm_intel applied",
		  VMX_CAPS,
		  "{\"mode\":\"auto\",\"min_max_delay_ns\":60000000000,\"decided\":true,\"applies\":true,\"feature\":\"vmx\","
		  "\"tsc_khz\":100000,\"tsc_assumed\":false,\"rate\":0,\"pin_control\":true,\"erratum\":false,"
		  "\"max_delay_ns\":42949672960,\"use\":false,\"reason\":\"short-max-delay\","
		  "\"reason_text\":\"maximum delay 42.9 s < minimum 60 s\",\"warning\":false,"
		  "\"module\":{\"mode\":\"auto\",\"min_max_delay_ns\":60000000000,\"use\":false,\"reason\":\"short-max-delay\","
		  "\"matches\":true},\"module_error\":null,"
		  "\"kvm_intel\":{\"state\":\"applied\",\"want\":false,\"current\":false,"
		  "\"reason\":\"kvm_intel has preemption_timer=N\"}}",
		  { "      Timer: not used: maximum delay 42.9 s < minimum 60 s (mode auto)\n"
		    "             rate 0, TSC 100000 kHz, maximum delay 42.950 s, threshold 60.000 s\n"
		    "             pin control yes, no erratum\n"
		    "             virthw: not used (short-max-delay), as virtd decided\n"
		    "  KVM timer: applied: kvm_intel has preemption_timer=N\n" },
		  { "Timer mode", "max delay 42.950 s (rate 0)" } },
		{ "TSC unknown, pending reload, forced",
		  VMX_CAPS,
		  "{\"mode\":\"on\",\"min_max_delay_ns\":10000000000,\"decided\":true,\"applies\":true,\"feature\":\"vmx\","
		  "\"tsc_khz\":0,\"tsc_assumed\":true,\"rate\":0,\"pin_control\":true,\"erratum\":false,"
		  "\"max_delay_ns\":858993459,\"use\":true,\"reason\":\"forced-unsafe\","
		  "\"reason_text\":\"forced by Mode=on\",\"warning\":true,\"module\":null,"
		  "\"module_error\":\"virthw module is not loaded\","
		  "\"kvm_intel\":{\"state\":\"pending\",\"want\":true,\"current\":false,"
		  "\"reason\":\"kvm_intel has preemption_timer=N; it is reloaded with Y when the KVM VMs have exited\"}}",
		  { "      Timer: used: forced by Mode=on (mode on)\n",
		    "             rate 0, TSC kHz unknown (5 GHz assumed), maximum delay 858.993 ms, threshold 10.000 s\n",
		    "             virthw: virthw module is not loaded\n",
		    "  KVM timer: pending: kvm_intel has preemption_timer=N; it is reloaded with Y when the KVM VMs have exited\n" },
		  {} },
		{ "module decided otherwise",
		  VMX_CAPS,
		  "{\"mode\":\"auto\",\"min_max_delay_ns\":10000000000,\"decided\":true,\"applies\":true,"
		  "\"rate\":0,\"tsc_khz\":100000,\"use\":true,\"reason\":\"safe\",\"reason_text\":\"maximum delay 42.9 s >= minimum 10 s\","
		  "\"module\":{\"use\":false,\"reason\":\"erratum\",\"matches\":false},"
		  "\"kvm_intel\":{\"state\":\"cannot-apply\",\"reason\":\"kvm_intel is built into the kernel\"}}",
		  { "   Mismatch: virthw: not used (erratum), NOT as virtd decided\n",
		    "  KVM timer: cannot-apply: kvm_intel is built into the kernel\n" },
		  {} },
		{ "AMD: does not apply",
		  NULL,
		  "{\"mode\":\"auto\",\"min_max_delay_ns\":10000000000,\"decided\":true,\"applies\":false,\"feature\":\"svm\","
		  "\"tsc_khz\":2994374,\"tsc_assumed\":false,\"rate\":null,\"pin_control\":null,\"erratum\":null,"
		  "\"max_delay_ns\":null,\"use\":false,\"reason\":\"not-vmx\",\"reason_text\":\"does not apply: not VMX\","
		  "\"warning\":false,\"module\":null,\"module_error\":null,\"kvm_intel\":{\"state\":\"not-applicable\","
		  "\"want\":null,\"current\":null,\"reason\":\"does not apply: not VMX\"}}",
		  { "   Hardware: SVM (AMD), TSC 2994374 kHz, family 25 model 1 stepping 1\n"
		    "      Timer: does not apply: not VMX (mode auto, min-max-delay 10.000 s)\n" },
		  { "KVM timer", "Timer mode" } },
		{ "no virthw: undecided",
		  "null",
		  "{\"mode\":\"auto\",\"min_max_delay_ns\":10000000000,\"decided\":false,"
		  "\"kvm_intel\":{\"state\":\"unknown\",\"reason\":\"no decision without virthw's capabilities: x\"}}",
		  { "      Timer: undecided: no decision without virthw's capabilities: x (mode auto)\n" },
		  { "Hardware" } },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *doc = build(&(struct doc) { .caps = cases[i].caps, .timer = cases[i].timer });
		_cleanup_free_ char *out = NULL, *colored = NULL;
		int r;

		out = render(doc, false, false, &r);
		CHECK(r == EXIT_OK, "timer: %s: exit 0 (got %d)", cases[i].name, r);
		for (size_t j = 0; j < ELEMENTSOF(cases[i].want) && cases[i].want[j]; j++) {
			CHECK(out && strstr(out, cases[i].want[j]), "timer: %s: shows \"%s\"", cases[i].name, cases[i].want[j]);
			if (!out || !strstr(out, cases[i].want[j]))
				printf("# got:\n%s", out ? out : "(null)\n");
		}
		for (size_t j = 0; j < ELEMENTSOF(cases[i].not) && cases[i].not[j]; j++)
			CHECK(out && !strstr(out, cases[i].not[j]), "timer: %s: no \"%s\"", cases[i].name, cases[i].not[j]);
		colored = render(doc, false, true, &r);
		if (strstr(cases[i].name, "pending"))
			CHECK(colored && strstr(colored, "  KVM timer: " ANSI_YELLOW "pending: "), "timer: pending in yellow");
		if (strstr(cases[i].name, "otherwise"))
			CHECK(colored && strstr(colored, "   Mismatch: " ANSI_RED), "timer: a mismatch in red");
	}
}

/* virtctl probe's table from virtd's result document. */
static void test_probe_table(void)
{
	static const char doc_text[] =
		"{\"cpu_request\":\"all\",\"iterations\":0,\"timer_use\":true,\"cpus\":["
		FIXTURE_PROBE_VMX_JSON ","
		"{\"cpu\":1,\"feature\":\"vmx\",\"iterations\":1000,\"tsc_khz\":100000,\"timer_use\":true,"
		"\"round_trip\":{\"count\":1000,\"min\":900,\"median\":1000,\"mean\":1010,\"max\":5000,\"median_ns\":10000},"
		"\"toggle\":null,\"toggle_ratio\":null,\"immediate\":null,\"immediate_method\":\"self-ipi\\u001b\","
		"\"timer_rate\":null,\"timer_programmed\":null,\"timer_expected\":null,\"timer_elapsed\":null,"
		"\"timer_error_percent\":null,\"spurious_timer_exits\":0,\"interrupted\":0,\"duration_ns\":0}]}";
	_cleanup_(json_object_putp) json_object *doc = NULL, *bad = NULL;
	char *out = NULL;
	size_t size = 0;
	FILE *f;
	int r;

	CHECK(jv_parse(doc_text, strlen(doc_text), &doc, NULL, 0) == 0, "probe document parses");
	f = open_memstream(&out, &size);
	if (!f)
		return;
	r = probe_print(f, doc, false);
	fclose(f);
	CHECK(r == 0, "probe table printed");
	CHECK_STR(out,
		  "Medians of 1000 iterations, in TSC cycles (time at 100000 kHz):\n"
		  "CPU  FEATURE  (a) ROUND TRIP    (b) TOGGLE        (b)/(a)  (c) IMMEDIATE     METHOD      "
		  "(d) TIMER EXPECTED     (d) ELAPSED        ERROR   SPURIOUS  INTERRUPTED\n"
		  "0    vmx      1000 (10.000 us)  2500 (25.000 us)  2.50     1200 (12.000 us)  timer-zero  "
		  "100000 ticks = 100000  100028 (1.000 ms)  +0.03%  2         1\n"
		  "1    vmx      1000 (10.000 us)  -                 -        -                 self-ipi?   "
		  "-                      -                  -       0         0\n",
		  "probe table: figures, ratio, error, and a control character neutralised");
	free(out);
	CHECK(jv_parse("{\"cpus\":3}", strlen("{\"cpus\":3}"), &bad, NULL, 0) == 0 && probe_print(stdout, bad, false) == -EINVAL,
	      "probe table: a document without a cpus array is refused");
}

/* Every want[] (up to the first NULL) shows in out, and no not_want[] does. */
static void check_output(const char *name, const char *out, const char *const *want, size_t n_want,
			 const char *const *not_want, size_t n_not_want)
{
	for (size_t j = 0; j < n_want && want[j]; j++) {
		bool found = out && strstr(out, want[j]);

		CHECK(found, "%s: shows want[%zu]", name, j);
		if (!found)
			printf("# output:\n%s", out ? out : "(null)\n");
	}
	for (size_t j = 0; j < n_not_want && not_want[j]; j++)
		CHECK(out && !strstr(out, not_want[j]), "%s: no \"%s\"", name, not_want[j]);
}

/* Each case: a document, the exit code, lines the view must contain and must not. */
static void test_table(void)
{
	static const struct {
		const char *name;
		struct doc d;
		bool full;
		int exit_code;
		const char *want[5];
		const char *not_want[3];
	} cases[] = {
		{ "pending with reason",
		  { .policy = "\"never\"", .applied = "\"boot\"", .state = "\"pending\"",
		    .reason = "\"2 KVM VMs running (pids 812, 840): never applies when they exit\"", .vm_count = "2",
		    .vms = "[{\"pid\":812,\"vms\":1,\"comm\":\"qemu\",\"cmdline\":\"qemu-system-x86_64 -enable-kvm\"},"
			   "{\"pid\":840,\"vms\":2,\"comm\":\"kvm-vm\",\"cmdline\":\"\"}]" },
		  false, EXIT_NOT_HOLDING,
		  { "\u25cf virtd: policy never is pending \u2014 virtualization on, 2/2 CPUs, 2 KVM VMs\n",
		    "     Policy: never (applied: boot)\n      State: pending\n"
		    "     Reason: 2 KVM VMs running (pids 812, 840): never applies when they exit\n",
		    "        VMs: 2\n"
		    "             pid 812 qemu-system-x86_64 -enable-kvm\n"
		    "             pid 840 [kvm-vm] (2 VMs)\n" },
		  {} },
		{ "first-vm holds with no VMs",
		  { .policy = "\"first-vm\"", .applied = "\"first-vm\"", .vm_count = "0", .vms = "[]",
		    .kvm = "{\"kvm_module\":\"loaded\",\"vendor_module\":\"kvm_amd\",\"vendor_state\":\"loaded\","
			   "\"enable_virt_at_load\":false,\"dev_kvm\":true,\"autoload_blocked\":false,"
			   "\"dropin\":\"/run/modprobe.d/virtd.conf\",\"params\":{}}",
		    .cpus = "[" CPU_OFF(0, "off") "," CPU_OFF(1, "off") "]" },
		  false, EXIT_OK,
		  { "\u25cf virtd: policy first-vm holds \u2014 virtualization off, 0/2 CPUs\n",
		    "enable_virt_at_load=N", "        VMs: 0\n",
		    "0    yes     svm      enabled   no  off       none   PASS\n" },
		  { "Parameters", "Reason" } },
		{ "never holds, modules unloaded and blocked",
		  { .policy = "\"never\"", .applied = "\"never\"", .vm_count = "0", .vms = "[]",
		    .kvm = "{\"kvm_module\":\"loaded\",\"vendor_module\":\"kvm_amd\",\"vendor_state\":\"unloaded\","
			   "\"enable_virt_at_load\":null,\"dev_kvm\":false,\"autoload_blocked\":true,"
			   "\"dropin\":\"/run/modprobe.d/virtd.conf\",\"params\":{}}",
		    .cpus = "[" CPU_OFF(0, "off") "," CPU_OFF(1, "off") "]" },
		  false, EXIT_OK,
		  { "        KVM: kvm loaded, kvm_amd not loaded, no enable_virt_at_load, /dev/kvm absent, autoload blocked\n" },
		  {} },
		{ "cannot hold: firmware disables SVM on a CPU",
		  { .state = "\"cannot-hold\"", .reason = "\"CPU 1: SVM disabled by firmware (VM_CR.SVMDIS)\"",
		    .cpus = "[" CPU_ON(0) ",{\"cpu\":1,\"online\":true,\"feature\":\"svm\",\"firmware_enabled\":false,"
			    "\"virt_on\":false,\"expected\":\"on\",\"owner\":\"none\",\"ok\":false}]" },
		  false, EXIT_NOT_HOLDING,
		  { "\u25cf virtd: policy boot cannot hold \u2014 virtualization on, 1/2 CPUs, 1 KVM VM\n",
		    "     Reason: CPU 1: SVM disabled by firmware (VM_CR.SVMDIS)\n",
		    "1    yes     svm      disabled  no   on        none   FAIL\n",
		    "\nCPU 1: FAIL: expected on, virtualization is off; the firmware disables it: enable VT-x/AMD-V in the firmware setup\n" },
		  {} },
		{ "mismatch: a foreign hypervisor holds a CPU",
		  { .policy = "\"first-vm\"", .applied = "\"first-vm\"", .state = "\"mismatch\"",
		    .reason = "\"CPU 1 is on, policy first-vm expects off\"", .vm_count = "0", .vms = "[]",
		    .verify = "{\"ok\":false,\"checked\":2,\"mismatched\":1,\"message\":\"CPU 1: on, expected off\"}",
		    .cpus = "[" CPU_OFF(0, "off") ",{\"cpu\":1,\"online\":true,\"feature\":\"svm\",\"firmware_enabled\":true,"
			    "\"virt_on\":true,\"expected\":\"off\",\"owner\":\"unknown\",\"ok\":false}]" },
		  false, EXIT_NOT_HOLDING,
		  { "policy first-vm does not hold (CPU state mismatch) \u2014 virtualization on, 1/2 CPUs\n",
		    "     Verify: 1 of 2 CPUs not as promised: CPU 1: on, expected off\n",
		    "1    yes     svm      enabled   yes  off       unknown  FAIL\n",
		    "CPU 1: FAIL: expected off, virtualization is on, held by a hypervisor other than KVM (VirtualBox? VMware?)\n" },
		  {} },
		{ "starting",
		  { .state = "\"starting\"", .applied = "null", .cpus = "[]", .verify = "null", .vm_count = "0", .vms = "[]" },
		  false, EXIT_NOT_HOLDING,
		  { "\u25cf virtd: starting, policy boot not applied yet \u2014 no per-CPU state\n",
		    "     Policy: boot (applied: none)\n",
		    "\nNo per-CPU state yet: virtd is starting.\n" },
		  { "Verify" } },
		{ "offline CPU and lock-free any",
		  { .cpus = "[" CPU_ON(0) "," CPU_OFFLINE(1) "]" },
		  false, EXIT_OK,
		  { "\u25cf virtd: policy boot holds \u2014 virtualization on, 1/1 CPUs (1 offline), 1 KVM VM\n",
		    "0    yes     svm      enabled   yes  on        kvm    PASS\n"
		    "1    no      -        -         -    skip      -      -\n" },
		  { "WARN", "FAIL" } },
		{ "unverified and foreign-owned CPUs warn",
		  { .policy = "\"first-vm\"", .applied = "\"first-vm\"",
		    .cpus = "[{\"cpu\":0,\"online\":true,\"feature\":\"vmx\",\"firmware_enabled\":true,\"virt_on\":true,"
			    "\"expected\":\"any\",\"owner\":\"tdx\",\"ok\":true},"
			    "{\"cpu\":1,\"online\":true,\"feature\":\"vmx\",\"firmware_enabled\":true,\"virt_on\":false,"
			    "\"expected\":\"off\",\"owner\":\"none\"}]" },
		  false, EXIT_OK,
		  { "0    yes     vmx      enabled   yes  any       tdx    WARN\n",
		    "1    yes     vmx      enabled   no   off       none   WARN\n",
		    "CPU 0: WARN: virtualization is on, held by TDX\n",
		    "CPU 1: WARN: not verified by virtd\n" },
		  {} },
		{ "null fields",
		  { .kvm = "{\"kvm_module\":\"builtin\",\"vendor_module\":null,\"vendor_state\":null,"
			   "\"enable_virt_at_load\":null,\"dev_kvm\":null,\"autoload_blocked\":null,\"dropin\":null,\"params\":null}",
		    .pinned = "null", .vm_count = "null", .vms = "null", .caps = "null", .config = "null",
		    .failed = "\"failed to unload kvm_amd: Resource busy\"", .verify = "{\"ok\":null}" },
		  false, EXIT_OK,
		  { "        KVM: kvm built in, no vendor module (no VMX/SVM), no enable_virt_at_load\n",
		    "    Drop-in: none\n", "        VMs: -\n  Pinned VM: -\n",
		    " Last error: failed to unload kvm_amd: Resource busy\n" },
		  { "Hardware", "Timer", "Verify" } },
		{ "pinned VM on an Intel host with the timer",
		  { .pinned = "true", .vm_count = "0", .vms = "[]",
		    .caps = "{\"feature\":\"vmx\",\"tsc_khz\":2400000,\"vmx_misc\":\"0x0000000000000005\",\"timer_rate\":5,"
			    "\"timer_pin_control\":true,\"timer_erratum\":false,\"timer_max_delay_ns\":57266230613,"
			    "\"cpuid_signature\":\"0x000306c3\",\"cpuid_family\":6,\"cpuid_model\":60,\"cpuid_stepping\":3,\"nr_cpus\":2}" },
		  false, EXIT_OK,
		  { "  Pinned VM: yes (virtd's own empty KVM VM, held under boot)\n",
		    "   Hardware: VMX (Intel), TSC 2400000 kHz, family 6 model 60 stepping 3\n"
		    "      Timer: max delay 57.266 s (rate 5), pin control yes, no erratum\n"
		    " Timer mode: auto (min-max-delay 10.000 s)\n" },
		  {} },
		{ "terminal control characters in a command line are neutralised",
		  { .vms = "[{\"pid\":1,\"vms\":1,\"comm\":\"x\",\"cmdline\":\"evil \\u001b]0;pwned\\u0007 \\u009b2J caf\\u00e9\"}]" },
		  false, EXIT_OK,
		  { "        VMs: 1 (pid 1 evil ?]0;pwned? ?2J caf\xc3\xa9)\n" },
		  {} },
		{ "long command line truncated, whole with --full (1)",
		  { .vms = "[{\"pid\":7,\"cmdline\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}]" },
		  false, EXIT_OK,
		  { "(pid 7 012345678901234567890123456789012345678901234567890123456789...)\n" },
		  {} },
		{ "long command line truncated, whole with --full (2)",
		  { .vms = "[{\"pid\":7,\"cmdline\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}]" },
		  true, EXIT_OK,
		  { "(pid 7 0123456789012345678901234567890123456789012345678901234567890123456789)\n" },
		  {} },
		{ "unknown state",
		  { .state = "\"exploded\"" },
		  false, EXIT_NOT_HOLDING,
		  { "policy boot in unknown state 'exploded'", "      State: exploded\n" },
		  {} },
		{ "missing keys",
		  { .policy = OMIT, .applied = OMIT, .state = OMIT, .reason = OMIT, .config = OMIT, .kvm = OMIT,
		    .vm_count = OMIT, .vms = OMIT, .pinned = OMIT, .cpus = OMIT, .verify = OMIT, .caps = OMIT,
		    .failed = OMIT },
		  false, EXIT_NOT_HOLDING,
		  { "\u25cf virtd: policy - in an unknown state (virtd sent none) \u2014 no per-CPU state\n",
		    "     Policy: - (applied: none)\n      State: -\n        KVM: -\n        VMs: -\n  Pinned VM: -\n" },
		  {} },
		{ "wrong types everywhere",
		  { .policy = "5", .applied = "[]", .state = "true", .reason = "{}", .config = "\"x\"", .kvm = "[1]",
		    .vm_count = "-3", .vms = "{\"pid\":1}", .pinned = "\"yes\"", .cpus = "[1,null,\"x\",{\"cpu\":-1}]",
		    .verify = "7", .caps = "[]", .failed = "3" },
		  false, EXIT_NOT_HOLDING,
		  { "?    -       -        -         -   -         -      -\n" },
		  {} },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *doc = build(&cases[i].d);
		_cleanup_free_ char *out = NULL;
		int r = -1;

		out = render(doc, cases[i].full, false, &r);
		CHECK(r == cases[i].exit_code, "%s: exit %d (got %d)", cases[i].name, cases[i].exit_code, r);
		check_output(cases[i].name, out, cases[i].want, ELEMENTSOF(cases[i].want), cases[i].not_want,
			     ELEMENTSOF(cases[i].not_want));
	}
}

#define CPU_LOCK(n) "{\"cpu\":" #n ",\"online\":true,\"feature\":\"svm\",\"firmware_enabled\":true," \
		    "\"virt_on\":true,\"expected\":\"any\",\"owner\":\"lock\",\"ok\":true}"
#define CPU_ANY_OFF(n) "{\"cpu\":" #n ",\"online\":true,\"feature\":\"svm\",\"firmware_enabled\":true," \
		       "\"virt_on\":false,\"expected\":\"any\",\"owner\":\"none\",\"ok\":true}"
/* 2023-11-14 22:13:20 UTC */
#define SINCE "1700000000000000"

/* The foreign-hypervisor lock: holders, waiting requests, the locked state (times in UTC). */
static void test_locks(void)
{
	static const struct {
		const char *name;
		struct doc d;
		uint64_t now;
		bool full;
		int exit_code;
		const char *want[4];
		const char *not_want[2];
	} cases[] = {
		{ "locked, one holder",
		  { .state = "\"locked\"", .applied = "\"never\"", .vm_count = "0", .vms = "[]",
		    .reason = "\"held by virtualbox (pid 1234): KVM is unloaded and blocked until the last holder releases\"",
		    .cpus = "[" CPU_LOCK(0) "," CPU_ANY_OFF(1) "]",
		    .locks = "[{\"id\":3,\"who\":\"virtualbox\",\"why\":\"VBoxHeadless --startvm win11\",\"pid\":1234,"
			     "\"uid\":0,\"since_usec\":" SINCE "}]", .lock_waiting = "0" },
		  UINT64_C(1700000005000000), false, EXIT_OK,
		  { "\u25cf virtd: policy boot is suspended: a foreign hypervisor holds the lock \u2014 virtualization on, 1/2 CPUs\n",
		    "      State: locked\n",
		    "      Locks: virtualbox (pid 1234) since 22:13:20, 5s ago: VBoxHeadless --startvm win11\n",
		    "0    yes     svm      enabled   yes  any       lock   PASS\n" },
		  { "WARN", "FAIL" } },
		{ "two holders, a request waiting, longer ago",
		  { .state = "\"locked\"", .vm_count = "0", .vms = "[]", .cpus = "[" CPU_LOCK(0) "]",
		    .locks = "[{\"id\":3,\"who\":\"virtualbox\",\"why\":\"\",\"pid\":1234,\"uid\":0,\"since_usec\":" SINCE "},"
			     "{\"id\":4,\"who\":\"vmware\",\"why\":\"vmx \\u001b[2J\",\"pid\":99,\"uid\":0,"
			     "\"since_usec\":1699996400000000}]", .lock_waiting = "1" },
		  UINT64_C(1700000185000000), false, EXIT_OK,
		  { "      Locks: virtualbox (pid 1234) since 22:13:20, 3min 5s ago\n"
		    "             vmware (pid 99) since 21:13:20, 1h 3min ago: vmx ?[2J\n"
		    "             1 request waiting for KVM VMs to end\n" },
		  {} },
		{ "no holders, no time known",
		  { .locks = "[]", .lock_waiting = "0" },
		  0, false, EXIT_OK,
		  { "      Locks: none\n" },
		  {} },
		{ "a request waits while VMs run",
		  { .state = "\"pending\"", .reason = "\"1 KVM VM running (pid 812); the lock is granted when they have exited\"",
		    .locks = "[]", .lock_waiting = "1" },
		  0, false, EXIT_NOT_HOLDING,
		  { "      Locks: none held, 1 request waiting for KVM VMs to end\n" },
		  {} },
		{ "holder without a start time, days ago, long why cut",
		  { .state = "\"locked\"", .locks = "[{\"who\":\"x\",\"pid\":5,\"why\":"
		    "\"0123456789012345678901234567890123456789012345678901234567890123456789\"},"
		    "{\"who\":\"y\",\"pid\":6,\"since_usec\":1699800000000000}]" },
		  UINT64_C(1700000000000000), false, EXIT_OK,
		  { "      Locks: x (pid 5): 012345678901234567890123456789012345678901234567890123456789...\n",
		    "             y (pid 6) since 14:40:00, 2d 7h ago\n" },
		  {} },
		{ "wrong types in locks",
		  { .locks = "[1,{\"who\":5}]", .lock_waiting = "\"x\"" },
		  0, false, EXIT_OK,
		  { "      Locks: - (pid ?)\n", "             - (pid ?)\n" },
		  {} },
		{ "locks not an array: no line",
		  { .locks = "{}" },
		  0, false, EXIT_OK,
		  {},
		  { "Locks" } },
	};

	setenv("TZ", "UTC", 1);
	tzset();
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		struct status_print_options o = { .full = cases[i].full, .now_usec = cases[i].now };
		_cleanup_free_ char *doc = build(&cases[i].d);
		char *out = NULL, err[256] = "";
		size_t size = 0;
		FILE *f = open_memstream(&out, &size);
		int r = -1;

		if (f) {
			r = status_print_text(f, doc, strlen(doc), &o, err, sizeof(err));
			fclose(f);
		}
		CHECK(r == cases[i].exit_code, "%s: exit %d (got %d) %s", cases[i].name, cases[i].exit_code, r, err);
		check_output(cases[i].name, out, cases[i].want, ELEMENTSOF(cases[i].want), cases[i].not_want,
			     ELEMENTSOF(cases[i].not_want));
		free(out);
	}
}

#define HV_VBOX(loaded, holders) "{\"name\":\"virtualbox\",\"description\":\"Oracle VirtualBox\",\"loaded\":" loaded "," \
	"\"version\":\"7.2.22_Debian r175245 (0x00390000)\",\"modules\":[{\"name\":\"vboxdrv\",\"loaded\":" loaded "}," \
	"{\"name\":\"vboxnetflt\",\"loaded\":false}],\"devices\":[],\"mode\":\"shared\",\"mode_reason\":" \
	"\"vboxdrv runs inside KVM's VMX root on Intel from 6.16 (SUPDrv-linux.c supdrvOSEnableHwvirt())\"," \
	"\"mode_forced\":false,\"holders\":" holders "}"
#define HV_VMWARE "{\"name\":\"vmware\",\"description\":null,\"loaded\":false,\"version\":null,\"modules\":[]," \
	"\"devices\":[],\"mode\":\"exclusive\",\"mode_reason\":\"why\",\"mode_forced\":true,\"holders\":[]}"

/* The Hypervisors: lines: loaded or holding profiles (all with --full), the reason, broken files. */
static void test_hypervisors(void)
{
	static const struct {
		const char *name;
		struct doc d;
		bool full;
		const char *want[3];
		const char *not_want[2];
	} cases[] = {
		{ "loaded, held in shared mode",
		  { .hypervisors = "[" HV_VBOX("true", "[{\"id\":2,\"who\":\"VBoxHeadless\",\"pid\":77,\"shared\":true}]") ","
				   HV_VMWARE "]", .profile_errors = "[]" },
		  false,
		  { "Hypervisors: virtualbox 7.2.22_Debian r175245 (0x00390000): loaded (vboxdrv), mode shared, held by VBoxHeadless "
		    "(pid 77, shared)\n",
		    "               vboxdrv runs inside KVM's VMX root on Intel from 6.16 (SUPDr...\n" },
		  { "vmware", "not used" } },
		{ "--full: every profile, the whole reason, forced",
		  { .hypervisors = "[" HV_VBOX("false", "[]") "," HV_VMWARE "]" },
		  true,
		  { "Hypervisors: virtualbox 7.2.22_Debian r175245 (0x00390000): not loaded, mode shared\n",
		    "(SUPDrv-linux.c supdrvOSEnableHwvirt())\n", "             vmware: not loaded, mode exclusive (forced)\n" },
		  { "held by", NULL } },
		{ "none loaded, one file not used",
		  { .hypervisors = "[" HV_VBOX("false", "[]") "," HV_VMWARE "]",
		    .profile_errors = "[{\"name\":\"beta\",\"message\":\"/etc/virtd/profiles/beta.conf:4: invalid Rule=\"}]" },
		  false,
		  { "Hypervisors: none loaded (2 profiles)\n",
		    "             profile beta not used: /etc/virtd/profiles/beta.conf:4: invalid Rule=\n" },
		  { "virtualbox", NULL } },
		{ "held by hand-off for its VM process, one of two programs watched",
		  { .hypervisors = "[{\"name\":\"virtualbox\",\"loaded\":true,\"mode\":\"exclusive\",\"holders\":"
				   "[{\"id\":3,\"who\":\"virtualbox\",\"pid\":900,\"shared\":false,\"handoff\":true,"
				   "\"processes\":[{\"pid\":900,\"comm\":\"VBoxHeadless\"}],\"n_processes\":3}],"
				   "\"handoff_programs\":[{\"path\":\"/usr/lib/virtualbox/VBoxHeadless\",\"watched\":true},"
				   "{\"path\":\"/usr/lib/virtualbox/VirtualBoxVM\",\"watched\":false}]}]",
		    .handoff = "{\"state\":\"active\",\"reason\":null}" },
		  true,
		  { "held by virtualbox (pid 900, hand-off)\n", "  Hand-off for: VBoxHeadless (pid 900) and 2 more\n",
		    "Hand-off: active, 1 of 2 programs watched\n" },
		  { "shared", NULL } },
		{ "hand-off unavailable: the reason, and that the lock still works",
		  { .hypervisors = "[]", .handoff = "{\"state\":\"unavailable\",\"reason\":\"fanotify_init: Operation "
						    "not permitted (needs CAP_SYS_ADMIN)\"}" },
		  false,
		  { "Hand-off: unavailable: fanotify_init: Operation not permitted (needs CAP_SYS_ADMIN); virtctl lock still "
		    "works\n", NULL },
		  { "watched", NULL } },
		{ "its own VMs inside KVM: under it, not among KVM's",
		  { .hypervisors = "[{\"name\":\"virtualbox\",\"loaded\":false,\"mode\":\"shared\",\"holders\":[],"
				   "\"vms\":[{\"pid\":500,\"name\":\"tiny\"},{\"pid\":501,\"name\":\"big\"}]}]",
		    .vm_count = "1",
		    .vms = "[{\"pid\":812,\"vms\":1,\"comm\":\"qemu\",\"cmdline\":\"qemu-system-x86_64\",\"owner\":\"kvm\"},"
			   "{\"pid\":500,\"vms\":1,\"comm\":\"FakeVBoxVM\",\"cmdline\":\"FakeVBoxVM --comment tiny\","
			   "\"owner\":\"virtualbox\",\"name\":\"tiny\"}]" },
		  false,
		  { "Hypervisors: virtualbox: not loaded, mode shared\n", "               VMs: tiny (pid 500), big (pid 501)\n",
		    "VMs: 1 (pid 812 qemu-system-x86_64)\n" },
		  { "FakeVBoxVM", NULL } },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *text = build(&cases[i].d), *out = NULL;
		int rc = -1;

		out = text ? render(text, cases[i].full, false, &rc) : NULL;
		CHECK(out && rc >= 0, "hypervisors, %s: renders (%d)", cases[i].name, rc);
		if (!out)
			continue;
		for (size_t k = 0; k < ELEMENTSOF(cases[i].want) && cases[i].want[k]; k++)
			CHECK(strstr(out, cases[i].want[k]) != NULL, "hypervisors, %s: has \"%s\"", cases[i].name,
			      cases[i].want[k]);
		for (size_t k = 0; k < ELEMENTSOF(cases[i].not_want) && cases[i].not_want[k]; k++)
			CHECK(strstr(out, cases[i].not_want[k]) == NULL, "hypervisors, %s: lacks \"%s\"", cases[i].name,
			      cases[i].not_want[k]);
		if (tests_failed)
			printf("%s", out);
	}
}

static void test_malformed(void)
{
	static const struct {
		const char *in;
		int r;
		const char *err;
	} cases[] = {
		{ "", -EINVAL, "virtd sent a status that is not valid JSON: line 1, column 1: unexpected end of data" },
		{ "{\"state\":\"holds\"", -EINVAL, "virtd sent a status that is not valid JSON: line 1, column 17: unexpected end of data" },
		{ "[\"holds\"]", -EINVAL, "virtd sent a status that is a JSON array, not an object" },
		{ "\"holds\"", -EINVAL, "virtd sent a status that is a JSON string, not an object" },
		{ "null", -EINVAL, "virtd sent a status that is a JSON null, not an object" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *out = NULL;
		int r;

		out = render(cases[i].in, false, false, &r);
		CHECK(r == cases[i].r, "malformed %s: r=%d", cases[i].in, r);
		CHECK_STR(out, cases[i].err, "malformed %s: message", cases[i].in);
	}

	{
		_cleanup_(json_object_putp) json_object *v = json_object_new_array();
		struct status_print_options o = {};

		CHECK(status_print(stdout, NULL, &o) == -EINVAL && status_print(stdout, v, &o) == -EINVAL,
		      "status_print wants an object");
		CHECK(status_exit_code(NULL) == EXIT_NOT_HOLDING, "no document: not holding");
	}
}

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t rng(void)
{
	return tests_xorshift64(&rng_state);
}

/* Mutated documents through parse and render: any outcome but a crash, a
 * leak or a bad read is fine (ASan/UBSan builds watch). */
static void test_fuzz(void)
{
	_cleanup_free_ char *base = build(&(struct doc) { .cpus = "[" CPU_ON(0) "," CPU_OFFLINE(1) "]" });
	static const char tokens[] = "{}[]\",:0 -1tnfx\\";
	unsigned printed = 0, refused = 0;
	size_t len = base ? strlen(base) : 0;
	bool bad = false;

	for (int iter = 0; base && iter < 5000; iter++) {
		char *buf = malloc(len + 1), *out = NULL, err[256];
		struct status_print_options o = { .full = iter & 1, .color = iter & 2 };
		size_t size = 0, n = len;
		FILE *f;
		int r;

		if (!buf)
			break;
		memcpy(buf, base, len);
		for (int k = 1 + (int)(rng() % 3); k > 0; k--) {
			size_t at = rng() % len;

			if (rng() % 2)
				buf[at] = tokens[rng() % (sizeof(tokens) - 1)];
			else
				buf[at] = (char)(rng() & 0xff);
		}
		if (rng() % 8 == 0)
			n = rng() % len;
		f = open_memstream(&out, &size);
		if (!f) {
			free(buf);
			break;
		}
		r = status_print_text(f, buf, n, &o, err, sizeof(err));
		fclose(f);
		if (r == EXIT_OK || r == EXIT_NOT_HOLDING)
			printed++;
		else if (r == -EINVAL || r == -E2BIG)
			refused++;
		else
			bad = true;
		free(out);
		free(buf);
	}
	CHECK(!bad, "fuzz: 5000 mutated documents, %u printed, %u refused", printed, refused);
	CHECK(printed > 0 && refused > 0, "fuzz reached both outcomes");
}

int main(void)
{
	test_hypervisors();
	test_exact();
	test_timer();
	test_probe_table();
	test_table();
	test_locks();
	test_malformed();
	test_fuzz();
	return tests_finish();
}
