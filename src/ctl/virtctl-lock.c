/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virtctl-lock.c: "virtctl lock -- COMMAND": run an out-of-tree hypervisor with KVM kept out for its lifetime. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bus-client.h"
#include "json-util.h"
#include "lock-meta.h"
#include "log.h"
#include "virtctl-args.h"
#include "virtctl.h"

/* Exit codes of a refused lock, documented in virtctl(8). */
enum {
	EXIT_LOCK_VMS_RUNNING = 5,
	EXIT_LOCK_TIMEOUT = 6,
	EXIT_CANNOT_EXECUTE = 126,
	EXIT_NOT_FOUND = 127,
};

static void lock_help(FILE *f)
{
	fprintf(f,
		"Usage: virtctl lock [--who=NAME] [--why=TEXT] [--wait[=SECONDS]] -- COMMAND [ARG...]\n"
		"\n"
		"Take virtd's lock for out-of-tree hypervisors (VirtualBox, VMware, ...), run\n"
		"COMMAND while holding it, and release it when COMMAND exits.  While the lock\n"
		"is held, KVM's vendor module is unloaded and blocked and VMX/SVM is free on\n"
		"every CPU.  Needs root, or polkit's org.virtd1.acquire-foreign (granted to\n"
		"group vboxusers by the shipped rule).\n"
		"\n"
		"  --who=NAME        Who holds it (default: COMMAND's file name)\n"
		"  --why=TEXT        Why (default: the command line)\n"
		"  --wait[=SECONDS]  If KVM VMs run, wait for them to end (for ever, or at\n"
		"                    most SECONDS) instead of failing at once\n"
		"  -h --help         Show this help\n"
		"\n"
		"Exit status: COMMAND's (128+N when a signal N ended it); 5 KVM VMs are\n"
		"running, 6 they still ran when --wait gave up, 4 virtd is not running,\n"
		"1 the lock cannot be had (not authorized, the host cannot hand over),\n"
		"2 invalid command line, 126 COMMAND cannot be run, 127 COMMAND not found.\n");
}

/* execvp()'s search, done before the lock is taken: a typo must not unload KVM.  0, -ENOENT or -EACCES. */
static int find_command(const char *name)
{
	const char *path = getenv("PATH");
	bool found = false;

	if (strchr(name, '/')) {
		if (access(name, F_OK) < 0)
			return -ENOENT;
		return access(name, X_OK) < 0 ? -EACCES : 0;
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		char full[PATH_MAX];
		struct stat st;

		snprintf(full, sizeof(full), "%.*s%s%s", (int)n, n ? path : ".", "/", name);
		if (stat(full, &st) == 0 && !S_ISDIR(st.st_mode)) {
			if (access(full, X_OK) == 0)
				return 0;
			found = true;
		}
		path += n;
		if (*path == ':')
			path++;
	}
	return found ? -EACCES : -ENOENT;
}

/* "off on 2/2 CPUs" from virtd's status; empty when it cannot be had. */
static void cpu_words(sd_bus *bus, char *buf, size_t size)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_(json_object_putp) json_object *doc = NULL;
	const json_object *cpus;
	const char *text;
	size_t online = 0, off = 0;
	char err[64];

	buf[0] = '\0';
	if (sd_bus_call_method(bus, VIRTD_BUS_NAME, VIRTD_BUS_PATH, VIRTD_BUS_INTERFACE, "GetStatus", NULL, &reply, "") < 0 ||
	    sd_bus_message_read(reply, "s", &text) < 0 || jv_parse(text, strlen(text), &doc, err, sizeof(err)) < 0)
		return;
	cpus = jv_get(doc, "cpus");
	for (size_t i = 0; i < jv_len(cpus); i++) {
		const json_object *c = jv_at(cpus, i);
		bool b;

		if (jv_get_bool(jv_get(c, "online"), &b) < 0 || !b)
			continue;
		online++;
		if (jv_get_bool(jv_get(c, "virt_on"), &b) >= 0 && !b)
			off++;
	}
	if (online > 0)
		snprintf(buf, size, " (virtualization off on %zu/%zu CPUs)", off, online);
}

static char *join_argv(char **argv)
{
	size_t len = 1;
	char *s, *p;

	for (char **a = argv; *a; a++)
		len += strlen(*a) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	p = s;
	for (char **a = argv; *a; a++)
		p += sprintf(p, "%s%s", a == argv ? "" : " ", *a);
	*p = '\0';
	return s;
}

/* Runs COMMAND, forwards signals, returns its exit status the shell's way. */
static int run_child(char **argv, const sigset_t *old_mask)
{
	sigset_t mask;
	int pipefd[2], err = 0, status;
	pid_t pid;
	ssize_t n;

	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		log_error_errno(-errno, "Failed to create a pipe: %m");
		return EXIT_FAILURE_RUNTIME;
	}
	pid = fork();
	if (pid < 0) {
		log_error_errno(-errno, "Failed to fork: %m");
		return EXIT_FAILURE_RUNTIME;
	}
	if (pid == 0) {
		/* The lock's descriptor is O_CLOEXEC: the command never holds it, virtctl does. */
		close(pipefd[0]);
		sigprocmask(SIG_SETMASK, old_mask, NULL);
		execvp(argv[0], argv);
		err = errno;
		(void)!write(pipefd[1], &err, sizeof(err));
		_exit(EXIT_NOT_FOUND);
	}
	close(pipefd[1]);
	do
		n = read(pipefd[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	if (n == (ssize_t)sizeof(err)) {
		(void)waitpid(pid, NULL, 0);
		log_error_errno(-err, "Failed to run %s: %m", argv[0]);
		return err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXECUTE;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	for (;;) {
		siginfo_t si;
		pid_t w;

		if (sigwaitinfo(&mask, &si) < 0) {
			if (errno == EINTR)
				continue;
			log_error_errno(-errno, "Failed to wait for signals: %m");
			break;
		}
		if (si.si_signo != SIGCHLD) {
			/*
			 * The terminal's ^C reaches the whole foreground group,
			 * the command included: pass on only what was sent to
			 * virtctl alone (kill, systemctl stop).
			 */
			if (si.si_code != SI_KERNEL)
				(void)kill(pid, si.si_signo);
			continue;
		}
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EXIT_FAILURE_RUNTIME;
}

/* The options before the command.  -1 to go on, or the exit code. */
static int parse_lock_args(int argc, char *argv[], struct lock_args *a)
{
	char err[256];

	if (lock_parse_args(argc, argv, a, err, sizeof(err)) < 0) {
		log_error("lock: %s (see virtctl lock --help)", err);
		return EXIT_USAGE;
	}
	if (a->help) {
		lock_help(stdout);
		return EXIT_OK;
	}
	if (!a->command) {
		log_error("lock: missing the command to run: virtctl lock [OPTIONS] -- COMMAND [ARG...]");
		return EXIT_USAGE;
	}
	return -1;
}

/* Who and why, as given (checked) or made from the command.  -1 to go on, or the exit code. */
static int lock_identity(const struct lock_args *a, char **ret_who, char **ret_why)
{
	_cleanup_free_ char *who = NULL, *why = NULL;
	char err[160];

	if (a->who) {
		if (lock_who_valid(a->who, err, sizeof(err)) < 0) {
			log_error("lock: invalid --who: %s", err);
			return EXIT_USAGE;
		}
		who = strdup(a->who);
	} else {
		const char *base = strrchr(a->command[0], '/');

		who = lock_who_sanitize(base && base[1] ? base + 1 : a->command[0]);
		if (who && !*who) {
			free(who);
			who = strdup("command");
		}
	}
	if (a->why) {
		if (lock_why_valid(a->why, err, sizeof(err)) < 0) {
			log_error("lock: invalid --why: %s", err);
			return EXIT_USAGE;
		}
		why = strdup(a->why);
	} else {
		_cleanup_free_ char *line = join_argv(a->command);

		why = line ? lock_why_sanitize(line) : NULL;
	}
	if (!who || !why)
		return log_error_errno(-ENOMEM, "Out of memory"), EXIT_FAILURE_RUNTIME;
	*ret_who = TAKE_PTR(who);
	*ret_why = TAKE_PTR(why);
	return -1;
}

/* Asks virtd for the lock; the lock is the descriptor in *ret_fd.  -1 when
 * it is held, or the exit code; cpus gets the words about the CPUs. */
static int take_lock(const struct lock_args *a, const char *who, const char *why, int *ret_fd, char *cpus,
		     size_t size)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	int r;

	r = find_command(a->command[0]);
	if (r == -ENOENT) {
		log_error("lock: %s: command not found; the lock was not taken", a->command[0]);
		return EXIT_NOT_FOUND;
	}
	if (r < 0) {
		log_error("lock: %s: not executable (permission denied); the lock was not taken", a->command[0]);
		return EXIT_CANNOT_EXECUTE;
	}

	r = bus_client_open(&bus);
	if (r < 0)
		return EXIT_NOT_RUNNING;
	r = bus_client_acquire_foreign(bus, who, why, a->flags, a->timeout, ret_fd);
	switch (r) {
	case 0:
		break;
	case -EBUSY:
		return EXIT_LOCK_VMS_RUNNING;
	case -ETIME:
		return EXIT_LOCK_TIMEOUT;
	case -EHOSTDOWN:
		return EXIT_NOT_RUNNING;
	default:
		return EXIT_FAILURE_RUNTIME;
	}
	cpu_words(bus, cpus, size);
	/* The lock is the descriptor, not the connection: nothing more to say to virtd. */
	return -1;
}

int verb_lock(int argc, char *argv[])
{
	_cleanup_free_ char *who = NULL, *why = NULL;
	_cleanup_close_ int lock_fd = -1;
	struct lock_args a = {};
	sigset_t mask, old_mask;
	char cpus[64];
	int r;

	r = parse_lock_args(argc, argv, &a);
	if (r < 0)
		r = lock_identity(&a, &who, &why);
	if (r < 0)
		r = take_lock(&a, who, why, &lock_fd, cpus, sizeof(cpus));
	if (r >= 0)
		return r;

	log_info("lock taken%s; running %s", cpus, a.command[0]);
	(void)fflush(stderr);

	/* Blocked before the fork, so that none is lost; the child gets the old mask back. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, &old_mask);
	r = run_child(a.command, &old_mask);
	/* lock_fd closes on return: the lock is released. */
	return r;
}
