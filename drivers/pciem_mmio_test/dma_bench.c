// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * DMA bandwidth benchmark verbs of the `bench` file (bench/dma_bandwidth.sh):
 *
 *   dma-read SIZE N [DIRECT]   N times the engine's READ of SIZE bytes from
 *                              a coherent buffer (the device reads host memory)
 *   dma-write SIZE N [DIRECT]  N times its WRITE of SIZE bytes into one
 *   memcpy SIZE N              N times memcpy() of SIZE bytes between two
 *                              kernel buffers: the reference
 *
 * DIRECT is written to TESTDEV_DMA_DIRECT for the run (1: the model touches
 * its zero-copy window; 0, the default: every access is PCIEM_IOC_DMA).
 * One timed iteration of a dma-* verb is the whole command round trip: the
 * writel() of DMA_CMD and the readl() of DMA_STATUS that waits for it. The
 * loops run in a kworker on a CPU other than model_cpu. The file then reads
 * "<verb> SIZE N <total_ns> <ns_per_op> <MB_per_s> <direct_hits>".
 */
#include <linux/dma-mapping.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "mmio_test.h"
#include "testdev_regs.h"

struct dma_bench {
	struct pmt_dev *md;
	u32 cmd;	/* TESTDEV_DMA_CMD_*, or 0 for memcpy */
	u32 size;
	u32 n;
	void *src;	/* memcpy only */
	void *dst;
	u64 ns;
	u32 status;
};

static long dma_bench_loop(void *arg)
{
	struct dma_bench *b = arg;
	void __iomem *r = b->md->regs;
	u32 i, st = TESTDEV_DMA_ST_OK;
	u64 t0;

	t0 = ktime_get_ns();
	if (b->cmd) {
		for (i = 0; i < b->n && st == TESTDEV_DMA_ST_OK; i++) {
			writel(b->cmd, r + TESTDEV_DMA_CMD);
			/* ordered after the posted command: the engine finished */
			st = readl(r + TESTDEV_DMA_STATUS);
		}
	} else {
		for (i = 0; i < b->n; i++) {
			memcpy(b->dst, b->src, b->size);
			barrier_data(b->dst);
		}
	}
	b->ns = ktime_get_ns() - t0;
	b->status = st;
	return 0;
}

static int dma_bench_engine(struct dma_bench *b, u32 direct)
{
	struct device *dev = &b->md->pdev->dev;
	void __iomem *r = b->md->regs;
	dma_addr_t bus;
	void *buf;
	int ret;

	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	pci_set_master(b->md->pdev);
	buf = dma_alloc_coherent(dev, b->size, &bus, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	writeq(bus, r + TESTDEV_DMA_SRC);
	writeq(bus, r + TESTDEV_DMA_DST);
	writel(b->size, r + TESTDEV_DMA_LEN);
	writel(direct, r + TESTDEV_DMA_DIRECT);
	work_on_cpu(pmt_test_cpu(), dma_bench_loop, b);
	writel(0, r + TESTDEV_DMA_DIRECT);
	readl(r + TESTDEV_DMA_STATUS);	/* the model has the reset before the free */
	dma_free_coherent(dev, b->size, buf, bus);
	if (b->status != TESTDEV_DMA_ST_OK) {
		dev_warn(dev, "bench: DMA command %u of %u bytes: status %u\n",
			 b->cmd, b->size, b->status);
		return -EIO;
	}
	return 0;
}

/*
 * The destination starts a few pages off the source's alignment. Two
 * buffers of the same power-of-two size come out of the allocator equally
 * aligned, and under TCG each source page then evicts the destination page
 * from QEMU's direct-mapped software TLB and back, for every byte: memcpy
 * of 1 MiB ran 20 times slower than of 4 KiB. That measures QEMU, not
 * memcpy.
 */
#define MEMCPY_SKEW	(5 * PAGE_SIZE)

static int dma_bench_memcpy(struct dma_bench *b)
{
	u8 *dst = kvmalloc(b->size + MEMCPY_SKEW, GFP_KERNEL);
	int ret = -ENOMEM;

	b->src = kvmalloc(b->size, GFP_KERNEL);
	if (b->src && dst) {
		memset(b->src, 0xa5, b->size);
		memset(dst, 0, b->size + MEMCPY_SKEW);
		b->dst = dst + MEMCPY_SKEW;
		work_on_cpu(pmt_test_cpu(), dma_bench_loop, b);
		ret = 0;
	}
	kvfree(b->src);
	kvfree(dst);
	return ret;
}

/* @cmd is the bench file's text; the caller holds md->lock. */
int pmt_dma_bench(struct pmt_dev *md, const char *cmd)
{
	struct dma_bench b = { .md = md };
	char verb[16];
	u32 direct = 0, hits = 0;
	int args, ret;

	args = sscanf(cmd, "%15s %u %u %u", verb, &b.size, &b.n, &direct);
	if (args < 3 || !b.size || b.size > TESTDEV_DMA_MAX || !b.n ||
	    b.n > PMT_BENCH_MAX_N || direct > 1)
		return -EINVAL;
	if (!strcmp(verb, "dma-read"))
		b.cmd = TESTDEV_DMA_CMD_READ;
	else if (!strcmp(verb, "dma-write"))
		b.cmd = TESTDEV_DMA_CMD_WRITE;
	else if (strcmp(verb, "memcpy") || args != 3)
		return -EINVAL;

	if (b.cmd && md->kind != PMT_TESTDEV)
		return -ENODEV;
	if (b.cmd) {
		hits = readl(md->regs + TESTDEV_DMA_DIRECT_HITS);
		ret = dma_bench_engine(&b, direct);
		hits = readl(md->regs + TESTDEV_DMA_DIRECT_HITS) - hits;
	} else {
		ret = dma_bench_memcpy(&b);
	}
	if (ret)
		return ret;
	scnprintf(md->bench, sizeof(md->bench), "%s %u %u %llu %llu %llu %u\n",
		  verb, b.size, b.n, b.ns, div_u64(b.ns, b.n),
		  b.ns ? div64_u64((u64)b.size * b.n * 1000, b.ns) : 0, hits);
	return 0;
}
