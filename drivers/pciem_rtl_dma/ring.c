// SPDX-License-Identifier: GPL-2.0
/*
 * The descriptor ring of the RTL DMA engine: put transfers in it, ring the
 * TAIL doorbell, sleep until the completion interrupt, read the STATUS
 * words the engine wrote back. The engine stops on the first error (HEAD
 * stays on the failed descriptor) until it is reset.
 */
#include <linux/delay.h>
#include <linux/io.h>
#include <linux/jiffies.h>
#include <linux/sizes.h>
#include <linux/stddef.h>

#include "prd.h"

static_assert(sizeof(struct prd_desc) == RTL_DMA_DESC_SIZE);
static_assert(offsetof(struct prd_desc, ctrl) == RTL_DMA_D_CTRL);
static_assert(offsetof(struct prd_desc, len) == RTL_DMA_D_LEN);
static_assert(offsetof(struct prd_desc, src) == RTL_DMA_D_SRC);
static_assert(offsetof(struct prd_desc, dst) == RTL_DMA_D_DST);
static_assert(offsetof(struct prd_desc, status) == RTL_DMA_D_STATUS);

void prd_engine_start(struct prd_dev *pd)
{
	writel(lower_32_bits(pd->ring_dma), pd->regs + RTL_DMA_RING_LO);
	writel(upper_32_bits(pd->ring_dma), pd->regs + RTL_DMA_RING_HI);
	writel(PRD_RING_ORDER, pd->regs + RTL_DMA_RING_ORDER);
	writel(RTL_DMA_CTRL_ENABLE | RTL_DMA_CTRL_IRQ_EN, pd->regs + RTL_DMA_CTRL);
}

/*
 * Stops the engine, clears HEAD, COMPLETED and ERROR, rewinds TAIL to slot
 * 0 and starts it again. ENABLE is cleared first: with TAIL still ahead of
 * the rewound HEAD, an enabled engine would run the old descriptors again.
 */
int prd_engine_reset(struct prd_dev *pd)
{
	u32 status;
	int i;

	writel(RTL_DMA_CTRL_RESET, pd->regs + RTL_DMA_CTRL);
	/* The reset takes effect at the engine's next chunk boundary. */
	for (i = 0; i < 1000; i++) {
		status = readl(pd->regs + RTL_DMA_STATUS);
		if (status == ~0u)
			return -ENODEV;
		if (!(status & (RTL_DMA_STATUS_BUSY | RTL_DMA_STATUS_HALTED)))
			break;
		usleep_range(100, 200);
	}
	if (i == 1000)
		return -ETIMEDOUT;
	writel(0, pd->regs + RTL_DMA_TAIL);
	pd->tail = 0;
	writel(RTL_DMA_IRQ_DONE | RTL_DMA_IRQ_ERROR, pd->regs + RTL_DMA_IRQ_STATUS);
	writel(RTL_DMA_CTRL_ENABLE | RTL_DMA_CTRL_IRQ_EN, pd->regs + RTL_DMA_CTRL);
	return 0;
}

static void prd_fill_desc(struct prd_desc *d, const struct prd_xfer *x,
			  bool irq)
{
	d->ctrl = cpu_to_le32(x->op | (irq ? RTL_DMA_D_IRQ : 0));
	d->len = cpu_to_le32(x->len);
	d->src = cpu_to_le64(x->src);
	d->dst = cpu_to_le64(x->dst);
	d->status = 0;
	d->reserved = 0;
}

/**
 * prd_run() - run transfers on the engine and wait for them
 * @pd: the engine, its lock held
 * @x: the transfers, in order
 * @n: how many (fewer than the ring's entries)
 * @error: set to the engine's RTL_DMA_E_* code when it refused one
 *
 * Only the last descriptor asks for a completion interrupt, and only that
 * interrupt (or the error one) ends the wait: a device that completes the
 * work but never interrupts fails here with -ETIMEDOUT.
 *
 * Return: 0, -EIO with *@error set, -ETIMEDOUT, or -ENODEV when the
 * function went away.
 */
int prd_run(struct prd_dev *pd, const struct prd_xfer *x, unsigned int n,
	    u32 *error)
{
	int done0 = atomic_read(&pd->irqs[RTL_DMA_VEC_DONE]);
	int err0 = atomic_read(&pd->irqs[RTL_DMA_VEC_ERROR]);
	unsigned int first = pd->tail, i;
	unsigned long timeout;
	u64 bytes = 0;
	long left;
	u32 status;

	lockdep_assert_held(&pd->lock);
	*error = 0;
	if (!n || n >= PRD_RING_SIZE)
		return -EINVAL;
	if (READ_ONCE(pd->gone))
		return -ENODEV;
	for (i = 0; i < n; i++) {
		prd_fill_desc(&pd->ring[(first + i) % PRD_RING_SIZE], &x[i],
			      i == n - 1);
		bytes += x[i].len;
	}
	pd->tail = (first + n) % PRD_RING_SIZE;
	/* writel() orders the descriptor stores above before the doorbell. */
	writel(pd->tail, pd->regs + RTL_DMA_TAIL);

	/* Simulated RTL under TCG moves a few MB/s: be generous. */
	timeout = 20 * HZ + div_u64(bytes, SZ_1M) * HZ;
	left = wait_event_timeout(pd->wq,
				  atomic_read(&pd->irqs[RTL_DMA_VEC_DONE]) != done0 ||
				  atomic_read(&pd->irqs[RTL_DMA_VEC_ERROR]) != err0 ||
				  READ_ONCE(pd->gone), timeout);
	if (READ_ONCE(pd->gone))
		return -ENODEV;
	if (atomic_read(&pd->irqs[RTL_DMA_VEC_ERROR]) != err0) {
		*error = readl(pd->regs + RTL_DMA_ERROR);
		if (*error == ~0u)
			return -ENODEV;
		prd_engine_reset(pd);
		return -EIO;
	}
	if (!left) {
		if (readl(pd->regs + RTL_DMA_STATUS) == ~0u)
			return -ENODEV;
		prd_engine_reset(pd);
		return -ETIMEDOUT;
	}
	writel(RTL_DMA_IRQ_DONE, pd->regs + RTL_DMA_IRQ_STATUS);
	/* The interrupt came after the engine's status write-backs. */
	dma_rmb();
	for (i = 0; i < n; i++) {
		status = le32_to_cpu(READ_ONCE(pd->ring[(first + i) % PRD_RING_SIZE].status));
		if (status != RTL_DMA_ST_DONE) {
			*error = status;
			return -EIO;
		}
	}
	return 0;
}
