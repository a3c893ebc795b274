/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-virtctl-args.c: virtctl's command lines for hw, probe and lock (hw_parse_args, probe_parse_args, lock_parse_args over glibc's getopt_long) and the number syntax they share. */
#include <errno.h>

#include "fuzz-common.h"
#include "lock-meta.h"
#include "macro.h"
#include "virtctl-args.h"

#define ARGS_MAX 16
/* VIRTHW_PROBE_MAX_ITERATIONS, the bound virtctl passes. */
#define MAX_ITERATIONS 100000

static const char *const verbs[] = { "hw", "probe", "lock" };

/* First byte: the verb (its value modulo 3); the rest: its arguments, NUL-separated. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[ARGS_MAX + 2], *buf, err[256];
	unsigned verb;
	uint32_t n;
	int argc, r;

	if (size < 1 || size > 4096)
		return -1;
	verb = data[0] % ELEMENTSOF(verbs);
	argc = fuzz_split(data + 1, size - 1, '\0', argv + 1, ARGS_MAX + 1, &buf);
	if (argc < 0)
		return 0;
	argv[0] = (char *)verbs[verb];
	argc++;

	err[0] = '\0';
	if (verb == 1) {
		struct probe_args a;

		r = probe_parse_args(argc, argv, MAX_ITERATIONS, &a, err, sizeof(err));
		if (r == 0) {
			FUZZ_ASSERT(a.iterations <= MAX_ITERATIONS);
			FUZZ_ASSERT(!a.has_cpu || a.cpu != UINT32_MAX);
		}
	} else if (verb == 2) {
		struct lock_args a;

		r = lock_parse_args(argc, argv, &a, err, sizeof(err));
		if (r == 0) {
			FUZZ_ASSERT(!a.command || (a.command > argv && a.command < argv + argc && *a.command));
			FUZZ_ASSERT((a.flags & ~LOCK_FLAGS_ALL) == 0 && (a.flags || !a.timeout));
		}
	} else {
		struct hw_args a;

		r = hw_parse_args(argc, argv, &a, err, sizeof(err));
	}
	FUZZ_ASSERT(r == 0 || (r == -EINVAL && err[0]));

	r = parse_cpu_number(argv[1], &n);
	FUZZ_ASSERT(r == 0 || r == -EINVAL || r == -ERANGE);
	free(buf);
	return 0;
}
