/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-json.c: unit tests of the JSON parser: grammar, escapes, numbers, limits, and a fuzz loop. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>

#include "json.h"
#include "tests.h"

static int parse(const char *s, json_value **ret)
{
	char err[256];

	return json_parse(s, strlen(s), ret, err, sizeof(err));
}

/* Documents that must be rejected, and the error each must give. */
static void test_invalid(void)
{
	static const struct {
		const char *in;
		int r;
		const char *err;        /* expected message, or NULL */
	} cases[] = {
		{ "", -EINVAL, "line 1, column 1: expected a value, got end of input" },
		{ "   ", -EINVAL, NULL },
		{ "{", -EINVAL, "line 1, column 2: expected a string as object key, got end of input" },
		{ "[", -EINVAL, NULL },
		{ "[1,]", -EINVAL, NULL },
		{ "[1 2]", -EINVAL, "line 1, column 4: expected ',' or ']' in array, got '2'" },
		{ "{\"a\" 1}", -EINVAL, "line 1, column 6: expected ':' after object key, got '1'" },
		{ "{\"a\":1,}", -EINVAL, NULL },
		{ "{a:1}", -EINVAL, NULL },
		{ "{\"a\":1 \"b\":2}", -EINVAL, NULL },
		{ "\"abc", -EINVAL, "line 1, column 5: unterminated string" },
		{ "\"a\\", -EINVAL, NULL },
		{ "\"a\\x\"", -EINVAL, "line 1, column 4: invalid escape \\'x' in string" },
		{ "\"\\u12\"", -EINVAL, NULL },
		{ "\"\\u12g4\"", -EINVAL, NULL },
		{ "\"\\u0000\"", -EINVAL, "line 1, column 2: \\u0000 in string is not supported" },
		{ "\"tab\there\"", -EINVAL, NULL },
		{ "\"\xff\"", -EINVAL, "line 1, column 2: invalid UTF-8 in string" },
		{ "\"\xc0\xaf\"", -EINVAL, NULL },              /* overlong '/' */
		{ "\"\xed\xa0\x80\"", -EINVAL, NULL },          /* raw surrogate */
		{ "\"\xe2\x82\"", -EINVAL, NULL },              /* truncated */
		{ "01", -EINVAL, "line 1, column 2: leading zeros are not allowed in numbers" },
		{ "-", -EINVAL, NULL },
		{ "+1", -EINVAL, NULL },
		{ "1.", -EINVAL, NULL },
		{ ".5", -EINVAL, NULL },
		{ "1e", -EINVAL, NULL },
		{ "1e+", -EINVAL, NULL },
		{ "0x10", -EINVAL, NULL },
		{ "tru", -EINVAL, NULL },
		{ "truth", -EINVAL, NULL },
		{ "nul", -EINVAL, NULL },
		{ "True", -EINVAL, NULL },
		{ "NaN", -EINVAL, NULL },
		{ "{} {}", -EINVAL, "line 1, column 4: unexpected '{' after the value" },
		{ "1 2", -EINVAL, NULL },
		{ "{\n  \"a\": [1,\n  }", -EINVAL, "line 3, column 3: expected a value, got '}'" },
		{ "[1]\x01", -EINVAL, "line 1, column 4: unexpected byte 0x01 after the value" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		json_value *v = NULL;
		char err[256] = "";
		int r = json_parse(cases[i].in, strlen(cases[i].in), &v, err, sizeof(err));

		CHECK(r == cases[i].r && !v, "rejects %s (r=%d)", cases[i].in, r);
		if (cases[i].err)
			CHECK_STR(err, cases[i].err, "message for %s", cases[i].in);
		else
			CHECK(err[0] != '\0', "some message for %s: %s", cases[i].in, err);
		json_free(v);
	}

	/* The length bounds the input, not a NUL; a NUL inside is an error. */
	{
		json_value *v = NULL;

		CHECK(json_parse("[1]\0", 4, &v, NULL, 0) == -EINVAL, "a NUL after the value is trailing data");
		CHECK(json_parse("[1]junk", 3, &v, NULL, 0) == 0 && v, "parses only len bytes");
		json_free(v);
	}
}

static void test_scalars(void)
{
	json_value *v = NULL;
	uint64_t u;
	int64_t i;
	bool b;

	CHECK(parse(" true ", &v) == 0 && v->type == JSON_BOOLEAN && json_bool(v, &b) == 0 && b, "true");
	v = json_free(v);
	CHECK(parse("false", &v) == 0 && json_bool(v, &b) == 0 && !b, "false");
	v = json_free(v);
	CHECK(parse("null", &v) == 0 && json_is_null(v), "null");
	CHECK(json_bool(v, &b) == -EINVAL && json_u64(v, &u) == -EINVAL && !json_string(v), "null is no bool, number or string");
	v = json_free(v);

	CHECK(parse("18446744073709551615", &v) == 0 && json_u64(v, &u) == 0 && u == UINT64_MAX,
	      "UINT64_MAX exact");
	CHECK(json_i64(v, &i) == -EINVAL, "UINT64_MAX is no i64");
	v = json_free(v);
	CHECK(parse("18446744073709551616", &v) == 0 && json_u64(v, &u) == -EINVAL && v->number.d > 1.8e19,
	      "UINT64_MAX+1 overflows u64 but is a number");
	v = json_free(v);
	CHECK(parse("10000000000", &v) == 0 && json_u64(v, &u) == 0 && u == 10000000000ULL, "10 s in ns");
	v = json_free(v);
	CHECK(parse("-9223372036854775808", &v) == 0 && json_i64(v, &i) == 0 && i == INT64_MIN &&
	      json_u64(v, &u) == -EINVAL, "INT64_MIN");
	v = json_free(v);
	CHECK(parse("-9223372036854775809", &v) == 0 && json_i64(v, &i) == -EINVAL, "below INT64_MIN");
	v = json_free(v);
	CHECK(parse("-0", &v) == 0 && json_u64(v, &u) == 0 && u == 0 && !v->number.negative, "-0 is 0");
	v = json_free(v);
	CHECK(parse("-12", &v) == 0 && json_i64(v, &i) == 0 && i == -12 && json_u64(v, &u) == -EINVAL, "-12");
	v = json_free(v);
	CHECK(parse("1.5e3", &v) == 0 && !v->number.is_integer && v->number.d == 1500.0 &&
	      json_u64(v, &u) == -EINVAL, "1.5e3 is no integer");
	v = json_free(v);
	CHECK(parse("2E-2", &v) == 0 && v->number.d == 0.02, "2E-2");
	v = json_free(v);
	CHECK(parse("1e400", &v) == 0 && v->type == JSON_NUMBER, "huge exponent parses");
	v = json_free(v);
	/* Longer than the parser's stack copy of a number. */
	CHECK(parse("0.00000000000000000000000000000000000000000000000000000000000000000000000001", &v) == 0 &&
	      v->number.d > 0, "long number");
	v = json_free(v);
}

static void test_strings(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "\"\"", "" },
		{ "\"plain\"", "plain" },
		{ "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t" },
		{ "\"\\u0041\\u00e9\"", "A\xc3\xa9" },
		{ "\"\\u20AC\"", "\xe2\x82\xac" },
		{ "\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80" },          /* surrogate pair */
		{ "\"\\ud83d\"", "\xef\xbf\xbd" },                      /* lone high */
		{ "\"\\ude00x\"", "\xef\xbf\xbdx" },                    /* lone low */
		{ "\"\\ud83d\\u0041\"", "\xef\xbf\xbd" "A" },           /* high, then no low */
		{ "\"\\u001b[31m\"", "\x1b[31m" },                      /* decoded; printing cleans it */
		{ "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		json_value *v = NULL;

		CHECK(parse(cases[i].in, &v) == 0, "parses %s", cases[i].in);
		CHECK_STR(json_string(v), cases[i].out, "decodes %s", cases[i].in);
		CHECK(v && v->string.len == strlen(cases[i].out), "length of %s", cases[i].in);
		json_free(v);
	}
}

static void test_containers(void)
{
	const char *doc = "{\"a\": [1, \"two\", null, {\"x\": true}], \"b\": {}, \"c\": [], \"a\": 5,\n\"e\\u0301\": 1}";
	json_value *v = NULL;
	const json_value *a;
	uint64_t u;
	bool b;

	CHECK(parse(doc, &v) == 0 && v->type == JSON_OBJECT && v->object.n == 5, "object with 5 members");
	a = json_object_get(v, "a");
	CHECK(json_array_size(a) == 4, "first of duplicate keys wins");
	CHECK(json_u64(json_array_get(a, 0), &u) == 0 && u == 1, "a[0]");
	CHECK_STR(json_string(json_array_get(a, 1)), "two", "a[1]");
	CHECK(json_is_null(json_array_get(a, 2)), "a[2]");
	CHECK(json_bool(json_object_get(json_array_get(a, 3), "x"), &b) == 0 && b, "a[3].x");
	CHECK(json_array_get(a, 4) == NULL, "past the end");
	CHECK(json_object_get(v, "b")->type == JSON_OBJECT && json_object_get(v, "b")->object.n == 0, "empty object");
	CHECK(json_array_size(json_object_get(v, "c")) == 0 && json_object_get(v, "c")->type == JSON_ARRAY, "empty array");
	CHECK(json_object_get(v, "e\xcc\x81") != NULL, "escaped key");
	CHECK(json_object_get(v, "missing") == NULL, "missing key");
	CHECK(json_object_get(a, "x") == NULL && json_array_get(v, 0) == NULL, "wrong container type");
	CHECK(json_object_get(NULL, "a") == NULL && json_array_size(NULL) == 0 && !json_string(NULL) &&
	      !json_is_null(NULL) && json_bool(NULL, &b) < 0, "NULL in, nothing out");
	CHECK_STR(json_type_to_string(JSON_ARRAY), "array", "type names");
	json_free(v);
}

static void test_limits(void)
{
	char deep[2 * (JSON_DEPTH_MAX + 1) + 1];
	json_value *v = NULL;
	char err[128];
	char *big;

	/* Exactly at the limit parses; one level more does not. */
	memset(deep, '[', JSON_DEPTH_MAX);
	memset(deep + JSON_DEPTH_MAX, ']', JSON_DEPTH_MAX);
	deep[2 * JSON_DEPTH_MAX] = '\0';
	CHECK(parse(deep, &v) == 0, "%d levels of nesting", JSON_DEPTH_MAX);
	v = json_free(v);
	memset(deep, '[', JSON_DEPTH_MAX + 1);
	memset(deep + JSON_DEPTH_MAX + 1, ']', JSON_DEPTH_MAX + 1);
	deep[2 * (JSON_DEPTH_MAX + 1)] = '\0';
	CHECK(json_parse(deep, strlen(deep), &v, err, sizeof(err)) == -E2BIG && !v, "%d levels refused",
	      JSON_DEPTH_MAX + 1);
	CHECK(strstr(err, "nested deeper than 64 levels") != NULL, "depth message: %s", err);

	/* 100000 unterminated '[' must not recurse 100000 deep. */
	big = malloc(100001);
	if (big) {
		memset(big, '[', 100000);
		big[100000] = '\0';
		CHECK(parse(big, &v) == -E2BIG, "deep garbage stops at the limit");
		free(big);
	}

	CHECK(json_parse("[]", (size_t)JSON_SIZE_MAX + 1, &v, err, sizeof(err)) == -E2BIG,
	      "size limit checked before reading");

	/* A wide array grows; a long string grows. */
	big = malloc(3 * 10000 + 3);
	if (big) {
		char *p = big;

		*p++ = '[';
		for (int i = 0; i < 10000; i++)
			p += sprintf(p, i ? ",%d" : "%d", i % 10);
		*p++ = ']';
		*p = '\0';
		CHECK(parse(big, &v) == 0 && json_array_size(v) == 10000, "10000 items");
		v = json_free(v);
		memset(big, 'x', 3 * 10000 + 2);
		big[0] = '"';
		big[3 * 10000 + 1] = '"';
		big[3 * 10000 + 2] = '\0';
		CHECK(parse(big, &v) == 0 && v->string.len == 3 * 10000, "30000-byte string");
		v = json_free(v);
		free(big);
	}
}

/* Deterministic PRNG so a failure reproduces (xorshift64). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	return tests_xorshift64(&rng_state);
}

/*
 * Random and mutated documents: the parser must return 0 or a negative
 * errno, never crash, leak or read out of bounds (ASan/UBSan builds watch).
 * Inputs are heap copies of exactly len bytes, no NUL, so an overread shows.
 */
static void test_fuzz(void)
{
	static const char *const seeds[] = {
		"{\"version\":\"0.1\",\"policy\":\"boot\",\"cpus\":[{\"cpu\":0,\"online\":true,\"virt_on\":null}],"
		"\"n\":-1.5e-3,\"s\":\"a\\u00e9\\ud83d\\ude00\\n\"}",
		"[true,false,null,0,18446744073709551615,\"\\\\\",[],{}]",
		"\"\\uD800\\uDC00\"",
	};
	static const char alphabet[] = "{}[]\":,\\u0123456789abcdefEe+-. \ntrufalsn\x80\xc3\xa9\xff";
	unsigned ok = 0, rejected = 0;
	bool bad = false;

	for (int iter = 0; iter < 20000; iter++) {
		const char *seed = seeds[rng() % ELEMENTSOF(seeds)];
		size_t len = strlen(seed), n;
		char *buf, err[256];
		json_value *v = NULL;
		int r;

		if (iter % 4 == 0) {
			/* Pure noise from JSON's own characters. */
			n = rng() % 64;
			buf = malloc(n ? n : 1);
			for (size_t i = 0; i < n; i++)
				buf[i] = alphabet[rng() % (sizeof(alphabet) - 1)];
		} else {
			/* A seed with a few bytes replaced, inserted or cut. */
			n = len;
			buf = malloc(len + 8);
			memcpy(buf, seed, len);
			for (int k = 1 + (int)(rng() % 4); k > 0; k--) {
				size_t at = n ? rng() % n : 0;

				switch (rng() % 3) {
				case 0:
					if (n)
						buf[at] = (char)(rng() & 0xff);
					break;
				case 1:
					if (n)
						buf[at] = alphabet[rng() % (sizeof(alphabet) - 1)];
					break;
				default:
					n = at;  /* truncate */
				}
			}
		}
		if (!buf)
			continue;
		r = json_parse(buf, n, &v, err, sizeof(err));
		if (r == 0 && v)
			ok++;
		else if ((r == -EINVAL || r == -E2BIG) && !v && err[0])
			rejected++;
		else
			bad = true;
		json_free(v);
		free(buf);
	}
	CHECK(!bad, "fuzz: 20000 inputs, %u parsed, %u rejected with a message, nothing else", ok, rejected);
	CHECK(ok > 0 && rejected > 0, "fuzz reached both outcomes");
}

int main(void)
{
	test_invalid();
	test_scalars();
	test_strings();
	test_containers();
	test_limits();
	test_fuzz();
	return tests_finish();
}
