/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virtctl-probe.c: "virtctl probe": virthw's run path measured on each CPU, through virtd. */
#include <errno.h>
#include <inttypes.h>
#include <linux/virthw.h>
#include <stdio.h>
#include <string.h>

#include "bus-client.h"
#include "json-util.h"
#include "log.h"
#include "output.h"
#include "probe-print.h"
#include "virtctl-args.h"
#include "virtctl.h"

static void probe_help(FILE *f)
{
	fprintf(f,
		"Usage: virtctl probe [--cpu=N] [--iterations=N] [--json]\n"
		"\n"
		"Ask virtd to run the virthw module's own VMX (or SVM) run path on each\n"
		"online CPU and print what it measured: (a) VM entry/exit round trips with\n"
		"the preemption timer soft-disabled, (b) round trips with its pin control\n"
		"toggled before every entry and the ratio (b)/(a), (c) the cost of an\n"
		"immediate exit and how it was made, (d) the timer's programmed count\n"
		"against the TSC ticks until its exit.  virtd holds the foreign-hypervisor\n"
		"lock meanwhile: KVM is unloaded and comes back afterwards.  Needs root, or\n"
		"polkit's org.virtd1.probe.\n"
		"\n"
		"  --cpu=N          Only CPU N\n"
		"  --iterations=N   Iterations per measurement, 1 to %u (default %u)\n"
		"  --json           virtd's result document, unchanged\n"
		"  -h --help        Show this help\n"
		"\n"
		"Exit status: 0 measured, 1 failure (the message says why, with the\n"
		"kernel's words), 2 invalid command line, 4 virtd is not running,\n"
		"5 KVM VMs are running (they are named).\n",
		VIRTHW_PROBE_MAX_ITERATIONS, VIRTHW_PROBE_DEFAULT_ITERATIONS);
}

int verb_probe(int argc, char *argv[])
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_(json_object_putp) json_object *doc = NULL;
	_cleanup_free_ char *json = NULL;
	struct probe_args a;
	char err[512];
	int r;

	if (probe_parse_args(argc, argv, VIRTHW_PROBE_MAX_ITERATIONS, &a, err, sizeof(err)) < 0) {
		log_error("probe: %s (see virtctl probe --help)", err);
		return EXIT_USAGE;
	}
	if (a.help) {
		probe_help(stdout);
		return EXIT_OK;
	}

	r = bus_client_open(&bus);
	if (r < 0)
		return r == -EHOSTDOWN ? EXIT_NOT_RUNNING : EXIT_FAILURE_RUNTIME;
	r = bus_client_probe(bus, a.has_cpu ? a.cpu : UINT32_MAX, a.iterations, &json);
	if (r == -EHOSTDOWN)
		return EXIT_NOT_RUNNING;
	if (r == -EBUSY)
		return EXIT_VMS_RUNNING;
	if (r < 0)
		return EXIT_FAILURE_RUNTIME;

	r = jv_parse(json, strlen(json), &doc, err, sizeof(err));
	if (r < 0) {
		log_error("virtd sent a probe result that is not valid JSON: %s", err);
		return EXIT_FAILURE_RUNTIME;
	}
	if (a.json) {
		fputs(json, stdout);
		if (!*json || json[strlen(json) - 1] != '\n')
			fputc('\n', stdout);
	} else {
		r = probe_print(stdout, doc, colors_enabled());
		if (r < 0) {
			log_error_errno(r, "virtd's probe result is not what virtctl understands: %m");
			return EXIT_FAILURE_RUNTIME;
		}
	}
	if (fflush(stdout) != 0) {
		log_error_errno(-errno, "Failed to write the results: %m");
		return EXIT_FAILURE_RUNTIME;
	}
	return EXIT_OK;
}
