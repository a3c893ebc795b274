/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hw-client.h: generic netlink client of the virthw kernel module. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netlink/msg.h>

#include "hw-parse.h"
#include "macro.h"

typedef struct hw_client hw_client;

/*
 * Connects a generic netlink socket with extended ACKs on and resolves the
 * virthw family.  Returns 0, or a negative errno:
 *   -ENOPKG   the family is not registered: the module is not loaded
 *   -EPROTO   the module speaks a newer protocol version than this client
 *   other     socket or controller errors
 */
int hw_client_new(hw_client **ret);
hw_client *hw_client_free(hw_client *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(hw_client *, hw_client_free);

int hw_client_family_id(const hw_client *c);
uint32_t hw_client_family_version(const hw_client *c);

/*
 * The kernel's extended ACK text for the last failed request, or NULL when it
 * sent none.  Valid until the next request.  Every request function below
 * returns the kernel's error as a negative errno (-EPERM without
 * CAP_NET_ADMIN, -EINVAL/-ERANGE for a refused request, ...), or -EBADMSG
 * when a reply does not parse (hw_client_parse_error() then says why).
 */
const char *hw_client_extack(const hw_client *c);
const char *hw_client_parse_error(const hw_client *c);

int hw_client_get_caps(hw_client *c, struct virthw_caps *ret);
int hw_client_get_cpu(hw_client *c, uint32_t cpu, struct virthw_cpu_state *ret);
/* *ret is a malloc'd array of *ret_n CPUs in the module's (CPU) order. */
int hw_client_dump_cpus(hw_client *c, struct virthw_cpu_state **ret, size_t *ret_n);

/* The module's settings and its decision (VIRTHW_CMD_GET_SETTINGS). */
int hw_client_get_settings(hw_client *c, struct virthw_settings *ret);
/*
 * Sets the timer mode and the minimum maximum delay (1 ns .. 3600 s); *ret,
 * when not NULL, receives the settings and the decision now in force.  The
 * module refuses out-of-range values with -EINVAL and an extended ACK.
 */
int hw_client_set_settings(hw_client *c, enum virthw_timer_mode mode, uint64_t min_max_delay_ns,
			   struct virthw_settings *ret);
/*
 * Runs the module's own run path on one CPU (VIRTHW_CMD_PROBE); iterations
 * 0 leaves the count to the module (VIRTHW_PROBE_DEFAULT_ITERATIONS).  It
 * blocks until the module replies, seconds in an emulator; the socket has
 * no receive timeout.  Besides the request errors: -ENXIO offline CPU,
 * -ENODEV no VMX/SVM, -EACCES disabled by firmware, -EBUSY VMX/SVM already
 * on or another probe runs, -ETIMEDOUT, -EIO (see the uapi header).
 */
int hw_client_probe(hw_client *c, uint32_t cpu, uint32_t iterations, struct virthw_probe *ret);

/*
 * Sends a prepared message (its nlmsghdr type and seq are filled in here)
 * and collects the replies, calling on_reply for each data message.  For the
 * test program that sends malformed requests; a negative return from
 * on_reply aborts.  The message is consumed.
 */
typedef int (*hw_reply_fn)(const struct nlmsghdr *nlh, void *userdata);
int hw_client_request(hw_client *c, struct nl_msg *msg, hw_reply_fn on_reply, void *userdata);

/*
 * Joins the "events" multicast group on a second socket, so replies to
 * requests and events never interleave.  hw_client_event_fd() is then
 * pollable; hw_client_receive_event() blocks for the next event.
 *
 * hw_client_subscribe() receives CPU events only: a socket filter drops
 * settings events in the kernel, so every event it returns has kind
 * HW_EVENT_KIND_CPU.  hw_client_subscribe_full(c, true) also receives
 * settings events, returned with kind HW_EVENT_KIND_SETTINGS.  Subscribing
 * again with the other choice is -EBUSY.
 */
int hw_client_subscribe(hw_client *c);
int hw_client_subscribe_full(hw_client *c, bool settings_events);
int hw_client_event_fd(const hw_client *c);
int hw_client_event_group(const hw_client *c);
int hw_client_receive_event(hw_client *c, struct virthw_event_msg *ret);
