/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-dropin.c: the modprobe.d drop-in virtd reads back (dropin_parse), its round trip through dropin_render(), and sysfs's kernel booleans. */
#include <errno.h>

#include "dropin.h"
#include "fuzz-common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_dropin d, again;
	char *text, *rendered;
	int b;

	if (size > 65536)
		return -1;
	text = fuzz_strndup(data, size);
	if (!text)
		return 0;
	dropin_parse(text, &d);
	FUZZ_ASSERT(d.exists && d.enable_virt_at_load >= -1 && d.enable_virt_at_load <= 1);
	FUZZ_ASSERT(d.has_preemption_timer || !d.preemption_timer);

	/* What virtd would write for that state reads back as the same state. */
	rendered = dropin_render(&d, "first-vm");
	if (rendered) {
		dropin_parse(rendered, &again);
		FUZZ_ASSERT(again.exists && again.enable_virt_at_load == d.enable_virt_at_load &&
			    again.block_vendor == d.block_vendor &&
			    again.has_preemption_timer == d.has_preemption_timer &&
			    again.preemption_timer == d.preemption_timer);
		free(rendered);
	}

	b = parse_kernel_bool(text);
	FUZZ_ASSERT(b == 0 || b == 1 || b == -EINVAL);
	free(text);
	return 0;
}
