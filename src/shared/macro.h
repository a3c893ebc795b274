/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* macro.h: small shared macros and the cleanup-attribute helpers. */
#pragma once

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

/* Defines a helper usable as _cleanup_(name##p) for a pointer freed by func. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)         \
	static inline void func##p(type *p)             \
	{                                               \
		if (*p)                                 \
			func(*p);                       \
	}

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

/* _cleanup_(fclosep) FILE *, _cleanup_(closedirp) DIR * */
DEFINE_TRIVIAL_CLEANUP_FUNC(FILE *, fclose);
DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);

/* Hands ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p)                             \
	({                                      \
		__typeof__(p) _tmp_ = (p);      \
		(p) = NULL;                     \
		_tmp_;                          \
	})
