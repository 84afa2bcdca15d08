// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * DMA mapping operations of PCIem functions: an IOMMU of PCIem's own.
 *
 * PCIem installs these dma_map_ops on each of its pci_devs before any
 * driver can probe, so every mapping a driver makes passes through here
 * and is recorded: bus address, length, direction, kind and the call
 * chain that made it. Device-side accesses (pciem_dma_access.c) are
 * checked against this table, which is what lets PCIem say "the device
 * wrote one byte past a 64-byte FROM_DEVICE buffer mapped by foo()"
 * where hardware would corrupt memory silently.
 *
 * Bus addresses are not physical addresses: they come from a bus address
 * space per function, handed out like an IOMMU's IOVAs. Each mapping
 * keeps the buffer's offset within its page (drivers such as NVMe rely
 * on that), is followed by an unused guard page (so running off its end
 * never lands in a neighbour) and addresses are handed out cyclically
 * (a stale address is not reused soon, so late accesses are recognised).
 * A mask below 48 bits gets addresses from a range below 4 GiB.
 *
 * The memory itself is the driver's (streaming mappings) or pages PCIem
 * allocated (coherent): the device reaches it through the kernel's
 * direct map, under the table's lock, so an unmap never races an access.
 * CPU and device see the same bytes, so the sync calls have nothing to
 * copy.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/dma-map-ops.h>
#include <linux/genalloc.h>
#include <linux/kallsyms.h>
#include <linux/ratelimit.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/stacktrace.h>

#include "pciem.h"
#include "pciem_trace.h"

/* The two bus address ranges: below 4 GiB for narrow masks, and above. */
#define DMA_LOW_START	0x10000000ull
#define DMA_LOW_END	0x100000000ull
#define DMA_HIGH_START	0x100000000ull
#define DMA_HIGH_END	(1ull << 47)
/* The narrowest mask PCIem can serve: the low range must fit under it. */
#define DMA_MIN_MASK	DMA_BIT_MASK(32)

/* ---- the table ------------------------------------------------------------ */

void pciem_dma_init(struct pciem_function *fn)
{
	struct pciem_dma *dma = &fn->dma;

	spin_lock_init(&dma->lock);
	dma->live = RB_ROOT;
	dma->cursor[0] = DMA_LOW_START;
	dma->cursor[1] = DMA_HIGH_START;
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

/*
 * Whether a mapping of @kaddr lives in the window: with one, always
 * (coherent memory is window memory, the rest is bounced), except
 * streaming buffers when the window does not bounce. Lock held.
 */
static bool use_window(struct pciem_dma *dma, const void *kaddr)
{
	return dma->win_pool &&
	       (!dma->win_no_bounce || pciem_dma_window_holds(dma, kaddr));
}

/*
 * Give @m bus space for @m->len bytes at page offset @offset, below
 * @mask, and insert it. Lock held. Returns false when the space is full.
 */
static bool place(struct pciem_dma *dma, struct pciem_dma_map *m,
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

/*
 * The call chain of a DMA API call, taken once per call however many
 * segments it maps or unmaps (under TCG one unwind costs as much as the
 * rest of a 4 KiB I/O's mapping work), and before any lock is taken.
 */
struct pciem_dma_trace {
	unsigned long entries[PCIEM_DMA_TRACE];
};

/*
 * Six frames reach past PCIem's and the DMA API's own to the driver's
 * function and its caller. Each frame is an ORC lookup: under TCG the
 * traces of a 4 KiB read's map and unmap cost about a tenth of the
 * submitting CPU's time, which every I/O would pay for a report most runs
 * never print. So none by default for streaming mappings: a user chasing
 * a refusal asks for them (the report says how) and reproduces. Coherent
 * allocations, rare, always have theirs (pciem_dma_trace_coherent()).
 */
static unsigned int dma_trace_depth;
module_param(dma_trace_depth, uint, 0644);
MODULE_PARM_DESC(dma_trace_depth,
		 "Stack frames recorded per streaming DMA map/unmap call for the DMA sanitizer's reports and debugfs (0-8; default 0: none, reports say '?'; 6 names the driver's function and its caller; coherent allocations always record 6 or more)");

static void pciem_dma_trace_depth(struct pciem_dma_trace *t, unsigned int depth)
{
	memset(t, 0, sizeof(*t));
	depth = min_t(unsigned int, depth, PCIEM_DMA_TRACE);
	if (depth)
		pciem_arch_stack(t->entries, depth);
}

/* A streaming mapping, on every I/O: as deep as asked for. */
static void pciem_dma_trace_here(struct pciem_dma_trace *t)
{
	pciem_dma_trace_depth(t, READ_ONCE(dma_trace_depth));
}

/*
 * Coherent memory is allocated once per queue or ring, at probe or setup,
 * never per I/O: its chains are always recorded, deep enough to name the
 * driver's function.
 */
static void pciem_dma_trace_coherent(struct pciem_dma_trace *t)
{
	pciem_dma_trace_depth(t, max_t(unsigned int, READ_ONCE(dma_trace_depth), 6));
}

/*
 * Move an unmapped mapping with no device copy left in it to the history
 * ring. Lock held.
 */
static struct pciem_dma_map *pciem_dma_retire(struct pciem_dma *dma,
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
	return old;	/* the caller frees it, outside the lock */
}

/**
 * pciem_dma_free() - end of the table: at removal, after the driver is gone
 * @fn:		function; process context (the window is vunmapped)
 *
 * Mappings a driver leaked are dropped (PCIem's coherent pages freed).
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
}

/* ---- naming, for log lines -------------------------------------------------- */

const char *pciem_dma_kind_name(unsigned int kind)
{
	return kind == PCIEM_DMA_COHERENT ? "coherent" :
	       kind == PCIEM_DMA_SG ? "sg" : "single";
}

const char *pciem_dma_dir_name(unsigned int dir)
{
	switch (dir) {
	case DMA_BIDIRECTIONAL:
		return "BIDIRECTIONAL";
	case DMA_TO_DEVICE:
		return "TO_DEVICE";
	case DMA_FROM_DEVICE:
		return "FROM_DEVICE";
	}
	return "NONE";
}

/* Frames inside the DMA API and PCIem's ops say nothing about the driver. */
static bool dma_internal(unsigned long ip)
{
	static const char *const prefixes[] = {
		"dma_", "__dma_", "debug_dma_", "pciem_dma_", "map_", "unmap_",
		"pool_", "__pool_",
	};
	char sym[KSYM_SYMBOL_LEN];
	unsigned int i;

	sprint_symbol_no_offset(sym, ip);
	for (i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (!strncmp(sym, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

/**
 * pciem_dma_print_trace() - "drv_fn+0x1c/0x80 [drv] <- caller+0x.."
 * @buf:	output
 * @len:	its size
 * @trace:	PCIEM_DMA_TRACE return addresses, 0-terminated if fewer
 */
void pciem_dma_print_trace(char *buf, size_t len, const unsigned long *trace)
{
	unsigned int i, shown = 0;
	int n = 0;

	buf[0] = '\0';
	/* Skip PCIem's and the DMA API's frames: the driver is after them. */
	for (i = 0; i < PCIEM_DMA_TRACE && trace[i] && shown < 2; i++) {
		if (!shown && dma_internal(trace[i]) && i + 1 < PCIEM_DMA_TRACE &&
		    trace[i + 1])
			continue;
		n += scnprintf(buf + n, len - n, "%s%pS", shown ? " <- " : "",
			       (void *)trace[i]);
		shown++;
	}
	if (!shown)
		scnprintf(buf, len, "? (no call chains recorded: set /sys/module/pciem/parameters/dma_trace_depth to 6)");
}

/* ---- the operations ----------------------------------------------------------- */

static struct pciem_function *dev_fn(struct device *dev)
{
	return pciem_function_of_pdev(to_pci_dev(dev));
}

static u64 dev_mask(struct device *dev, bool coherent)
{
	if (coherent)
		return dev->coherent_dma_mask;
	return dev->dma_mask ? *dev->dma_mask : DMA_BIT_MASK(32);
}

/*
 * Who called the DMA API, for a warning about a driver's misuse of it:
 * "drv_fn+0x1c/0x80 [drv] <- its caller". From the unwinder, as the map
 * traces are: __builtin_return_address() beyond 0 is not safe in kernels
 * built without frame pointers, and level 0 is only the DMA core.
 */
static DEFINE_RATELIMIT_STATE(bad_call_rs, DEFAULT_RATELIMIT_INTERVAL,
			      DEFAULT_RATELIMIT_BURST);

static void pciem_dma_caller(char *buf, size_t len)
{
	unsigned long trace[PCIEM_DMA_TRACE] = { 0 };

	pciem_arch_stack(trace, PCIEM_DMA_TRACE);
	pciem_dma_print_trace(buf, len, trace);
}

/*
 * Record a mapping of @len bytes at kernel address @kaddr. Any context:
 * drivers map from interrupt handlers. The caller holds a reference on
 * @fn (one lookup per DMA API call, however many segments it has).
 */
static dma_addr_t pciem_dma_map_kaddr(struct pciem_function *fn,
				      struct device *dev, void *kaddr,
				      size_t len, enum dma_data_direction dir,
				      unsigned int kind, unsigned int order,
				      u64 mask, const struct pciem_dma_trace *t)
{
	struct pciem_dma_map *m;
	unsigned long flags;
	dma_addr_t iova = DMA_MAPPING_ERROR;

	m = kzalloc(sizeof(*m), GFP_ATOMIC);
	if (!m)
		return DMA_MAPPING_ERROR;
	m->len = len;
	m->kaddr = kaddr;
	m->dir = dir;
	m->kind = kind;
	m->order = order;
	memcpy(m->map_trace, t->entries, sizeof(m->map_trace));
	spin_lock_irqsave(&fn->dma.lock, flags);
	if (fn->dma.dead)
		;	/* the function is going: nothing maps any more */
	else if (use_window(&fn->dma, kaddr) ?
		 pciem_dma_window_place(&fn->dma, m) :
		 place(&fn->dma, m, offset_in_page(kaddr), mask))
		iova = m->iova;
	spin_unlock_irqrestore(&fn->dma.lock, flags);
	if (iova == DMA_MAPPING_ERROR) {
		dev_warn_ratelimited(dev, "pciem: no bus address space left for %zu bytes\n",
				     len);
		kfree(m);
	} else {
		atomic64_inc(&fn->dma.maps);
	}
	return iova;
}

/*
 * Forget the mapping at @iova. @kind says which call: a driver that frees
 * with the wrong call, the wrong size or an address it never got is told
 * so (the DMA API debug facility would say the same). The caller holds a
 * reference on @fn.
 */
static void pciem_dma_unmap_iova(struct pciem_function *fn,
				 struct device *dev, dma_addr_t iova,
				 size_t len, unsigned int kind, void **kaddr,
				 unsigned int *order,
				 const struct pciem_dma_trace *t)
{
	struct pciem_dma_map *m, *old = NULL;
	char caller[160];
	unsigned long flags;

	spin_lock_irqsave(&fn->dma.lock, flags);
	m = pciem_dma_find(&fn->dma, iova);
	if (m && m->iova == iova && m->kind == kind && !m->dying) {
		if (m->len != len)
			dev_warn_ratelimited(dev, "pciem: unmap of %#llx with size %zu, mapped with %llu\n",
					     (u64)iova, len, m->len);
		if (kaddr) {
			*kaddr = m->kaddr;
			*order = m->order;
		}
		/*
		 * Dying, no new device copy starts in it (the device sees it
		 * unmapped); one under way (a chunk at most, on a CPU with
		 * interrupts off) ends before the driver gets its memory back.
		 */
		if (atomic_read(&m->copying)) {
			m->dying = true;
			pciem_dma_window_revoke(&fn->dma, m);
			memcpy(m->unmap_trace, t->entries, sizeof(m->unmap_trace));
			spin_unlock_irqrestore(&fn->dma.lock, flags);
			while (atomic_read_acquire(&m->copying))
				cpu_relax();
			spin_lock_irqsave(&fn->dma.lock, flags);
		}
		old = pciem_dma_retire(&fn->dma, m, t);
		m = NULL;
	} else {
		m = ERR_PTR(-ENOENT);
	}
	spin_unlock_irqrestore(&fn->dma.lock, flags);
	if (IS_ERR(m) && __ratelimit(&bad_call_rs)) {
		pciem_dma_caller(caller, sizeof(caller));
		dev_warn(dev, "pciem: unmap of %#llx (%zu bytes), which is not a live mapping of that kind: %s\n",
			 (u64)iova, len, caller);
	}
	kfree(old);
}

static dma_addr_t pciem_dma_map_page(struct device *dev, struct page *page,
				     unsigned long offset, size_t size,
				     enum dma_data_direction dir,
				     unsigned long attrs)
{
	struct pciem_function *fn = dev_fn(dev);
	struct pciem_dma_trace t;
	dma_addr_t iova;

	if (!fn)
		return DMA_MAPPING_ERROR;
	pciem_dma_trace_here(&t);
	iova = pciem_dma_map_kaddr(fn, dev, page_address(page) + offset, size,
				   dir, PCIEM_DMA_SINGLE, 0,
				   dev_mask(dev, false), &t);
	pciem_function_put(fn);
	return iova;
}

static void pciem_dma_unmap_page(struct device *dev, dma_addr_t iova,
				 size_t size, enum dma_data_direction dir,
				 unsigned long attrs)
{
	struct pciem_function *fn = dev_fn(dev);
	struct pciem_dma_trace t;

	if (!fn)
		return;
	pciem_dma_trace_here(&t);
	pciem_dma_unmap_iova(fn, dev, iova, size, PCIEM_DMA_SINGLE, NULL, NULL,
			     &t);
	pciem_function_put(fn);
}

/* The first @nents segments of @sgl. The caller holds a reference on @fn. */
static void pciem_dma_unmap_segments(struct pciem_function *fn,
				     struct device *dev,
				     struct scatterlist *sgl, int nents,
				     const struct pciem_dma_trace *t)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i) {
		if (!sg_dma_len(sg))
			break;
		pciem_dma_unmap_iova(fn, dev, sg_dma_address(sg),
				     sg_dma_len(sg), PCIEM_DMA_SG, NULL, NULL, t);
	}
}

static void pciem_dma_unmap_sg(struct device *dev, struct scatterlist *sgl,
			       int nents, enum dma_data_direction dir,
			       unsigned long attrs)
{
	struct pciem_function *fn = dev_fn(dev);
	struct pciem_dma_trace t;

	if (!fn)
		return;
	pciem_dma_trace_here(&t);
	pciem_dma_unmap_segments(fn, dev, sgl, nents, &t);
	pciem_function_put(fn);
}

/* One bus address per segment: nothing is merged, as swiotlb does. */
static int pciem_dma_map_sg(struct device *dev, struct scatterlist *sgl,
			    int nents, enum dma_data_direction dir,
			    unsigned long attrs)
{
	struct pciem_function *fn = dev_fn(dev);
	struct pciem_dma_trace t;
	struct scatterlist *sg;
	dma_addr_t iova;
	int i, ret = nents;

	if (!fn)
		return -ENOMEM;
	pciem_dma_trace_here(&t);
	for_each_sg(sgl, sg, nents, i) {
		iova = pciem_dma_map_kaddr(fn, dev, sg_virt(sg), sg->length, dir,
					   PCIEM_DMA_SG, 0, dev_mask(dev, false),
					   &t);
		if (iova == DMA_MAPPING_ERROR) {
			pciem_dma_unmap_segments(fn, dev, sgl, i, &t);
			ret = -ENOMEM;
			break;
		}
		sg_dma_address(sg) = iova;
		sg_dma_len(sg) = sg->length;
	}
	pciem_function_put(fn);
	return ret;
}

static void *pciem_dma_alloc(struct device *dev, size_t size,
			     dma_addr_t *iova, gfp_t gfp, unsigned long attrs)
{
	struct pciem_function *fn = dev_fn(dev);
	unsigned int order = get_order(size);
	/* With a zero-copy window, coherent memory is a piece of it. */
	bool win = fn && READ_ONCE(fn->dma.win_pool);
	struct pciem_dma_trace t;
	void *kaddr;

	if (!fn)
		return NULL;
	/* Bus addresses do not depend on where the pages are. */
	gfp &= ~(__GFP_DMA | __GFP_DMA32 | __GFP_HIGHMEM | __GFP_COMP);
	if (win)
		kaddr = pciem_dma_window_alloc(&fn->dma, size);
	else
		kaddr = (void *)__get_free_pages(gfp | __GFP_ZERO, order);
	if (!kaddr)
		goto out;
	pciem_dma_trace_coherent(&t);
	*iova = pciem_dma_map_kaddr(fn, dev, kaddr, size, DMA_BIDIRECTIONAL,
				    PCIEM_DMA_COHERENT, order,
				    dev_mask(dev, true), &t);
	if (*iova == DMA_MAPPING_ERROR) {
		if (win)
			pciem_dma_window_free(&fn->dma, kaddr, size);
		else
			free_pages((unsigned long)kaddr, order);
		kaddr = NULL;
	}
out:
	pciem_function_put(fn);
	return kaddr;
}

static void pciem_dma_free_coherent(struct device *dev, size_t size,
				    void *vaddr, dma_addr_t iova,
				    unsigned long attrs)
{
	struct pciem_function *fn = dev_fn(dev);
	struct pciem_dma_trace t;
	unsigned int order = 0;
	void *kaddr = NULL;

	if (!fn)
		return;
	pciem_dma_trace_coherent(&t);
	pciem_dma_unmap_iova(fn, dev, iova, size, PCIEM_DMA_COHERENT, &kaddr,
			     &order, &t);
	/* Only memory PCIem handed out goes back; a bad free leaks instead. */
	if (kaddr && kaddr == vaddr) {
		if (READ_ONCE(fn->dma.win_pool))
			pciem_dma_window_free(&fn->dma, kaddr, size);
		else
			free_pages((unsigned long)kaddr, order);
	}
	pciem_function_put(fn);
}

/*
 * Device and CPU share the bytes, so a sync has nothing to do except for
 * mappings bounced through a window. A sync of something that is not
 * mapped is a driver bug worth a line. The caller holds a reference on
 * @fn.
 */
static void pciem_dma_sync_one(struct pciem_function *fn, struct device *dev,
			       dma_addr_t iova, size_t size, bool for_cpu)
{
	struct pciem_dma_map *m;
	char caller[160];
	unsigned long flags;
	bool ok;

	spin_lock_irqsave(&fn->dma.lock, flags);
	m = pciem_dma_find(&fn->dma, iova);
	ok = m && size <= m->len - (iova - m->iova);
	if (ok && fn->dma.win_pool)
		pciem_dma_window_sync(&fn->dma, m, iova, size, for_cpu);
	spin_unlock_irqrestore(&fn->dma.lock, flags);
	if (!ok && __ratelimit(&bad_call_rs)) {
		pciem_dma_caller(caller, sizeof(caller));
		dev_warn(dev, "pciem: sync of %zu bytes at %#llx, which is not inside a live mapping: %s\n",
			 size, (u64)iova, caller);
	}
}

static void pciem_dma_sync_range(struct device *dev, dma_addr_t iova,
				 size_t size, bool for_cpu)
{
	struct pciem_function *fn = dev_fn(dev);

	if (!fn)
		return;
	pciem_dma_sync_one(fn, dev, iova, size, for_cpu);
	pciem_function_put(fn);
}

static void pciem_dma_sync_list(struct device *dev, struct scatterlist *sgl,
				int nents, bool for_cpu)
{
	struct pciem_function *fn = dev_fn(dev);
	struct scatterlist *sg;
	int i;

	if (!fn)
		return;
	for_each_sg(sgl, sg, nents, i)
		pciem_dma_sync_one(fn, dev, sg_dma_address(sg), sg_dma_len(sg), for_cpu);
	pciem_function_put(fn);
}

static void pciem_dma_sync_single_for_cpu(struct device *dev, dma_addr_t iova,
					  size_t size,
					  enum dma_data_direction dir)
{
	pciem_dma_sync_range(dev, iova, size, true);
}

static void pciem_dma_sync_single_for_device(struct device *dev,
					     dma_addr_t iova, size_t size,
					     enum dma_data_direction dir)
{
	pciem_dma_sync_range(dev, iova, size, false);
}

static void pciem_dma_sync_sg_for_cpu(struct device *dev,
				      struct scatterlist *sgl, int nents,
				      enum dma_data_direction dir)
{
	pciem_dma_sync_list(dev, sgl, nents, true);
}

static void pciem_dma_sync_sg_for_device(struct device *dev,
					 struct scatterlist *sgl, int nents,
					 enum dma_data_direction dir)
{
	pciem_dma_sync_list(dev, sgl, nents, false);
}

static int pciem_dma_supported(struct device *dev, u64 mask)
{
	return mask >= DMA_MIN_MASK;
}

static u64 pciem_dma_required_mask(struct device *dev)
{
	return DMA_BIT_MASK(32);
}

static const struct dma_map_ops pciem_dma_ops = {
	.alloc = pciem_dma_alloc,
	.free = pciem_dma_free_coherent,
	.map_page = pciem_dma_map_page,
	.unmap_page = pciem_dma_unmap_page,
	.map_sg = pciem_dma_map_sg,
	.unmap_sg = pciem_dma_unmap_sg,
	.sync_single_for_cpu = pciem_dma_sync_single_for_cpu,
	.sync_single_for_device = pciem_dma_sync_single_for_device,
	.sync_sg_for_cpu = pciem_dma_sync_sg_for_cpu,
	.sync_sg_for_device = pciem_dma_sync_sg_for_device,
	.dma_supported = pciem_dma_supported,
	.get_required_mask = pciem_dma_required_mask,
};

/* At BUS_NOTIFY_ADD_DEVICE, before any driver can probe (pciem_function.c). */
void pciem_dma_attach(struct pciem_function *fn, struct pci_dev *pdev)
{
	set_dma_ops(&pdev->dev, &pciem_dma_ops);
}

/*
 * /sys/kernel/debug/pciem/dma: per function, what the driver has mapped
 * right now and where it did so. The first thing to look at when a model
 * reports a refused DMA.
 */
static void dma_show_fn(struct pciem_function *fn, void *arg)
{
	struct seq_file *s = arg;
	struct pciem_dma *dma = &fn->dma;
	struct pciem_dma_map *m;
	struct rb_node *n;
	unsigned long flags;
	char where[160];

	spin_lock_irqsave(&dma->lock, flags);
	seq_printf(s, "%s: %llu mapped so far, %llu refused", fn->name,
		   (u64)atomic64_read(&dma->maps), (u64)atomic64_read(&dma->faults));
	if (dma->win_pool)
		seq_printf(s, ", window %#llx+%llu (%zu bytes free)", dma->win_base,
			   dma->win_size, gen_pool_avail(dma->win_pool));
	seq_puts(s, "\n");
	for (n = rb_first(&dma->live); n; n = rb_next(n)) {
		m = rb_entry(n, struct pciem_dma_map, node);
		pciem_dma_print_trace(where, sizeof(where), m->map_trace);
		seq_printf(s, "  %#llx+%llu %s %s%s by %s\n", m->iova, m->len,
			   pciem_dma_dir_name(m->dir), pciem_dma_kind_name(m->kind),
			   m->orig ? " bounced" : "", where);
	}
	spin_unlock_irqrestore(&dma->lock, flags);
}

static int dma_show(struct seq_file *s, void *unused)
{
	pciem_visit_functions(s->private, s, dma_show_fn);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dma);

void pciem_dma_host_init(struct pciem_host *host)
{
	debugfs_create_file("dma", 0400, pciem_debugfs, host, &dma_fops);
}
