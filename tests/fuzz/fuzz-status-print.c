/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-status-print.c: the status document virtctl reads from the bus (GetStatus), through status_print_text() — parse, human view, exit code — in each of its modes. */
#include <errno.h>

#include "fuzz-common.h"
#include "status-print.h"
#include "virtctl-args.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* First byte: the options (bit 0 --full, bit 1 colours, bit 2 a clock). */
	struct status_print_options o;
	char err[512];
	int r;

	if (size < 1 || size > 65536)
		return -1;
	o = (struct status_print_options) {
		.full = data[0] & 1,
		.color = data[0] & 2,
		.now_usec = data[0] & 4 ? UINT64_C(1767225600) * 1000000 : 0,
	};
	err[0] = '\0';
	r = status_print_text(fuzz_sink(), (const char *)data + 1, size - 1, &o, err, sizeof(err));
	if (r >= 0)
		FUZZ_ASSERT(r == EXIT_OK || r == EXIT_NOT_HOLDING);
	else
		FUZZ_ASSERT(err[0]);
	return 0;
}
