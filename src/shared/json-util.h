/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json-util.h: virtd's JSON through json-c: building documents (strings always valid UTF-8, exact u64, fixed decimals), strict bounded parsing, and NULL-safe typed lookups. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "macro.h"

/* Limits that keep a hostile or broken document from exhausting the stack or memory. */
#define JSON_DEPTH_MAX 64
#define JSON_SIZE_MAX (16u * 1024 * 1024)

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put);

/*
 * Building.  Each constructor returns a new reference, or NULL for JSON
 * null (jv_text(NULL), jv_opt_bool(false, ...)).  An allocation failure is
 * remembered and reported by the jv_to_text()/jv_print() that follows, so
 * a document is never emitted with a value silently turned into null.
 */
json_object *jv_text(const char *s);		/* invalid UTF-8 becomes U+FFFD */
json_object *jv_bool(bool b);
json_object *jv_opt_bool(bool has, bool v);
json_object *jv_u64(uint64_t v);
json_object *jv_i64(int64_t v);
json_object *jv_hex(uint64_t v, int digits);	/* "0x" and DIGITS hex digits, as a string */
json_object *jv_fixed3(double v);		/* a number written with 3 decimals */
json_object *jv_object(void);
json_object *jv_array(void);
/* Adds VAL (a reference it takes over; NULL is null) under KEY, in order. */
void jv_set(json_object *obj, const char *key, json_object *val);
void jv_append(json_object *arr, json_object *val);
/* The compact text of O (keys in insertion order, "/" unescaped): 0 and a
 * malloc'd string, or -ENOMEM (also for a failure while building). */
int jv_to_text(json_object *o, char **ret);
/* The same, written to F with a newline. */
int jv_print(FILE *f, json_object *o);

/* S with every invalid UTF-8 sequence (stray or truncated bytes, overlong
 * forms, surrogates, values past U+10FFFF) replaced by U+FFFD; NULL on
 * allocation failure.  Exposed for its unit test. */
char *utf8_clean(const char *s);

/*
 * Parsing: exactly one RFC 8259 value from text[0..len) (blanks around it
 * allowed; strict mode: no comments, no trailing commas, valid UTF-8, no
 * NUL byte).  Returns 0 and the tree in *ret; -EINVAL for malformed input,
 * with a message naming line and column in err; -E2BIG when the input is
 * larger than JSON_SIZE_MAX or nested deeper than JSON_DEPTH_MAX; -ENOMEM.
 * err may be NULL.  Duplicate keys: the last one counts (json-c's rule).
 * Integers beyond 64 bits are clamped by json-c to the nearest limit.
 */
int jv_parse(const char *text, size_t len, json_object **ret, char *err, size_t err_size);

/* Lookups that return NULL (or false) when v is NULL or not of the right
 * type, so callers can chain them over optional keys without checks. */
const json_object *jv_get(const json_object *v, const char *key);
const json_object *jv_at(const json_object *v, size_t i);
size_t jv_len(const json_object *v);
/* A string without NUL bytes, or NULL. */
const char *jv_str(const json_object *v);
bool jv_is_null(const json_object *v);
/* KEY is in object OBJ with the value null (not merely absent). */
bool jv_null_at(const json_object *obj, const char *key);
bool jv_is_object(const json_object *v);
bool jv_is_array(const json_object *v);
size_t jv_obj_len(const json_object *v);
/* Returns 0 and the value, or -EINVAL when v is absent or not that type/range. */
int jv_get_bool(const json_object *v, bool *ret);
int jv_get_u64(const json_object *v, uint64_t *ret);
int jv_get_i64(const json_object *v, int64_t *ret);
/* Any number, integer or not. */
int jv_get_double(const json_object *v, double *ret);
const char *jv_type_name(const json_object *v);
