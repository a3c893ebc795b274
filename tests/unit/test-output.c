/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-output.c: unit tests of tables, Key: value lines and durations. */
#include <stdlib.h>

#include "output.h"
#include "tests.h"

static char *capture_table(const table *t, bool color)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return NULL;
	if (table_print(t, f, color) < 0) {
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	return buf;
}

static void test_table(void)
{
	static const char *const headers[] = { "CPU", "ONLINE", "ON" };
	static const char *const row1[] = { "0", "yes", "no" };
	static const char *const row2[] = { "10", "no", "yes" };
	static const char *const row3[] = { "2", NULL, "-" };
	static const char *const colors[] = { NULL, ANSI_RED, NULL };
	_cleanup_(table_freep) table *t = table_new(3, headers);
	char *out;

	CHECK(t, "table_new");
	if (!t)
		return;
	CHECK(table_add_row(t, row1, NULL) == 0, "add row 1");
	CHECK(table_add_row(t, row2, colors) == 0, "add row 2 with a colour");
	CHECK(table_add_row(t, row3, NULL) == 0, "add row with a NULL cell");

	out = capture_table(t, false);
	CHECK_STR(out, "CPU  ONLINE  ON\n"
		       "0    yes     no\n"
		       "10   no      yes\n"
		       "2            -\n",
		  "columns padded to the widest cell, no trailing blanks");
	free(out);

	out = capture_table(t, true);
	CHECK_STR(out, ANSI_BOLD "CPU" ANSI_NORMAL "  " ANSI_BOLD "ONLINE" ANSI_NORMAL "  " ANSI_BOLD "ON" ANSI_NORMAL "\n"
		       "0    yes     no\n"
		       "10   " ANSI_RED "no" ANSI_NORMAL "      yes\n"
		       "2            -\n",
		  "colour codes do not shift the columns");
	free(out);

	CHECK(table_new(0, NULL) == NULL, "a table needs a column");
}

static void test_key_value(void)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	print_key_value(f, 9, "Feature", "SVM");
	print_key_value(f, 9, "Max delay", "42.950 s");
	fclose(f);
	CHECK_STR(buf, "  Feature: SVM\nMax delay: 42.950 s\n", "keys right-aligned");
	free(buf);
}

static void test_duration_one(uint64_t ns, const char *want)
{
	char buf[DURATION_MAX];

	CHECK_STR(format_duration_ns(buf, sizeof(buf), ns), want, "format_duration_ns(%llu)", (unsigned long long)ns);
}

static void test_duration(void)
{
	test_duration_one(0, "0 ns");
	test_duration_one(999, "999 ns");
	test_duration_one(1000, "1.000 us");
	test_duration_one(1500000, "1.500 ms");
	test_duration_one(999999, "1.000 ms");
	test_duration_one(999999999, "1.000 s");
	test_duration_one(10000000000ULL, "10.000 s");
	/* 2^32 ticks at 100 MHz, Bochs' timer: the example in the design. */
	test_duration_one(42949672960ULL, "42.950 s");
	test_duration_one(UINT64_MAX, "18446744073.709 s");
}

static void test_colors(void)
{
	setenv("NO_COLOR", "1", 1);
	CHECK(!colors_enabled(), "NO_COLOR turns colour off");
	unsetenv("NO_COLOR");
}

int main(void)
{
	test_table();
	test_key_value();
	test_duration();
	test_colors();
	return tests_finish();
}
