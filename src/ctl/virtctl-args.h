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
