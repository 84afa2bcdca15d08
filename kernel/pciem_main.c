// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * PCIem: synthetic PCIe devices on a running kernel.
 *
 * Loading the module creates an empty root bus and /dev/pciem; nothing
 * else is visible until a root process creates functions through it.
 * See Documentation in the repository's docs/ directory.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/debugfs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/sizes.h>

#include "pciem.h"

static unsigned int window_mb = 1024;
module_param(window_mb, uint, 0444);
MODULE_PARM_DESC(window_mb,
		 "MiB of address space for 64-bit BARs (rounded up to 128 MiB)");

static unsigned int window32_mb = 64;
module_param(window32_mb, uint, 0444);
MODULE_PARM_DESC(window32_mb,
		 "MiB below 4 GiB for 32-bit BARs (power of two, 0 = none)");

static struct pciem_host pciem_host;

/*
 * /sys/kernel/debug/pciem: traps (pciem_trap.c), dma (pciem_dma_debugfs.c),
 * faults (pciem_fault.c).
 */
struct dentry *pciem_debugfs;
struct workqueue_struct *pciem_wq;

static int pciem_ctl_open(struct inode *inode, struct file *file)
{
	/* The node is 0600 already; this also stops a chmod'ed node. */
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	return 0;
}

static long pciem_get_info(struct pciem_host *host, void __user *uarg)
{
	struct pciem_info info;
	int usize;

	/* features came later: a caller built before it gets the rest. */
	usize = pciem_copy_struct_in(&info, sizeof(info),
				     offsetofend(struct pciem_info,
						 window32_size), uarg);
	if (usize < 0)
		return usize;
	if (info.flags)
		return -EINVAL;
	info.abi_version = PCIEM_ABI_VERSION;
	info.domain = pciem_host_domain(host);
	info.bus = host->bus->number;
	info.max_functions = PCIEM_NR_DEVFN;
	info.window64_start = host->win64->start;
	info.window64_size = resource_size(host->win64);
	info.window32_start = host->win32.parent ? host->win32.start : 0;
	info.window32_size = host->win32.parent ?
			     resource_size(&host->win32) : 0;
	info.features = PCIEM_INFO_F_DMA_RAISE;
	return pciem_copy_struct_out(uarg, usize, &info, sizeof(info));
}

static long pciem_ctl_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	/* Dispatch on number only: the size in @cmd may be a newer one. */
	if (_IOC_TYPE(cmd) != PCIEM_IOC_MAGIC)
		return -ENOTTY;
	switch (_IOC_NR(cmd)) {
	case _IOC_NR(PCIEM_IOC_GET_INFO):
		return pciem_get_info(&pciem_host, uarg);
	case _IOC_NR(PCIEM_IOC_CREATE):
		return pciem_ioctl_create(&pciem_host, uarg);
	case _IOC_NR(PCIEM_IOC_LIST):
		return pciem_ioctl_list(&pciem_host, uarg);
	case _IOC_NR(PCIEM_IOC_INJECT):
		return pciem_ioctl_inject(&pciem_host, uarg);
	case _IOC_NR(PCIEM_IOC_INJECT_CLEAR):
		return pciem_ioctl_inject_clear(&pciem_host, uarg);
	case _IOC_NR(PCIEM_IOC_RECORD):
		return pciem_ioctl_record(&pciem_host, uarg);
	}
	return -ENOTTY;
}

static const struct file_operations pciem_ctl_fops = {
	.owner = THIS_MODULE,
	.open = pciem_ctl_open,
	.unlocked_ioctl = pciem_ctl_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice pciem_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "pciem",
	.fops = &pciem_ctl_fops,
	.mode = 0600,
};

static int __init pciem_init(void)
{
	int ret;

	if (!window_mb || (window32_mb & (window32_mb - 1))) {
		pr_err("window_mb must be > 0 and window32_mb a power of two\n");
		return -EINVAL;
	}
	pciem_wq = alloc_workqueue("pciem", 0, 0);
	if (!pciem_wq)
		return -ENOMEM;
	pciem_debugfs = debugfs_create_dir("pciem", NULL);
	ret = pciem_host_init(&pciem_host, (u64)window_mb * SZ_1M,
			      (u64)window32_mb * SZ_1M);
	if (ret) {
		debugfs_remove_recursive(pciem_debugfs);
		destroy_workqueue(pciem_wq);
		return ret;
	}
	ret = pciem_trap_init(&pciem_host);
	if (ret)
		goto err_host;
	pciem_fault_host_init(&pciem_host);
	ret = misc_register(&pciem_misc);
	if (ret)
		goto err_trap;
	return 0;

err_trap:
	pciem_trap_exit();
err_host:
	pciem_host_exit(&pciem_host);
	debugfs_remove_recursive(pciem_debugfs);
	destroy_workqueue(pciem_wq);
	return ret;
}

static void __exit pciem_exit(void)
{
	/* Every device fd holds a module reference: none can exist here. */
	misc_deregister(&pciem_misc);
	debugfs_remove_recursive(pciem_debugfs);
	pciem_aer_host_exit(&pciem_host);
	pciem_trap_exit();
	pciem_host_exit(&pciem_host);
	/* Functions are freed from RCU callbacks: let them finish. */
	rcu_barrier();
	/* ... and those with pinned pages from work items they queued. */
	destroy_workqueue(pciem_wq);
}

module_init(pciem_init);
module_exit(pciem_exit);

MODULE_DESCRIPTION("PCIem: synthetic PCIe devices backed by userspace models");
MODULE_AUTHOR("PCIem developers");
MODULE_LICENSE("Dual MIT/GPL");
