/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* probe-print.h: the human view of virtctl probe's result document (pure: JSON in, text out). */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "json-util.h"

/*
 * Prints one table row per CPU: (a) round trip, (b) toggled round trip,
 * (b)/(a), (c) immediate exit and its method, (d) the timer's programmed,
 * expected and elapsed counts with the error in %, spurious timer exits and
 * interrupted iterations.  Medians in TSC cycles, with ns where the TSC rate
 * is known.  Missing figures read "-".  Returns 0, -EINVAL when the document
 * has no "cpus" array, -ENOMEM, -EIO.
 */
int probe_print(FILE *f, const json_object *doc, bool color);
