/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-profile.c: a hypervisor profile file through profile_parse_string()
 * (inih underneath), then what the daemon does with an accepted one: the mode
 * choice on every vendor and on kernels taken from the input, and lock names.
 */
#include <errno.h>

#include "fuzz-common.h"
#include "profiles.h"

static void check_diags(const struct config_diag *d)
{
	FUZZ_ASSERT(d->n_entries <= CONFIG_DIAG_MAX);
	FUZZ_ASSERT(d->n_entries + d->n_suppressed == d->n_errors + d->n_warnings);
	for (size_t i = 0; i < d->n_entries; i++) {
		const struct config_diag_entry *e = &d->entries[i];

		FUZZ_ASSERT(e->message && e->file);
		/* Bound for the journal and for D-Bus strings. */
		FUZZ_ASSERT(fuzz_printable(e->message));
		FUZZ_ASSERT(strncmp(e->message, e->file, strlen(e->file)) == 0);
	}
}

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static void check_list(const struct profile_list *l)
{
	FUZZ_ASSERT(l->n <= PROFILE_LIST_MAX);
	for (size_t i = 0; i < l->n; i++) {
		FUZZ_ASSERT(terminated(l->items[i], sizeof(l->items[i])));
		/* Words: never empty, never with a blank. */
		FUZZ_ASSERT(l->items[i][0] && !strpbrk(l->items[i], " \t"));
	}
}

static void check_profile(const struct hv_profile *p)
{
	FUZZ_ASSERT(strcmp(p->name, "fuzzed") == 0);
	FUZZ_ASSERT(terminated(p->description, sizeof(p->description)));
	FUZZ_ASSERT(terminated(p->version_module, sizeof(p->version_module)));
	check_list(&p->modules);
	check_list(&p->devices);
	check_list(&p->processes);
	check_list(&p->who);
	/* What the parser promises: a way to recognise it, devices under /dev/. */
	FUZZ_ASSERT(p->modules.n + p->devices.n + p->who.n > 0);
	for (size_t i = 0; i < p->devices.n; i++)
		FUZZ_ASSERT(strncmp(p->devices.items[i], "/dev/", 5) == 0 && !strstr(p->devices.items[i], "/.."));
	FUZZ_ASSERT(p->n_rules <= PROFILE_RULES_MAX);
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct profile_rule *r = &p->rules[i];

		FUZZ_ASSERT((unsigned)r->vendor < _PROFILE_VENDOR_MAX);
		FUZZ_ASSERT(r->mode == HV_MODE_SHARED || r->mode == HV_MODE_EXCLUSIVE);
		FUZZ_ASSERT(r->reason[0] && terminated(r->reason, sizeof(r->reason)));
		FUZZ_ASSERT(r->line > 0 && (i == 0 || p->rules[i - 1].line < r->line));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_diag d = CONFIG_DIAG_INIT;
	static struct hv_profile p, before;
	static struct hv_profiles ps;
	struct hv_mode_choice ch;
	unsigned major, minor;
	char *text;
	int r;

	if (size > 65535)
		return -1;
	text = fuzz_strndup(data, size);
	if (!text)
		return 0;

	memset(&p, 0x5a, sizeof(p));
	before = p;
	r = profile_parse_string(text, "fuzzed", "fuzzed.conf", &p, &d);
	check_diags(&d);
	if (r == 0) {
		FUZZ_ASSERT(d.n_errors == 0);
		check_profile(&p);
		for (int v = 0; v < _PROFILE_VENDOR_MAX; v++)
			for (int o = 0; o < 3; o++) {
				static const enum hv_mode overrides[] = { HV_MODE_AUTO, HV_MODE_SHARED, HV_MODE_EXCLUSIVE };
				bool known = kernel_release_parse(text, &major, &minor) == 0;

				if (!known)
					major = (unsigned)size % 10, minor = (unsigned)size % 30;
				profile_choose_mode(&p, (enum profile_vendor)v, known, major, minor, overrides[o], &ch);
				FUZZ_ASSERT(ch.mode == HV_MODE_SHARED || ch.mode == HV_MODE_EXCLUSIVE);
				FUZZ_ASSERT(ch.reason[0] && terminated(ch.reason, sizeof(ch.reason)));
				if (overrides[o] != HV_MODE_AUTO)
					FUZZ_ASSERT(ch.mode == overrides[o]);
			}
		ps.n = 1;
		ps.p[0] = p;
		for (size_t i = 0; i < p.who.n; i++)
			FUZZ_ASSERT(profiles_match_who(&ps, p.who.items[i]) == &ps.p[0]);
		FUZZ_ASSERT(profiles_match_who(&ps, "fuzzed") == &ps.p[0]);
	} else {
		FUZZ_ASSERT(r == -EINVAL || r == -ENOMEM);
		FUZZ_ASSERT(r == -ENOMEM || d.n_errors > 0);
		FUZZ_ASSERT(memcmp(&p, &before, sizeof(p)) == 0);
	}
	config_diag_done(&d);

	/* Without diagnostics: the same verdict. */
	FUZZ_ASSERT(profile_parse_string(text, "fuzzed", "fuzzed.conf", &p, NULL) == r || r == -ENOMEM);
	free(text);
	return 0;
}
