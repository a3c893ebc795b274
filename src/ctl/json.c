/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json.c: a small strict JSON (RFC 8259) parser into a tree, for virtd's status document. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct parser {
	const char *start, *p, *end;
	unsigned depth;
	char *err;
	size_t err_size;
};

_printf_(3, 4)
static int parse_error(struct parser *ps, int r, const char *fmt, ...)
{
	unsigned line = 1, col = 1;
	char msg[160];
	va_list ap;

	if (!ps->err || ps->err_size == 0)
		return r;
	for (const char *q = ps->start; q < ps->p; q++) {
		if (*q == '\n') {
			line++;
			col = 1;
		} else
			col++;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(ps->err, ps->err_size, "line %u, column %u: %s", line, col, msg);
	return r;
}

/* Names the byte at the cursor for a message without printing raw bytes. */
static const char *describe_here(const struct parser *ps, char *buf, size_t size)
{
	unsigned char c;

	if (ps->p >= ps->end)
		return "end of input";
	c = (unsigned char)*ps->p;
	if (c >= 0x21 && c < 0x7f)
		snprintf(buf, size, "'%c'", c);
	else
		snprintf(buf, size, "byte 0x%02x", c);
	return buf;
}

static void skip_blanks(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static bool consume_literal(struct parser *ps, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, lit, n) != 0)
		return false;
	ps->p += n;
	return true;
}

json_value *json_free(json_value *v)
{
	if (!v)
		return NULL;
	switch (v->type) {
	case JSON_STRING:
		free(v->string.s);
		break;
	case JSON_ARRAY:
		for (size_t i = 0; i < v->array.n; i++)
			json_free(v->array.items[i]);
		free(v->array.items);
		break;
	case JSON_OBJECT:
		for (size_t i = 0; i < v->object.n; i++) {
			free(v->object.keys[i]);
			json_free(v->object.values[i]);
		}
		free(v->object.keys);
		free(v->object.values);
		break;
	default:
		break;
	}
	free(v);
	return NULL;
}

static json_value *value_new(json_type t)
{
	json_value *v = calloc(1, sizeof(*v));

	if (v)
		v->type = t;
	return v;
}

/* Growable byte buffer for decoding strings. */
struct buf {
	char *s;
	size_t len, cap;
};

static int buf_put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 32;
		char *t;

		while (cap < b->len + n + 1)
			cap *= 2;
		t = realloc(b->s, cap);
		if (!t)
			return -ENOMEM;
		b->s = t;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

static int buf_put_codepoint(struct buf *b, uint32_t cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_put(b, u, n);
}

/* Reads the 4 hex digits after "\u"; the cursor is on the first digit. */
static int read_hex4(struct parser *ps, uint32_t *ret)
{
	uint32_t v = 0;

	if (ps->end - ps->p < 4)
		return parse_error(ps, -EINVAL, "\\u escape needs 4 hex digits");
	for (int i = 0; i < 4; i++) {
		char c = ps->p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return parse_error(ps, -EINVAL, "\\u escape needs 4 hex digits");
	}
	ps->p += 4;
	*ret = v;
	return 0;
}

/* Length of a valid UTF-8 sequence at p (no overlongs, no surrogates,
 * nothing above U+10FFFF, not past end), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	size_t n;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = p[0] & 0x07;
	} else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000))
		return 0;
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Parses a string literal; the cursor is on the opening quote. */
static int parse_string_raw(struct parser *ps, char **ret, size_t *ret_len)
{
	struct buf b = {};
	int r;

	ps->p++;
	r = buf_put(&b, "", 0);
	if (r < 0)
		goto fail;
	for (;;) {
		const char *run = ps->p;
		size_t n;

		/* Copy plain bytes in runs; stop at a quote, backslash or anything odd. */
		while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\' && (unsigned char)*ps->p >= 0x20 &&
		       (unsigned char)*ps->p < 0x80)
			ps->p++;
		r = buf_put(&b, run, (size_t)(ps->p - run));
		if (r < 0)
			goto fail;

		if (ps->p >= ps->end) {
			r = parse_error(ps, -EINVAL, "unterminated string");
			goto fail;
		}
		if (*ps->p == '"') {
			ps->p++;
			break;
		}
		if ((unsigned char)*ps->p < 0x20) {
			r = parse_error(ps, -EINVAL, "control character 0x%02x in string (must be escaped)",
					(unsigned char)*ps->p);
			goto fail;
		}
		if ((unsigned char)*ps->p >= 0x80) {
			n = utf8_len((const unsigned char *)ps->p, (const unsigned char *)ps->end);
			if (n == 0) {
				r = parse_error(ps, -EINVAL, "invalid UTF-8 in string");
				goto fail;
			}
			r = buf_put(&b, ps->p, n);
			if (r < 0)
				goto fail;
			ps->p += n;
			continue;
		}

		/* Backslash. */
		ps->p++;
		if (ps->p >= ps->end) {
			r = parse_error(ps, -EINVAL, "unterminated string");
			goto fail;
		}
		switch (*ps->p) {
		case '"':  r = buf_put(&b, "\"", 1); break;
		case '\\': r = buf_put(&b, "\\", 1); break;
		case '/':  r = buf_put(&b, "/", 1); break;
		case 'b':  r = buf_put(&b, "\b", 1); break;
		case 'f':  r = buf_put(&b, "\f", 1); break;
		case 'n':  r = buf_put(&b, "\n", 1); break;
		case 'r':  r = buf_put(&b, "\r", 1); break;
		case 't':  r = buf_put(&b, "\t", 1); break;
		case 'u': {
			uint32_t cp, lo;

			ps->p++;
			r = read_hex4(ps, &cp);
			if (r < 0)
				goto fail;
			if (cp == 0) {
				ps->p -= 6;
				r = parse_error(ps, -EINVAL, "\\u0000 in string is not supported");
				goto fail;
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				/* A high surrogate pairs with a following low one; alone,
				 * it is legal JSON but no character: U+FFFD. */
				if (ps->end - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u') {
					const char *save = ps->p;

					ps->p += 2;
					r = read_hex4(ps, &lo);
					if (r < 0)
						goto fail;
					if (lo >= 0xdc00 && lo <= 0xdfff)
						cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					else {
						ps->p = save;
						cp = 0xfffd;
					}
				} else
					cp = 0xfffd;
			} else if (cp >= 0xdc00 && cp <= 0xdfff)
				cp = 0xfffd;
			r = buf_put_codepoint(&b, cp);
			if (r < 0)
				goto fail;
			continue;
		}
		default: {
			char what[16];

			r = parse_error(ps, -EINVAL, "invalid escape \\%s in string",
					describe_here(ps, what, sizeof(what)));
			goto fail;
		}
		}
		if (r < 0)
			goto fail;
		ps->p++;
	}
	*ret = b.s;
	*ret_len = b.len;
	return 0;
fail:
	free(b.s);
	return r;
}

static int parse_number(struct parser *ps, json_value *v)
{
	const char *s = ps->p;
	bool negative = false, is_integer = true, overflow = false;
	uint64_t u = 0;
	char small[64], *copy = small, *endp;
	size_t n;

	if (ps->p < ps->end && *ps->p == '-') {
		negative = true;
		ps->p++;
	}
	if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
		return parse_error(ps, -EINVAL, "expected a digit");
	if (*ps->p == '0') {
		ps->p++;
		if (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			return parse_error(ps, -EINVAL, "leading zeros are not allowed in numbers");
	} else
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
			unsigned d = (unsigned)(*ps->p - '0');

			if (u > (UINT64_MAX - d) / 10)
				overflow = true;
			else
				u = u * 10 + d;
			ps->p++;
		}
	if (ps->p < ps->end && *ps->p == '.') {
		is_integer = false;
		ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
			return parse_error(ps, -EINVAL, "expected a digit after the decimal point");
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		is_integer = false;
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
			return parse_error(ps, -EINVAL, "expected a digit in the exponent");
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}

	/* strtod needs a terminated string; the input need not be one. */
	n = (size_t)(ps->p - s);
	if (n >= sizeof(small)) {
		copy = malloc(n + 1);
		if (!copy)
			return -ENOMEM;
	}
	memcpy(copy, s, n);
	copy[n] = '\0';
	v->number.d = strtod(copy, &endp);
	if (copy != small)
		free(copy);

	v->number.is_integer = is_integer;
	v->number.negative = negative && !(is_integer && u == 0 && !overflow);
	if (is_integer && !overflow) {
		if (!negative) {
			v->number.fits_u64 = true;
			v->number.u = u;
			if (u <= INT64_MAX) {
				v->number.fits_i64 = true;
				v->number.i = (int64_t)u;
			}
		} else if (u <= (uint64_t)INT64_MAX + 1) {
			v->number.fits_i64 = true;
			v->number.i = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
			if (u == 0) {
				v->number.fits_u64 = true;
				v->number.u = 0;
			}
		}
	}
	return 0;
}

static int parse_value(struct parser *ps, json_value **ret);

static int parse_array(struct parser *ps, json_value *v)
{
	size_t cap = 0;
	int r;

	ps->p++;
	skip_blanks(ps);
	if (ps->p < ps->end && *ps->p == ']') {
		ps->p++;
		return 0;
	}
	for (;;) {
		json_value *item = NULL;
		char what[16];

		r = parse_value(ps, &item);
		if (r < 0)
			return r;
		if (v->array.n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			json_value **t = realloc(v->array.items, ncap * sizeof(*t));

			if (!t) {
				json_free(item);
				return -ENOMEM;
			}
			v->array.items = t;
			cap = ncap;
		}
		v->array.items[v->array.n++] = item;

		skip_blanks(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']') {
			ps->p++;
			return 0;
		}
		return parse_error(ps, -EINVAL, "expected ',' or ']' in array, got %s",
				   describe_here(ps, what, sizeof(what)));
	}
}

static int parse_object(struct parser *ps, json_value *v)
{
	size_t cap = 0;
	int r;

	ps->p++;
	skip_blanks(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		return 0;
	}
	for (;;) {
		_cleanup_free_ char *key = NULL;
		json_value *item = NULL;
		char what[16];
		size_t key_len;

		skip_blanks(ps);
		if (ps->p >= ps->end || *ps->p != '"')
			return parse_error(ps, -EINVAL, "expected a string as object key, got %s",
					   describe_here(ps, what, sizeof(what)));
		r = parse_string_raw(ps, &key, &key_len);
		if (r < 0)
			return r;
		skip_blanks(ps);
		if (ps->p >= ps->end || *ps->p != ':')
			return parse_error(ps, -EINVAL, "expected ':' after object key, got %s",
					   describe_here(ps, what, sizeof(what)));
		ps->p++;
		r = parse_value(ps, &item);
		if (r < 0)
			return r;
		if (v->object.n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			char **k = realloc(v->object.keys, ncap * sizeof(*k));
			json_value **t;

			if (!k) {
				json_free(item);
				return -ENOMEM;
			}
			v->object.keys = k;
			t = realloc(v->object.values, ncap * sizeof(*t));
			if (!t) {
				json_free(item);
				return -ENOMEM;
			}
			v->object.values = t;
			cap = ncap;
		}
		v->object.keys[v->object.n] = TAKE_PTR(key);
		v->object.values[v->object.n] = item;
		v->object.n++;

		skip_blanks(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == '}') {
			ps->p++;
			return 0;
		}
		return parse_error(ps, -EINVAL, "expected ',' or '}' in object, got %s",
				   describe_here(ps, what, sizeof(what)));
	}
}

static int parse_value(struct parser *ps, json_value **ret)
{
	_cleanup_(json_freep) json_value *v = NULL;
	char what[16];
	int r = 0;

	skip_blanks(ps);
	if (ps->p >= ps->end)
		return parse_error(ps, -EINVAL, "expected a value, got end of input");

	switch (*ps->p) {
	case '{':
	case '[':
		if (ps->depth >= JSON_DEPTH_MAX)
			return parse_error(ps, -E2BIG, "nested deeper than %d levels", JSON_DEPTH_MAX);
		ps->depth++;
		v = value_new(*ps->p == '{' ? JSON_OBJECT : JSON_ARRAY);
		if (!v)
			return -ENOMEM;
		r = v->type == JSON_OBJECT ? parse_object(ps, v) : parse_array(ps, v);
		ps->depth--;
		break;
	case '"':
		v = value_new(JSON_STRING);
		if (!v)
			return -ENOMEM;
		r = parse_string_raw(ps, &v->string.s, &v->string.len);
		break;
	case 't':
	case 'f':
		v = value_new(JSON_BOOLEAN);
		if (!v)
			return -ENOMEM;
		if (consume_literal(ps, "true"))
			v->boolean = true;
		else if (!consume_literal(ps, "false"))
			return parse_error(ps, -EINVAL, "invalid literal (expected true or false)");
		break;
	case 'n':
		if (!consume_literal(ps, "null"))
			return parse_error(ps, -EINVAL, "invalid literal (expected null)");
		v = value_new(JSON_NULL);
		if (!v)
			return -ENOMEM;
		break;
	default:
		if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) {
			v = value_new(JSON_NUMBER);
			if (!v)
				return -ENOMEM;
			r = parse_number(ps, v);
			break;
		}
		return parse_error(ps, -EINVAL, "expected a value, got %s", describe_here(ps, what, sizeof(what)));
	}
	if (r < 0)
		return r;
	*ret = TAKE_PTR(v);
	return 0;
}

int json_parse(const char *text, size_t len, json_value **ret, char *err, size_t err_size)
{
	struct parser ps = {
		.start = text,
		.p = text,
		.end = text + len,
		.err = err,
		.err_size = err_size,
	};
	_cleanup_(json_freep) json_value *v = NULL;
	char what[16];
	int r;

	if (err && err_size > 0)
		err[0] = '\0';
	if (len > JSON_SIZE_MAX)
		return parse_error(&ps, -E2BIG, "document larger than %u bytes", JSON_SIZE_MAX);
	r = parse_value(&ps, &v);
	if (r == -ENOMEM)
		return parse_error(&ps, r, "out of memory");
	if (r < 0)
		return r;
	skip_blanks(&ps);
	if (ps.p < ps.end)
		return parse_error(&ps, -EINVAL, "unexpected %s after the value", describe_here(&ps, what, sizeof(what)));
	*ret = TAKE_PTR(v);
	return 0;
}

const char *json_type_to_string(json_type t)
{
	static const char *const names[] = {
		[JSON_NULL] = "null",
		[JSON_BOOLEAN] = "boolean",
		[JSON_NUMBER] = "number",
		[JSON_STRING] = "string",
		[JSON_ARRAY] = "array",
		[JSON_OBJECT] = "object",
	};

	return (size_t)t < ELEMENTSOF(names) ? names[t] : "invalid";
}

const json_value *json_object_get(const json_value *v, const char *key)
{
	if (!v || v->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < v->object.n; i++)
		if (strcmp(v->object.keys[i], key) == 0)
			return v->object.values[i];
	return NULL;
}

const json_value *json_array_get(const json_value *v, size_t i)
{
	if (!v || v->type != JSON_ARRAY || i >= v->array.n)
		return NULL;
	return v->array.items[i];
}

size_t json_array_size(const json_value *v)
{
	return v && v->type == JSON_ARRAY ? v->array.n : 0;
}

const char *json_string(const json_value *v)
{
	return v && v->type == JSON_STRING ? v->string.s : NULL;
}

bool json_is_null(const json_value *v)
{
	return v && v->type == JSON_NULL;
}

int json_bool(const json_value *v, bool *ret)
{
	if (!v || v->type != JSON_BOOLEAN)
		return -EINVAL;
	*ret = v->boolean;
	return 0;
}

int json_u64(const json_value *v, uint64_t *ret)
{
	if (!v || v->type != JSON_NUMBER || !v->number.fits_u64)
		return -EINVAL;
	*ret = v->number.u;
	return 0;
}

int json_i64(const json_value *v, int64_t *ret)
{
	if (!v || v->type != JSON_NUMBER || !v->number.fits_i64)
		return -EINVAL;
	*ret = v->number.i;
	return 0;
}
