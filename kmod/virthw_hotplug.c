// SPDX-License-Identifier: GPL-2.0
/* CPU online/offline events for the "events" group. */

#include <linux/cpuhotplug.h>

#include "virthw_internal.h"

static int virthw_online_state;
static int virthw_dead_state;

/*
 * AP_ONLINE_DYN startup runs on the new CPU itself once it is online, so
 * its state can be read there.  Always succeed: an event must never keep
 * a CPU from coming up.
 */
static int virthw_cpu_online(unsigned int cpu)
{
	struct virthw_cpu_state st;

	if (!virthw_cpu_read(cpu, &st))
		virthw_netlink_cpu_event(VIRTHW_EVENT_CPU_ONLINE, &st);
	return 0;
}

/*
 * BP_PREPARE_DYN teardown runs on a control CPU after the CPU is dead, so
 * a listener that dumps on this event already sees it offline.
 */
static int virthw_cpu_dead(unsigned int cpu)
{
	struct virthw_cpu_state st = { .id = cpu };

	virthw_netlink_cpu_event(VIRTHW_EVENT_CPU_OFFLINE, &st);
	return 0;
}

int virthw_hotplug_init(void)
{
	int ret;

	/* _nocalls: CPUs online at load are already visible to a dump. */
	ret = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "virthw:online",
					virthw_cpu_online, NULL);
	if (ret < 0)
		return ret;
	virthw_online_state = ret;

	ret = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN, "virthw:dead",
					NULL, virthw_cpu_dead);
	if (ret < 0)
		goto err_online;
	virthw_dead_state = ret;
	return 0;

err_online:
	cpuhp_remove_state_nocalls(virthw_online_state);
	return ret;
}

void virthw_hotplug_exit(void)
{
	cpuhp_remove_state_nocalls(virthw_dead_state);
	cpuhp_remove_state_nocalls(virthw_online_state);
}
