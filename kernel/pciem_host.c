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
#include <linux/pci.h>
#include <linux/sizes.h>

#include "pciem.h"

/* The first domain number tried; Linux gives firmware segments 0-0xffff. */
#define PCIEM_FIRST_DOMAIN	0x10000

/* ---- config accessors ---------------------------------------------------- */

static struct pciem_host *bus_to_host(struct pci_bus *bus)
{
	return container_of(bus->sysdata, struct pciem_host, sysdata);
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
	bool claimed = false;

	raw_spin_lock_irqsave(&host->lock, flags);
	fn = devfn < PCIEM_NR_DEVFN ? host->fn[devfn] : NULL;
	/*
	 * After a surprise removal the function no longer answers, even
	 * while its driver is being unbound: pci_device_is_present() must
	 * say so, or drivers try an orderly shutdown of a dead device and
	 * wait out their command timeouts.
	 */
	if (fn && READ_ONCE(fn->gone))
		fn = NULL;
	if (fn) {
		*val = pciem_cfg_read(&fn->cfg, where, size);
		pciem_irq_cfg_read(fn, where, size, val);
		claimed = pciem_cfg_claimed(&fn->cfg, where, size);
		if (claimed)
			kref_get(&fn->ref);
	} else {
		*val = ~0u;
		ret = PCIBIOS_DEVICE_NOT_FOUND;
	}
	raw_spin_unlock_irqrestore(&host->lock, flags);
	/* Ask the model without holding the lock every BAR decode needs. */
	if (claimed) {
		pciem_ring_cfg_read(fn, where, size, val);
		pciem_function_put(fn);
	}
	return ret;
}

static int pciem_cfg_write_op(struct pci_bus *bus, unsigned int devfn,
			      int where, int size, u32 val)
{
	struct pciem_host *host = bus_to_host(bus);
	struct pciem_irq_events ev = { 0 };
	struct pciem_function *fn;
	unsigned long flags;
	int ret = PCIBIOS_SUCCESSFUL;
	bool claimed = false;

	raw_spin_lock_irqsave(&host->lock, flags);
	fn = devfn < PCIEM_NR_DEVFN ? host->fn[devfn] : NULL;
	if (fn && READ_ONCE(fn->gone))
		fn = NULL;	/* surprise-removed: writes go nowhere */
	if (fn) {
		kref_get(&fn->ref);
		claimed = pciem_cfg_claimed(&fn->cfg, where, size);
		if (!claimed) {
			pciem_cfg_write(&fn->cfg, where, size, val);
			pciem_irq_cfg_written(fn, where, size, &ev);
			/* Device-side DMA checks Bus Master Enable locklessly. */
			WRITE_ONCE(fn->dma.bus_master,
				   pciem_cfg_read(&fn->cfg, PCI_COMMAND, 2) &
				   PCI_COMMAND_MASTER);
		}
	} else {
		ret = PCIBIOS_DEVICE_NOT_FOUND;
	}
	raw_spin_unlock_irqrestore(&host->lock, flags);
	if (!fn)
		return ret;
	/* The model hears of both outside the lock: posting may wait. */
	if (claimed)
		pciem_ring_cfg_write(fn, where, size, val);
	pciem_irq_post_events(fn, &ev);
	pciem_function_put(fn);
	return ret;
}

static struct pci_ops pciem_pci_ops = {
	.read = pciem_cfg_read_op,
	.write = pciem_cfg_write_op,
};

/* ---- devfn table ------------------------------------------------------------ */

static bool slot_is_free(struct pciem_host *host, unsigned int slot)
{
	unsigned int f;

	for (f = 0; f < 8; f++)
		if (host->fn[PCI_DEVFN(slot, f)])
			return false;
	return true;
}

/**
 * pciem_host_claim_devfn() - make @fn visible to config cycles
 * @host:	host bridge
 * @fn:		fully built function
 * @fixed:	use @devfn; otherwise take function 0 of the first free slot
 * @devfn:	requested devfn when @fixed
 * @err:	set on failure
 *
 * Return: 0, -EBUSY if @devfn is taken, -ENOSPC if no slot is free.
 */
int pciem_host_claim_devfn(struct pciem_host *host, struct pciem_function *fn,
			   bool fixed, u8 devfn, struct pciem_error *err)
{
	unsigned int slot;
	int ret = 0;

	mutex_lock(&host->mutex);
	if (fixed) {
		if (host->fn[devfn]) {
			err->code = PCIEM_ERR_DEVFN_BUSY;
			ret = -EBUSY;
		}
	} else {
		for (slot = 0; slot < 32; slot++)
			if (slot_is_free(host, slot))
				break;
		if (slot == 32) {
			err->code = PCIEM_ERR_BUS_FULL;
			ret = -ENOSPC;
		}
		devfn = PCI_DEVFN(slot, 0);
	}
	if (!ret) {
		fn->devfn = devfn;
		raw_spin_lock_irq(&host->lock);
		host->fn[devfn] = fn;
		raw_spin_unlock_irq(&host->lock);
	}
	mutex_unlock(&host->mutex);
	return ret;
}

/* Hide @fn from config cycles; its pci_dev must already be gone. */
void pciem_host_release_devfn(struct pciem_host *host,
			      struct pciem_function *fn)
{
	mutex_lock(&host->mutex);
	raw_spin_lock_irq(&host->lock);
	host->fn[fn->devfn] = NULL;
	raw_spin_unlock_irq(&host->lock);
	mutex_unlock(&host->mutex);
}

/*
 * The pci_dev at @devfn, referenced, or NULL if the PCI core has none
 * (not scanned yet, or removed through sysfs while its fd lives on).
 */
struct pci_dev *pciem_host_get_pdev(struct pciem_host *host, u8 devfn)
{
	return pci_get_slot(host->bus, devfn);
}

/* The bus address a memory BAR of @fn decodes now (0: not programmed). */
static u64 bar_base(struct pciem_function *fn, unsigned int bar)
{
	u64 base = pciem_cfg_read(&fn->cfg, PCI_BASE_ADDRESS_0 + 4 * bar, 4);

	if (fn->cfg.bar_flags[bar] & PCIEM_BAR_MEM64)
		base |= (u64)pciem_cfg_read(&fn->cfg,
					    PCI_BASE_ADDRESS_0 + 4 * bar + 4,
					    4) << 32;
	return base & PCI_BASE_ADDRESS_MEM_MASK;
}

/**
 * pciem_host_get_fn() - the function behind a pci_dev, for its DMA ops
 * @host:	host bridge
 * @pdev:	a pci_dev on its bus
 *
 * Any context. NULL once the function was removed, even if a stale
 * pci_dev lingers or its devfn was taken by a new function.
 *
 * Return: the function with a reference held, or NULL.
 */
struct pciem_function *pciem_host_get_fn(struct pciem_host *host,
					 struct pci_dev *pdev)
{
	struct pciem_function *fn;
	unsigned long flags;

	raw_spin_lock_irqsave(&host->lock, flags);
	fn = host->fn[pdev->devfn];
	if (fn && READ_ONCE(fn->dma.pdev) == pdev)
		kref_get(&fn->ref);
	else
		fn = NULL;
	raw_spin_unlock_irqrestore(&host->lock, flags);
	return fn;
}

/**
 * pciem_host_find_bar() - which function's BAR decodes @phys
 * @host:	host bridge
 * @phys:	bus address
 * @bar:	out: BAR index
 * @offset:	out: offset in the BAR
 *
 * Decodes the way hardware does, from the BAR registers as software last
 * programmed them. Any context but NMI.
 *
 * Return: the function with a reference held, or NULL (master abort).
 */
struct pciem_function *pciem_host_find_bar(struct pciem_host *host, u64 phys,
					   unsigned int *bar, u64 *offset)
{
	struct pciem_function *fn;
	unsigned long flags;
	unsigned int d, i;
	u64 base;

	raw_spin_lock_irqsave(&host->lock, flags);
	for (d = 0; d < PCIEM_NR_DEVFN; d++) {
		fn = host->fn[d];
		if (!fn)
			continue;
		for (i = 0; i < PCIEM_MAX_BARS; i++) {
			if (!fn->cfg.bar_size[i])
				continue;
			base = bar_base(fn, i);
			if (base && phys >= base &&
			    phys - base < fn->cfg.bar_size[i]) {
				kref_get(&fn->ref);
				raw_spin_unlock_irqrestore(&host->lock, flags);
				*bar = i;
				*offset = phys - base;
				return fn;
			}
		}
	}
	raw_spin_unlock_irqrestore(&host->lock, flags);
	return NULL;
}

/* Memory Space Enable: with it clear, hardware master-aborts BAR cycles. */
bool pciem_function_decodes_memory(struct pciem_function *fn)
{
	unsigned long flags;
	u32 cmd;

	raw_spin_lock_irqsave(&fn->host->lock, flags);
	cmd = pciem_cfg_read(&fn->cfg, PCI_COMMAND, 2);
	raw_spin_unlock_irqrestore(&fn->host->lock, flags);
	return cmd & PCI_COMMAND_MEMORY;
}

int pciem_host_domain(const struct pciem_host *host)
{
	return host->sysdata.domain;
}

/* ---- memory windows --------------------------------------------------------- */

/*
 * 64-bit BARs live in a window above the top of RAM found at runtime
 * (no memmap= carving). request_free_mem_region() marks its result busy
 * as a driver's claim would be; a bridge window must not be busy, or the
 * drivers of our functions could not request their BARs inside it.
 */
static int take_window64(struct pciem_host *host, u64 size)
{
	struct resource *res;

	res = request_free_mem_region(&iomem_resource, size, "PCIem window");
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
	host->sysdata.domain = domain;
	host->sysdata.node = NUMA_NO_NODE;
	ret = pciem_irq_host_init(host);
	if (ret)
		goto err_unlock;

	host->busn.name = "PCIem bus";
	host->busn.flags = IORESOURCE_BUS;
	pci_add_resource(&resources, &host->busn);
	pci_add_resource(&resources, host->win64);
	if (host->win32.parent)
		pci_add_resource(&resources, &host->win32);

	host->bus = pci_create_root_bus(NULL, 0, &pciem_pci_ops,
					&host->sysdata, &resources);
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
	ret = pciem_dma_host_init(host);
	if (ret) {
		pciem_host_exit(host);
		return ret;
	}

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
	pciem_dma_host_exit(host);
	pci_lock_rescan_remove();
	pci_remove_root_bus(host->bus);
	pci_unlock_rescan_remove();
	pciem_irq_host_exit(host);
	put_windows(host);
}
