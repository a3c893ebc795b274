/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-json.c: unit tests of json-util on json-c: strings always valid UTF-8, exact numbers, strict and bounded parsing with located errors, typed lookups. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "tests.h"

static void string_one(const char *in, const char *want, const char *what)
{
	_cleanup_(json_object_putp) json_object *o = jv_text(in);
	char *got = NULL;

	CHECK(jv_to_text(o, &got) == 0, "jv_text: %s: serialises", what);
	CHECK_STR(got, want, "jv_text: %s", what);
	free(got);
}

static void test_strings(void)
{
	static const struct {
		const char *in, *want, *what;
	} cases[] = {
		{ "", "\"\"", "empty string" },
		{ "svm", "\"svm\"", "plain ASCII" },
		{ "a\"b\\c/d", "\"a\\\"b\\\\c/d\"", "quote and backslash escaped, slash not" },
		{ "\n\t\r\b\f", "\"\\n\\t\\r\\b\\f\"", "short escapes" },
		/* RFC 8259 escapes U+0000..U+001F only; DEL is a plain character. */
		{ "\x01\x1f\x7f", "\"\\u0001\\u001f\x7f\"", "control characters" },
		{ "\xc3\xbc \xe2\x82\xac \xf0\x9f\x98\x80", "\"\xc3\xbc \xe2\x82\xac \xf0\x9f\x98\x80\"", "valid 2-, 3- and 4-byte UTF-8 passes through" },
		{ "a\xff" "b", "\"a\xef\xbf\xbd" "b\"", "invalid byte becomes U+FFFD" },
		{ "\x80", "\"\xef\xbf\xbd\"", "stray continuation byte" },
		{ "x\xc3", "\"x\xef\xbf\xbd\"", "sequence truncated by the end of the string" },
		{ "\xe2\x82", "\"\xef\xbf\xbd\xef\xbf\xbd\"", "3-byte sequence cut after 2" },
		{ "\xc3(", "\"\xef\xbf\xbd(\"", "lead byte followed by a non-continuation" },
		{ "\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\"", "overlong encoding refused" },
		{ "\xe0\x80\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"", "3-byte overlong refused" },
		{ "\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"", "UTF-16 surrogate refused" },
		{ "\xf4\x90\x80\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"", "code point above U+10FFFF refused" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		string_one(cases[i].in, cases[i].want, cases[i].what);
	CHECK(jv_text(NULL) == NULL, "jv_text(NULL) is JSON null");
}

static void test_build(void)
{
	_cleanup_(json_object_putp) json_object *o = jv_object();
	json_object *a = jv_array();
	char *got = NULL;

	jv_set(o, "u64", jv_u64(UINT64_MAX));
	jv_set(o, "i64", jv_i64(INT64_MIN));
	jv_set(o, "hex", jv_hex(0x5, 16));
	jv_set(o, "sig", jv_hex(0x806f8, 8));
	jv_set(o, "ratio", jv_fixed3(2.0 / 3.0));
	jv_set(o, "neg", jv_fixed3(-12.5));
	jv_set(o, "null", NULL);
	jv_set(o, "opt", jv_opt_bool(false, true));
	jv_set(o, "yes", jv_opt_bool(true, true));
	jv_append(a, jv_u64(1));
	jv_append(a, NULL);
	jv_set(o, "a", a);
	CHECK(jv_to_text(o, &got) == 0, "document serialises");
	CHECK_STR(got,
		  "{\"u64\":18446744073709551615,\"i64\":-9223372036854775808,\"hex\":\"0x0000000000000005\","
		  "\"sig\":\"0x000806f8\",\"ratio\":0.667,\"neg\":-12.500,\"null\":null,\"opt\":null,\"yes\":true,"
		  "\"a\":[1,null]}",
		  "keys in order, exact 64-bit integers, fixed decimals, nulls");
	free(got);
}

static int parse(const char *s, json_object **ret, char *err, size_t size)
{
	return jv_parse(s, strlen(s), ret, err, size);
}

static void test_invalid(void)
{
	static const struct {
		const char *in;
		int r;
		const char *err;	/* expected start of the message, or NULL */
	} cases[] = {
		{ "", -EINVAL, "line 1, column 1: " },
		{ "   ", -EINVAL, NULL },
		{ "{", -EINVAL, NULL },
		{ "[1,]", -EINVAL, NULL },
		{ "[1 2]", -EINVAL, "line 1, column 4: " },
		{ "{\"a\":1,}", -EINVAL, NULL },
		{ "{a:1}", -EINVAL, NULL },
		{ "\"abc", -EINVAL, NULL },
		{ "\"a\\x\"", -EINVAL, NULL },
		{ "01", -EINVAL, NULL },
		{ "nul", -EINVAL, NULL },
		{ "/* c */ 1", -EINVAL, NULL },
		{ "{\"a\":1} x", -EINVAL, "line 1, column 9: " },
		{ "[1]\n[2]", -EINVAL, "line 2, column 1: " },
		{ "{\n  \"a\": tru\n}", -EINVAL, "line 2, column " },
		{ "\"\xff\"", -EINVAL, NULL },
		{ "\"\xc0\xaf\"", -EINVAL, NULL },
	};
	char err[256];

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		json_object *o = NULL;
		int r;

		err[0] = '\0';
		r = parse(cases[i].in, &o, err, sizeof(err));
		CHECK(r == cases[i].r && !o, "rejects %s (got %d: %s)", cases[i].in, r, err);
		CHECK(err[0] != '\0', "rejecting %s says why", cases[i].in);
		if (cases[i].err)
			CHECK(strncmp(err, cases[i].err, strlen(cases[i].err)) == 0, "error for %s: \"%s\", want \"%s...\"",
			      cases[i].in, err, cases[i].err);
		json_object_put(o);
	}
	/* NULL err is allowed. */
	CHECK(jv_parse("[", 1, &(json_object *){ NULL }, NULL, 0) == -EINVAL, "NULL err");
	/* A NUL byte inside the length. */
	CHECK(jv_parse("[1,\0 2]", 7, &(json_object *){ NULL }, err, sizeof(err)) == -EINVAL &&
		      strstr(err, "NUL byte"),
	      "NUL byte refused: %s", err);
}

static void test_limits(void)
{
	char err[256];
	char deep[2 * (JSON_DEPTH_MAX + 1) + 1];
	json_object *o = NULL;

	memset(deep, '[', JSON_DEPTH_MAX + 1);
	memset(deep + JSON_DEPTH_MAX + 1, ']', JSON_DEPTH_MAX + 1);
	deep[sizeof(deep) - 1] = '\0';
	CHECK(parse(deep, &o, err, sizeof(err)) == -E2BIG, "nesting past %d refused: %s", JSON_DEPTH_MAX, err);
	deep[JSON_DEPTH_MAX] = ' ';	/* one level less: exactly the limit */
	deep[JSON_DEPTH_MAX + 1] = ' ';
	CHECK(parse(deep, &o, err, sizeof(err)) == 0, "nesting of %d accepted: %s", JSON_DEPTH_MAX, err);
	json_object_put(o);
	o = NULL;
	CHECK(jv_parse("1", (size_t)JSON_SIZE_MAX + 1, &o, err, sizeof(err)) == -E2BIG && strstr(err, "larger"),
	      "size past the limit refused before reading: %s", err);
}

static void test_lookups(void)
{
	_cleanup_(json_object_putp) json_object *doc = NULL;
	const char *text = "{\"u\":18446744073709551615,\"i\":-5,\"big\":9223372036854775808,\"d\":1.5,\"b\":true,"
			   "\"s\":\"x\",\"nul\":\"a\\u0000b\",\"n\":null,\"a\":[1,2,3],\"o\":{\"k\":\"v\"},\"dup\":1,\"dup\":2}";
	char err[256];
	uint64_t u;
	int64_t i;
	double d;
	bool b;

	CHECK(parse(text, &doc, err, sizeof(err)) == 0, "document parses: %s", err);
	CHECK(jv_get_u64(jv_get(doc, "u"), &u) == 0 && u == UINT64_MAX, "u64 exact at UINT64_MAX");
	CHECK(jv_get_u64(jv_get(doc, "i"), &u) == -EINVAL, "negative is no u64");
	CHECK(jv_get_i64(jv_get(doc, "i"), &i) == 0 && i == -5, "i64");
	CHECK(jv_get_i64(jv_get(doc, "big"), &i) == -EINVAL, "past INT64_MAX is no i64");
	CHECK(jv_get_u64(jv_get(doc, "d"), &u) == -EINVAL, "1.5 is no integer");
	CHECK(jv_get_double(jv_get(doc, "d"), &d) == 0 && d == 1.5, "double");
	CHECK(jv_get_double(jv_get(doc, "i"), &d) == 0 && d == -5.0, "an integer read as a number");
	CHECK(jv_get_bool(jv_get(doc, "b"), &b) == 0 && b, "bool");
	CHECK(jv_get_bool(jv_get(doc, "s"), &b) == -EINVAL, "a string is no bool");
	CHECK_STR(jv_str(jv_get(doc, "s")), "x", "string");
	CHECK(jv_str(jv_get(doc, "nul")) == NULL, "a string with \\u0000 is refused");
	CHECK(jv_str(jv_get(doc, "u")) == NULL, "a number is no string");
	CHECK(jv_null_at(doc, "n") && !jv_null_at(doc, "missing") && !jv_null_at(doc, "s"), "null vs absent");
	CHECK(jv_len(jv_get(doc, "a")) == 3 && jv_get_u64(jv_at(jv_get(doc, "a"), 2), &u) == 0 && u == 3,
	      "array length and index");
	CHECK(jv_at(jv_get(doc, "a"), 3) == NULL && jv_len(jv_get(doc, "o")) == 0, "index past the end, len of non-array");
	CHECK(jv_obj_len(jv_get(doc, "o")) == 1 && jv_is_object(jv_get(doc, "o")) && jv_is_array(jv_get(doc, "a")),
	      "object size and types");
	CHECK_STR(jv_str(jv_get(jv_get(doc, "o"), "k")), "v", "nested lookup");
	CHECK(jv_get(jv_get(doc, "missing"), "k") == NULL && jv_get(jv_get(doc, "a"), "k") == NULL,
	      "lookups chain over absent and wrongly typed values");
	CHECK(jv_get_u64(jv_get(doc, "dup"), &u) == 0 && u == 2, "duplicate keys: the last one counts");
	CHECK_STR(jv_type_name(jv_get(doc, "a")), "array", "type name");
}

int main(void)
{
	test_strings();
	test_build();
	test_invalid();
	test_limits();
	test_lookups();
	return tests_finish();
}
