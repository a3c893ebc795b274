/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-kvm-uevent.c: a uevent as the kernel sends it (KEY=VALUE words, NUL-separated: ACTION, DEVPATH, SUBSYSTEM, and the kvm misc device's CREATED/COUNT/EVENT/PID/STATS_PATH) through kvm_uevent_classify() and kvm_uevent_parse(). */
#include <errno.h>

#include "fuzz-common.h"
#include "kvm-events.h"

#define WORDS_MAX 64

/* The value of KEY= (the last one, as a property table keeps it), or NULL. */
static const char *prop(char **words, int n, const char *key)
{
	size_t k = strlen(key);
	const char *v = NULL;

	for (int i = 0; i < n; i++)
		if (strncmp(words[i], key, k) == 0 && words[i][k] == '=')
			v = words[i] + k + 1;
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *words[WORDS_MAX + 1], *buf, what[160];
	struct kvm_uevent_props p;
	enum kvm_event_source source;
	struct kvm_uevent u;
	const char *devpath;
	bool has_vm;
	int n;

	/* The kernel's uevent buffer is 2048 bytes. */
	if (size > 2048)
		return -1;
	n = fuzz_split(data, size, '\0', words, WORDS_MAX + 1, &buf);
	if (n < 0)
		return 0;

	devpath = prop(words, n, "DEVPATH");
	p = (struct kvm_uevent_props) {
		.subsystem = prop(words, n, "SUBSYSTEM"),
		/* sd-device's sysname: the last component of the path. */
		.sysname = devpath ? (strrchr(devpath, '/') ? strrchr(devpath, '/') + 1 : devpath) : NULL,
		.action = prop(words, n, "ACTION"),
		.event = prop(words, n, "EVENT"),
		.count = prop(words, n, "COUNT"),
		.pid = prop(words, n, "PID"),
	};
	memset(what, 0x5a, sizeof(what));
	if (kvm_uevent_classify(&p, what, sizeof(what), &source, &u, &has_vm)) {
		FUZZ_ASSERT(memchr(what, '\0', sizeof(what)));
		FUZZ_ASSERT(source <= KVM_EVENT_VIRTHW);
		FUZZ_ASSERT(!has_vm || source == KVM_EVENT_VM);
		if (has_vm) {
			FUZZ_ASSERT(u.kind <= KVM_UEVENT_DESTROY && u.pid >= 0);
			FUZZ_ASSERT(fuzz_printable(what));
		}
	} else
		FUZZ_ASSERT(!has_vm);

	/* The property parser on its own, which the classifier must agree with. */
	if (kvm_uevent_parse(p.event, p.count, p.pid, &u) == 0) {
		kvm_uevent_describe(&u, what, sizeof(what));
		FUZZ_ASSERT(fuzz_printable(what) && strncmp(what, "KVM VM ", 7) == 0);
	}
	(void)module_is_watched(p.sysname);
	free(buf);
	return 0;
}
