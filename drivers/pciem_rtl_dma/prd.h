/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pciem_rtl_dma: the driver of the example RTL DMA engine
 * (devices/rtl/dma-engine). What its three files share.
 */
#ifndef PRD_H
#define PRD_H

#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/types.h>
#include <linux/wait.h>

#include "rtl_dma_regs.h"

#define PRD_RING_ORDER	6
#define PRD_RING_SIZE	(1u << PRD_RING_ORDER)
#define PRD_RESULT_SIZE	1024

/**
 * struct prd_desc - one descriptor in the ring, as the engine reads it
 * @ctrl: RTL_DMA_OP_* and RTL_DMA_D_IRQ
 * @len: bytes to copy or fill
 * @src: COPY source bus address, or the FILL pattern
 * @dst: destination bus address
 * @status: 0 while pending; RTL_DMA_ST_DONE or RTL_DMA_ST_ERROR | code,
 *	written back by the engine
 * @reserved: 0
 */
struct prd_desc {
	__le32 ctrl;
	__le32 len;
	__le64 src;
	__le64 dst;
	__le32 status;
	__le32 reserved;
};

/**
 * struct prd_dev - one bound engine
 * @pdev: its PCI function
 * @regs: BAR0, the design's AXI4-Lite registers
 * @ring: the descriptor ring (coherent), @ring_dma its bus address
 * @tail: the next free slot, mirrored in RTL_DMA_TAIL
 * @lock: one user of the ring at a time (self-test, debugfs)
 * @wq: where a submitter waits for its completion interrupt
 * @irqs: handler runs per vector (RTL_DMA_VEC_DONE, RTL_DMA_VEC_ERROR)
 * @gone: the function is being removed; waiters give up
 * @dir: debugfs directory
 * @result: what the last debugfs command said, @result_len bytes of it
 */
struct prd_dev {
	struct pci_dev *pdev;
	void __iomem *regs;
	struct prd_desc *ring;
	dma_addr_t ring_dma;
	u32 tail;
	struct mutex lock;
	wait_queue_head_t wq;
	atomic_t irqs[RTL_DMA_MSIX_VECTORS];
	bool gone;
	struct dentry *dir;
	char *result;
	size_t result_len;
};

/* One transfer for prd_run(). */
struct prd_xfer {
	u32 op;
	u32 len;
	u64 src;	/* bus address, or the FILL pattern */
	u64 dst;
};

/* ring.c */
void prd_engine_start(struct prd_dev *pd);
int prd_engine_reset(struct prd_dev *pd);
int prd_run(struct prd_dev *pd, const struct prd_xfer *x, unsigned int n,
	    u32 *error);

/* tests.c */
int prd_selftest(struct prd_dev *pd);
int prd_command(struct prd_dev *pd, char *cmd);

#endif /* PRD_H */
