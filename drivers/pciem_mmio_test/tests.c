// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Accessor and register-semantics tests. Each checks values against the
 * register map in devices/testdev/testdev_regs.h: a wrong width, a lost or
 * duplicated read, a reordered write or a missed side effect shows up as
 * "got X, want Y".
 */
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-hi-lo.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/timekeeping.h>

#include "mmio_test.h"
#include "testdev_regs.h"

#define S	TESTDEV_SCRATCH
#define S64	TESTDEV_SCRATCH64

/* ---- widths ------------------------------------------------------------ */

static void test_read_widths(struct pmt_run *t)
{
	void __iomem *r = t->r;
	const u32 id = TESTDEV_ID_VALUE;
	const u64 idver = id | (u64)1 << 32;	/* ID, then VERSION = 1 */
	const u64 v = 0x8877665544332211ull;
	int i;

	for (i = 0; i < 4; i++) {
		pmt_eq(t, readb(r + i), (id >> 8 * i) & 0xff, "readb(ID+%d)", i);
		pmt_eq(t, ioread8(r + i), (id >> 8 * i) & 0xff, "ioread8(ID+%d)", i);
		pmt_eq(t, __raw_readb(r + i), (id >> 8 * i) & 0xff,
		       "__raw_readb(ID+%d)", i);
	}
	for (i = 0; i < 4; i += 2) {
		pmt_eq(t, readw(r + i), (id >> 8 * i) & 0xffff, "readw(ID+%d)", i);
		pmt_eq(t, ioread16(r + i), (id >> 8 * i) & 0xffff, "ioread16(ID+%d)", i);
		pmt_eq(t, __raw_readw(r + i), (id >> 8 * i) & 0xffff,
		       "__raw_readw(ID+%d)", i);
	}
	pmt_eq(t, readl(r + TESTDEV_ID), id, "readl(ID)");
	pmt_eq(t, ioread32(r + TESTDEV_ID), id, "ioread32(ID)");
	pmt_eq(t, __raw_readl(r + TESTDEV_ID), id, "__raw_readl(ID)");
	pmt_eq(t, readl_relaxed(r + TESTDEV_ID), id, "readl_relaxed(ID)");
	pmt_eq(t, readq(r + TESTDEV_ID), idver, "readq(ID)");
	pmt_eq(t, __raw_readq(r + TESTDEV_ID), idver, "__raw_readq(ID)");
	pmt_eq(t, ioread64_lo_hi(r + TESTDEV_ID), idver, "ioread64_lo_hi(ID)");
	pmt_eq(t, ioread64_hi_lo(r + TESTDEV_ID), idver, "ioread64_hi_lo(ID)");
	pmt_eq(t, readl(r + TESTDEV_VERSION), 1, "readl(VERSION)");
	pmt_eq(t, readw(r + TESTDEV_VERSION), 1, "readw(VERSION)");
	pmt_eq(t, readb(r + TESTDEV_VERSION), 1, "readb(VERSION)");

	writeq(v, r + S64);
	pmt_eq(t, readq(r + S64), v, "readq(SCRATCH64)");
	pmt_eq(t, __raw_readq(r + S64), v, "__raw_readq(SCRATCH64)");
	pmt_eq(t, ioread64_lo_hi(r + S64), v, "ioread64_lo_hi(SCRATCH64)");
	pmt_eq(t, ioread64_hi_lo(r + S64), v, "ioread64_hi_lo(SCRATCH64)");
	for (i = 0; i < 8; i += 4) {
		pmt_eq(t, readl(r + S64 + i), (u32)(v >> 8 * i), "readl(SCRATCH64+%d)", i);
		pmt_eq(t, ioread32(r + S64 + i), (u32)(v >> 8 * i),
		       "ioread32(SCRATCH64+%d)", i);
	}
	for (i = 0; i < 8; i += 2)
		pmt_eq(t, readw(r + S64 + i), (u16)(v >> 8 * i), "readw(SCRATCH64+%d)", i);
	for (i = 0; i < 8; i++)
		pmt_eq(t, readb(r + S64 + i), (u8)(v >> 8 * i), "readb(SCRATCH64+%d)", i);
}

/* Reads SCRATCH back at every width and compares with @want. */
static void check_scratch(struct pmt_run *t, u32 want, const char *after)
{
	void __iomem *r = t->r;
	int i;

	pmt_eq(t, readl(r + S), want, "after %s: readl(SCRATCH)", after);
	pmt_eq(t, ioread32(r + S), want, "after %s: ioread32(SCRATCH)", after);
	for (i = 0; i < 4; i += 2)
		pmt_eq(t, readw(r + S + i), (u16)(want >> 8 * i),
		       "after %s: readw(SCRATCH+%d)", after, i);
	for (i = 0; i < 4; i++)
		pmt_eq(t, readb(r + S + i), (u8)(want >> 8 * i),
		       "after %s: readb(SCRATCH+%d)", after, i);
}

static void check_scratch64(struct pmt_run *t, u64 want, const char *after)
{
	void __iomem *r = t->r;
	int i;

	pmt_eq(t, readq(r + S64), want, "after %s: readq(SCRATCH64)", after);
	for (i = 0; i < 8; i += 4)
		pmt_eq(t, readl(r + S64 + i), (u32)(want >> 8 * i),
		       "after %s: readl(SCRATCH64+%d)", after, i);
	for (i = 0; i < 8; i += 2)
		pmt_eq(t, readw(r + S64 + i), (u16)(want >> 8 * i),
		       "after %s: readw(SCRATCH64+%d)", after, i);
	for (i = 0; i < 8; i++)
		pmt_eq(t, readb(r + S64 + i), (u8)(want >> 8 * i),
		       "after %s: readb(SCRATCH64+%d)", after, i);
}

static void test_write_widths(struct pmt_run *t)
{
	void __iomem *r = t->r;

	writel(0xa1b2c3d4, r + S);
	check_scratch(t, 0xa1b2c3d4, "writel");
	iowrite32(0x0badf00d, r + S);
	check_scratch(t, 0x0badf00d, "iowrite32");
	__raw_writel(0x13579bdf, r + S);
	check_scratch(t, 0x13579bdf, "__raw_writel");
	writel_relaxed(0x2468ace0, r + S);
	check_scratch(t, 0x2468ace0, "writel_relaxed");

	/* bytes and words into the middle of SCRATCH leave the rest alone */
	writel(0, r + S);
	writeb(0x11, r + S + 0);
	writeb(0x22, r + S + 1);
	writeb(0x33, r + S + 2);
	writeb(0x44, r + S + 3);
	check_scratch(t, 0x44332211, "writeb x4");
	writeb(0xaa, r + S + 1);
	check_scratch(t, 0x4433aa11, "writeb(SCRATCH+1)");
	iowrite8(0xbb, r + S + 2);
	check_scratch(t, 0x44bbaa11, "iowrite8(SCRATCH+2)");
	__raw_writeb(0xcc, r + S + 3);
	check_scratch(t, 0xccbbaa11, "__raw_writeb(SCRATCH+3)");
	writew(0x5566, r + S + 2);
	check_scratch(t, 0x5566aa11, "writew(SCRATCH+2)");
	iowrite16(0x7788, r + S);
	check_scratch(t, 0x55667788, "iowrite16(SCRATCH)");
	__raw_writew(0x99ee, r + S + 2);
	check_scratch(t, 0x99ee7788, "__raw_writew(SCRATCH+2)");

	writeq(0x0123456789abcdefull, r + S64);
	check_scratch64(t, 0x0123456789abcdefull, "writeq");
	__raw_writeq(0xfedcba9876543210ull, r + S64);
	check_scratch64(t, 0xfedcba9876543210ull, "__raw_writeq");
	writel(0x11112222, r + S64);
	check_scratch64(t, 0xfedcba9811112222ull, "writel(SCRATCH64)");
	writel(0x33334444, r + S64 + 4);
	check_scratch64(t, 0x3333444411112222ull, "writel(SCRATCH64+4)");
	iowrite64_lo_hi(0x5555666677778888ull, r + S64);
	check_scratch64(t, 0x5555666677778888ull, "iowrite64_lo_hi");
	iowrite64_hi_lo(0x99990000aaaabbbbull, r + S64);
	check_scratch64(t, 0x99990000aaaabbbbull, "iowrite64_hi_lo");
}

/* ---- string copies ------------------------------------------------------- */

static const unsigned int copy_sizes[] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65,
	127, 128, 129, 255, 256, 257, 511, 513, 1023, 1024, 1025, 2047,
	2048, 2049, 4089, 4095, 4096,
};

static void fill(u8 *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (u8)(i * 7 + seed * 13 + 1);
}

/* Marks the bytes around [off, off+len) of MEM so a copy that overruns shows. */
static void set_guards(void __iomem *mem, unsigned int off, unsigned int len)
{
	if (off)
		writeb(0xee, mem + off - 1);
	if (off + len < TESTDEV_MEM_SIZE)
		writeb(0xee, mem + off + len);
}

static void check_guards(struct pmt_run *t, void __iomem *mem, unsigned int off,
			 unsigned int len, const char *what)
{
	if (off)
		pmt_eq(t, readb(mem + off - 1), 0xee,
		       "%s size %u off %u: byte before", what, len, off);
	if (off + len < TESTDEV_MEM_SIZE)
		pmt_eq(t, readb(mem + off + len), 0xee,
		       "%s size %u off %u: byte after", what, len, off);
}

static void check_buf(struct pmt_run *t, const u8 *got, const u8 *want,
		      size_t len, const char *what, unsigned int off)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (got[i] != want[i]) {
			pmt_eq(t, got[i], want[i], "%s size %zu off %u: byte %zu",
			       what, len, off, i);
			return;
		}
}

static void test_memcpy_io(struct pmt_run *t)
{
	void __iomem *mem = t->r + TESTDEV_MEM;
	unsigned int i, off, len;
	u8 *src, *dst;

	src = kmalloc(2 * TESTDEV_MEM_SIZE + 16, GFP_KERNEL);
	if (!src) {
		pmt_fail(t, "out of memory");
		return;
	}
	dst = src + TESTDEV_MEM_SIZE + 8;
	for (i = 0; i < ARRAY_SIZE(copy_sizes) && !t->failed; i++) {
		for (off = 0; off < 8 && !t->failed; off++) {
			len = copy_sizes[i];
			if (off + len > TESTDEV_MEM_SIZE)
				continue;
			fill(src + off, len, len + off);
			memset(dst, 0x5a, len + off);
			set_guards(mem, off, len);
			memcpy_toio(mem + off, src + off, len);
			memcpy_fromio(dst + off, mem + off, len);
			check_buf(t, dst + off, src + off, len, "memcpy_toio/fromio", off);
			check_guards(t, mem, off, len, "memcpy_toio");
			/* an independent path for the first bytes */
			pmt_eq(t, readb(mem + off), src[off],
			       "readb after memcpy_toio size %u off %u", len, off);
			pmt_eq(t, readb(mem + off + len - 1), src[off + len - 1],
			       "readb(last) after memcpy_toio size %u off %u", len, off);
			cond_resched();
		}
	}
	kfree(src);
}

static void test_memset_io(struct pmt_run *t)
{
	static const unsigned int sizes[] = { 1, 2, 3, 7, 8, 9, 13, 64, 100, 1000, 4088 };
	void __iomem *mem = t->r + TESTDEV_MEM;
	unsigned int i, off, len;
	u8 *want, *got;

	want = kmalloc(2 * TESTDEV_MEM_SIZE, GFP_KERNEL);
	if (!want) {
		pmt_fail(t, "out of memory");
		return;
	}
	got = want + TESTDEV_MEM_SIZE;
	for (i = 0; i < ARRAY_SIZE(sizes) && !t->failed; i++) {
		for (off = 0; off < 8 && !t->failed; off++) {
			u8 c = (u8)(0x30 + i * 8 + off);

			len = sizes[i];
			set_guards(mem, off, len);
			memset_io(mem + off, c, len);
			memset(want, c, len);
			memcpy_fromio(got, mem + off, len);
			check_buf(t, got, want, len, "memset_io", off);
			check_guards(t, mem, off, len, "memset_io");
			cond_resched();
		}
	}
	kfree(want);
}

static void test_iowrite_copy(struct pmt_run *t)
{
	void __iomem *mem = t->r + TESTDEV_MEM;
	static const unsigned int counts[] = { 1, 2, 3, 16, 17, 255 };
	unsigned int i;
	u64 *src, *dst;

	src = kmalloc(2 * 256 * sizeof(u64), GFP_KERNEL);
	if (!src) {
		pmt_fail(t, "out of memory");
		return;
	}
	dst = src + 256;
	for (i = 0; i < ARRAY_SIZE(counts) && !t->failed; i++) {
		unsigned int n = counts[i];

		fill((u8 *)src, n * 8, n);
		set_guards(mem, 8, n * 4);
		__iowrite32_copy(mem + 8, src, n);
		memcpy_fromio(dst, mem + 8, n * 4);
		check_buf(t, (u8 *)dst, (u8 *)src, n * 4, "__iowrite32_copy", 8);
		check_guards(t, mem, 8, n * 4, "__iowrite32_copy");

		fill((u8 *)src, n * 8, n + 100);
		set_guards(mem, 8, n * 8);
		__iowrite64_copy(mem + 8, src, n);
		memcpy_fromio(dst, mem + 8, n * 8);
		check_buf(t, (u8 *)dst, (u8 *)src, n * 8, "__iowrite64_copy", 8);
		check_guards(t, mem, 8, n * 8, "__iowrite64_copy");
	}
	kfree(src);
}

/* ---- register semantics ------------------------------------------------ */

/* Empties the FIFO and clears STATUS, so a test starts from a known state. */
static void reset_fifo(struct pmt_run *t)
{
	void __iomem *r = t->r;
	int i;

	for (i = 0; i < 4096 && readl(r + TESTDEV_FIFO_COUNT); i++)
		readl(r + TESTDEV_FIFO);
	writel(~0u, r + TESTDEV_STATUS);
}

static void test_counter(struct pmt_run *t)
{
	void __iomem *c = t->r + TESTDEV_COUNTER;
	u32 first = readl(c), v;
	int i;

	for (i = 1; i <= 200 && !t->failed; i++) {
		switch (i % 4) {
		case 0:
			v = readl(c);
			break;
		case 1:
			v = ioread32(c);
			break;
		case 2:
			v = __raw_readl(c);
			break;
		default:
			v = readl_relaxed(c);
			break;
		}
		pmt_eq(t, v, first + i, "COUNTER read %d", i);
	}
}

static void test_read_to_clear(struct pmt_run *t)
{
	void __iomem *r = t->r;

	readl(r + TESTDEV_RC);
	pmt_eq(t, readl(r + TESTDEV_RC), 0, "RC after a clearing read");
	writel(0x5, r + TESTDEV_RC_SET);
	writel(0x30, r + TESTDEV_RC_SET);
	pmt_eq(t, readl(r + TESTDEV_RC), 0x35, "RC after RC_SET 0x5, 0x30");
	pmt_eq(t, readl(r + TESTDEV_RC), 0, "RC read again");
	writel(0x80000001, r + TESTDEV_RC_SET);
	pmt_eq(t, ioread32(r + TESTDEV_RC), 0x80000001, "RC (ioread32)");
	pmt_eq(t, ioread32(r + TESTDEV_RC), 0, "RC read again (ioread32)");
}

static void test_status_rw1c(struct pmt_run *t)
{
	void __iomem *st = t->r + TESTDEV_STATUS;
	void __iomem *set = t->r + TESTDEV_STATUS_SET;

	writel(~0u, st);
	pmt_eq(t, readl(st), 0, "STATUS after writing all ones");
	writel(0x81, set);
	pmt_eq(t, readl(st), 0x81, "STATUS after STATUS_SET 0x81");
	writel(0x300, set);
	pmt_eq(t, readl(st), 0x381, "STATUS after STATUS_SET 0x300");
	writel(0x1, st);
	pmt_eq(t, readl(st), 0x380, "STATUS after writing 0x1");
	writel(0, st);
	pmt_eq(t, readl(st), 0x380, "STATUS after writing 0 (no effect)");
	writel(0x280, st);
	pmt_eq(t, readl(st), 0x100, "STATUS after writing 0x280");
	writel(0x100, st);
	pmt_eq(t, readl(st), 0, "STATUS after writing 0x100");
}

static void test_fifo(struct pmt_run *t)
{
	void __iomem *r = t->r;
	u32 i;

	reset_fifo(t);
	pmt_eq(t, readl(r + TESTDEV_FIFO_COUNT), 0, "FIFO_COUNT after draining");
	for (i = 0; i < 8; i++)
		writel(0xf1f00000 + i, r + TESTDEV_FIFO);
	pmt_eq(t, readl(r + TESTDEV_FIFO_COUNT), 8, "FIFO_COUNT after 8 pushes");
	for (i = 0; i < 8; i++)
		pmt_eq(t, readl(r + TESTDEV_FIFO), 0xf1f00000 + i, "FIFO pop %u", i);
	pmt_eq(t, readl(r + TESTDEV_FIFO_COUNT), 0, "FIFO_COUNT after 8 pops");
	pmt_eq(t, readl(r + TESTDEV_STATUS) & TESTDEV_STATUS_UNDERFLOW, 0,
	       "STATUS.UNDERFLOW before underflow");
	pmt_eq(t, readl(r + TESTDEV_FIFO), 0, "FIFO pop when empty");
	pmt_eq(t, readl(r + TESTDEV_STATUS) & TESTDEV_STATUS_UNDERFLOW,
	       TESTDEV_STATUS_UNDERFLOW, "STATUS.UNDERFLOW after underflow");
	writel(TESTDEV_STATUS_UNDERFLOW, r + TESTDEV_STATUS);
	pmt_eq(t, readl(r + TESTDEV_STATUS) & TESTDEV_STATUS_UNDERFLOW, 0,
	       "STATUS.UNDERFLOW after RW1C");
}

static void test_fifo_rep(struct pmt_run *t)
{
	void __iomem *r = t->r;
	u32 in[16], out[16];
	int i;

	reset_fifo(t);
	for (i = 0; i < 16; i++)
		in[i] = 0xabc00000 + i * 3;
	iowrite32_rep(r + TESTDEV_FIFO, in, 16);
	pmt_eq(t, readl(r + TESTDEV_FIFO_COUNT), 16, "FIFO_COUNT after iowrite32_rep");
	memset(out, 0, sizeof(out));
	ioread32_rep(r + TESTDEV_FIFO, out, 16);
	for (i = 0; i < 16; i++)
		pmt_eq(t, out[i], in[i], "ioread32_rep word %d", i);
	pmt_eq(t, readl(r + TESTDEV_FIFO_COUNT), 0, "FIFO_COUNT after ioread32_rep");
	pmt_eq(t, readl(r + TESTDEV_STATUS) & TESTDEV_STATUS_UNDERFLOW, 0,
	       "STATUS.UNDERFLOW");
}

/* Posted writes are never reordered with a later read: WRITE_COUNT shows them all. */
static void test_ordering(struct pmt_run *t)
{
	void __iomem *r = t->r;
	u32 base = readl(r + TESTDEV_WRITE_COUNT), last = 0;
	int i;

	for (i = 0; i < 128 && !t->failed; i++) {
		u32 v = 0x0d000000 + i;

		switch (i % 5) {
		case 0:
			writel(v, r + S);
			last = v;
			break;
		case 1:
			writeb((u8)v, r + S + 1);
			last = (u8)v;
			break;
		case 2:
			writew((u16)v, r + S + 2);
			last = (u16)v;
			break;
		case 3:
			writeq((u64)v << 32 | v, r + S64);
			last = v;
			break;
		default:
			writel_relaxed(v, r + TESTDEV_MEM + 4 * i);
			last = v;
			break;
		}
		if (i % 8 == 7) {
			pmt_eq(t, readl(r + TESTDEV_WRITE_COUNT), base + i + 1,
			       "WRITE_COUNT after %d writes", i + 1);
			pmt_eq(t, readl(r + TESTDEV_LAST_WRITE), last,
			       "LAST_WRITE after %d writes", i + 1);
		}
	}
	/* a burst with no read in between, then one read */
	base = readl(r + TESTDEV_WRITE_COUNT);
	for (i = 0; i < 64; i++)
		writel(i, r + S);
	pmt_eq(t, readl(r + TESTDEV_WRITE_COUNT), base + 64, "WRITE_COUNT after a burst of 64");
	pmt_eq(t, readl(r + S), 63, "SCRATCH after a burst of 64");
}

static void test_shadowed(struct pmt_run *t)
{
	void __iomem *r = t->r + TESTDEV_SHADOWED;
	int i;

	for (i = 0; i < 8; i++) {
		pmt_eq(t, readl(r + 4 * i), TESTDEV_SHADOW_VALUE(i), "readl(SHADOWED+%d)", 4 * i);
		pmt_eq(t, ioread32(r + 4 * i), TESTDEV_SHADOW_VALUE(i),
		       "ioread32(SHADOWED+%d)", 4 * i);
	}
	for (i = 0; i < 8; i += 2)
		pmt_eq(t, readq(r + 4 * i),
		       TESTDEV_SHADOW_VALUE(i) | (u64)TESTDEV_SHADOW_VALUE(i + 1) << 32,
		       "readq(SHADOWED+%d)", 4 * i);
}

/* ---- atomic and hard-IRQ context ----------------------------------------- */

struct pmt_atomic {
	struct pmt_run *t;
	unsigned int cpu;
	const char *where;
	bool hardirq;
	struct hrtimer timer;
	struct completion done;
};

/* The reads an interrupt handler does; called with interrupts off. */
static void atomic_reads(struct pmt_run *t, const char *where)
{
	void __iomem *r = t->r;
	u32 c;

	pmt_eq(t, readl(r + TESTDEV_ID), TESTDEV_ID_VALUE, "%s: readl(ID)", where);
	c = readl(r + TESTDEV_COUNTER);
	pmt_eq(t, readl(r + TESTDEV_COUNTER), c + 1, "%s: second COUNTER read", where);
	writel(0x1a2b3c4d, r + S);
	pmt_eq(t, readl(r + S), 0x1a2b3c4d, "%s: SCRATCH write then read", where);
	readl(r + TESTDEV_RC);
	writel(0x40, r + TESTDEV_RC_SET);
	pmt_eq(t, readl(r + TESTDEV_RC), 0x40, "%s: RC", where);
	pmt_eq(t, readl(r + TESTDEV_RC), 0, "%s: RC again", where);
	pmt_eq(t, readl(r + TESTDEV_SHADOWED), TESTDEV_SHADOW_VALUE(0),
	       "%s: readl(SHADOWED)", where);
}

static void atomic_ipi_fn(void *data)
{
	struct pmt_atomic *a = data;

	/*
	 * An idle target CPU may run queued IPI callbacks from its idle loop
	 * (polling idle skips the interrupt): interrupts are off there too,
	 * which is what the reads must cope with.
	 */
	a->hardirq = in_hardirq() || irqs_disabled();
	atomic_reads(a->t, a->where);
	complete(&a->done);
}

static enum hrtimer_restart atomic_timer_fn(struct hrtimer *timer)
{
	struct pmt_atomic *a = container_of(timer, struct pmt_atomic, timer);

	a->hardirq = in_hardirq();
	atomic_reads(a->t, a->where);
	complete(&a->done);
	return HRTIMER_NORESTART;
}

static unsigned int pick_other_cpu(unsigned int test_cpu)
{
	unsigned int cpu = cpumask_any_but(cpu_online_mask, test_cpu);

	return cpu < nr_cpu_ids ? cpu : test_cpu;
}

/* On the test CPU, in a kworker: interrupts off, preemption off, hrtimer. */
static int atomic_local(void *data)
{
	struct pmt_atomic *a = data;
	struct pmt_run *t = a->t;
	unsigned long flags;

	local_irq_save(flags);
	atomic_reads(t, "local_irq_save");
	local_irq_restore(flags);

	preempt_disable();
	atomic_reads(t, "preempt_disable");
	preempt_enable();

	a->where = "hrtimer (hard)";
	init_completion(&a->done);
	hrtimer_init(&a->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED_HARD);
	a->timer.function = atomic_timer_fn;
	hrtimer_start(&a->timer, ns_to_ktime(100 * NSEC_PER_USEC),
		      HRTIMER_MODE_REL_PINNED_HARD);
	if (!wait_for_completion_timeout(&a->done, 10 * HZ)) {
		hrtimer_cancel(&a->timer);
		pmt_fail(t, "hrtimer callback did not run within 10 s");
		return 0;
	}
	hrtimer_cancel(&a->timer);
	if (!a->hardirq)
		pmt_fail(t, "hrtimer callback did not run in hard-IRQ context");
	return 0;
}

/*
 * On another CPU: send the IPI to the test CPU and sleep until it ran.
 * Spinning in the call instead would leave no CPU for the model.
 */
static int atomic_send_ipi(void *data)
{
	struct pmt_atomic *a = data;

	a->where = "IPI";
	a->hardirq = false;
	init_completion(&a->done);
	smp_call_function_single(a->cpu, atomic_ipi_fn, a, 0);
	if (!wait_for_completion_timeout(&a->done, 10 * HZ)) {
		pmt_fail(a->t, "IPI callback did not run within 10 s");
		return 0;
	}
	if (!a->hardirq)
		pmt_fail(a->t, "IPI callback ran with interrupts on");
	return 0;
}

static void test_atomic(struct pmt_run *t)
{
	struct pmt_atomic a = { .t = t };
	unsigned int test_cpu = pmt_test_cpu();
	unsigned int other = pick_other_cpu(test_cpu);

	a.cpu = test_cpu;
	smp_call_on_cpu(test_cpu, atomic_local, &a, false);
	if (other != test_cpu)
		smp_call_on_cpu(other, atomic_send_ipi, &a, false);
}

/* ---- two CPUs at once ------------------------------------------------------ */

#define CONC_READS	5000
#define CONC_PUSHES	16

struct pmt_conc {
	struct pmt_run *t;
	int id;
	bool fifo;
	atomic_t *go;
	u32 *vals;
	struct completion done;
};

static int conc_fn(void *data)
{
	struct pmt_conc *c = data;
	void __iomem *r = c->t->r;
	unsigned long end = jiffies + 10 * HZ;
	int i;

	/* rendezvous, so both CPUs really overlap */
	atomic_inc(c->go);
	while (atomic_read(c->go) < 2 && time_before(jiffies, end))
		cpu_relax();
	if (c->fifo) {
		for (i = 0; i < CONC_PUSHES; i++)
			writel((c->id + 1) << 16 | i, r + TESTDEV_FIFO);
	} else {
		for (i = 0; i < CONC_READS; i++)
			c->vals[i] = readl(r + TESTDEV_COUNTER);
	}
	kthread_complete_and_exit(&c->done, 0);
}

static int conc_run(struct pmt_run *t, struct pmt_conc *c, bool fifo, u32 *vals)
{
	struct task_struct *task[2];
	atomic_t go = ATOMIC_INIT(0);
	int i, cpu = 0;

	for (i = 0; i < 2; i++) {
		c[i] = (struct pmt_conc){ .t = t, .id = i, .fifo = fifo, .go = &go,
					 .vals = vals + i * CONC_READS };
		init_completion(&c[i].done);
		task[i] = kthread_create(conc_fn, &c[i], "pmt-conc/%d", i);
		if (IS_ERR(task[i])) {
			pmt_fail(t, "kthread_create: %ld", PTR_ERR(task[i]));
			if (i)
				kthread_stop(task[0]);	/* never woken: never runs */
			return -1;
		}
		/* CPU0 and CPU1 when both exist; with one CPU both share it */
		cpu = i ? cpumask_next(cpu, cpu_online_mask) : cpumask_first(cpu_online_mask);
		if (cpu >= nr_cpu_ids)
			cpu = cpumask_first(cpu_online_mask);
		kthread_bind(task[i], cpu);
	}
	for (i = 0; i < 2; i++)
		wake_up_process(task[i]);
	for (i = 0; i < 2; i++)
		wait_for_completion(&c[i].done);
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	u32 x = *(const u32 *)a, y = *(const u32 *)b;

	return x < y ? -1 : x > y;
}

static void test_concurrency(struct pmt_run *t)
{
	void __iomem *r = t->r;
	struct pmt_conc c[2];
	int i, j, seen[2] = { 0, 0 };
	u32 *vals;

	vals = kvmalloc_array(2 * CONC_READS, sizeof(u32), GFP_KERNEL);
	if (!vals) {
		pmt_fail(t, "out of memory");
		return;
	}
	if (conc_run(t, c, false, vals))
		goto out;
	for (i = 0; i < 2; i++)
		for (j = 1; j < CONC_READS; j++)
			if ((s32)(vals[i * CONC_READS + j] - vals[i * CONC_READS + j - 1]) <= 0) {
				pmt_eq(t, vals[i * CONC_READS + j], vals[i * CONC_READS + j - 1] + 1,
				       "thread %d read %d not above the one before", i, j);
				goto out;
			}
	sort(vals, 2 * CONC_READS, sizeof(u32), cmp_u32, NULL);
	for (i = 1; i < 2 * CONC_READS; i++)
		if (!pmt_eq(t, vals[i], vals[0] + i,
			    "COUNTER values, sorted, are not %d..%d contiguous at %d (dup or lost)",
			    0, 2 * CONC_READS - 1, i))
			goto out;

	reset_fifo(t);
	if (conc_run(t, c, true, vals))
		goto out;
	pmt_eq(t, readl(r + TESTDEV_FIFO_COUNT), 2 * CONC_PUSHES,
	      "FIFO_COUNT after concurrent pushes");
	for (i = 0; i < 2 * CONC_PUSHES && !t->failed; i++) {
		u32 v = readl(r + TESTDEV_FIFO);
		int who = (v >> 16) - 1;

		if (who < 0 || who > 1) {
			pmt_fail(t, "FIFO pop %d: %#x was never pushed", i, v);
			break;
		}
		/* each thread's own pushes come out in its order */
		pmt_eq(t, v & 0xffff, seen[who]++, "FIFO pop %d from thread %d", i, who);
	}
	pmt_eq(t, readl(r + TESTDEV_FIFO_COUNT), 0, "FIFO_COUNT after popping all");
out:
	kvfree(vals);
}

/* ---- several mappings of one BAR ------------------------------------------ */

static void test_mappings(struct pmt_run *t)
{
	struct pci_dev *pdev = t->md->pdev;
	resource_size_t start = pci_resource_start(pdev, 0);
	void __iomem *m[5] = { t->r };
	static const char * const names[] = {
		"pci_iomap", "ioremap", "ioremap_wc", "devm_ioremap", "ioremap(MEM page)"
	};
	int i, j;

	m[1] = ioremap(start, TESTDEV_BAR0_SIZE);
	m[2] = ioremap_wc(start, TESTDEV_BAR0_SIZE);
	m[3] = devm_ioremap(&pdev->dev, start, TESTDEV_BAR0_SIZE);
	m[4] = ioremap(start + TESTDEV_MEM, TESTDEV_MEM_SIZE);
	for (i = 0; i < ARRAY_SIZE(m); i++)
		if (!m[i]) {
			pmt_fail(t, "%s of BAR0 failed", names[i]);
			goto out;
		}
	for (i = 0; i < 4; i++)
		pmt_eq(t, readl(m[i] + TESTDEV_ID), TESTDEV_ID_VALUE, "readl(ID) via %s", names[i]);
	for (i = 0; i < 4; i++) {
		u32 v = 0x3a000000 + i;

		writel(v, m[i] + S);
		wmb();	/* drain write-combining buffers of the WC mapping */
		for (j = 0; j < 4; j++)
			pmt_eq(t, readl(m[j] + S), v, "SCRATCH written via %s, read via %s",
			       names[i], names[j]);
	}
	writel(0x6d656d21, m[4] + 0x10);
	pmt_eq(t, readl(m[0] + TESTDEV_MEM + 0x10), 0x6d656d21,
	       "MEM+0x10 written via a mapping of the MEM page");
	writel(0x21646d65, m[0] + TESTDEV_MEM + 0x14);
	pmt_eq(t, readl(m[4] + 0x14), 0x21646d65, "MEM+0x14 read via a mapping of the MEM page");
out:
	if (m[4])
		iounmap(m[4]);
	if (m[3])
		devm_iounmap(&pdev->dev, m[3]);
	if (m[2])
		iounmap(m[2]);
	if (m[1])
		iounmap(m[1]);
	/* the other mappings going away leaves pci_iomap's trapped */
	pmt_eq(t, readl(t->r + TESTDEV_ID), TESTDEV_ID_VALUE, "readl(ID) after the iounmaps");
}

/* ---- every CPU reading with interrupts off ------------------------------------ */

/*
 * All online CPUs meet in an IPI (interrupts off) and each reads SCRATCH,
 * which the model answers. No model can run while every CPU waits so:
 * pciem.ko must see that and give one read up at once (all-ones, with a
 * log line) rather than spin, and every read must end. Before it did, the
 * read timeout was measured on a clock that stops when every CPU has
 * interrupts off (an unstable TSC, as under TCG), and the guest froze.
 */
#define ALLCPU_MEET_US	(200 * USEC_PER_MSEC)

struct pmt_allcpu {
	void __iomem *r;
	atomic_t arrived;
	u32 *vals;		/* by CPU id */
	bool *met;		/* by CPU id: all CPUs were in the IPI before the read */
};

static void allcpu_read(void *data)
{
	struct pmt_allcpu *a = data;
	unsigned int cpu = smp_processor_id(), us = 0;

	atomic_inc(&a->arrived);
	/* udelay, not a clock: clocks are what this test does not trust */
	while (atomic_read(&a->arrived) < num_online_cpus() && us++ < ALLCPU_MEET_US)
		udelay(1);
	a->met[cpu] = atomic_read(&a->arrived) >= num_online_cpus();
	a->vals[cpu] = readl(a->r + S);
}

static void test_all_cpus_atomic(struct pmt_run *t)
{
	struct pmt_allcpu a = { .r = t->r };
	unsigned int cpu, ones = 0, answered = 0;
	const u32 want = 0x5a11c0de;

	a.vals = kcalloc(nr_cpu_ids, sizeof(*a.vals), GFP_KERNEL);
	a.met = kcalloc(nr_cpu_ids, sizeof(*a.met), GFP_KERNEL);
	if (!a.vals || !a.met) {
		pmt_fail(t, "out of memory");
		goto out;
	}
	if (num_online_cpus() < 2) {
		pmt_fail(t, "needs two CPUs or more, has %u", num_online_cpus());
		goto out;
	}
	writel(want, t->r + S);
	pmt_eq(t, readl(t->r + S), want, "SCRATCH before");
	cpus_read_lock();
	atomic_set(&a.arrived, 0);
	on_each_cpu(allcpu_read, &a, 1);
	for_each_online_cpu(cpu) {
		if (!a.met[cpu])
			pmt_fail(t, "CPU %u read before every CPU was in the IPI", cpu);
		if (a.vals[cpu] == ~0u)
			ones++;
		else if (pmt_eq(t, a.vals[cpu], want, "readl(SCRATCH) on CPU %u", cpu))
			answered++;
	}
	cpus_read_unlock();
	/* the read that completed the set of waiters was given up */
	if (!ones)
		pmt_fail(t, "every CPU's read was answered (%u), none given up", answered);
	pmt_eq(t, readl(t->r + S), want, "SCRATCH after, with interrupts on");
out:
	kfree(a.met);
	kfree(a.vals);
}

/* ---- explicit tests: need model configuration ------------------------------- */

static void test_hang(struct pmt_run *t)
{
	u64 t0 = ktime_get_ns(), dt;
	u32 v = readl(t->r + TESTDEV_HANG);

	dt = ktime_get_ns() - t0;
	pmt_eq(t, v, ~0u, "readl(HANG) (after %llu us)", div_u64(dt, 1000));
	pmt_eq(t, readl(t->r + TESTDEV_ID), TESTDEV_ID_VALUE, "readl(ID) after HANG");
}

/* A slow answer with interrupts off, on a CPU the model is not pinned to. */
static int slow_irqs_off(void *data)
{
	struct pmt_run *t = data;
	unsigned long flags;
	u32 v;

	local_irq_save(flags);
	v = readl(t->r + TESTDEV_SLOW);
	local_irq_restore(flags);
	pmt_eq(t, v, TESTDEV_SLOW_VALUE, "readl(SLOW) with interrupts off");
	return 0;
}

static void test_slow(struct pmt_run *t)
{
	void __iomem *r = t->r;
	u64 t0, dt;
	u32 v;

	writel(2000, r + TESTDEV_DELAY_US);
	pmt_eq(t, readl(r + TESTDEV_DELAY_US), 2000, "DELAY_US");
	t0 = ktime_get_ns();
	v = readl(r + TESTDEV_SLOW);
	dt = ktime_get_ns() - t0;
	pmt_eq(t, v, TESTDEV_SLOW_VALUE, "readl(SLOW) with DELAY_US 2000");
	if (dt < 2000 * NSEC_PER_USEC)
		pmt_fail(t, "readl(SLOW) answered after %llu us, before DELAY_US 2000",
			 div_u64(dt, 1000));
	smp_call_on_cpu(pmt_test_cpu(), slow_irqs_off, t, false);
	writel(0, r + TESTDEV_DELAY_US);
	pmt_eq(t, readl(r + TESTDEV_SLOW), TESTDEV_SLOW_VALUE, "readl(SLOW) with DELAY_US 0");
}

/* ---- edu: the same accessors on QEMU's device (real MMIO, no trap) ------------ */

static void test_edu_read(struct pmt_run *t)
{
	void __iomem *r = t->r;
	u32 live;

	pmt_eq(t, readl(r + EDU_ID), EDU_ID_VALUE, "readl(ID)");
	pmt_eq(t, ioread32(r + EDU_ID), EDU_ID_VALUE, "ioread32(ID)");
	pmt_eq(t, __raw_readl(r + EDU_ID), EDU_ID_VALUE, "__raw_readl(ID)");
	pmt_eq(t, readl_relaxed(r + EDU_ID), EDU_ID_VALUE, "readl_relaxed(ID)");
	writel(0x12345678, r + EDU_LIVENESS);
	live = readl(r + EDU_LIVENESS);
	/*
	 * edu decodes only 4-byte accesses below 0x80: narrower and 8-byte reads
	 * there are issued (the accessors must not fault) but their value is
	 * QEMU's, not a register's.
	 */
	readb(r + EDU_ID);
	readw(r + EDU_ID);
	readq(r + EDU_ID);
	ioread8(r + EDU_ID);
	ioread16(r + EDU_ID);
	__raw_readb(r + EDU_ID);
	__raw_readw(r + EDU_ID);
	__raw_readq(r + EDU_ID);
	/* 0x80 is a 64-bit register */
	writeq(0x1122334455667788ull, r + EDU_DMA_SRC);
	pmt_eq(t, readq(r + EDU_DMA_SRC), 0x1122334455667788ull, "readq(DMA_SRC)");
	pmt_eq(t, __raw_readq(r + EDU_DMA_SRC), 0x1122334455667788ull, "__raw_readq(DMA_SRC)");
	pmt_eq(t, readl(r + EDU_DMA_SRC), 0x55667788, "readl(DMA_SRC)");
	/* on x86 the MMIO path of ioread64_lo_hi/hi_lo is a single readq */
	pmt_eq(t, ioread64_lo_hi(r + EDU_DMA_SRC), 0x1122334455667788ull,
	       "ioread64_lo_hi(DMA_SRC)");
	pmt_eq(t, ioread64_hi_lo(r + EDU_DMA_SRC), 0x1122334455667788ull,
	       "ioread64_hi_lo(DMA_SRC)");
	pmt_eq(t, live, ~0x12345678u, "readl(LIVENESS)");
}

static void test_edu_write(struct pmt_run *t)
{
	void __iomem *r = t->r;
	void __iomem *l = r + EDU_LIVENESS;

	writel(0xa5a5a5a5, l);
	pmt_eq(t, readl(l), ~0xa5a5a5a5u, "LIVENESS after writel");
	iowrite32(0x01020304, l);
	pmt_eq(t, ioread32(l), ~0x01020304u, "LIVENESS after iowrite32");
	__raw_writel(0x0f0f0f0f, l);
	pmt_eq(t, __raw_readl(l), ~0x0f0f0f0fu, "LIVENESS after __raw_writel");
	writel_relaxed(0x77777777, l);
	pmt_eq(t, readl(l), ~0x77777777u, "LIVENESS after writel_relaxed");
	/* edu ignores writes narrower than 4 bytes below 0x80: LIVENESS keeps its value */
	writeb(0x11, l);
	writew(0x2222, l);
	iowrite8(0x33, l + 1);
	iowrite16(0x4444, l + 2);
	__raw_writeb(0x55, l);
	__raw_writew(0x6666, l);
	pmt_eq(t, readl(l), ~0x77777777u, "LIVENESS after ignored narrow writes");
	writeq(0x8877665544332211ull, r + EDU_DMA_DST);
	pmt_eq(t, readq(r + EDU_DMA_DST), 0x8877665544332211ull, "DMA_DST after writeq");
	__raw_writeq(0x0102030405060708ull, r + EDU_DMA_DST);
	pmt_eq(t, readq(r + EDU_DMA_DST), 0x0102030405060708ull, "DMA_DST after __raw_writeq");
	iowrite32(0xcafe, r + EDU_DMA_DST);
	pmt_eq(t, readq(r + EDU_DMA_DST), 0xcafe, "DMA_DST after iowrite32 (edu: whole register)");
}

/* ---- RAM BAR: plain memory shared with the model ------------------------- */

/*
 * BAR2 is backed by pages the model maps too: what the driver writes the
 * model reads (RAM_PEEK), what the model writes (RAM_POKE) the driver
 * reads, with no trap in between. 2 MiB, so ioremap uses a 2 MiB leaf.
 */
static void test_ram_bar(struct pmt_run *t)
{
	struct pci_dev *pdev = t->md->pdev;
	void __iomem *r = t->r;
	void __iomem *ram;
	static u8 pattern[4096], back[4096];
	unsigned int i;

	if (pci_resource_len(pdev, 2) != TESTDEV_BAR2_SIZE) {
		pmt_fail(t, "BAR2 is %llu bytes, want %u",
			 (u64)pci_resource_len(pdev, 2), TESTDEV_BAR2_SIZE);
		return;
	}
	ram = pci_iomap(pdev, 2, 0);
	if (!ram) {
		pmt_fail(t, "pci_iomap(BAR2) failed");
		return;
	}
	/* Driver writes, model reads. */
	writel(0x600dcafe, ram + 0x1000);
	writel(0x1000, r + TESTDEV_RAM_PEEK_OFF);
	pmt_eq(t, readl(r + TESTDEV_RAM_PEEK), 0x600dcafe, "model sees BAR2+0x1000");
	writel(0xa5a5a5a5, ram + TESTDEV_BAR2_SIZE - 4);
	writel(TESTDEV_BAR2_SIZE - 4, r + TESTDEV_RAM_PEEK_OFF);
	pmt_eq(t, readl(r + TESTDEV_RAM_PEEK), 0xa5a5a5a5, "model sees the last dword");

	/* Model writes, driver reads (after a read flushes the posted POKE). */
	writel(0x3000, r + TESTDEV_RAM_PEEK_OFF);
	writel(0xfeedf00d, r + TESTDEV_RAM_POKE);
	readl(r + TESTDEV_ID);
	pmt_eq(t, readl(ram + 0x3000), 0xfeedf00d, "driver sees the model's write");

	/* Bulk copies land as they are. */
	for (i = 0; i < sizeof(pattern); i++)
		pattern[i] = i * 7 + 3;
	memcpy_toio(ram + 0x10000, pattern, sizeof(pattern));
	for (i = 0; i < sizeof(pattern); i += 1024) {
		writel(0x10000 + i, r + TESTDEV_RAM_PEEK_OFF);
		pmt_eq(t, readl(r + TESTDEV_RAM_PEEK),
		       le32_to_cpup((__le32 *)&pattern[i]),
		       "model sees memcpy_toio at +%u", i);
	}
	memcpy_fromio(back, ram + 0x10000, sizeof(back));
	if (memcmp(back, pattern, sizeof(back)))
		pmt_fail(t, "memcpy_fromio of BAR2 differs from what was written");
	pci_iounmap(pdev, ram);
}

/*
 * edu's expansion ROM, when it has one (forwarded with romfile=): a store
 * into it, as a driver's writel into its option ROM, changes nothing. A
 * ROM is read-only; pciem.ko ends the write (the case checks its trace).
 */
static void test_edu_rom_write(struct pmt_run *t)
{
	struct pci_dev *pdev = t->md->pdev;
	void __iomem *rom;
	size_t size;
	u32 before;

	rom = pci_map_rom(pdev, &size);
	if (!rom) {
		pmt_fail(t, "the function has no expansion ROM to map");
		return;
	}
	if (size < 0x104) {
		pmt_fail(t, "the ROM image is %zu bytes, too short", size);
	} else {
		before = readl(rom + 0x100);
		writel(~before, rom + 0x100);
		pmt_eq(t, readl(rom + 0x100), before, "readl(ROM+0x100) after writel(~it)");
	}
	pci_unmap_rom(pdev, rom);
}

const struct pmt_test pmt_tests[] = {
	{ "read-widths", test_read_widths, PMT_F_TESTDEV },
	{ "write-widths", test_write_widths, PMT_F_TESTDEV },
	{ "counter", test_counter, PMT_F_TESTDEV },
	{ "read-to-clear", test_read_to_clear, PMT_F_TESTDEV },
	{ "status-rw1c", test_status_rw1c, PMT_F_TESTDEV },
	{ "fifo", test_fifo, PMT_F_TESTDEV },
	{ "fifo-rep", test_fifo_rep, PMT_F_TESTDEV },
	{ "ordering", test_ordering, PMT_F_TESTDEV },
	{ "shadowed", test_shadowed, PMT_F_TESTDEV },
	{ "memcpy-io", test_memcpy_io, PMT_F_TESTDEV },
	{ "memset-io", test_memset_io, PMT_F_TESTDEV },
	{ "iowrite-copy", test_iowrite_copy, PMT_F_TESTDEV },
	{ "atomic", test_atomic, PMT_F_TESTDEV },
	{ "concurrency", test_concurrency, PMT_F_TESTDEV },
	{ "mappings", test_mappings, PMT_F_TESTDEV },
	{ "ram-bar", test_ram_bar, PMT_F_TESTDEV },
	{ "all-cpus-atomic", test_all_cpus_atomic, PMT_F_TESTDEV },
	{ "hang", test_hang, PMT_F_TESTDEV | PMT_F_EXPLICIT },
	{ "slow", test_slow, PMT_F_TESTDEV | PMT_F_EXPLICIT },
	{ "edu-read", test_edu_read, PMT_F_EDU },
	{ "edu-write", test_edu_write, PMT_F_EDU },
	{ "edu-rom-write", test_edu_rom_write, PMT_F_EDU | PMT_F_EXPLICIT },
	{ }
};
