/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* output.c: aligned tables, Key: value blocks, JSON strings and human units. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output.h"

bool colors_enabled(void)
{
	const char *term;

	if (getenv("NO_COLOR"))
		return false;
	term = getenv("TERM");
	if (term && strcmp(term, "dumb") == 0)
		return false;
	return isatty(STDOUT_FILENO) == 1;
}

struct table {
	size_t n_columns;
	size_t n_rows;          /* including the header row */
	char **cells;           /* n_rows * n_columns */
	const char **colors;    /* static strings, may be NULL */
};

static int table_append(table *t, const char *const *cells, const char *const *colors)
{
	char **nc;
	const char **ncol;
	size_t base = t->n_rows * t->n_columns;

	nc = realloc(t->cells, (base + t->n_columns) * sizeof(char *));
	if (!nc)
		return -ENOMEM;
	t->cells = nc;
	ncol = realloc(t->colors, (base + t->n_columns) * sizeof(char *));
	if (!ncol)
		return -ENOMEM;
	t->colors = ncol;

	for (size_t i = 0; i < t->n_columns; i++) {
		t->cells[base + i] = strdup(cells[i] ? cells[i] : "");
		t->colors[base + i] = colors ? colors[i] : NULL;
		if (!t->cells[base + i]) {
			for (size_t j = 0; j < i; j++)
				free(t->cells[base + j]);
			return -ENOMEM;
		}
	}
	t->n_rows++;
	return 0;
}

table *table_new(size_t n_columns, const char *const *headers)
{
	table *t;

	if (n_columns == 0)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->n_columns = n_columns;
	if (table_append(t, headers, NULL) < 0)
		return table_free(t);
	return t;
}

table *table_free(table *t)
{
	if (!t)
		return NULL;
	for (size_t i = 0; i < t->n_rows * t->n_columns; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->colors);
	free(t);
	return NULL;
}

int table_add_row(table *t, const char *const *cells, const char *const *colors)
{
	return table_append(t, cells, colors);
}

int table_print(const table *t, FILE *f, bool color)
{
	_cleanup_free_ size_t *width = calloc(t->n_columns, sizeof(size_t));

	if (!width)
		return -ENOMEM;
	for (size_t r = 0; r < t->n_rows; r++)
		for (size_t c = 0; c < t->n_columns; c++) {
			size_t l = strlen(t->cells[r * t->n_columns + c]);

			if (l > width[c])
				width[c] = l;
		}

	for (size_t r = 0; r < t->n_rows; r++) {
		for (size_t c = 0; c < t->n_columns; c++) {
			const char *cell = t->cells[r * t->n_columns + c];
			const char *ansi = r == 0 ? ANSI_BOLD : t->colors[r * t->n_columns + c];
			bool last = c + 1 == t->n_columns;

			if (color && ansi)
				fprintf(f, "%s%s%s", ansi, cell, ANSI_NORMAL);
			else
				fputs(cell, f);
			/* No trailing blanks: they upset diff and grep $. */
			if (!last)
				fprintf(f, "%*s", (int)(width[c] - strlen(cell) + 2), "");
		}
		fputc('\n', f);
	}
	return ferror(f) ? -EIO : 0;
}

void print_key_value(FILE *f, int width, const char *key, const char *value)
{
	fprintf(f, "%*s: %s\n", width, key, value);
}

char *format_duration_ns(char *buf, size_t size, uint64_t ns)
{
	static const struct {
		uint64_t div;
		const char *unit;
	} units[] = {
		{ 1000000000, "s" },
		{ 1000000, "ms" },
		{ 1000, "us" },
	};

	for (size_t i = 0; i < ELEMENTSOF(units); i++) {
		uint64_t milli_div = units[i].div / 1000, v;

		/* Round to the nearest thousandth of the unit; pick the unit by
		 * the rounded value so 999999999 ns reads "1.000 s". */
		if (ns > UINT64_MAX - milli_div / 2)
			v = ns / milli_div;
		else
			v = (ns + milli_div / 2) / milli_div;
		if (v >= 1000) {
			snprintf(buf, size, "%" PRIu64 ".%03" PRIu64 " %s", v / 1000, v % 1000, units[i].unit);
			return buf;
		}
	}
	snprintf(buf, size, "%" PRIu64 " ns", ns);
	return buf;
}

int memtext_open(struct memtext *t)
{
	t->buf = NULL;
	t->len = 0;
	t->f = open_memstream(&t->buf, &t->len);
	return t->f ? 0 : -ENOMEM;
}

int memtext_close(struct memtext *t, char **ret)
{
	if (fclose(t->f) != 0 || !t->buf) {
		free(t->buf);
		return -ENOMEM;
	}
	*ret = t->buf;
	return 0;
}
