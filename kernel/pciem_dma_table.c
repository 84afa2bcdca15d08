// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The DMA mapping table of a PCIem function: an IOMMU's page table, kept
 * as a tree of the mappings a driver made.
 *
 * Every mapping made through PCIem's dma_map_ops (pciem_dma_ops.c) is a
 * node here: bus address, length, direction, kind and the call chain
 * that made it. Device-side accesses (pciem_dma_access.c) are checked
 * against this table, which is what lets PCIem say "the device wrote one
 * byte past a 64-byte FROM_DEVICE buffer mapped by foo()" where hardware
 * would corrupt memory silently. Unmapped mappings stay in a history ring
 * for a while, so that a late access is reported as one.
 *
 * The memory itself is the driver's (streaming mappings) or pages PCIem
 * allocated (coherent): the device reaches it through the kernel's
 * direct map, under the table's lock, so an unmap never races an access.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>

#include "pciem.h"
#include "pciem_trace.h"

void pciem_dma_init(struct pciem_function *fn)
{
	struct pciem_dma *dma = &fn->dma;

	spin_lock_init(&dma->lock);
	dma->live = RB_ROOT;
	pciem_dma_iova_init(dma);
	pciem_dma_confine_init(dma);
}

/**
 * pciem_dma_find_span() - the live mapping whose bus space holds @addr
 * @dma:	table; caller holds @dma->lock
 * @addr:	bus address
 *
 * The space is the mapping's pages and the guard page after them: a hit
 * that pciem_dma_find() misses is an access out of the mapping's bounds.
 */
struct pciem_dma_map *pciem_dma_find_span(struct pciem_dma *dma, u64 addr)
{
	struct rb_node *n = dma->live.rb_node;
	struct pciem_dma_map *m;

	while (n) {
		m = rb_entry(n, struct pciem_dma_map, node);
		if (addr < m->start)
			n = n->rb_left;
		else if (addr >= m->end)
			n = n->rb_right;
		else
			return m;
	}
	return NULL;
}

/**
 * pciem_dma_find() - the live mapping that holds byte @addr
 * @dma:	table; caller holds @dma->lock
 * @addr:	bus address
 *
 * Return: the mapping, or NULL when no mapped byte is at @addr (the
 * guard page and the bytes of a page around a buffer included).
 */
struct pciem_dma_map *pciem_dma_find(struct pciem_dma *dma, u64 addr)
{
	struct pciem_dma_map *m = pciem_dma_find_span(dma, addr);

	return m && addr >= m->iova && addr - m->iova < m->len ? m : NULL;
}

/**
 * pciem_dma_find_retired() - the most recent unmapped mapping that held @addr
 * @dma:	table; caller holds @dma->lock
 * @addr:	bus address
 */
struct pciem_dma_map *pciem_dma_find_retired(struct pciem_dma *dma, u64 addr)
{
	unsigned int i, slot;
	struct pciem_dma_map *m;

	for (i = 1; i <= PCIEM_DMA_HISTORY; i++) {
		slot = (dma->hist_next - i) % PCIEM_DMA_HISTORY;
		m = dma->history[slot];
		if (m && addr >= m->iova && addr - m->iova < m->len)
			return m;
	}
	return NULL;
}

/**
 * pciem_dma_find_near() - the live mapping nearest to @addr, for messages
 * @dma:	table; caller holds @dma->lock
 * @addr:	bus address
 */
struct pciem_dma_map *pciem_dma_find_near(struct pciem_dma *dma, u64 addr)
{
	struct rb_node *n = dma->live.rb_node;
	struct pciem_dma_map *m, *below = NULL, *above = NULL;

	while (n) {
		m = rb_entry(n, struct pciem_dma_map, node);
		if (m->start <= addr) {
			below = m;
			n = n->rb_right;
		} else {
			above = m;
			n = n->rb_left;
		}
	}
	if (!below || (above && above->iova - addr < addr - (below->iova + below->len)))
		return above;
	return below;
}

/* Into the live tree, by bus address. Lock held. */
void pciem_dma_insert(struct pciem_dma *dma, struct pciem_dma_map *new)
{
	struct rb_node **link = &dma->live.rb_node, *parent = NULL;
	struct pciem_dma_map *m;

	while (*link) {
		parent = *link;
		m = rb_entry(parent, struct pciem_dma_map, node);
		link = new->start < m->start ? &parent->rb_left : &parent->rb_right;
	}
	rb_link_node(&new->node, parent, link);
	rb_insert_color(&new->node, &dma->live);
	trace_pciem_dma_map(container_of(dma, struct pciem_function, dma), true,
			    new->iova, new->len, new->dir, new->kind);
}

/**
 * pciem_dma_retire() - move an unmapped mapping to the history ring
 * @dma:	table; caller holds @dma->lock
 * @m:		live mapping with no device copy left in it
 * @t:		the call chain of the unmap
 *
 * Return: the mapping the ring let go of when no spare is wanted (see
 * pciem_dma_spare()), or NULL; the caller frees it, outside the lock.
 */
struct pciem_dma_map *pciem_dma_retire(struct pciem_dma *dma,
				       struct pciem_dma_map *m,
				       const struct pciem_dma_trace *t)
{
	struct pciem_dma_map *old = dma->history[dma->hist_next];

	rb_erase(&m->node, &dma->live);
	pciem_dma_window_revoke(dma, m);
	trace_pciem_dma_map(container_of(dma, struct pciem_function, dma), false,
			    m->iova, m->len, m->dir, m->kind);
	if (dma->win_pool)
		pciem_dma_window_release(dma, m);
	memcpy(m->unmap_trace, t->entries, sizeof(m->unmap_trace));
	dma->history[dma->hist_next] = m;
	dma->hist_next = (dma->hist_next + 1) % PCIEM_DMA_HISTORY;
	if (old && dma->nr_spares < PCIEM_DMA_SPARES) {
		dma->spares[dma->nr_spares++] = old;
		old = NULL;
	}
	return old;
}

/**
 * pciem_dma_spare() - a record for a new mapping, without allocating
 * @dma:	table; caller holds @dma->lock
 *
 * Every map used to allocate its record and every unmap to free the one
 * the history let go of: at queue depth 1 that is an allocation and a
 * free per I/O on the submitting CPU. The history's castoffs are kept
 * instead (pciem_dma_retire()) and handed out here.
 *
 * Return: a zeroed record, or NULL when none is kept.
 */
struct pciem_dma_map *pciem_dma_spare(struct pciem_dma *dma)
{
	struct pciem_dma_map *m;

	if (!dma->nr_spares)
		return NULL;
	m = dma->spares[--dma->nr_spares];
	memset(m, 0, sizeof(*m));
	return m;
}

/**
 * pciem_dma_free() - end of the table: at removal, after the driver is gone
 * @fn:		function; process context (the window is vunmapped)
 *
 * Mappings a driver leaked are dropped (PCIem's coherent pages freed,
 * their redzones checked first).
 * The table is marked dead first, so an operation that raced with the
 * removal finds nothing and maps nothing.
 */
void pciem_dma_free(struct pciem_function *fn)
{
	struct pciem_dma *dma = &fn->dma;
	struct pciem_dma_map *m, *next;
	struct rb_root live;
	unsigned long flags;
	unsigned int i;

	spin_lock_irqsave(&dma->lock, flags);
	dma->dead = true;
	live = dma->live;
	dma->live = RB_ROOT;
	spin_unlock_irqrestore(&dma->lock, flags);
	pciem_dma_confine_end(dma);	/* before the window's pool goes */
	rbtree_postorder_for_each_entry_safe(m, next, &live, node) {
		if (m->kind == PCIEM_DMA_COHERENT)
			pciem_dma_redzone_check(fn, m->iova, m->kaddr, m->len,
						pciem_dma_coherent_size(dma, m->kaddr,
									m->len, m->order),
						m->map_trace);
		if (dma->win_pool)
			pciem_dma_window_forget(dma, m);
		else if (m->kind == PCIEM_DMA_COHERENT)
			free_pages((unsigned long)m->kaddr, m->order);
		kfree(m);
	}
	pciem_dma_window_destroy(dma);
	kfree(dma->bounce);
	dma->bounce = NULL;
	for (i = 0; i < PCIEM_DMA_HISTORY; i++) {
		kfree(dma->history[i]);
		dma->history[i] = NULL;
	}
	while (dma->nr_spares)
		kfree(dma->spares[--dma->nr_spares]);
}
