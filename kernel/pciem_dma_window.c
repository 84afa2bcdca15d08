// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The zero-copy DMA window (PCIEM_IOC_DMA_WINDOW): pages PCIem owns,
 * shared with the model by mmap, where all of a function's DMA lands.
 *
 * Coherent allocations are carved from the window; streaming mappings
 * are bounced through it the way swiotlb bounces (copy in at map and
 * sync_for_device, out at unmap and sync_for_cpu, as the direction says),
 * keeping the buffer's offset within its page. The model then reads and
 * writes the bytes at bus address base + offset directly, with no system
 * call and no check: speed for models that need it, and the shape an
 * external device server needs (its DMA regions are file descriptors).
 * The mappings are still recorded as on the checked path, so
 * PCIEM_IOC_DMA keeps working on them, with every check.
 *
 * The CPU sees the window through one vmap() of its pages, so coherent
 * allocations larger than one 2 MiB chunk are contiguous for the driver;
 * a gen_pool hands out page-aligned pieces of it, lock-free, so mapping
 * works from interrupt context like any DMA mapping.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/dma-direction.h>
#include <linux/file.h>
#include <linux/genalloc.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "pciem.h"

/* Below 4 GiB, so that a 32-bit DMA mask reaches all of it. */
#define WINDOW_BUS_BASE	0x10000000ull

/* Pool bytes a piece takes: its pages and a guard page (bounds checks). */
static size_t piece_size(unsigned long offset, size_t len)
{
	return PAGE_ALIGN(offset + len) + PAGE_SIZE;
}

/* Bytes a coherent allocation of @size takes in the window, guard page included. */
size_t pciem_dma_window_piece(size_t size)
{
	return piece_size(0, size);
}

/* Whether @kaddr is window memory (coherent memory carved from it). */
bool pciem_dma_window_holds(struct pciem_dma *dma, const void *kaddr)
{
	return kaddr >= dma->win && kaddr < dma->win + dma->win_size;
}

static u64 bus_of(struct pciem_dma *dma, const void *kaddr)
{
	return dma->win_base + (kaddr - dma->win);
}

/*
 * Publish what the device may do to the pages of @m (0 when it goes), in
 * the permissions the model checks before it touches the window itself.
 * Lock held.
 */
static void window_perm(struct pciem_dma *dma, struct pciem_dma_map *m,
			u8 bits)
{
	u8 *perm = (u8 *)(dma->win_perm + 1);
	u64 first = (m->start - dma->win_base) >> PAGE_SHIFT;
	u64 n = PAGE_ALIGN(m->iova - m->start + m->len) >> PAGE_SHIFT, i;

	for (i = 0; i < n; i++)
		WRITE_ONCE(perm[first + i], bits);
	if (!bits)	/* and out of device servers' page tables */
		pciem_dma_confine_revoke(dma, first, n);
}

static u8 perm_of(unsigned int dir)
{
	switch (dir) {
	case DMA_TO_DEVICE:
		return PCIEM_DMA_PERM_READ;
	case DMA_FROM_DEVICE:
		return PCIEM_DMA_PERM_WRITE;
	default:
		return PCIEM_DMA_PERM_READ | PCIEM_DMA_PERM_WRITE;
	}
}

/* @m is being unmapped: the device may no longer touch its pages directly. */
void pciem_dma_window_revoke(struct pciem_dma *dma, struct pciem_dma_map *m)
{
	if (dma->win_perm && m->start >= dma->win_base &&
	    m->start < dma->win_base + dma->win_size)
		window_perm(dma, m, 0);
}

/*
 * Bus Master Enable changed: mirrored for the model's own checks; a
 * device server loses the window while it is off. Under raw spinlocks.
 */
void pciem_dma_set_bus_master(struct pciem_dma *dma, bool on)
{
	bool was = READ_ONCE(dma->bus_master);

	WRITE_ONCE(dma->bus_master, on);
	if (dma->win_perm)
		WRITE_ONCE(dma->win_perm->bus_master, on);
	if (was && !on)
		pciem_dma_confine_bus_master_off(dma);
}

/**
 * pciem_dma_window_place() - give mapping @m a home in the window
 * @dma:	table, with a window; caller holds @dma->lock
 * @m:		the mapping; @m->kaddr is the driver's buffer
 *
 * Memory from pciem_dma_window_alloc() is used where it is; anything else
 * is bounced: a piece of the window stands in for it (@m->orig keeps the
 * driver's buffer) and gets its bytes now.
 *
 * Return: false when the window is full.
 */
bool pciem_dma_window_place(struct pciem_dma *dma, struct pciem_dma_map *m)
{
	unsigned long off = offset_in_page(m->kaddr);
	void *slot;

	if (pciem_dma_window_holds(dma, m->kaddr)) {
		slot = m->kaddr - off;
	} else {
		slot = (void *)gen_pool_alloc(dma->win_pool, piece_size(off, m->len));
		if (!slot)
			return false;
		m->orig = m->kaddr;
		m->kaddr = slot + off;
		/*
		 * In every direction, as swiotlb does: a device that writes
		 * only part of a FROM_DEVICE buffer must not hand the driver
		 * stale window bytes at unmap for the rest.
		 */
		memcpy(m->kaddr, m->orig, m->len);
	}
	m->start = bus_of(dma, slot);
	m->end = m->start + piece_size(off, m->len);
	m->iova = m->start + off;
	pciem_dma_insert(dma, m);
	window_perm(dma, m, perm_of(m->dir));
	return true;
}

/**
 * pciem_dma_window_release() - a bounced mapping is being unmapped
 * @dma:	table; caller holds @dma->lock
 * @m:		the mapping, already out of the live tree
 *
 * Hands the device's bytes back to the driver's buffer, if the device
 * was to write them, and returns the piece to the pool.
 */
void pciem_dma_window_release(struct pciem_dma *dma, struct pciem_dma_map *m)
{
	unsigned long off = offset_in_page(m->kaddr);

	if (!m->orig)
		return;
	if (m->dir == DMA_FROM_DEVICE || m->dir == DMA_BIDIRECTIONAL)
		memcpy(m->orig, m->kaddr, m->len);
	if (!pciem_dma_confine_hold(dma, (unsigned long)m->kaddr - off,
				    piece_size(off, m->len)))
		gen_pool_free(dma->win_pool, (unsigned long)m->kaddr - off,
			      piece_size(off, m->len));
}

/**
 * pciem_dma_window_sync() - the sync calls of a bounced mapping
 * @dma:	table; caller holds @dma->lock
 * @m:		the mapping holding @iova
 * @iova:	first byte to sync
 * @size:	bytes
 * @for_cpu:	sync_for_cpu (device -> buffer) or sync_for_device
 */
void pciem_dma_window_sync(struct pciem_dma *dma, struct pciem_dma_map *m,
			   u64 iova, size_t size, bool for_cpu)
{
	u64 at = iova - m->iova;

	if (!m->orig)
		return;
	if (for_cpu && (m->dir == DMA_FROM_DEVICE || m->dir == DMA_BIDIRECTIONAL))
		memcpy(m->orig + at, m->kaddr + at, size);
	else if (!for_cpu && (m->dir == DMA_TO_DEVICE || m->dir == DMA_BIDIRECTIONAL))
		memcpy(m->kaddr + at, m->orig + at, size);
}

/* A mapping left at removal: return its piece, so the pool ends empty. */
void pciem_dma_window_forget(struct pciem_dma *dma, struct pciem_dma_map *m)
{
	unsigned long off = offset_in_page(m->kaddr);

	if (!pciem_dma_window_holds(dma, m->kaddr))
		return;	/* not bounced (PCIEM_DMA_WINDOW_F_NO_BOUNCE) */
	gen_pool_free(dma->win_pool, (unsigned long)m->kaddr - off,
		      piece_size(off, m->len));
}

/* Zeroed, page-aligned window memory for dma_alloc_coherent(), or NULL. */
void *pciem_dma_window_alloc(struct pciem_dma *dma, size_t size)
{
	void *p;

	if (READ_ONCE(dma->dead))
		return NULL;
	p = (void *)gen_pool_alloc(dma->win_pool, piece_size(0, size));

	if (p)
		memset(p, 0, size);
	return p;
}

void pciem_dma_window_free(struct pciem_dma *dma, void *kaddr, size_t size)
{
	unsigned long flags;

	spin_lock_irqsave(&dma->lock, flags);
	if (!pciem_dma_confine_hold(dma, (unsigned long)kaddr, piece_size(0, size)))
		gen_pool_free(dma->win_pool, (unsigned long)kaddr, piece_size(0, size));
	spin_unlock_irqrestore(&dma->lock, flags);
}

/* At the function's end, after its driver is gone. Process context. */
void pciem_dma_window_destroy(struct pciem_dma *dma)
{
	if (dma->win_pool)
		gen_pool_destroy(dma->win_pool);
	if (dma->win)
		vunmap(dma->win);
	vfree(dma->win_perm);
	dma->win_perm = NULL;
	pciem_pages_free(&dma->win_pages);
}

static int window_create(struct pciem_dma *dma, u64 size, bool no_bounce)
{
	struct gen_pool *pool;
	int ret;

	ret = pciem_pages_alloc(&dma->win_pages, size);
	if (ret)
		goto err;
	ret = -ENOMEM;
	dma->win = vmap(dma->win_pages.pages, dma->win_pages.npages, VM_MAP,
			PAGE_KERNEL);
	if (!dma->win)
		goto err;
	dma->win_perm = vmalloc_user(PAGE_ALIGN(sizeof(*dma->win_perm) +
						(size >> PAGE_SHIFT)));
	if (!dma->win_perm)
		goto err;
	dma->win_perm->magic = PCIEM_DMA_PERM_MAGIC;
	dma->win_perm->pages = size >> PAGE_SHIFT;
	dma->win_perm->bus_master = READ_ONCE(dma->bus_master);
	pool = gen_pool_create(PAGE_SHIFT, NUMA_NO_NODE);
	if (!pool)
		goto err;
	gen_pool_set_algo(pool, gen_pool_first_fit_order_align, NULL);
	ret = gen_pool_add_virt(pool, (unsigned long)dma->win, WINDOW_BUS_BASE,
				size, NUMA_NO_NODE);
	if (ret) {
		gen_pool_destroy(pool);
		goto err;
	}
	dma->win_base = WINDOW_BUS_BASE;
	dma->win_size = size;
	dma->win_no_bounce = no_bounce;
	/*
	 * Published last: mmap() and its faults (pciem_mmap.c) take no lock,
	 * and must never see the pool of a window whose pages are being
	 * freed on the error path, nor a pool before its pages.
	 */
	smp_store_release(&dma->win_pool, pool);
	return 0;
err:
	pciem_dma_window_destroy(dma);
	dma->win = NULL;
	return ret;
}

/**
 * pciem_dma_window_ioctl() - PCIEM_IOC_DMA_WINDOW
 * @fn:		function
 * @uarg:	struct pciem_dma_window
 */
long pciem_dma_window_ioctl(struct pciem_function *fn, void __user *uarg)
{
	struct pciem_dma_window req;
	int usize, ret;

	usize = pciem_copy_struct_in(&req, sizeof(req), sizeof(req), uarg);
	if (usize < 0)
		return usize;
	if ((req.flags & ~PCIEM_DMA_WINDOW_F_NO_BOUNCE) || !req.window_size ||
	    req.window_size % SZ_2M ||
	    req.window_size > PCIEM_MAX_DMA_WINDOW)
		return -EINVAL;
	/* Mappings made before it would not be in it: only before START. */
	mutex_lock(&fn->start_lock);
	if (pciem_function_uapi_state(fn) != PCIEM_STATE_NOT_STARTED ||
	    fn->dma.win_pool)
		ret = -EBUSY;
	else
		ret = window_create(&fn->dma, req.window_size,
				    req.flags & PCIEM_DMA_WINDOW_F_NO_BOUNCE);
	mutex_unlock(&fn->start_lock);
	if (ret)
		return ret;
	req.bus_base = fn->dma.win_base;
	req.mmap_offset = PCIEM_MMAP_DMA_WINDOW;
	req.perm_mmap_offset = PCIEM_MMAP_DMA_PERM;
	return pciem_copy_struct_out(uarg, usize, &req, sizeof(req));
}

/* ---- the window as a file of its own (PCIEM_IOC_DMA_WINDOW_FD) ------------ */

/*
 * The device fd carries ioctls that drive the function; an external
 * device server must get the window and nothing else. This file holds a
 * reference on the function's memory, not its fd: the function still goes
 * when its owner closes the device fd, and the window with it.
 *
 * Pages are handed out by the fault handler under the table's lock, which
 * pciem_dma_free() takes to mark the table dead before the window's pages
 * are freed: a fault either sees the window alive and takes a reference
 * on its page for the mapping, or sees it dead and raises SIGBUS. A page
 * a mapping holds outlives the window as an orphan the server alone can
 * still see; nothing else reuses it until the server unmaps it.
 */
static vm_fault_t window_file_fault(struct vm_fault *vmf)
{
	struct pciem_function *fn = vmf->vma->vm_file->private_data;
	struct pciem_dma *dma = &fn->dma;
	vm_fault_t ret = VM_FAULT_SIGBUS;
	unsigned long flags;

	spin_lock_irqsave(&dma->lock, flags);
	if (!dma->dead && vmf->pgoff < dma->win_pages.npages) {
		vmf->page = dma->win_pages.pages[vmf->pgoff];
		get_page(vmf->page);
		ret = 0;
	}
	spin_unlock_irqrestore(&dma->lock, flags);
	return ret;
}

static const struct vm_operations_struct window_file_vm_ops = {
	.fault = window_file_fault,
};

static int window_file_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct pciem_function *fn = file->private_data;
	bool confined = file->f_mapping == &fn->dma.confine.mapping;
	unsigned long npages = fn->dma.win_pages.npages;

	/* A private mapping would be a copy the device never sees. */
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_pgoff > npages || vma_pages(vma) > npages - vma->vm_pgoff)
		return -EINVAL;
	pciem_vma_fixed(vma);
	if (confined)
		pciem_dma_confine_mmap(vma);
	else
		vma->vm_ops = &window_file_vm_ops;
	return 0;
}

static int window_file_release(struct inode *inode, struct file *file)
{
	pciem_function_put(file->private_data);
	return 0;
}

static const struct file_operations window_file_fops = {
	.owner = THIS_MODULE,
	.mmap = window_file_mmap,
	.release = window_file_release,
	.llseek = noop_llseek,
};

/**
 * pciem_dma_window_fd_ioctl() - PCIEM_IOC_DMA_WINDOW_FD
 * @fn:		function
 * @uarg:	struct pciem_dma_window_fd
 *
 * Return: 0 with the new descriptor in @uarg->fd, -ENXIO without a window.
 */
long pciem_dma_window_fd_ioctl(struct pciem_function *fn, void __user *uarg)
{
	struct pciem_dma_window_fd req;
	struct file *file;
	int usize, fd;

	usize = pciem_copy_struct_in(&req, sizeof(req), sizeof(req), uarg);
	if (usize < 0)
		return usize;
	if ((req.flags & ~PCIEM_DMA_WINDOW_FD_F_CONFINED) || req.reserved)
		return -EINVAL;
	/* Pairs with window_create()'s release: pages and sizes are set. */
	if (!smp_load_acquire(&fn->dma.win_pool))
		return -ENXIO;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;
	pciem_function_get(fn);
	file = anon_inode_getfile("[pciem-dma-window]", &window_file_fops, fn,
				  O_RDWR);
	if (IS_ERR(file)) {
		pciem_function_put(fn);
		put_unused_fd(fd);
		return PTR_ERR(file);
	}
	if (req.flags & PCIEM_DMA_WINDOW_FD_F_CONFINED) {
		int ret = pciem_dma_confine_start(&fn->dma, file);

		if (ret) {
			fput(file);	/* its release drops the function */
			put_unused_fd(fd);
			return ret;
		}
	}
	req.fd = fd;
	req.window_size = fn->dma.win_size;
	req.bus_base = fn->dma.win_base;
	if (pciem_copy_struct_out(uarg, usize, &req, sizeof(req))) {
		fput(file);	/* its release drops the function */
		put_unused_fd(fd);
		return -EFAULT;
	}
	fd_install(fd, file);
	return 0;
}
