// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * DMA tests: the test device's engine (TESTDEV_DMA_*) copies, fills and
 * checksums host memory and runs PCIe atomics on it, through buffers this
 * driver maps with the ordinary DMA API (coherent, single, scatter-gather,
 * 32-bit masks), and every byte is verified. The negative tests make the
 * device access memory the driver did not give it (after unmap, one byte
 * past the end, against the direction, with bus mastering off, never
 * mapped) and check that PCIem refused the access, the device saw the
 * refusal in its status, and the memory is untouched.
 */
#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/dmapool.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/sched.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "mmio_test.h"
#include "testdev_regs.h"

#define POISON		0x5a

static const size_t sizes[] = { 1, 63, 4096, 4097, 65536, 1 << 20, 4 << 20 };

static u32 engine(struct pmt_run *t, u32 cmd)
{
	writel(cmd, t->r + TESTDEV_DMA_CMD);
	/* ordered after the posted command: the engine has finished */
	return readl(t->r + TESTDEV_DMA_STATUS);
}

static void set_xfer(struct pmt_run *t, u64 src, u64 dst, u32 len)
{
	writeq(src, t->r + TESTDEV_DMA_SRC);
	writeq(dst, t->r + TESTDEV_DMA_DST);
	writel(len, t->r + TESTDEV_DMA_LEN);
}

static u64 fnv1a(const u8 *p, size_t len)
{
	u64 h = TESTDEV_FNV_OFFSET;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * TESTDEV_FNV_PRIME;
	return h;
}

/* The first byte of @p that is not the FILL pattern for @seed, or @len. */
static size_t check_pattern(const u8 *p, size_t len, u32 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != testdev_dma_pattern(seed, i))
			return i;
	return len;
}

static size_t check_poison(const u8 *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != POISON)
			return i;
	return len;
}

static void fill_cpu(u8 *p, size_t len, u32 seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (u8)(i * 7 + seed);
}

/* Common set-up: a 64-bit mask and bus mastering. */
static bool dma_begin(struct pmt_run *t)
{
	struct pci_dev *pdev = t->md->pdev;
	int ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));

	if (ret) {
		pmt_fail(t, "dma_set_mask_and_coherent(64): %d", ret);
		return false;
	}
	pci_set_master(pdev);
	return true;
}

/*
 * Device FILL of @len at @dst, then the pattern checked in @cpu. For a
 * streaming mapping (@dir not DMA_NONE) the CPU may look only after
 * dma_sync_single_for_cpu(), as the DMA API says: with a bounce buffer
 * (swiotlb, PCIem's zero-copy window) that is when the bytes arrive.
 */
static void fill_and_check(struct pmt_run *t, dma_addr_t dst, u8 *cpu,
			   size_t len, u32 seed, enum dma_data_direction dir,
			   const char *what)
{
	size_t bad;

	writel(seed, t->r + TESTDEV_DMA_SEED);
	set_xfer(t, 0, dst, len);
	if (!pmt_eq(t, engine(t, TESTDEV_DMA_CMD_FILL), TESTDEV_DMA_ST_OK,
		    "%s: FILL of %zu bytes: status", what, len))
		return;
	if (dir != DMA_NONE)
		dma_sync_single_for_cpu(&t->md->pdev->dev, dst, len, dir);
	bad = check_pattern(cpu, len, seed);
	if (bad != len)
		pmt_fail(t, "%s: FILL of %zu bytes: byte %zu is %#x, want %#x", what,
			 len, bad, cpu[bad], testdev_dma_pattern(seed, bad));
}

/* Device CSUM of @len at @src, compared with the CPU's. */
static void csum_and_check(struct pmt_run *t, dma_addr_t src, const u8 *cpu,
			   size_t len, const char *what)
{
	set_xfer(t, src, 0, len);
	if (!pmt_eq(t, engine(t, TESTDEV_DMA_CMD_CSUM), TESTDEV_DMA_ST_OK,
		    "%s: CSUM of %zu bytes: status", what, len))
		return;
	pmt_eq(t, readq(t->r + TESTDEV_DMA_RESULT), fnv1a(cpu, len),
	       "%s: CSUM of %zu bytes", what, len);
}

/* ---- coherent ------------------------------------------------------------------- */

static void test_coherent(struct pmt_run *t)
{
	struct device *dev = &t->md->pdev->dev;
	dma_addr_t a, b;
	u8 *pa, *pb;
	unsigned int i;

	if (!dma_begin(t))
		return;
	for (i = 0; i < ARRAY_SIZE(sizes) && !t->failed; i++) {
		size_t len = sizes[i];

		pa = dma_alloc_coherent(dev, len, &a, GFP_KERNEL);
		pb = dma_alloc_coherent(dev, len, &b, GFP_KERNEL);
		if (!pa || !pb) {
			pmt_fail(t, "dma_alloc_coherent(%zu) failed", len);
		} else {
			fill_and_check(t, a, pa, len, i, DMA_NONE, "coherent");
			fill_cpu(pb, len, i);
			if (!t->failed)
				csum_and_check(t, b, pb, len, "coherent");
			set_xfer(t, b, a, len);
			if (!t->failed &&
			    pmt_eq(t, engine(t, TESTDEV_DMA_CMD_COPY), TESTDEV_DMA_ST_OK,
				   "coherent: COPY of %zu bytes: status", len) &&
			    memcmp(pa, pb, len))
				pmt_fail(t, "coherent: COPY of %zu bytes: data differs", len);
		}
		if (pa)
			dma_free_coherent(dev, len, pa, a);
		if (pb)
			dma_free_coherent(dev, len, pb, b);
	}
}

/* ---- dma_pool -------------------------------------------------------------------- */

/* Small blocks from a dma_pool (coherent pages cut up): each one its own. */
static void test_pool(struct pmt_run *t)
{
	const unsigned int n = 64, size = 96;
	struct device *dev = &t->md->pdev->dev;
	struct dma_pool *pool;
	dma_addr_t *bus;
	u8 **blk;
	unsigned int i;

	if (!dma_begin(t))
		return;
	pool = dma_pool_create("pmt", dev, size, 32, 0);
	bus = kcalloc(n, sizeof(*bus), GFP_KERNEL);
	blk = kcalloc(n, sizeof(*blk), GFP_KERNEL);
	if (!pool || !bus || !blk) {
		pmt_fail(t, "dma_pool_create or out of memory");
		goto out;
	}
	for (i = 0; i < n && !t->failed; i++) {
		blk[i] = dma_pool_zalloc(pool, GFP_KERNEL, &bus[i]);
		if (!blk[i])
			pmt_fail(t, "dma_pool_zalloc %u failed", i);
	}
	for (i = 0; i < n && !t->failed; i++)
		fill_and_check(t, bus[i], blk[i], size, i, DMA_NONE, "dma_pool block");
	/* filling one block left its neighbours alone */
	for (i = 0; i + 1 < n && !t->failed; i++)
		if (check_pattern(blk[i], size, i) != size)
			pmt_fail(t, "dma_pool block %u was overwritten", i);
out:
	for (i = 0; blk && i < n; i++)
		if (blk[i])
			dma_pool_free(pool, blk[i], bus[i]);
	dma_pool_destroy(pool);
	kfree(bus);
	kfree(blk);
}

/* ---- single (streaming) mappings --------------------------------------------------- */

/* @len bytes at page offset @off of fresh pages, or NULL. */
static u8 *buf_alloc(size_t len, size_t off)
{
	u8 *p = alloc_pages_exact(len + off, GFP_KERNEL);

	return p ? p + off : NULL;
}

static void buf_free(u8 *p, size_t len, size_t off)
{
	if (p)
		free_pages_exact(p - off, len + off);
}

static void single_run(struct pmt_run *t, size_t len, size_t off)
{
	struct device *dev = &t->md->pdev->dev;
	u8 *src = buf_alloc(len, off), *dst = buf_alloc(len, off);
	dma_addr_t s = DMA_MAPPING_ERROR, d = DMA_MAPPING_ERROR;

	if (!src || !dst) {
		pmt_fail(t, "out of memory for %zu bytes", len);
		goto out;
	}
	fill_cpu(src, len, off);
	memset(dst, 0, len);
	s = dma_map_single(dev, src, len, DMA_TO_DEVICE);
	d = dma_map_single(dev, dst, len, DMA_FROM_DEVICE);
	if (dma_mapping_error(dev, s) || dma_mapping_error(dev, d)) {
		pmt_fail(t, "dma_map_single(%zu) failed", len);
		goto out;
	}
	/* An IOMMU keeps the offset within the page; drivers rely on it. */
	pmt_eq(t, offset_in_page(d), offset_in_page(dst),
	       "single: page offset of the bus address (%zu bytes at +%zu)", len, off);
	csum_and_check(t, s, src, len, "single TO_DEVICE");
	set_xfer(t, s, d, len);
	if (!t->failed &&
	    pmt_eq(t, engine(t, TESTDEV_DMA_CMD_COPY), TESTDEV_DMA_ST_OK,
		   "single: COPY of %zu bytes at +%zu: status", len, off)) {
		dma_sync_single_for_cpu(dev, d, len, DMA_FROM_DEVICE);
		if (memcmp(src, dst, len))
			pmt_fail(t, "single: COPY of %zu bytes at +%zu: data differs", len, off);
	}
out:
	if (!dma_mapping_error(dev, s))
		dma_unmap_single(dev, s, len, DMA_TO_DEVICE);
	if (!dma_mapping_error(dev, d))
		dma_unmap_single(dev, d, len, DMA_FROM_DEVICE);
	buf_free(src, len, off);
	buf_free(dst, len, off);
}

static void test_single(struct pmt_run *t)
{
	static const size_t offs[] = { 0, 1, 7, 100 };
	unsigned int i, j;

	if (!dma_begin(t))
		return;
	/* 4 MiB is the largest physically contiguous buffer: offset 0 only */
	for (i = 0; i < ARRAY_SIZE(sizes) && !t->failed; i++)
		for (j = 0; j < ARRAY_SIZE(offs) && !t->failed; j++)
			if (sizes[i] + offs[j] <= SZ_4M)
				single_run(t, sizes[i], offs[j]);
}

/* ---- scatter-gather ------------------------------------------------------------ */

/* Segments from separate allocations, so they are not contiguous. */
static void sg_run(struct pmt_run *t, const size_t *seg, unsigned int n)
{
	struct device *dev = &t->md->pdev->dev;
	struct scatterlist *sg;
	struct sg_table sgt;
	u8 **bufs;
	unsigned int i;
	int ret;

	bufs = kcalloc(n, sizeof(*bufs), GFP_KERNEL);
	if (!bufs || sg_alloc_table(&sgt, n, GFP_KERNEL)) {
		pmt_fail(t, "out of memory for %u segments", n);
		kfree(bufs);
		return;
	}
	for_each_sg(sgt.sgl, sg, n, i) {
		bufs[i] = buf_alloc(seg[i], i % 3);
		if (!bufs[i]) {
			pmt_fail(t, "out of memory for a %zu-byte segment", seg[i]);
			goto out;
		}
		memset(bufs[i], POISON, seg[i]);
		sg_set_buf(sg, bufs[i], seg[i]);
	}
	ret = dma_map_sgtable(dev, &sgt, DMA_BIDIRECTIONAL, 0);
	if (ret) {
		pmt_fail(t, "dma_map_sgtable(%u segments): %d", n, ret);
		goto out;
	}
	for_each_sgtable_dma_sg(&sgt, sg, i) {
		if (t->failed)
			break;
		fill_and_check(t, sg_dma_address(sg), bufs[i], sg_dma_len(sg), i,
			       DMA_BIDIRECTIONAL, "sg");
		if (!t->failed)
			csum_and_check(t, sg_dma_address(sg), bufs[i], sg_dma_len(sg), "sg");
	}
	dma_unmap_sgtable(dev, &sgt, DMA_BIDIRECTIONAL, 0);
out:
	for (i = 0; i < n; i++)
		buf_free(bufs[i], seg[i], i % 3);
	sg_free_table(&sgt);
	kfree(bufs);
}

static void test_sg(struct pmt_run *t)
{
	static const size_t one[] = { 1 };
	static const size_t mixed[] = { 100, 4096, 5000, 1, 65536, 3 };
	size_t *big;
	unsigned int i;

	if (!dma_begin(t))
		return;
	sg_run(t, one, ARRAY_SIZE(one));
	if (!t->failed)
		sg_run(t, mixed, ARRAY_SIZE(mixed));
	/* 4 MiB in 16 pieces of 256 KiB */
	big = kcalloc(16, sizeof(*big), GFP_KERNEL);
	if (!big) {
		pmt_fail(t, "out of memory");
		return;
	}
	for (i = 0; i < 16; i++)
		big[i] = SZ_256K;
	if (!t->failed)
		sg_run(t, big, 16);
	kfree(big);
}

/* ---- 32-bit masks ------------------------------------------------------------ */

static void test_mask32(struct pmt_run *t)
{
	struct device *dev = &t->md->pdev->dev;
	const size_t len = SZ_64K;
	dma_addr_t c, s;
	u8 *pc, *ps;

	if (!dma_begin(t))
		return;
	if (dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32))) {
		pmt_fail(t, "dma_set_mask_and_coherent(32) refused");
		return;
	}
	pc = dma_alloc_coherent(dev, len, &c, GFP_KERNEL);
	ps = kzalloc(len, GFP_KERNEL);
	s = ps ? dma_map_single(dev, ps, len, DMA_FROM_DEVICE) : DMA_MAPPING_ERROR;
	if (!pc || dma_mapping_error(dev, s)) {
		pmt_fail(t, "32-bit mask: allocation or mapping failed");
	} else {
		pmt_eq(t, (c + len - 1) >> 32, 0, "coherent bus address %pad above 4 GiB", &c);
		pmt_eq(t, (s + len - 1) >> 32, 0, "single bus address %pad above 4 GiB", &s);
		fill_and_check(t, c, pc, len, 3, DMA_NONE, "32-bit coherent");
		fill_and_check(t, s, ps, len, 4, DMA_FROM_DEVICE, "32-bit single");
	}
	if (!dma_mapping_error(dev, s))
		dma_unmap_single(dev, s, len, DMA_FROM_DEVICE);
	kfree(ps);
	if (pc)
		dma_free_coherent(dev, len, pc, c);
	dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
}

/* ---- atomics ------------------------------------------------------------------ */

/*
 * The device adds 1 COUNT times while this CPU adds 1 as often: the
 * command is a posted write, so both run at once; the status read waits
 * for the device. Any non-atomic step would lose increments.
 */
static void atomics_run(struct pmt_run *t, u64 *word, dma_addr_t a, u32 size)
{
	const u32 n = 20000;
	u64 got, mask = size == 8 ? ~0ull : 0xffffffffull;
	u32 i;

	WRITE_ONCE(*word, 0);
	set_xfer(t, 0, a, size);
	writeq(1, t->r + TESTDEV_DMA_OPERAND);
	writel(n, t->r + TESTDEV_DMA_COUNT);
	writel(TESTDEV_DMA_CMD_FETCH_ADD, t->r + TESTDEV_DMA_CMD);
	for (i = 0; i < n; i++) {
		if (size == 8)
			atomic64_inc((atomic64_t *)word);
		else
			atomic_inc((atomic_t *)word);
	}
	pmt_eq(t, readl(t->r + TESTDEV_DMA_STATUS), TESTDEV_DMA_ST_OK,
	       "FETCH_ADD x%u (%u bytes): status", n, size);
	got = READ_ONCE(*word) & mask;
	pmt_eq(t, got, 2 * n, "%u-byte word after %u device and %u CPU increments", size, n, n);
	writel(1, t->r + TESTDEV_DMA_COUNT);
	writeq(0x1122334455667788ull & mask, t->r + TESTDEV_DMA_OPERAND);
	pmt_eq(t, engine(t, TESTDEV_DMA_CMD_SWAP), TESTDEV_DMA_ST_OK, "SWAP status");
	pmt_eq(t, readq(t->r + TESTDEV_DMA_RESULT), 2 * n, "SWAP old value");
	pmt_eq(t, READ_ONCE(*word) & mask, 0x1122334455667788ull & mask, "after SWAP");
	writeq(5, t->r + TESTDEV_DMA_COMPARE);
	writeq(6, t->r + TESTDEV_DMA_OPERAND);
	engine(t, TESTDEV_DMA_CMD_CAS);
	pmt_eq(t, READ_ONCE(*word) & mask, 0x1122334455667788ull & mask,
	       "after a CAS whose compare value does not match");
	writeq(0x1122334455667788ull & mask, t->r + TESTDEV_DMA_COMPARE);
	pmt_eq(t, engine(t, TESTDEV_DMA_CMD_CAS), TESTDEV_DMA_ST_OK, "CAS status");
	pmt_eq(t, READ_ONCE(*word) & mask, 6, "after a matching CAS");
	/* a misaligned operand is refused */
	set_xfer(t, 0, a + 2, size);
	pmt_eq(t, engine(t, TESTDEV_DMA_CMD_SWAP), TESTDEV_DMA_ST_ALIGNMENT,
	       "SWAP at a misaligned address");
	pmt_eq(t, READ_ONCE(*word) & mask, 6, "word after the refused SWAP");
}

static void test_atomics(struct pmt_run *t)
{
	struct device *dev = &t->md->pdev->dev;
	dma_addr_t a;
	u64 *word;

	if (!dma_begin(t))
		return;
	word = dma_alloc_coherent(dev, 64, &a, GFP_KERNEL);
	if (!word) {
		pmt_fail(t, "dma_alloc_coherent(64) failed");
		return;
	}
	atomics_run(t, word, a, 8);
	if (!t->failed)
		atomics_run(t, word, a, 4);
	writel(1, t->r + TESTDEV_DMA_COUNT);
	dma_free_coherent(dev, 64, word, a);
}

/* ---- refusals ------------------------------------------------------------------ */

/*
 * The device FILLs @len bytes at @dst; PCIem must refuse with @want at
 * @at, and the @check bytes at @cpu must still be poison.
 */
static void refused(struct pmt_run *t, dma_addr_t dst, u32 len, u32 want,
		    u64 at, const u8 *cpu, size_t check, const char *what)
{
	size_t bad;

	writel(0x77, t->r + TESTDEV_DMA_SEED);
	set_xfer(t, dst, dst, len);
	if (!pmt_eq(t, engine(t, TESTDEV_DMA_CMD_FILL), want, "%s: status", what))
		return;
	pmt_eq(t, readq(t->r + TESTDEV_DMA_FAULT_ADDR), at, "%s: fault address", what);
	bad = cpu ? check_poison(cpu, check) : check;
	if (bad != check)
		pmt_fail(t, "%s: byte %zu of host memory was changed to %#x", what, bad,
			 cpu[bad]);
}

/*
 * A poisoned buffer of @size bytes with @len bytes at offset @off mapped
 * for @dir: the memory the refusal tests check stays untouched. Returns
 * the buffer (*@d its bus address), or NULL after failing the test.
 */
static u8 *poisoned_map(struct pmt_run *t, size_t size, size_t off, size_t len,
			enum dma_data_direction dir, dma_addr_t *d)
{
	struct device *dev = &t->md->pdev->dev;
	u8 *p;

	if (!dma_begin(t))
		return NULL;
	p = kmalloc(size, GFP_KERNEL);
	if (!p) {
		pmt_fail(t, "out of memory");
		return NULL;
	}
	memset(p, POISON, size);
	*d = dma_map_single(dev, p + off, len, dir);
	if (dma_mapping_error(dev, *d)) {
		pmt_fail(t, "dma_map_single(%zu) failed", len);
		kfree(p);
		return NULL;
	}
	return p;
}

static void test_after_unmap(struct pmt_run *t)
{
	dma_addr_t d;
	u8 *p = poisoned_map(t, 4096, 0, 4096, DMA_FROM_DEVICE, &d);

	if (!p)
		return;
	dma_unmap_single(&t->md->pdev->dev, d, 4096, DMA_FROM_DEVICE);
	refused(t, d + 16, 64, TESTDEV_DMA_ST_STALE, d + 16, p, 4096,
		"FILL after dma_unmap_single");
	kfree(p);
}

static void test_bounds(struct pmt_run *t)
{
	dma_addr_t d;
	/* at p + 1, so the byte before it shares its page */
	u8 *p = poisoned_map(t, 128, 1, 64, DMA_FROM_DEVICE, &d);

	if (!p)
		return;
	refused(t, d, 65, TESTDEV_DMA_ST_BOUNDS, d + 64, p, 128,
		"FILL of 65 bytes into a 64-byte mapping");
	if (!t->failed)
		refused(t, d - 1, 2, TESTDEV_DMA_ST_BOUNDS, d - 1, p, 128,
			"FILL starting one byte before the mapping");
	dma_unmap_single(&t->md->pdev->dev, d, 64, DMA_FROM_DEVICE);
	kfree(p);
}

static void test_direction(struct pmt_run *t)
{
	struct device *dev = &t->md->pdev->dev;
	dma_addr_t d;
	u8 *p = poisoned_map(t, 256, 0, 256, DMA_TO_DEVICE, &d);

	if (!p)
		return;
	refused(t, d, 256, TESTDEV_DMA_ST_DIRECTION, d, p, 256,
		"FILL (a device write) into a TO_DEVICE mapping");
	dma_unmap_single(dev, d, 256, DMA_TO_DEVICE);
	d = dma_map_single(dev, p, 256, DMA_FROM_DEVICE);
	if (!t->failed && !dma_mapping_error(dev, d)) {
		set_xfer(t, d, 0, 256);
		pmt_eq(t, engine(t, TESTDEV_DMA_CMD_CSUM), TESTDEV_DMA_ST_DIRECTION,
		       "CSUM (a device read) of a FROM_DEVICE mapping");
		dma_unmap_single(dev, d, 256, DMA_FROM_DEVICE);
	}
	kfree(p);
}

static void test_bus_master(struct pmt_run *t)
{
	struct pci_dev *pdev = t->md->pdev;
	dma_addr_t d;
	u8 *p = poisoned_map(t, 512, 0, 512, DMA_FROM_DEVICE, &d);

	if (!p)
		return;
	pci_clear_master(pdev);
	refused(t, d, 512, TESTDEV_DMA_ST_BUS_MASTER, d, p, 512,
		"FILL with bus mastering disabled");
	pci_set_master(pdev);
	if (!t->failed)
		fill_and_check(t, d, p, 512, 9, DMA_FROM_DEVICE,
			       "FILL with bus mastering enabled again");
	dma_unmap_single(&pdev->dev, d, 512, DMA_FROM_DEVICE);
	kfree(p);
}

/*
 * An unmap while the device is writing the mapping: from the moment
 * dma_unmap_single() returns, the memory is the driver's again and no
 * byte of the transfer may land in it. The driver unmaps as soon as the
 * FILL's first bytes show (the copy is then one chunk in, with more to
 * go), poisons the buffer, waits for the engine and checks the poison.
 * The FILL ends refused (STALE) when the unmap cut it, or complete when
 * it won the race; either is fine, a late byte is not.
 */
#define MID_UNMAP_SIZE	(2u << 20)
#define MID_UNMAP_RUNS	8
/* The engine pauses this long per 64 KiB: 2 MiB take 32 ms or more. */
#define MID_UNMAP_PACE_US	1000

static void test_unmap_mid_write(struct pmt_run *t)
{
	struct device *dev = &t->md->pdev->dev;
	unsigned int run, seen = 0, cut = 0;
	unsigned long until;
	size_t bad;
	dma_addr_t d;
	u32 st;
	u8 *p;

	if (!dma_begin(t))
		return;
	p = kmalloc(MID_UNMAP_SIZE, GFP_KERNEL);
	if (!p) {
		pmt_fail(t, "out of memory");
		return;
	}
	/*
	 * Unpaced, a loaded machine may deschedule this thread until the
	 * whole FILL has landed, and the unmap would never cut one.
	 */
	writel(MID_UNMAP_PACE_US, t->r + TESTDEV_DMA_PACE_US);
	for (run = 0; run < MID_UNMAP_RUNS && !t->failed; run++) {
		memset(p, POISON, MID_UNMAP_SIZE);
		d = dma_map_single(dev, p, MID_UNMAP_SIZE, DMA_FROM_DEVICE);
		if (dma_mapping_error(dev, d)) {
			pmt_fail(t, "dma_map_single(%u) failed", MID_UNMAP_SIZE);
			break;
		}
		writel(run, t->r + TESTDEV_DMA_SEED);
		set_xfer(t, 0, d, MID_UNMAP_SIZE);
		writel(TESTDEV_DMA_CMD_FILL, t->r + TESTDEV_DMA_CMD);
		/* Through a bounce buffer (a window) nothing shows: 1 s at most. */
		until = jiffies + HZ;
		while (READ_ONCE(p[0]) == POISON && time_before(jiffies, until))
			cond_resched();
		seen += READ_ONCE(p[0]) != POISON;
		dma_unmap_single(dev, d, MID_UNMAP_SIZE, DMA_FROM_DEVICE);
		memset(p, POISON, MID_UNMAP_SIZE);
		st = readl(t->r + TESTDEV_DMA_STATUS);	/* the engine is done */
		if (st == TESTDEV_DMA_ST_STALE)
			cut++;
		else
			pmt_eq(t, st, TESTDEV_DMA_ST_OK, "run %u: FILL status", run);
		bad = check_poison(p, MID_UNMAP_SIZE);
		if (bad != MID_UNMAP_SIZE)
			pmt_fail(t, "run %u: byte %zu changed to %#x after dma_unmap_single returned",
				 run, bad, p[bad]);
	}
	writel(0, t->r + TESTDEV_DMA_PACE_US);
	/* Seen early every time, the unmap must have cut some transfer. */
	if (!t->failed && seen == MID_UNMAP_RUNS && !cut)
		pmt_fail(t, "no FILL was cut by the unmap: the race was never run");
	snprintf(t->note, sizeof(t->note), "%u of %u FILLs cut by the unmap, %u seen under way",
		 cut, MID_UNMAP_RUNS, seen);
	kfree(p);
}

static void test_never_mapped(struct pmt_run *t)
{
	if (!dma_begin(t))
		return;
	refused(t, 0x1000, 8, TESTDEV_DMA_ST_UNMAPPED, 0x1000, NULL, 0,
		"FILL at bus address 0x1000, never mapped");
	if (!t->failed)
		refused(t, 0xfffffffffff00000ull, 8, TESTDEV_DMA_ST_UNMAPPED,
			0xfffffffffff00000ull, NULL, 0,
			"FILL at bus address 0xfffffffffff00000, never mapped");
}

/*
 * A driver's misuse of the DMA API itself: unmapping and syncing what it
 * never mapped, freeing coherent memory with the wrong size or address,
 * writing past the end of a coherent buffer. PCIem must shrug it off with a log line naming the
 * caller (95-dma checks the lines), and the table must stay usable.
 */
static void test_bad_calls(struct pmt_run *t)
{
	struct device *dev = &t->md->pdev->dev;
	dma_addr_t d;
	u8 *p;

	if (!dma_begin(t))
		return;
	dma_unmap_single(dev, 0x1000, 64, DMA_FROM_DEVICE);
	dma_sync_single_for_cpu(dev, 0x1000, 64, DMA_FROM_DEVICE);
	/*
	 * Coherent memory freed with a size it was not allocated with, as
	 * the nvme driver does after a reset changed its doorbell stride
	 * (docs/findings.md): what was allocated goes back. In a window
	 * (vmapped), also with an address it was not allocated at: the
	 * piece still goes back, or the pool would BUG when the window goes.
	 */
	p = dma_alloc_coherent(dev, 24, &d, GFP_KERNEL);
	if (!p) {
		pmt_fail(t, "dma_alloc_coherent(24) failed");
		return;
	}
	dma_free_coherent(dev, 6144, p, d);
	if (is_vmalloc_addr(p)) {
		p = dma_alloc_coherent(dev, 64, &d, GFP_KERNEL);
		if (!p) {
			pmt_fail(t, "dma_alloc_coherent(64) failed");
			return;
		}
		dma_free_coherent(dev, 64, p + 8, d);
	}
	/*
	 * Coherent memory written past its end (into the rest of its page,
	 * which PCIem allocated and watches): reported when it is freed.
	 */
	p = dma_alloc_coherent(dev, 100, &d, GFP_KERNEL);
	if (!p) {
		pmt_fail(t, "dma_alloc_coherent(100) failed");
		return;
	}
	memset(p + 100, 0x11, 4);
	dma_free_coherent(dev, 100, p, d);
	p = poisoned_map(t, 64, 0, 64, DMA_FROM_DEVICE, &d);
	if (!p)
		return;
	fill_and_check(t, d, p, 64, 5, DMA_FROM_DEVICE, "FILL after the bad calls");
	dma_unmap_single(dev, d, 64, DMA_FROM_DEVICE);
	kfree(p);
}

/* ---- the zero-copy window ------------------------------------------------------ */

/*
 * With a window (pciem-testdev --dma-window-mb), the same engines with the
 * model touching the window directly: coherent memory is in the window,
 * streaming mappings bounce through it, and the data must come out the
 * same. Run by name on a device that has a window.
 */
static void test_direct(struct pmt_run *t)
{
	u32 hits = readl(t->r + TESTDEV_DMA_DIRECT_HITS);

	writel(1, t->r + TESTDEV_DMA_DIRECT);
	test_coherent(t);
	if (!t->failed)
		test_single(t);
	if (!t->failed)
		test_sg(t);
	writel(0, t->r + TESTDEV_DMA_DIRECT);
	hits = readl(t->r + TESTDEV_DMA_DIRECT_HITS) - hits;
	if (!t->failed && !hits)
		pmt_fail(t, "no transfer went through the window: has the device one?");
	snprintf(t->note, sizeof(t->note), "%u transfers through the window", hits);
}

/*
 * The engines reaching into the window directly are checked as well: the
 * model consults the page permissions pciem.ko publishes, so a FILL after
 * unmap, against the direction or with bus mastering off is refused with
 * the same status as on the checked path, and the memory stays untouched.
 */
static void test_direct_checked(struct pmt_run *t)
{
	writel(1, t->r + TESTDEV_DMA_DIRECT);
	test_after_unmap(t);
	if (!t->failed)
		test_direction(t);
	if (!t->failed)
		test_bus_master(t);
	writel(0, t->r + TESTDEV_DMA_DIRECT);
}

const struct pmt_test pmt_dma_tests[] = {
	{ "coherent", test_coherent, PMT_F_TESTDEV },
	{ "pool", test_pool, PMT_F_TESTDEV },
	{ "single", test_single, PMT_F_TESTDEV },
	{ "sg", test_sg, PMT_F_TESTDEV },
	{ "mask32", test_mask32, PMT_F_TESTDEV },
	{ "atomics", test_atomics, PMT_F_TESTDEV },
	{ "after-unmap", test_after_unmap, PMT_F_TESTDEV },
	{ "unmap-mid-write", test_unmap_mid_write, PMT_F_TESTDEV },
	{ "bounds", test_bounds, PMT_F_TESTDEV },
	{ "direction", test_direction, PMT_F_TESTDEV },
	{ "bus-master", test_bus_master, PMT_F_TESTDEV },
	{ "never-mapped", test_never_mapped, PMT_F_TESTDEV },
	{ "bad-calls", test_bad_calls, PMT_F_TESTDEV },
	{ "direct", test_direct, PMT_F_TESTDEV | PMT_F_EXPLICIT },
	{ "direct-checked", test_direct_checked, PMT_F_TESTDEV | PMT_F_EXPLICIT },
	{ }
};
