// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Fault injection: hardware that misbehaves on demand, for any function
 * and any model (PCIEM_IOC_INJECT on the control node, docs/faults.md).
 *
 * A rule (MMIO all-ones or latency, an interrupt dropped or delayed, DMA
 * refused or poisoned, CRS after a reset) sits on its function's list and
 * is asked by the path it concerns whether this event is one it takes:
 * pciem_fault_hit(). An action (spurious interrupts, surprise removal and
 * reinsertion, AER errors, link down and up) happens in the ioctl.
 * Each fault that happens is traced and recorded.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/hrtimer.h>
#include <linux/random.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "pciem.h"
#include "pciem_trace.h"

#define MAX_RULES	64		/* per function */
#define MAX_LATENCY_NS	(10ull * NSEC_PER_SEC)
#define MAX_CRS_MS	60000u		/* the PCI core waits 60 s for a reset */

/**
 * struct pciem_fault_rule - one rule of a function
 * @node:	in &pciem_faults.rules
 * @req:	what PCIEM_IOC_INJECT asked for
 * @seen:	events matched so far
 * @fired:	of those, how many it took
 */
struct pciem_fault_rule {
	struct list_head node;
	struct pciem_inject req;
	u64 seen, fired;
};

static const char *const fault_names[PCIEM_FAULT__COUNT] = {
	[PCIEM_FAULT_MMIO_ALL_ONES] = "mmio-all-ones",
	[PCIEM_FAULT_MMIO_LATENCY] = "mmio-latency",
	[PCIEM_FAULT_IRQ_DROP] = "irq-drop",
	[PCIEM_FAULT_IRQ_DELAY] = "irq-delay",
	[PCIEM_FAULT_IRQ_SPURIOUS] = "irq-spurious",
	[PCIEM_FAULT_DMA_REFUSE] = "dma-refuse",
	[PCIEM_FAULT_DMA_POISON] = "dma-poison",
	[PCIEM_FAULT_SURPRISE_REMOVE] = "surprise-remove",
	[PCIEM_FAULT_REINSERT] = "reinsert",
	[PCIEM_FAULT_AER_CORRECTABLE] = "aer-correctable",
	[PCIEM_FAULT_AER_NONFATAL] = "aer-nonfatal",
	[PCIEM_FAULT_AER_FATAL] = "aer-fatal",
	[PCIEM_FAULT_LINK_DOWN] = "link-down",
	[PCIEM_FAULT_LINK_UP] = "link-up",
	[PCIEM_FAULT_CRS] = "crs",
	[PCIEM_FAULT_MMIO_FLIP] = "mmio-flip",
};

/* The rules about MMIO reads: their region names a BAR. */
static bool is_mmio(unsigned int fault)
{
	return fault == PCIEM_FAULT_MMIO_ALL_ONES ||
	       fault == PCIEM_FAULT_MMIO_LATENCY ||
	       fault == PCIEM_FAULT_MMIO_FLIP;
}

static bool is_rule(unsigned int fault)
{
	switch (fault) {
	case PCIEM_FAULT_MMIO_ALL_ONES:
	case PCIEM_FAULT_MMIO_LATENCY:
	case PCIEM_FAULT_MMIO_FLIP:
	case PCIEM_FAULT_IRQ_DROP:
	case PCIEM_FAULT_IRQ_DELAY:
	case PCIEM_FAULT_DMA_REFUSE:
	case PCIEM_FAULT_DMA_POISON:
	case PCIEM_FAULT_CRS:
		return true;
	}
	return false;
}

void pciem_faults_init(struct pciem_function *fn)
{
	raw_spin_lock_init(&fn->faults.lock);
	INIT_LIST_HEAD(&fn->faults.rules);
}

void pciem_faults_free(struct pciem_function *fn)
{
	struct pciem_fault_rule *r, *next;

	list_for_each_entry_safe(r, next, &fn->faults.rules, node)
		kfree(r);
	INIT_LIST_HEAD(&fn->faults.rules);
	WRITE_ONCE(fn->faults.nrules, 0);
}

/* A fault happened: the trace and the recording say so. */
void pciem_fault_note(struct pciem_function *fn, unsigned int fault, u32 id,
		      u64 detail)
{
	trace_pciem_fault(fn, fault, id, detail);
	pciem_record_fault(fn, fault, id, detail);
}

/* ---- rules ------------------------------------------------------------------- */

static bool in_region(const struct pciem_inject *q, int bar, u64 off, u64 len)
{
	if (!(q->flags & PCIEM_INJECT_F_REGION))
		return true;
	if (bar >= 0 && bar != q->bar)
		return false;
	return off < q->offset + q->len && q->offset < off + len;
}

/* Is this matching event one the rule takes? Counts it either way. */
static bool takes(struct pciem_fault_rule *r)
{
	const struct pciem_inject *q = &r->req;
	u64 n = ++r->seen;

	if (n <= q->after)
		return false;
	n -= q->after;
	if (q->every > 1 && (n - 1) % q->every)
		return false;
	if (q->count && r->fired >= q->count)
		return false;
	if (q->probability && get_random_u32_below(1000000) >= q->probability)
		return false;
	r->fired++;
	return true;
}

/**
 * pciem_fault_hit() - does a rule of @fault take this event?
 * @fn:		function
 * @fault:	enum pciem_fault, a rule
 * @bar:	MMIO: the BAR; interrupts: the vector; DMA, CRS: -1
 * @off:	MMIO: offset in the BAR; DMA: bus address
 * @len:	bytes of the access
 * @param:	out, may be NULL: the rule's parameter
 *
 * Any context; cheap when the function has no rules.
 */
bool pciem_fault_hit(struct pciem_function *fn, unsigned int fault, int bar,
		     u64 off, u64 len, u64 *param)
{
	struct pciem_faults *f = &fn->faults;
	struct pciem_fault_rule *r;
	unsigned long flags;
	bool vector = fault == PCIEM_FAULT_IRQ_DROP ||
		      fault == PCIEM_FAULT_IRQ_DELAY;
	u32 id = 0;

	if (likely(!READ_ONCE(f->nrules)))
		return false;
	raw_spin_lock_irqsave(&f->lock, flags);
	list_for_each_entry(r, &f->rules, node) {
		if (r->req.fault != fault)
			continue;
		if (vector ? (r->req.flags & PCIEM_INJECT_F_VECTOR) &&
			     r->req.vector != bar :
			     !in_region(&r->req, bar, off, len))
			continue;
		if (takes(r)) {
			id = r->req.id;
			if (param)
				*param = r->req.param;
			break;
		}
	}
	raw_spin_unlock_irqrestore(&f->lock, flags);
	if (id)
		pciem_fault_note(fn, fault, id, vector ? (u64)bar : off);
	return id;
}

/* ---- CRS after a reset ---------------------------------------------------------- */

/*
 * The function was reset (FLR, link up, reinsertion): a CRS rule that
 * takes it makes config reads answer as a Root Port without CRS Software
 * Visibility does while the device returns Configuration Request Retry
 * Status: all-ones, for the rule's time.
 */
void pciem_fault_reset(struct pciem_function *fn)
{
	u64 ms;

	if (pciem_fault_hit(fn, PCIEM_FAULT_CRS, -1, 0, 0, &ms))
		WRITE_ONCE(fn->faults.crs_until,
			   ktime_get_ns() + ms * NSEC_PER_MSEC);
}

/* Config cycles of @fn complete as all-ones: its link is down, or CRS. */
bool pciem_fault_config_blocked(struct pciem_function *fn)
{
	u64 until = READ_ONCE(fn->faults.crs_until);

	return READ_ONCE(fn->faults.link_down) ||
	       (until && ktime_get_ns() < until);
}

/* ---- delayed interrupts ----------------------------------------------------------- */

struct late_irq {
	struct hrtimer timer;
	struct pciem_function *fn;
	u32 vector;
};

static enum hrtimer_restart late_irq_fire(struct hrtimer *t)
{
	struct late_irq *l = container_of(t, struct late_irq, timer);

	pciem_irq_deliver_raise(l->fn, l->vector);
	pciem_function_put(l->fn);
	kfree(l);
	return HRTIMER_NORESTART;
}

/**
 * pciem_fault_irq() - the model raised @vector: is it dropped or delayed?
 * @fn:		function
 * @vector:	MSI/MSI-X vector
 *
 * Return: true if a fault took the raise (it arrives later or never).
 */
bool pciem_fault_irq(struct pciem_function *fn, u32 vector)
{
	struct late_irq *l;
	u64 ns;

	if (likely(!READ_ONCE(fn->faults.nrules)))
		return false;
	if (pciem_fault_hit(fn, PCIEM_FAULT_IRQ_DROP, vector, 0, 0, NULL))
		return true;
	if (!pciem_fault_hit(fn, PCIEM_FAULT_IRQ_DELAY, vector, 0, 0, &ns))
		return false;
	l = kzalloc(sizeof(*l), GFP_ATOMIC);
	if (!l)
		return false;	/* delivered on time rather than lost */
	pciem_function_get(fn);
	l->fn = fn;
	l->vector = vector;
	hrtimer_init(&l->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	l->timer.function = late_irq_fire;
	hrtimer_start(&l->timer, ns_to_ktime(ns), HRTIMER_MODE_REL);
	return true;
}

/* ---- the ioctls -------------------------------------------------------------------- */

/* Field checks: what does not apply must be zero. */
static int check_request(const struct pciem_inject *q)
{
	bool rule = is_rule(q->fault);

	if (!q->fault || q->fault >= PCIEM_FAULT__COUNT || q->reserved2 ||
	    q->id || q->probability > 1000000 ||
	    (q->flags & ~(PCIEM_INJECT_F_REGION | PCIEM_INJECT_F_VECTOR)))
		return -EINVAL;
	if (!rule && (q->after || q->every || q->probability || q->flags))
		return -EINVAL;
	if (!rule && q->count && q->fault != PCIEM_FAULT_IRQ_SPURIOUS)
		return -EINVAL;
	if (q->flags & PCIEM_INJECT_F_REGION) {
		if (!is_mmio(q->fault) &&
		    q->fault != PCIEM_FAULT_DMA_REFUSE &&
		    q->fault != PCIEM_FAULT_DMA_POISON)
			return -EINVAL;
		if (!q->len || q->offset + q->len < q->offset ||
		    (is_mmio(q->fault) && q->bar >= PCIEM_MAX_BARS))
			return -EINVAL;
	} else if (q->bar || q->offset || q->len) {
		return -EINVAL;
	}
	if ((q->flags & PCIEM_INJECT_F_VECTOR) &&
	    q->fault != PCIEM_FAULT_IRQ_DROP && q->fault != PCIEM_FAULT_IRQ_DELAY)
		return -EINVAL;
	if (!(q->flags & PCIEM_INJECT_F_VECTOR) && q->vector)
		return -EINVAL;
	switch (q->fault) {
	case PCIEM_FAULT_MMIO_LATENCY:
	case PCIEM_FAULT_IRQ_DELAY:
		return q->param && q->param <= MAX_LATENCY_NS ? 0 : -EINVAL;
	case PCIEM_FAULT_CRS:
		return q->param && q->param <= MAX_CRS_MS ? 0 : -EINVAL;
	case PCIEM_FAULT_MMIO_FLIP:
		return q->param ? 0 : -EINVAL;
	case PCIEM_FAULT_IRQ_SPURIOUS:
		return q->param <= U16_MAX ? 0 : -EINVAL;
	case PCIEM_FAULT_DMA_POISON:
		return q->param <= 0xff ? 0 : -EINVAL;
	case PCIEM_FAULT_AER_CORRECTABLE:
	case PCIEM_FAULT_AER_NONFATAL:
	case PCIEM_FAULT_AER_FATAL:
		return q->param <= U32_MAX ? 0 : -EINVAL;
	case PCIEM_FAULT_MMIO_ALL_ONES:
	case PCIEM_FAULT_IRQ_DROP:
	case PCIEM_FAULT_DMA_REFUSE:
		return 0;
	default:
		return q->param ? -EINVAL : 0;
	}
}

static int add_rule(struct pciem_function *fn, struct pciem_inject *q)
{
	struct pciem_faults *f = &fn->faults;
	struct pciem_fault_rule *r = kzalloc(sizeof(*r), GFP_KERNEL);
	int ret = 0;

	if (!r)
		return -ENOMEM;
	raw_spin_lock_irq(&f->lock);
	if (f->nrules >= MAX_RULES) {
		ret = -ENOSPC;
	} else {
		if (!++f->next_id)
			f->next_id = 1;
		q->id = f->next_id;
		r->req = *q;
		list_add_tail(&r->node, &f->rules);
		WRITE_ONCE(f->nrules, f->nrules + 1);
	}
	raw_spin_unlock_irq(&f->lock);
	if (ret)
		kfree(r);
	return ret;
}

static int spurious(struct pciem_function *fn, const struct pciem_inject *q)
{
	u32 n = q->count ?: 1, i;
	int ret = 0;

	for (i = 0; i < n && !ret; i++)
		ret = pciem_irq_deliver_raise(fn, q->param);
	if (!ret)
		pciem_fault_note(fn, q->fault, 0, q->param);
	return ret < 0 ? ret : 0;
}

static int set_link(struct pciem_function *fn, bool up)
{
	if (READ_ONCE(fn->faults.link_down) == !up)
		return -EALREADY;
	WRITE_ONCE(fn->faults.link_down, !up);
	pciem_fault_note(fn, up ? PCIEM_FAULT_LINK_UP : PCIEM_FAULT_LINK_DOWN,
			 0, 0);
	if (up)
		pciem_fault_reset(fn);
	return 0;
}

static int do_action(struct pciem_function *fn, const struct pciem_inject *q)
{
	switch (q->fault) {
	case PCIEM_FAULT_IRQ_SPURIOUS:
		return spurious(fn, q);
	case PCIEM_FAULT_SURPRISE_REMOVE:
		return pciem_function_pull(fn);
	case PCIEM_FAULT_REINSERT:
		return pciem_function_reinsert(fn);
	case PCIEM_FAULT_LINK_DOWN:
		return set_link(fn, false);
	case PCIEM_FAULT_LINK_UP:
		return set_link(fn, true);
	default:
		return pciem_aer_inject(fn, q->fault, q->param);
	}
}

/**
 * pciem_ioctl_inject() - PCIEM_IOC_INJECT
 * @host:	host bridge
 * @uarg:	struct pciem_inject
 */
long pciem_ioctl_inject(struct pciem_host *host, void __user *uarg)
{
	struct pciem_function *fn;
	struct pciem_inject q;
	int usize, ret;

	usize = pciem_copy_struct_in(&q, sizeof(q), sizeof(q), uarg);
	if (usize < 0)
		return usize;
	ret = check_request(&q);
	if (ret)
		return ret;
	fn = pciem_function_lookup(host, q.domain, q.bus, q.devfn);
	if (!fn)
		return -ENODEV;
	if (is_rule(q.fault))
		ret = add_rule(fn, &q);
	else
		ret = do_action(fn, &q);
	pciem_function_put(fn);
	if (ret)
		return ret;
	return pciem_copy_struct_out(uarg, usize, &q, sizeof(q));
}

/**
 * pciem_ioctl_inject_clear() - PCIEM_IOC_INJECT_CLEAR
 * @host:	host bridge
 * @uarg:	struct pciem_inject_clear
 *
 * Return: 0, or -ENOENT if there is no rule @id.
 */
long pciem_ioctl_inject_clear(struct pciem_host *host, void __user *uarg)
{
	struct pciem_fault_rule *r, *next;
	struct pciem_inject_clear q;
	struct pciem_function *fn;
	LIST_HEAD(gone);
	int usize;

	usize = pciem_copy_struct_in(&q, sizeof(q), sizeof(q), uarg);
	if (usize < 0)
		return usize;
	if (q.flags || q.reserved || q.reserved2)
		return -EINVAL;
	fn = pciem_function_lookup(host, q.domain, q.bus, q.devfn);
	if (!fn)
		return -ENODEV;
	raw_spin_lock_irq(&fn->faults.lock);
	list_for_each_entry_safe(r, next, &fn->faults.rules, node) {
		if (!q.id || r->req.id == q.id) {
			list_move(&r->node, &gone);
			WRITE_ONCE(fn->faults.nrules, fn->faults.nrules - 1);
		}
	}
	raw_spin_unlock_irq(&fn->faults.lock);
	pciem_function_put(fn);
	list_for_each_entry_safe(r, next, &gone, node)
		kfree(r);
	return q.id && list_empty(&gone) ? -ENOENT : 0;
}

/* ---- /sys/kernel/debug/pciem/faults ------------------------------------------------- */

const char *pciem_fault_name(unsigned int fault)
{
	return fault < PCIEM_FAULT__COUNT && fault_names[fault] ?
	       fault_names[fault] : "?";
}

static void faults_show_fn(struct pciem_function *fn, void *arg)
{
	struct seq_file *s = arg;
	struct pciem_fault_rule *r;

	raw_spin_lock_irq(&fn->faults.lock);
	if (fn->faults.link_down)
		seq_printf(s, "%s link down\n", fn->name);
	list_for_each_entry(r, &fn->faults.rules, node) {
		const struct pciem_inject *q = &r->req;

		seq_printf(s, "%s rule %u %s", fn->name, q->id,
			   pciem_fault_name(q->fault));
		if (q->flags & PCIEM_INJECT_F_REGION)
			seq_printf(s, " region %u:%#llx+%llu", q->bar,
				   q->offset, q->len);
		if (q->flags & PCIEM_INJECT_F_VECTOR)
			seq_printf(s, " vector %u", q->vector);
		seq_printf(s, " param %llu after %u every %u count %u probability %u matched %llu fired %llu\n",
			   q->param, q->after, q->every, q->count,
			   q->probability, r->seen, r->fired);
	}
	raw_spin_unlock_irq(&fn->faults.lock);
}

static int faults_show(struct seq_file *s, void *unused)
{
	pciem_visit_functions(s->private, s, faults_show_fn);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(faults);

void pciem_fault_host_init(struct pciem_host *host)
{
	debugfs_create_file("faults", 0400, pciem_debugfs, host, &faults_fops);
}
