/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-client.c: virtctl's side of virtd's D-Bus API (org.virtd1.Manager on the system bus). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "bus-client.h"
#include "log.h"

/* Long enough for a reload that unloads and reloads KVM's modules. */
#define RELOAD_TIMEOUT_USEC (90ULL * 1000 * 1000)
/* Unloading KVM and the CPUs settling take seconds; virtd gives up on them after 30 s. */
#define ACQUIRE_TIMEOUT_USEC (90ULL * 1000 * 1000)
/*
 * A probe unloads KVM, measures every CPU (seconds each in an emulator, with
 * up to 100000 iterations of four measurements), then brings the policy back.
 */
#define PROBE_TIMEOUT_USEC (30ULL * 60 * 1000 * 1000)
/* GetStatus reads sysfs and virthw only: it answers within milliseconds. */
#define STATUS_TIMEOUT_USEC (25ULL * 1000 * 1000)

int bus_error_classify(const char *name)
{
	static const struct {
		const char *name;
		int r;
	} table[] = {
		{ "org.freedesktop.DBus.Error.ServiceUnknown", -EHOSTDOWN },
		{ "org.freedesktop.DBus.Error.NameHasNoOwner", -EHOSTDOWN },
		{ "org.freedesktop.DBus.Error.AccessDenied", -EACCES },
		{ "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired", -EACCES },
		{ VIRTD_ERROR_CONFIG_INVALID, -EINVAL },
		{ VIRTD_ERROR_VMS_RUNNING, -EBUSY },
		{ VIRTD_ERROR_TIMEOUT, -ETIME },
		{ VIRTD_ERROR_CANNOT_HOLD, -EOPNOTSUPP },
		{ VIRTD_ERROR_PROBE_FAILED, -EREMOTEIO },
		{ VIRTD_ERROR_PROBE_BUSY, -EALREADY },
		{ "org.freedesktop.DBus.Error.InvalidArgs", -EINVAL },
		{ "org.freedesktop.DBus.Error.UnknownMethod", -EPROTO },
		{ "org.freedesktop.DBus.Error.UnknownObject", -EPROTO },
		{ "org.freedesktop.DBus.Error.UnknownInterface", -EPROTO },
		{ "org.freedesktop.DBus.Error.Timeout", -ETIMEDOUT },
		{ "org.freedesktop.DBus.Error.NoReply", -ETIMEDOUT },
	};
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r;

	if (!name)
		return -EIO;
	for (size_t i = 0; i < ELEMENTSOF(table); i++)
		if (strcmp(name, table[i].name) == 0)
			return table[i].r;
	/* Errors sd-bus made from an errno ("System.Error.ENOENT") keep it.
	 * Not the other standard names: sd-bus maps even the generic
	 * org.freedesktop.DBus.Error.Failed to EACCES, which would make
	 * any failure read "needs root". */
	if (strncmp(name, "System.Error.", strlen("System.Error.")) != 0)
		return -EIO;
	e.name = name;
	r = sd_bus_error_get_errno(&e);
	return r > 0 ? -r : -EIO;
}

int bus_client_open(sd_bus **ret)
{
	sd_bus *bus = NULL;
	int r;

	r = sd_bus_open_system(&bus);
	if (r < 0) {
		log_error_errno(r, "virtd is not reachable: cannot connect to the system bus: %m (is dbus running?)");
		return -EHOSTDOWN;
	}
	*ret = bus;
	return 0;
}

/* Reports a failed call to virtd in words and returns its code. */
static int report_call_error(const char *what, const sd_bus_error *error, int r)
{
	int k = sd_bus_error_is_set(error) ? bus_error_classify(error->name) : r;

	switch (k) {
	case -EHOSTDOWN:
		log_error("virtd is not running (systemctl start virtd)");
		return k;
	case -EACCES:
		/* dbus-daemon's own refusal is a dump of its matching rule: say
		 * it in words.  virtd's refusal names the polkit action, the
		 * caller and the fix: passed on as it is. */
		if (!error->message || strncmp(error->message, "Rejected send message", 21) == 0)
			log_error("Failed to %s: needs root (the bus policy allows it to root only)", what);
		else
			log_error("Failed to %s: %s", what, error->message);
		return k;
	case -EPROTO:
		log_error("Failed to %s: whoever owns %s does not offer %s (%s): is this virtd of another version?",
			  what, VIRTD_BUS_NAME, VIRTD_BUS_INTERFACE, error->message ? error->message : error->name);
		return k;
	case -ETIMEDOUT:
		/* NoReply also says the callee left the bus without answering: virtd exited mid-call. */
		if (error->message && strstr(error->message, "disconnected"))
			log_error("Failed to %s: virtd exited before it answered (see journalctl -u virtd; once it "
				  "runs again, ask again)", what);
		else
			log_error("Failed to %s: virtd did not answer in time", what);
		return k;
	case -ECONNRESET:
	case -ENOTCONN:
		/* The bus went away mid-call, or never finished its greeting. */
		log_error_errno(k, "Failed to %s: lost the system bus: %m", what);
		return -EHOSTDOWN;
	}
	if (sd_bus_error_is_set(error))
		log_error("Failed to %s: %s", what, error->message ? error->message : error->name);
	else
		log_error_errno(r, "Failed to %s: %m", what);
	return k < 0 ? k : -EIO;
}

/*
 * A user at a terminal may be asked for a password by polkit's agent before
 * virtd answers a method that changes something; a script is not (the call
 * is then refused with InteractiveAuthorizationRequired, not left waiting).
 */
static int allow_interaction(sd_bus_message *m)
{
	return sd_bus_message_set_allow_interactive_authorization(m, isatty(STDIN_FILENO) > 0);
}

static int call_virtd(sd_bus *bus, const char *method, uint64_t timeout_usec, sd_bus_error *error,
		      sd_bus_message **ret_reply)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, VIRTD_BUS_NAME, VIRTD_BUS_PATH, VIRTD_BUS_INTERFACE, method);
	if (r < 0)
		return r;
	/* Asking about virtd must not start it: "not running" is an answer. */
	r = sd_bus_message_set_auto_start(m, false);
	if (r >= 0 && strcmp(method, "GetStatus") != 0)
		r = allow_interaction(m);
	if (r < 0)
		return r;
	return sd_bus_call(bus, m, timeout_usec, error, ret_reply);
}

int bus_client_get_status(sd_bus *bus, char **ret_json)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	const char *json;
	char *copy;
	int r;

	r = call_virtd(bus, "GetStatus", STATUS_TIMEOUT_USEC, &error, &reply);
	if (r < 0)
		return report_call_error("get virtd's status", &error, r);
	r = sd_bus_message_read(reply, "s", &json);
	if (r < 0)
		return log_error_errno(r, "Failed to read virtd's status reply (expected one string): %m");
	copy = strdup(json);
	if (!copy)
		return log_error_errno(-ENOMEM, "Out of memory");
	*ret_json = copy;
	return 0;
}

int bus_client_reload(sd_bus *bus)
{
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	int r;

	r = call_virtd(bus, "Reload", RELOAD_TIMEOUT_USEC, &error, NULL);
	if (r >= 0)
		return 0;
	if (sd_bus_error_has_name(&error, VIRTD_ERROR_CONFIG_INVALID)) {
		const char *p = error.message && *error.message ? error.message : "(virtd gave no details)";

		/* One diagnostic per line, each naming file, line and value. */
		while (*p) {
			size_t n = strcspn(p, "\n");

			if (n > 0)
				log_error("%.*s", (int)n, p);
			p += n;
			if (*p == '\n')
				p++;
		}
		log_error("virtd refused the configuration and keeps running with the previous one");
		return -EINVAL;
	}
	return report_call_error("reload virtd", &error, r);
}

int bus_client_acquire_foreign(sd_bus *bus, const char *who, const char *why, uint64_t flags, uint64_t timeout_usec,
			       int *ret_fd)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	uint64_t call_timeout = ACQUIRE_TIMEOUT_USEC;
	int r, fd, k;

	/* Waiting for ever: so does the call.  Otherwise the wait plus the time to unload KVM. */
	if ((flags & 1) && timeout_usec == 0)
		call_timeout = UINT64_MAX;
	else if (flags & 1)
		call_timeout = timeout_usec > UINT64_MAX - ACQUIRE_TIMEOUT_USEC ? UINT64_MAX : timeout_usec + ACQUIRE_TIMEOUT_USEC;

	r = sd_bus_message_new_method_call(bus, &m, VIRTD_BUS_NAME, VIRTD_BUS_PATH, VIRTD_BUS_INTERFACE, "AcquireForeign");
	if (r >= 0)
		r = sd_bus_message_set_auto_start(m, false);
	if (r >= 0)
		r = allow_interaction(m);
	if (r >= 0)
		r = sd_bus_message_append(m, "sstt", who, why, flags, timeout_usec);
	if (r < 0)
		return log_error_errno(r, "Failed to build the AcquireForeign call: %m");
	r = sd_bus_call(bus, m, call_timeout, &error, &reply);
	if (r < 0) {
		k = sd_bus_error_is_set(&error) ? bus_error_classify(error.name) : r;
		switch (k) {
		case -EBUSY:
			log_error("Lock refused: %s; stop them, or wait for them with --wait[=SECONDS]",
				  error.message ? error.message : "KVM VMs are running");
			return k;
		case -ETIME:
			log_error("Lock refused: %s", error.message ? error.message : "timed out");
			return k;
		case -EOPNOTSUPP:
			log_error("Lock refused: this host cannot hand virtualization over: %s",
				  error.message ? error.message : "(no reason given)");
			return k;
		case -EINVAL:
			log_error("Lock refused: %s", error.message ? error.message : "invalid arguments");
			return k;
		}
		return report_call_error("take the foreign-hypervisor lock", &error, r);
	}
	r = sd_bus_message_read(reply, "h", &fd);
	if (r < 0)
		return log_error_errno(r, "Failed to read the lock from virtd's reply (expected a file descriptor): %m");
	/* The message owns fd: keep a copy of our own, never inherited by a child. */
	fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return log_error_errno(-errno, "Failed to keep the lock's descriptor: %m");
	*ret_fd = fd;
	return 0;
}

int bus_client_probe(sd_bus *bus, uint32_t cpu, uint32_t iterations, char **ret_json)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	const char *json;
	char *copy;
	int r, k;

	r = sd_bus_message_new_method_call(bus, &m, VIRTD_BUS_NAME, VIRTD_BUS_PATH, VIRTD_BUS_INTERFACE, "Probe");
	if (r >= 0)
		r = sd_bus_message_set_auto_start(m, false);
	if (r >= 0)
		r = allow_interaction(m);
	if (r >= 0)
		r = sd_bus_message_append(m, "uut", cpu, iterations, (uint64_t)0);
	if (r < 0)
		return log_error_errno(r, "Failed to build the Probe call: %m");
	r = sd_bus_call(bus, m, PROBE_TIMEOUT_USEC, &error, &reply);
	if (r < 0) {
		k = sd_bus_error_is_set(&error) ? bus_error_classify(error.name) : r;
		switch (k) {
		case -EBUSY:
			log_error("Probe refused: %s; the probe needs VMX/SVM free of KVM: stop them first",
				  error.message ? error.message : "KVM VMs are running");
			return k;
		case -EREMOTEIO:
			log_error("Probe failed: %s", error.message ? error.message : "(no reason given)");
			return k;
		case -EALREADY:
			log_error("Probe refused: %s; try again when it is done", error.message ? error.message : "another probe runs");
			return k;
		case -ETIME:
		case -EOPNOTSUPP:
		case -EINVAL:
			log_error("Probe refused: %s", error.message ? error.message : error.name);
			return k;
		}
		return report_call_error("run the probe", &error, r);
	}
	r = sd_bus_message_read(reply, "s", &json);
	if (r < 0)
		return log_error_errno(r, "Failed to read virtd's probe reply (expected one string): %m");
	copy = strdup(json);
	if (!copy)
		return log_error_errno(-ENOMEM, "Out of memory");
	*ret_json = copy;
	return 0;
}
