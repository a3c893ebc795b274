/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virtctl-hw.c: "virtctl hw": the virthw module's view of the hardware. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hw-client.h"
#include "hw-json.h"
#include "log.h"
#include "output.h"
#include "virtctl-args.h"
#include "virtctl.h"

static void hw_help(FILE *f)
{
	fprintf(f,
		"Usage: virtctl hw [--json] [--cpu=N]\n"
		"       virtctl hw monitor [--json] [--cpu=N]\n"
		"\n"
		"Ask the virthw kernel module what the hardware offers and, per CPU,\n"
		"whether VMX/SVM is supported, allowed by firmware and on right now.\n"
		"Talks to the module directly; needs CAP_NET_ADMIN.\n"
		"\n"
		"  monitor, --monitor  Print one line per CPU event until killed\n"
		"  --json              One JSON object instead of text (monitor: one\n"
		"                      object per line)\n"
		"  --cpu=N             Only CPU N\n"
		"  -h --help           Show this help\n"
		"\n"
		"Exit status: 0 success, 1 failure (module not loaded, permission\n"
		"denied, request refused), 2 invalid command line.\n");
}

/* Turns an error into a message that says what to do about it. */
static int hw_error(hw_client *c, int r, const char *what)
{
	const char *extack = c ? hw_client_extack(c) : NULL;

	switch (r) {
	case -ENOPKG:
		return log_error_errno(r, "virthw module is not loaded (modprobe virthw, or insmod kmod/virthw.ko)");
	case -EPROTO:
		return log_error_errno(r, "virthw module speaks a newer protocol than this virtctl (version %d): update virtctl",
				       VIRTHW_GENL_VERSION);
	case -EPERM:
	case -EACCES:
		return log_error_errno(r, "Failed to %s: needs CAP_NET_ADMIN (run as root)", what);
	case -EBADMSG:
		if (c && hw_client_parse_error(c))
			return log_error_errno(r, "Failed to %s: malformed reply from virthw: %s", what,
					       hw_client_parse_error(c));
		break;
	}
	if (extack)
		return log_error_errno(r, "Failed to %s: %m (kernel: %s)", what, extack);
	return log_error_errno(r, "Failed to %s: %m", what);
}

#define KEY_WIDTH 15

static void print_caps(FILE *f, const struct virthw_caps *c)
{
	struct hw_cpuid_decoded d = hw_cpuid_decode(c->cpuid_sig);
	const char *vmx_only = c->feature == VIRTHW_FEATURE_VMX ? "unknown" : "n/a (VMX only)";
	char buf[128], dur[DURATION_MAX];

	print_key_value(f, KEY_WIDTH, "Feature", c->feature == VIRTHW_FEATURE_VMX ? "VMX (Intel)" :
			c->feature == VIRTHW_FEATURE_SVM ? "SVM (AMD)" : "none");
	if (c->tsc_khz)
		snprintf(buf, sizeof(buf), "%" PRIu32 " kHz", c->tsc_khz);
	else
		snprintf(buf, sizeof(buf), "unknown");
	print_key_value(f, KEY_WIDTH, "TSC", buf);
	if (c->has_vmx_misc) {
		snprintf(buf, sizeof(buf), "0x%016" PRIx64, c->vmx_misc);
		print_key_value(f, KEY_WIDTH, "VMX misc", buf);
	}
	if (c->has_timer_rate)
		snprintf(buf, sizeof(buf), "%u (1 tick per %" PRIu64 " TSC cycles)", c->timer_rate,
			 (uint64_t)1 << c->timer_rate);
	print_key_value(f, KEY_WIDTH, "Timer rate", c->has_timer_rate ? buf : vmx_only);
	print_key_value(f, KEY_WIDTH, "Pin control",
			c->has_timer_pin_ctl ? (c->timer_pin_ctl ? "yes" : "no") : vmx_only);
	print_key_value(f, KEY_WIDTH, "Erratum",
			c->has_timer_erratum ? (c->timer_erratum ? "yes (timer broken on this CPU)" : "no") : vmx_only);
	print_key_value(f, KEY_WIDTH, "Max delay",
			c->has_timer_max_ns ? format_duration_ns(dur, sizeof(dur), c->timer_max_ns) : vmx_only);
	snprintf(buf, sizeof(buf), "0x%08" PRIx32 " (family %u, model %u, stepping %u)",
		 c->cpuid_sig, d.family, d.model, d.stepping);
	print_key_value(f, KEY_WIDTH, "CPUID signature", buf);
	snprintf(buf, sizeof(buf), "%" PRIu32, c->nr_cpus);
	print_key_value(f, KEY_WIDTH, "Possible CPUs", buf);
}

static int print_cpu_table(FILE *f, const struct virthw_cpu_state *cpus, size_t n)
{
	static const char *const headers[] = { "CPU", "ONLINE", "FEATURE", "FIRMWARE", "ON", "FW-MSR" };
	_cleanup_(table_freep) table *t = table_new(ELEMENTSOF(headers), headers);

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct virthw_cpu_state *s = &cpus[i];
		char id[16], msr[24];
		const char *cells[6], *colors[6] = {};
		int r;

		snprintf(id, sizeof(id), "%" PRIu32, s->id);
		if (s->has_fw_msr)
			snprintf(msr, sizeof(msr), "0x%016" PRIx64, s->fw_msr);
		else
			snprintf(msr, sizeof(msr), "-");
		cells[0] = id;
		cells[1] = s->online ? "yes" : "no";
		colors[1] = s->online ? NULL : ANSI_YELLOW;
		cells[2] = s->has_details ? hw_feature_to_string(s->feature) : "-";
		cells[3] = s->has_details ? (s->fw_enabled ? "enabled" : "disabled") : "-";
		colors[3] = s->has_details && !s->fw_enabled ? ANSI_RED : NULL;
		cells[4] = s->has_details ? (s->virt_on ? "yes" : "no") : "-";
		colors[4] = s->has_details && s->virt_on ? ANSI_GREEN : NULL;
		cells[5] = msr;
		r = table_add_row(t, cells, colors);
		if (r < 0)
			return r;
	}
	return table_print(t, f, colors_enabled());
}

static void print_event_line(FILE *f, const struct virthw_event_msg *e)
{
	const struct virthw_cpu_state *s = &e->cpu;

	fprintf(f, "%s cpu=%" PRIu32 " online=%s", hw_event_to_string(e->event), s->id, s->online ? "yes" : "no");
	if (s->has_details)
		fprintf(f, " feature=%s firmware=%s on=%s", hw_feature_to_string(s->feature),
			s->fw_enabled ? "enabled" : "disabled", s->virt_on ? "yes" : "no");
	if (s->has_fw_msr)
		fprintf(f, " fw_msr=0x%016" PRIx64, s->fw_msr);
	fputc('\n', f);
}

static int hw_monitor(hw_client *c, const struct hw_args *a)
{
	int r;

	r = hw_client_subscribe(c);
	if (r == -ENOPROTOOPT)
		return log_error_errno(r, "virthw module has no \"%s\" multicast group: module too old?", VIRTHW_MCGRP_EVENTS);
	if (r < 0)
		return hw_error(c, r, "subscribe to virthw events");
	/* On stderr so a reader of stdout sees events only, yet a harness can
	 * wait for this line to know no event will be missed from now on. */
	fprintf(stderr, "virtctl: listening for virthw events (group %d)\n", hw_client_event_group(c));
	fflush(stderr);

	for (;;) {
		struct virthw_event_msg e;

		r = hw_client_receive_event(c, &e);
		if (r == -EAGAIN || r == -EINTR)
			continue;
		if (r == -EBADMSG) {
			log_error("ignoring malformed virthw event: %s",
				  hw_client_parse_error(c) ? hw_client_parse_error(c) : "unknown");
			continue;
		}
		if (r < 0)
			return hw_error(c, r, "receive virthw events");
		if (a->has_cpu && e.cpu.id != a->cpu)
			continue;
		if (a->json) {
			r = hw_event_print_json(stdout, &e);
			if (r < 0)
				return log_error_errno(r, "Failed to write event as JSON: %m");
		} else {
			print_event_line(stdout, &e);
		}
		/* Readers follow a file or a pipe: each event must arrive now. */
		if (fflush(stdout) != 0)
			return log_error_errno(-errno, "Failed to write event: %m");
	}
}

static int hw_show(hw_client *c, const struct hw_args *a)
{
	_cleanup_free_ struct virthw_cpu_state *cpus = NULL;
	struct virthw_caps caps;
	size_t n = 0;
	int r;

	r = hw_client_get_caps(c, &caps);
	if (r < 0)
		return hw_error(c, r, "read virthw capabilities");

	if (a->has_cpu) {
		if (a->cpu >= caps.nr_cpus)
			return log_error_errno(-ERANGE, "CPU %" PRIu32 " does not exist: this machine has %" PRIu32
					       " possible CPUs (0-%" PRIu32 ")", a->cpu, caps.nr_cpus, caps.nr_cpus - 1);
		cpus = calloc(1, sizeof(*cpus));
		if (!cpus)
			return log_error_errno(-ENOMEM, "Out of memory");
		r = hw_client_get_cpu(c, a->cpu, cpus);
		if (r < 0) {
			char what[64];

			snprintf(what, sizeof(what), "read the state of CPU %" PRIu32, a->cpu);
			return hw_error(c, r, what);
		}
		n = 1;
	} else {
		r = hw_client_dump_cpus(c, &cpus, &n);
		if (r < 0)
			return hw_error(c, r, "read the per-CPU state");
	}

	if (a->json) {
		r = hw_doc_print_json(stdout, &caps, cpus, n);
		if (r < 0)
			return log_error_errno(r, "Failed to write the JSON document: %m");
	} else {
		print_caps(stdout, &caps);
		fputc('\n', stdout);
		r = print_cpu_table(stdout, cpus, n);
		if (r < 0)
			return log_error_errno(r, "Failed to print the CPU table: %m");
	}
	if (fflush(stdout) != 0)
		return log_error_errno(-errno, "Failed to write output: %m");
	return 0;
}

int verb_hw(int argc, char *argv[])
{
	_cleanup_(hw_client_freep) hw_client *c = NULL;
	struct hw_args a;
	char err[256];
	int r;

	r = hw_parse_args(argc, argv, &a, err, sizeof(err));
	if (r < 0) {
		log_error("hw: %s (see virtctl hw --help)", err);
		return EXIT_USAGE;
	}
	if (a.help) {
		hw_help(stdout);
		return EXIT_OK;
	}

	r = hw_client_new(&c);
	if (r < 0) {
		hw_error(NULL, r, "connect to the virthw module");
		return EXIT_FAILURE_RUNTIME;
	}

	r = a.monitor ? hw_monitor(c, &a) : hw_show(c, &a);
	return r < 0 ? EXIT_FAILURE_RUNTIME : EXIT_OK;
}
