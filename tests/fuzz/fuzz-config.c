/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-config.c: /etc/virtd.conf through config_parse_string() (inih underneath), and MinMaxDelay='s duration syntax. */
#include <errno.h>

#include "config.h"
#include "fuzz-common.h"

static void check_diags(const struct config_diag *d)
{
	FUZZ_ASSERT(d->n_entries <= CONFIG_DIAG_MAX);
	FUZZ_ASSERT(d->n_entries + d->n_suppressed == d->n_errors + d->n_warnings);
	for (size_t i = 0; i < d->n_entries; i++) {
		const struct config_diag_entry *e = &d->entries[i];

		FUZZ_ASSERT(e->message && e->file);
		/* Bound for the journal and for D-Bus strings (valid UTF-8). */
		FUZZ_ASSERT(fuzz_printable(e->message));
		FUZZ_ASSERT(strncmp(e->message, e->file, strlen(e->file)) == 0);
		/* In line order, as the header promises. */
		FUZZ_ASSERT(i == 0 || e->line == 0 || d->entries[i - 1].line <= e->line);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_diag d = CONFIG_DIAG_INIT;
	struct config c, before;
	char *text;
	uint64_t ns;
	int r;

	if (size > CONFIG_FILE_MAX)
		return -1;
	text = fuzz_strndup(data, size);
	if (!text)
		return 0;

	memset(&c, 0x5a, sizeof(c));
	before = c;
	r = config_parse_string(text, CONFIG_PATH, &c, &d);
	if (r == 0) {
		FUZZ_ASSERT(d.n_errors == 0);
		FUZZ_ASSERT((unsigned)c.policy < _VIRT_POLICY_MAX);
		FUZZ_ASSERT((unsigned)c.timer_mode < _TIMER_MODE_MAX);
		FUZZ_ASSERT(c.timer_min_max_delay_ns > 0 && c.timer_min_max_delay_ns <= CONFIG_MIN_MAX_DELAY_MAX_NS);
	} else {
		FUZZ_ASSERT(r == -EINVAL || r == -ENOMEM);
		FUZZ_ASSERT(r == -ENOMEM || d.n_errors > 0);
		/* Untouched on error. */
		FUZZ_ASSERT(memcmp(&c, &before, sizeof(c)) == 0);
	}
	check_diags(&d);
	config_diag_done(&d);

	/* Without diagnostics: the same verdict. */
	FUZZ_ASSERT(config_parse_string(text, CONFIG_PATH, &c, NULL) == r || r == -ENOMEM);

	if (size <= 64 && config_parse_duration(text, &ns) == 0)
		FUZZ_ASSERT(strchr(text, '\n') == NULL);
	free(text);
	return 0;
}
