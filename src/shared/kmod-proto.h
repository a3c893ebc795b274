/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kmod-proto.h: the protocol between virtd and its module helper virtd-kmod (argv in, one reply line out). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * virtd keeps libkmod (and the compression and crypto libraries it pulls
 * in) out of its own address space: module loads and look-ups, which need
 * modprobe.d, the module indexes and decompression, run in virtd-kmod, a
 * short-lived child started per operation.  Unloads need none of that and
 * are one system call: virtd makes it itself (kvm-backend.c).
 *
 * Requests are the helper's arguments; stdin is /dev/null:
 *
 *   virtd-kmod load NAME [OPTIONS]   insert NAME and its dependencies with
 *                                    modprobe.d's options, OPTIONS appended;
 *                                    "install" commands are bypassed (virtd's
 *                                    own block must not stop virtd); loaded
 *                                    already counts as success
 *   virtd-kmod info NAME             whether modprobe would find NAME for the
 *                                    running kernel, and its parameters
 *
 * NAME is a module name ([A-Za-z0-9_-], at most KMOD_PROTO_NAME_MAX bytes);
 * OPTIONS are blank-separated key[=value] words of printable ASCII, at most
 * KMOD_PROTO_OPTIONS_MAX bytes.  Anything else is refused before libkmod
 * is set up.
 *
 * The reply is one line on stdout, at most KMOD_PROTO_REPLY_MAX bytes:
 *
 *   ok                               load
 *   ok available PARAM,PARAM...      info: the module file declares these
 *                                    parameters (the list may be empty)
 *   ok missing                       info: no such module for this kernel
 *   error ERRNO MESSAGE              the operation failed: ERRNO a positive
 *                                    errno number, MESSAGE the sentence for
 *                                    the journal and status (what failed,
 *                                    why, what to do)
 *
 * The exit status is 0 with "ok", 1 with "error", 2 for a refused request
 * (also answered with "error 22 ...").  libkmod's own diagnostics go to
 * stderr, which virtd passes through (the journal under systemd).
 */

#define KMOD_PROTO_NAME_MAX 55
#define KMOD_PROTO_OPTIONS_MAX 256
#define KMOD_PROTO_REPLY_MAX 1024

enum kmod_proto_op {
	KMOD_OP_LOAD,
	KMOD_OP_INFO,
};

struct kmod_request {
	enum kmod_proto_op op;
	const char *name;
	const char *options;	/* NULL: none */
};

struct kmod_reply {
	int error;		/* 0, or a positive errno */
	bool available;		/* info: found for this kernel */
	char params[KMOD_PROTO_REPLY_MAX];	/* info: "a,b,c" */
	char message[KMOD_PROTO_REPLY_MAX];	/* error: the sentence */
};

bool kmod_proto_name_valid(const char *name);
bool kmod_proto_options_valid(const char *options);

/*
 * Parses the helper's arguments (argv[1..]).  0, or -EINVAL with a sentence
 * naming what is wrong in ERR.
 */
int kmod_request_parse(int argc, char *const argv[], struct kmod_request *ret, char *err, size_t err_size);

/* Parses the helper's stdout.  0, or -EBADMSG when it is not one of the replies above. */
int kmod_reply_parse(const char *text, size_t len, enum kmod_proto_op op, struct kmod_reply *ret);

/* Whether a comma-separated parameter list (an info reply's) names PARAM. */
bool kmod_params_have(const char *params, const char *param);

/* Explains a failed module load: not built for this kernel, signature refused, ... (pure). */
const char *module_load_error_hint(int r);
