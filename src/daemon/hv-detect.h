/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hv-detect.h: which hypervisor profiles are present on this host (modules, version, device nodes) and in which lock mode. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "profiles.h"

struct hv_detected {
	const struct hv_profile *profile;
	bool loaded;				/* one of its modules is in the kernel */
	bool module_loaded[PROFILE_LIST_MAX];	/* per profile->modules entry */
	bool device_present[PROFILE_LIST_MAX];	/* per profile->devices entry */
	char version[64];			/* "" unknown */
	struct hv_mode_choice mode;
};

/* The CPU vendor from KVM's vendor module name ("kvm_intel", "kvm_amd"). */
enum profile_vendor vendor_from_module(const char *vendor_module);

/*
 * Fills OUT[0 .. ps->n - 1] from ROOT's /sys/module and /dev, the CPU VENDOR
 * and the kernel RELEASE (NULL: uname()'s); the modes with CFG's overrides.
 */
void hv_detect(const char *root, const struct hv_profiles *ps, const struct config *cfg, enum profile_vendor vendor,
	       const char *release, struct hv_detected *out);

/* The mode of P alone on this host: CFG's override, VENDOR, the kernel RELEASE (NULL: uname()'s). */
void hv_mode_of(const struct hv_profile *p, const struct config *cfg, enum profile_vendor vendor, const char *release,
		struct hv_mode_choice *ret);
