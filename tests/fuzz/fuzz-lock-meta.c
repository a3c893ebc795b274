/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-lock-meta.c: the lock's metadata file (lock_meta_parse, and its round trip through lock_meta_render), the who/why sanitizers, --wait=SECONDS and the registry's file names. */
#include <errno.h>

#include "fuzz-common.h"
#include "lock-meta.h"

static void metadata(const char *text)
{
	struct lock_info a, b;
	char err[128], *again;

	if (lock_meta_parse(text, &a) < 0)
		return;
	FUZZ_ASSERT(lock_who_valid(a.who, err, sizeof(err)) == 0);
	FUZZ_ASSERT(lock_why_valid(a.why, err, sizeof(err)) == 0);
	FUZZ_ASSERT(a.pid > 0);
	/* What virtd writes back must read the same. */
	again = lock_meta_render(&a);
	if (!again)
		return;
	FUZZ_ASSERT(lock_meta_parse(again, &b) == 0);
	FUZZ_ASSERT(strcmp(a.who, b.who) == 0 && strcmp(a.why, b.why) == 0);
	FUZZ_ASSERT(a.pid == b.pid && a.uid == b.uid && a.since_usec == b.since_usec && a.shared == b.shared);
	FUZZ_ASSERT(a.n_handoff <= LOCK_HANDOFF_MAX && a.n_handoff == b.n_handoff);
	for (size_t i = 0; i < a.n_handoff; i++)
		FUZZ_ASSERT(a.handoff[i].pid > 0 && a.handoff[i].start > 0 && a.handoff[i].pid == b.handoff[i].pid &&
			    a.handoff[i].start == b.handoff[i].start);
	free(again);
}

static void sanitizers(const char *s)
{
	char err[128], *who, *why;

	/* Whatever a launcher passes, the sanitized copy is accepted. */
	who = lock_who_sanitize(s);
	why = lock_why_sanitize(s);
	if (who && *who)
		FUZZ_ASSERT(lock_who_valid(who, err, sizeof(err)) == 0);
	if (why)
		FUZZ_ASSERT(lock_why_valid(why, err, sizeof(err)) == 0);
	/* Valid text is kept as it is. */
	if (who && lock_who_valid(s, err, sizeof(err)) == 0)
		FUZZ_ASSERT(strcmp(who, s) == 0);
	if (why && lock_why_valid(s, err, sizeof(err)) == 0 && s[0] != ' ' && (!*s || s[strlen(s) - 1] != ' '))
		FUZZ_ASSERT(strcmp(why, s) == 0);
	free(who);
	free(why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t usec;
	uint32_t id;
	char *text;
	int r;

	if (size > 8192)
		return -1;
	text = fuzz_strndup(data, size);
	if (!text)
		return 0;
	metadata(text);
	sanitizers(text);

	r = lock_parse_seconds(text, &usec);
	FUZZ_ASSERT(r == 0 || r == -EINVAL || r == -ERANGE);
	if (lock_id_from_name(text, ".lock", &id) == 0)
		FUZZ_ASSERT(id > 0);
	if (lock_id_from_name(text, ".fifo", &id) == 0)
		FUZZ_ASSERT(id > 0);
	free(text);
	return 0;
}
