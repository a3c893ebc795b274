/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* quote.h: outside text quoted back in an error message, safe for a terminal and a one-line reply. */
#pragma once

#include <stddef.h>

/*
 * Copies S into BUF (SIZE bytes, always terminated): printable ASCII as it
 * is, anything else (a newline, an escape sequence, a backslash) as \xNN,
 * and at most MAX characters of S, then "...".  Returns BUF.
 */
const char *text_quote(const char *s, size_t max, char *buf, size_t size);
