/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dropin.h: the text of virtd's runtime modprobe drop-in, rendered and parsed (pure). */
#pragma once

#include <stddef.h>

#include "policy.h"

#define DROPIN_DIR "/run/modprobe.d"
#define DROPIN_PATH DROPIN_DIR "/virtd.conf"

/*
 * The whole file for D, as modprobe.d(5) reads it.  POLICY_NAME only goes
 * into the comment.  Returns a malloc'd string, or NULL on out of memory.
 */
char *dropin_render(const struct policy_dropin *d, const char *policy_name);

/*
 * What TEXT says, in the terms of struct policy_dropin: exists is set, an
 * "options kvm" line with enable_virt_at_load gives its value (the last such
 * line wins, as for modprobe), so does an "options kvm_intel" line with
 * preemption_timer, an "install" line for kvm_intel or kvm_amd
 * means the vendor module is blocked.  Lines virtd does not write are
 * ignored: the file is virtd's, and a level-triggered rewrite replaces it.
 */
void dropin_parse(const char *text, struct policy_dropin *ret);

/* Parses a kernel boolean parameter as sysfs shows it ("Y", "N", "1", "0"); -EINVAL otherwise. */
int parse_kernel_bool(const char *s);
