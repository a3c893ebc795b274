/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* log.h: logging for the tools (stderr, "PROGRAM: message") and the daemon (syslog-prefixed for the journal). */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

/*
 * console: "PROGRAM: message" on stderr, what a person at a terminal reads.
 * journal: "<N>message" on stderr, which journald (SyslogLevelPrefix=, on by
 * default) turns into a message of priority N under the unit's identifier.
 */
enum log_target {
	LOG_TARGET_CONSOLE,
	LOG_TARGET_JOURNAL,
};

void log_set_target(enum log_target t);
/* journal when stderr is the journal's stream ($JOURNAL_STREAM), else console. */
enum log_target log_target_auto(void);
void log_set_max_level(int level);

/*
 * log_full_errno() sets errno from r first, so "%m" in the format names the
 * error, and returns -|r| so that callers can write "return
 * log_error_errno(r, ...);".  r == 0 leaves errno alone and returns 0.
 */
int log_full_errno(int level, int r, const char *fmt, ...) _printf_(3, 4);

#define log_debug(...) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_warning_errno(r, ...) log_full_errno(LOG_WARNING, (r), __VA_ARGS__)

void log_error(const char *fmt, ...) _printf_(1, 2);
int log_error_errno(int r, const char *fmt, ...) _printf_(2, 3);
