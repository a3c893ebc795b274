/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virtctl.c: entry point of virtctl: global options and the table of verbs. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "virtctl-args.h"
#include "virtctl.h"

static const struct verb {
	const char *name;
	int (*run)(int argc, char *argv[]);
	const char *summary;
} verbs[] = {
	{ "status", verb_status, "Show virtd's policy, whether it holds, and each CPU's state" },
	{ "reload", verb_reload, "Make virtd re-read /etc/virtd.conf (root, or polkit allows)" },
	{ "lock", verb_lock, "Run an out-of-tree hypervisor with KVM kept off the CPUs (root, or polkit allows)" },
	{ "probe", verb_probe, "Measure VM entry/exit costs with virthw's run path on each CPU (root, or polkit allows)" },
	{ "hw", verb_hw, "Show what the virthw module reads from the hardware" },
};

static void help(FILE *f)
{
	fprintf(f,
		"Usage: virtctl [OPTIONS] COMMAND [ARGS...]\n"
		"\n"
		"Control and inspect virtd, the host's authority on hardware virtualization.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
		fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(f,
		"  %-10s %s\n"
		"\n"
		"Options:\n"
		"  -h --help     Show this help (COMMAND --help: the command's help)\n"
		"     --version  Show the version\n"
		"\n"
		"Exit status: 0 success, 1 failure (the message says what failed and\n"
		"how to fix it), 2 invalid command line; status: 3 the policy does not\n"
		"hold; status, reload, lock and probe: 4 virtd is not running; lock:\n"
		"COMMAND's status, or 5 KVM VMs are running, 6 waiting for them timed\n"
		"out (see virtctl lock --help); probe: 5 KVM VMs are running.\n",
		"help", "Show this help");
}

int main(int argc, char *argv[])
{
	enum { ARG_VERSION = 0x100 };
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, ARG_VERSION },
		{}
	};
	int c;

	opterr = 0;
	/* '+': stop at the verb, whose options are its own. */
	while ((c = getopt_long(argc, argv, "+:h", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			help(stdout);
			return EXIT_OK;
		case ARG_VERSION:
			printf("virtctl (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return EXIT_OK;
		default:
			if (strncmp(argv[optind - 1], "--", 2) == 0)
				log_error("invalid option '%s' (see virtctl --help)", argv[optind - 1]);
			else
				log_error("unknown option '-%c' (see virtctl --help)", optopt);
			return EXIT_USAGE;
		}
	}

	if (optind >= argc) {
		log_error("missing command (see virtctl --help)");
		return EXIT_USAGE;
	}
	if (strcmp(argv[optind], "help") == 0) {
		help(stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
		if (strcmp(argv[optind], verbs[i].name) == 0)
			return verbs[i].run(argc - optind, argv + optind);

	log_error("unknown command '%s' (see virtctl --help)", argv[optind]);
	return EXIT_USAGE;
}
