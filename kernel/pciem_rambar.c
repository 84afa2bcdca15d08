// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * RAM BARs: BARs a device declares as plain memory (PCIEM_BAR_RAM) are
 * backed by pages the model maps from its device fd, and the driver's
 * ioremap of them is pointed at the same pages instead of being trapped.
 *
 * ioremap uses a 2 MiB leaf for a 2 MiB-aligned range of at least 2 MiB,
 * so BARs of 2 MiB and more are backed by naturally aligned 2 MiB chunks:
 * a huge leaf can then point at one chunk. Chunks are split into order-0
 * pages so that each can be handed to the model's mapping (pciem_mmap.c). The same
 * shared pages back the zero-copy DMA window (pciem_dma_window.c).
 *
 * A trapped BAR can also get pages of its owner's memory for some of its
 * range (PCIEM_IOC_BAR_BACKING: a vfio-user server's mmap()able region,
 * which pciem-proxy maps). Those are pinned user pages, in no particular
 * physical order, so a 2 MiB leaf over them is split into 4 KiB entries
 * (pciem_trap.c); pages not given stay trapped.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "pciem.h"

void pciem_pages_free(struct pciem_rambar *rb)
{
	unsigned long i;

	if (!rb->pages)
		return;
	for (i = 0; i < rb->npages; i++) {
		if (!rb->pages[i])
			continue;
		/* The driver may have written it: tell the owner's file. */
		if (rb->pinned)
			unpin_user_pages_dirty_lock(&rb->pages[i], 1, true);
		else
			__free_page(rb->pages[i]);
	}
	kvfree(rb->pages);
	rb->pages = NULL;
}

int pciem_pages_alloc(struct pciem_rambar *rb, u64 size)
{
	unsigned int order = size >= PMD_SIZE ? PMD_SHIFT - PAGE_SHIFT : 0;
	unsigned long i, j;
	struct page *p;

	rb->npages = size >> PAGE_SHIFT;
	rb->pages = kvcalloc(rb->npages, sizeof(*rb->pages), GFP_KERNEL);
	if (!rb->pages)
		return -ENOMEM;
	for (i = 0; i < rb->npages; i += 1ul << order) {
		/*
		 * NORETRY: a request too big for the machine (a 1 GiB DMA
		 * window on a small guest) fails with ENOMEM instead of
		 * pushing other tasks towards the OOM killer first.
		 */
		p = alloc_pages(GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN |
				__GFP_NORETRY, order);
		if (!p)
			return -ENOMEM;
		if (order)
			split_page(p, order);
		for (j = 0; j < (1ul << order); j++)
			rb->pages[i + j] = p + j;
	}
	return 0;
}

int pciem_rambar_alloc(struct pciem_function *fn)
{
	unsigned int i;
	int ret;

	for (i = 0; i < PCIEM_MAX_BARS; i++) {
		if (!(fn->cfg.bar_flags[i] & PCIEM_BAR_RAM))
			continue;
		ret = pciem_pages_alloc(&fn->ram[i], fn->cfg.bar_size[i]);
		if (ret) {
			pciem_rambar_free(fn);
			return ret;
		}
	}
	return 0;
}

void pciem_rambar_free(struct pciem_function *fn)
{
	unsigned int i;

	for (i = 0; i < PCIEM_MAX_BARS; i++)
		pciem_pages_free(&fn->ram[i]);
}

/*
 * The page backing @off of RAM BAR @bar; for a 2 MiB leaf (@huge) only if
 * it starts a whole naturally aligned 2 MiB chunk.
 */
struct page *pciem_rambar_page(struct pciem_function *fn, unsigned int bar,
			       u64 off, bool huge)
{
	struct pciem_rambar *rb = &fn->ram[bar];

	if (!rb->pages || off >= fn->cfg.bar_size[bar])
		return NULL;
	if (huge && (fn->cfg.bar_size[bar] < PMD_SIZE || (off & (PMD_SIZE - 1))))
		return NULL;
	return rb->pages[off >> PAGE_SHIFT];
}

/* ---- BAR pages backed by the owner's memory (PCIEM_IOC_BAR_BACKING) ----- */

/* Does any BAR hold pinned user pages (to be let go in process context)? */
bool pciem_rambar_pinned(struct pciem_function *fn)
{
	unsigned int i;

	for (i = 0; i < PCIEM_MAX_BARS; i++)
		if (fn->ram[i].pinned)
			return true;
	return false;
}

/*
 * The PTRS_PER_PTE page slots of pinned BAR @bar from @off (2 MiB
 * aligned) for a 2 MiB leaf to be split over, or NULL if none of them is
 * backed (the leaf is then trapped whole).
 */
struct page **pciem_rambar_chunk(struct pciem_function *fn, unsigned int bar,
				 u64 off)
{
	struct pciem_rambar *rb = &fn->ram[bar];
	unsigned long first = off >> PAGE_SHIFT, i;

	if (!rb->pinned || !rb->pages || (off & (PMD_SIZE - 1)) ||
	    first + PTRS_PER_PTE > rb->npages)
		return NULL;
	for (i = 0; i < PTRS_PER_PTE; i++)
		if (rb->pages[first + i])
			return &rb->pages[first];
	return NULL;
}

static int backing_check(struct pciem_function *fn,
			 const struct pciem_bar_backing *req)
{
	u64 size;

	if (req->flags || req->reserved || req->bar >= PCIEM_MAX_BARS)
		return -EINVAL;
	size = fn->cfg.bar_size[req->bar];
	/*
	 * A RAM BAR's pages are the kernel's; the upper half of a 64-bit
	 * BAR has no size of its own.
	 */
	if (!size || size > PCIEM_MAX_RAM_BAR ||
	    (fn->cfg.bar_flags[req->bar] & PCIEM_BAR_RAM))
		return -EINVAL;
	if (!req->len || !PAGE_ALIGNED(req->offset) ||
	    !PAGE_ALIGNED(req->len) || !PAGE_ALIGNED(req->addr))
		return -EINVAL;
	if (req->offset >= size || req->len > size - req->offset ||
	    req->addr + req->len < req->addr)
		return -EINVAL;
	return 0;
}

/* Pin @n pages from user address @addr into @pages; all or none. */
static int pin_range(u64 addr, unsigned long n, struct page **pages)
{
	unsigned long done = 0;
	int got;

	while (done < n) {
		got = pin_user_pages_fast(addr + (done << PAGE_SHIFT), n - done,
					  FOLL_WRITE | FOLL_LONGTERM,
					  pages + done);
		if (got <= 0) {
			unpin_user_pages(pages, done);
			return got ? got : -EFAULT;
		}
		done += got;
	}
	return 0;
}

/* Under start_lock: put @n pinned @pages at page @first of @bar. */
static int backing_install(struct pciem_function *fn, unsigned int bar,
			   unsigned long first, unsigned long n,
			   struct page **pages)
{
	struct pciem_rambar *rb = &fn->ram[bar];
	unsigned long i;

	if (pciem_function_uapi_state(fn) != PCIEM_STATE_NOT_STARTED) {
		pr_info_ratelimited("%s: BAR%u backing refused: the function is already on the bus (back BARs between CREATE with PCIEM_CREATE_F_DEFER_ADD and START)\n",
				    fn->name, bar);
		return -EBUSY;
	}
	if (!rb->pages) {
		rb->npages = fn->cfg.bar_size[bar] >> PAGE_SHIFT;
		rb->pages = kvcalloc(rb->npages, sizeof(*rb->pages),
				     GFP_KERNEL);
		if (!rb->pages)
			return -ENOMEM;
		rb->pinned = true;
	}
	for (i = 0; i < n; i++) {
		if (rb->pages[first + i]) {
			pr_info_ratelimited("%s: BAR%u backing refused: page at %#lx is backed already\n",
					    fn->name, bar,
					    (first + i) << PAGE_SHIFT);
			return -EBUSY;
		}
	}
	memcpy(rb->pages + first, pages, n * sizeof(*pages));
	return 0;
}

/**
 * pciem_bar_backing_ioctl() - PCIEM_IOC_BAR_BACKING
 * @fn:		function
 * @uarg:	struct pciem_bar_backing
 *
 * Return: 0; -EINVAL for bad arguments, -EBUSY once on the bus or for a
 * page backed already, the pinning's errno (-EFAULT: not mapped writable).
 */
long pciem_bar_backing_ioctl(struct pciem_function *fn, void __user *uarg)
{
	struct pciem_bar_backing req;
	struct page **pages;
	unsigned long n;
	int usize, ret;

	usize = pciem_copy_struct_in(&req, sizeof(req), sizeof(req), uarg);
	if (usize < 0)
		return usize;
	ret = backing_check(fn, &req);
	if (ret)
		return ret;
	n = req.len >> PAGE_SHIFT;
	pages = kvcalloc(n, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	/* Outside start_lock: pinning may fault the pages in. */
	ret = pin_range(req.addr, n, pages);
	if (ret) {
		pr_info_ratelimited("%s: BAR%u backing refused: cannot pin %llu bytes at %#llx for writing (%d)\n",
				    fn->name, req.bar, req.len, req.addr, ret);
		goto out;
	}
	mutex_lock(&fn->start_lock);
	ret = backing_install(fn, req.bar, req.offset >> PAGE_SHIFT, n, pages);
	mutex_unlock(&fn->start_lock);
	if (ret)
		unpin_user_pages(pages, n);
out:
	kvfree(pages);
	return ret;
}
