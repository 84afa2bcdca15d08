// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A device server's view of the DMA window, confined to the driver's live
 * mappings (PCIEM_DMA_WINDOW_FD_F_CONFINED): what an IOMMU gives real
 * hardware, with the server's page tables standing in for the IOMMU's.
 *
 * Pages enter the server's mappings one fault at a time, and only a page
 * a live mapping covers, read-only unless the mapping lets the device
 * write (a write to it comes back through page_mkwrite, which checks
 * again). Any other access is the sanitizer's DMA fault: logged with the
 * mapping's history and answered with SIGBUS.
 *
 * When the driver unmaps, its pages' permission bytes drop at once (no
 * new fault succeeds), but the server's page-table entries can only be
 * zapped in process context, and drivers unmap from interrupt handlers.
 * So the zap runs from a work item, and the window memory the mapping
 * used is held back from reuse until it has run: the server may for that
 * short while still reach bytes the driver no longer has, never bytes of
 * a later mapping. This is the IOMMU's lazy (flush-queue) mode, Linux's
 * default on x86, where IOVAs wait for the IOTLB flush the same way.
 *
 * The server's mappings are found through one address_space per window,
 * shared by its confined files (their f_mapping), as DRM finds the
 * mappings of its buffer objects.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/fs.h>
#include <linux/genalloc.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/version.h>
#include <linux/workqueue.h>

#include "pciem.h"

/* The confined files own no page cache: their mapping needs no operations. */
static const struct address_space_operations confine_aops;

static struct pciem_dma_confine *confine_of(struct pciem_dma *dma)
{
	return &dma->confine;
}

/*
 * Queue the zap. The queued work holds a reference on the function, so it
 * never runs after the function is freed; the caller holds one too (the
 * DMA API's callers and config writes do), so the put here is never the
 * last.
 */
static void kick(struct pciem_dma *dma)
{
	struct pciem_function *fn = container_of(dma, struct pciem_function, dma);

	pciem_function_get(fn);
	if (!schedule_work(&confine_of(dma)->work))
		pciem_function_put(fn);
}

/**
 * pciem_dma_confine_revoke() - the device lost window pages (unmap)
 * @dma:	table; caller holds @dma->lock
 * @first:	first window page
 * @n:		pages
 */
void pciem_dma_confine_revoke(struct pciem_dma *dma, u64 first, u64 n)
{
	struct pciem_dma_confine *c = confine_of(dma);

	if (!c->on || dma->dead || !n)
		return;
	bitmap_set(c->stale, first, n);
	kick(dma);
}

/**
 * pciem_dma_confine_bus_master_off() - Bus Master Enable went off
 * @dma:	table; any context, the table's lock not held (config writes
 *		come under raw spinlocks)
 *
 * A device that may not master reaches nothing: every page is zapped,
 * and the faults that follow are refused until it is back on.
 */
void pciem_dma_confine_bus_master_off(struct pciem_dma *dma)
{
	struct pciem_dma_confine *c = confine_of(dma);

	/* Pairs with pciem_dma_confine_start(): the bitmaps are there. */
	if (!smp_load_acquire(&c->on) || READ_ONCE(dma->dead))
		return;
	set_bit(PCIEM_CONFINE_ZAP_ALL, &c->flags);
	kick(dma);
}

/**
 * pciem_dma_confine_hold() - window memory is being freed
 * @dma:	table; caller holds @dma->lock
 * @addr:	the piece (its kernel address, as the pool gave it)
 * @size:	its pool bytes
 *
 * Return: true when the piece waits for the next zap (the caller does not
 * free it), false when it may go back to the pool now.
 */
bool pciem_dma_confine_hold(struct pciem_dma *dma, unsigned long addr,
			    size_t size)
{
	struct pciem_dma_confine *c = confine_of(dma);
	struct pciem_dma_held *h;

	if (!c->on || dma->dead)
		return false;
	/*
	 * Never full: a held piece is still allocated in the pool and takes
	 * two pages of it at least (its guard page), so at most half the
	 * window's pages are ever held.
	 */
	if (WARN_ON_ONCE(c->held_len >= c->held_cap))
		return false;
	h = &c->held[c->held_len++];
	h->first = (addr - (unsigned long)dma->win) >> PAGE_SHIFT;
	h->pages = size >> PAGE_SHIFT;
	kick(dma);
	return true;
}

/* Return held pieces [0, n) to the pool. Lock held, or the table dead. */
static void give_back(struct pciem_dma *dma, unsigned int n)
{
	struct pciem_dma_confine *c = confine_of(dma);
	unsigned int i;

	for (i = 0; i < n; i++)
		gen_pool_free(dma->win_pool, (unsigned long)dma->win +
			      ((unsigned long)c->held[i].first << PAGE_SHIFT),
			      (size_t)c->held[i].pages << PAGE_SHIFT);
	memmove(c->held, c->held + n, (c->held_len - n) * sizeof(*c->held));
	c->held_len -= n;
}

/* Zap what the driver unmapped from every server mapping, then free. */
static void confine_work(struct work_struct *work)
{
	struct pciem_dma_confine *c = container_of(work, struct pciem_dma_confine,
						   work);
	struct pciem_dma *dma = container_of(c, struct pciem_dma, confine);
	struct pciem_function *fn = container_of(dma, struct pciem_function, dma);
	unsigned long npages = dma->win_pages.npages, first, end, flags;
	unsigned int n;

	spin_lock_irqsave(&dma->lock, flags);
	if (dma->dead) {	/* pciem_dma_confine_end() zaps it all */
		spin_unlock_irqrestore(&dma->lock, flags);
		goto out;
	}
	bitmap_copy(c->snap, c->stale, npages);
	bitmap_zero(c->stale, npages);
	if (test_and_clear_bit(PCIEM_CONFINE_ZAP_ALL, &c->flags))
		bitmap_fill(c->snap, npages);
	/*
	 * Held pieces were revoked before they were held: their pages are
	 * in this snapshot or were zapped by an earlier run.
	 */
	n = c->held_len;
	spin_unlock_irqrestore(&dma->lock, flags);

	/* Excludes a fault between checking its page and mapping it. */
	down_write(&c->zap_sem);
	for (first = find_first_bit(c->snap, npages); first < npages;
	     first = find_next_bit(c->snap, npages, end)) {
		end = find_next_zero_bit(c->snap, npages, first);
		unmap_mapping_range(&c->mapping, (loff_t)first << PAGE_SHIFT,
				    (loff_t)(end - first) << PAGE_SHIFT, 1);
	}
	up_write(&c->zap_sem);

	spin_lock_irqsave(&dma->lock, flags);
	if (!dma->dead)
		give_back(dma, n);
	spin_unlock_irqrestore(&dma->lock, flags);
out:
	pciem_function_put(fn);
}

/* ---- the confined file's mappings ---------------------------------------- */

/*
 * Whether the device may @op (PCIEM_DMA_READ or _WRITE) window page
 * @pgoff now; when not, the sanitizer's line says why, naming the server.
 */
static bool allowed(struct pciem_function *fn, struct vm_fault *vmf, u32 op)
{
	struct pciem_dma *dma = &fn->dma;
	u8 need = op == PCIEM_DMA_WRITE ? PCIEM_DMA_PERM_WRITE : PCIEM_DMA_PERM_READ;
	unsigned long flags;
	bool ok, dead;
	u64 addr;

	spin_lock_irqsave(&dma->lock, flags);
	dead = dma->dead;
	ok = !dead && vmf->pgoff < dma->win_pages.npages && dma->bus_master &&
	     (((u8 *)(dma->win_perm + 1))[vmf->pgoff] & need);
	spin_unlock_irqrestore(&dma->lock, flags);
	if (ok || dead)
		return ok;	/* a gone function's window: SIGBUS, no report */
	addr = dma->win_base + ((u64)vmf->pgoff << PAGE_SHIFT) +
	       offset_in_page(vmf->real_address);
	pr_warn_ratelimited("%s: device server %s[%d] %s its DMA window at bus address %#llx, which the driver's live mappings do not allow: SIGBUS\n",
			    fn->name, current->comm, task_pid_nr(current),
			    op == PCIEM_DMA_WRITE ? "wrote" : "read", addr);
	pciem_dma_report(fn, op, addr);
	return false;
}

static vm_fault_t confined_fault(struct vm_fault *vmf)
{
	struct pciem_function *fn = vmf->vma->vm_file->private_data;
	struct pciem_dma_confine *c = confine_of(&fn->dma);
	bool write = vmf->flags & FAULT_FLAG_WRITE;
	vm_fault_t ret = VM_FAULT_SIGBUS;
	int err;

	/*
	 * Read-only even for a write: the write comes back through
	 * page_mkwrite, the one place that grants writing.
	 */
	down_read(&c->zap_sem);
	if (allowed(fn, vmf, write ? PCIEM_DMA_WRITE : PCIEM_DMA_READ)) {
		err = vm_insert_page(vmf->vma, vmf->address,
				     fn->dma.win_pages.pages[vmf->pgoff]);
		/* -EBUSY: another thread's fault mapped it first */
		ret = !err || err == -EBUSY ? VM_FAULT_NOPAGE : vmf_error(err);
	}
	up_read(&c->zap_sem);
	return ret;
}

/*
 * A write to a page mapped read-only. A zap that lands between this check
 * and the page becoming writable changes the entry, which the fault path
 * notices (finish_mkwrite_fault() compares it) and retries from scratch.
 */
static vm_fault_t confined_mkwrite(struct vm_fault *vmf)
{
	struct pciem_function *fn = vmf->vma->vm_file->private_data;

	lock_page(vmf->page);
	if (!allowed(fn, vmf, PCIEM_DMA_WRITE)) {
		unlock_page(vmf->page);
		return VM_FAULT_SIGBUS;
	}
	/* Locked: the page has no ->mapping for the core to check. */
	return VM_FAULT_LOCKED;
}

static const struct vm_operations_struct confined_vm_ops = {
	.fault = confined_fault,
	.page_mkwrite = confined_mkwrite,
};

/**
 * pciem_dma_confine_mmap() - set up a mapping of a confined window file
 * @vma:	the mapping; checked by the caller (shared, within the window)
 */
void pciem_dma_confine_mmap(struct vm_area_struct *vma)
{
	/* Pages go in by vm_insert_page(); still normal pages (GUP works). */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_set(vma, VM_MIXEDMAP);
#else
	vma->vm_flags |= VM_MIXEDMAP;
#endif
	vma->vm_ops = &confined_vm_ops;
}

/**
 * pciem_dma_confine_start() - a confined file of the window is being made
 * @dma:	table, with a window
 * @file:	the new file, not installed yet
 *
 * The first one sets up the bookkeeping; from then on unmaps zap and
 * window memory is held back until they have.
 *
 * Return: 0 or -ENOMEM.
 */
int pciem_dma_confine_start(struct pciem_dma *dma, struct file *file)
{
	struct pciem_dma_confine *c = confine_of(dma);
	unsigned long npages = dma->win_pages.npages, flags;
	unsigned long *stale = NULL, *snap = NULL;
	struct pciem_dma_held *held = NULL;
	int ret = 0;

	mutex_lock(&c->start_lock);
	if (c->on)
		goto out;
	ret = -ENOMEM;
	stale = bitmap_zalloc(npages, GFP_KERNEL);
	snap = bitmap_zalloc(npages, GFP_KERNEL);
	held = kvcalloc(npages / 2 + 1, sizeof(*held), GFP_KERNEL);
	if (!stale || !snap || !held)
		goto out;
	address_space_init_once(&c->mapping);
	c->mapping.host = file_inode(file);
	c->mapping.a_ops = &confine_aops;
	c->held_cap = npages / 2 + 1;
	spin_lock_irqsave(&dma->lock, flags);
	c->stale = stale;
	c->snap = snap;
	c->held = held;
	/* Lockless readers (bus_master_off) see the bitmaps with @on. */
	smp_store_release(&c->on, true);
	spin_unlock_irqrestore(&dma->lock, flags);
	stale = snap = NULL;
	held = NULL;
	ret = 0;
out:
	mutex_unlock(&c->start_lock);
	bitmap_free(stale);
	bitmap_free(snap);
	kvfree(held);
	if (!ret)
		file->f_mapping = &c->mapping;
	return ret;
}

/* Before the table is used: in pciem_dma_init(). */
void pciem_dma_confine_init(struct pciem_dma *dma)
{
	struct pciem_dma_confine *c = confine_of(dma);

	mutex_init(&c->start_lock);
	init_rwsem(&c->zap_sem);
	INIT_WORK(&c->work, confine_work);
}

/**
 * pciem_dma_confine_end() - the table is dead: servers reach nothing
 * @dma:	table, marked dead; process context, before the window goes
 *
 * Every server mapping is zapped (later faults see the table dead and
 * raise SIGBUS) and held memory goes back to the pool, which must end
 * empty. The address_space stays: the servers' mappings are linked in
 * it until they go, and it lives as long as the function.
 */
void pciem_dma_confine_end(struct pciem_dma *dma)
{
	struct pciem_dma_confine *c = confine_of(dma);

	if (!c->on)
		return;
	if (cancel_work_sync(&c->work))
		pciem_function_put(container_of(dma, struct pciem_function, dma));
	down_write(&c->zap_sem);
	unmap_mapping_range(&c->mapping, 0, 0, 1);
	up_write(&c->zap_sem);
	give_back(dma, c->held_len);
	bitmap_free(c->stale);
	bitmap_free(c->snap);
	kvfree(c->held);
	c->stale = c->snap = NULL;
	c->held = NULL;
}
