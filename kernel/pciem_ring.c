// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The request ring between pciem.ko and a device model in userspace.
 *
 * Trapped accesses become slots in a ring the model maps from its device
 * fd. One producer lock orders them: the model handles slots strictly in
 * order, so a read is answered only after every write posted before it,
 * which is exactly the PCI ordering rule a driver relies on (a read
 * flushes posted writes). Writes are posted: the fault returns as soon as
 * the slot is published. Reads wait for the model's answer in the slot:
 * spinning first (the fault may be in an interrupt handler), then, where
 * the faulting context may sleep, sleeping until the model's
 * PCIEM_IOC_WAKE. Nothing is ever dropped silently: a full ring makes the
 * producer wait, and a model that does not answer in time turns the read
 * into all-ones with a counter and a log line, as a completion timeout
 * would on hardware.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/poll.h>
#include <linux/sched/clock.h>
#include <linux/sched/stat.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <linux/vmalloc.h>

#include "pciem.h"
#include "pciem_trace.h"

#define DEFAULT_READ_TIMEOUT_NS	(1000ull * NSEC_PER_MSEC)
#define DEFAULT_SPIN_NS		(100ull * NSEC_PER_USEC)
#define MAX_READ_TIMEOUT_US	(10u * USEC_PER_SEC)
/* Stands for config space in log lines. */
#define PCIEM_CFG_BAR		0xff

static void stat_inc(u64 *counter)
{
	WRITE_ONCE(*counter, READ_ONCE(*counter) + 1);
}

int pciem_ring_init(struct pciem_ring *ring)
{
	size_t slots = PCIEM_RING_ENTRIES * sizeof(struct pciem_req);

	ring->size = PAGE_SIZE + PAGE_ALIGN(slots);
	ring->hdr = vmalloc_user(ring->size);
	ring->shadow = vmalloc_user(PCIEM_SHADOW_AREA);
	ring->busy = bitmap_zalloc(PCIEM_RING_ENTRIES, GFP_KERNEL);
	if (!ring->hdr || !ring->shadow || !ring->busy) {
		pciem_ring_free(ring);
		return -ENOMEM;
	}
	ring->slots = (void *)ring->hdr + PAGE_SIZE;
	ring->hdr->magic = PCIEM_RING_MAGIC;
	ring->hdr->version = PCIEM_RING_VERSION;
	ring->hdr->entries = PCIEM_RING_ENTRIES;
	ring->hdr->entry_size = sizeof(struct pciem_req);
	ring->hdr->slots_offset = PAGE_SIZE;
	raw_spin_lock_init(&ring->lock);
	init_waitqueue_head(&ring->model_wq);
	init_waitqueue_head(&ring->answer_wq);
	atomic_set(&ring->sleepers, 0);
	ring->read_timeout_ns = DEFAULT_READ_TIMEOUT_NS;
	ring->spin_ns = DEFAULT_SPIN_NS;
	return 0;
}

void pciem_ring_free(struct pciem_ring *ring)
{
	struct eventfd_ctx *evfd = rcu_dereference_protected(ring->evfd, 1);

	if (evfd)
		eventfd_ctx_put(evfd);
	bitmap_free(ring->busy);
	vfree(ring->shadow);
	vfree(ring->hdr);
	ring->hdr = NULL;
	ring->shadow = NULL;
	ring->busy = NULL;
	RCU_INIT_POINTER(ring->evfd, NULL);
}

/*
 * The owner is gone. Every access from now on completes at once as a
 * master abort, and readers waiting for an answer give up: a driver's
 * remove() must not wait on a model that no longer exists.
 */
void pciem_ring_kill(struct pciem_ring *ring)
{
	WRITE_ONCE(ring->dead, true);
	/* Spinning readers check dead after their answer: order the two. */
	smp_mb();
	wake_up_all(&ring->answer_wq);
	wake_up_all(&ring->model_wq);
}

/* ---- producer -------------------------------------------------------------- */

static bool ring_has_room(struct pciem_ring *ring)
{
	/* Acquire: the model is done with every slot before cons. */
	u32 cons = smp_load_acquire(&ring->hdr->cons);

	return ring->prod - cons < PCIEM_RING_ENTRIES &&
	       !test_bit(ring->prod & (PCIEM_RING_ENTRIES - 1), ring->busy);
}

static void wake_model(struct pciem_ring *ring)
{
	struct eventfd_ctx *evfd;

	if (READ_ONCE(ring->hdr->model_flags) & PCIEM_MODEL_F_POLLING)
		return;
	rcu_read_lock();
	evfd = rcu_dereference(ring->evfd);
	if (evfd)
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
		eventfd_signal(evfd);
#else
		eventfd_signal(evfd, 1);
#endif
	rcu_read_unlock();
	if (wq_has_sleeper(&ring->model_wq))
		wake_up_interruptible(&ring->model_wq);
}

/*
 * The read timeout's clock. local_clock() is cheap, but once the TSC is
 * found unstable (as under TCG) it runs at most one tick past the last
 * tick: with interrupts off on every CPU it stands still, and a wait
 * measured by it alone never ends (seen: e1000e reading its clock under a
 * spinlock on both vCPUs). ktime_get_mono_fast_ns() reads the clocksource
 * itself in any context, but under TCG that is the HPET, an exit into
 * QEMU, so it is read only every 256th turn, and first only then.
 */
struct wait_clock {
	u64 start;
	u64 fast_start;
	unsigned int turns;
};

static void wait_clock_start(struct wait_clock *c)
{
	c->start = local_clock();
	c->fast_start = 0;
	c->turns = 0;
}

static u64 wait_clock_elapsed(struct wait_clock *c)
{
	u64 elapsed = local_clock() - c->start;
	u64 now;

	if (++c->turns % 256)
		return elapsed;
	now = ktime_get_mono_fast_ns();
	if (!c->fast_start)
		c->fast_start = now;
	return max(elapsed, now - c->fast_start);
}

/*
 * Publish one request. Returns the slot index, or -ENODEV when the model
 * is gone or -ETIMEDOUT when it left the ring full for a whole read
 * timeout. Callable from any context but NMI.
 */
static int ring_post(struct pciem_ring *ring, u16 type, u32 rflags,
		     unsigned int bar, u64 off, unsigned int size, u64 data,
		     u32 *seq)
{
	struct pciem_req *req;
	unsigned long flags;
	struct wait_clock clock;
	bool waiting = false;
	u32 slot;

	raw_spin_lock_irqsave(&ring->lock, flags);
	while (!ring_has_room(ring)) {
		if (READ_ONCE(ring->dead))
			goto dead;
		/*
		 * The last wait for a slot already timed out and the model has
		 * not moved since: waiting again would only hold this CPU with
		 * interrupts off for another timeout, once per post (an
		 * irq_startup() unmasking 2048 MSI-X entries on the model's own
		 * CPU held it for most of an hour on the debug kernel).
		 */
		if (ring->stalled &&
		    READ_ONCE(ring->hdr->cons) == ring->stalled_cons) {
			stat_inc(&ring->hdr->stats.stalled_posts);
			raw_spin_unlock_irqrestore(&ring->lock, flags);
			return -ETIMEDOUT;
		}
		ring->stalled = false;
		if (!waiting) {
			stat_inc(&ring->hdr->stats.ring_full_waits);
			trace_pciem_ring_full(container_of(ring,
							   struct pciem_function,
							   ring));
			wait_clock_start(&clock);
			waiting = true;
		} else if (wait_clock_elapsed(&clock) > ring->read_timeout_ns) {
			ring->stalled = true;
			ring->stalled_cons = READ_ONCE(ring->hdr->cons);
			raw_spin_unlock_irqrestore(&ring->lock, flags);
			return -ETIMEDOUT;
		}
		cpu_relax();
	}
	if (READ_ONCE(ring->dead))
		goto dead;
	slot = ring->prod & (PCIEM_RING_ENTRIES - 1);
	req = &ring->slots[slot];
	if (++ring->seq == 0)
		ring->seq = 1;
	*seq = ring->seq;
	WRITE_ONCE(req->done, 0);
	req->type = type;
	req->bar = bar;
	req->size = size;
	req->flags = rflags;
	req->offset = off;
	req->data = data;
	WRITE_ONCE(req->seq, *seq);
	if (type == PCIEM_REQ_MMIO_READ || type == PCIEM_REQ_CFG_READ)
		__set_bit(slot, ring->busy);
	ring->prod++;
	/* The slot's contents become visible before the new producer index. */
	smp_store_release(&ring->hdr->prod, ring->prod);
	raw_spin_unlock_irqrestore(&ring->lock, flags);
	wake_model(ring);
	return slot;

dead:
	raw_spin_unlock_irqrestore(&ring->lock, flags);
	return -ENODEV;
}

/* ---- waiting for the model ----------------------------------------------- */

/*
 * Readers waiting with preemption off, over all functions. Once there are
 * as many as online CPUs, no model can run until one of them gives up, so
 * the one that completes the set gives up at once (all-ones, as a read
 * timeout) instead of all of them spinning out the timeout together.
 */
static atomic_t atomic_waiters = ATOMIC_INIT(0);
/*
 * Nesting on this CPU: a handler interrupting a wait may wait too, and
 * the CPU counts once.
 */
static DEFINE_PER_CPU(unsigned int, atomic_wait_depth);

/* A wait with preemption off this long may be one no model can end. */
#define EXPLAIN_AFTER_NS (100 * NSEC_PER_MSEC)

/*
 * Wait until @done() holds, the model dies or the read timeout passes.
 * Spin first; then sleep if allowed, with hdr->kernel_waiting raised so
 * the model knows to call PCIEM_IOC_WAKE. Returns 0, -ENODEV or
 * -ETIMEDOUT.
 */
static int ring_wait_clocked(struct pciem_ring *ring,
			     bool (*done)(struct pciem_ring *ring, u32 arg),
			     u32 arg, bool may_sleep)
{
	/*
	 * Not ktime_get_ns() on every turn: with the HPET as clocksource
	 * (the kernel's choice under TCG) each ktime read is an exit into
	 * QEMU under its big lock, slowing the very model we wait for.
	 */
	struct wait_clock clock;
	bool explained = false;
	u64 elapsed;

	wait_clock_start(&clock);
	for (;;) {
		if (done(ring, arg))
			return 0;
		if (READ_ONCE(ring->dead))
			return -ENODEV;
		elapsed = wait_clock_elapsed(&clock);
		if (elapsed > ring->read_timeout_ns)
			return -ETIMEDOUT;
		if (!may_sleep && !explained && elapsed > EXPLAIN_AFTER_NS) {
			explained = true;
			pciem_explain_held_cpu(container_of(ring,
						struct pciem_function, ring));
		}
		/*
		 * Spin only while it can help: once another task is runnable
		 * on this CPU (the model, woken here or yielding while it
		 * polls; the scheduler likes to put it beside the thread it
		 * answers), spinning keeps it from answering. Sleep instead.
		 */
		if (may_sleep && (elapsed > ring->spin_ns ||
				  !single_task_running())) {
			long left = nsecs_to_jiffies(ring->read_timeout_ns -
						     elapsed) + 1;

			WRITE_ONCE(ring->hdr->kernel_waiting,
				   atomic_inc_return(&ring->sleepers));
			/*
			 * Pairs with the model's fence between storing done
			 * and reading kernel_waiting: one of us sees the other.
			 */
			smp_mb();
			wait_event_timeout(ring->answer_wq,
					   done(ring, arg) ||
					   READ_ONCE(ring->dead), left);
			WRITE_ONCE(ring->hdr->kernel_waiting,
				   atomic_dec_return(&ring->sleepers));
			continue;
		}
		cpu_relax();
	}
}

static int ring_wait(struct pciem_ring *ring,
		     bool (*done)(struct pciem_ring *ring, u32 arg), u32 arg,
		     bool may_sleep)
{
	bool first;
	int ret;

	if (may_sleep)
		return ring_wait_clocked(ring, done, arg, true);
	/* (pagefault_disable() alone leaves preemption on) */
	preempt_disable();
	first = this_cpu_inc_return(atomic_wait_depth) == 1;
	if (first && atomic_inc_return(&atomic_waiters) >= num_online_cpus() &&
	    !done(ring, arg))
		ret = -EDEADLK;
	else
		ret = ring_wait_clocked(ring, done, arg, false);
	if (first)
		atomic_dec(&atomic_waiters);
	this_cpu_dec(atomic_wait_depth);
	preempt_enable();
	return ret;
}

static bool slot_answered(struct pciem_ring *ring, u32 slot)
{
	struct pciem_req *req = &ring->slots[slot];

	/* Acquire: the answer in data was stored before done. */
	return smp_load_acquire(&req->done) == READ_ONCE(req->seq);
}

/* Every request posted so far has been handled by the model. */
static bool ring_drained(struct pciem_ring *ring, u32 unused)
{
	/* Acquire: shadow updates of those requests are visible. */
	return smp_load_acquire(&ring->hdr->cons) == READ_ONCE(ring->prod);
}

static const struct pciem_shadow_range *
find_shadow(struct pciem_ring *ring, unsigned int bar, u64 off,
	    unsigned int size)
{
	unsigned int i;

	for (i = 0; i < READ_ONCE(ring->nshadows); i++) {
		const struct pciem_shadow_range *s = &ring->shadows[i];

		if (s->bar == bar && off >= s->offset &&
		    off + size <= (u64)s->offset + s->len)
			return s;
	}
	return NULL;
}

static u64 shadow_load(const void *p, unsigned int size)
{
	switch (size) {
	case 1:
		return READ_ONCE(*(const u8 *)p);
	case 2:
		return READ_ONCE(*(const u16 *)p);
	case 4:
		return READ_ONCE(*(const u32 *)p);
	default:
		return READ_ONCE(*(const u64 *)p);
	}
}

static void log_read_failure(struct pciem_function *fn, unsigned int bar,
			     u64 off, unsigned int size, int err)
{
	if (err == -ETIMEDOUT)
		pr_warn_ratelimited("%s: read of %s%u+%#llx (%u bytes) not answered within %llu us\n",
				    fn->name, bar == PCIEM_CFG_BAR ? "config" : "BAR",
				    bar == PCIEM_CFG_BAR ? 0 : bar, off, size,
				    fn->ring.read_timeout_ns / NSEC_PER_USEC);
	else if (err == -EBUSY)
		pr_warn_ratelimited("%s: read of %s%u+%#llx (%u bytes) refused at once: the model has taken no request since a read timed out\n",
				    fn->name, bar == PCIEM_CFG_BAR ? "config" : "BAR",
				    bar == PCIEM_CFG_BAR ? 0 : bar, off, size);
	else if (err == -EDEADLK)
		pr_warn_ratelimited("%s: read of %s%u+%#llx (%u bytes) with preemption off while every other CPU waits so too: no model can run to answer it, completed as all-ones\n",
				    fn->name, bar == PCIEM_CFG_BAR ? "config" : "BAR",
				    bar == PCIEM_CFG_BAR ? 0 : bar, off, size);
}

static int ring_read(struct pciem_function *fn, u16 type, unsigned int bar,
		     u64 off, unsigned int size, u64 *val, bool may_sleep);

/**
 * pciem_ring_read() - perform a trapped read through the device model
 * @fn:		the function
 * @bar:	BAR index
 * @off:	offset in the BAR
 * @size:	1, 2, 4 or 8
 * @val:	the answer; all-ones when the model is gone or too slow
 * @may_sleep:	the faulting context may sleep
 *
 * Return: 0 when the model answered, PCIEM_RING_FROM_SHADOW when a shadow
 * did, a negative errno otherwise (@val is all-ones then, which is what
 * the driver sees).
 */
int pciem_ring_read(struct pciem_function *fn, unsigned int bar, u64 off,
		    unsigned int size, u64 *val, bool may_sleep)
{
	return ring_read(fn, PCIEM_REQ_MMIO_READ, bar, off, size, val,
			 may_sleep);
}

/**
 * pciem_ring_cfg_read() - a config read of a range the model claimed
 * @fn:		the function
 * @off:	config offset
 * @size:	1, 2 or 4
 * @val:	the answer (untouched unless the model answered)
 *
 * Config cycles come with pci_lock held and interrupts off: spin only.
 */
int pciem_ring_cfg_read(struct pciem_function *fn, unsigned int off,
			unsigned int size, u32 *val)
{
	u64 v;
	int ret;

	ret = ring_read(fn, PCIEM_REQ_CFG_READ, 0, off, size, &v, false);
	if (!ret)
		*val = v;
	return ret;
}

/*
 * The last read that could not sleep timed out and the model has taken
 * nothing since, though requests wait for it. A model that took the timed
 * out request and merely answers late gets one more full wait.
 */
static bool read_still_stalled(struct pciem_ring *ring)
{
	u32 cons;

	if (!READ_ONCE(ring->read_stalled))
		return false;
	cons = READ_ONCE(ring->hdr->cons);
	if (cons != READ_ONCE(ring->read_stalled_cons) ||
	    cons == READ_ONCE(ring->prod)) {
		WRITE_ONCE(ring->read_stalled, false);
		return false;
	}
	return true;
}

static int ring_read(struct pciem_function *fn, u16 type, unsigned int bar,
		     u64 off, unsigned int size, u64 *val, bool may_sleep)
{
	struct pciem_ring *ring = &fn->ring;
	const struct pciem_shadow_range *sh = NULL;
	unsigned long flags;
	u32 seq;
	int slot, ret;

	*val = size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
	if (!may_sleep && read_still_stalled(ring)) {
		stat_inc(&ring->hdr->stats.stalled_posts);
		ret = -EBUSY;
		goto fail;
	}
	if (type == PCIEM_REQ_MMIO_READ)
		sh = find_shadow(ring, bar, off, size);
	if (sh) {
		/*
		 * A shadow read must not overtake a write posted before it:
		 * the model updates the shadow while handling writes, so
		 * serve it only once the ring is drained.
		 */
		ret = ring_wait(ring, ring_drained, 0, may_sleep);
		if (!ret) {
			*val = shadow_load(ring->shadow + sh->area_off +
					   (off - sh->offset), size);
			stat_inc(&ring->hdr->stats.shadow_reads);
			return PCIEM_RING_FROM_SHADOW;
		}
		goto fail;
	}

	slot = ring_post(ring, type, 0, bar, off, size, 0, &seq);
	if (slot < 0) {
		ret = slot;
		goto fail;
	}
	stat_inc(&ring->hdr->stats.reads);
	ret = ring_wait(ring, slot_answered, slot, may_sleep);
	raw_spin_lock_irqsave(&ring->lock, flags);
	if (!ret && READ_ONCE(ring->slots[slot].seq) == seq)
		*val = READ_ONCE(ring->slots[slot].data);
	else if (!ret)
		ret = -EIO;
	/* Answered or abandoned: the slot may be reused once consumed. */
	__clear_bit(slot, ring->busy);
	raw_spin_unlock_irqrestore(&ring->lock, flags);
	if (!ret) {
		if (size < 8)
			*val &= (1ull << (8 * size)) - 1;
		return 0;
	}
fail:
	if (ret == -ETIMEDOUT && !may_sleep) {
		WRITE_ONCE(ring->read_stalled_cons, READ_ONCE(ring->hdr->cons));
		WRITE_ONCE(ring->read_stalled, true);
	}
	if (ret == -ETIMEDOUT || ret == -EDEADLK)
		stat_inc(&ring->hdr->stats.read_timeouts);
	stat_inc(&ring->hdr->stats.master_aborts);
	log_read_failure(fn, type == PCIEM_REQ_CFG_READ ? PCIEM_CFG_BAR : bar,
			 off, size, ret);
	return ret;
}

static int ring_write(struct pciem_function *fn, u16 type, unsigned int bar,
		      u64 off, unsigned int size, u64 val);

/**
 * pciem_ring_write() - post a trapped write to the device model
 * @fn:		the function
 * @bar:	BAR index
 * @off:	offset in the BAR
 * @size:	1, 2, 4 or 8
 * @val:	the value
 *
 * Return: 0 once posted; a negative errno if it had to be dropped (the
 * model is gone, or left the ring full for a whole read timeout), which
 * the statistics and the log record.
 */
int pciem_ring_write(struct pciem_function *fn, unsigned int bar, u64 off,
		     unsigned int size, u64 val)
{
	return ring_write(fn, PCIEM_REQ_MMIO_WRITE, bar, off, size, val);
}

/* A config write of a range the model claimed: posted like MMIO. */
int pciem_ring_cfg_write(struct pciem_function *fn, unsigned int off,
			 unsigned int size, u32 val)
{
	return ring_write(fn, PCIEM_REQ_CFG_WRITE, 0, off, size, val);
}

static int ring_write(struct pciem_function *fn, u16 type, unsigned int bar,
		      u64 off, unsigned int size, u64 val)
{
	struct pciem_ring *ring = &fn->ring;
	u32 seq;
	int slot;

	slot = ring_post(ring, type, 0, bar, off, size, val, &seq);
	if (slot >= 0) {
		stat_inc(&ring->hdr->stats.writes);
		return 0;
	}
	stat_inc(&ring->hdr->stats.master_aborts);
	if (slot == -ETIMEDOUT)
		pr_warn_ratelimited("%s: write to BAR%u+%#llx dropped: the model left its ring full\n",
				    fn->name, bar, off);
	return slot;
}

/**
 * pciem_ring_irq_event() - tell the model the driver reconfigured interrupts
 * @fn:		function
 * @event:	enum pciem_irq_event
 * @index:	vector or MSI-X entry the event concerns
 * @data:	event payload (see the ABI header)
 *
 * Posted like a write, so it reaches the model in order with the
 * driver's other accesses. Any context; dropped when the model is gone.
 */
void pciem_ring_irq_event(struct pciem_function *fn, u32 event, u32 index,
			  u64 data)
{
	struct pciem_ring *ring = &fn->ring;
	u32 seq;

	if (ring_post(ring, PCIEM_REQ_IRQ_CONFIG, event, 0, index, 0, data,
		      &seq) >= 0)
		stat_inc(&ring->hdr->stats.irq_events);
}

/**
 * pciem_ring_command_event() - tell the model the Command register changed
 * @fn:		function
 * @cmd:	its new value
 *
 * The header is emulated here, so a model that mirrors the driver's
 * Memory Space, Bus Master and Interrupt Disable bits elsewhere (a
 * forwarding proxy, into its device server) hears of them this way,
 * posted in order with the driver's other accesses.
 */
void pciem_ring_command_event(struct pciem_function *fn, u16 cmd)
{
	u32 seq;

	ring_post(&fn->ring, PCIEM_REQ_COMMAND, 0, 0, PCI_COMMAND, 2, cmd,
		  &seq);
}

/**
 * pciem_ring_reset_event() - tell the model the driver reset the function
 * @fn:		function
 *
 * An FLR resets the device behind the header; pciem.ko keeps emulating
 * the header (the PCI core saves and restores it around the reset), so
 * the model hears of it in order with the driver's accesses: those
 * before the reset reached the old state, those after reach the new.
 */
void pciem_ring_reset_event(struct pciem_function *fn)
{
	u32 seq;

	ring_post(&fn->ring, PCIEM_REQ_RESET, 0, 0, 0, 0, 0, &seq);
}

/* ---- file operations ------------------------------------------------------- */

__poll_t pciem_ring_poll(struct pciem_ring *ring, struct file *file,
			 poll_table *wait)
{
	u32 prod, cons;

	poll_wait(file, &ring->model_wq, wait);
	if (READ_ONCE(ring->dead))
		return EPOLLHUP;
	/* Pairs with the producer's store-release of prod. */
	prod = smp_load_acquire(&ring->hdr->prod);
	/* Pairs with the model's store-release of cons. */
	cons = smp_load_acquire(&ring->hdr->cons);
	return prod != cons ? EPOLLIN | EPOLLRDNORM : 0;
}

static long ring_set_eventfd(struct pciem_ring *ring, void __user *uarg)
{
	struct eventfd_ctx *ctx = NULL, *old;
	s32 fd;

	if (get_user(fd, (s32 __user *)uarg))
		return -EFAULT;
	if (fd >= 0) {
		ctx = eventfd_ctx_fdget(fd);
		if (IS_ERR(ctx))
			return PTR_ERR(ctx);
	} else if (fd != -1) {
		return -EINVAL;
	}
	/* Producers read ring->evfd under RCU; the lock orders setters. */
	raw_spin_lock_irq(&ring->lock);
	old = rcu_dereference_protected(ring->evfd, 1);
	rcu_assign_pointer(ring->evfd, ctx);
	raw_spin_unlock_irq(&ring->lock);
	if (old) {
		synchronize_rcu();
		eventfd_ctx_put(old);
	}
	return 0;
}

static long ring_config(struct pciem_ring *ring, void __user *uarg)
{
	struct pciem_dev_config cfg;
	int usize;

	usize = pciem_copy_struct_in(&cfg, sizeof(cfg), sizeof(cfg), uarg);
	if (usize < 0)
		return usize;
	if (cfg.flags & ~PCIEM_CONFIG_FLAGS_ALL)
		return -EINVAL;
	if (cfg.flags & PCIEM_CONFIG_F_READ_TIMEOUT) {
		if (!cfg.read_timeout_us || cfg.read_timeout_us > MAX_READ_TIMEOUT_US)
			return -EINVAL;
		ring->read_timeout_ns = (u64)cfg.read_timeout_us * NSEC_PER_USEC;
	}
	if (cfg.flags & PCIEM_CONFIG_F_SPIN) {
		if (cfg.spin_us > MAX_READ_TIMEOUT_US)
			return -EINVAL;
		ring->spin_ns = (u64)cfg.spin_us * NSEC_PER_USEC;
	}
	cfg.read_timeout_us = ring->read_timeout_ns / NSEC_PER_USEC;
	cfg.spin_us = ring->spin_ns / NSEC_PER_USEC;
	return pciem_copy_struct_out(uarg, usize, &cfg, sizeof(cfg));
}

static long ring_add_shadow(struct pciem_function *fn, void __user *uarg)
{
	struct pciem_ring *ring = &fn->ring;
	struct pciem_shadow_range *s;
	struct pciem_shadow req;
	int usize, ret = 0;

	usize = pciem_copy_struct_in(&req, sizeof(req), sizeof(req), uarg);
	if (usize < 0)
		return usize;
	if (req.flags || req.reserved || req.bar >= PCIEM_MAX_BARS ||
	    !fn->cfg.bar_size[req.bar] || !req.len || (req.offset & 7) ||
	    (req.len & 7) || (u64)req.offset + req.len > fn->cfg.bar_size[req.bar])
		return -EINVAL;

	raw_spin_lock_irq(&ring->lock);
	if (ring->nshadows == PCIEM_MAX_SHADOWS ||
	    ring->shadow_used + req.len > PCIEM_SHADOW_AREA) {
		ret = -ENOSPC;
	} else if (find_shadow(ring, req.bar, req.offset, 1) ||
		   find_shadow(ring, req.bar, req.offset + req.len - 1, 1)) {
		ret = -EEXIST;
	} else {
		s = &ring->shadows[ring->nshadows];
		s->bar = req.bar;
		s->offset = req.offset;
		s->len = req.len;
		s->area_off = ring->shadow_used;
		ring->shadow_used += req.len;
		req.shadow_offset = PCIEM_SHADOW_MMAP_OFFSET + s->area_off;
		/* Readers walk the array locklessly: publish the entry last. */
		smp_store_release(&ring->nshadows, ring->nshadows + 1);
	}
	raw_spin_unlock_irq(&ring->lock);
	if (ret)
		return ret;
	return pciem_copy_struct_out(uarg, usize, &req, sizeof(req));
}

/* Device fd ioctls that concern the ring. */
long pciem_ring_ioctl(struct pciem_function *fn, unsigned int nr,
		      void __user *uarg)
{
	switch (nr) {
	case _IOC_NR(PCIEM_IOC_DEV_CONFIG):
		return ring_config(&fn->ring, uarg);
	case _IOC_NR(PCIEM_IOC_SET_EVENTFD):
		return ring_set_eventfd(&fn->ring, uarg);
	case _IOC_NR(PCIEM_IOC_WAKE):
		wake_up_all(&fn->ring.answer_wq);
		return 0;
	case _IOC_NR(PCIEM_IOC_SHADOW):
		return ring_add_shadow(fn, uarg);
	}
	return -ENOTTY;
}
