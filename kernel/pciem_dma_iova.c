// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Bus addresses for a PCIem function's DMA mappings, handed out like an
 * IOMMU's IOVAs.
 *
 * Bus addresses are not physical addresses: each function has a bus
 * address space of its own. Each mapping keeps the buffer's offset within
 * its page (drivers such as NVMe rely on that), is followed by an unused
 * guard page (so running off its end never lands in a neighbour) and
 * addresses are handed out cyclically (a stale address is not reused
 * soon, so late accesses are recognised). A mask below 48 bits gets
 * addresses from a range below 4 GiB. Mappings in a zero-copy window take
 * the window's addresses instead (pciem_dma_window.c).
 */
#include <linux/dma-mapping.h>

#include "pciem.h"

/* The two bus address ranges: below 4 GiB for narrow masks, and above. */
#define DMA_LOW_START	0x10000000ull
#define DMA_LOW_END	0x100000000ull
#define DMA_HIGH_START	0x100000000ull
#define DMA_HIGH_END	(1ull << 47)
/* The narrowest mask PCIem can serve: the low range must fit under it. */
#define DMA_MIN_MASK	DMA_BIT_MASK(32)

void pciem_dma_iova_init(struct pciem_dma *dma)
{
	dma->cursor[0] = DMA_LOW_START;
	dma->cursor[1] = DMA_HIGH_START;
}

/* Whether a device with DMA mask @mask can be given addresses. */
bool pciem_dma_iova_mask_ok(u64 mask)
{
	return mask >= DMA_MIN_MASK;
}

/* First live mapping whose space ends after @addr. Lock held. */
static struct pciem_dma_map *first_after(struct pciem_dma *dma, u64 addr)
{
	struct rb_node *n = dma->live.rb_node;
	struct pciem_dma_map *m, *best = NULL;

	while (n) {
		m = rb_entry(n, struct pciem_dma_map, node);
		if (m->end > addr) {
			best = m;
			n = n->rb_left;
		} else {
			n = n->rb_right;
		}
	}
	return best;
}

/*
 * Find @span bytes of free bus space in [lo, hi) at or after @from: walk
 * the live mappings from there and take the first gap that fits.
 */
static u64 find_gap(struct pciem_dma *dma, u64 from, u64 lo, u64 hi, u64 span)
{
	struct pciem_dma_map *m;
	struct rb_node *n;
	u64 at = max(from, lo);

	m = first_after(dma, at);
	while (at + span <= hi) {
		if (!m || at + span <= m->start)
			return at;
		at = max(at, m->end);
		n = rb_next(&m->node);
		m = n ? rb_entry(n, struct pciem_dma_map, node) : NULL;
	}
	return 0;
}

/**
 * pciem_dma_iova_place() - give a mapping bus space and insert it
 * @dma:	table; caller holds @dma->lock
 * @m:		the mapping, @m->len bytes
 * @offset:	the buffer's offset in its page, kept in the bus address
 * @mask:	the device's DMA mask
 *
 * Return: false when the space below @mask is full.
 */
bool pciem_dma_iova_place(struct pciem_dma *dma, struct pciem_dma_map *m,
			  unsigned long offset, u64 mask)
{
	bool high = mask >= DMA_HIGH_END - 1;
	u64 lo = high ? DMA_HIGH_START : DMA_LOW_START;
	u64 hi = high ? DMA_HIGH_END : min_t(u64, mask + 1, DMA_LOW_END);
	u64 span = PAGE_ALIGN(offset + m->len) + PAGE_SIZE;	/* + guard */
	u64 at;

	/* Beside a window (PCIEM_DMA_WINDOW_F_NO_BOUNCE): above its bus range. */
	if (dma->win_pool)
		lo = max(lo, dma->win_base + dma->win_size);
	if (lo >= hi)
		return false;
	at = find_gap(dma, dma->cursor[high], lo, hi, span);
	if (!at)	/* wrapped: the oldest addresses are the likeliest free */
		at = find_gap(dma, lo, lo, hi, span);
	if (!at)
		return false;
	m->start = at;
	m->end = at + span;
	m->iova = at + offset;
	dma->cursor[high] = m->end;
	pciem_dma_insert(dma, m);
	return true;
}
