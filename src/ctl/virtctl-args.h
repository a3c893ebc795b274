/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virtctl-args.h: pure command-line parsing for virtctl's verbs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes of virtctl, documented in --help. */
enum {
	EXIT_OK = 0,
	EXIT_FAILURE_RUNTIME = 1,   /* the request failed: see stderr */
	EXIT_USAGE = 2,             /* bad command line */
	EXIT_NOT_HOLDING = 3,       /* status: virtd's policy does not hold now */
	EXIT_NOT_RUNNING = 4,       /* status, reload: virtd is not on the bus */
	EXIT_VMS_RUNNING = 5,       /* lock, probe: KVM VMs are running */
};

struct option;

/*
 * One getopt_long loop for every verb (shortopts must start with ':', or
 * "+:" to stop at the first non-option): fn is called for each option
 * found, with its argument; returns 0 (optind then points past the
 * options), the first negative value fn returned, or -EINVAL with what was
 * wrong in err (unknown option, missing or unexpected value).
 */
typedef int (*verb_option_fn)(int c, const char *arg, void *userdata, char *err, size_t err_size);
int verb_getopt(int argc, char *argv[], const char *shortopts, const struct option *options, verb_option_fn fn,
		void *userdata, char *err, size_t err_size);

/* The options several verbs share: -h/--help, --json, --cpu=N.  Fields a
 * verb does not have are NULL (json, cpu; help is always there). */
enum { VERB_ARG_JSON = 0x100, VERB_ARG_CPU, VERB_ARG_FIRST };
struct verb_common {
	bool *help, *json;
	uint32_t *cpu;
	bool *has_cpu;
	bool refuse_all;	/* --cpu=4294967295 (the bus's "every CPU") refused */
};
/* 0 handled, 1 not one of the shared options, -EINVAL with err. */
int verb_common_option(int c, const char *arg, struct verb_common *v, char *err, size_t err_size);
/* For a verb's callback that met an option it does not know: -EINVAL. */
int verb_unhandled_option(int c, char *err, size_t err_size);

/* Decimal CPU number, no sign, no blanks, nothing after it, fits in u32. */
int parse_cpu_number(const char *s, uint32_t *ret);

struct hw_args {
	bool help;
	bool json;
	bool monitor;
	bool has_cpu;
	uint32_t cpu;
};

/*
 * Parses "hw [--json] [--cpu=N] [--monitor] [monitor]" (argv[0] is the verb).
 * Returns 0, or -EINVAL with a message for the user in err.  Permutes argv
 * (getopt) and resets getopt's state first, so it may be called repeatedly.
 */
int hw_parse_args(int argc, char *argv[], struct hw_args *ret, char *err, size_t err_size);

struct probe_args {
	bool help;
	bool json;
	bool has_cpu;
	uint32_t cpu;
	uint32_t iterations;        /* 0: the module's default */
};

/*
 * Parses "probe [--cpu=N] [--iterations=N] [--json]" (argv[0] is the verb);
 * iterations from 1 to max_iterations.  As hw_parse_args().
 */
int probe_parse_args(int argc, char *argv[], uint32_t max_iterations, struct probe_args *ret, char *err,
		     size_t err_size);

struct lock_args {
	bool help;
	const char *who, *why;		/* as given (unchecked), or NULL */
	uint64_t flags, timeout;	/* LOCK_FLAG_WAIT; usec, 0: for ever */
	char **command;			/* argv's tail after the options; NULL when there is none */
};

/*
 * Parses "lock [--who=NAME] [--why=TEXT] [--wait[=SECONDS]] [--] COMMAND
 * [ARG...]" (argv[0] is the verb), stopping at the command, whose options
 * are its own.  As hw_parse_args().
 */
int lock_parse_args(int argc, char *argv[], struct lock_args *ret, char *err, size_t err_size);
