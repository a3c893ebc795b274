/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kvm-events.c: uevents that can change KVM's state (VM create/destroy on the kvm misc device, module add/remove), via sd-device. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-device.h>

#include "kvm-events.h"
#include "log.h"

struct kvm_events {
	sd_device_monitor *monitor;
	kvm_events_fn cb;
	void *userdata;
};

static int parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

int kvm_uevent_parse(const char *event, const char *count, const char *pid, struct kvm_uevent *ret)
{
	struct kvm_uevent u = {};
	unsigned long v;

	if (event && strcmp(event, "create") == 0)
		u.kind = KVM_UEVENT_CREATE;
	else if (event && strcmp(event, "destroy") == 0)
		u.kind = KVM_UEVENT_DESTROY;
	if (count) {
		if (parse_uint(count, UINT_MAX, &v) < 0)
			return -EINVAL;
		u.has_count = true;
		u.count = (unsigned)v;
	}
	if (pid) {
		if (parse_uint(pid, INT_MAX, &v) < 0)
			return -EINVAL;
		u.pid = (pid_t)v;
	}
	*ret = u;
	return 0;
}

void kvm_uevent_describe(const struct kvm_uevent *u, char *buf, size_t size)
{
	const char *verb = u->kind == KVM_UEVENT_CREATE ? "created" : u->kind == KVM_UEVENT_DESTROY ? "destroyed" : "changed";
	char who[40] = "", now[32] = "";

	/* KVM's PID is the creator's, also on destroy. */
	if (u->pid > 0)
		snprintf(who, sizeof(who), u->kind == KVM_UEVENT_CREATE ? " by PID %d" : " (created by PID %d)", (int)u->pid);
	if (u->has_count)
		snprintf(now, sizeof(now), ", %u VM%s now", u->count, u->count == 1 ? "" : "s");
	snprintf(buf, size, "KVM VM %s%s%s", verb, who, now);
}

bool module_is_watched(const char *name)
{
	static const char *const names[] = { "kvm", "kvm_intel", "kvm_amd", "virthw" };

	if (!name)
		return false;
	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

bool kvm_uevent_classify(const struct kvm_uevent_props *p, char *what, size_t size, enum kvm_event_source *ret_source,
			 struct kvm_uevent *ret_vm, bool *ret_has_vm)
{
	const char *action = p->action;

	*ret_has_vm = false;
	if (!p->subsystem || !p->sysname)
		return false;

	if (strcmp(p->subsystem, "misc") == 0 && strcmp(p->sysname, "kvm") == 0) {
		if (action && strcmp(action, "change") != 0) {
			snprintf(what, size, "/dev/kvm %s", strcmp(action, "add") == 0 ? "appeared" :
				 strcmp(action, "remove") == 0 ? "went away" : action);
			*ret_source = KVM_EVENT_DEV;
			return true;
		}
		*ret_source = KVM_EVENT_VM;
		if (kvm_uevent_parse(p->event, p->count, p->pid, ret_vm) < 0) {
			snprintf(what, size, "KVM uevent with malformed properties (EVENT=%s COUNT=%s PID=%s)",
				 p->event ?: "", p->count ?: "", p->pid ?: "");
			return true;
		}
		kvm_uevent_describe(ret_vm, what, size);
		*ret_has_vm = true;
		return true;
	}
	if (strcmp(p->subsystem, "module") == 0 && module_is_watched(p->sysname)) {
		snprintf(what, size, "module %s %s", p->sysname,
			 !action ? "changed" : strcmp(action, "add") == 0 ? "loaded" :
			 strcmp(action, "remove") == 0 ? "unloaded" : action);
		*ret_source = strcmp(p->sysname, "virthw") == 0 ? KVM_EVENT_VIRTHW : KVM_EVENT_MODULE;
		return true;
	}
	return false;
}

static int on_device(sd_device_monitor *mon, sd_device *d, void *userdata)
{
	kvm_events *k = userdata;
	struct kvm_uevent_props p = {};
	enum kvm_event_source source;
	struct kvm_uevent u;
	bool has_vm;
	char what[160];

	(void)mon;
	(void)sd_device_get_subsystem(d, &p.subsystem);
	(void)sd_device_get_sysname(d, &p.sysname);
	(void)sd_device_get_property_value(d, "ACTION", &p.action);
	(void)sd_device_get_property_value(d, "EVENT", &p.event);
	(void)sd_device_get_property_value(d, "COUNT", &p.count);
	(void)sd_device_get_property_value(d, "PID", &p.pid);
	if (kvm_uevent_classify(&p, what, sizeof(what), &source, &u, &has_vm))
		k->cb(what, source, has_vm ? &u : NULL, k->userdata);
	return 0;
}

int kvm_events_new(sd_event *e, kvm_events_fn cb, void *userdata, kvm_events **ret)
{
	kvm_events *k;
	int r;

	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->cb = cb;
	k->userdata = userdata;

	/*
	 * The udev monitor group: events arrive after udev has processed them,
	 * so /dev/kvm exists (or is gone) by then.  It needs systemd-udevd.
	 */
	r = sd_device_monitor_new(&k->monitor);
	if (r < 0) {
		log_error_errno(r, "Failed to create the uevent monitor: %m");
		goto fail;
	}
	r = sd_device_monitor_filter_add_match_subsystem_devtype(k->monitor, "misc", NULL);
	if (r >= 0)
		r = sd_device_monitor_filter_add_match_subsystem_devtype(k->monitor, "module", NULL);
	if (r < 0) {
		log_error_errno(r, "Failed to set the uevent filter: %m");
		goto fail;
	}
	r = sd_device_monitor_attach_event(k->monitor, e);
	if (r < 0) {
		log_error_errno(r, "Failed to attach the uevent monitor to the event loop: %m");
		goto fail;
	}
	r = sd_device_monitor_start(k->monitor, on_device, k);
	if (r < 0) {
		log_error_errno(r, "Failed to start the uevent monitor: %m");
		goto fail;
	}
	*ret = k;
	return 0;
fail:
	kvm_events_free(k);
	return r;
}

kvm_events *kvm_events_free(kvm_events *k)
{
	if (!k)
		return NULL;
	sd_device_monitor_unref(k->monitor);
	free(k);
	return NULL;
}
