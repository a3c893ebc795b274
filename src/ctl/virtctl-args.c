/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virtctl-args.c: pure command-line parsing for virtctl's verbs. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lock-meta.h"
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

int verb_getopt(int argc, char *argv[], const char *shortopts, const struct option *options, verb_option_fn fn,
		void *userdata, char *err, size_t err_size)
{
	int c, r;

	/* optind = 0 makes glibc re-initialise getopt completely. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, options, NULL)) >= 0) {
		if (c == ':' || c == '?')
			return getopt_failure(c, argv, err, err_size);
		r = fn(c, optarg, userdata, err, err_size);
		if (r < 0)
			return r;
	}
	return 0;
}

/* --cpu=N into *cpu; refuses UINT32_MAX too when it means "every CPU" on the bus. */
static int cpu_option(const char *arg, bool refuse_all, uint32_t *cpu, bool *has_cpu, char *err, size_t err_size)
{
	int r = parse_cpu_number(arg, cpu);

	if (r < 0 || (refuse_all && *cpu == UINT32_MAX)) {
		snprintf(err, err_size, "invalid CPU number '%s': expected a decimal number such as --cpu=0%s", arg,
			 refuse_all ? " (leave --cpu out to probe every online CPU)" : "");
		return -EINVAL;
	}
	*has_cpu = true;
	return 0;
}

int verb_common_option(int c, const char *arg, struct verb_common *v, char *err, size_t err_size)
{
	switch (c) {
	case 'h':
		*v->help = true;
		return 0;
	case VERB_ARG_JSON:
		if (!v->json)
			break;
		*v->json = true;
		return 0;
	case VERB_ARG_CPU:
		if (!v->cpu)
			break;
		/* UINT32_MAX is the bus's "every CPU" where refuse_all says so. */
		return cpu_option(arg, v->refuse_all, v->cpu, v->has_cpu, err, err_size);
	}
	return 1;
}

int verb_unhandled_option(int c, char *err, size_t err_size)
{
	snprintf(err, err_size, "unhandled option %d", c);
	return -EINVAL;
}

enum { ARG_MONITOR = VERB_ARG_FIRST, ARG_ITERATIONS, ARG_WHO, ARG_WHY, ARG_WAIT };

static int hw_option(int c, const char *arg, void *userdata, char *err, size_t err_size)
{
	struct hw_args *a = userdata;
	struct verb_common v = { &a->help, &a->json, &a->cpu, &a->has_cpu, false };
	int r = verb_common_option(c, arg, &v, err, err_size);

	if (r <= 0)
		return r;
	if (c == ARG_MONITOR) {
		a->monitor = true;
		return 0;
	}
	return verb_unhandled_option(c, err, err_size);
}

int hw_parse_args(int argc, char *argv[], struct hw_args *ret, char *err, size_t err_size)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, VERB_ARG_JSON },
		{ "cpu", required_argument, NULL, VERB_ARG_CPU },
		{ "monitor", no_argument, NULL, ARG_MONITOR },
		{}
	};
	struct hw_args a = {};
	int r;

	r = verb_getopt(argc, argv, ":h", options, hw_option, &a, err, err_size);
	if (r < 0)
		return r;
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

struct probe_option_ctx {
	struct probe_args *a;
	uint32_t max_iterations;
};

static int probe_option(int c, const char *arg, void *userdata, char *err, size_t err_size)
{
	struct probe_option_ctx *ctx = userdata;
	struct probe_args *a = ctx->a;
	struct verb_common v = { &a->help, &a->json, &a->cpu, &a->has_cpu, true };
	int r = verb_common_option(c, arg, &v, err, err_size);

	if (r <= 0)
		return r;
	if (c != ARG_ITERATIONS)
		return verb_unhandled_option(c, err, err_size);
	if (parse_cpu_number(arg, &a->iterations) < 0 || a->iterations == 0 || a->iterations > ctx->max_iterations) {
		snprintf(err, err_size, "invalid iteration count '%s': expected a number from 1 to %" PRIu32, arg,
			 ctx->max_iterations);
		return -EINVAL;
	}
	return 0;
}

int probe_parse_args(int argc, char *argv[], uint32_t max_iterations, struct probe_args *ret, char *err,
		     size_t err_size)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, VERB_ARG_JSON },
		{ "cpu", required_argument, NULL, VERB_ARG_CPU },
		{ "iterations", required_argument, NULL, ARG_ITERATIONS },
		{}
	};
	struct probe_args a = {};
	struct probe_option_ctx ctx = { .a = &a, .max_iterations = max_iterations };
	int r;

	r = verb_getopt(argc, argv, ":h", options, probe_option, &ctx, err, err_size);
	if (r < 0)
		return r;
	if (optind < argc) {
		snprintf(err, err_size, "unexpected argument '%s' (probe takes options only)", argv[optind]);
		return -EINVAL;
	}
	*ret = a;
	return 0;
}

static int lock_option(int c, const char *arg, void *userdata, char *err, size_t err_size)
{
	struct lock_args *a = userdata;
	struct verb_common v = { .help = &a->help };
	int r = verb_common_option(c, arg, &v, err, err_size);

	if (r <= 0)
		return r;
	switch (c) {
	case ARG_WHO:
		a->who = arg;
		return 0;
	case ARG_WHY:
		a->why = arg;
		return 0;
	case ARG_WAIT:
		a->flags |= LOCK_FLAG_WAIT;
		a->timeout = 0;
		if (arg && lock_parse_seconds(arg, &a->timeout) < 0) {
			snprintf(err, err_size, "invalid --wait value '%s': expected seconds, such as --wait=60 or --wait=1.5",
				 arg);
			return -EINVAL;
		}
		return 0;
	}
	return verb_unhandled_option(c, err, err_size);
}

int lock_parse_args(int argc, char *argv[], struct lock_args *ret, char *err, size_t err_size)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "who", required_argument, NULL, ARG_WHO },
		{ "why", required_argument, NULL, ARG_WHY },
		{ "wait", optional_argument, NULL, ARG_WAIT },
		{}
	};
	struct lock_args a = {};
	int r;

	/* '+': the command's own options are not ours. */
	r = verb_getopt(argc, argv, "+:h", options, lock_option, &a, err, err_size);
	if (r < 0)
		return r;
	if (optind < argc)
		a.command = argv + optind;
	*ret = a;
	return 0;
}
