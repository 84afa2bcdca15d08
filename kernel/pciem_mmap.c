// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * mmap() of a device fd: the request ring at offset 0, shadows above
 * PCIEM_SHADOW_MMAP_OFFSET, RAM BAR n at PCIEM_MMAP_BAR_OFFSET(n) and the
 * DMA window at PCIEM_MMAP_DMA_WINDOW (docs/abi.md).
 *
 * Pages are not inserted when the mapping is made but handed out from the
 * fault handler. A shared mapping's page-table entries may be dropped at
 * any time (MADV_DONTNEED, for one); with nothing to fault them back in,
 * the next access would be a SIGBUS. The vma holds the device file, and
 * the file the function, so every page stays as long as any mapping does.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/version.h>
#include <linux/vmalloc.h>

#include "pciem.h"

#define BAR_SHIFT	(40 - PAGE_SHIFT)	/* PCIEM_MMAP_BAR_OFFSET(n) */

/**
 * struct pciem_region - one mappable object of a device fd
 * @first:	its first file page offset
 * @npages:	its length in pages (0: not there)
 * @vmalloc:	its memory is vmalloc'ed at @base, else pages in @pages
 * @base:	the vmalloc'ed memory
 * @pages:	the page array
 * @shared_only: refuse MAP_PRIVATE (the ring and shadows are a protocol)
 * @read_only:	refuse writable mappings (the window's permissions)
 */
struct pciem_region {
	unsigned long first;
	unsigned long npages;
	bool vmalloc;
	void *base;
	struct pciem_rambar *pages;
	bool shared_only;
	bool read_only;
};

/* The region that holds file page @pgoff of @fn's device fd. */
static void find_region(struct pciem_function *fn, unsigned long pgoff,
			struct pciem_region *r)
{
	const unsigned long shadow = PCIEM_SHADOW_MMAP_OFFSET >> PAGE_SHIFT;
	const unsigned long window = PCIEM_MMAP_DMA_WINDOW >> PAGE_SHIFT;
	const unsigned long perm = PCIEM_MMAP_DMA_PERM >> PAGE_SHIFT;
	const unsigned long bar0 = PCIEM_MMAP_BAR_OFFSET(0) >> PAGE_SHIFT;
	unsigned long bar;

	memset(r, 0, sizeof(*r));
	if (pgoff >= perm) {
		r->first = perm;
		r->vmalloc = true;
		r->read_only = true;
		/* Pairs with window_create()'s release: the pages are there. */
		if (smp_load_acquire(&fn->dma.win_pool)) {
			r->base = fn->dma.win_perm;
			r->npages = PAGE_ALIGN(sizeof(*fn->dma.win_perm) +
					       fn->dma.win_perm->pages) >> PAGE_SHIFT;
		}
	} else if (pgoff >= window) {
		r->first = window;
		/* Pairs with window_create()'s release: the pages are there. */
		if (smp_load_acquire(&fn->dma.win_pool)) {
			r->pages = &fn->dma.win_pages;
			r->npages = r->pages->npages;
		}
	} else if (pgoff >= bar0) {
		bar = (pgoff >> BAR_SHIFT) - 1;
		r->first = (bar + 1) << BAR_SHIFT;
		/* Not a BAR backed by its owner's pages: they are not ours to hand out. */
		if (bar < PCIEM_MAX_BARS &&
		    (fn->cfg.bar_flags[bar] & PCIEM_BAR_RAM)) {
			r->pages = &fn->ram[bar];
			r->npages = r->pages->npages;
		}
	} else if (pgoff >= shadow) {
		r->first = shadow;
		r->vmalloc = true;
		r->base = fn->ring.shadow;
		r->npages = PCIEM_SHADOW_AREA >> PAGE_SHIFT;
		r->shared_only = true;
	} else {
		r->vmalloc = true;
		r->base = fn->ring.hdr;
		r->npages = fn->ring.size >> PAGE_SHIFT;
		r->shared_only = true;
	}
}

static vm_fault_t pciem_vm_fault(struct vm_fault *vmf)
{
	struct pciem_function *fn = vmf->vma->vm_file->private_data;
	struct pciem_region r;
	struct page *page;
	unsigned long i;

	find_region(fn, vmf->pgoff, &r);
	i = vmf->pgoff - r.first;
	/* pciem_dev_mmap() made sure the whole vma lies in the region. */
	if (WARN_ON_ONCE(i >= r.npages))
		return VM_FAULT_SIGBUS;
	page = r.vmalloc ? vmalloc_to_page(r.base + (i << PAGE_SHIFT)) :
			   r.pages->pages[i];
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct pciem_vm_ops = {
	.fault = pciem_vm_fault,
};

/**
 * pciem_dev_mmap() - mmap() of a device fd
 * @file:	the device fd's file
 * @vma:	the new mapping
 *
 * Return: 0, or -EINVAL for what is not there, runs past its end, or a
 * private mapping of the ring or a shadow.
 */
/**
 * pciem_vma_fixed() - a mapping of PCIem memory that may not grow
 * @vma:	the mapping being set up
 *
 * mremap() may not grow it past what is there, and core dumps leave it out
 * (device memory, DMA pages).
 */
void pciem_vma_fixed(struct vm_area_struct *vma)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
#else
	vma->vm_flags |= VM_DONTEXPAND | VM_DONTDUMP;
#endif
}

int pciem_dev_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct pciem_function *fn = file->private_data;
	struct pciem_region r;

	find_region(fn, vma->vm_pgoff, &r);
	if (vma->vm_pgoff - r.first > r.npages ||
	    vma_pages(vma) > r.npages - (vma->vm_pgoff - r.first))
		return -EINVAL;
	if (r.shared_only && !(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (r.read_only && (vma->vm_flags & (VM_WRITE | VM_MAYWRITE))) {
		if (vma->vm_flags & VM_WRITE)
			return -EPERM;
		/* Not later with mprotect() either. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
		vm_flags_clear(vma, VM_MAYWRITE);
#else
		vma->vm_flags &= ~VM_MAYWRITE;
#endif
	}
	pciem_vma_fixed(vma);
	vma->vm_ops = &pciem_vm_ops;
	return 0;
}
