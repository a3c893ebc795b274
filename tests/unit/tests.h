/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tests.h: the few helpers every unit test program shares. */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int tests_run, tests_failed;

/* Prints one line per check so a failing run shows what passed before it. */
#define CHECK(cond, ...)                                                        \
	do {                                                                    \
		tests_run++;                                                    \
		if (cond) {                                                     \
			printf("ok %d - ", tests_run);                          \
		} else {                                                        \
			tests_failed++;                                         \
			printf("not ok %d - %s:%d: (%s) ", tests_run, __FILE__, \
			       __LINE__, #cond);                                \
		}                                                               \
		printf(__VA_ARGS__);                                            \
		putchar('\n');                                                  \
	} while (0)

#define CHECK_STR(got, want, ...)                                               \
	do {                                                                    \
		const char *_g = (got), *_w = (want);                           \
		CHECK(_g && strcmp(_g, _w) == 0, __VA_ARGS__);                  \
		if (!_g || strcmp(_g, _w) != 0)                                 \
			printf("#   got  \"%s\"\n#   want \"%s\"\n",            \
			       _g ? _g : "(null)", _w);                         \
	} while (0)

/* xorshift64: a deterministic PRNG, so that a failure reproduces; *state
 * starts as a non-zero seed. */
static inline uint64_t tests_xorshift64(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

static inline int tests_finish(void)
{
	printf("%d checks, %d failed\n", tests_run, tests_failed);
	return tests_failed ? 1 : 0;
}
