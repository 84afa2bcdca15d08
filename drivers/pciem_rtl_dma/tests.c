// SPDX-License-Identifier: GPL-2.0
/*
 * What the driver checks on its engine: the self-test at probe, and the
 * commands its debugfs "run" file takes:
 *
 *   selftest		the probe's self-test again
 *   copy SIZE COUNT	COUNT copies of SIZE random bytes between streaming
 *			mappings at random byte offsets, each checked
 *			bit-exact, with the bytes around the destination
 *			untouched
 *   fill SIZE COUNT	the same with FILL and a random pattern
 *   batch N SIZE	N copies in one submission, one interrupt for all
 *   fault		a copy into a TO_DEVICE mapping: the PCIem DMA
 *			sanitizer refuses it, the engine halts with
 *			RTL_DMA_E_DST and the error interrupt, and runs again
 *			after a reset
 *   reads N		N reads of ID, timed
 *   bandwidth SIZE N	N copies of SIZE from one mapping to another, timed;
 *			with the clock cycles the design ran meanwhile
 *   cycles		the design's CYCLES register: how long it was clocked
 *
 * Each answers one line: "PASS name ..." or "FAIL name: why", or the
 * figures of a timed command.
 */
#include <linux/dma-mapping.h>
#include <linux/ktime.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "prd.h"

#define PRD_GUARD	64	/* bytes around a destination that must stay */
#define PRD_MAX_SIZE	(1u << 20)

/* One kmalloc'ed buffer with a streaming mapping of [off, off + len). */
struct prd_buf {
	u8 *cpu;
	dma_addr_t bus;
	size_t off;
	size_t len;
	enum dma_data_direction dir;
	bool mapped;
};

static int prd_buf_map(struct prd_dev *pd, struct prd_buf *b, size_t off,
		       size_t len, enum dma_data_direction dir)
{
	b->off = off;
	b->len = len;
	b->dir = dir;
	b->bus = dma_map_single(&pd->pdev->dev, b->cpu + off, len, dir);
	if (dma_mapping_error(&pd->pdev->dev, b->bus))
		return -ENOMEM;
	b->mapped = true;
	return 0;
}

static void prd_buf_unmap(struct prd_dev *pd, struct prd_buf *b)
{
	if (b->mapped)
		dma_unmap_single(&pd->pdev->dev, b->bus, b->len, b->dir);
	b->mapped = false;
}

static __printf(2, 3) int prd_say(struct prd_dev *pd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pd->result_len = vscnprintf(pd->result, PRD_RESULT_SIZE - 1, fmt, ap);
	va_end(ap);
	pd->result[pd->result_len++] = '\n';
	return 0;
}

static const char *prd_errname(int ret)
{
	switch (ret) {
	case -ENODEV:
		return "the device is gone";
	case -ETIMEDOUT:
		return "no completion interrupt";
	case -EIO:
		return "the engine reported an error";
	case -ENOMEM:
		return "out of memory";
	default:
		return "failed";
	}
}

/* Bytes of @b outside its mapping still hold @fill. */
static bool prd_guard_intact(const struct prd_buf *b, size_t size, u8 fill)
{
	return !memchr_inv(b->cpu, fill, b->off) &&
	       !memchr_inv(b->cpu + b->off + b->len, fill,
			   size + 2 * PRD_GUARD - b->off - b->len);
}

/* One COPY or FILL of @size bytes at random offsets, checked. */
static int prd_check_one(struct prd_dev *pd, struct prd_buf *src,
			 struct prd_buf *dst, u32 op, u32 size,
			 const char **why, u32 *error)
{
	size_t soff = get_random_u32() % PRD_GUARD;
	size_t doff = PRD_GUARD + get_random_u32() % PRD_GUARD;
	u64 pattern = get_random_u64();
	struct prd_xfer x = { .op = op, .len = size, .src = pattern };
	u32 i;
	int ret;

	*why = NULL;
	get_random_bytes(src->cpu + soff, size);
	memset(dst->cpu, 0x5a, size + 2 * PRD_GUARD);
	if (op == RTL_DMA_OP_COPY) {
		ret = prd_buf_map(pd, src, soff, size, DMA_TO_DEVICE);
		if (ret)
			return ret;
		x.src = src->bus;
	}
	ret = prd_buf_map(pd, dst, doff, size, DMA_FROM_DEVICE);
	if (ret)
		goto out;
	x.dst = dst->bus;
	ret = prd_run(pd, &x, 1, error);
	prd_buf_unmap(pd, dst);
	if (ret)
		goto out;
	if (op == RTL_DMA_OP_COPY) {
		if (memcmp(dst->cpu + doff, src->cpu + soff, size))
			*why = "the copy differs from its source";
	} else {
		for (i = 0; i < size && !*why; i++)
			if (dst->cpu[doff + i] != (u8)(pattern >> (8 * (i % 8))))
				*why = "the fill differs from its pattern";
	}
	if (!*why && !prd_guard_intact(dst, size, 0x5a))
		*why = "bytes around the destination changed";
out:
	prd_buf_unmap(pd, src);
	return ret;
}

static int prd_alloc_pair(struct prd_buf *a, struct prd_buf *b, size_t size)
{
	a->cpu = kmalloc(size + 2 * PRD_GUARD, GFP_KERNEL);
	b->cpu = kmalloc(size + 2 * PRD_GUARD, GFP_KERNEL);
	if (a->cpu && b->cpu)
		return 0;
	kfree(a->cpu);
	kfree(b->cpu);
	return -ENOMEM;
}

static int prd_test_xfers(struct prd_dev *pd, const char *name, u32 op,
			  u32 size, u32 count)
{
	struct prd_buf src = {}, dst = {};
	int done0 = atomic_read(&pd->irqs[RTL_DMA_VEC_DONE]);
	const char *why = NULL;
	u32 error = 0, i;
	int ret;

	if (!size || size > PRD_MAX_SIZE || !count)
		return -EINVAL;
	if (prd_alloc_pair(&src, &dst, size))
		return -ENOMEM;
	for (i = 0, ret = 0; i < count && !ret && !why; i++)
		ret = prd_check_one(pd, &src, &dst, op, size, &why, &error);
	kfree(src.cpu);
	kfree(dst.cpu);
	if (ret)
		return prd_say(pd, "FAIL %s %u: %s (error %#x) at %u of %u", name,
			       size, prd_errname(ret), error, i, count);
	if (why)
		return prd_say(pd, "FAIL %s %u: %s at %u of %u", name, size, why,
			       i, count);
	return prd_say(pd, "PASS %s %u x%u irqs %d", name, size, count,
		       atomic_read(&pd->irqs[RTL_DMA_VEC_DONE]) - done0);
}

/* N copies in one submission: one interrupt, every one checked. */
static int prd_test_batch(struct prd_dev *pd, u32 n, u32 size)
{
	int done0 = atomic_read(&pd->irqs[RTL_DMA_VEC_DONE]);
	struct prd_buf src = {}, dst = {};
	struct prd_xfer *x;
	u32 error = 0, i;
	size_t total;
	int ret;

	if (!n || n >= PRD_RING_SIZE || !size || (u64)n * size > PRD_MAX_SIZE)
		return -EINVAL;
	total = (size_t)n * size;
	x = kcalloc(n, sizeof(*x), GFP_KERNEL);
	if (!x)
		return -ENOMEM;
	ret = prd_alloc_pair(&src, &dst, total);
	if (ret)
		goto out;
	get_random_bytes(src.cpu, total);
	memset(dst.cpu, 0x5a, total + 2 * PRD_GUARD);
	ret = prd_buf_map(pd, &src, 0, total, DMA_TO_DEVICE);
	if (!ret)
		ret = prd_buf_map(pd, &dst, PRD_GUARD, total, DMA_FROM_DEVICE);
	if (ret)
		goto unmap;
	/* Back to front, so the engine's order shows in nothing but STATUS. */
	for (i = 0; i < n; i++) {
		x[i].op = RTL_DMA_OP_COPY;
		x[i].len = size;
		x[i].src = src.bus + (size_t)(n - 1 - i) * size;
		x[i].dst = dst.bus + (size_t)(n - 1 - i) * size;
	}
	ret = prd_run(pd, x, n, &error);
unmap:
	prd_buf_unmap(pd, &src);
	prd_buf_unmap(pd, &dst);
	if (ret)
		prd_say(pd, "FAIL batch %u: %s (error %#x)", n, prd_errname(ret), error);
	else if (memcmp(dst.cpu + PRD_GUARD, src.cpu, total) ||
		 !prd_guard_intact(&dst, total, 0x5a))
		prd_say(pd, "FAIL batch %u: the copies differ", n);
	else if (atomic_read(&pd->irqs[RTL_DMA_VEC_DONE]) - done0 != 1)
		prd_say(pd, "FAIL batch %u: %d interrupts, want 1", n,
			atomic_read(&pd->irqs[RTL_DMA_VEC_DONE]) - done0);
	else
		prd_say(pd, "PASS batch %u x%u irqs 1", n, size);
	kfree(src.cpu);
	kfree(dst.cpu);
out:
	kfree(x);
	return ret == -ENOMEM ? ret : 0;
}

/* The sanitizer refuses a write into a TO_DEVICE mapping; the engine halts. */
static int prd_test_fault(struct prd_dev *pd)
{
	int err0 = atomic_read(&pd->irqs[RTL_DMA_VEC_ERROR]);
	struct prd_buf src = {}, dst = {};
	struct prd_xfer x = { .op = RTL_DMA_OP_FILL, .len = 4096, .src = ~0ull };
	const char *why = NULL;
	u32 error = 0;
	int ret;

	if (prd_alloc_pair(&src, &dst, 4096))
		return -ENOMEM;
	memset(dst.cpu, 0x5a, 4096 + 2 * PRD_GUARD);
	ret = prd_buf_map(pd, &dst, PRD_GUARD, 4096, DMA_TO_DEVICE);
	if (ret)
		goto out;
	x.dst = dst.bus;
	ret = prd_run(pd, &x, 1, &error);
	prd_buf_unmap(pd, &dst);
	if (ret != -EIO || error != RTL_DMA_E_DST)
		why = "the engine did not report RTL_DMA_E_DST";
	else if (atomic_read(&pd->irqs[RTL_DMA_VEC_ERROR]) - err0 != 1)
		why = "no error interrupt";
	else if (memchr_inv(dst.cpu, 0x5a, 4096 + 2 * PRD_GUARD))
		why = "the refused write changed memory";
	else if (prd_check_one(pd, &src, &dst, RTL_DMA_OP_COPY, 4096, &why, &error))
		why = "no copy after the reset";
out:
	kfree(src.cpu);
	kfree(dst.cpu);
	if (ret == -ENODEV || ret == -ENOMEM)
		return prd_say(pd, "FAIL fault: %s", prd_errname(ret));
	if (why)
		return prd_say(pd, "FAIL fault: %s (%d, error %#x)", why, ret, error);
	return prd_say(pd, "PASS fault E_DST refused, error irq, recovered");
}

static int prd_bench_reads(struct prd_dev *pd, u32 n)
{
	ktime_t t0;
	u64 ns;
	u32 i, bad = 0;

	if (!n)
		return -EINVAL;
	t0 = ktime_get();
	for (i = 0; i < n; i++)
		bad += readl(pd->regs + RTL_DMA_ID) != RTL_DMA_ID_VALUE;
	ns = ktime_to_ns(ktime_sub(ktime_get(), t0));
	return prd_say(pd, "reads %u ns %llu ns_per_read %llu bad %u", n, ns,
		       div_u64(ns, n), bad);
}

static int prd_bench_bandwidth(struct prd_dev *pd, u32 size, u32 n)
{
	struct prd_buf src = {}, dst = {};
	struct prd_xfer x = { .op = RTL_DMA_OP_COPY, .len = size };
	u32 error = 0, c0, c1, i;
	ktime_t t0;
	int ret;
	u64 ns;

	if (!size || size > PRD_MAX_SIZE || !n)
		return -EINVAL;
	if (prd_alloc_pair(&src, &dst, size))
		return -ENOMEM;
	get_random_bytes(src.cpu, size);
	ret = prd_buf_map(pd, &src, 0, size, DMA_TO_DEVICE);
	if (!ret)
		ret = prd_buf_map(pd, &dst, 0, size, DMA_FROM_DEVICE);
	if (ret)
		goto out;
	x.src = src.bus;
	x.dst = dst.bus;
	c0 = readl(pd->regs + RTL_DMA_CYCLES);
	t0 = ktime_get();
	for (i = 0; i < n && !ret; i++)
		ret = prd_run(pd, &x, 1, &error);
	ns = ktime_to_ns(ktime_sub(ktime_get(), t0));
	c1 = readl(pd->regs + RTL_DMA_CYCLES);
out:
	prd_buf_unmap(pd, &src);
	prd_buf_unmap(pd, &dst);
	if (!ret && memcmp(src.cpu, dst.cpu, size))
		ret = -EIO;
	kfree(src.cpu);
	kfree(dst.cpu);
	if (ret)
		return prd_say(pd, "FAIL bandwidth %u: %s", size, prd_errname(ret));
	return prd_say(pd, "bandwidth %u x%u ns %llu kBps %llu cycles %u", size,
		       n, ns, div64_u64((u64)size * n * 1000000ull, ns ?: 1),
		       c1 - c0);
}

/* ID and SCRATCH through the register path, then one copy and one fill. */
int prd_selftest(struct prd_dev *pd)
{
	static const u32 patterns[] = { 0, ~0u, 0xa5a5a5a5, 0x5a5a5a5a, 0x01234567 };
	struct prd_buf src = {}, dst = {};
	const char *why = NULL;
	u32 id, got, error = 0;
	int i, ret;

	id = readl(pd->regs + RTL_DMA_ID);
	if (id != RTL_DMA_ID_VALUE)
		return prd_say(pd, "FAIL selftest: ID is %#x", id), -ENODEV;
	for (i = 0; i < ARRAY_SIZE(patterns) + 32; i++) {
		u32 want = i < ARRAY_SIZE(patterns) ? patterns[i] :
			   BIT(i - ARRAY_SIZE(patterns));

		writel(want, pd->regs + RTL_DMA_SCRATCH);
		got = readl(pd->regs + RTL_DMA_SCRATCH);
		if (got != want)
			return prd_say(pd, "FAIL selftest: SCRATCH reads %#x after %#x",
				       got, want), -EIO;
	}
	if (prd_alloc_pair(&src, &dst, 4096))
		return -ENOMEM;
	ret = prd_check_one(pd, &src, &dst, RTL_DMA_OP_COPY, 4096, &why, &error);
	if (!ret && !why)
		ret = prd_check_one(pd, &src, &dst, RTL_DMA_OP_FILL, 4096, &why, &error);
	kfree(src.cpu);
	kfree(dst.cpu);
	if (ret)
		return prd_say(pd, "FAIL selftest: %s (error %#x)", prd_errname(ret),
			       error), ret;
	if (why)
		return prd_say(pd, "FAIL selftest: %s", why), -EIO;
	return prd_say(pd, "PASS selftest");
}

int prd_command(struct prd_dev *pd, char *cmd)
{
	char name[16];
	u32 a = 0, b = 0;
	int n;

	n = sscanf(cmd, "%15s %u %u", name, &a, &b);
	if (n < 1)
		return -EINVAL;
	if (!strcmp(name, "selftest"))
		return prd_selftest(pd) == -ENOMEM ? -ENOMEM : 0;
	if (!strcmp(name, "copy") && n == 3)
		return prd_test_xfers(pd, "copy", RTL_DMA_OP_COPY, a, b);
	if (!strcmp(name, "fill") && n == 3)
		return prd_test_xfers(pd, "fill", RTL_DMA_OP_FILL, a, b);
	if (!strcmp(name, "batch") && n == 3)
		return prd_test_batch(pd, a, b);
	if (!strcmp(name, "fault"))
		return prd_test_fault(pd);
	if (!strcmp(name, "reads") && n == 2)
		return prd_bench_reads(pd, a);
	if (!strcmp(name, "cycles"))
		return prd_say(pd, "cycles %u", readl(pd->regs + RTL_DMA_CYCLES));
	if (!strcmp(name, "bandwidth") && n == 3)
		return prd_bench_bandwidth(pd, a, b);
	return -EINVAL;
}
