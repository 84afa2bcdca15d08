// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Device-side DMA: PCIEM_IOC_DMA, checked against the driver's mappings.
 *
 * Every access is checked before a byte moves (the DMA sanitizer): Bus
 * Master Enable, a live mapping holding every byte, the mapping's
 * direction, and for atomics natural alignment and a bidirectional
 * mapping. Mappings are separated by guard pages in bus address space,
 * so a valid access always lies within one mapping. A refused access
 * touches nothing, is reported to the model in the transfer's `fault`,
 * and logged (rate-limited) with the nearest mapping, where it was made
 * and, if it is gone, where it was unmapped.
 *
 * Bytes move between the mapping and the model's buffer a chunk at a
 * time; an unmap waits for a copy under way in its mapping, so nothing is
 * ever written into memory after the driver unmapped it. Usually straight
 * (page faults disabled: the model's buffer is resident); a chunk whose
 * user pages are not goes again through a bounce buffer, filled or
 * drained outside the lock and copied into the mapping under it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/dma-direction.h>
#include <linux/ratelimit.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "pciem.h"
#include "pciem_trace.h"
#include "rules/pciem_dma_rules.h"

#define DMA_CHUNK	SZ_64K
#define DMA_SMALL	256	/* transfers up to this size bounce on the stack */
#define DMA_MAX_BATCH	256

static const char *const fault_names[] = {
	[PCIEM_DMA_F_BUS_MASTER] = "bus mastering is disabled",
	[PCIEM_DMA_F_UNMAPPED] = "no mapping there",
	[PCIEM_DMA_F_STALE] = "the mapping was unmapped",
	[PCIEM_DMA_F_BOUNDS] = "past the bounds of the mapping",
	[PCIEM_DMA_F_DIRECTION] = "against the mapping's direction",
	[PCIEM_DMA_F_ALIGNMENT] = "misaligned or not 4/8 bytes",
	[PCIEM_DMA_F_INJECTED] = "refused by an injected fault",
};

static const char *const op_names[] = {
	[PCIEM_DMA_READ] = "read", [PCIEM_DMA_WRITE] = "write",
	[PCIEM_DMA_FETCH_ADD] = "fetch-add", [PCIEM_DMA_SWAP] = "swap",
	[PCIEM_DMA_CAS] = "compare-and-swap",
};

/* What a refusal reports about the mapping it concerns. */
struct culprit {
	bool valid, retired;
	struct pciem_dma_map map;	/* a copy: the original may go */
};

/*
 * Check [addr, addr + len) for @op: the table's lookups here, the verdict
 * from the rules every host shares (rules/pciem_dma_rules.c). Lock held.
 * Returns the mapping, or NULL with *@fault and *@at set and @c
 * describing the nearest mapping.
 */
static struct pciem_dma_map *check(struct pciem_function *fn, u32 op,
				   u64 addr, u64 len, u32 *fault, u64 *at,
				   struct culprit *c)
{
	struct pciem_dma *dma = &fn->dma;
	struct pciem_dma_found f = { .bus_master = READ_ONCE(dma->bus_master) };
	struct pciem_dma_map *m = NULL, *near = NULL;

	BUILD_BUG_ON((int)DMA_BIDIRECTIONAL != (int)PCIEM_DMA_RULES_BIDIRECTIONAL ||
		     (int)DMA_TO_DEVICE != (int)PCIEM_DMA_RULES_TO_DEVICE ||
		     (int)DMA_FROM_DEVICE != (int)PCIEM_DMA_RULES_FROM_DEVICE);
	if (f.bus_master) {
		m = pciem_dma_find(dma, addr);
		if (m) {
			f.live = true;
			f.iova = m->iova;
			f.len = m->len;
			f.dir = m->dir;
			f.dying = m->dying;
		} else {
			near = pciem_dma_find_span(dma, addr);
			f.in_span = near;
			if (!near) {
				near = pciem_dma_find_retired(dma, addr);
				f.retired = near;
				c->retired = f.retired;
				if (!near)
					near = pciem_dma_find_near(dma, addr);
			}
		}
	}
	*fault = pciem_dma_judge(&f, op, addr, len, at);
	if (*fault == PCIEM_DMA_OK)
		return m;
	if (m) {
		/* a dying one is being unmapped: reported as retired */
		c->valid = true;
		c->retired = m->dying;
		c->map = *m;
	} else if (near) {
		c->valid = true;
		c->map = *near;
	}
	return NULL;
}

static void log_fault(struct pciem_function *fn, const struct pciem_dma_xfer *x,
		      u32 fault, u64 at, const struct culprit *c)
{
	static DEFINE_RATELIMIT_STATE(rs, 5 * HZ, 20);
	char made[160], gone[160];

	atomic64_inc(&fn->dma.faults);
	if (!__ratelimit(&rs))
		return;
	if (!c->valid) {
		pr_warn("%s: DMA %s of %u bytes at %#llx refused: %s at %#llx (no mapping nearby)\n",
			fn->name, op_names[x->op], x->len, x->addr, fault_names[fault], at);
		return;
	}
	pciem_dma_print_trace(made, sizeof(made), c->map.map_trace);
	if (c->retired)
		pciem_dma_print_trace(gone, sizeof(gone), c->map.unmap_trace);
	pr_warn("%s: DMA %s of %u bytes at %#llx refused: %s at %#llx; %s mapping %#llx+%llu %s %s, mapped by %s%s%s\n",
		fn->name, op_names[x->op], x->len, x->addr, fault_names[fault], at,
		c->retired ? "unmapped" : "nearest", c->map.iova, c->map.len,
		pciem_dma_dir_name(c->map.dir), pciem_dma_kind_name(c->map.kind), made,
		c->retired ? ", unmapped by " : "", c->retired ? gone : "");
}

/**
 * pciem_dma_report() - the sanitizer's verdict on one byte a device reached
 *	outside PCIEM_IOC_DMA (a device server in its window), logged
 * @fn:		function
 * @op:		PCIEM_DMA_READ or PCIEM_DMA_WRITE
 * @addr:	bus address
 *
 * Return: the fault, PCIEM_DMA_OK when the table allows the byte (the
 * refusal was for its page).
 */
u32 pciem_dma_report(struct pciem_function *fn, u32 op, u64 addr)
{
	struct pciem_dma_xfer x = { .op = op, .len = 1, .addr = addr };
	struct culprit c = {};
	unsigned long flags;
	u32 fault;
	u64 at;

	spin_lock_irqsave(&fn->dma.lock, flags);
	check(fn, op, addr, 1, &fault, &at, &c);
	spin_unlock_irqrestore(&fn->dma.lock, flags);
	if (fault != PCIEM_DMA_OK)
		log_fault(fn, &x, fault, at, &c);
	return fault;
}

/* An atomic on naturally aligned host memory, as a locked instruction. */
static u64 do_atomic(void *p, const struct pciem_dma_xfer *x)
{
	if (x->len == 8) {
		atomic64_t *v = p;

		switch (x->op) {
		case PCIEM_DMA_FETCH_ADD:
			return atomic64_fetch_add(x->operand, v);
		case PCIEM_DMA_SWAP:
			return atomic64_xchg(v, x->operand);
		default:
			return atomic64_cmpxchg(v, x->compare, x->operand);
		}
	} else {
		atomic_t *v = p;

		switch (x->op) {
		case PCIEM_DMA_FETCH_ADD:
			return (u32)atomic_fetch_add((u32)x->operand, v);
		case PCIEM_DMA_SWAP:
			return (u32)atomic_xchg(v, (u32)x->operand);
		default:
			return (u32)atomic_cmpxchg(v, (u32)x->compare, (u32)x->operand);
		}
	}
}

/*
 * Move @len bytes at @addr between host memory and @bounce under the
 * lock, after checking them. Returns 0 or a fault.
 */
static u32 move_locked(struct pciem_function *fn, struct pciem_dma_xfer *x,
		       u64 addr, void *bounce, size_t len, struct culprit *c)
{
	struct pciem_dma_map *m;
	unsigned long flags;
	u32 fault = 0;
	u64 at;

	spin_lock_irqsave(&fn->dma.lock, flags);
	m = check(fn, x->op, addr, len, &fault, &at, c);
	if (m && x->op == PCIEM_DMA_READ)
		memcpy(bounce, m->kaddr + (addr - m->iova), len);
	else if (m && x->op == PCIEM_DMA_WRITE)
		memcpy(m->kaddr + (addr - m->iova), bounce, len);
	else if (m)
		x->result = do_atomic(m->kaddr + (addr - m->iova), x);
	spin_unlock_irqrestore(&fn->dma.lock, flags);
	if (fault)
		x->fault_addr = at;
	return fault;
}

/*
 * Move @len bytes at @addr straight between the mapping and the model's
 * buffer @ubuf, page faults disabled. Returns false when a page of @ubuf
 * was not present: the caller moves the chunk again through the bounce
 * buffer (what moved already is simply moved again).
 *
 * The copy holds the mapping, not the table: checked under the lock, the
 * mapping is marked as being copied, and the lock is dropped for the
 * copy, so the driver's other maps and unmaps (the submitting CPU's,
 * for the next I/Os) do not spin behind a 64 KiB copy. An unmap of this
 * very mapping waits for the copy to end; interrupts stay off on this
 * CPU meanwhile, so no handler here can be that unmap.
 *
 * The raw copies skip hardened usercopy's object checks on purpose: the
 * kernel side is driver memory (any slab cache, whitelisted or not) and
 * was just checked against the driver's mapping; @ubuf passed access_ok().
 */
static bool move_user(struct pciem_function *fn, struct pciem_dma_xfer *x,
		      u64 addr, void __user *ubuf, size_t len,
		      struct culprit *c)
{
	struct pciem_dma_map *m;
	unsigned long flags, left = 0;
	u32 fault = 0;
	u64 at;

	spin_lock_irqsave(&fn->dma.lock, flags);
	m = check(fn, x->op, addr, len, &fault, &at, c);
	if (m)
		atomic_inc(&m->copying);
	spin_unlock(&fn->dma.lock);
	if (m) {
		void *k = m->kaddr + (addr - m->iova);

		pagefault_disable();
		if (x->op == PCIEM_DMA_READ)
			left = raw_copy_to_user(ubuf, k, len);
		else
			left = raw_copy_from_user(k, ubuf, len);
		pagefault_enable();
		/* The bytes land before the unmap that waits sees zero. */
		atomic_dec_return_release(&m->copying);
	}
	local_irq_restore(flags);
	x->fault = fault;
	if (fault)
		x->fault_addr = at;
	return fault || !left;
}

/* The whole range, checked once before the first chunk moves. */
static u32 precheck(struct pciem_function *fn, struct pciem_dma_xfer *x,
		    struct culprit *c)
{
	unsigned long flags;
	u32 fault = 0;
	u64 at;

	spin_lock_irqsave(&fn->dma.lock, flags);
	if (!check(fn, x->op, x->addr, x->len, &fault, &at, c))
		x->fault_addr = at;
	spin_unlock_irqrestore(&fn->dma.lock, flags);
	return fault;
}

/*
 * The 64 KiB bounce buffer: each function keeps one for its model's loop
 * (allocating, and with init_on_alloc zeroing, 64 KiB per ioctl cost more
 * than the copy); a second thread DMAing at the same time gets its own.
 */
static void *bounce_get(struct pciem_dma *dma)
{
	void *b = xchg(&dma->bounce, NULL);

	return b ?: kmalloc(DMA_CHUNK, GFP_KERNEL);
}

static void bounce_put(struct pciem_dma *dma, void *b)
{
	if (b && cmpxchg(&dma->bounce, NULL, b))
		kfree(b);	/* one is kept already */
}

/* One transfer. Returns a negative errno for the ioctl, else 0. */
static int xfer_one(struct pciem_function *fn, struct pciem_dma_xfer *x,
		    void **big)
{
	u8 small[DMA_SMALL] __aligned(8);
	void __user *ubuf = u64_to_user_ptr(x->buf);
	struct culprit c = { 0 };
	u64 done = 0;
	size_t n;
	void *b;

	x->fault = 0;
	x->fault_addr = 0;
	x->result = 0;
	if (pciem_dma_op_is_atomic(x->op)) {
		x->fault = pciem_dma_atomic_shape(x->addr, x->len);
		if (x->fault)
			x->fault_addr = x->addr;
		else
			x->fault = move_locked(fn, x, x->addr, NULL, x->len, &c);
		goto out;
	}
	if (x->len > PCIEM_DMA_MAX_LEN)
		return -E2BIG;
	if (x->addr + x->len < x->addr) {
		x->fault = PCIEM_DMA_F_UNMAPPED;
		x->fault_addr = x->addr;
		goto out;
	}
	/*
	 * A transfer of one chunk is checked as it moves (a lock and a
	 * lookup fewer per I/O); a longer one is checked whole first, so
	 * that a refusal moves nothing. A refusal is reported before a bad
	 * buffer either way.
	 */
	if (x->len > DMA_CHUNK || !x->len || !access_ok(ubuf, x->len)) {
		x->fault = precheck(fn, x, &c);
		if (x->fault || !x->len)
			goto out;
		if (!access_ok(ubuf, x->len))
			return -EFAULT;
	}
	/* Straight, chunk by chunk, while the model's pages are resident. */
	while (done < x->len) {
		n = min_t(u64, x->len - done, DMA_CHUNK);
		if (!move_user(fn, x, x->addr + done, ubuf + done, n, &c))
			break;
		if (x->fault)
			goto out;
		done += n;
	}
	if (done == x->len)
		goto out;
	if (x->len <= DMA_SMALL) {
		b = small;
	} else {
		if (!*big)
			*big = bounce_get(&fn->dma);
		if (!*big)
			return -ENOMEM;
		b = *big;
	}
	while (done < x->len && !x->fault) {
		n = min_t(u64, x->len - done, DMA_CHUNK);
		if (x->op == PCIEM_DMA_WRITE &&
		    copy_from_user(b, ubuf + done, n))
			return -EFAULT;
		/* Re-checked per chunk: the driver may unmap meanwhile. */
		x->fault = move_locked(fn, x, x->addr + done, b, n, &c);
		if (!x->fault && x->op == PCIEM_DMA_READ &&
		    copy_to_user(ubuf + done, b, n))
			return -EFAULT;
		done += n;
	}
out:
	if (x->fault)
		log_fault(fn, x, x->fault, x->fault_addr, &c);
	return 0;
}

/*
 * Flip bits of the first byte a successful transfer moved: in the model's
 * buffer for a read, in host memory (a one-byte device write, checked as
 * any) for a write. The data arrives corrupted, as with a poisoned TLP
 * nobody flagged.
 */
static void poison(struct pciem_function *fn, struct pciem_dma_xfer *x,
		   u8 mask)
{
	u8 __user *u = u64_to_user_ptr(x->buf);
	struct pciem_dma_xfer one = *x;
	struct culprit c = { 0 };
	u8 b;

	if (!x->len || get_user(b, u))
		return;
	b ^= mask;
	if (x->op == PCIEM_DMA_READ)
		put_user(b, u);
	else if (x->op == PCIEM_DMA_WRITE)
		move_locked(fn, &one, x->addr, &b, 1, &c);
}

/* One transfer, as injected faults would have it; traced and recorded. */
static int xfer_injected(struct pciem_function *fn, struct pciem_dma_xfer *x,
			 void **big)
{
	bool bulk = x->op == PCIEM_DMA_READ || x->op == PCIEM_DMA_WRITE;
	u64 mask;
	int ret = 0;

	if (pciem_fault_hit(fn, PCIEM_FAULT_DMA_REFUSE, -1, x->addr, x->len,
			    NULL)) {
		x->fault = PCIEM_DMA_F_INJECTED;
		x->fault_addr = x->addr;
		x->result = 0;
	} else {
		ret = xfer_one(fn, x, big);
		if (!ret && !x->fault && bulk &&
		    pciem_fault_hit(fn, PCIEM_FAULT_DMA_POISON, -1, x->addr,
				    x->len, &mask))
			poison(fn, x, mask ?: 0xff);
	}
	if (ret)
		return ret;
	trace_pciem_dma_access(fn, x->op, x->addr, x->len, x->fault);
	pciem_record_dma(fn, x, u64_to_user_ptr(x->buf),
			 bulk && !x->fault ? x->len : 0);
	return 0;
}

/*
 * PCIEM_DMA_RAISE: the interrupt after the batch's writes, as
 * PCIEM_IOC_RAISE would send it (injected faults, recording and all).
 * Its errno goes into result and the batch goes on: the writes before it
 * are done whatever it says. The vector is taken as PCIEM_IOC_RAISE's
 * __u32, so a larger operand is no vector (-EINVAL), not a smaller one.
 */
static int raise_in_batch(struct pciem_function *fn, struct pciem_dma_xfer *x)
{
	int ret = x->operand > U32_MAX ? -EINVAL :
		  pciem_irq_raise(fn, (u32)x->operand);

	x->result = (u64)(s64)ret;
	x->fault = PCIEM_DMA_OK;
	x->fault_addr = 0;
	return 0;
}

/**
 * pciem_dma_ioctl() - PCIEM_IOC_DMA
 * @fn:		function
 * @uarg:	struct pciem_dma_req
 */
long pciem_dma_ioctl(struct pciem_function *fn, void __user *uarg)
{
	struct pciem_dma_xfer __user *ux;
	struct pciem_dma_xfer x;
	struct pciem_dma_req req;
	void *big = NULL;
	int usize, ret = 0;

	usize = pciem_copy_struct_in(&req, sizeof(req), sizeof(req), uarg);
	if (usize < 0)
		return usize;
	if (req.flags || req.reserved || !req.count ||
	    req.count > DMA_MAX_BATCH || req.xfer_size != sizeof(x))
		return -EINVAL;
	ux = u64_to_user_ptr(req.xfers_ptr);
	for (req.done = 0; req.done < req.count; req.done++) {
		if (copy_from_user(&x, &ux[req.done], sizeof(x))) {
			ret = -EFAULT;
			break;
		}
		if (!x.op || x.op > PCIEM_DMA_RAISE || x.reserved ||
		    (x.op == PCIEM_DMA_RAISE &&
		     (x.len || x.addr || x.buf || x.compare))) {
			ret = -EINVAL;
			break;
		}
		if (x.op == PCIEM_DMA_RAISE)
			ret = raise_in_batch(fn, &x);
		else
			ret = xfer_injected(fn, &x, &big);
		if (ret)
			break;
		if (copy_to_user(&ux[req.done], &x, sizeof(x))) {
			ret = -EFAULT;
			break;
		}
		if (x.fault)
			break;
	}
	bounce_put(&fn->dma, big);
	if (ret)
		return ret;
	return pciem_copy_struct_out(uarg, usize, &req, sizeof(req));
}
