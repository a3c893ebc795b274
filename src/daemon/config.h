/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config.h: /etc/virtd.conf — the settings, their parser and its diagnostics. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_PATH "/etc/virtd.conf"

/* [Metrics] File=: room for the longest path (a line holds at most 199 bytes, see config.c's reader()). */
#define CONFIG_METRICS_FILE_MAX 256

/* The order is the order of the accepted values in messages and docs. */
enum virt_policy {
	VIRT_POLICY_BOOT,
	VIRT_POLICY_FIRST_VM,
	VIRT_POLICY_NEVER,
	_VIRT_POLICY_MAX,
};

enum timer_mode {
	TIMER_MODE_AUTO,
	TIMER_MODE_ON,
	TIMER_MODE_OFF,
	_TIMER_MODE_MAX,
};

/* A hypervisor's lock mode ([Hypervisor] Mode.NAME=, profiles.h). */
enum hv_mode {
	HV_MODE_AUTO,		/* as the profile's rules say */
	HV_MODE_SHARED,		/* it runs inside KVM's VMX root: KVM stays */
	HV_MODE_EXCLUSIVE,	/* it turns VMX/SVM on itself: KVM must let go of every CPU */
	_HV_MODE_MAX,
};

#define CONFIG_HV_MODES_MAX 16
#define CONFIG_HV_NAME_MAX 31

/*
 * Plain values only, no pointers: a parsed configuration is installed with a
 * struct copy, so the live one is never seen half-updated.
 */
struct config {
	enum virt_policy policy;
	enum timer_mode timer_mode;
	uint64_t timer_min_max_delay_ns;
	/* [Metrics] File=: an absolute path, "" when metrics are off (the default). */
	char metrics_file[CONFIG_METRICS_FILE_MAX];
	/* [Hypervisor] Mode.NAME=: forced modes, by profile name. */
	struct {
		char name[CONFIG_HV_NAME_MAX + 1];
		enum hv_mode mode;
	} hv_modes[CONFIG_HV_MODES_MAX];
	size_t n_hv_modes;
	/* [Hypervisor] HandOff=: take the lock for a process that opens a profile's device (handoff.h). */
	bool handoff;
	/* [Hypervisor] HandOffTimeout=: how long such an open may wait for KVM to let go before it is denied. */
	uint64_t handoff_timeout_ns;
};

/* The mode forced for profile NAME, HV_MODE_AUTO when none is. */
enum hv_mode config_hv_mode(const struct config *c, const char *name);

/*
 * first-vm is KVM's own on-demand behaviour on every kernel before 6.12 and
 * with kvm.enable_virt_at_load=0 after it: KVM users keep /dev/kvm and lose
 * nothing but the enabling latency on the 0→1 VM edge, while other
 * hypervisors work again whenever no KVM VM runs — the breakage virtd exists
 * to end.  boot would keep 6.12's default but leave that breakage in place;
 * never would take KVM away from hosts that use it.
 */
#define CONFIG_DEFAULT_POLICY VIRT_POLICY_FIRST_VM
#define CONFIG_DEFAULT_TIMER_MODE TIMER_MODE_AUTO
/* KVM's own hard-coded threshold for trusting the soft-disabled timer. */
#define CONFIG_DEFAULT_MIN_MAX_DELAY_NS (10ULL * 1000 * 1000 * 1000)
/* The longest MinMaxDelay= accepted: virthw's limit (VIRTHW_MIN_MAX_DELAY_MAX_NS). */
#define CONFIG_MIN_MAX_DELAY_MAX_NS (3600ULL * 1000 * 1000 * 1000)
/* The opener blocks in open(2) meanwhile: long enough to unload KVM on a loaded host, short enough to wait for. */
#define CONFIG_DEFAULT_HANDOFF_TIMEOUT_NS (10ULL * 1000 * 1000 * 1000)
/* The longest HandOffTimeout= accepted: a process stuck in open(2) for longer looks hung. */
#define CONFIG_HANDOFF_TIMEOUT_MAX_NS (600ULL * 1000 * 1000 * 1000)

enum config_severity {
	CONFIG_WARNING,
	CONFIG_ERROR,
};

struct config_diag_entry {
	enum config_severity severity;
	char *file;
	unsigned line;		/* 0: about the whole file */
	char *message;		/* complete, "FILE:LINE: text", printable ASCII */
};

/*
 * Diagnostics of one or more parses, appended in line order.  Zero-initialise
 * (CONFIG_DIAG_INIT), free with config_diag_done().  Entries beyond
 * CONFIG_DIAG_MAX are counted in n_suppressed rather than stored, so a
 * garbage file cannot make the daemon (or a D-Bus reply) grow without bound.
 */
#define CONFIG_DIAG_MAX 32
struct config_diag {
	struct config_diag_entry *entries;
	size_t n_entries;
	size_t n_errors;
	size_t n_warnings;
	size_t n_suppressed;
};
#define CONFIG_DIAG_INIT ((struct config_diag) {})

void config_diag_done(struct config_diag *d);
/* Appends "FILE:LINE: text" (LINE 0: "FILE: text"); -ENOMEM.  For the other ini files (profiles.h). */
int config_diag_add(struct config_diag *d, enum config_severity sev, const char *file, unsigned line, const char *fmt,
		    ...) __attribute__((format(printf, 5, 6)));

void config_init_defaults(struct config *c);

/*
 * Parse TEXT as the contents of FILENAME (used only in messages).  On success
 * (0; warnings may have been recorded) *out is replaced as a whole.  On any
 * error *out is left untouched and -EINVAL (bad contents) or -ENOMEM is
 * returned.  DIAGS may be NULL.
 */
int config_parse_string(const char *text, const char *filename, struct config *out, struct config_diag *diags);

/*
 * Read and parse PATH.  A missing file means all defaults (returns 0).  Other
 * read failures return their negative errno with an error entry in DIAGS; a
 * file larger than CONFIG_FILE_MAX is -EFBIG.  *out as for
 * config_parse_string().
 */
#define CONFIG_FILE_MAX (1024 * 1024)
int config_load(const char *path, struct config *out, struct config_diag *diags);

const char *virt_policy_to_string(enum virt_policy p);
int virt_policy_from_string(const char *s);	/* enum value or -EINVAL */
const char *timer_mode_to_string(enum timer_mode m);
int timer_mode_from_string(const char *s);
const char *hv_mode_to_string(enum hv_mode m);
int hv_mode_from_string(const char *s);

/*
 * "10s", "500ms", "250us", "2min", "10" (seconds); whitespace allowed between
 * number and unit; whole numbers only.  -EINVAL for bad syntax or unit,
 * -ERANGE when the result does not fit in 64-bit nanoseconds.
 */
int config_parse_duration(const char *s, uint64_t *ret_ns);
