/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virtctl-status.c: "virtctl status": virtd's policy, whether it holds, and the per-CPU truth. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bus-client.h"
#include "log.h"
#include "output.h"
#include "status-print.h"
#include "virtctl-args.h"
#include "virtctl.h"

static uint64_t now_realtime_usec(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void status_help(FILE *f)
{
	fprintf(f,
		"Usage: virtctl status [--json] [-l|--full]\n"
		"\n"
		"Ask virtd which policy is configured and whether it holds, then show\n"
		"per CPU whether VMX/SVM is supported, allowed by firmware, on right now,\n"
		"what the policy expects and who owns it; KVM's modules and VMs.\n"
		"\n"
		"  --json      virtd's status document, unchanged (one JSON object)\n"
		"  -l --full   Every KVM module parameter and whole VM command lines\n"
		"  -h --help   Show this help\n"
		"\n"
		"Exit status: 0 the policy holds, or is suspended by a foreign-hypervisor\n"
		"lock (locked), 3 it does not (pending, cannot hold,\n"
		"mismatch, starting), 4 virtd is not running, 1 other failure,\n"
		"2 invalid command line.\n");
}

struct status_args {
	bool help, json;
	struct status_print_options print;
};

static int status_option(int c, const char *arg, void *userdata, char *err, size_t err_size)
{
	struct status_args *a = userdata;
	struct verb_common v = { .help = &a->help, .json = &a->json };
	int r = verb_common_option(c, arg, &v, err, err_size);

	if (r <= 0)
		return r;
	if (c == 'l') {
		a->print.full = true;
		return 0;
	}
	return verb_unhandled_option(c, err, err_size);
}

/* --json: virtd's document unchanged, so a script sees exactly what virtd
 * said; parsed only for the exit code. */
static int print_status_json(const char *json)
{
	_cleanup_(json_object_putp) json_object *doc = NULL;
	char err[512];

	fputs(json, stdout);
	if (!*json || json[strlen(json) - 1] != '\n')
		fputc('\n', stdout);
	if (fflush(stdout) != 0) {
		log_error_errno(-errno, "Failed to write the status: %m");
		return EXIT_FAILURE_RUNTIME;
	}
	if (jv_parse(json, strlen(json), &doc, err, sizeof(err)) < 0) {
		log_error("virtd sent a status that is not valid JSON: %s", err);
		return EXIT_FAILURE_RUNTIME;
	}
	return status_exit_code(doc);
}

int verb_status(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, VERB_ARG_JSON },
		{ "full", no_argument, NULL, 'l' },
		{}
	};
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	_cleanup_free_ char *json = NULL;
	struct status_args a = {};
	char err[512];
	int r;

	if (verb_getopt(argc, argv, ":hl", options, status_option, &a, err, sizeof(err)) < 0) {
		log_error("status: %s (see virtctl status --help)", err);
		return EXIT_USAGE;
	}
	if (a.help) {
		status_help(stdout);
		return EXIT_OK;
	}
	if (optind < argc) {
		log_error("status: unexpected argument '%s' (see virtctl status --help)", argv[optind]);
		return EXIT_USAGE;
	}

	r = bus_client_open(&bus);
	if (r < 0)
		return r == -EHOSTDOWN ? EXIT_NOT_RUNNING : EXIT_FAILURE_RUNTIME;
	r = bus_client_get_status(bus, &json);
	if (r < 0)
		return r == -EHOSTDOWN ? EXIT_NOT_RUNNING : EXIT_FAILURE_RUNTIME;

	if (a.json)
		return print_status_json(json);

	a.print.color = colors_enabled();
	a.print.now_usec = now_realtime_usec();
	r = status_print_text(stdout, json, strlen(json), &a.print, err, sizeof(err));
	if (r < 0) {
		log_error("%s", err);
		return EXIT_FAILURE_RUNTIME;
	}
	if (fflush(stdout) != 0) {
		log_error_errno(-errno, "Failed to write the status: %m");
		return EXIT_FAILURE_RUNTIME;
	}
	return r;
}
