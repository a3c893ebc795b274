/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* log.h: stderr logging for the command-line tools, systemd-style. */
#pragma once

#include "macro.h"

/*
 * Both print "PROGRAM: message" to stderr.  log_error_errno() sets errno from
 * r first, so "%m" in the format names the error, and returns -|r| so that
 * callers can write "return log_error_errno(r, ...);".
 */
void log_error(const char *fmt, ...) _printf_(1, 2);
int log_error_errno(int r, const char *fmt, ...) _printf_(2, 3);
