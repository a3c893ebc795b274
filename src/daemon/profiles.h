/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * profiles.h: hypervisor profiles — what marks a foreign hypervisor on this
 * host (modules, device nodes, lock names) and which lock mode it needs on
 * which CPU vendor and kernel — read from ini files, and the mode choice
 * (pure).  No hypervisor is named in code: everything vendor-specific is in
 * conf/profiles/.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* The administrator's profiles; the package's are in VIRTD_PROFILES_DIR (configure: $(pkgdatadir)/profiles). */
#define PROFILES_ETC_DIR "/etc/virtd/profiles"

#define PROFILE_NAME_MAX 31
#define PROFILE_LIST_MAX 8		/* modules, devices, processes, lock names, programs per profile */
#define PROFILE_ITEM_MAX 63
#define PROFILE_RULES_MAX 8
#define PROFILE_REASON_MAX 255
#define PROFILES_MAX 16

/* The vendors a rule can name: what virthw reports (VMX, SVM). */
enum profile_vendor {
	PROFILE_VENDOR_ANY,
	PROFILE_VENDOR_INTEL,
	PROFILE_VENDOR_AMD,
	_PROFILE_VENDOR_MAX,
};

enum profile_kernel_cmp {
	PROFILE_KERNEL_ANY,
	PROFILE_KERNEL_AT_LEAST,	/* >=X.Y */
	PROFILE_KERNEL_BELOW,		/* <X.Y */
};

struct profile_rule {
	enum profile_vendor vendor;
	enum profile_kernel_cmp cmp;
	unsigned major, minor;
	enum hv_mode mode;		/* HV_MODE_SHARED or HV_MODE_EXCLUSIVE */
	char reason[PROFILE_REASON_MAX + 1];
	unsigned line;
};

struct profile_list {
	char items[PROFILE_LIST_MAX][PROFILE_ITEM_MAX + 1];
	size_t n;
};

struct hv_profile {
	char name[PROFILE_NAME_MAX + 1];	/* the file's name without .conf */
	char file[256];				/* where it was read from, for messages */
	char description[PROFILE_ITEM_MAX + 1];
	struct profile_list modules;		/* any of them loaded: the hypervisor is loaded */
	char version_module[PROFILE_ITEM_MAX + 1];	/* /sys/module/NAME/version; "" none */
	struct profile_list devices;
	/* The programs whose execution takes the lock for the process (hand-off, handoff.h): absolute paths. */
	struct profile_list handoff_programs;
	struct profile_list processes;		/* comm names of its processes */
	struct profile_list who;		/* lock --who= names that are this hypervisor's ("*": any unmatched) */
	struct profile_rule rules[PROFILE_RULES_MAX];
	size_t n_rules;
	unsigned who_line;			/* Who='s line, for messages; 0 none */
	char replaces[256];			/* the earlier directory's file of this name it replaces; "" none */
};

/* A profile file that was not used, and why: its first error ("FILE:LINE: text"). */
#define PROFILE_ERROR_MAX 511
struct hv_profile_error {
	char name[PROFILE_NAME_MAX + 1];
	char message[PROFILE_ERROR_MAX + 1];
};

/* Plain values, installed with a struct copy like struct config. */
struct hv_profiles {
	struct hv_profile p[PROFILES_MAX];
	size_t n;
	struct hv_profile_error errors[PROFILES_MAX];
	size_t n_errors;			/* errors beyond PROFILES_MAX are in the diagnostics only */
};

/* Parses TEXT as the profile NAME read from FILENAME; diagnostics as config_parse_string(). 0, -EINVAL, -ENOMEM. */
int profile_parse_string(const char *text, const char *name, const char *filename, struct hv_profile *out,
			 struct config_diag *diags);

/*
 * Reads every NAME.conf of DIRS[0 .. n - 1] in order; a later directory's
 * file replaces an earlier one of the same name, compared case-insensitively
 * (/etc over the package's).  Missing directories are skipped.  A file with
 * errors is not used and neither is the earlier file it would replace (the
 * administrator's intent is unknown): it is listed in out->errors with its
 * first error, every error is in DIAGS, and the other profiles load.  So is
 * a profile whose Who= claims a name another profile already has.  Returns 0
 * (errors or not), -ENOMEM; *out is untouched on -ENOMEM.
 */
int profiles_load(const char *const *dirs, size_t n_dirs, struct hv_profiles *out, struct config_diag *diags);

/* The profile a lock's WHO belongs to: a name or who= entry (case-insensitive), else a "*" profile, else NULL. */
const struct hv_profile *profiles_match_who(const struct hv_profiles *ps, const char *who);

/* "6.16.3-amd64" -> 6, 16; -EINVAL when it does not start with MAJOR.MINOR. */
int kernel_release_parse(const char *release, unsigned *ret_major, unsigned *ret_minor);

/* The mode, and why, for P on VENDOR with kernel MAJOR.MINOR, with the configuration's override (HV_MODE_AUTO: none). */
struct hv_mode_choice {
	enum hv_mode mode;
	char reason[PROFILE_REASON_MAX + 64];
};
void profile_choose_mode(const struct hv_profile *p, enum profile_vendor vendor, bool kernel_known, unsigned major,
			 unsigned minor, enum hv_mode override, struct hv_mode_choice *ret);

const char *profile_vendor_to_string(enum profile_vendor v);
