/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dropin.c: the text of virtd's runtime modprobe drop-in, rendered and parsed (pure). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dropin.h"

/*
 * modprobe runs an install command with /bin/sh -c; the message tells
 * whoever typed "modprobe kvm_amd" why it failed and where to look, and
 * the exit status makes modprobe (and the kernel's autoload) fail.
 */
#define BLOCK_CMD(m) \
	"install " m " echo 'virtd: " m " is blocked by the virtd policy (see virtctl status)' >&2; /bin/false\n"

char *dropin_render(const struct policy_dropin *d, const char *policy_name)
{
	char *s = NULL;
	int r;

	r = asprintf(&s,
		     "# %s: written by virtd(8) for policy %s.\n"
		     "# virtd rewrites or removes this file as the policy requires; do not edit it.\n"
		     "%s%s%s%s%s",
		     DROPIN_PATH, policy_name ? policy_name : "(unknown)",
		     d->enable_virt_at_load >= 0 ? "options kvm enable_virt_at_load=" : "",
		     d->enable_virt_at_load == 0 ? "0\n" : d->enable_virt_at_load > 0 ? "1\n" : "",
		     !d->has_preemption_timer ? "" :
		     d->preemption_timer ? "options kvm_intel preemption_timer=Y\n" : "options kvm_intel preemption_timer=N\n",
		     d->block_vendor ? BLOCK_CMD("kvm_intel") : "",
		     d->block_vendor ? BLOCK_CMD("kvm_amd") : "");
	return r < 0 ? NULL : s;
}

int parse_kernel_bool(const char *s)
{
	if (!s)
		return -EINVAL;
	if (strcmp(s, "Y") == 0 || strcmp(s, "y") == 0 || strcmp(s, "1") == 0)
		return 1;
	if (strcmp(s, "N") == 0 || strcmp(s, "n") == 0 || strcmp(s, "0") == 0)
		return 0;
	return -EINVAL;
}

/* modprobe.d treats '-' and '_' in module names alike. */
static bool module_name_eq(const char *a, size_t alen, const char *b)
{
	size_t i;

	for (i = 0; i < alen && b[i]; i++) {
		char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];

		if (x != y)
			return false;
	}
	return i == alen && !b[i];
}

/* Next blank-separated word of *p, or NULL at the end of the line. */
static const char *next_word(const char **p, size_t *len)
{
	const char *s = *p, *w;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return NULL;
	w = s;
	while (*s && *s != ' ' && *s != '\t')
		s++;
	*len = (size_t)(s - w);
	*p = s;
	return w;
}

/* The value of the word W (LEN bytes) when it is KEY followed by a kernel boolean; else -EINVAL. */
static int option_bool(const char *w, size_t len, const char *key)
{
	size_t klen = strlen(key);
	char val[8];

	if (len <= klen || strncmp(w, key, klen) != 0 || len - klen >= sizeof(val))
		return -EINVAL;
	memcpy(val, w + klen, len - klen);
	val[len - klen] = '\0';
	return parse_kernel_bool(val);
}

static void parse_line(const char *line, struct policy_dropin *ret)
{
	const char *p = line, *w, *mod;
	size_t len, mlen;

	w = next_word(&p, &len);
	if (!w || *w == '#')
		return;
	mod = next_word(&p, &mlen);
	if (!mod)
		return;
	if (len == 7 && strncmp(w, "install", 7) == 0) {
		if (module_name_eq(mod, mlen, "kvm_intel") || module_name_eq(mod, mlen, "kvm_amd"))
			ret->block_vendor = true;
		return;
	}
	if (len != 7 || strncmp(w, "options", 7) != 0)
		return;
	if (module_name_eq(mod, mlen, "kvm")) {
		while ((w = next_word(&p, &len))) {
			int b = option_bool(w, len, "enable_virt_at_load=");

			if (b >= 0)
				ret->enable_virt_at_load = (signed char)b;
		}
	} else if (module_name_eq(mod, mlen, "kvm_intel")) {
		while ((w = next_word(&p, &len))) {
			int b = option_bool(w, len, "preemption_timer=");

			if (b >= 0) {
				ret->has_preemption_timer = true;
				ret->preemption_timer = b;
			}
		}
	}
}

void dropin_parse(const char *text, struct policy_dropin *ret)
{
	*ret = (struct policy_dropin) { .exists = true, .enable_virt_at_load = -1 };
	if (!text)
		return;
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t n = nl ? (size_t)(nl - text) : strlen(text);
		char line[512];

		/* Longer lines are none of virtd's. */
		if (n < sizeof(line)) {
			memcpy(line, text, n);
			line[n] = '\0';
			parse_line(line, ret);
		}
		text += n;
		if (*text)
			text++;
	}
}
