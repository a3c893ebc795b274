/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hw-client.h: generic netlink client of the virthw kernel module. */
#pragma once

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
 */
int hw_client_subscribe(hw_client *c);
int hw_client_event_fd(const hw_client *c);
int hw_client_event_group(const hw_client *c);
int hw_client_receive_event(hw_client *c, struct virthw_event_msg *ret);
