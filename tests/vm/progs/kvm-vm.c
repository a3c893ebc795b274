/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kvm-vm.c: guest test program that creates KVM VMs (no vCPUs) and holds them. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "progs-common.h"

/* Exit statuses, for the harness. */
enum {
	KVM_VM_OK = 0,
	KVM_VM_FAILED = 1,      /* an ioctl failed: see the message */
	KVM_VM_USAGE = 2,
	KVM_VM_NO_KVM = 3,      /* /dev/kvm does not exist */
};

static void help(void)
{
	printf("Usage: kvm-vm [--count=N] [--once] [--hold=SECONDS] [--timing] [--hold-open=PATH] [--comment=TEXT]\n"
	       "\n"
	       "Creates N KVM VMs (KVM_CREATE_VM, machine type 0, no vCPUs) and holds\n"
	       "them until a line or EOF on stdin (when stdin is a pipe or a terminal),\n"
	       "SIGTERM/SIGINT, or --hold expires; --once closes them at once.\n"
	       "--timing prints creation and destruction latency in microseconds.\n"
	       "--hold-open=PATH opens PATH (read-only) before the VMs and keeps it open,\n"
	       "as a hypervisor's VM process holds its device; --comment=TEXT is only\n"
	       "there to be read from the command line (a VM's name).\n"
	       "Exit status: 0 ok, 1 KVM refused, 2 usage, 3 no /dev/kvm.\n");
}

/* /dev/null and regular files give EOF at once: watching them would release
 * the VMs immediately when the harness starts us in the background. */
static bool stdin_watchable(void)
{
	struct stat st;

	if (fstat(STDIN_FILENO, &st) < 0)
		return false;
	return S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || isatty(STDIN_FILENO);
}

int main(int argc, char *argv[])
{
	enum { ARG_HOLD = 0x100, ARG_COUNT, ARG_ONCE, ARG_TIMING, ARG_HOLD_OPEN, ARG_COMMENT };
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "hold", required_argument, NULL, ARG_HOLD },
		{ "count", required_argument, NULL, ARG_COUNT },
		{ "once", no_argument, NULL, ARG_ONCE },
		{ "timing", no_argument, NULL, ARG_TIMING },
		{ "hold-open", required_argument, NULL, ARG_HOLD_OPEN },
		{ "comment", required_argument, NULL, ARG_COMMENT },
		{}
	};
	long hold = -1, count = 1;
	bool once = false, timing = false;
	const char *why = "once", *hold_open = NULL;
	int kvm, api, c, *fds, held = -1;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			help();
			return KVM_VM_OK;
		case ARG_HOLD:
			if (parse_positive(optarg, &hold) < 0) {
				fprintf(stderr, "kvm-vm: invalid --hold value '%s': expected seconds\n", optarg);
				return KVM_VM_USAGE;
			}
			break;
		case ARG_COUNT:
			if (parse_positive(optarg, &count) < 0 || count < 1 || count > 4096) {
				fprintf(stderr, "kvm-vm: invalid --count value '%s': expected 1-4096\n", optarg);
				return KVM_VM_USAGE;
			}
			break;
		case ARG_ONCE:
			once = true;
			break;
		case ARG_TIMING:
			timing = true;
			break;
		case ARG_HOLD_OPEN:
			hold_open = optarg;
			break;
		case ARG_COMMENT:
			break;
		default:
			fprintf(stderr, "kvm-vm: invalid command line (see kvm-vm --help)\n");
			return KVM_VM_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kvm-vm: unexpected argument '%s'\n", argv[optind]);
		return KVM_VM_USAGE;
	}

	/* The VMs are released when a signal ends the hold. */
	catch_release_signals();

	if (hold_open) {
		held = open(hold_open, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (held < 0) {
			printf("kvm-vm: cannot open %s: %s\n", hold_open, strerror(errno));
			fflush(stdout);
			return KVM_VM_FAILED;
		}
		printf("kvm-vm: holding %s open fd=%d\n", hold_open, held);
		fflush(stdout);
	}

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		int e = errno;

		printf("kvm-vm: cannot open /dev/kvm: %s\n", strerror(e));
		fflush(stdout);
		return e == ENOENT ? KVM_VM_NO_KVM : KVM_VM_FAILED;
	}
	api = ioctl(kvm, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		printf("kvm-vm: KVM_GET_API_VERSION returned %d, expected %d%s%s\n", api, KVM_API_VERSION,
		       api < 0 ? ": " : "", api < 0 ? strerror(errno) : "");
		fflush(stdout);
		return KVM_VM_FAILED;
	}

	fds = calloc((size_t)count, sizeof(int));
	if (!fds) {
		printf("kvm-vm: out of memory\n");
		return KVM_VM_FAILED;
	}
	for (long i = 0; i < count; i++) {
		long long t0 = now_us(), t1;

		fds[i] = ioctl(kvm, KVM_CREATE_VM, 0);
		t1 = now_us();
		if (fds[i] < 0) {
			printf("kvm-vm: KVM_CREATE_VM failed: %s\n", strerror(errno));
			fflush(stdout);
			return KVM_VM_FAILED;
		}
		printf("kvm-vm: created vm fd=%d pid=%d\n", fds[i], (int)getpid());
		if (timing)
			printf("kvm-vm: timing create_us=%lld\n", t1 - t0);
		fflush(stdout);
	}

	if (!once) {
		/* The harness waits for this line before it looks at the host. */
		printf("kvm-vm: holding %ld vm(s) pid=%d\n", count, (int)getpid());
		fflush(stdout);
		why = hold_until_released(hold, stdin_watchable());
	}

	for (long i = 0; i < count; i++) {
		long long t0 = now_us(), t1;

		/* The last reference going away destroys the VM synchronously,
		 * so this measures KVM's teardown (and its disable edge). */
		close(fds[i]);
		t1 = now_us();
		if (timing)
			printf("kvm-vm: timing destroy_us=%lld\n", t1 - t0);
	}
	printf("kvm-vm: released %ld vm(s) (%s)\n", count, why);
	fflush(stdout);
	free(fds);
	close(kvm);
	if (held >= 0)
		close(held);
	return KVM_VM_OK;
}
