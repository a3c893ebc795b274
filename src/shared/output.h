/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* output.h: aligned tables, Key: value blocks, JSON strings and human units. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "macro.h"

#define ANSI_GREEN "\x1b[0;32m"
#define ANSI_RED "\x1b[0;31m"
#define ANSI_YELLOW "\x1b[0;33m"
#define ANSI_BOLD "\x1b[1m"
#define ANSI_NORMAL "\x1b[0m"

/* Colour only for a person at a terminal that wants it (no-color.org). */
bool colors_enabled(void);

/*
 * A table of text cells printed with every column padded to its widest cell,
 * two spaces apart, the header in bold when colour is on.  Cells are copied.
 * A cell may carry an ANSI colour; padding is computed from the plain text so
 * colour never shifts the columns.
 */
typedef struct table table;

table *table_new(size_t n_columns, const char *const *headers);
table *table_free(table *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(table *, table_free);
/* Appends a row of n_columns cells; colors may be NULL, or hold NULLs. */
int table_add_row(table *t, const char *const *cells, const char *const *colors);
int table_print(const table *t, FILE *f, bool color);

/* "Key: value" with the keys right-aligned to width, as timedatectl does. */
void print_key_value(FILE *f, int width, const char *key, const char *value);

/*
 * Formats a duration given in ns with three decimals in the largest unit that
 * keeps the value >= 1: "42.950 s", "1.500 ms", "2.000 us", "999 ns".
 * Returns buf.
 */
char *format_duration_ns(char *buf, size_t size, uint64_t ns);
#define DURATION_MAX 32

/*
 * A text written with stdio into memory: memtext_open() gives the stream in
 * t->f (-ENOMEM when it cannot); memtext_close() closes it and hands the
 * text over in *ret (the caller frees it), or frees it and returns -ENOMEM
 * when writing it failed.
 */
struct memtext {
	FILE *f;
	char *buf;
	size_t len;
};

int memtext_open(struct memtext *t);
int memtext_close(struct memtext *t, char **ret);
