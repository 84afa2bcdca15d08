// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * PCIEM_IOC_RECORD: a read-only fd streaming everything a function's
 * device side sees and answers (config, MMIO, interrupts, DMA with its
 * bytes, life and injected faults), for `pciemctl record` and
 * `pciem-replay` (docs/faults.md, record and replay).
 *
 * Producers run in any context (a trapped read in an interrupt handler),
 * so the buffer is reserved under a raw lock and records never wait: one
 * that does not fit is counted, and a PCIEM_REC_LOST record says how many
 * went before the next one that fits. A DMA record's bytes are copied
 * from the model's buffer after the reservation, outside the lock: a
 * record is written with type 0 and published by storing its type last;
 * the reader stops at one still being filled. Records never wrap: one
 * that would is preceded by padding up to the end of the buffer.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "pciem.h"

#define DEFAULT_KB	16384
#define MIN_KB		64
#define MAX_KB		(1024 * 1024)
#define REC_PAD		0xffff		/* internal: skip to the start */

/**
 * struct pciem_recorder - one recording of one function
 * @fn:		the function, referenced
 * @lock:	guards the positions and @lost; a leaf, any context
 * @buf:	the buffer, @size bytes
 * @head:	where the next record goes
 * @tail:	the oldest record not yet read
 * @used:	bytes between them (records, padding)
 * @lost:	records dropped since the last PCIEM_REC_LOST
 * @done:	the function is gone: nothing more comes
 * @read_lock:	one read() at a time
 * @wq:		the reader waits here
 * @rcu:	producers may still hold it when the fd is released
 */
struct pciem_recorder {
	struct pciem_function *fn;
	raw_spinlock_t lock;
	u8 *buf;
	size_t size;
	size_t head, tail, used;
	u64 lost;
	bool done;
	struct mutex read_lock;
	wait_queue_head_t wq;
	struct rcu_head rcu;
};

static size_t rec_len(size_t payload)
{
	return ALIGN(payload, 8);
}

/*
 * Room for a record of @len bytes at @r->head: returns where, or NULL
 * when full. Lock held. The record's type stays 0 until published.
 */
static struct pciem_rec *reserve_locked(struct pciem_recorder *r, size_t len)
{
	size_t pad = r->size - r->head < len ? r->size - r->head : 0;
	struct pciem_rec *h;

	if (r->used + pad + len > r->size)
		return NULL;
	if (pad) {
		h = (struct pciem_rec *)(r->buf + r->head);
		h->len = pad;
		/* The reader loads type with acquire: len is set before. */
		smp_store_release(&h->type, REC_PAD);
		r->head = 0;
		r->used += pad;
	}
	h = (struct pciem_rec *)(r->buf + r->head);
	WRITE_ONCE(h->type, 0);
	h->len = len;
	h->flags = 0;
	h->ns = ktime_get_ns();
	r->head = (r->head + len) % r->size;
	r->used += len;
	return h;
}

static void publish(struct pciem_recorder *r, struct pciem_rec *h, u16 type)
{
	/* Last: the reader loads type with acquire, then the payload. */
	smp_store_release(&h->type, type);
	wake_up_interruptible(&r->wq);
}

/*
 * A record of @len bytes, type set by publish(). Says first how many went
 * lost, if any did. NULL when it does not fit (counted).
 */
static struct pciem_rec *reserve(struct pciem_recorder *r, size_t len)
{
	struct pciem_rec_lost *lost = NULL;
	struct pciem_rec *h = NULL;
	unsigned long flags;

	raw_spin_lock_irqsave(&r->lock, flags);
	if (r->lost) {
		lost = (struct pciem_rec_lost *)reserve_locked(r, sizeof(*lost));
		if (lost) {
			lost->count = r->lost;
			r->lost = 0;
		}
	}
	if (!r->lost)
		h = reserve_locked(r, len);
	if (!h)
		r->lost++;
	raw_spin_unlock_irqrestore(&r->lock, flags);
	if (lost)
		publish(r, &lost->hdr, PCIEM_REC_LOST);
	return h;
}

/* The recorder of @fn, under rcu_read_lock(), or NULL. */
static struct pciem_recorder *recorder(struct pciem_function *fn)
{
	return rcu_dereference(fn->rec);
}

/* ---- producers ------------------------------------------------------------------ */

/* A fixed-size record @rec (its header's type set by the caller). */
static void put_fixed(struct pciem_function *fn, const struct pciem_rec *rec,
		      size_t len)
{
	struct pciem_recorder *r;
	struct pciem_rec *h;

	rcu_read_lock();
	r = recorder(fn);
	h = r ? reserve(r, len) : NULL;
	if (h) {
		memcpy((u8 *)h + sizeof(*h), (const u8 *)rec + sizeof(*h),
		       len - sizeof(*h));
		h->flags = rec->flags;
		publish(r, h, rec->type);
	}
	rcu_read_unlock();
}

void pciem_record_access(struct pciem_function *fn, u16 type,
			 unsigned int bar, unsigned int size, u64 off,
			 u64 val, bool model, bool abort)
{
	struct pciem_rec_access a = {
		.hdr.type = type,
		.hdr.flags = (model ? PCIEM_REC_F_MODEL : 0) |
			     (abort ? PCIEM_REC_F_ABORT : 0),
		.bar = bar, .size = size, .offset = off, .value = val,
	};

	if (likely(!rcu_access_pointer(fn->rec)))
		return;
	put_fixed(fn, &a.hdr, sizeof(a));
}

void pciem_record_irq(struct pciem_function *fn, u32 value, int result,
		      bool intx)
{
	struct pciem_rec_irq q = {
		.hdr.type = PCIEM_REC_IRQ,
		.hdr.flags = intx ? PCIEM_REC_F_INTX : 0,
		.value = value, .result = result,
	};

	if (likely(!rcu_access_pointer(fn->rec)))
		return;
	put_fixed(fn, &q.hdr, sizeof(q));
}

void pciem_record_state(struct pciem_function *fn)
{
	struct pciem_rec_state q = { .hdr.type = PCIEM_REC_STATE };

	if (likely(!rcu_access_pointer(fn->rec)))
		return;
	/* Called with the host lock held: read the state, not the API. */
	switch (READ_ONCE(fn->state)) {
	case PCIEM_FN_NEW:
		q.state = PCIEM_STATE_NOT_STARTED;
		break;
	case PCIEM_FN_ADDING:
	case PCIEM_FN_ON_BUS:
		q.state = PCIEM_STATE_PRESENT;
		break;
	case PCIEM_FN_DETACHED:
		q.state = PCIEM_STATE_DETACHED;
		break;
	case PCIEM_FN_PULLED:
		q.state = PCIEM_STATE_PULLED;
		break;
	default:
		q.state = PCIEM_STATE_REMOVING;
	}
	put_fixed(fn, &q.hdr, sizeof(q));
}

void pciem_record_fault(struct pciem_function *fn, unsigned int fault, u32 id,
			u64 detail)
{
	struct pciem_rec_fault q = {
		.hdr.type = PCIEM_REC_FAULT,
		.fault = fault, .id = id, .detail = detail,
	};

	if (likely(!rcu_access_pointer(fn->rec)))
		return;
	put_fixed(fn, &q.hdr, sizeof(q));
}

/**
 * pciem_record_dma() - a transfer of the model, with the bytes it moved
 * @fn:		function
 * @x:		the transfer, done (fault and result filled in)
 * @data:	the model's buffer
 * @data_len:	bytes of it that moved (0 for atomics and refusals)
 *
 * Process context (PCIEM_IOC_DMA). At most a quarter of the buffer of
 * data is kept per record; PCIEM_REC_F_TRUNCATED says when less than all.
 */
void pciem_record_dma(struct pciem_function *fn,
		      const struct pciem_dma_xfer *x, const void __user *data,
		      u64 data_len)
{
	struct pciem_recorder *r;
	struct pciem_rec_dma *d;
	u64 keep;

	if (likely(!rcu_access_pointer(fn->rec)))
		return;
	rcu_read_lock();
	r = recorder(fn);
	if (!r) {
		rcu_read_unlock();
		return;
	}
	keep = min_t(u64, data_len, r->size / 4);
	d = (struct pciem_rec_dma *)reserve(r, rec_len(sizeof(*d) + keep));
	if (d) {
		d->op = x->op;
		d->fault = x->fault;
		d->addr = x->addr;
		d->len = x->len;
		d->result = x->result;
		d->operand = x->operand;
		d->compare = x->compare;
		d->data_len = keep;
		/* The model's pages are resident: it just moved them. */
		pagefault_disable();
		if (__copy_from_user_inatomic(d + 1, data, keep))
			d->data_len = 0;
		pagefault_enable();
		if (d->data_len < data_len)
			d->hdr.flags |= PCIEM_REC_F_TRUNCATED;
		publish(r, &d->hdr, PCIEM_REC_DMA);
	}
	rcu_read_unlock();
}

/* ---- the request that made the function ------------------------------------------- */

/**
 * pciem_record_keep_create() - keep the creation request for recordings
 * @fn:		the new function
 * @req:	its request, copied in
 * @caps:	its capability records and bodies, copied in
 * @ncaps:	how many
 *
 * Return: 0 or -ENOMEM.
 */
int pciem_record_keep_create(struct pciem_function *fn,
			     const struct pciem_create *req,
			     const struct pciem_cfg_cap_in *caps,
			     unsigned int ncaps)
{
	size_t len = sizeof(struct pciem_rec) + sizeof(*req) +
		     ncaps * sizeof(struct pciem_cap);
	struct pciem_create *c;
	struct pciem_cap *cap;
	struct pciem_rec *h;
	unsigned int i;
	u8 *p;

	for (i = 0; i < ncaps; i++)
		if (caps[i].body)
			len += caps[i].cap->body.len;
	len = rec_len(len);
	h = kvzalloc(len, GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	h->type = PCIEM_REC_CREATE;
	h->len = len;
	c = (struct pciem_create *)(h + 1);
	*c = *req;
	c->size = sizeof(*c);
	c->caps_ptr = 0;
	c->caps_len = ncaps * sizeof(struct pciem_cap);
	memset(&c->error, 0, sizeof(c->error));
	cap = (struct pciem_cap *)(c + 1);
	p = (u8 *)(cap + ncaps);
	for (i = 0; i < ncaps; i++) {
		cap[i] = *caps[i].cap;
		cap[i].size = sizeof(*cap);
		if (caps[i].body) {
			cap[i].body.data_ptr = 0;
			memcpy(p, caps[i].body, cap[i].body.len);
			p += cap[i].body.len;
		}
	}
	fn->create_rec = h;
	fn->create_rec_len = len;
	return 0;
}

/* ---- the recording fd ----------------------------------------------------------------- */

static void recorder_free_rcu(struct rcu_head *rcu)
{
	struct pciem_recorder *r = container_of(rcu, struct pciem_recorder,
						rcu);

	vfree(r->buf);
	pciem_function_put(r->fn);
	kfree(r);
}

static int record_release(struct inode *inode, struct file *file)
{
	struct pciem_recorder *r = file->private_data;

	/* Producers see no recorder from here; those inside finish first. */
	cmpxchg((struct pciem_recorder __force **)&r->fn->rec, r, NULL);
	call_rcu(&r->rcu, recorder_free_rcu);
	return 0;
}

/* The function is gone: nothing more comes; the reader drains and ends. */
void pciem_record_stop(struct pciem_function *fn)
{
	struct pciem_recorder *r;

	rcu_read_lock();
	r = recorder(fn);
	if (r) {
		WRITE_ONCE(r->done, true);
		wake_up_interruptible(&r->wq);
	}
	rcu_read_unlock();
}

/* Is the oldest record (past any padding) published? Any context. */
static bool ready(struct pciem_recorder *r)
{
	struct pciem_rec *h;
	unsigned long flags;
	bool ok = false;

	raw_spin_lock_irqsave(&r->lock, flags);
	if (r->used) {
		h = (struct pciem_rec *)(r->buf + r->tail);
		/* Pairs with publish(): a published record is complete. */
		if (smp_load_acquire(&h->type) == REC_PAD && r->used > h->len)
			h = (struct pciem_rec *)r->buf;
		ok = READ_ONCE(h->type) && READ_ONCE(h->type) != REC_PAD;
	}
	raw_spin_unlock_irqrestore(&r->lock, flags);
	return ok;
}

/* The oldest record, if it is published; skips padding. Reader only. */
static struct pciem_rec *oldest(struct pciem_recorder *r)
{
	struct pciem_rec *h;
	unsigned long flags;
	u16 type;

	for (;;) {
		raw_spin_lock_irqsave(&r->lock, flags);
		h = r->used ? (struct pciem_rec *)(r->buf + r->tail) : NULL;
		raw_spin_unlock_irqrestore(&r->lock, flags);
		if (!h)
			return NULL;
		/* Pairs with publish(): a published record is complete. */
		type = smp_load_acquire(&h->type);
		if (type != REC_PAD)
			return type ? h : NULL;
		raw_spin_lock_irqsave(&r->lock, flags);
		r->used -= h->len;
		r->tail = 0;
		raw_spin_unlock_irqrestore(&r->lock, flags);
	}
}

static void consume(struct pciem_recorder *r, struct pciem_rec *h)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&r->lock, flags);
	r->used -= h->len;
	r->tail = (r->tail + h->len) % r->size;
	raw_spin_unlock_irqrestore(&r->lock, flags);
}

static ssize_t record_read(struct file *file, char __user *ubuf, size_t len,
			   loff_t *ppos)
{
	struct pciem_recorder *r = file->private_data;
	struct pciem_rec *h;
	size_t done = 0;
	int ret;

	if (mutex_lock_interruptible(&r->read_lock))
		return -ERESTARTSYS;
	for (;;) {
		while (done < len && (h = oldest(r))) {
			if (h->len > len - done)
				break;
			if (copy_to_user(ubuf + done, h, h->len)) {
				mutex_unlock(&r->read_lock);
				return done ?: -EFAULT;
			}
			done += h->len;
			consume(r, h);
		}
		if (done || !len)
			break;
		h = oldest(r);
		if (h && h->len > len) {
			/* The next record does not fit at all. */
			mutex_unlock(&r->read_lock);
			return -EINVAL;
		}
		/* Published since the loop above found none: copy it. */
		if (h)
			continue;
		if (READ_ONCE(r->done))
			break;
		if (file->f_flags & O_NONBLOCK) {
			mutex_unlock(&r->read_lock);
			return -EAGAIN;
		}
		ret = wait_event_interruptible(r->wq, ready(r) ||
					       READ_ONCE(r->done));
		if (ret) {
			mutex_unlock(&r->read_lock);
			return ret;
		}
	}
	mutex_unlock(&r->read_lock);
	return done;
}

static __poll_t record_poll(struct file *file, poll_table *wait)
{
	struct pciem_recorder *r = file->private_data;

	poll_wait(file, &r->wq, wait);
	if (ready(r))
		return EPOLLIN | EPOLLRDNORM;
	return READ_ONCE(r->done) ? EPOLLHUP : 0;
}

static const struct file_operations record_fops = {
	.owner = THIS_MODULE,
	.release = record_release,
	.read = record_read,
	.poll = record_poll,
	.llseek = noop_llseek,
};

/**
 * pciem_ioctl_record() - PCIEM_IOC_RECORD
 * @host:	host bridge
 * @uarg:	struct pciem_record_req
 *
 * Return: the recording fd, or -EINVAL, -ENODEV (no such function),
 * -EBUSY (it has a recorder), -ENOMEM.
 */
long pciem_ioctl_record(struct pciem_host *host, void __user *uarg)
{
	struct pciem_record_req q;
	struct pciem_recorder *r;
	struct pciem_rec *h;
	struct file *file;
	int usize, fd;
	u32 kb;

	usize = pciem_copy_struct_in(&q, sizeof(q), sizeof(q), uarg);
	if (usize < 0)
		return usize;
	kb = q.buffer_kb ?: DEFAULT_KB;
	if (q.flags || q.reserved || q.reserved2 || kb < MIN_KB || kb > MAX_KB)
		return -EINVAL;
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r->size = (size_t)kb << 10;
	/*
	 * The size is the caller's (up to 1 GiB): more than the machine has
	 * is an ENOMEM for the caller, not an allocation-failure splat in
	 * the kernel log (found by tests/fuzz/abi), and NORETRY, as for RAM
	 * BARs and DMA windows (pciem_rambar.c): not the OOM killer ending
	 * other tasks first (the fuzzer's 1 GiB request on a 1 GiB guest
	 * killed the guest suite).
	 */
	r->buf = __vmalloc(r->size, GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY);
	r->fn = pciem_function_lookup(host, q.domain, q.bus, q.devfn);
	if (!r->buf || !r->fn) {
		fd = r->fn ? -ENOMEM : -ENODEV;
		goto err;
	}
	raw_spin_lock_init(&r->lock);
	mutex_init(&r->read_lock);
	init_waitqueue_head(&r->wq);
	/* First the request that made it, so a replay can make it again. */
	if (r->fn->create_rec_len > r->size / 2) {
		fd = -ENOMEM;
		goto err;
	}
	h = reserve_locked(r, r->fn->create_rec_len);
	memcpy((u8 *)h + sizeof(*h), (u8 *)r->fn->create_rec + sizeof(*h),
	       h->len - sizeof(*h));
	h->type = PCIEM_REC_CREATE;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		goto err;
	file = anon_inode_getfile("[pciem-record]", &record_fops, r, O_RDONLY);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		fd = PTR_ERR(file);
		goto err;
	}
	if (cmpxchg((struct pciem_recorder __force **)&r->fn->rec, NULL, r)) {
		/* The file owns the recorder now: its release frees it. */
		fput(file);
		put_unused_fd(fd);
		return -EBUSY;
	}
	pciem_record_state(r->fn);
	if (READ_ONCE(r->fn->state) == PCIEM_FN_GONE)
		pciem_record_stop(r->fn);
	fd_install(fd, file);
	return fd;
err:
	if (r->fn)
		pciem_function_put(r->fn);
	vfree(r->buf);
	kfree(r);
	return fd;
}
