/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * pciem.ko internals shared between its files.
 *
 * One host bridge (struct pciem_host) owns a root bus in a PCI domain of
 * its own and up to 256 functions (struct pciem_function), each created
 * through /dev/pciem and owned by the file descriptor that created it.
 */
#ifndef PCIEM_H
#define PCIEM_H

#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/sched.h>
#include <linux/spinlock.h>

#include <linux/pciem.h>
#include "cfgspace/pciem_cfg.h"

#define PCIEM_NR_DEVFN		256

/**
 * struct pciem_function - one emulated PCI function
 * @host:	the host bridge it lives under
 * @devfn:	its slot and function on the root bus
 * @cfg:	emulated configuration space; guarded by @host->lock
 * @owner_tgid:	thread group that created it (for listings)
 * @owner_comm:	that process's command name
 */
struct pciem_function {
	struct pciem_host *host;
	u8 devfn;
	struct pciem_cfg cfg;
	pid_t owner_tgid;
	char owner_comm[TASK_COMM_LEN];
};

/**
 * struct pciem_host - PCIem's virtual host bridge and root bus
 * @bus:	root bus, in domain @sysdata.domain
 * @sysdata:	x86 carries the PCI domain number here
 * @win64:	window for 64-bit BARs, from request_free_mem_region()
 * @win32:	window below 4 GiB for 32-bit BARs (may be empty)
 * @busn:	the single bus number the root bus decodes
 * @lock:	guards @fn and every function's config space; a raw lock
 *		because the PCI core calls config accessors under pci_lock
 * @mutex:	serialises changes to @fn against walks that may sleep
 * @fn:		functions by devfn
 */
struct pciem_host {
	struct pci_bus *bus;
	struct pci_sysdata sysdata;
	struct resource *win64;
	struct resource win32;
	struct resource busn;
	raw_spinlock_t lock;
	struct mutex mutex;
	struct pciem_function *fn[PCIEM_NR_DEVFN];
};

/* pciem_host.c */
int pciem_host_init(struct pciem_host *host, u64 win64_size, u64 win32_size);
void pciem_host_exit(struct pciem_host *host);
int pciem_host_domain(const struct pciem_host *host);
int pciem_host_claim_devfn(struct pciem_host *host, struct pciem_function *fn,
			   bool fixed, u8 devfn, struct pciem_error *err);
void pciem_host_release_devfn(struct pciem_host *host,
			      struct pciem_function *fn);
struct pci_dev *pciem_host_get_pdev(struct pciem_host *host, u8 devfn);

/* pciem_device.c */
long pciem_ioctl_create(struct pciem_host *host, void __user *uarg);
long pciem_ioctl_list(struct pciem_host *host, void __user *uarg);

/* pciem_abi.c */
int pciem_copy_struct_in(void *dst, size_t ksize, size_t minsize,
			 const void __user *src);
int pciem_copy_struct_out(void __user *dst, size_t usize, const void *src,
			  size_t ksize);

#endif /* PCIEM_H */
