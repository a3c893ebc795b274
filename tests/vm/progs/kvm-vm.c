/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kvm-vm.c: guest test program that creates KVM VMs (no vCPUs) and holds them. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
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
	       "              [--hide]\n"
	       "\n"
	       "Creates N KVM VMs (KVM_CREATE_VM, machine type 0, no vCPUs) and holds\n"
	       "them until a line or EOF on stdin (when stdin is a pipe or a terminal),\n"
	       "SIGTERM/SIGINT, or --hold expires; --once closes them at once.\n"
	       "--timing prints creation and destruction latency in microseconds.\n"
	       "--hold-open=PATH opens PATH (read-only) before the VMs and keeps it open,\n"
	       "as a hypervisor's VM process holds its device; --comment=TEXT is only\n"
	       "there to be read from the command line (a VM's name).\n"
	       "--hide makes each VM from a thread of its own, which lives on, and keeps no descriptor of it\n"
	       "in any process (it waits, unreceived, in a socket of the process's own),\n"
	       "the way VirtualBox's driver keeps its dummy VM inside the kernel: a\n"
	       "stand-in for what a /proc scan cannot see.\n"
	       "Exit status: 0 ok, 1 KVM refused, 2 usage, 3 no /dev/kvm.\n");
}

/*
 * --hide: the VM made on a thread of its own, as VirtualBox's EMT thread has
 * vboxdrv make it; the thread lives on, as an EMT does while its VM runs.
 */
struct create_job {
	int kvm, fd, err, done;		/* done: the pipe's write end, told when fd is set */
};

static void *create_on_thread(void *arg)
{
	struct create_job *j = arg;
	char c = 1;

	j->fd = ioctl(j->kvm, KVM_CREATE_VM, 0);
	j->err = j->fd < 0 ? errno : 0;
	if (write(j->done, &c, 1) != 1)
		abort();
	for (;;)
		pause();
	return NULL;
}

/* Moves FD into the queue of SOCK's peer, which nobody reads, and closes it: the file lives on, no process holds it. */
static int stash_fd(int sock, int fd)
{
	char dummy = 'v', cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = &dummy, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(sock, &mh, 0) != 1)
		return -errno;
	close(fd);
	return 0;
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
	enum { ARG_HOLD = 0x100, ARG_COUNT, ARG_ONCE, ARG_TIMING, ARG_HOLD_OPEN, ARG_COMMENT, ARG_HIDE };
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "hold", required_argument, NULL, ARG_HOLD },
		{ "count", required_argument, NULL, ARG_COUNT },
		{ "once", no_argument, NULL, ARG_ONCE },
		{ "timing", no_argument, NULL, ARG_TIMING },
		{ "hold-open", required_argument, NULL, ARG_HOLD_OPEN },
		{ "comment", required_argument, NULL, ARG_COMMENT },
		{ "hide", no_argument, NULL, ARG_HIDE },
		{}
	};
	long hold = -1, count = 1;
	bool once = false, timing = false, hide = false;
	int stash[2] = { -1, -1 };
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
		case ARG_HIDE:
			hide = true;
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

		if (hide) {
			static struct create_job j;
			int done[2];
			pthread_t t;
			char b;

			if (stash[0] < 0 && socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, stash) < 0) {
				printf("kvm-vm: socketpair: %s\n", strerror(errno));
				return KVM_VM_FAILED;
			}
			if (pipe2(done, O_CLOEXEC) < 0) {
				printf("kvm-vm: pipe: %s\n", strerror(errno));
				return KVM_VM_FAILED;
			}
			j = (struct create_job) { .kvm = kvm, .done = done[1] };
			{
				/* Signals stay the main thread's: they end the hold. */
				sigset_t all, old;

				sigfillset(&all);
				pthread_sigmask(SIG_SETMASK, &all, &old);
				errno = pthread_create(&t, NULL, create_on_thread, &j);
				pthread_sigmask(SIG_SETMASK, &old, NULL);
			}
			if (errno != 0 || read(done[0], &b, 1) != 1) {
				printf("kvm-vm: thread: %s\n", strerror(errno));
				return KVM_VM_FAILED;
			}
			close(done[0]);
			close(done[1]);
			fds[i] = j.fd;
			errno = j.err;
		} else
			fds[i] = ioctl(kvm, KVM_CREATE_VM, 0);
		t1 = now_us();
		if (fds[i] < 0) {
			printf("kvm-vm: KVM_CREATE_VM failed: %s\n", strerror(errno));
			fflush(stdout);
			return KVM_VM_FAILED;
		}
		printf("kvm-vm: created vm fd=%d pid=%d%s\n", fds[i], (int)getpid(), hide ? " (hidden: no descriptor left)" : "");
		if (hide) {
			int r = stash_fd(stash[0], fds[i]);

			if (r < 0) {
				printf("kvm-vm: cannot pass the VM's descriptor on: %s\n", strerror(-r));
				return KVM_VM_FAILED;
			}
			fds[i] = -1;
		}
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
		if (fds[i] >= 0)
			close(fds[i]);
		else if (i == 0) {
			/* The hidden VMs go with the queue that holds them. */
			close(stash[1]);
			close(stash[0]);
		}
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
