// SPDX-License-Identifier: GPL-2.0
/* foreignhv: test stand-in for an out-of-tree hypervisor taking SVM/VMX. */

/*
 * /dev/foreignhv behaves like the part of VirtualBox's vboxdrv that matters
 * to virtd: writing "on" turns hardware virtualization on in every online
 * CPU (EFER.SVME on AMD, CR4.VMXE on Intel; nothing else, no VMXON), and
 * refuses with -EBUSY, changing nothing, when any CPU already has it on
 * (VERR_SVM_IN_USE, VERR_VMX_IN_VMX_ROOT_MODE).  "off", or closing the file
 * that turned it on (its process ending, however), clears exactly the CPUs
 * it set.  Reading gives "on\n" or "off\n".
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/cpumask.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/tlbflush.h>

#ifndef CONFIG_X86
#error "foreignhv sets x86 EFER.SVME / CR4.VMXE and builds only for x86"
#endif

enum foreignhv_feature {
	FOREIGNHV_SVM,
	FOREIGNHV_VMX,
};

static enum foreignhv_feature foreignhv_feature;
static enum cpuhp_state foreignhv_hp_state;

/*
 * foreignhv_mutex serializes "on", "off" and release, and guards
 * foreignhv_holder.  foreignhv_cpus (the CPUs this module turned on) is
 * changed only with the CPU hotplug lock held for read (on/off paths) or
 * for write (the teardown callback), so those never race.
 */
static DEFINE_MUTEX(foreignhv_mutex);
static struct file *foreignhv_holder;
static cpumask_var_t foreignhv_cpus;

/*
 * VMX needs CR4.VMXE, and the kernel's CR4 helpers (cr4_set_bits() and
 * friends, through cr4_update_irqsoff()) are exported to KVM's modules only
 * from 6.19 on (measured in Debian's 7.2 and 7.3 Module.symvers; VirtualBox's
 * vboxdrv notes the same).  The stand-in then supports SVM only: it is used
 * by the QEMU (AMD) lock scenarios, and a stand-in has no business writing
 * CR4 behind the kernel's back.  EFER is read and written with rdmsr/wrmsr
 * (two 32-bit halves), which every kernel has under the same name.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0)
#define FOREIGNHV_HAVE_VMX 0
#else
#define FOREIGNHV_HAVE_VMX 1
#endif

static bool foreignhv_svme_here(void)
{
	u32 lo, hi __maybe_unused;	/* SVME is bit 12: in the low half */

	rdmsr(MSR_EFER, lo, hi);
	return lo & EFER_SVME;
}

static void foreignhv_svme_write(bool on)
{
	u32 lo, hi;

	rdmsr(MSR_EFER, lo, hi);
	wrmsr(MSR_EFER, on ? lo | EFER_SVME : lo & ~EFER_SVME, hi);
}

/* IPI context, interrupts off: a read and at most one write of a register. */
static bool foreignhv_on_here(void)
{
	if (foreignhv_feature == FOREIGNHV_VMX)
		return __read_cr4() & X86_CR4_VMXE;
	return foreignhv_svme_here();
}

static void foreignhv_set_here(void)
{
#if FOREIGNHV_HAVE_VMX
	if (foreignhv_feature == FOREIGNHV_VMX) {
		cr4_set_bits(X86_CR4_VMXE);
		return;
	}
#endif
	foreignhv_svme_write(true);
}

static void foreignhv_clear_here(void)
{
#if FOREIGNHV_HAVE_VMX
	if (foreignhv_feature == FOREIGNHV_VMX) {
		cr4_clear_bits(X86_CR4_VMXE);
		return;
	}
#endif
	foreignhv_svme_write(false);
}

/* @info: a cpumask collecting the CPUs that already have it on. */
static void foreignhv_probe_cpu(void *info)
{
	if (foreignhv_on_here())
		cpumask_set_cpu(smp_processor_id(), info);
}

/*
 * Test and set in one go on each CPU, so that a hypervisor that turned a
 * CPU on after the probe is never overwritten; such a CPU lands in @info.
 */
static void foreignhv_set_cpu(void *info)
{
	unsigned int cpu = smp_processor_id();

	if (foreignhv_on_here()) {
		cpumask_set_cpu(cpu, info);
		return;
	}
	foreignhv_set_here();
	cpumask_set_cpu(cpu, foreignhv_cpus);
}

static void foreignhv_clear_cpu(void *info)
{
	foreignhv_clear_here();
}

/* Called with the hotplug lock held for read. */
static void foreignhv_clear_all(void)
{
	on_each_cpu_mask(foreignhv_cpus, foreignhv_clear_cpu, NULL, true);
	cpumask_clear(foreignhv_cpus);
}

static int foreignhv_turn_on(struct file *file)
{
	cpumask_var_t busy;
	int ret = 0;

	if (foreignhv_holder == file)
		return 0;
	if (foreignhv_holder)
		return -EBUSY;
	if (!zalloc_cpumask_var(&busy, GFP_KERNEL))
		return -ENOMEM;

	cpus_read_lock();
	/* A first pass that changes nothing: the common refusal. */
	on_each_cpu(foreignhv_probe_cpu, busy, true);
	if (!cpumask_empty(busy)) {
		ret = -EBUSY;
		goto out_unlock;
	}
	on_each_cpu(foreignhv_set_cpu, busy, true);
	if (!cpumask_empty(busy)) {
		/* Lost a race with another hypervisor: give back what we took. */
		foreignhv_clear_all();
		ret = -EBUSY;
		goto out_unlock;
	}
	foreignhv_holder = file;
	pr_info("%s on, %u CPUs, pid %d\n",
		foreignhv_feature == FOREIGNHV_VMX ? "vmx" : "svm",
		cpumask_weight(foreignhv_cpus), task_tgid_nr(current));

out_unlock:
	cpus_read_unlock();
	if (ret == -EBUSY)
		pr_info("refused: %*pbl already on (another hypervisor)\n",
			cpumask_pr_args(busy));
	free_cpumask_var(busy);
	return ret;
}

/* Called with foreignhv_mutex held, by "off" and by the holder's release. */
static void foreignhv_turn_off(struct file *file, const char *why)
{
	unsigned int n;

	if (foreignhv_holder != file)
		return;
	cpus_read_lock();
	n = cpumask_weight(foreignhv_cpus);
	foreignhv_clear_all();
	cpus_read_unlock();
	foreignhv_holder = NULL;
	pr_info("off on %u CPUs (%s)\n", n, why);
}

static ssize_t foreignhv_write(struct file *file, const char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	char buf[8];
	int ret;

	if (count == 0 || count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';

	mutex_lock(&foreignhv_mutex);
	if (sysfs_streq(buf, "on")) {
		ret = foreignhv_turn_on(file);
	} else if (sysfs_streq(buf, "off")) {
		foreignhv_turn_off(file, "off written");
		ret = 0;
	} else {
		ret = -EINVAL;
	}
	mutex_unlock(&foreignhv_mutex);
	return ret ? ret : count;
}

static ssize_t foreignhv_read(struct file *file, char __user *ubuf,
			      size_t count, loff_t *ppos)
{
	const char *s;

	mutex_lock(&foreignhv_mutex);
	s = foreignhv_holder ? "on\n" : "off\n";
	mutex_unlock(&foreignhv_mutex);
	return simple_read_from_buffer(ubuf, count, ppos, s, strlen(s));
}

static int foreignhv_release(struct inode *inode, struct file *file)
{
	mutex_lock(&foreignhv_mutex);
	foreignhv_turn_off(file, "holder closed the device");
	mutex_unlock(&foreignhv_mutex);
	return 0;
}

static const struct file_operations foreignhv_fops = {
	.owner = THIS_MODULE,
	.read = foreignhv_read,
	.write = foreignhv_write,
	.release = foreignhv_release,
	.llseek = noop_llseek,
};

static struct miscdevice foreignhv_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "foreignhv",
	.fops = &foreignhv_fops,
	.mode = 0600,
};

/*
 * Runs on the CPU going down, with the hotplug lock held for write.  It
 * comes back with its registers reset: forget it, so that a later "off"
 * never clears a bit that someone else set there meanwhile.
 */
static int foreignhv_cpu_down(unsigned int cpu)
{
	unsigned long flags;

	if (!cpumask_test_cpu(cpu, foreignhv_cpus))
		return 0;
	local_irq_save(flags);
	foreignhv_clear_here();
	local_irq_restore(flags);
	cpumask_clear_cpu(cpu, foreignhv_cpus);
	return 0;
}

static int __init foreignhv_init(void)
{
	int ret;

	if (boot_cpu_has(X86_FEATURE_SVM))
		foreignhv_feature = FOREIGNHV_SVM;
	else if (boot_cpu_has(X86_FEATURE_VMX) && FOREIGNHV_HAVE_VMX)
		foreignhv_feature = FOREIGNHV_VMX;
	else if (boot_cpu_has(X86_FEATURE_VMX)) {
		pr_err("foreignhv: VMX needs the kernel's CR4 helpers, exported to KVM only on this kernel; SVM only\n");
		return -EOPNOTSUPP;
	} else
		return -ENODEV;

	if (!zalloc_cpumask_var(&foreignhv_cpus, GFP_KERNEL))
		return -ENOMEM;

	ret = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN, "foreignhv:online",
					NULL, foreignhv_cpu_down);
	if (ret < 0)
		goto err_free;
	foreignhv_hp_state = ret;

	ret = misc_register(&foreignhv_misc);
	if (ret)
		goto err_hp;
	return 0;

err_hp:
	cpuhp_remove_state_nocalls(foreignhv_hp_state);
err_free:
	free_cpumask_var(foreignhv_cpus);
	return ret;
}

/* No file is open (each holds a module reference), so nothing is on. */
static void __exit foreignhv_exit(void)
{
	misc_deregister(&foreignhv_misc);
	cpuhp_remove_state_nocalls(foreignhv_hp_state);
	free_cpumask_var(foreignhv_cpus);
}

module_init(foreignhv_init);
module_exit(foreignhv_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("virtd developers");
MODULE_DESCRIPTION("Test stand-in for an out-of-tree hypervisor (EFER.SVME/CR4.VMXE)");
