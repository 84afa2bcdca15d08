// SPDX-License-Identifier: GPL-2.0
/*
 * Command submission. A submitter takes the ring (pfb_ring_begin), emits
 * commands into free slots (pfb_ring_emit), and pfb_ring_finish closes the
 * batch with a FENCE that interrupts, rings the doorbell and sleeps until
 * the device wrote that fence's sequence number: display updates are
 * synchronous, so the ring is empty whenever a batch begins, and the
 * scatter-gather list a batch uses can live in one coherent buffer.
 *
 * A device error (the error interrupt) or a fence that never comes ends
 * the wait; the submitter then resets the command engine, reprograms the
 * ring and reports -EIO. The display engine is not touched by that, so
 * the screen keeps its last picture and the next update works.
 */
#include <drm/drm_print.h>
#include <linux/dma-mapping.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>
#include <linux/ktime.h>
#include <linux/slab.h>

#include "pciem_fb.h"

/* Far longer than any upload takes, even under TCG. */
#define PFB_FENCE_TIMEOUT	(5 * HZ)
#define PFB_SG_INITIAL		1024

static void pfb_ring_program(struct pfb_device *pfb)
{
	pfb->tail = 0;
	writeq(pfb->ring_bus, pfb->regs + PFB_RING_BASE);
	pfb_write(pfb, PFB_RING_SIZE, PFB_RING_BYTES);
	pfb_write(pfb, PFB_RING_CTRL, PFB_RING_ENABLE);
}

int pfb_ring_init(struct pfb_device *pfb)
{
	struct device *dev = &pfb->pdev->dev;

	mutex_init(&pfb->ring_lock);
	init_waitqueue_head(&pfb->fence_wq);
	pfb->ring = dmam_alloc_coherent(dev, PFB_RING_BYTES, &pfb->ring_bus, GFP_KERNEL);
	pfb->fence = dmam_alloc_coherent(dev, PAGE_SIZE, &pfb->fence_bus, GFP_KERNEL);
	if (!pfb->ring || !pfb->fence)
		return -ENOMEM;
	pfb->sg_entries = PFB_SG_INITIAL;
	pfb->sg = dma_alloc_coherent(dev, pfb->sg_entries * sizeof(*pfb->sg), &pfb->sg_bus,
				     GFP_KERNEL);
	if (!pfb->sg)
		return -ENOMEM;
	pfb_ring_program(pfb);
	return 0;
}

void pfb_ring_fini(struct pfb_device *pfb)
{
	dma_free_coherent(&pfb->pdev->dev, pfb->sg_entries * sizeof(*pfb->sg), pfb->sg,
			  pfb->sg_bus);
	pfb->sg = NULL;
}

int pfb_ring_begin(struct pfb_device *pfb)
{
	mutex_lock(&pfb->ring_lock);
	if (READ_ONCE(pfb->gone)) {
		mutex_unlock(&pfb->ring_lock);
		return -ENODEV;
	}
	pfb->batch = 0;
	return 0;
}

/* The next slot, zeroed; NULL when the batch is full (one slot is kept
 * for the closing fence, one to tell a full ring from an empty one).
 */
union pfb_cmd *pfb_ring_emit(struct pfb_device *pfb)
{
	union pfb_cmd *cmd;

	lockdep_assert_held(&pfb->ring_lock);
	if (pfb->batch >= PFB_RING_SLOTS - 2)
		return NULL;
	cmd = pfb->ring + pfb->tail;
	memset(cmd, 0, sizeof(*cmd));
	pfb->tail = (pfb->tail + PFB_CMD_SIZE) % PFB_RING_BYTES;
	pfb->batch++;
	return cmd;
}

/* The buffer's pages as the device's scatter-gather list: one entry per
 * DMA segment, in order, so the list's byte stream is the buffer.
 */
int pfb_ring_load_sg(struct pfb_device *pfb, struct sg_table *sgt, u32 *count)
{
	struct device *dev = &pfb->pdev->dev;
	struct scatterlist *sg;
	unsigned int n = 0;
	int i;

	lockdep_assert_held(&pfb->ring_lock);
	if (sgt->nents > PFB_SG_MAX)
		return -E2BIG;
	if (sgt->nents > pfb->sg_entries) {
		u32 want = roundup_pow_of_two(sgt->nents);
		dma_addr_t bus;
		void *mem = dma_alloc_coherent(dev, want * sizeof(*pfb->sg), &bus, GFP_KERNEL);

		if (!mem)
			return -ENOMEM;
		dma_free_coherent(dev, pfb->sg_entries * sizeof(*pfb->sg), pfb->sg, pfb->sg_bus);
		pfb->sg = mem;
		pfb->sg_bus = bus;
		pfb->sg_entries = want;
	}
	for_each_sgtable_dma_sg(sgt, sg, i) {
		pfb->sg[n].addr = cpu_to_le64(sg_dma_address(sg));
		pfb->sg[n].len = cpu_to_le32(sg_dma_len(sg));
		pfb->sg[n].reserved = 0;
		n++;
	}
	*count = n;
	return 0;
}

static void pfb_ring_recover(struct pfb_device *pfb, bool timed_out)
{
	u32 code = pfb_read(pfb, PFB_ERROR_CODE);
	u32 offset = pfb_read(pfb, PFB_ERROR_OFFSET);
	u64 addr = readq(pfb->regs + PFB_ERROR_ADDR);

	if (timed_out) {
		pfb->timeouts++;
		drm_err(&pfb->drm, "fence %llu not signalled in time (ring status %#x); resetting the command engine\n",
			pfb->seqno, pfb_read(pfb, PFB_RING_STATUS));
	} else {
		pfb->errors++;
		drm_err(&pfb->drm, "device error %u at ring offset %#x (address %#llx); resetting the command engine\n",
			code, offset, addr);
	}
	pfb_write(pfb, PFB_RESET, PFB_RESET_ENGINE);
	WRITE_ONCE(pfb->error, false);
	pfb_ring_program(pfb);
	pfb->resets++;
	/* What the failed batch was meant to draw is not on screen. */
	pfb->back_stale = true;
}

static bool pfb_fence_done(struct pfb_device *pfb, u64 seqno)
{
	return (s64)(le64_to_cpu(READ_ONCE(*pfb->fence)) - seqno) >= 0;
}

int pfb_ring_finish(struct pfb_device *pfb)
{
	union pfb_cmd *cmd;
	ktime_t start;
	u64 seqno, seen;
	int ret = 0;

	lockdep_assert_held(&pfb->ring_lock);
	pfb->batch = 0; /* the fence always has its slot */
	cmd = pfb_ring_emit(pfb);
	seqno = ++pfb->seqno;
	cmd->fence.header = cpu_to_le32(PFB_CMD_HEADER(PFB_OP_FENCE, 0, PFB_FENCE_F_IRQ));
	cmd->fence.seqno = cpu_to_le64(seqno);
	cmd->fence.addr = cpu_to_le64(pfb->fence_bus);
	/* Commands in memory before the doorbell (writel orders after them). */
	start = ktime_get();
	pfb_write(pfb, PFB_RING_TAIL, pfb->tail);

	wait_event_timeout(pfb->fence_wq,
			   pfb_fence_done(pfb, seqno) || READ_ONCE(pfb->error) ||
			   READ_ONCE(pfb->gone),
			   PFB_FENCE_TIMEOUT);
	if (READ_ONCE(pfb->gone)) {
		ret = -ENODEV;
	} else if (!pfb_fence_done(pfb, seqno)) {
		/* The device stops at the first bad command, so a fence not
		 * done means this batch did not complete.
		 */
		pfb_ring_recover(pfb, !READ_ONCE(pfb->error));
		ret = -EIO;
	}
	/* Every value the device wrote is checked against the one before:
	 * sequence numbers only grow (debugfs fence_regressions stays 0).
	 */
	seen = le64_to_cpu(READ_ONCE(*pfb->fence));
	if (seen < pfb->fence_seen)
		pfb->fence_regressions++;
	pfb->fence_seen = seen;
	if (pfb_fence_done(pfb, seqno)) {
		pfb->completed = seqno;
		pfb->busy_ns += ktime_to_ns(ktime_sub(ktime_get(), start));
	}
	mutex_unlock(&pfb->ring_lock);
	return ret;
}

/* Give the ring back without submitting what was emitted. */
void pfb_ring_abort(struct pfb_device *pfb)
{
	lockdep_assert_held(&pfb->ring_lock);
	pfb->tail = (pfb->tail + PFB_RING_BYTES - pfb->batch * PFB_CMD_SIZE) % PFB_RING_BYTES;
	pfb->batch = 0;
	mutex_unlock(&pfb->ring_lock);
}

void pfb_ring_fence_signalled(struct pfb_device *pfb)
{
	wake_up_all(&pfb->fence_wq);
}

void pfb_ring_error_signalled(struct pfb_device *pfb)
{
	WRITE_ONCE(pfb->error, true);
	wake_up_all(&pfb->fence_wq);
}

/* Surprise removal: no fence will come; let waiters go. */
void pfb_ring_unplug(struct pfb_device *pfb)
{
	WRITE_ONCE(pfb->gone, true);
	wake_up_all(&pfb->fence_wq);
}
