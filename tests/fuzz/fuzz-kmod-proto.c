/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuzz-kmod-proto.c: both directions of the virtd <-> virtd-kmod protocol: the helper's arguments (kmod_request_parse), a request from its socket (kmod_request_from_wire) and its reply line (kmod_reply_parse). */
#include <errno.h>

#include "fuzz-common.h"
#include "kmod-proto.h"
#include "macro.h"

#define ARGS_MAX 8

/* First byte: which half (bit 0) and, for a request, which form (bit 1);
 * the rest: NUL-separated argv (argv[0] the helper's name), the socket's
 * bytes as they come, or the reply's bytes (to each kind of request). */
static void request(const uint8_t *data, size_t size, bool wire)
{
	char *argv[ARGS_MAX + 1], *buf = NULL, err[256];
	struct kmod_request q;
	int argc, r;

	err[0] = '\0';
	if (wire) {
		/* A copy of its own, so that ASan sees any read past the bytes read. */
		buf = malloc(size ? size : 1);
		if (!buf)
			return;
		memcpy(buf, data, size);
		r = kmod_request_from_wire(buf, size, &q, err, sizeof(err));
		if (r == 0)
			FUZZ_ASSERT((const char *)q.name >= buf && (const char *)q.name < buf + size);
	} else {
		argc = fuzz_split(data, size, '\0', argv, ARGS_MAX + 1, &buf);
		if (argc < 0)
			return;
		r = kmod_request_parse(argc, argv, &q, err, sizeof(err));
	}
	if (r == 0) {
		FUZZ_ASSERT(q.op == KMOD_OP_LOAD || q.op == KMOD_OP_INFO || q.op == KMOD_OP_UNLOAD);
		FUZZ_ASSERT(q.op == KMOD_OP_LOAD || !q.options);
		FUZZ_ASSERT(kmod_proto_name_valid(q.name) && strlen(q.name) <= KMOD_PROTO_NAME_MAX);
		FUZZ_ASSERT(!q.options || (kmod_proto_options_valid(q.options) &&
					   strlen(q.options) <= KMOD_PROTO_OPTIONS_MAX));
		FUZZ_ASSERT(fuzz_printable(q.name) && (!q.options || fuzz_printable(q.options)));
	} else {
		FUZZ_ASSERT(r == -EINVAL && err[0]);
		/* The refusal is the helper's "error 22 ..." line: one line. */
		FUZZ_ASSERT(!strchr(err, '\n'));
	}
	free(buf);
}

static void reply(const uint8_t *data, size_t size)
{
	static const enum kmod_proto_op ops[] = { KMOD_OP_LOAD, KMOD_OP_INFO, KMOD_OP_UNLOAD };

	for (size_t i = 0; i < ELEMENTSOF(ops); i++) {
		struct kmod_reply y;
		int r;

		r = kmod_reply_parse((const char *)data, size, ops[i], &y);
		FUZZ_ASSERT(r == 0 || r == -EBADMSG);
		if (r < 0)
			continue;
		FUZZ_ASSERT(y.error >= 0 && y.error <= 4095);
		FUZZ_ASSERT(y.error == 0 || y.message[0]);
		FUZZ_ASSERT(memchr(y.params, '\0', sizeof(y.params)) && memchr(y.message, '\0', sizeof(y.message)));
		FUZZ_ASSERT(!strchr(y.message, '\n') && !strchr(y.params, '\n'));
		(void)kmod_params_have(y.params, "preemption_timer");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return -1;
	if (data[0] & 1)
		request(data + 1, size - 1, data[0] & 2);
	else
		reply(data + 1, size - 1);
	return 0;
}
