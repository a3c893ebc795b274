/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kvm-events.h: uevents that can change KVM's state (VM create/destroy on the kvm misc device, module add/remove), via sd-device. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "macro.h"

enum kvm_uevent_kind {
	KVM_UEVENT_OTHER,
	KVM_UEVENT_CREATE,
	KVM_UEVENT_DESTROY,
};

/* What KVM puts in its change uevents (EVENT=, COUNT=, PID=). */
struct kvm_uevent {
	enum kvm_uevent_kind kind;
	bool has_count;
	unsigned count;		/* VMs alive after the event, as KVM counts them */
	pid_t pid;		/* creator of the VM; 0 when absent */
};

/* Parses the property values (each may be NULL).  -EINVAL for a malformed number (pure). */
int kvm_uevent_parse(const char *event, const char *count, const char *pid, struct kvm_uevent *ret);
/* "KVM VM created by PID 812 (1 VM now)" (pure). */
void kvm_uevent_describe(const struct kvm_uevent *u, char *buf, size_t size);
/* Whether a module uevent concerns virtd: kvm, kvm_intel, kvm_amd, virthw (pure). */
bool module_is_watched(const char *name);

typedef struct kvm_events kvm_events;

enum kvm_event_source {
	KVM_EVENT_VM,		/* KVM's change uevent: a VM was created or destroyed */
	KVM_EVENT_DEV,		/* /dev/kvm added or removed */
	KVM_EVENT_MODULE,	/* kvm, kvm_intel or kvm_amd loaded or unloaded */
	KVM_EVENT_VIRTHW,	/* the virthw module itself came or went: reconnect */
};

/* Called for each relevant uevent with a line that says what happened; VM is KVM_EVENT_VM's parsed properties, else NULL. */
typedef void (*kvm_events_fn)(const char *what, enum kvm_event_source source, const struct kvm_uevent *vm,
			      void *userdata);

/* The properties of one uevent that matter to virtd (each may be NULL). */
struct kvm_uevent_props {
	const char *subsystem, *sysname, *action;
	const char *event, *count, *pid;	/* the kvm misc device's change uevents */
};

/*
 * Whether a uevent concerns virtd and, if so, the line saying what happened
 * (in WHAT), its source and, for KVM_EVENT_VM with well-formed properties,
 * the parsed ones (*ret_has_vm).  Pure: the sd-device callback feeds it.
 */
bool kvm_uevent_classify(const struct kvm_uevent_props *p, char *what, size_t size, enum kvm_event_source *ret_source,
			 struct kvm_uevent *ret_vm, bool *ret_has_vm);

int kvm_events_new(sd_event *e, kvm_events_fn cb, void *userdata, kvm_events **ret);
kvm_events *kvm_events_free(kvm_events *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(kvm_events *, kvm_events_free);
