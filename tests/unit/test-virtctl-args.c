/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-virtctl-args.c: unit tests of virtctl's command-line parsing. */
#include <errno.h>

#include "lock-meta.h"
#include "tests.h"
#include "virtctl-args.h"

#define ARGV(...) ((char *[]){ __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(a, err, ...) hw_parse_args(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (a), (err), sizeof(err))

static void test_cpu_number(void)
{
	static const struct {
		const char *s;
		int r;
		uint32_t v;
	} cases[] = {
		{ "0", 0, 0 },
		{ "42", 0, 42 },
		{ "007", 0, 7 },
		{ "4294967295", 0, UINT32_MAX },
		{ "4294967296", -ERANGE, 0 },
		{ "99999999999999999999999", -ERANGE, 0 },
		{ "", -EINVAL, 0 },
		{ "abc", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "+1", -EINVAL, 0 },
		{ " 1", -EINVAL, 0 },
		{ "1a", -EINVAL, 0 },
		{ "0x10", -EINVAL, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t v = 12345;
		int r = parse_cpu_number(cases[i].s, &v);

		CHECK(r == cases[i].r && (r < 0 || v == cases[i].v), "parse_cpu_number(\"%s\") = %d (%u)",
		      cases[i].s, r, (unsigned)v);
	}
	CHECK(parse_cpu_number(NULL, &(uint32_t){0}) == -EINVAL, "parse_cpu_number(NULL)");
}

static void test_hw_args(void)
{
	struct hw_args a;
	char err[256];

	CHECK(PARSE(&a, err, "hw") == 0 && !a.json && !a.monitor && !a.has_cpu && !a.help, "hw: defaults");
	CHECK(PARSE(&a, err, "hw", "--json") == 0 && a.json, "hw --json");
	CHECK(PARSE(&a, err, "hw", "--cpu=3") == 0 && a.has_cpu && a.cpu == 3, "hw --cpu=3");
	CHECK(PARSE(&a, err, "hw", "--cpu", "5", "--json") == 0 && a.has_cpu && a.cpu == 5 && a.json,
	      "hw --cpu 5 --json");
	CHECK(PARSE(&a, err, "hw", "monitor") == 0 && a.monitor && !a.json, "hw monitor");
	CHECK(PARSE(&a, err, "hw", "monitor", "--json") == 0 && a.monitor && a.json, "hw monitor --json");
	CHECK(PARSE(&a, err, "hw", "--monitor") == 0 && a.monitor, "hw --monitor");
	CHECK(PARSE(&a, err, "hw", "--help") == 0 && a.help, "hw --help");
	CHECK(PARSE(&a, err, "hw", "-h") == 0 && a.help, "hw -h");

	CHECK(PARSE(&a, err, "hw", "--cpu=abc") == -EINVAL && strstr(err, "'abc'"), "hw --cpu=abc refused: %s", err);
	CHECK(PARSE(&a, err, "hw", "--cpu=-1") == -EINVAL, "hw --cpu=-1 refused: %s", err);
	CHECK(PARSE(&a, err, "hw", "--cpu") == -EINVAL && strstr(err, "needs a value"), "hw --cpu refused: %s", err);
	CHECK(PARSE(&a, err, "hw", "--bogus") == -EINVAL && strstr(err, "'--bogus'"), "hw --bogus refused: %s", err);
	CHECK(PARSE(&a, err, "hw", "-x") == -EINVAL && strstr(err, "'-x'"), "hw -x refused: %s", err);
	CHECK(PARSE(&a, err, "hw", "frob") == -EINVAL && strstr(err, "'frob'"), "hw frob refused: %s", err);
	CHECK(PARSE(&a, err, "hw", "--json=1") == -EINVAL && strstr(err, "takes no value"), "hw --json=1 refused: %s", err);

	/* getopt keeps state between calls; the parser must reset it. */
	CHECK(PARSE(&a, err, "hw", "--json") == 0 && a.json, "parsing again after an error");
}

#define PROBE(a, err, ...) probe_parse_args(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), 100000, (a), (err), sizeof(err))

static void test_probe_args(void)
{
	struct probe_args a;
	char err[256];

	CHECK(PROBE(&a, err, "probe") == 0 && !a.has_cpu && a.iterations == 0 && !a.json, "probe: defaults");
	CHECK(PROBE(&a, err, "probe", "--cpu=3", "--iterations=100000", "--json") == 0 && a.has_cpu && a.cpu == 3 &&
	      a.iterations == 100000 && a.json, "probe: every option");
	CHECK(PROBE(&a, err, "probe", "--cpu", "0", "--iterations", "1") == 0 && a.cpu == 0 && a.iterations == 1,
	      "probe: separate values");
	CHECK(PROBE(&a, err, "probe", "--iterations=100001") == -EINVAL && strstr(err, "from 1 to 100000"),
	      "probe: too many iterations (%s)", err);
	CHECK(PROBE(&a, err, "probe", "--iterations=0") == -EINVAL, "probe: zero iterations");
	CHECK(PROBE(&a, err, "probe", "--iterations=-1") == -EINVAL, "probe: negative iterations");
	CHECK(PROBE(&a, err, "probe", "--cpu=4294967295") == -EINVAL && strstr(err, "leave --cpu out"),
	      "probe: the bus's every-CPU number is refused");
	CHECK(PROBE(&a, err, "probe", "--cpu=4294967296") == -EINVAL, "probe: CPU out of range");
	CHECK(PROBE(&a, err, "probe", "--cpu") == -EINVAL && strstr(err, "needs a value"), "probe: --cpu needs a value");
	CHECK(PROBE(&a, err, "probe", "--json=yes") == -EINVAL && strstr(err, "takes no value"), "probe: --json=yes");
	CHECK(PROBE(&a, err, "probe", "extra") == -EINVAL && strstr(err, "unexpected argument 'extra'"),
	      "probe: stray argument");
	CHECK(PROBE(&a, err, "probe", "-h") == 0 && a.help, "probe: -h");
}

#define LOCK(a, err, ...) lock_parse_args(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (a), (err), sizeof(err))

static void test_lock_args(void)
{
	struct lock_args a;
	char err[256];

	CHECK(LOCK(&a, err, "lock", "--who=vbox", "--why=win11", "--wait=1.5", "--", "VBoxHeadless", "-s") == 0 &&
	      strcmp(a.who, "vbox") == 0 && strcmp(a.why, "win11") == 0 && a.flags == LOCK_FLAG_WAIT &&
	      a.timeout == 1500000 && a.command && strcmp(a.command[0], "VBoxHeadless") == 0 &&
	      strcmp(a.command[1], "-s") == 0, "lock: every option, then the command with its own options");
	CHECK(LOCK(&a, err, "lock", "--wait", "vmware", "--who=x") == 0 && a.flags == LOCK_FLAG_WAIT &&
	      a.timeout == 0 && !a.who && strcmp(a.command[0], "vmware") == 0 && strcmp(a.command[1], "--who=x") == 0,
	      "lock: --wait for ever; options after the command are the command's");
	CHECK(LOCK(&a, err, "lock", "--who=x") == 0 && !a.command, "lock: no command is for the caller to refuse");
	CHECK(LOCK(&a, err, "lock", "-h") == 0 && a.help, "lock: -h");
	CHECK(LOCK(&a, err, "lock", "--wait=5m", "--", "true") == -EINVAL && strstr(err, "invalid --wait value '5m'"),
	      "lock: bad --wait: %s", err);
	CHECK(LOCK(&a, err, "lock", "--who") == -EINVAL && strstr(err, "needs a value"), "lock: --who without value: %s",
	      err);
	CHECK(LOCK(&a, err, "lock", "--force", "--", "true") == -EINVAL && strstr(err, "unknown option '--force'"),
	      "lock: unknown option: %s", err);
}

int main(void)
{
	test_cpu_number();
	test_hw_args();
	test_probe_args();
	test_lock_args();
	return tests_finish();
}
