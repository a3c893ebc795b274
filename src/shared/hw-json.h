/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hw-json.h: virthw's capabilities and CPU states as JSON (json-c), shared by "virtctl hw --json" and virtd's GetStatus. */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include "hw-parse.h"
#include "json-util.h"

/* One object (a new reference; NULL only on allocation failure, reported by
 * jv_to_text()); absent (non-VMX or unreadable) values are null.  Keys are
 * part of the CLI's interface. */
json_object *hw_caps_to_json(const struct virthw_caps *c);
/* "virtctl hw --json": {"caps":{...},"cpus":[{cpu, online, feature, firmware_enabled, virt_on, fw_msr}]} and a newline. */
int hw_doc_print_json(FILE *f, const struct virthw_caps *caps, const struct virthw_cpu_state *cpus, size_t n);
/* "virtctl hw monitor --json": one line per event, {"event":...,"cpu":{as in the cpus above}}. */
int hw_event_print_json(FILE *f, const struct virthw_event_msg *e);
