// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Redzones of coherent DMA memory: the CPU side of the DMA sanitizer.
 *
 * A driver's own writes to its coherent buffers never pass through PCIem,
 * so a driver that writes past the end of one corrupts whatever follows
 * without a word (the stock nvme driver does, after a reset that changed
 * its doorbell stride: docs/findings.md). PCIem hands out more than was
 * asked for anyway (whole pages, and in a zero-copy window a guard page
 * after each piece), so the bytes between the end of the buffer and the
 * end of what was allocated are filled with a pattern at allocation and
 * checked when the buffer is freed, or when its function goes with the
 * buffer still allocated: a changed byte is reported with the size and
 * the call chain that allocated it, as KASAN or slub_debug would report a
 * write past a slab object. Within the window the overrun stays in
 * window memory; outside it only the slack of the buffer's last page is
 * watched, and anything further has already hit the kernel's own pages.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/string.h>

#include "pciem.h"

#define REDZONE_BYTE	0xbd

/**
 * pciem_dma_coherent_size() - bytes PCIem allocated for a coherent buffer
 * @dma:	its function's table
 * @kaddr:	the buffer
 * @len:	bytes the driver asked for
 * @order:	page order of its pages, outside a window
 *
 * Whole pages, and in the window a guard page too: all but @len is redzone.
 */
size_t pciem_dma_coherent_size(struct pciem_dma *dma, const void *kaddr,
			       size_t len, unsigned int order)
{
	if (READ_ONCE(dma->win_pool) && pciem_dma_window_holds(dma, kaddr))
		return pciem_dma_window_piece(len);
	return PAGE_SIZE << order;
}

/**
 * pciem_dma_redzone_fill() - fill what follows a new coherent buffer
 * @kaddr:	the buffer
 * @len:	bytes the driver asked for
 * @alloc:	bytes PCIem allocated for it, from @kaddr
 */
void pciem_dma_redzone_fill(void *kaddr, size_t len, size_t alloc)
{
	if (alloc > len)
		memset(kaddr + len, REDZONE_BYTE, alloc - len);
}

/**
 * pciem_dma_redzone_check() - report bytes written past a coherent buffer
 * @fn:		its function, for the message
 * @iova:	its bus address
 * @kaddr:	the buffer
 * @len:	bytes the driver asked for
 * @alloc:	bytes PCIem allocated for it (the redzone ends there)
 * @trace:	the call chain that allocated it
 *
 * Process or atomic context; reads at most a few pages.
 */
void pciem_dma_redzone_check(struct pciem_function *fn, u64 iova,
			     const void *kaddr, size_t len, size_t alloc,
			     const unsigned long *trace)
{
	const u8 *zone = kaddr + len, *first, *last;
	char made[160];

	if (alloc <= len)
		return;
	first = memchr_inv(zone, REDZONE_BYTE, alloc - len);
	if (!first)
		return;
	last = zone + (alloc - len) - 1;
	while (*last == REDZONE_BYTE)
		last--;
	atomic64_inc(&fn->dma.redzone_hits);
	pciem_dma_print_trace(made, sizeof(made), trace);
	pr_warn_ratelimited("%s: coherent buffer %#llx+%zu was written past its end: bytes %zu to %zu after it changed; allocated by %s\n",
			    fn->name, iova, len, (size_t)(first - zone),
			    (size_t)(last - zone), made);
}
