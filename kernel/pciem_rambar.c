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
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "pciem.h"

void pciem_pages_free(struct pciem_rambar *rb)
{
	unsigned long i;

	if (!rb->pages)
		return;
	for (i = 0; i < rb->npages; i++)
		if (rb->pages[i])
			__free_page(rb->pages[i]);
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
