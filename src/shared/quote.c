/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* quote.c: see quote.h. */

#include <stdio.h>

#include "quote.h"

const char *text_quote(const char *s, size_t max, char *buf, size_t size)
{
	size_t o = 0, shown = 0;

	if (size == 0)
		return buf;
	/* An escape is 4 bytes and "..." 3: keep room for either and the NUL. */
	for (; *s && o + 8 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (shown++ == max) {
			o += (size_t)snprintf(buf + o, size - o, "...");
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
	}
	buf[o] = '\0';
	return buf;
}
