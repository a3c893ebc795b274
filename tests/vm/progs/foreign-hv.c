/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* foreign-hv.c: guest test program playing an out-of-tree hypervisor through /dev/foreignhv (tests/vm/foreignhv). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "progs-common.h"

/* Exit statuses, for the harness. */
enum {
	FOREIGN_HV_OK = 0,
	FOREIGN_HV_BUSY = 1,    /* another hypervisor (KVM) holds SVM/VMX */
	FOREIGN_HV_USAGE = 2,
	FOREIGN_HV_NO_DEV = 3,  /* /dev/foreignhv missing: module not loaded */
	FOREIGN_HV_FAILED = 4,  /* anything else: see the message */
};

static void help(void)
{
	printf("Usage: foreign-hv [--hold=SECONDS]\n"
	       "\n"
	       "Turns SVM/VMX on in every online CPU through /dev/foreignhv, as an\n"
	       "out-of-tree hypervisor would, and holds it until a line or EOF on\n"
	       "stdin (when stdin is a pipe), SIGTERM/SIGINT, or --hold expires;\n"
	       "then turns it off.\n"
	       "Exit status: 0 ok, 1 in use by another hypervisor (EBUSY), 2 usage,\n"
	       "3 no /dev/foreignhv, 4 other failure.\n");
}

/* Only a pipe: /dev/null, files and terminals would release at once or never. */
static bool stdin_is_pipe(void)
{
	struct stat st;

	return fstat(STDIN_FILENO, &st) == 0 && S_ISFIFO(st.st_mode);
}

static int nr_online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 0;
}

int main(int argc, char *argv[])
{
	enum { ARG_HOLD = 0x100 };
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "hold", required_argument, NULL, ARG_HOLD },
		{}
	};
	const char *why;
	long hold = -1;
	int fd, c;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			help();
			return FOREIGN_HV_OK;
		case ARG_HOLD:
			if (parse_positive(optarg, &hold) < 0) {
				fprintf(stderr, "foreign-hv: invalid --hold value '%s': expected seconds\n", optarg);
				return FOREIGN_HV_USAGE;
			}
			break;
		default:
			fprintf(stderr, "foreign-hv: invalid command line (see foreign-hv --help)\n");
			return FOREIGN_HV_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "foreign-hv: unexpected argument '%s'\n", argv[optind]);
		return FOREIGN_HV_USAGE;
	}

	/* SVM is released when a signal ends the hold. */
	catch_release_signals();

	fd = open("/dev/foreignhv", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		printf("foreign-hv: cannot open /dev/foreignhv: %s\n", strerror(e));
		fflush(stdout);
		return e == ENOENT ? FOREIGN_HV_NO_DEV : FOREIGN_HV_FAILED;
	}
	if (write(fd, "on", 2) != 2) {
		int e = errno;

		if (e == EBUSY)
			printf("foreign-hv: in use by another hypervisor (EBUSY)\n");
		else
			printf("foreign-hv: cannot turn virtualization on: %s\n", strerror(e));
		fflush(stdout);
		close(fd);
		return e == EBUSY ? FOREIGN_HV_BUSY : FOREIGN_HV_FAILED;
	}
	/* The harness waits for this line before it looks at the CPUs. */
	printf("foreign-hv: svm on, %d cpus, pid %d\n", nr_online_cpus(), (int)getpid());
	fflush(stdout);

	why = hold_until_released(hold, stdin_is_pipe());

	if (write(fd, "off", 3) != 3) {
		printf("foreign-hv: cannot turn virtualization off: %s\n", strerror(errno));
		fflush(stdout);
		close(fd);
		return FOREIGN_HV_FAILED;
	}
	close(fd);
	printf("foreign-hv: svm off (%s)\n", why);
	fflush(stdout);
	return FOREIGN_HV_OK;
}
