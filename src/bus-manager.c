/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-manager.c: the org.virtd1.Manager D-Bus interface on /org/virtd1 (properties, GetStatus, Reload). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "bus-manager.h"
#include "log.h"
#include "manager.h"

int manager_reload(struct manager *m, char **ret_errors)
{
	enum virt_policy old = m->cfg.policy;
	int r;

	r = manager_load_config(m, false, ret_errors);
	if (r < 0)
		return r;
	m->retries = 0;
	manager_reconcile(m, "configuration reloaded");
	if (old != m->cfg.policy && m->bus) {
		r = sd_bus_emit_properties_changed(m->bus, BUS_PATH, BUS_INTERFACE, "Policy", NULL);
		if (r < 0)
			log_warning_errno(r, "Failed to emit PropertiesChanged for Policy: %m");
	}
	return 0;
}

static int property_get(sd_bus *bus, const char *path, const char *interface, const char *property,
			sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;

	(void)bus;
	(void)path;
	(void)interface;
	(void)error;
	if (strcmp(property, "Version") == 0)
		return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
	if (strcmp(property, "Policy") == 0)
		return sd_bus_message_append(reply, "s", virt_policy_to_string(m->cfg.policy));
	if (strcmp(property, "AppliedPolicy") == 0)
		return sd_bus_message_append(reply, "s", m->applied_policy);
	if (strcmp(property, "State") == 0)
		return sd_bus_message_append(reply, "s", m->state);
	if (strcmp(property, "Reason") == 0)
		return sd_bus_message_append(reply, "s", m->reason);
	if (strcmp(property, "VMCount") == 0)
		return sd_bus_message_append(reply, "u", (uint32_t)m->kobs.obs.n_vms);
	if (strcmp(property, "PinnedVM") == 0)
		return sd_bus_message_append(reply, "b", (int)m->kobs.obs.pinned_vm);
	return -ENOENT;
}

static int method_get_status(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	_cleanup_free_ char *json = NULL;
	struct manager *m = userdata;
	int r;

	(void)error;
	r = manager_status_json(m, &json);
	if (r < 0)
		return r;
	return sd_bus_reply_method_return(msg, "s", json);
}

/* The bus policy already keeps others out; this holds even where it is missing or too lax. */
static int check_root(sd_bus_message *msg, sd_bus_error *error)
{
	_cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
	uid_t uid;
	int r;

	r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID | SD_BUS_CREDS_UID | SD_BUS_CREDS_AUGMENT, &creds);
	if (r < 0)
		return r;
	/* dbus-daemon reports the connection's uid; the euid needs /proc. */
	r = sd_bus_creds_get_euid(creds, &uid);
	if (r < 0)
		r = sd_bus_creds_get_uid(creds, &uid);
	if (r < 0)
		return r;
	if (uid != 0)
		return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
					 "Only root may reload virtd (caller uid %u)", (unsigned)uid);
	return 0;
}

static int method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	_cleanup_free_ char *errors = NULL;
	struct manager *m = userdata;
	int r;

	r = check_root(msg, error);
	if (r != 0)
		return r;
	log_info("Reload requested over D-Bus");
	r = manager_reload(m, &errors);
	if (r < 0)
		return sd_bus_error_set(error, BUS_ERROR_CONFIG_INVALID,
					errors ? errors : "the configuration file is invalid");
	return sd_bus_reply_method_return(msg, NULL);
}

static const sd_bus_vtable manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Version", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Policy", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("AppliedPolicy", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("State", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Reason", "s", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("VMCount", "u", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("PinnedVM", "b", property_get, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_METHOD_WITH_NAMES("GetStatus", "", , "s", SD_BUS_PARAM(status), method_get_status,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	/* Unprivileged for sd-bus, whose own check wants CAP_SYS_ADMIN: check_root() answers with a clearer error. */
	SD_BUS_METHOD("Reload", "", "", method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END
};

int bus_manager_init(struct manager *m)
{
	int r;

	r = sd_bus_open_system(&m->bus);
	if (r < 0)
		return log_error_errno(r, "Failed to connect to the system bus: %m");
	r = sd_bus_add_object_vtable(m->bus, NULL, BUS_PATH, BUS_INTERFACE, manager_vtable, m);
	if (r < 0)
		return log_error_errno(r, "Failed to publish %s on the bus: %m", BUS_PATH);
	r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
	if (r < 0)
		return log_error_errno(r, "Failed to attach the bus to the event loop: %m");
	/* Last: the name says "ready to answer", so the object must exist first. */
	r = sd_bus_request_name(m->bus, BUS_NAME, 0);
	if (r == -EEXIST)
		return log_error_errno(r, "Failed to take the bus name %s: another virtd is running", BUS_NAME);
	if (r < 0)
		return log_error_errno(r, "Failed to take the bus name %s: %m (is conf/org.virtd1.conf installed in "
				       "/usr/share/dbus-1/system.d/?)", BUS_NAME);
	return 0;
}

void bus_manager_done(struct manager *m)
{
	if (m->bus) {
		(void)sd_bus_flush(m->bus);
		m->bus = sd_bus_flush_close_unref(m->bus);
	}
}

void bus_manager_emit_changes(struct manager *m, const char *old_state, const char *old_reason,
			      const char *old_applied, unsigned old_vms, bool old_pinned)
{
	const char *names[8];
	size_t n = 0;
	int r;

	if (!m->bus)
		return;
	if (strcmp(old_state, m->state) != 0)
		names[n++] = "State";
	if (strcmp(old_reason, m->reason) != 0)
		names[n++] = "Reason";
	if (strcmp(old_applied, m->applied_policy) != 0)
		names[n++] = "AppliedPolicy";
	if (old_vms != m->kobs.obs.n_vms)
		names[n++] = "VMCount";
	if (old_pinned != m->kobs.obs.pinned_vm)
		names[n++] = "PinnedVM";
	if (n == 0)
		return;
	names[n] = NULL;
	r = sd_bus_emit_properties_changed_strv(m->bus, BUS_PATH, BUS_INTERFACE, (char **)names);
	if (r < 0)
		log_warning_errno(r, "Failed to emit PropertiesChanged: %m");
}
