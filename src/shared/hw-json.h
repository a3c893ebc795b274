/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hw-json.h: virthw's capabilities as JSON, shared by "virtctl hw --json" and virtd's GetStatus. */
#pragma once

#include <stdio.h>

#include "hw-parse.h"

/* One object; absent (non-VMX or unreadable) values are null.  Keys are part of the CLI's interface. */
void hw_caps_print_json(FILE *f, const struct virthw_caps *c);
