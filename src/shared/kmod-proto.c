/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kmod-proto.c: the protocol between virtd and its module helper virtd-kmod: request and reply checking (pure). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmod-proto.h"
#include "macro.h"
#include "quote.h"

bool kmod_proto_name_valid(const char *name)
{
	size_t n;

	if (!name || !*name)
		return false;
	n = strlen(name);
	if (n > KMOD_PROTO_NAME_MAX)
		return false;
	/* A leading '-' would read as an option to anyone who passes it on. */
	if (name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

bool kmod_proto_options_valid(const char *options)
{
	size_t n;

	if (!options)
		return true;
	n = strlen(options);
	if (n == 0 || n > KMOD_PROTO_OPTIONS_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (options[i] < 0x20 || options[i] > 0x7e)
			return false;
	return true;
}

_printf_(3, 4)
static int refuse(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int kmod_request_parse(int argc, char *const argv[], struct kmod_request *ret, char *err, size_t err_size)
{
	struct kmod_request q = {};
	char quoted[256];
	int max;

	if (argc < 2)
		return refuse(err, err_size, "no request: load NAME [OPTIONS], unload NAME or info NAME");
	if (strcmp(argv[1], "load") == 0) {
		q.op = KMOD_OP_LOAD;
		max = 4;
	} else if (strcmp(argv[1], "unload") == 0) {
		q.op = KMOD_OP_UNLOAD;
		max = 3;
	} else if (strcmp(argv[1], "info") == 0) {
		q.op = KMOD_OP_INFO;
		max = 3;
	} else
		return refuse(err, err_size, "unknown request '%s': load, unload or info",
			      text_quote(argv[1], 40, quoted, sizeof(quoted)));
	if (argc < 3)
		return refuse(err, err_size, "'%s' needs a module name", argv[1]);
	if (argc > max)
		return refuse(err, err_size, "too many arguments for '%s'", argv[1]);
	if (!kmod_proto_name_valid(argv[2]))
		return refuse(err, err_size, "invalid module name '%s' (letters, digits, '_' and '-', at most 55)",
			      text_quote(argv[2], 60, quoted, sizeof(quoted)));
	q.name = argv[2];
	if (argc == 4) {
		if (!kmod_proto_options_valid(argv[3]))
			return refuse(err, err_size, "invalid module options '%s' (printable ASCII, at most 256 bytes)",
				      text_quote(argv[3], 60, quoted, sizeof(quoted)));
		q.options = argv[3];
	}
	*ret = q;
	return 0;
}

int kmod_request_from_wire(const char *buf, size_t len, struct kmod_request *ret, char *err, size_t err_size)
{
	/* argv[0] is the helper's name, as on the command line; then at most
	 * three words, and one more so that too many reads as too many. */
	char *argv[6] = { (char *)"virtd-kmod" };
	int argc = 1;

	if (len == 0)
		return refuse(err, err_size, "empty request");
	if (len > KMOD_PROTO_REQUEST_MAX)
		return refuse(err, err_size, "request longer than %d bytes", KMOD_PROTO_REQUEST_MAX);
	if (buf[len - 1] != '\0')
		return refuse(err, err_size, "request not ended by a NUL byte");
	for (size_t o = 0; o < len; o += strlen(buf + o) + 1) {
		if (argc == (int)ELEMENTSOF(argv))
			return refuse(err, err_size, "too many words in the request");
		argv[argc++] = (char *)buf + o;
	}
	return kmod_request_parse(argc, argv, ret, err, err_size);
}

int kmod_reply_parse(const char *text, size_t len, enum kmod_proto_op op, struct kmod_reply *ret)
{
	char line[KMOD_PROTO_REPLY_MAX + 1];
	struct kmod_reply y = {};

	/* Exactly one line, newline-terminated, nothing after it. */
	if (len == 0 || len > KMOD_PROTO_REPLY_MAX || text[len - 1] != '\n' || memchr(text, '\n', len - 1) ||
	    memchr(text, '\0', len))
		return -EBADMSG;
	memcpy(line, text, len - 1);
	line[len - 1] = '\0';

	if (strncmp(line, "error ", 6) == 0) {
		char *end;
		long e;

		errno = 0;
		e = strtol(line + 6, &end, 10);
		if (errno || end == line + 6 || e <= 0 || e > 4095 || *end != ' ' || !end[1])
			return -EBADMSG;
		y.error = (int)e;
		snprintf(y.message, sizeof(y.message), "%s", end + 1);
	} else if (op == KMOD_OP_INFO) {
		if (strcmp(line, "ok missing") == 0)
			y.available = false;
		else if (strcmp(line, "ok available") == 0)
			y.available = true;
		else if (strncmp(line, "ok available ", 13) == 0 && line[13] && !strchr(line + 13, ' ')) {
			y.available = true;
			snprintf(y.params, sizeof(y.params), "%s", line + 13);
		} else
			return -EBADMSG;
	} else if (strcmp(line, "ok") != 0)
		return -EBADMSG;
	*ret = y;
	return 0;
}

bool kmod_params_have(const char *params, const char *param)
{
	size_t n = strlen(param);

	for (const char *p = params; p && *p;) {
		const char *c = strchr(p, ',');
		size_t l = c ? (size_t)(c - p) : strlen(p);

		if (l == n && strncmp(p, param, n) == 0)
			return true;
		p = c ? c + 1 : NULL;
	}
	return false;
}

const char *module_load_error_hint(int r)
{
	switch (r) {
	case -ENOENT:
		return "not built for the running kernel: install it for this kernel (DKMS: dkms autoinstall)";
	case -EKEYREJECTED:
	case -ENOKEY:
	case -EKEYEXPIRED:
		return "the kernel refuses its signature (Secure Boot): sign it with an enrolled key "
		       "(DKMS signs with its MOK key; enroll it with mokutil --import and reboot)";
	case -EPERM:
		return "the kernel refuses to load modules (lockdown, Secure Boot with an unsigned module, "
		       "kernel.modules_disabled, or no CAP_SYS_MODULE)";
	case -ENOEXEC:
	case -EINVAL:
		return "it was built for another kernel or is damaged (invalid module format): rebuild it for the running kernel";
	case -EBUSY:
		return "the hardware is busy: another hypervisor holds VMX/SVM";
	case -EIO:
	case -ENODEV:
	case -EOPNOTSUPP:
		return "the CPU or the firmware does not allow it (see the kernel log)";
	}
	return NULL;
}
