/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-probe-print.c: the probe result document virtctl reads from the bus, parsed as virtctl probe does and printed with probe_print(). */
#include <errno.h>

#include "fuzz-common.h"
#include "probe-print.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_(json_object_putp) json_object *doc = NULL;
	char err[256];
	int r;

	/* First byte: colours or not. */
	if (size < 1 || size > 65536)
		return -1;
	if (jv_parse((const char *)data + 1, size - 1, &doc, err, sizeof(err)) < 0)
		return 0;
	r = probe_print(fuzz_sink(), doc, data[0] & 1);
	FUZZ_ASSERT(r == 0 || r == -EINVAL || r == -ENOMEM);
	return 0;
}
