/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virtd-kmod.c: virtd's module helper: loads, unloads and looks up kernel modules with libkmod, one request per run (kmod-proto.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libkmod.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "kmod-proto.h"
#include "macro.h"

static inline void kmod_module_unref_listp(struct kmod_list **l)
{
	if (*l)
		kmod_module_unref_list(*l);
}

static inline void kmod_unrefp(struct kmod_ctx **c)
{
	if (*c)
		kmod_unref(*c);
}

/* The reply: one line, control characters of the message flattened so it stays one. */
_printf_(2, 3)
static int reply_error(int e, const char *fmt, ...)
{
	char msg[KMOD_PROTO_REPLY_MAX - 16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	printf("error %d %s\n", e > 0 && e < 4096 ? e : EIO, msg[0] ? msg : "unknown failure");
	return 1;
}

static int do_load(struct kmod_ctx *ctx, const char *name, const char *options)
{
	_cleanup_(kmod_module_unref_listp) struct kmod_list *l = NULL;
	struct kmod_module *mod;
	struct utsname u;
	const char *hint;
	int r;

	uname(&u);
	r = kmod_module_new_from_lookup(ctx, name, &l);
	if (r < 0) {
		errno = -r;
		return reply_error(-r, "Failed to look up module %s: %m", name);
	}
	if (!l)
		return reply_error(ENOENT, "Failed to load %s: not found in /lib/modules/%s: %s", name, u.release,
				   module_load_error_hint(-ENOENT));
	mod = kmod_module_get_module(l);
	r = kmod_module_probe_insert_module(mod, KMOD_PROBE_IGNORE_COMMAND, options, NULL, NULL, NULL);
	kmod_module_unref(mod);
	if (r == 0 || r == -EEXIST) {
		printf("ok\n");
		return 0;
	}
	if (r > 0)
		r = -EPERM;	/* a blacklist verdict; not asked for, so not expected */
	hint = module_load_error_hint(r);
	errno = -r;
	return reply_error(-r, "Failed to load %s%s%s: %m%s%s", name, options ? " with " : "", options ? options : "",
			   hint ? ": " : "", hint ? hint : "");
}

static void list_holders(const char *name, char *buf, size_t size)
{
	char path[PATH_MAX];
	struct dirent *de;
	size_t o = 0;
	DIR *d;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/sys/module/%s/holders", name);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d)) && o < size)
		if (de->d_name[0] != '.')
			o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? ", " : "", de->d_name);
	closedir(d);
}

/*
 * One system call, nothing to look up: no libkmod.  O_NONBLOCK: fail with
 * EWOULDBLOCK/EBUSY while in use, as modprobe -r does, instead of waiting
 * for the last user.  The message names what holds it.
 */
static int do_unload(const char *name)
{
	char refcnt[32] = "?", holders[128], path[PATH_MAX];
	FILE *f;

	if (syscall(SYS_delete_module, name, O_NONBLOCK) == 0 || errno == ENOENT) {
		printf("ok\n");	/* ENOENT: gone already */
		return 0;
	}
	if (errno != EBUSY && errno != EAGAIN)
		return reply_error(errno, "Failed to unload %s: %m%s", name,
				   errno == EPERM ? " (the kernel refuses module removal: no CAP_SYS_MODULE, "
						    "or kernel.modules_disabled)" : "");
	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", name);
	f = fopen(path, "re");
	if (f) {
		if (!fgets(refcnt, sizeof(refcnt), f))
			snprintf(refcnt, sizeof(refcnt), "?");
		refcnt[strcspn(refcnt, "\n")] = '\0';
		fclose(f);
	}
	list_holders(name, holders, sizeof(holders));
	return reply_error(EBUSY, "Failed to unload %s: in use (use count %s%s%s)", name, refcnt,
			   holders[0] ? ", used by " : "", holders);
}

/*
 * The request from the socket on stdin: read to end of file (virtd shuts
 * its side down after writing).  A peer that never finishes is cut off by
 * the unit's RuntimeMaxSec=.
 */
static int read_request(char *buf, size_t size, size_t *ret_len)
{
	size_t len = 0;

	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf + len, size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == size)
			break;	/* too long: kmod_request_from_wire refuses it */
	}
	*ret_len = len;
	return 0;
}

static int do_info(struct kmod_ctx *ctx, const char *name)
{
	_cleanup_(kmod_module_unref_listp) struct kmod_list *l = NULL;
	struct kmod_list *info = NULL, *i;
	char params[KMOD_PROTO_REPLY_MAX - 32] = "";
	size_t o = 0;
	int r;

	r = kmod_module_new_from_lookup(ctx, name, &l);
	if (r < 0) {
		errno = -r;
		return reply_error(-r, "Failed to look up module %s: %m", name);
	}
	if (!l) {
		printf("ok missing\n");
		return 0;
	}
	/* A module that cannot be read still exists; its parameters are then unknown. */
	if (kmod_module_get_info(kmod_module_get_module(l), &info) >= 0) {
		kmod_list_foreach(i, info) {
			const char *k = kmod_module_info_get_key(i), *v = kmod_module_info_get_value(i);
			size_t n;

			/* "parmtype" values read "enable_virt_at_load:bool". */
			if (!k || !v || strcmp(k, "parmtype") != 0)
				continue;
			n = strcspn(v, ":");
			if (n == 0 || v[n] != ':' || memchr(v, ',', n) || memchr(v, ' ', n) || o + n + 2 >= sizeof(params))
				continue;
			o += (size_t)snprintf(params + o, sizeof(params) - o, "%s%.*s", o ? "," : "", (int)n, v);
		}
		kmod_module_info_free_list(info);
	}
	printf("ok available%s%s\n", o ? " " : "", params);
	return 0;
}

int main(int argc, char *argv[])
{
	_cleanup_(kmod_unrefp) struct kmod_ctx *ctx = NULL;
	char wire[KMOD_PROTO_REQUEST_MAX + 1];
	struct kmod_request q;
	char err[256];
	size_t len = 0;
	int r;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("Usage: virtd-kmod load NAME [OPTIONS] | unload NAME | info NAME\n"
		       "       virtd-kmod --stdin\n"
		       "\n"
		       "virtd's module helper: virtd runs it for each module load, unload and\n"
		       "look-up, so that libkmod and the right to change modules stay out of\n"
		       "the daemon.  With --stdin the request comes on standard input, its\n"
		       "words each ended by a NUL byte (virtd-kmod@.service, one per\n"
		       "connection to virtd-kmod.socket).  Not meant to be run by hand;\n"
		       "replies with one line: \"ok ...\" or \"error ERRNO MESSAGE\".\n");
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--stdin") == 0) {
		r = read_request(wire, sizeof(wire), &len);
		if (r < 0) {
			errno = -r;
			snprintf(err, sizeof(err), "cannot read the request: %m");
		} else
			r = kmod_request_from_wire(wire, len, &q, err, sizeof(err));
	} else
		r = kmod_request_parse(argc, argv, &q, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "virtd-kmod: %s (see virtd-kmod --help)\n", err);
		printf("error %d %s\n", EINVAL, err);
		return 2;
	}
	if (q.op == KMOD_OP_UNLOAD)
		r = do_unload(q.name);
	else {
		ctx = kmod_new(NULL, NULL);
		if (!ctx)
			return reply_error(ENOMEM, "Failed to %s %s: cannot set up libkmod",
					   q.op == KMOD_OP_LOAD ? "load" : "look up", q.name);
		/* Errors here only make look-ups slower (no index). */
		(void)kmod_load_resources(ctx);
		r = q.op == KMOD_OP_LOAD ? do_load(ctx, q.name, q.options) : do_info(ctx, q.name);
	}
	if (fflush(stdout) != 0)
		return 1;
	return r;
}
