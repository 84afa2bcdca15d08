// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The function layer: one emulated PCI function's life, and the host's
 * table of functions by devfn. Nothing else reaches into the table.
 *
 * A function is a small state machine (enum pciem_fn_state in pciem.h).
 * The rules that keep the kernel safe against everything else that adds
 * and removes PCI devices:
 *
 * - Config cycles are answered only while PCIem itself adds the function
 *   (ADDING, under the PCI core's rescan/remove lock) and while it is on
 *   the bus (ON_BUS). A rescan therefore never finds a function PCIem has
 *   not added, nor one that is being removed or was removed: no pci_dev is
 *   ever added twice.
 * - Exactly one party removes the pci_dev: PCIem (its fd was released),
 *   or a writer of the device's sysfs `remove` file. That writer removes
 *   the file itself first, then waits for the rescan/remove lock with a
 *   bare pointer to the pci_dev. So PCIem never takes that lock while
 *   such a writer may be inside the file (device_del() would wait for the
 *   writer, which waits for the lock), and never lets the pci_dev go
 *   while such a writer may still use it.
 * - The pci_dev is referenced by the function from its scan until its
 *   removal is over, and the sysfs directory as well, so its files can be
 *   reached even while a writer deletes the device.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernfs.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "pciem.h"
#include "pciem_arch.h"
#include "cfgspace/pciem_cfg_decode.h"
#include "pciem_trace.h"

/* ---- references ------------------------------------------------------------ */

static void pciem_function_free_now(struct pciem_function *fn)
{
	pciem_ring_free(&fn->ring);
	pciem_rambar_free(fn);
	pciem_irq_free(fn);
	pciem_faults_free(fn);
	kvfree(fn->create_rec);
	kvfree(fn);
}

static void pciem_function_free_work(struct work_struct *work)
{
	pciem_function_free_now(container_of(work, struct pciem_function,
					     free_work));
}

static void pciem_function_free_rcu(struct rcu_head *rcu)
{
	struct pciem_function *fn = container_of(rcu, struct pciem_function,
						 rcu);

	/* Unpinning marks the pages dirty under their lock, which sleeps. */
	if (pciem_rambar_pinned(fn)) {
		INIT_WORK(&fn->free_work, pciem_function_free_work);
		queue_work(pciem_wq, &fn->free_work);
		return;
	}
	pciem_function_free_now(fn);
}

/*
 * A fault or config cycle may hold the last reference, with interrupts
 * off; vfree() must not run there, an RCU callback may.
 */
static void pciem_function_free(struct kref *ref)
{
	struct pciem_function *fn = container_of(ref, struct pciem_function,
						 ref);

	call_rcu(&fn->rcu, pciem_function_free_rcu);
}

void pciem_function_get(struct pciem_function *fn)
{
	kref_get(&fn->ref);
}

void pciem_function_put(struct pciem_function *fn)
{
	kref_put(&fn->ref, pciem_function_free);
}

/**
 * pciem_function_alloc() - an empty function of @host, in state NEW
 * @host:	host bridge
 *
 * Return: the function holding one reference (the creator's), or NULL.
 */
struct pciem_function *pciem_function_alloc(struct pciem_host *host)
{
	struct pciem_function *fn = kvzalloc(sizeof(*fn), GFP_KERNEL);

	if (!fn)
		return NULL;
	kref_init(&fn->ref);
	fn->host = host;
	WRITE_ONCE(fn->state, PCIEM_FN_NEW);
	init_completion(&fn->pdev_deleted);
	mutex_init(&fn->irqfd_lock);
	mutex_init(&fn->start_lock);
	INIT_LIST_HEAD(&fn->irqfds);
	pciem_dma_init(fn);
	pciem_faults_init(fn);
	return fn;
}

/* ---- state ----------------------------------------------------------------- */

static enum pciem_fn_state get_state(struct pciem_function *fn)
{
	unsigned long flags;
	enum pciem_fn_state st;

	raw_spin_lock_irqsave(&fn->host->lock, flags);
	st = fn->state;
	raw_spin_unlock_irqrestore(&fn->host->lock, flags);
	return st;
}

/* Every state change goes here: traced and recorded. Host lock held. */
static void set_state(struct pciem_function *fn, enum pciem_fn_state to)
{
	lockdep_assert_held(&fn->host->lock);
	trace_pciem_state(fn, fn->state, to);
	WRITE_ONCE(fn->state, to);
	pciem_record_state(fn);
}

/* Move @fn from @from to @to; false (and no change) if it was not in @from. */
static bool move_state(struct pciem_function *fn, enum pciem_fn_state from,
		       enum pciem_fn_state to)
{
	unsigned long flags;
	bool moved;

	raw_spin_lock_irqsave(&fn->host->lock, flags);
	moved = fn->state == from;
	if (moved)
		set_state(fn, to);
	raw_spin_unlock_irqrestore(&fn->host->lock, flags);
	return moved;
}

/* What PCIEM_IOC_LIST and PCIEM_IOC_DEV_INFO report. */
u32 pciem_function_uapi_state(struct pciem_function *fn)
{
	switch (get_state(fn)) {
	case PCIEM_FN_NEW:
		return PCIEM_STATE_NOT_STARTED;
	case PCIEM_FN_ADDING:
	case PCIEM_FN_ON_BUS:
		return PCIEM_STATE_PRESENT;
	case PCIEM_FN_DETACHED:
		return PCIEM_STATE_DETACHED;
	case PCIEM_FN_PULLED:
		return PCIEM_STATE_PULLED;
	default:
		return PCIEM_STATE_REMOVING;
	}
}

/*
 * Has the PCI core removed @fn (sysfs remove)? A snapshot without the
 * lock, for the device fd's ioctls: DETACHED is never left while the fd
 * is open.
 */
bool pciem_function_detached(struct pciem_function *fn)
{
	return READ_ONCE(fn->state) == PCIEM_FN_DETACHED;
}

/**
 * pciem_function_get_pdev() - @fn's pci_dev while it is on the bus
 * @fn:		function
 *
 * Return: the pci_dev, referenced (pci_dev_put() it), or NULL.
 */
struct pci_dev *pciem_function_get_pdev(struct pciem_function *fn)
{
	struct pci_dev *pdev = NULL;
	unsigned long flags;

	raw_spin_lock_irqsave(&fn->host->lock, flags);
	if (fn->state == PCIEM_FN_ON_BUS)
		pdev = pci_dev_get(fn->pdev);
	raw_spin_unlock_irqrestore(&fn->host->lock, flags);
	return pdev;
}

/* ---- the table ---------------------------------------------------------------- */

static bool slot_is_free(struct pciem_host *host, unsigned int slot)
{
	unsigned int f;

	for (f = 0; f < 8; f++)
		if (host->fn[PCI_DEVFN(slot, f)])
			return false;
	return true;
}

/**
 * pciem_function_claim() - give @fn a devfn in its host's table
 * @fn:		fully built function, state NEW
 * @fixed:	use @devfn; otherwise take function 0 of the first free slot
 * @devfn:	requested devfn when @fixed
 * @err:	set on failure
 *
 * The function stays invisible to config cycles until it is added.
 *
 * Return: 0, -EBUSY if @devfn is taken, -ENOSPC if no slot is free.
 */
int pciem_function_claim(struct pciem_function *fn, bool fixed, u8 devfn,
			 struct pciem_error *err)
{
	struct pciem_host *host = fn->host;
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
		snprintf(fn->name, sizeof(fn->name), "%04x:%02x:%02x.%x",
			 pciem_host_domain(host), host->bus->number,
			 PCI_SLOT(devfn), PCI_FUNC(devfn));
		raw_spin_lock_irq(&host->lock);
		WRITE_ONCE(host->fn[devfn], fn);
		raw_spin_unlock_irq(&host->lock);
	}
	mutex_unlock(&host->mutex);
	return ret;
}

/* Take @fn out of the table: GONE. Its pci_dev must be gone already. */
static void release_devfn(struct pciem_function *fn)
{
	struct pciem_host *host = fn->host;

	mutex_lock(&host->mutex);
	raw_spin_lock_irq(&host->lock);
	WRITE_ONCE(host->fn[fn->devfn], NULL);
	set_state(fn, PCIEM_FN_GONE);
	raw_spin_unlock_irq(&host->lock);
	mutex_unlock(&host->mutex);
}

/**
 * pciem_function_config_target() - the function a config cycle reaches
 * @host:	host bridge; the caller holds @host->lock
 * @devfn:	devfn of the cycle
 *
 * Return: the function at @devfn if it answers config cycles now (it is
 * being added or is on the bus), else NULL: a master abort.
 */
struct pciem_function *pciem_function_config_target(struct pciem_host *host,
						    unsigned int devfn)
{
	struct pciem_function *fn;

	lockdep_assert_held(&host->lock);
	fn = devfn < PCIEM_NR_DEVFN ? host->fn[devfn] : NULL;
	if (fn && fn->state != PCIEM_FN_ADDING && fn->state != PCIEM_FN_ON_BUS)
		return NULL;
	return fn;
}

/**
 * pciem_function_of_pdev() - the function behind a pci_dev of PCIem's bus
 * @pdev:	a pci_dev on PCIem's root bus
 *
 * Any context. NULL once the function has let its pci_dev go, even if a
 * stale pci_dev lingers or its devfn was taken by a new function.
 *
 * Return: the function with a reference held, or NULL.
 */
struct pciem_function *pciem_function_of_pdev(struct pci_dev *pdev)
{
	struct pciem_host *host = pciem_arch_bus_host(pdev->bus);
	struct pciem_function *fn;

	/*
	 * Without the host's lock: every DMA API call of a driver comes
	 * here, twice per I/O, and the lock's interrupt re-enable is dear
	 * under TCG. A function is freed an RCU grace period after its last
	 * reference goes (pciem_function_free()), so the one read here
	 * stays readable; one whose references are gone is not taken.
	 */
	rcu_read_lock();
	fn = READ_ONCE(host->fn[pdev->devfn]);
	if (!fn || READ_ONCE(fn->pdev) != pdev || !kref_get_unless_zero(&fn->ref))
		fn = NULL;
	rcu_read_unlock();
	return fn;
}

/**
 * pciem_function_find_bar() - which function's BAR decodes @phys
 * @host:	host bridge
 * @phys:	bus address
 * @bar:	out: BAR index
 * @offset:	out: offset in the BAR
 *
 * Decodes the way hardware does, from the BAR registers as software last
 * programmed them (pciem_cfg_bar_decode(), shared with the other hosts).
 * Any context but NMI.
 *
 * Return: the function with a reference held, or NULL (master abort).
 */
struct pciem_function *pciem_function_find_bar(struct pciem_host *host,
					       u64 phys, unsigned int *bar,
					       u64 *offset)
{
	struct pciem_function *fn;
	unsigned long flags;
	unsigned int d;

	raw_spin_lock_irqsave(&host->lock, flags);
	for (d = 0; d < PCIEM_NR_DEVFN; d++) {
		fn = host->fn[d];
		if (!fn)
			continue;
		if (pciem_cfg_bar_decode(&fn->cfg, phys, 1, bar, offset)) {
			pciem_function_get(fn);
			raw_spin_unlock_irqrestore(&host->lock, flags);
			return fn;
		}
	}
	raw_spin_unlock_irqrestore(&host->lock, flags);
	return NULL;
}

/*
 * Does @fn decode its BARs now? Only on the bus (or being added), with
 * its link up and Memory Space Enable set: otherwise hardware
 * master-aborts BAR cycles.
 */
bool pciem_function_decodes_memory(struct pciem_function *fn)
{
	unsigned long flags;
	bool on;

	raw_spin_lock_irqsave(&fn->host->lock, flags);
	on = (fn->state == PCIEM_FN_ADDING || fn->state == PCIEM_FN_ON_BUS) &&
	     !READ_ONCE(fn->faults.link_down) &&
	     pciem_cfg_memory_enabled(&fn->cfg);
	raw_spin_unlock_irqrestore(&fn->host->lock, flags);
	return on;
}

/**
 * pciem_function_lookup() - the function at a PCI address
 * @host:	host bridge
 * @domain:	PCI domain
 * @bus:	bus number
 * @devfn:	device and function
 *
 * Return: the function with a reference held, or NULL if there is none.
 */
struct pciem_function *pciem_function_lookup(struct pciem_host *host,
					     u32 domain, u8 bus, u8 devfn)
{
	struct pciem_function *fn = NULL;
	unsigned long flags;

	if (domain != pciem_host_domain(host) || bus != host->bus->number)
		return NULL;
	raw_spin_lock_irqsave(&host->lock, flags);
	fn = host->fn[devfn];
	if (fn)
		pciem_function_get(fn);
	raw_spin_unlock_irqrestore(&host->lock, flags);
	return fn;
}

/**
 * pciem_visit_functions() - call @cb for every function in the table
 * @host:	host bridge
 * @arg:	passed to @cb
 * @cb:		called with the table's mutex held; may sleep
 */
void pciem_visit_functions(struct pciem_host *host, void *arg,
			   void (*cb)(struct pciem_function *, void *))
{
	unsigned int d;

	mutex_lock(&host->mutex);
	for (d = 0; d < PCIEM_NR_DEVFN; d++)
		if (host->fn[d])
			cb(host->fn[d], arg);
	mutex_unlock(&host->mutex);
}

/* ---- taking the pci_dev off the bus ---------------------------------------- */

/*
 * Remove file @name from the pci_dev's sysfs directory @dir, waiting for
 * writers inside it to leave. sysfs_remove_file() finds the directory
 * through a kobject; the pci_dev's own may be losing its directory to a
 * concurrent device_del(), so it is given one that holds PCIem's
 * reference instead.
 */
static void drain_sysfs_file(struct kernfs_node *dir, const char *name)
{
	struct kobject holder = { .sd = dir };
	struct attribute attr = { .name = name };

	sysfs_remove_file(&holder, &attr);
}

/*
 * Does a writer of the pci_dev's `remove` file own its removal? Such a
 * writer removes the file itself (kernfs marks it SUICIDAL) and then
 * removes the pci_dev under the rescan/remove lock. Called without that
 * lock. Afterwards no writer can start any more: the file is gone, and
 * so is `rescan`, whose writer also takes the lock.
 */
static bool sysfs_writer_removes(struct pciem_function *fn)
{
	struct kernfs_node *kn;
	bool theirs;

	drain_sysfs_file(fn->sysfs_dir, "rescan");
	kn = kernfs_find_and_get(fn->sysfs_dir, "remove");
	if (!kn)
		return true;	/* removed by a writer, or with the device */
	drain_sysfs_file(fn->sysfs_dir, "remove");
	/* Final now: a writer in the file was waited for above. */
	theirs = READ_ONCE(kn->flags) & KERNFS_SUICIDAL;
	kernfs_put(kn);
	return theirs;
}

/*
 * Take @fn's pci_dev off the bus and let it go. Called without the
 * rescan/remove lock, in state REMOVING (or DETACHED: the PCI core
 * removed it already). The bound driver's remove() runs in here.
 */
static void remove_pdev(struct pciem_function *fn)
{
	struct pci_dev *pdev = fn->pdev;

	if (!pdev)
		return;
	if (sysfs_writer_removes(fn)) {
		wait_for_completion(&fn->pdev_deleted);
		/*
		 * The writer deleted the device holding the lock and does not
		 * touch the pci_dev after dropping it: once the lock is ours,
		 * so is the pci_dev.
		 */
		pci_lock_rescan_remove();
	} else {
		pci_lock_rescan_remove();
		pci_stop_and_remove_bus_device(pdev);
	}
	fn->pdev = NULL;
	pci_unlock_rescan_remove();
	kernfs_put(fn->sysfs_dir);
	fn->sysfs_dir = NULL;
	pci_dev_put(pdev);
}

/* ---- adding and removing ------------------------------------------------------ */

/*
 * Scan the function in and give its BARs addresses; the PCI core's
 * rescan/remove lock is held. On failure the pci_dev, if one was made,
 * stays for the caller to remove without the lock.
 */
static int scan_and_assign(struct pciem_function *fn, struct pciem_error *err)
{
	struct pci_dev *pdev;
	int i, ret;

	pdev = pci_scan_single_device(fn->host->bus, fn->devfn);
	if (!pdev) {
		err->code = PCIEM_ERR_NO_DEVICE;
		return -ENODEV;
	}
	fn->pdev = pci_dev_get(pdev);
	fn->sysfs_dir = pdev->dev.kobj.sd;
	kernfs_get(fn->sysfs_dir);
	for (i = 0; i < PCIEM_MAX_BARS; i++) {
		if (!fn->cfg.bar_size[i])
			continue;
		ret = pci_assign_resource(pdev, i);
		if (ret) {
			err->code = PCIEM_ERR_BAR_NO_SPACE;
			err->index = i;
			return -ENOSPC;
		}
	}
	/* The ROM's register is written when software enables it. */
	if (fn->cfg.rom_size && pci_assign_resource(pdev, PCI_ROM_RESOURCE)) {
		err->code = PCIEM_ERR_BAR_NO_SPACE;
		err->index = PCIEM_ROM_BAR;
		return -ENOSPC;
	}
	return 0;
}

/**
 * pciem_function_add() - put a NEW function on the bus
 * @fn:		function
 * @err:	set on failure
 *
 * Drivers probe inside. On failure the function is NEW again.
 *
 * Return: 0, -EALREADY if it is not NEW (added before), -ENODEV if it was
 * removed, or the reason the PCI core could not add it.
 */
int pciem_function_add(struct pciem_function *fn, struct pciem_error *err)
{
	int ret;

	pci_lock_rescan_remove();
	if (!move_state(fn, PCIEM_FN_NEW, PCIEM_FN_ADDING)) {
		pci_unlock_rescan_remove();
		return get_state(fn) == PCIEM_FN_ON_BUS ? -EALREADY : -ENODEV;
	}
	reinit_completion(&fn->pdev_deleted);
	ret = scan_and_assign(fn, err);
	if (!ret) {
		pci_bus_add_device(fn->pdev);
		move_state(fn, PCIEM_FN_ADDING, PCIEM_FN_ON_BUS);
		pci_unlock_rescan_remove();
		return 0;
	}
	move_state(fn, PCIEM_FN_ADDING, PCIEM_FN_REMOVING);
	pci_unlock_rescan_remove();
	remove_pdev(fn);
	move_state(fn, PCIEM_FN_REMOVING, PCIEM_FN_NEW);
	return ret;
}

/**
 * pciem_function_remove() - the end of a function: off the bus, out of
 * the table
 * @fn:		function, whatever its state
 *
 * Process context, no PCI locks held. Config cycles master-abort from the
 * first moment, as for a device pulled from its slot: the driver's
 * remove() does not wait on a device that is gone.
 */
void pciem_function_remove(struct pciem_function *fn)
{
	unsigned long flags;

	mutex_lock(&fn->start_lock);
	raw_spin_lock_irqsave(&fn->host->lock, flags);
	set_state(fn, PCIEM_FN_REMOVING);
	raw_spin_unlock_irqrestore(&fn->host->lock, flags);
	remove_pdev(fn);
	pciem_irq_detach(fn);
	release_devfn(fn);
	mutex_unlock(&fn->start_lock);
	pciem_record_stop(fn);
}

/**
 * pciem_function_pull() - an injected surprise removal
 * @fn:		function
 *
 * The function leaves the bus as if pulled from its slot: config cycles
 * and BAR accesses master-abort at once, the driver is unbound, the
 * pci_dev goes. Its owner and model are not told and keep running, so
 * that pciem_function_reinsert() can plug the same device in again.
 *
 * Return: 0, -EALREADY if it is pulled already, -ENODEV if it is not on
 * the bus.
 */
int pciem_function_pull(struct pciem_function *fn)
{
	int ret = 0;

	mutex_lock(&fn->start_lock);
	if (!move_state(fn, PCIEM_FN_ON_BUS, PCIEM_FN_PULLED)) {
		ret = get_state(fn) == PCIEM_FN_PULLED ? -EALREADY : -ENODEV;
	} else {
		pciem_fault_note(fn, PCIEM_FAULT_SURPRISE_REMOVE, 0, 0);
		remove_pdev(fn);
		pciem_irq_detach(fn);
	}
	mutex_unlock(&fn->start_lock);
	return ret;
}

/**
 * pciem_function_reinsert() - plug a pulled function in again
 * @fn:		function
 *
 * A reset of the device (a CRS rule may take it); the PCI core then finds
 * it as a new device and drivers probe it.
 *
 * Return: 0, -EALREADY if it was not pulled, or why adding it failed (it
 * stays pulled then).
 */
int pciem_function_reinsert(struct pciem_function *fn)
{
	struct pciem_error err = { 0 };
	int ret;

	mutex_lock(&fn->start_lock);
	if (!move_state(fn, PCIEM_FN_PULLED, PCIEM_FN_NEW)) {
		ret = -EALREADY;
	} else {
		pciem_fault_note(fn, PCIEM_FAULT_REINSERT, 0, 0);
		pciem_fault_reset(fn);
		ret = pciem_function_add(fn, &err);
		if (ret)
			move_state(fn, PCIEM_FN_NEW, PCIEM_FN_PULLED);
	}
	mutex_unlock(&fn->start_lock);
	return ret;
}

/* ---- the PCI core's view -------------------------------------------------------- */

static struct pciem_host *notify_host;

/*
 * A pci_dev of PCIem's bus comes or goes. At BUS_NOTIFY_ADD_DEVICE (from
 * device_add(), before any driver can probe) PCIem's DMA ops go on; at
 * BUS_NOTIFY_DEL_DEVICE the function learns its pci_dev is deleted, and
 * if PCIem did not ask for it (sysfs remove), it is DETACHED and its
 * owner is told through the ring.
 */
static int pciem_bus_notify(struct notifier_block *nb, unsigned long action,
			    void *data)
{
	struct pci_dev *pdev = to_pci_dev(data);
	struct pciem_host *host = notify_host;
	struct pciem_function *fn;
	bool detached = false;
	unsigned long flags;

	if (pdev->bus != host->bus || (action != BUS_NOTIFY_ADD_DEVICE &&
				       action != BUS_NOTIFY_DEL_DEVICE))
		return NOTIFY_DONE;
	raw_spin_lock_irqsave(&host->lock, flags);
	fn = host->fn[pdev->devfn];
	/* Only PCIem adds (ADDING); what it added is fn->pdev from then on. */
	if (fn && (action == BUS_NOTIFY_ADD_DEVICE ?
		   fn->state == PCIEM_FN_ADDING : fn->pdev == pdev)) {
		pciem_function_get(fn);
		if (action == BUS_NOTIFY_DEL_DEVICE &&
		    fn->state == PCIEM_FN_ON_BUS) {
			set_state(fn, PCIEM_FN_DETACHED);
			detached = true;
		}
	} else {
		fn = NULL;
	}
	raw_spin_unlock_irqrestore(&host->lock, flags);
	if (!fn)
		return NOTIFY_DONE;

	if (action == BUS_NOTIFY_ADD_DEVICE) {
		pciem_dma_attach(fn, pdev);
	} else {
		if (detached) {
			pr_info("%s: removed by the PCI core; telling its owner %s[%d]\n",
				fn->name, fn->owner_comm, fn->owner_tgid);
			pciem_ring_kill(&fn->ring);
		}
		complete_all(&fn->pdev_deleted);
	}
	pciem_function_put(fn);
	return NOTIFY_OK;
}

static struct notifier_block pciem_bus_nb = {
	.notifier_call = pciem_bus_notify,
};

/* Before the first function: the bus is empty, each device is seen. */
int pciem_function_host_init(struct pciem_host *host)
{
	notify_host = host;
	return bus_register_notifier(&pci_bus_type, &pciem_bus_nb);
}

void pciem_function_host_exit(struct pciem_host *host)
{
	bus_unregister_notifier(&pci_bus_type, &pciem_bus_nb);
}
