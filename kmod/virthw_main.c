// SPDX-License-Identifier: GPL-2.0
/* Module entry and exit of virthw, the virtd companion. */

#include <linux/init.h>
#include <linux/module.h>
#include <net/genetlink.h>

#include "virthw_internal.h"

/*
 * The family goes first so that no hotplug event can fire before there is
 * a family to send it through; exit undoes this in reverse.
 */
static int __init virthw_init(void)
{
	int ret;

	ret = virthw_netlink_init();
	if (ret)
		return ret;

	ret = virthw_hotplug_init();
	if (ret)
		goto err_netlink;

	return 0;

err_netlink:
	virthw_netlink_exit();
	return ret;
}

static void __exit virthw_exit(void)
{
	virthw_hotplug_exit();
	virthw_netlink_exit();
}

module_init(virthw_init);
module_exit(virthw_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("virtd developers");
MODULE_DESCRIPTION("Hardware virtualization (VMX/SVM) state for virtd over generic netlink");
MODULE_VERSION("0.1");
MODULE_ALIAS_GENL_FAMILY(VIRTHW_GENL_NAME);
