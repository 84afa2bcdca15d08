// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * DMA mapping operations of PCIem functions: an IOMMU of PCIem's own.
 *
 * PCIem installs these dma_map_ops on each of its pci_devs before any
 * driver can probe, so every mapping a driver makes passes through here
 * and is recorded in the function's mapping table (pciem_dma_table.c) at
 * a bus address of PCIem's choosing (pciem_dma_iova.c, or the zero-copy
 * window's, pciem_dma_window.c), with the call chain that made it
 * (pciem_dma_chain.c). A driver that unmaps, frees or syncs what it never
 * mapped is told so, as the DMA API debug facility would.
 *
 * CPU and device see the same bytes, so the sync calls have nothing to
 * copy except for mappings bounced through a window.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-map-ops.h>
#include <linux/ratelimit.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "pciem.h"

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

/* Warnings about a driver's misuse of the DMA API, all of them together. */
static DEFINE_RATELIMIT_STATE(bad_call_rs, DEFAULT_RATELIMIT_INTERVAL,
			      DEFAULT_RATELIMIT_BURST);

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

	spin_lock_irqsave(&fn->dma.lock, flags);
	m = pciem_dma_spare(&fn->dma);
	if (!m) {
		spin_unlock_irqrestore(&fn->dma.lock, flags);
		m = kzalloc(sizeof(*m), GFP_ATOMIC);
		if (!m)
			return DMA_MAPPING_ERROR;
		spin_lock_irqsave(&fn->dma.lock, flags);
	}
	m->len = len;
	m->kaddr = kaddr;
	m->dir = dir;
	m->kind = kind;
	m->order = order;
	memcpy(m->map_trace, t->entries, sizeof(m->map_trace));
	if (fn->dma.dead)
		;	/* the function is going: nothing maps any more */
	else if (use_window(&fn->dma, kaddr) ?
		 pciem_dma_window_place(&fn->dma, m) :
		 pciem_dma_iova_place(&fn->dma, m, offset_in_page(kaddr), mask))
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

/* What a coherent free gives back: the mapping as it was made. */
struct freed {
	void *kaddr;
	size_t len;
	unsigned int order;
	unsigned long trace[PCIEM_DMA_TRACE];
};

/*
 * Forget the mapping at @iova. @kind says which call: a driver that frees
 * with the wrong call, the wrong size or an address it never got is told
 * so (the DMA API debug facility would say the same). @out, if not NULL,
 * gets the mapping's own address, length and order (not the driver's
 * claims: a free with the wrong size still returns what was allocated).
 * The caller holds a reference on @fn.
 */
static void pciem_dma_unmap_iova(struct pciem_function *fn,
				 struct device *dev, dma_addr_t iova,
				 size_t len, unsigned int kind,
				 struct freed *out,
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
		if (out) {
			out->kaddr = m->kaddr;
			out->len = m->len;
			out->order = m->order;
			memcpy(out->trace, m->map_trace, sizeof(out->trace));
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
	pciem_dma_unmap_iova(fn, dev, iova, size, PCIEM_DMA_SINGLE, NULL, &t);
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
				     sg_dma_len(sg), PCIEM_DMA_SG, NULL, t);
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
	/* Before the buffer has a bus address: nothing but the CPU sees it. */
	pciem_dma_redzone_fill(kaddr, size,
			       pciem_dma_coherent_size(&fn->dma, kaddr, size, order));
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
	struct freed f = {};
	struct pciem_dma_trace t;

	if (!fn)
		return;
	pciem_dma_trace_coherent(&t);
	pciem_dma_unmap_iova(fn, dev, iova, size, PCIEM_DMA_COHERENT, &f, &t);
	if (f.kaddr)
		pciem_dma_redzone_check(fn, iova, f.kaddr, f.len,
					pciem_dma_coherent_size(&fn->dma, f.kaddr,
							    f.len, f.order),
					f.trace);
	/*
	 * What goes back is what was allocated, whatever size the driver
	 * says (the pool would BUG on a piece it never handed out). Window
	 * memory always goes back: it is never the kernel's, so a driver
	 * still writing it after a free with the wrong address hurts only
	 * itself, and the pool must be empty when the window goes. Pages
	 * freed with the wrong address leak instead: the driver may still
	 * be using them.
	 */
	if (f.kaddr && READ_ONCE(fn->dma.win_pool)) {
		if (f.kaddr != vaddr)
			dev_warn_ratelimited(dev, "pciem: coherent free of %#llx with an address it was not allocated at\n",
					     (u64)iova);
		pciem_dma_window_free(&fn->dma, f.kaddr, f.len);
	} else if (f.kaddr && f.kaddr == vaddr) {
		free_pages((unsigned long)f.kaddr, f.order);
	} else if (f.kaddr) {
		dev_warn_ratelimited(dev, "pciem: coherent free of %#llx with an address it was not allocated at: its pages are leaked\n",
				     (u64)iova);
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
	return pciem_dma_iova_mask_ok(mask);
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
