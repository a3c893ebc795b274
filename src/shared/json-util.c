/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json-util.c: virtd's JSON through json-c: document building with valid UTF-8 and exact numbers, strict bounded parsing, typed lookups. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"

/* Set when a constructor or an insertion could not allocate; the next
 * jv_to_text()/jv_print() reports it (and clears it).  virtd and virtctl
 * build documents on one thread. */
static bool build_failed;

static json_object *checked(json_object *o)
{
	if (!o)
		build_failed = true;
	return o;
}

/* Length of a valid UTF-8 sequence at s, of which left bytes are there
 * (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF), or 0 if
 * it is not one. */
static size_t utf8_valid_len(const unsigned char *s, size_t left)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	else if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
	} else
		return 0;

	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000))
		return 0;
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

char *utf8_clean(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s);
	/* Worst case: every byte becomes U+FFFD, 3 bytes. */
	char *buf = malloc(len * 3 + 1), *o = buf;

	if (!buf)
		return NULL;
	while (*p) {
		size_t n = utf8_valid_len(p, len - (size_t)(p - (const unsigned char *)s));

		if (n == 0) {
			o = stpcpy(o, "\xef\xbf\xbd");
			p++;
			continue;
		}
		memcpy(o, p, n);
		o += n;
		p += n;
	}
	*o = '\0';
	return buf;
}

json_object *jv_text(const char *s)
{
	_cleanup_free_ char *clean = NULL;

	if (!s)
		return NULL;
	clean = utf8_clean(s);
	if (!clean) {
		build_failed = true;
		return NULL;
	}
	return checked(json_object_new_string(clean));
}

json_object *jv_bool(bool b)
{
	return checked(json_object_new_boolean(b));
}

json_object *jv_opt_bool(bool has, bool v)
{
	return has ? jv_bool(v) : NULL;
}

json_object *jv_u64(uint64_t v)
{
	return checked(json_object_new_uint64(v));
}

json_object *jv_i64(int64_t v)
{
	return checked(json_object_new_int64(v));
}

json_object *jv_hex(uint64_t v, int digits)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "0x%0*" PRIx64, digits, v);
	return checked(json_object_new_string(buf));
}

json_object *jv_fixed3(double v)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.3f", v);
	/* json-c writes a double made with its text as exactly that text. */
	return checked(json_object_new_double_s(v, buf));
}

json_object *jv_object(void)
{
	return checked(json_object_new_object());
}

json_object *jv_array(void)
{
	return checked(json_object_new_array());
}

void jv_set(json_object *obj, const char *key, json_object *val)
{
	if (!obj || json_object_object_add(obj, key, val) < 0) {
		json_object_put(val);
		build_failed = true;
	}
}

void jv_append(json_object *arr, json_object *val)
{
	if (!arr || json_object_array_add(arr, val) < 0) {
		json_object_put(val);
		build_failed = true;
	}
}

int jv_to_text(json_object *o, char **ret)
{
	const char *s;
	bool failed = build_failed;

	build_failed = false;
	if (failed || !o)
		return -ENOMEM;
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s)
		return -ENOMEM;
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

int jv_print(FILE *f, json_object *o)
{
	_cleanup_free_ char *s = NULL;
	int r = jv_to_text(o, &s);

	if (r < 0)
		return r;
	fputs(s, f);
	fputc('\n', f);
	return ferror(f) ? -EIO : 0;
}

/* Line and column (1-based) of byte offset off in text. */
static void where(const char *text, size_t off, unsigned *line, unsigned *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

int jv_parse(const char *text, size_t len, json_object **ret, char *err, size_t err_size)
{
	_cleanup_(json_object_putp) json_object *o = NULL;
	struct json_tokener *tok;
	enum json_tokener_error e;
	size_t end;
	unsigned line, col;
	const char *nul;
	char discard[1];

	if (!err) {
		err = discard;
		err_size = sizeof(discard);
	}
	if (len > JSON_SIZE_MAX) {
		snprintf(err, err_size, "document of %zu bytes, larger than the limit of %u", len, JSON_SIZE_MAX);
		return -E2BIG;
	}
	nul = memchr(text, '\0', len);
	if (nul) {
		where(text, (size_t)(nul - text), &line, &col);
		snprintf(err, err_size, "line %u, column %u: NUL byte in the document", line, col);
		return -EINVAL;
	}
	/* json-c's own UTF-8 check lets overlong forms and surrogates through. */
	for (size_t i = 0, n; i < len; i += n) {
		n = utf8_valid_len((const unsigned char *)text + i, len - i);
		if (n == 0) {
			where(text, i, &line, &col);
			snprintf(err, err_size, "line %u, column %u: invalid UTF-8", line, col);
			return -EINVAL;
		}
	}

	tok = json_tokener_new_ex(JSON_DEPTH_MAX);
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, text, (int)len);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (e == json_tokener_continue) {
		/* All of it read: the end of the input ends a top-level number
		 * or literal, or shows the document incomplete. */
		o = json_tokener_parse_ex(tok, "", 1);
		e = json_tokener_get_error(tok);
		end = len;
	}
	json_tokener_free(tok);

	if (e == json_tokener_success) {
		/* One value only: what follows it may be blanks, nothing else. */
		for (; end < len; end++)
			if (!strchr(" \t\r\n", text[end])) {
				e = json_tokener_error_parse_unexpected;
				break;
			}
	}
	if (e != json_tokener_success) {
		if (end > len)
			end = len;
		where(text, end, &line, &col);
		snprintf(err, err_size, "line %u, column %u: %s", line, col,
			 e == json_tokener_error_parse_unexpected && o ? "content after the document"
								       : json_tokener_error_desc(e));
		return e == json_tokener_error_depth ? -E2BIG : -EINVAL;
	}
	*ret = TAKE_PTR(o);
	return 0;
}

const json_object *jv_get(const json_object *v, const char *key)
{
	json_object *out = NULL;

	if (!v || !json_object_is_type(v, json_type_object))
		return NULL;
	return json_object_object_get_ex(v, key, &out) ? out : NULL;
}

const json_object *jv_at(const json_object *v, size_t i)
{
	if (!v || !json_object_is_type(v, json_type_array) || i >= json_object_array_length(v))
		return NULL;
	return json_object_array_get_idx(v, i);
}

size_t jv_len(const json_object *v)
{
	return v && json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
}

const char *jv_str(const json_object *v)
{
	const char *s;

	if (!v || !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string((json_object *)v);
	/* "\u0000" decodes to a NUL inside the string: not a C string. */
	return strlen(s) == (size_t)json_object_get_string_len(v) ? s : NULL;
}

bool jv_is_null(const json_object *v)
{
	return v == NULL;
}

bool jv_null_at(const json_object *obj, const char *key)
{
	json_object *out = NULL;

	return jv_is_object(obj) && json_object_object_get_ex(obj, key, &out) && !out;
}

bool jv_is_object(const json_object *v)
{
	return v && json_object_is_type(v, json_type_object);
}

bool jv_is_array(const json_object *v)
{
	return v && json_object_is_type(v, json_type_array);
}

size_t jv_obj_len(const json_object *v)
{
	return jv_is_object(v) ? (size_t)json_object_object_length(v) : 0;
}

int jv_get_bool(const json_object *v, bool *ret)
{
	if (!v || !json_object_is_type(v, json_type_boolean))
		return -EINVAL;
	*ret = json_object_get_boolean(v);
	return 0;
}

int jv_get_u64(const json_object *v, uint64_t *ret)
{
	if (!v || !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return -EINVAL;
	*ret = json_object_get_uint64(v);
	return 0;
}

int jv_get_i64(const json_object *v, int64_t *ret)
{
	/* An integer past INT64_MAX reads as INT64_MAX from json-c: refuse it. */
	if (!v || !json_object_is_type(v, json_type_int) ||
	    (json_object_get_int64(v) == INT64_MAX && json_object_get_uint64(v) != (uint64_t)INT64_MAX))
		return -EINVAL;
	*ret = json_object_get_int64(v);
	return 0;
}

int jv_get_double(const json_object *v, double *ret)
{
	if (!v || !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return -EINVAL;
	*ret = json_object_get_double(v);
	return 0;
}

const char *jv_type_name(const json_object *v)
{
	return v ? json_type_to_name(json_object_get_type(v)) : "null";
}
