/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* log.c: stderr logging for the command-line tools, systemd-style. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

static void log_va(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", program_invocation_short_name);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_va(fmt, ap);
	va_end(ap);
}

int log_error_errno(int r, const char *fmt, ...)
{
	va_list ap;

	if (r < 0)
		r = -r;
	errno = r;
	va_start(ap, fmt);
	log_va(fmt, ap);
	va_end(ap);
	return -r;
}
