/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hw-json.h: virthw's capabilities and CPU states as JSON, shared by "virtctl hw --json" and virtd's GetStatus. */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include "hw-parse.h"

/* One object; absent (non-VMX or unreadable) values are null.  Keys are part of the CLI's interface. */
void hw_caps_print_json(FILE *f, const struct virthw_caps *c);
/* "virtctl hw --json": {"caps":{...},"cpus":[{cpu, online, feature, firmware_enabled, virt_on, fw_msr}]} and a newline. */
void hw_doc_print_json(FILE *f, const struct virthw_caps *caps, const struct virthw_cpu_state *cpus, size_t n);
/* "virtctl hw monitor --json": one line per event, {"event":...,"cpu":{as in the cpus above}}. */
void hw_event_print_json(FILE *f, const struct virthw_event_msg *e);
