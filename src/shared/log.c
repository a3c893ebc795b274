/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* log.c: logging for the tools (stderr, "PROGRAM: message") and the daemon (syslog-prefixed for the journal). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "log.h"

static enum log_target target = LOG_TARGET_CONSOLE;
static int max_level = LOG_INFO;

void log_set_target(enum log_target t)
{
	target = t;
}

void log_set_max_level(int level)
{
	max_level = level;
}

enum log_target log_target_auto(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	/* Only when stderr is still that stream, not when it was inherited
	 * by a child whose stderr has since been redirected. */
	if (e && sscanf(e, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
	    (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino)
		return LOG_TARGET_JOURNAL;
	return LOG_TARGET_CONSOLE;
}

static void log_va(int level, const char *fmt, va_list ap)
{
	/* One write per message, so that lines of concurrent writers never mix. */
	char buf[2048];
	int n;

	if (target == LOG_TARGET_JOURNAL)
		n = snprintf(buf, sizeof(buf), "<%d>", level & LOG_PRIMASK);
	else
		n = snprintf(buf, sizeof(buf), "%s: ", program_invocation_short_name);
	if (n < 0)
		return;
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	fprintf(stderr, "%s\n", buf);
}

int log_full_errno(int level, int r, const char *fmt, ...)
{
	va_list ap;

	if (r < 0)
		r = -r;
	if (level > max_level)
		return -r;
	if (r > 0)
		errno = r;
	va_start(ap, fmt);
	log_va(level, fmt, ap);
	va_end(ap);
	return -r;
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_va(LOG_ERR, fmt, ap);
	va_end(ap);
}

int log_error_errno(int r, const char *fmt, ...)
{
	va_list ap;

	if (r < 0)
		r = -r;
	errno = r;
	va_start(ap, fmt);
	log_va(LOG_ERR, fmt, ap);
	va_end(ap);
	return -r;
}
