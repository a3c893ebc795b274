/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virtctl-args.c: pure command-line parsing for virtctl's verbs. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "virtctl-args.h"

int parse_cpu_number(const char *s, uint32_t *ret)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return -ERANGE;
	}
	*ret = (uint32_t)v;
	return 0;
}

/*
 * What went wrong when getopt_long (with opterr = 0 and a leading ':' in its
 * short options) returned @c, ':' or '?', into @err; returns -EINVAL.
 */
static int getopt_failure(int c, char *argv[], char *err, size_t err_size)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		snprintf(err, err_size, "option '%s' needs a value", arg);
	/* getopt sets optopt for a known long option given a value it does
	 * not take, and leaves it 0 for an unknown one. */
	else if (strncmp(arg, "--", 2) == 0 && optopt)
		snprintf(err, err_size, "option '%s' takes no value", arg);
	else if (strncmp(arg, "--", 2) == 0)
		snprintf(err, err_size, "unknown option '%s'", arg);
	else
		snprintf(err, err_size, "unknown option '-%c'", optopt);
	return -EINVAL;
}

int hw_parse_args(int argc, char *argv[], struct hw_args *ret, char *err, size_t err_size)
{
	enum { ARG_JSON = 0x100, ARG_CPU, ARG_MONITOR };
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, ARG_JSON },
		{ "cpu", required_argument, NULL, ARG_CPU },
		{ "monitor", no_argument, NULL, ARG_MONITOR },
		{}
	};
	struct hw_args a = {};
	int c, r;

	/* optind = 0 makes glibc re-initialise getopt completely. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			a.help = true;
			break;
		case ARG_JSON:
			a.json = true;
			break;
		case ARG_MONITOR:
			a.monitor = true;
			break;
		case ARG_CPU:
			r = parse_cpu_number(optarg, &a.cpu);
			if (r < 0) {
				snprintf(err, err_size, "invalid CPU number '%s': expected a decimal number such as --cpu=0", optarg);
				return -EINVAL;
			}
			a.has_cpu = true;
			break;
		default:
			return getopt_failure(c, argv, err, err_size);
		}
	}

	for (int i = optind; i < argc; i++) {
		if (strcmp(argv[i], "monitor") == 0)
			a.monitor = true;
		else {
			snprintf(err, err_size, "unexpected argument '%s' (hw takes only 'monitor')", argv[i]);
			return -EINVAL;
		}
	}

	*ret = a;
	return 0;
}

int probe_parse_args(int argc, char *argv[], uint32_t max_iterations, struct probe_args *ret, char *err,
		     size_t err_size)
{
	enum { ARG_JSON = 0x100, ARG_CPU, ARG_ITERATIONS };
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, ARG_JSON },
		{ "cpu", required_argument, NULL, ARG_CPU },
		{ "iterations", required_argument, NULL, ARG_ITERATIONS },
		{}
	};
	struct probe_args a = {};
	int c, r;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			a.help = true;
			break;
		case ARG_JSON:
			a.json = true;
			break;
		case ARG_CPU:
			r = parse_cpu_number(optarg, &a.cpu);
			/* UINT32_MAX is the bus's "every CPU": that is what leaving --cpu out says. */
			if (r < 0 || a.cpu == UINT32_MAX) {
				snprintf(err, err_size, "invalid CPU number '%s': expected a decimal number such as --cpu=0 "
					 "(leave --cpu out to probe every online CPU)", optarg);
				return -EINVAL;
			}
			a.has_cpu = true;
			break;
		case ARG_ITERATIONS:
			r = parse_cpu_number(optarg, &a.iterations);
			if (r < 0 || a.iterations == 0 || a.iterations > max_iterations) {
				snprintf(err, err_size, "invalid iteration count '%s': expected a number from 1 to %" PRIu32,
					 optarg, max_iterations);
				return -EINVAL;
			}
			break;
		default:
			return getopt_failure(c, argv, err, err_size);
		}
	}
	if (optind < argc) {
		snprintf(err, err_size, "unexpected argument '%s' (probe takes options only)", argv[optind]);
		return -EINVAL;
	}
	*ret = a;
	return 0;
}
