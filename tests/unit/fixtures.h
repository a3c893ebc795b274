/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fixtures.h: inputs more than one unit test program builds its documents from (fixtures.c). */
#pragma once

#include "hw-parse.h"

/*
 * One VMX CPU's PROBE reply with every part present: round trip, toggle,
 * immediate exit (timer zero), a programmed timer and its error, spurious
 * exits, an interruption.  At 100 MHz, so every median converts to whole ns.
 */
extern const struct virthw_probe fixture_probe_vmx;
