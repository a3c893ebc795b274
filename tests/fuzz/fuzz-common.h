/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-common.h: what the libFuzzer targets share: the entry point's prototype, input as C strings and argv, a sink for printers, and checks that crash. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * A property every accepted (or refused) input must have.  A violation is a
 * finding like a sanitizer report: libFuzzer keeps the input that crashed.
 */
#define FUZZ_ASSERT(cond)                                                               \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, \
				#cond);                                                 \
			abort();                                                        \
		}                                                                       \
	} while (0)

/* DATA as a C string (what the parser would see of a file read into memory,
 * up to its first NUL byte), malloc'd; NULL only when out of memory. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		return NULL;
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * DATA cut at every SEP into at most MAX-1 words (the rest stays in the
 * last), as argv with a NULL after the last; the words live in *ret_buf,
 * which the caller frees.  Returns the number of words, -1 when out of memory.
 */
static inline int fuzz_split(const uint8_t *data, size_t size, char sep, char **argv, int max, char **ret_buf)
{
	char *buf = fuzz_strndup(data, size), *p;
	int n = 0;

	*ret_buf = buf;
	if (!buf)
		return -1;
	p = buf;
	while (n < max - 1) {
		char *e = memchr(p, sep, (size_t)(buf + size - p));

		argv[n++] = p;
		if (!e)
			break;
		*e = '\0';
		p = e + 1;
	}
	argv[n] = NULL;
	return n;
}

/* Where the printers write: /dev/null, opened once for the whole run. */
static inline FILE *fuzz_sink(void)
{
	static FILE *f;

	if (!f)
		f = fopen("/dev/null", "we");
	if (!f)
		abort();
	return f;
}

/* Whether S is printable ASCII only (what a message bound for the journal,
 * a terminal or a D-Bus string promises). */
static inline bool fuzz_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}
