/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virtctl-reload.c: "virtctl reload": make virtd re-read /etc/virtd.conf (systemctl reload virtd runs it). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "bus-client.h"
#include "log.h"
#include "virtctl-args.h"
#include "virtctl.h"

static void reload_help(FILE *f)
{
	fprintf(f,
		"Usage: virtctl reload\n"
		"\n"
		"Make virtd re-read its configuration file and apply it.  A file with\n"
		"errors is refused: virtd names the file, line, value and the accepted\n"
		"values, and keeps running with the configuration it had.  Needs root, or\n"
		"polkit's org.virtd1.reload.\n"
		"\n"
		"  -h --help   Show this help\n"
		"\n"
		"Exit status: 0 reloaded, 1 refused or failed (the message says why),\n"
		"4 virtd is not running, 2 invalid command line.\n");
}

static int reload_option(int c, const char *arg, void *userdata, char *err, size_t err_size)
{
	struct verb_common v = { .help = userdata };
	int r = verb_common_option(c, arg, &v, err, err_size);

	return r <= 0 ? r : verb_unhandled_option(c, err, err_size);
}

int verb_reload(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	bool help = false;
	char err[256];
	int r;

	if (verb_getopt(argc, argv, ":h", options, reload_option, &help, err, sizeof(err)) < 0) {
		log_error("reload: %s (see virtctl reload --help)", err);
		return EXIT_USAGE;
	}
	if (help) {
		reload_help(stdout);
		return EXIT_OK;
	}
	if (optind < argc) {
		log_error("reload: unexpected argument '%s' (reload takes none)", argv[optind]);
		return EXIT_USAGE;
	}

	r = bus_client_open(&bus);
	if (r < 0)
		return r == -EHOSTDOWN ? EXIT_NOT_RUNNING : EXIT_FAILURE_RUNTIME;
	r = bus_client_reload(bus);
	if (r == -EHOSTDOWN)
		return EXIT_NOT_RUNNING;
	return r < 0 ? EXIT_FAILURE_RUNTIME : EXIT_OK;
}
