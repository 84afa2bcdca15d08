// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * PCIem's virtual host bridge: a root bus in a PCI domain of its own
 * (0x10000 or above, the range VMD also uses, so it never collides with
 * firmware-described segments), memory windows taken at runtime, and
 * configuration accessors that route every config cycle to the emulated
 * configuration space of the function at that devfn.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ioport.h>
#include <linux/mmzone.h>
#include <linux/slab.h>
#include <linux/pci.h>
#include <linux/sizes.h>

#include "pciem.h"
#include "pciem_arch.h"
#include "pciem_trace.h"

/* The first domain number tried; Linux gives firmware segments 0-0xffff. */
#define PCIEM_FIRST_DOMAIN	0x10000

/* ---- config accessors ---------------------------------------------------- */

static struct pciem_host *bus_to_host(struct pci_bus *bus)
{
	return pciem_arch_bus_host(bus);
}

/*
 * A config read of a function answering Configuration Request Retry
 * Status: the Vendor ID reads 0001h, as a Root Port with CRS Software
 * Visibility makes it, so the PCI core's enumeration waits; the rest
 * all-ones, as pci_dev_wait() expects after a reset.
 */
static u32 crs_value(int where, int size)
{
	u32 v = where < PCI_DEVICE_ID ? 0xffff0001u >> (8 * where) : ~0u;

	return size == 4 ? v : v & ((1u << (8 * size)) - 1);
}

/* Does this config write set Initiate Function Level Reset (DevCtl bit 15)? */
static bool starts_flr(struct pciem_function *fn, int where, int size, u32 val)
{
	int b = fn->cfg.layout.pcie + PCI_EXP_DEVCTL + 1;

	return fn->cfg.layout.pcie && where <= b && b < where + size &&
	       ((val >> (8 * (b - where))) & 0x80);
}

/* PMCSR PowerState values (pci_power_t is a kernel-internal type). */
enum { PM_D0 = 0, PM_D3HOT = 3 };

/* PMCSR's PowerState, or -1 without a PM capability. Host lock held. */
static int power_state(struct pciem_function *fn)
{
	u16 pm = fn->cfg.layout.pm;

	return pm ? (int)(pciem_cfg_read(&fn->cfg, pm + PCI_PM_CTRL, 2) &
			  PCI_PM_CTRL_STATE_MASK) : -1;
}

/*
 * A move from D3hot to D0 resets a function whose PMCSR does not set
 * No_Soft_Reset (PCI PM 1.2, 5.4.1): the same internal reset as an FLR
 * for the model, the PCI core restoring the header as around an FLR.
 */
static bool soft_reset(struct pciem_function *fn, int was)
{
	u16 pm = fn->cfg.layout.pm;

	return was == PM_D3HOT && power_state(fn) == PM_D0 &&
	       !(pciem_cfg_read(&fn->cfg, pm + PCI_PM_CTRL, 2) &
		 PCI_PM_CTRL_NO_SOFT_RESET);
}

/*
 * Called by the PCI core with pci_lock held and interrupts off, so only
 * the raw host lock may be taken here. An absent devfn answers all-ones
 * like a master abort on hardware.
 */
static int pciem_cfg_read_op(struct pci_bus *bus, unsigned int devfn,
			     int where, int size, u32 *val)
{
	struct pciem_host *host = bus_to_host(bus);
	struct pciem_function *fn;
	unsigned long flags;
	int ret = PCIBIOS_SUCCESSFUL;
	bool claimed = false, blocked = false;

	raw_spin_lock_irqsave(&host->lock, flags);
	/*
	 * A function answers only while PCIem adds it or it is on the bus:
	 * a rescan must not find one PCIem has not added, and after a
	 * surprise removal pci_device_is_present() must say it is gone, or
	 * drivers try an orderly shutdown of a dead device and wait out
	 * their command timeouts.
	 */
	fn = pciem_function_config_target(host, devfn);
	if (fn)
		pciem_function_get(fn);
	if (fn && pciem_fault_config_blocked(fn)) {
		blocked = true;
		if (READ_ONCE(fn->faults.link_down)) {
			*val = ~0u;
			ret = PCIBIOS_DEVICE_NOT_FOUND;
		} else {
			*val = crs_value(where, size);
		}
	} else if (fn) {
		*val = pciem_cfg_read(&fn->cfg, where, size);
		pciem_irq_cfg_read(fn, where, size, val);
		claimed = pciem_cfg_claimed(&fn->cfg, where, size);
	} else {
		*val = ~0u;
		ret = PCIBIOS_DEVICE_NOT_FOUND;
	}
	raw_spin_unlock_irqrestore(&host->lock, flags);
	if (!fn)
		return ret;
	/* Ask the model without holding the lock every BAR decode needs. */
	if (claimed)
		pciem_ring_cfg_read(fn, where, size, val);
	trace_pciem_config(fn, false, where, size, *val, claimed);
	pciem_record_access(fn, PCIEM_REC_CFG_READ, 0, size, where, *val,
			    claimed, blocked);
	pciem_function_put(fn);
	return ret;
}

static int pciem_cfg_write_op(struct pci_bus *bus, unsigned int devfn,
			      int where, int size, u32 val)
{
	struct pciem_host *host = bus_to_host(bus);
	struct pciem_irq_rules_events ev = { 0 };
	struct pciem_function *fn;
	unsigned long flags;
	int ret = PCIBIOS_SUCCESSFUL;
	bool claimed = false, blocked = false, flr = false;
	u16 cmd_was = 0, cmd = 0;
	int pm_was;

	raw_spin_lock_irqsave(&host->lock, flags);
	fn = pciem_function_config_target(host, devfn);
	if (fn) {
		pciem_function_get(fn);
		blocked = pciem_fault_config_blocked(fn);
		claimed = !blocked && pciem_cfg_claimed(&fn->cfg, where, size);
	}
	if (fn && !blocked && !claimed) {
		flr = starts_flr(fn, where, size, val);
		cmd_was = pciem_cfg_read(&fn->cfg, PCI_COMMAND, 2);
		pm_was = power_state(fn);
		pciem_cfg_write(&fn->cfg, where, size, val);
		cmd = pciem_cfg_read(&fn->cfg, PCI_COMMAND, 2);
		flr = flr || soft_reset(fn, pm_was);
		pciem_irq_cfg_written(fn, where, size, &ev);
		/* Device-side DMA checks Bus Master Enable locklessly. */
		pciem_dma_set_bus_master(&fn->dma,
					 pciem_cfg_read(&fn->cfg, PCI_COMMAND, 2) &
					 PCI_COMMAND_MASTER);
	}
	if (!fn || (blocked && READ_ONCE(fn->faults.link_down)))
		ret = PCIBIOS_DEVICE_NOT_FOUND;
	raw_spin_unlock_irqrestore(&host->lock, flags);
	if (!fn)
		return ret;
	/* The model hears of both outside the lock: posting may wait. */
	if (claimed)
		pciem_ring_cfg_write(fn, where, size, val);
	pciem_irq_post_events(fn, &ev);
	if (cmd != cmd_was)
		pciem_ring_command_event(fn, cmd);
	if (flr) {
		pciem_ring_reset_event(fn);
		pciem_fault_reset(fn);
	}
	trace_pciem_config(fn, true, where, size, val, claimed);
	pciem_record_access(fn, PCIEM_REC_CFG_WRITE, 0, size, where, val,
			    claimed, blocked);
	pciem_function_put(fn);
	return ret;
}

static struct pci_ops pciem_pci_ops = {
	.read = pciem_cfg_read_op,
	.write = pciem_cfg_write_op,
};

int pciem_host_domain(const struct pciem_host *host)
{
	return host->domain;
}

/* ---- memory windows --------------------------------------------------------- */

#ifdef CONFIG_GET_FREE_REGION
static struct resource *free_mem_region(u64 size)
{
	return request_free_mem_region(&iomem_resource, size, "PCIem window");
}
#else
/*
 * request_free_mem_region() exists only where ZONE_DEVICE's
 * DEVICE_PRIVATE or CXL regions select GET_FREE_REGION: Debian's kernels
 * have it, a kernel trimmed from tinyconfig (the reliability lane's debug
 * kernel) does not. The same search by hand: section-sized steps down
 * from the highest address the CPU can reach (x86 sets iomem_resource's
 * end to it, which is what ioremap() accepts), the first range no
 * top-level resource overlaps.
 */
static struct resource *free_mem_region(u64 size)
{
	const u64 section = 1ULL << PA_SECTION_SHIFT;
	u64 top = min_t(u64, iomem_resource.end, (1ULL << MAX_PHYSMEM_BITS) - 1);
	struct resource *res;
	u64 addr;

	size = ALIGN(size, section);
	if (size > top + 1 - SZ_4G)
		return ERR_PTR(-ERANGE);
	res = kzalloc(sizeof(*res), GFP_KERNEL);
	if (!res)
		return ERR_PTR(-ENOMEM);
	res->name = "PCIem window";
	res->flags = IORESOURCE_MEM | IORESOURCE_BUSY;
	for (addr = ALIGN_DOWN(top + 1 - size, section); addr >= SZ_4G; addr -= section) {
		res->start = addr;
		res->end = addr + size - 1;
		if (!request_resource(&iomem_resource, res))
			return res;
	}
	kfree(res);
	return ERR_PTR(-ERANGE);
}
#endif

/*
 * 64-bit BARs live in a window above the top of RAM found at runtime
 * (no memmap= carving). request_free_mem_region() marks its result busy
 * as a driver's claim would be; a bridge window must not be busy, or the
 * drivers of our functions could not request their BARs inside it.
 */
static int take_window64(struct pciem_host *host, u64 size)
{
	struct resource *res;

	res = free_mem_region(size);
	if (IS_ERR(res))
		return PTR_ERR(res);
	res->flags &= ~IORESOURCE_BUSY;
	res->desc = IORES_DESC_NONE;
	host->win64 = res;
	return 0;
}

/*
 * 32-bit BARs need addresses below 4 GiB. Take a hole in the top-level
 * iomem map if there is one, or else a free range inside a firmware host
 * bridge's 32-bit window, as hotplug slots do.
 */
static int take_window32(struct pciem_host *host, u64 size)
{
	struct resource *win = &host->win32;
	struct pci_bus *b = NULL;
	struct resource *r;
	unsigned int i;

	win->name = "PCIem window (32-bit)";
	win->flags = IORESOURCE_MEM;
	if (!allocate_resource(&iomem_resource, win, size, SZ_1G, U32_MAX,
			       size, NULL, NULL))
		return 0;

	while ((b = pci_find_next_bus(b))) {
		if (!pci_is_root_bus(b) || b == host->bus)
			continue;
		pci_bus_for_each_resource(b, r, i) {
			if (!r || resource_type(r) != IORESOURCE_MEM ||
			    r->flags & IORESOURCE_PREFETCH || r->end > U32_MAX)
				continue;
			if (!allocate_resource(r, win, size, r->start, r->end,
					       size, NULL, NULL))
				return 0;
		}
	}
	memset(win, 0, sizeof(*win));
	return -ENOSPC;
}

static void put_windows(struct pciem_host *host)
{
	if (host->win32.parent)
		release_resource(&host->win32);
	if (host->win64) {
		release_resource(host->win64);
		kfree(host->win64);
		host->win64 = NULL;
	}
}

/* ---- bring-up and tear-down ------------------------------------------------- */

static int find_free_domain(void)
{
	int d;

	for (d = PCIEM_FIRST_DOMAIN; d < PCIEM_FIRST_DOMAIN + 0x1000; d++)
		if (!pci_find_bus(d, 0))
			return d;
	return -ENOSPC;
}

/**
 * pciem_host_init() - create the root bus, empty
 * @host:	zeroed host structure
 * @win64_size:	bytes for 64-bit BARs
 * @win32_size:	bytes for 32-bit BARs (best effort)
 */
int pciem_host_init(struct pciem_host *host, u64 win64_size, u64 win32_size)
{
	LIST_HEAD(resources);
	int domain, ret;

	raw_spin_lock_init(&host->lock);
	mutex_init(&host->mutex);

	ret = take_window64(host, win64_size);
	if (ret) {
		pr_err("cannot take a %llu MiB memory window: %d\n",
		       win64_size >> 20, ret);
		return ret;
	}
	if (win32_size && take_window32(host, win32_size))
		pr_info("no room below 4 GiB: 32-bit BARs are unavailable\n");

	pci_lock_rescan_remove();
	domain = find_free_domain();
	if (domain < 0) {
		ret = domain;
		goto err_unlock;
	}
	host->domain = domain;
	ret = pciem_irq_host_init(host);
	if (ret)
		goto err_unlock;

	host->busn.name = "PCIem bus";
	host->busn.flags = IORESOURCE_BUS;
	pci_add_resource(&resources, &host->busn);
	pci_add_resource(&resources, host->win64);
	if (host->win32.parent)
		pci_add_resource(&resources, &host->win32);

	host->bus = pciem_arch_create_root_bus(host, &pciem_pci_ops, &resources);
	if (!host->bus) {
		pci_free_resource_list(&resources);
		pciem_irq_host_exit(host);
		ret = -ENODEV;
		goto err_unlock;
	}
	pciem_irq_host_attach(host);
	pci_bus_add_devices(host->bus);
	pci_unlock_rescan_remove();
	/* The bus is empty: functions come later, each seen by this. */
	ret = pciem_function_host_init(host);
	if (ret) {
		pciem_host_exit(host);
		return ret;
	}
	pciem_dma_host_init(host);

	pr_info("root bus %04x:00 ready, 64-bit BARs in %pR\n", domain,
		host->win64);
	if (host->win32.parent)
		pr_info("32-bit BARs in %pR\n", &host->win32);
	return 0;

err_unlock:
	pci_unlock_rescan_remove();
	put_windows(host);
	return ret;
}

void pciem_host_exit(struct pciem_host *host)
{
	/*
	 * The bus's `rescan` file takes the rescan/remove lock, and removing
	 * the bus under that lock waits for writers of its files: let them
	 * finish, and no new ones start, first.
	 */
	struct attribute rescan = { .name = "rescan" };
	struct pci_host_bridge *bridge = to_pci_host_bridge(host->bus->bridge);

	sysfs_remove_file(&host->bus->dev.kobj, &rescan);
	pciem_function_host_exit(host);
	pci_lock_rescan_remove();
	pci_remove_root_bus(host->bus);
	pci_unlock_rescan_remove();
	/*
	 * pci_remove_root_bus() only deletes the bridge's device: the
	 * reference pci_alloc_host_bridge() gave us is ours to drop, which
	 * frees the bridge and its list of windows (kmemleak on the debug
	 * kernel found both left behind by every unloaded module).
	 */
	put_device(&bridge->dev);
	pciem_irq_host_exit(host);
	put_windows(host);
}
