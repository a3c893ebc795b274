/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* virtd.c: entry point of the virtd daemon: options, signals, start-up, sd_notify, the event loop. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "bus-manager.h"
#include "log.h"
#include "manager.h"
#include "metrics.h"
#include "watchdog.h"

/* Documented in virtd(8). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
	EXIT_CONFIG = 6,	/* LSB: "program is not configured" */
};

static void help(FILE *f)
{
	fprintf(f,
		"Usage: virtd [OPTIONS]\n"
		"\n"
		"The host's authority on hardware virtualization (Intel VMX, AMD SVM): applies\n"
		"the policy of /etc/virtd.conf to KVM and serves org.virtd1 on the system bus.\n"
		"Runs in the foreground; meant to be started by systemd (virtd.service).\n"
		"\n"
		"  --config=PATH        Configuration file (default %s, or $VIRTD_CONFIG)\n"
		"  --no-load-virthw     Do not load the virthw module if it is not loaded\n"
		"  --log-target=TARGET  console, journal or auto (default: auto)\n"
		"  --log-level=LEVEL    debug, info, notice, warning or err (default: info)\n"
		"  -h --help            Show this help\n"
		"     --version         Show the version\n"
		"\n"
		"Exit status: 0 stopped by SIGTERM/SIGINT, 1 start-up failure, 2 invalid\n"
		"command line, 6 invalid configuration file.\n",
		CONFIG_PATH);
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct manager *m = userdata;
	_cleanup_free_ char *errors = NULL;

	(void)s;
	(void)si;
	log_info("SIGHUP: reloading %s", m->config_path);
	(void)sd_notify(false, "RELOADING=1");
	/* Errors are logged by the loader; the running configuration stays. */
	(void)manager_reload(m, &errors);
	(void)sd_notifyf(false, "READY=1\nSTATUS=%s", m->status_line);
	return 0;
}

static int on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	(void)userdata;
	log_info("%s: stopping; the host stays as the policy left it", strsignal((int)si->ssi_signo));
	(void)sd_notify(false, "STOPPING=1\nSTATUS=stopping");
	return sd_event_exit(sd_event_source_get_event(s), EXIT_OK);
}

static int parse_level(const char *s)
{
	static const struct { const char *name; int level; } levels[] = {
		{ "debug", LOG_DEBUG }, { "info", LOG_INFO }, { "notice", LOG_NOTICE },
		{ "warning", LOG_WARNING }, { "err", LOG_ERR }, { "error", LOG_ERR },
	};

	for (size_t i = 0; i < ELEMENTSOF(levels); i++)
		if (strcmp(s, levels[i].name) == 0)
			return levels[i].level;
	return -EINVAL;
}

struct options {
	const char *config_path;
	enum log_target target;
	bool load_virthw;
};

/* The command line into *O; -1 to go on, or the exit status (--help, --version, a mistake). */
static int parse_options(int argc, char *argv[], struct options *o)
{
	enum { ARG_CONFIG = 0x100, ARG_NO_LOAD_VIRTHW, ARG_LOG_TARGET, ARG_LOG_LEVEL, ARG_VERSION };
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, ARG_VERSION },
		{ "config", required_argument, NULL, ARG_CONFIG },
		{ "no-load-virthw", no_argument, NULL, ARG_NO_LOAD_VIRTHW },
		{ "log-target", required_argument, NULL, ARG_LOG_TARGET },
		{ "log-level", required_argument, NULL, ARG_LOG_LEVEL },
		{}
	};
	int c, level;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			help(stdout);
			return EXIT_OK;
		case ARG_VERSION:
			printf("virtd (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return EXIT_OK;
		case ARG_CONFIG:
			o->config_path = optarg;
			break;
		case ARG_NO_LOAD_VIRTHW:
			o->load_virthw = false;
			break;
		case ARG_LOG_TARGET:
			if (strcmp(optarg, "console") == 0)
				o->target = LOG_TARGET_CONSOLE;
			else if (strcmp(optarg, "journal") == 0)
				o->target = LOG_TARGET_JOURNAL;
			else if (strcmp(optarg, "auto") != 0) {
				log_error("invalid --log-target '%s': console, journal or auto", optarg);
				return EXIT_USAGE;
			}
			break;
		case ARG_LOG_LEVEL:
			level = parse_level(optarg);
			if (level < 0) {
				log_error("invalid --log-level '%s': debug, info, notice, warning or err", optarg);
				return EXIT_USAGE;
			}
			log_set_max_level(level);
			break;
		case ':':
			log_error("option '%s' needs a value (see virtd --help)", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			log_error("invalid option '%s' (see virtd --help)", argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		log_error("unexpected argument '%s' (see virtd --help)", argv[optind]);
		return EXIT_USAGE;
	}
	return -1;
}

/* SIGTERM, SIGINT and SIGHUP through the loop; the caller has blocked them. */
static int watch_signals(sd_event *e, struct manager *m)
{
	int r;

	r = sd_event_add_signal(e, NULL, SIGTERM, on_sigterm, NULL);
	if (r >= 0)
		r = sd_event_add_signal(e, NULL, SIGINT, on_sigterm, NULL);
	if (r >= 0)
		r = sd_event_add_signal(e, NULL, SIGHUP, on_sighup, m);
	if (r < 0)
		log_error_errno(r, "Failed to watch signals: %m");
	return r;
}

/* Pings at a third of WatchdogSec= while the loop turns; nothing without it. */
static void arm_watchdog(sd_event *e, sd_event_source **ret)
{
	uint64_t watchdog_usec = 0;
	int r;

	r = watchdog_setup(e, ret, &watchdog_usec);
	if (r < 0)
		log_warning_errno(r, "Failed to arm the watchdog: %m");
	else if (r > 0)
		log_debug("Watchdog: WATCHDOG=1 every %.1f s (WatchdogSec=%.1f s)", (double)watchdog_usec / 3e6,
			  (double)watchdog_usec / 1e6);
}

int main(int argc, char *argv[])
{
	/* Freed in the reverse order: the metrics file and the bus (its callers told) before the manager. */
	_cleanup_(sd_event_unrefp) sd_event *e = NULL;
	_cleanup_(manager_freep) struct manager *m = NULL;
	_cleanup_(bus_manager_freep) bus_manager *bus = NULL;
	_cleanup_(metrics_freep) metrics *mt = NULL;
	_cleanup_(sd_event_source_unrefp) sd_event_source *watchdog = NULL;
	struct options o = {
		.config_path = getenv("VIRTD_CONFIG"),
		.target = log_target_auto(),
		.load_virthw = true,
	};
	sigset_t mask;
	int r;

	if (!o.config_path || !*o.config_path)
		o.config_path = CONFIG_PATH;
	r = parse_options(argc, argv, &o);
	if (r >= 0)
		return r;
	log_set_target(o.target);

	/* Delivered through signalfd by the event loop, never asynchronously. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	r = sd_event_default(&e);
	if (r < 0) {
		log_error_errno(r, "Failed to create the event loop: %m");
		return EXIT_FAIL;
	}
	r = manager_new(e, o.config_path, o.load_virthw, &m);
	if (r < 0) {
		log_error_errno(r, "Failed to set up: %m");
		return EXIT_FAIL;
	}

	/* A bad file stops virtd before it touches anything. */
	r = manager_load_config(m, true, NULL);
	if (r < 0)
		return EXIT_CONFIG;
	if (watch_signals(e, m) < 0)
		return EXIT_FAIL;
	arm_watchdog(e, &watchdog);

	r = manager_start(m);
	if (r >= 0)
		r = bus_manager_new(m, &bus);
	if (r >= 0)
		r = metrics_new(m, &mt);
	if (r < 0)
		return EXIT_FAIL;

	manager_reconcile(m, "start-up");
	(void)sd_notifyf(false, "READY=1\nSTATUS=%s", m->status_line);

	r = sd_event_loop(e);
	if (r < 0) {
		log_error_errno(r, "Event loop failed: %m");
		return EXIT_FAIL;
	}
	return r;
}
