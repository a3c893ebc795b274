/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hv-detect.c: the profiles' hypervisors as this host shows them (sysfs, /dev), and the mode each gets. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "hv-detect.h"
#include "observe.h"

enum profile_vendor vendor_from_module(const char *vendor_module)
{
	if (!vendor_module)
		return PROFILE_VENDOR_ANY;
	if (strcmp(vendor_module, "kvm_intel") == 0)
		return PROFILE_VENDOR_INTEL;
	if (strcmp(vendor_module, "kvm_amd") == 0)
		return PROFILE_VENDOR_AMD;
	return PROFILE_VENDOR_ANY;
}

static void read_version(const char *root, const char *module, char *buf, size_t size)
{
	char path[512];
	FILE *f;

	buf[0] = '\0';
	if (!*module)
		return;
	snprintf(path, sizeof(path), "%s/sys/module/%s/version", root, module);
	f = fopen(path, "re");
	if (!f)
		return;
	if (!fgets(buf, (int)size, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	/* Shown in status and sent over D-Bus: printable ASCII only. */
	for (char *p = buf; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = '?';
}

void hv_detect(const char *root, const struct hv_profiles *ps, const struct config *cfg, enum profile_vendor vendor,
	       const char *release, struct hv_detected *out)
{
	struct utsname u;

	if (!release && uname(&u) == 0)
		release = u.release;
	for (size_t i = 0; i < ps->n; i++) {
		const struct hv_profile *p = &ps->p[i];
		struct hv_detected *d = &out[i];

		*d = (struct hv_detected) { .profile = p };
		for (size_t j = 0; j < p->modules.n; j++) {
			d->module_loaded[j] = module_sysfs_state(root, p->modules.items[j]) == MODULE_LOADED;
			d->loaded = d->loaded || d->module_loaded[j];
		}
		for (size_t j = 0; j < p->devices.n; j++) {
			char path[512];
			struct stat st;

			snprintf(path, sizeof(path), "%s%s", root, p->devices.items[j]);
			d->device_present[j] = stat(path, &st) == 0;
		}
		read_version(root, p->version_module, d->version, sizeof(d->version));
		hv_mode_of(p, cfg, vendor, release, &d->mode);
	}
}

void hv_mode_of(const struct hv_profile *p, const struct config *cfg, enum profile_vendor vendor, const char *release,
		struct hv_mode_choice *ret)
{
	struct utsname u;
	unsigned major = 0, minor = 0;
	bool known;

	if (!release && uname(&u) == 0)
		release = u.release;
	known = kernel_release_parse(release, &major, &minor) == 0;
	profile_choose_mode(p, vendor, known, major, minor, config_hv_mode(cfg, p->name), ret);
}

void hv_vm_match_fill(const struct hv_profiles *ps, const struct config *cfg, enum profile_vendor vendor,
		      const char *release, struct hv_vm_match *out)
{
	*out = (struct hv_vm_match) { .profiles = ps };
	for (size_t i = 0; ps && i < ps->n && i < PROFILES_MAX; i++) {
		struct hv_mode_choice ch;

		hv_mode_of(&ps->p[i], cfg, vendor, release, &ch);
		out->shared[i] = ch.mode == HV_MODE_SHARED;
	}
}
