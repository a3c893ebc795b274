/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bus-client.h: virtctl's side of virtd's D-Bus API (org.virtd1.Manager on the system bus). */
#pragma once

#include <systemd/sd-bus.h>


#define VIRTD_BUS_NAME "org.virtd1"
#define VIRTD_BUS_PATH "/org/virtd1"
#define VIRTD_BUS_INTERFACE "org.virtd1.Manager"
#define VIRTD_ERROR_CONFIG_INVALID "org.virtd1.Error.ConfigInvalid"
#define VIRTD_ERROR_VMS_RUNNING "org.virtd1.Error.VMsRunning"
#define VIRTD_ERROR_TIMEOUT "org.virtd1.Error.Timeout"
#define VIRTD_ERROR_CANNOT_HOLD "org.virtd1.Error.CannotHold"
#define VIRTD_ERROR_PROBE_FAILED "org.virtd1.Error.ProbeFailed"
#define VIRTD_ERROR_PROBE_BUSY "org.virtd1.Error.ProbeBusy"

/* sd-bus.h provides the _cleanup_ helpers: sd_bus_flush_close_unrefp, sd_bus_message_unrefp. */

/*
 * Maps a D-Bus error name from a call to virtd to what virtctl tells the user:
 * -EHOSTDOWN  org.virtd1 has no owner: virtd is not running;
 * -EACCES     the caller may not do this (bus policy or virtd's own check);
 * -EINVAL     virtd refused its configuration file (ConfigInvalid);
 * -EPROTO     whoever owns the name does not speak this interface;
 * -ETIMEDOUT  no answer in time;
 * -EBUSY      AcquireForeign: KVM VMs are running (VMsRunning);
 * -ETIME      AcquireForeign: waited as long as asked, VMs still running (Timeout);
 * -EOPNOTSUPP AcquireForeign, Probe: this host cannot hand virtualization over (CannotHold);
 * -EREMOTEIO  Probe: virthw's run path failed (ProbeFailed; the message has the kernel's words);
 * -EALREADY   Probe: another probe runs (ProbeBusy);
 * the errno of a "System.Error.E..." name sd-bus made from one; otherwise -EIO.
 * Pure; NULL gives -EIO.
 */
int bus_error_classify(const char *name);

/*
 * Connects to the system bus ($DBUS_SYSTEM_BUS_ADDRESS, if set, says where:
 * the tests point it at a private dbus-daemon).  Failure to connect is
 * reported and returned as -EHOSTDOWN: without a bus virtd cannot be reached.
 */
int bus_client_open(sd_bus **ret);

/*
 * Calls GetStatus() and returns virtd's JSON document.  Every failure is
 * reported on stderr in words (see bus_error_classify for the codes).
 */
int bus_client_get_status(sd_bus *bus, char **ret_json);

/*
 * Calls Reload().  When virtd refuses the file, its diagnostics (one
 * "FILE:LINE: ..." per line) are printed and -EINVAL returned.
 */
int bus_client_reload(sd_bus *bus);

/*
 * Calls AcquireForeign(who, why, flags, timeout_usec) and returns the lock's
 * descriptor (O_CLOEXEC, the caller's to close: closing it releases the
 * lock).  The call waits as long as virtd may (timeout_usec with the wait
 * flag, 0 for ever).  Refusals are reported in words: -EBUSY with the VMs
 * virtd named, -ETIME, -EOPNOTSUPP, -EACCES, -EINVAL, -EHOSTDOWN.
 */
int bus_client_acquire_foreign(sd_bus *bus, const char *who, const char *why, uint64_t flags, uint64_t timeout_usec,
			       int *ret_fd);

/*
 * Calls Probe(cpu, iterations, 0) (cpu UINT32_MAX: every online CPU;
 * iterations 0: the module's default) and returns virtd's JSON document.  The
 * call waits as long as the probe takes (minutes in an emulator).  Refusals
 * are reported in words: -EBUSY with the VMs virtd named, -EREMOTEIO with the
 * kernel's message, -EALREADY, -ETIME, -EOPNOTSUPP, -EACCES, -EINVAL,
 * -EHOSTDOWN.
 */
int bus_client_probe(sd_bus *bus, uint32_t cpu, uint32_t iterations, char **ret_json);
