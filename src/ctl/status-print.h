/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* status-print.h: the human view of virtd's status document (pure: JSON in, text out). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "json-util.h"

struct status_print_options {
	bool full;              /* every KVM parameter, whole command lines, the config path */
	bool color;             /* ANSI colours (the caller decides: tty and NO_COLOR) */
	uint64_t now_usec;      /* CLOCK_REALTIME, for "5s ago" beside a lock's start; 0: left out */
};

/* Longest VM command line shown without --full, in characters. */
#define STATUS_CMDLINE_MAX 60

/*
 * virtctl's exit code for a status document: EXIT_OK when "state" is
 * "holds" or "locked" (a foreign hypervisor holds virtd's lock: the policy is
 * suspended on purpose), EXIT_NOT_HOLDING for any other or a missing state (a script must
 * never take an unknown state for a holding policy).
 */
int status_exit_code(const json_object *doc);

/*
 * Prints the view: the verdict line, Key: value lines, the per-CPU table and
 * a hint per failed check.  Every field may be missing or null; what is
 * absent is shown as "-" or left out, never guessed.  Strings from the
 * document are printed with control characters replaced (a VM's command
 * line is any user's text).  Returns 0, -EINVAL when doc is not an object,
 * -ENOMEM, or -EIO when writing failed.
 */
int status_print(FILE *f, const json_object *doc, const struct status_print_options *o);

/*
 * Parses text and prints it as above.  Returns the exit code (>= 0), or a
 * negative errno with a message in err when text is not a status document.
 */
int status_print_text(FILE *f, const char *text, size_t len, const struct status_print_options *o,
		      char *err, size_t err_size);
