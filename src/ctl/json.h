/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json.h: a small strict JSON (RFC 8259) parser into a tree, for virtd's status document. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* Limits that keep a hostile or broken document from exhausting the stack or memory. */
#define JSON_DEPTH_MAX 64
#define JSON_SIZE_MAX (16u * 1024 * 1024)

typedef enum json_type {
	JSON_NULL,
	JSON_BOOLEAN,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
} json_type;

typedef struct json_value json_value;

struct json_value {
	json_type type;
	union {
		bool boolean;
		struct {
			/* An integer literal keeps its exact value when it fits: a u64 from
			 * virtd (nanoseconds, MSR values) must not go through a double. */
			bool is_integer;
			bool negative;
			bool fits_u64;  /* non-negative integer <= UINT64_MAX */
			bool fits_i64;  /* integer within int64_t */
			uint64_t u;
			int64_t i;
			double d;       /* always set, possibly rounded */
		} number;
		struct {
			char *s;        /* NUL-terminated UTF-8; \u0000 is rejected */
			size_t len;
		} string;
		struct {
			json_value **items;
			size_t n;
		} array;
		struct {
			char **keys;    /* in document order; lookups take the first of duplicates */
			json_value **values;
			size_t n;
		} object;
	};
};

/*
 * Parses exactly one JSON value from text[0..len) (surrounding blanks allowed).
 * Returns 0 and the tree in *ret, -EINVAL for malformed input (with a
 * message naming line and column in err), -E2BIG when the input is larger
 * than JSON_SIZE_MAX or nested deeper than JSON_DEPTH_MAX, -ENOMEM.
 * err may be NULL.
 */
int json_parse(const char *text, size_t len, json_value **ret, char *err, size_t err_size);

json_value *json_free(json_value *v);
DEFINE_TRIVIAL_CLEANUP_FUNC(json_value *, json_free);

const char *json_type_to_string(json_type t);

/* Lookups that return NULL (or false) when v is NULL or not of the right
 * type, so callers can chain them over optional keys without checks. */
const json_value *json_object_get(const json_value *v, const char *key);
const json_value *json_array_get(const json_value *v, size_t i);
size_t json_array_size(const json_value *v);
const char *json_string(const json_value *v);
bool json_is_null(const json_value *v);
/* Returns 0 and the value, or -EINVAL when v is absent or not that type/range. */
int json_bool(const json_value *v, bool *ret);
int json_u64(const json_value *v, uint64_t *ret);
int json_i64(const json_value *v, int64_t *ret);
