/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* benchtool.c: guest benchmark helper: time a daemon's exec to READY=1, time repeated commands. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static void help(void)
{
	printf("Usage: benchtool ready [--timeout=SECONDS] [--pidfile=FILE] -- COMMAND...\n"
	       "       benchtool repeat --count=N -- COMMAND...\n"
	       "\n"
	       "ready: binds a notification socket, runs COMMAND with NOTIFY_SOCKET\n"
	       "pointing to it (as systemd does for Type=notify) and prints\n"
	       "  benchtool: ready_us=N pid=PID\n"
	       "when COMMAND sends READY=1, measured from just before its exec; COMMAND\n"
	       "keeps running (its PID also goes to --pidfile). Every notification is\n"
	       "printed as 'benchtool: notify ...' until READY=1.\n"
	       "repeat: runs COMMAND N times, output to /dev/null, and prints\n"
	       "  benchtool: repeat n=N median_us=M min_us=A max_us=B failed=F\n"
	       "Exit status: 0 ok, 1 failure or timeout, 2 usage.\n");
}

/* The single-letter fields of a notification, one a line. */
static int has_ready(const char *msg)
{
	const char *p = msg;

	while (p && *p) {
		if (strncmp(p, "READY=1", 7) == 0 && (p[7] == '\n' || p[7] == '\0'))
			return 1;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return 0;
}

static int cmd_ready(int argc, char **argv, long timeout_s, const char *pidfile)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[4096];
	long long t0, deadline;
	pid_t pid;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/run/benchtool-notify.%d", (int)getpid());
	unlink(sa.sun_path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "benchtool: cannot bind %s: %s\n", sa.sun_path, strerror(errno));
		return 1;
	}
	if (setenv("NOTIFY_SOCKET", sa.sun_path, 1) < 0)
		return 1;
	t0 = now_ns();
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "benchtool: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "benchtool: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	(void)argc;
	if (pidfile) {
		FILE *f = fopen(pidfile, "w");

		if (f) {
			fprintf(f, "%d\n", (int)pid);
			fclose(f);
		}
	}
	deadline = t0 + timeout_s * 1000000000LL;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = deadline - now_ns();
		ssize_t n;
		int status;

		if (left <= 0) {
			printf("benchtool: no READY=1 within %ld s (pid=%d)\n", timeout_s, (int)pid);
			return 1;
		}
		if (waitpid(pid, &status, WNOHANG) == pid) {
			printf("benchtool: %s exited (status 0x%x) before READY=1\n", argv[0], status);
			return 1;
		}
		/* Wake now and then to notice an early exit. */
		if (poll(&p, 1, left > 100000000LL ? 100 : (int)(left / 1000000) + 1) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			continue;
		buf[n] = '\0';
		if (has_ready(buf)) {
			printf("benchtool: ready_us=%lld pid=%d\n", (now_ns() - t0) / 1000, (int)pid);
			fflush(stdout);
			unlink(sa.sun_path);
			return 0;
		}
		for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"))
			printf("benchtool: notify %s\n", l);
		fflush(stdout);
	}
}

static int cmd_repeat(char **argv, long count)
{
	long long *t = calloc((size_t)count, sizeof(*t));
	long failed = 0;

	if (!t)
		return 1;
	for (long i = 0; i < count; i++) {
		long long t0 = now_ns();
		int status;
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (pid == 0) {
			if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
				_exit(127);
			execvp(argv[0], argv);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) < 0)
			return 1;
		t[i] = (now_ns() - t0) / 1000;
		/* 0 and 3 (policy does not hold) are both answers from virtctl status. */
		if (!WIFEXITED(status) || (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 3))
			failed++;
	}
	qsort(t, (size_t)count, sizeof(*t), cmp_ll);
	printf("benchtool: repeat n=%ld median_us=%lld min_us=%lld max_us=%lld failed=%ld\n", count,
	       count % 2 ? t[count / 2] : (t[count / 2 - 1] + t[count / 2]) / 2, t[0], t[count - 1], failed);
	free(t);
	return failed ? 1 : 0;
}

int main(int argc, char *argv[])
{
	enum { ARG_TIMEOUT = 0x100, ARG_COUNT, ARG_PIDFILE };
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "timeout", required_argument, NULL, ARG_TIMEOUT },
		{ "count", required_argument, NULL, ARG_COUNT },
		{ "pidfile", required_argument, NULL, ARG_PIDFILE },
		{}
	};
	long timeout_s = 60, count = 20;
	const char *pidfile = NULL, *verb;
	int c;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		help();
		return argc < 2 ? 2 : 0;
	}
	verb = argv[1];
	argv++;
	argc--;
	while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			help();
			return 0;
		case ARG_TIMEOUT:
			timeout_s = strtol(optarg, NULL, 10);
			break;
		case ARG_COUNT:
			count = strtol(optarg, NULL, 10);
			break;
		case ARG_PIDFILE:
			pidfile = optarg;
			break;
		default:
			return 2;
		}
	}
	if (optind >= argc || timeout_s <= 0 || count <= 0 || count > 100000) {
		fprintf(stderr, "benchtool: missing COMMAND or bad --timeout/--count (see benchtool --help)\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(verb, "ready") == 0)
		return cmd_ready(argc - optind, argv + optind, timeout_s, pidfile);
	if (strcmp(verb, "repeat") == 0)
		return cmd_repeat(argv + optind, count);
	fprintf(stderr, "benchtool: unknown command '%s' (ready, repeat)\n", verb);
	return 2;
}
