/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pciem_fb: DRM/KMS driver for the PCIem framebuffer accelerator
 * (docs/fb.md). Dumb buffers live in system memory (shmem GEM); every
 * update is uploaded by the device's command ring (UPLOAD, COPY) into the
 * back one of two scanout buffers in VRAM, which is flipped to at the next
 * vblank. See docs/fb.md, "The driver", for why.
 *
 *   pciem_fb_drv.c      PCI probe/remove, the DRM device
 *   pciem_fb_kms.c      the display pipe: modes, commits, page flips
 *   pciem_fb_ring.c     command submission, fences, error recovery
 *   pciem_fb_irq.c      MSI-X (a vector per cause), MSI, INTx
 *   pciem_fb_debugfs.c  state and fault injection
 */
#ifndef PCIEM_FB_H
#define PCIEM_FB_H

#include <drm/drm_connector.h>
#include <drm/drm_device.h>
#include <drm/drm_simple_kms_helper.h>
#include <linux/atomic.h>
#include <linux/io.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "pciem_fb_hw.h"

#define PFB_DRIVER_NAME		"pciem_fb"
/* Room for a full frame's damage clips and the fence that closes them. */
#define PFB_RING_BYTES		(64 * 1024)
#define PFB_RING_SLOTS		(PFB_RING_BYTES / PFB_CMD_SIZE)

enum pfb_irq_mode {
	PFB_IRQ_MODE_MSIX,
	PFB_IRQ_MODE_MSI,
	PFB_IRQ_MODE_INTX,
};

/**
 * struct pfb_device - one accelerator
 * @drm: the DRM device (first: devm_drm_dev_alloc embeds it)
 * @pdev: its PCI function
 * @regs: BAR0
 * @vram_size: VRAM_SIZE; @max_width, @max_height, @pref_width, @pref_height
 *	are the identification registers read at probe
 * @pipe: the one plane, CRTC and encoder
 * @connector: a virtual connector whose modes come from the device
 * @irq_mode: how the device interrupts; @nvec: vectors allocated,
 *	@nirqs: of them with a handler
 * @irq_lock: guards @irq_mask, the IRQ_MASK register's value
 * @vblank_irqs: vblank interrupts handled (debugfs)
 * @last_frame: FRAME_COUNT at the last vblank the shared handler handled
 * @ring_lock: one submission at a time; held while it waits for its fence
 * @ring: the command ring (coherent), @ring_bus its bus address
 * @tail: byte offset of the next free slot
 * @batch: commands emitted since pfb_ring_begin()
 * @fence: the u64 the device writes fence sequence numbers to (coherent)
 * @sg: scatter-gather list of the buffer being uploaded (coherent),
 *	@sg_entries entries of room
 * @seqno: the last sequence number emitted; @completed the last seen done
 * @fence_seen: the device's fence value after the last submission;
 *	@fence_regressions: times it was below the one before (never, if the
 *	device is right)
 * @fence_wq: submitters waiting for a fence, woken by the fence and
 *	error interrupts and by removal
 * @error: the device reported an error (set from the interrupt)
 * @gone: the function was removed: nothing waits for the device any more
 * @errors, @resets, @timeouts: what error recovery did (debugfs)
 * @upload_bytes: pixel bytes the device was asked to upload; @busy_ns: time
 *	from doorbells to their fences (debugfs: the ring's bandwidth)
 * @front: which VRAM buffer is displayed (0 or 1), -1 before the first
 * @buf_bytes: distance between the two VRAM buffers
 * @back_stale: the back buffer does not hold the front's picture (mode
 *	change, reset): the next update uploads the whole frame
 */
struct pfb_device {
	struct drm_device drm;
	struct pci_dev *pdev;
	void __iomem *regs;
	u32 vram_size;
	u32 max_width;
	u32 max_height;
	u32 pref_width;
	u32 pref_height;

	struct drm_simple_display_pipe pipe;
	struct drm_connector connector;

	enum pfb_irq_mode irq_mode;
	int nvec;
	int nirqs;
	spinlock_t irq_lock;
	u32 irq_mask;
	atomic64_t vblank_irqs;
	u32 last_frame;

	struct mutex ring_lock;
	void *ring;
	dma_addr_t ring_bus;
	u32 tail;
	u32 batch;
	__le64 *fence;
	dma_addr_t fence_bus;
	struct pfb_sg_entry *sg;
	dma_addr_t sg_bus;
	u32 sg_entries;
	u64 seqno;
	u64 completed;
	u64 fence_seen;
	unsigned long fence_regressions;
	wait_queue_head_t fence_wq;
	bool error;
	bool gone;
	unsigned long errors;
	unsigned long resets;
	unsigned long timeouts;
	u64 upload_bytes;
	u64 busy_ns;

	int front;
	u32 buf_bytes;
	bool back_stale;
};

static inline struct pfb_device *to_pfb(struct drm_device *drm)
{
	return container_of(drm, struct pfb_device, drm);
}

static inline u32 pfb_read(struct pfb_device *pfb, u32 reg)
{
	return readl(pfb->regs + reg);
}

static inline void pfb_write(struct pfb_device *pfb, u32 reg, u32 val)
{
	writel(val, pfb->regs + reg);
}

/* pciem_fb_kms.c */
int pfb_kms_init(struct pfb_device *pfb);

/* pciem_fb_ring.c */
int pfb_ring_init(struct pfb_device *pfb);
void pfb_ring_fini(struct pfb_device *pfb);
int pfb_ring_begin(struct pfb_device *pfb);
union pfb_cmd *pfb_ring_emit(struct pfb_device *pfb);
int pfb_ring_load_sg(struct pfb_device *pfb, struct sg_table *sgt, u32 *count);
int pfb_ring_finish(struct pfb_device *pfb);
void pfb_ring_abort(struct pfb_device *pfb);
void pfb_ring_fence_signalled(struct pfb_device *pfb);
void pfb_ring_error_signalled(struct pfb_device *pfb);
void pfb_ring_unplug(struct pfb_device *pfb);

/* pciem_fb_irq.c */
int pfb_irq_init(struct pfb_device *pfb, int mode);
void pfb_irq_fini(struct pfb_device *pfb);
void pfb_irq_enable(struct pfb_device *pfb, u32 causes, bool on);
const char *pfb_irq_mode_name(enum pfb_irq_mode mode);

/* pciem_fb_debugfs.c */
struct drm_minor;
void pfb_debugfs_init(struct drm_minor *minor);

#endif /* PCIEM_FB_H */
