// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The DMA sanitizer's verdict, from what a host's mapping table found.
 * See pciem_dma_rules.h.
 */
#include "pciem_dma_rules.h"

bool pciem_dma_op_is_atomic(uint32_t op)
{
	return op == PCIEM_DMA_FETCH_ADD || op == PCIEM_DMA_SWAP || op == PCIEM_DMA_CAS;
}

uint32_t pciem_dma_atomic_shape(uint64_t addr, uint64_t len)
{
	if ((len != 4 && len != 8) || addr % len)
		return PCIEM_DMA_F_ALIGNMENT;
	return PCIEM_DMA_OK;
}

/* May a device do @op on memory mapped in direction @dir? */
static bool dir_allows(uint8_t dir, uint32_t op)
{
	if (dir == PCIEM_DMA_RULES_BIDIRECTIONAL)
		return true;
	if (op == PCIEM_DMA_READ)
		return dir == PCIEM_DMA_RULES_TO_DEVICE;
	if (op == PCIEM_DMA_WRITE)
		return dir == PCIEM_DMA_RULES_FROM_DEVICE;
	return false;	/* atomics read and write: bidirectional only */
}

uint32_t pciem_dma_judge(const struct pciem_dma_found *f, uint32_t op, uint64_t addr,
			 uint64_t len, uint64_t *at)
{
	*at = addr;
	if (!f->bus_master)
		return PCIEM_DMA_F_BUS_MASTER;
	if (f->live && f->dying)
		return PCIEM_DMA_F_STALE;	/* being unmapped: as good as gone */
	if (!f->live) {
		/*
		 * In the pages of a live buffer but outside it: out of its
		 * bounds. Otherwise an address a mapping had (bus addresses
		 * are reused late): stale; or one nothing ever had.
		 */
		if (f->in_span)
			return PCIEM_DMA_F_BOUNDS;
		return f->retired ? PCIEM_DMA_F_STALE : PCIEM_DMA_F_UNMAPPED;
	}
	if (addr < f->iova || addr - f->iova > f->len || len > f->len - (addr - f->iova)) {
		/* runs off the end of the mapping it starts in */
		*at = f->iova + f->len;
		return PCIEM_DMA_F_BOUNDS;
	}
	if (!dir_allows(f->dir, op))
		return PCIEM_DMA_F_DIRECTION;
	return PCIEM_DMA_OK;
}
