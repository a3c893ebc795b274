/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lock-meta.c: the foreign-hypervisor lock's pure parts: who/why rules, the metadata file, ids, deadlines. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lock-meta.h"

/* Length of the UTF-8 character at s, or 0 when it is not one. */
static size_t utf8_char_len(const unsigned char *s)
{
	uint32_t c;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return n;
}

bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = utf8_char_len(p);

		if (n == 0)
			return false;
		p += n;
	}
	return true;
}

/* C0, DEL and the C1 controls (U+0080..U+009F, 0xc2 0x80..0x9f in UTF-8). */
static bool is_control(const unsigned char *p)
{
	return *p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f);
}

int lock_who_valid(const char *who, char *err, size_t err_size)
{
	size_t len = who ? strlen(who) : 0;

	if (len == 0) {
		snprintf(err, err_size, "who is empty: name the hypervisor or program that takes the lock");
		return -EINVAL;
	}
	if (len > LOCK_WHO_MAX) {
		snprintf(err, err_size, "who is %zu bytes long, at most %d are allowed", len, LOCK_WHO_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++)
		if (who[i] < 0x20 || who[i] > 0x7e) {
			snprintf(err, err_size, "who may only hold printable ASCII characters (byte %zu is 0x%02x)", i,
				 (unsigned char)who[i]);
			return -EINVAL;
		}
	if (who[0] == ' ' || who[len - 1] == ' ') {
		snprintf(err, err_size, "who must not begin or end with a blank");
		return -EINVAL;
	}
	return 0;
}

int lock_why_valid(const char *why, char *err, size_t err_size)
{
	size_t len;

	if (!why) {
		snprintf(err, err_size, "why is missing");
		return -EINVAL;
	}
	len = strlen(why);
	if (len > LOCK_WHY_MAX) {
		snprintf(err, err_size, "why is %zu bytes long, at most %d are allowed", len, LOCK_WHY_MAX);
		return -EINVAL;
	}
	if (!utf8_valid(why)) {
		snprintf(err, err_size, "why is not valid UTF-8");
		return -EINVAL;
	}
	for (const unsigned char *p = (const unsigned char *)why; *p; p++)
		if (is_control(p)) {
			snprintf(err, err_size, "why must not hold control characters (byte %zu)",
				 (size_t)(p - (const unsigned char *)why));
			return -EINVAL;
		}
	return 0;
}

static char *sanitize(const char *s, size_t max, bool ascii)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t o = 0, cut = 0;
	bool cutting = false;
	char *out;

	while (*p == ' ')
		p++;
	out = malloc(strlen((const char *)p) + 1);
	if (!out)
		return NULL;
	while (*p) {
		size_t n = utf8_char_len(p);

		/* Room for "..." once the text does not fit. */
		if (!cutting && o + (n ? n : 1) > max - 3)
			cut = o, cutting = true;
		if (n == 0 || is_control(p) || (ascii && n > 1)) {
			out[o++] = '?';
			p += n ? n : 1;
		} else {
			memcpy(out + o, p, n);
			o += n;
			p += n;
		}
	}
	out[o] = '\0';
	if (o > max) {
		o = cut;
		strcpy(out + o, "...");
		o += 3;
	}
	while (o > 0 && out[o - 1] == ' ')
		out[--o] = '\0';
	return out;
}

char *lock_who_sanitize(const char *s)
{
	return sanitize(s, LOCK_WHO_MAX, true);
}

char *lock_why_sanitize(const char *s)
{
	return sanitize(s, LOCK_WHY_MAX, false);
}

char *lock_meta_render(const struct lock_info *l)
{
	/* "handoff=" and up to LOCK_HANDOFF_MAX "PID:START " of at most 11 + 20 + 1 bytes. */
	char procs[16 + LOCK_HANDOFF_MAX * 32] = "";
	size_t o = 0;
	char *s = NULL;

	for (size_t i = 0; i < l->n_handoff && i < LOCK_HANDOFF_MAX; i++)
		o += (size_t)snprintf(procs + o, sizeof(procs) - o, "%s%d:%" PRIu64, i ? " " : "handoff=",
				      (int)l->handoff[i].pid, l->handoff[i].start);
	if (asprintf(&s,
		     "# virtd(8) foreign-hypervisor lock %" PRIu32 ": held while %" PRIu32 ".fifo has a writer.\n"
		     "who=%s\nwhy=%s\npid=%d\nuid=%u\nsince=%" PRIu64 "\nmode=%s\n%s%s",
		     l->id, l->id, l->who, l->why, (int)l->pid, (unsigned)l->uid, l->since_usec,
		     l->shared ? "shared" : "exclusive", procs, o ? "\n" : "") < 0)
		return NULL;
	return s;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;

	if (!*s || (s[0] == '0' && s[1]))
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*ret = v;
	return 0;
}

/* "PID:START PID:START ...": 1 to LOCK_HANDOFF_MAX pairs, single blanks between. */
static int parse_handoff(char *val, struct lock_info *l)
{
	for (char *w = val;;) {
		char *end = strchr(w, ' '), *colon;
		uint64_t pid, start;

		if (end)
			*end = '\0';
		colon = strchr(w, ':');
		if (!colon || l->n_handoff == LOCK_HANDOFF_MAX)
			return -EBADMSG;
		*colon = '\0';
		if (parse_u64(w, INT32_MAX, &pid) < 0 || pid == 0 || parse_u64(colon + 1, UINT64_MAX, &start) < 0 ||
		    start == 0)
			return -EBADMSG;
		l->handoff[l->n_handoff++] = (struct lock_proc) { .pid = (pid_t)pid, .start = start };
		if (!end)
			return 0;
		w = end + 1;
	}
}

int lock_meta_parse(const char *text, struct lock_info *ret)
{
	enum { WHO = 1, WHY = 2, PID = 4, UID = 8, SINCE = 16, ALL = 31, MODE = 32, HANDOFF = 64 };
	struct lock_info l = {};
	unsigned seen = 0;
	char err[128];

	if (!text)
		return -EBADMSG;
	while (*text) {
		size_t n = strcspn(text, "\n");
		char line[LOCK_WHY_MAX + 16], *eq, *val;
		unsigned key = 0;
		uint64_t u;

		if (n >= sizeof(line))
			return -EBADMSG;
		memcpy(line, text, n);
		line[n] = '\0';
		text += n;
		if (*text == '\n')
			text++;
		if (line[0] == '\0' || line[0] == '#')
			continue;
		eq = strchr(line, '=');
		if (!eq)
			return -EBADMSG;
		*eq = '\0';
		val = eq + 1;
		if (strcmp(line, "who") == 0) {
			key = WHO;
			if (lock_who_valid(val, err, sizeof(err)) < 0)
				return -EBADMSG;
			strcpy(l.who, val);
		} else if (strcmp(line, "why") == 0) {
			key = WHY;
			if (lock_why_valid(val, err, sizeof(err)) < 0)
				return -EBADMSG;
			strcpy(l.why, val);
		} else if (strcmp(line, "pid") == 0) {
			key = PID;
			if (parse_u64(val, INT32_MAX, &u) < 0 || u == 0)
				return -EBADMSG;
			l.pid = (pid_t)u;
		} else if (strcmp(line, "uid") == 0) {
			key = UID;
			if (parse_u64(val, UINT32_MAX - 1, &u) < 0)
				return -EBADMSG;
			l.uid = (uid_t)u;
		} else if (strcmp(line, "since") == 0) {
			key = SINCE;
			if (parse_u64(val, UINT64_MAX, &u) < 0)
				return -EBADMSG;
			l.since_usec = u;
		} else if (strcmp(line, "mode") == 0) {
			key = MODE;
			if (strcmp(val, "shared") == 0)
				l.shared = true;
			else if (strcmp(val, "exclusive") != 0)
				return -EBADMSG;
		} else if (strcmp(line, "handoff") == 0) {
			key = HANDOFF;
			if ((seen & HANDOFF) || parse_handoff(val, &l) < 0)
				return -EBADMSG;
		}
		if (key & seen)
			return -EBADMSG;
		seen |= key;
	}
	/* mode= and handoff= are optional (older files: exclusive, no hand-off); the rest is not. */
	if ((seen & ALL) != ALL)
		return -EBADMSG;
	*ret = l;
	return 0;
}

int lock_id_from_name(const char *name, const char *suffix, uint32_t *ret)
{
	size_t len = strlen(name), slen = strlen(suffix);
	char digits[16];
	uint64_t v;

	if (len <= slen || strcmp(name + len - slen, suffix) != 0 || len - slen >= sizeof(digits))
		return -EINVAL;
	memcpy(digits, name, len - slen);
	digits[len - slen] = '\0';
	if (parse_u64(digits, UINT32_MAX, &v) < 0 || v == 0)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

uint32_t lock_id_next(const uint32_t *used, size_t n)
{
	uint32_t max = 0;

	for (size_t i = 0; i < n; i++)
		if (used[i] > max)
			max = used[i];
	if (max < UINT32_MAX)
		return max + 1;
	/* Wrapped: take the lowest free one.  n < 2^32 - 1, so one exists. */
	for (uint32_t id = 1;; id++) {
		bool taken = false;

		for (size_t i = 0; i < n && !taken; i++)
			taken = used[i] == id;
		if (!taken)
			return id;
	}
}

uint64_t lock_deadline(uint64_t now_usec, uint64_t timeout_usec)
{
	if (timeout_usec == 0 || timeout_usec >= UINT64_MAX - now_usec)
		return UINT64_MAX;
	return now_usec + timeout_usec;
}

int lock_parse_seconds(const char *s, uint64_t *ret_usec)
{
	uint64_t sec = 0, frac = 0;
	unsigned digits = 0;
	const char *p = s;

	if (!s || *p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (sec > (UINT64_MAX / 1000000 - 9) / 10)
			return -ERANGE;
		sec = sec * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (++digits > 6)
				return -EINVAL;
			frac = frac * 10 + (uint64_t)(*p - '0');
		}
		for (; digits < 6; digits++)
			frac *= 10;
	}
	if (*p)
		return -EINVAL;
	*ret_usec = sec * 1000000 + frac;
	return 0;
}
