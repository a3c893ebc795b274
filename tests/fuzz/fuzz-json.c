/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-json.c: jv_parse() (json-c, strict, bounded), the typed lookups over whatever it returns, and the round trip through jv_to_text(). */
#include <errno.h>

#include "fuzz-common.h"
#include "json-util.h"

/* Every typed lookup on every value, depth first. */
static void walk(const json_object *v, unsigned depth)
{
	uint64_t u;
	int64_t i;
	double d;
	bool b;

	FUZZ_ASSERT(depth <= JSON_DEPTH_MAX);
	FUZZ_ASSERT(jv_type_name(v));
	(void)jv_get_bool(v, &b);
	(void)jv_get_u64(v, &u);
	(void)jv_get_i64(v, &i);
	(void)jv_get_double(v, &d);
	if (jv_str(v))
		FUZZ_ASSERT(strlen(jv_str(v)) == (size_t)json_object_get_string_len(v));
	for (size_t k = 0; k < jv_len(v); k++)
		walk(jv_at(v, k), depth + 1);
	if (jv_is_object(v)) {
		json_object_object_foreach((json_object *)v, key, val) {
			FUZZ_ASSERT(jv_get(v, key) == val || jv_null_at(v, key));
			walk(val, depth + 1);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_(json_object_putp) json_object *doc = NULL, *again = NULL;
	_cleanup_free_ char *text = NULL, *text2 = NULL;
	char err[256];
	int r;

	if (size > 65536)
		return -1;
	err[0] = '\0';
	r = jv_parse((const char *)data, size, &doc, err, sizeof(err));
	FUZZ_ASSERT(r == 0 || r == -EINVAL || r == -E2BIG || r == -ENOMEM);
	if (r < 0) {
		FUZZ_ASSERT(r == -ENOMEM || err[0]);
		return 0;
	}
	walk(doc, 0);

	/* What virtd or virtctl would write of it parses again to the same text. */
	if (jv_to_text(doc, &text) < 0)
		return 0;
	err[0] = '\0';
	r = jv_parse(text, strlen(text), &again, err, sizeof(err));
	if (r != 0)
		fprintf(stderr, "re-parse of '%s' failed: %s\n", text, err);
	FUZZ_ASSERT(r == 0);
	FUZZ_ASSERT(jv_to_text(again, &text2) == 0);
	FUZZ_ASSERT(strcmp(text, text2) == 0);
	return 0;
}
