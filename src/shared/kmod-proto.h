/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kmod-proto.h: the protocol between virtd and its module helper virtd-kmod (a request in, one reply line out). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * virtd keeps libkmod (and the compression and crypto libraries it pulls
 * in) out of its own address space, and under systemd also the power to
 * change the kernel's modules: every module load, unload and look-up runs
 * in virtd-kmod, one request per run.
 *
 * Two ways to run it, one protocol:
 *   - socket activation (virtd.service): virtd connects to the stream
 *     socket $VIRTD_KMOD_SOCKET (virtd-kmod.socket, Accept=yes, mode 0600)
 *     and systemd starts one virtd-kmod@.service per connection, the only
 *     unit with CAP_SYS_MODULE.  virtd writes the request's words, each
 *     ended by a NUL byte (at most KMOD_PROTO_REQUEST_MAX bytes in all),
 *     shuts its side down, and reads the reply until end of file.  The
 *     helper runs as "virtd-kmod --stdin" with the connection as stdin and
 *     stdout.
 *   - a child (no $VIRTD_KMOD_SOCKET: virtd run by hand, the test images):
 *     the request's words are the helper's arguments, stdin is /dev/null.
 *
 *   load NAME [OPTIONS]   insert NAME and its dependencies with modprobe.d's
 *                         options, OPTIONS appended; "install" commands are
 *                         bypassed (virtd's own block must not stop virtd);
 *                         loaded already counts as success
 *   unload NAME           remove NAME (delete_module, O_NONBLOCK: in use is
 *                         EBUSY at once, as modprobe -r); not loaded counts
 *                         as success
 *   info NAME             whether modprobe would find NAME for the running
 *                         kernel, and its parameters
 *
 * NAME is a module name ([A-Za-z0-9_-], at most KMOD_PROTO_NAME_MAX bytes);
 * OPTIONS are blank-separated key[=value] words of printable ASCII, at most
 * KMOD_PROTO_OPTIONS_MAX bytes.  Anything else is refused before libkmod
 * is set up.
 *
 * The reply is one line, at most KMOD_PROTO_REPLY_MAX bytes:
 *
 *   ok                               load, unload
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
 * stderr: the journal under systemd, virtd's stderr otherwise.
 */

#define KMOD_PROTO_NAME_MAX 55
#define KMOD_PROTO_OPTIONS_MAX 256
#define KMOD_PROTO_REPLY_MAX 1024
/* "unload\0" or "load\0NAME\0OPTIONS\0" and room to spare. */
#define KMOD_PROTO_REQUEST_MAX 512

enum kmod_proto_op {
	KMOD_OP_LOAD,
	KMOD_OP_INFO,
	KMOD_OP_UNLOAD,
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

/*
 * Parses a request read from the socket: BUF holds LEN bytes, words each
 * ended by a NUL.  The request points into BUF.  0, or -EINVAL with a
 * sentence in ERR (also for an empty, unterminated or oversized request).
 */
int kmod_request_from_wire(const char *buf, size_t len, struct kmod_request *ret, char *err, size_t err_size);

/* Parses the helper's stdout.  0, or -EBADMSG when it is not one of the replies above. */
int kmod_reply_parse(const char *text, size_t len, enum kmod_proto_op op, struct kmod_reply *ret);

/* Whether a comma-separated parameter list (an info reply's) names PARAM. */
bool kmod_params_have(const char *params, const char *param);

/* Explains a failed module load: not built for this kernel, signature refused, ... (pure). */
const char *module_load_error_hint(int r);
