// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Interrupt tests: what an ordinary driver does with its interrupts
 * (pci_alloc_irq_vectors, pci_irq_vector, request_irq, disable_irq,
 * enable_irq, irq_set_affinity, pci_intx, pci_free_irq_vectors), with the
 * device made to raise them through its registers: TESTDEV_IRQ_* on the
 * PCIem test device, the raise/ack registers on QEMU's edu device (the
 * reference: the same checks against interrupts QEMU delivers itself).
 *
 * Every check counts: a raise that is lost, merged, duplicated, delivered
 * outside hard-IRQ context, on the wrong CPU, while masked or after the
 * vectors were freed shows up as "got X, want Y".
 *
 * Handlers never read a PCIem register except the INTx ones, which must
 * (a level-triggered handler flushes its ack, see intx_lower()); those
 * run on a CPU other than the model's, since a read in hard-IRQ context
 * spins until the model answers.
 */
#include <linux/bsearch.h>
#include <linux/cpumask.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/irq.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/version.h>
#include <linux/workqueue.h>

#include "mmio_test.h"
#include "testdev_regs.h"

#ifndef PCI_IRQ_INTX
#define PCI_IRQ_INTX	PCI_IRQ_LEGACY	/* renamed in 6.8 */
#endif

#define PMT_STORM_DEFAULT	1000000u
#define PMT_HOLD_DEFAULT	8u
#define PMT_BENCH_IRQ_MAX	1000000u

/**
 * struct pmt_vec - one requested vector
 * @c:		the set it belongs to
 * @index:	vector index (MSI-X table entry, MSI vector, 0 for INTx)
 * @irq:	Linux IRQ number (pci_irq_vector())
 * @count:	handler invocations that were for this device
 * @cpu:	CPU the handler last ran on
 * @t_entry:	ktime_get_ns() at the last handler entry
 */
struct pmt_vec {
	struct pmt_irqs *c;
	unsigned int index;
	int irq;
	atomic_t count;
	int cpu;
	u64 t_entry;
};

/**
 * struct pmt_irqs - a set of vectors a test allocated
 * @md:		the device
 * @r:		BAR0
 * @type:	PCI_IRQ_MSI, PCI_IRQ_MSIX or PCI_IRQ_INTX
 * @n:		vectors allocated
 * @requested:	vectors with a handler installed (the first @requested)
 * @vec:	the vectors
 * @total:	handler invocations, all vectors
 * @not_hardirq: invocations outside hard-IRQ context
 * @spurious:	INTx invocations the device did not ask for (IRQ_NONE)
 * @wrong_ctx:	task and preempt_count() of the first run outside hard-IRQ context
 * @intx_noack:	INTx: leave the line high for this many invocations
 * @freed:	the vectors were freed; a handler that still runs counts late
 * @list:	on pmt_irq_graveyard once remove() freed its vectors
 */
struct pmt_irqs {
	struct pmt_dev *md;
	void __iomem *r;
	unsigned int type;
	unsigned int n;
	unsigned int requested;
	struct pmt_vec *vec;
	atomic_t total;
	atomic_t not_hardirq;
	atomic_t spurious;
	char wrong_ctx[48];
	unsigned int intx_noack;
	bool freed;
	struct list_head list;
};

/*
 * Module-wide counts for the surprise-removal check: every handler run,
 * and those that came after remove() freed the vectors. The sets remove()
 * freed stay allocated until module exit so a late handler finds valid
 * memory and can be counted rather than crash.
 */
static atomic64_t pmt_irq_runs = ATOMIC64_INIT(0);
static atomic64_t pmt_irq_late = ATOMIC64_INIT(0);
static atomic64_t pmt_irq_runs_at_remove = ATOMIC64_INIT(0);
static atomic_t pmt_irq_removes = ATOMIC_INIT(0);
static LIST_HEAD(pmt_irq_graveyard);
static DEFINE_MUTEX(pmt_irq_graveyard_lock);

static bool is_edu(struct pmt_irqs *c)
{
	return c->md->kind == PMT_EDU;
}

/*
 * A function on PCIem's bus (domain 10000h and up: QEMU's edu forwarded
 * by pciem-proxy) is answered by a process: an edu handler, which reads
 * the device, must not run on that process's CPU (model_cpu) nor beside
 * a test spinning on the other one, so its vectors go to the test CPU.
 */
static bool handler_waits_for_model(struct pmt_irqs *c)
{
	return is_edu(c) && pci_domain_nr(c->md->pdev->bus) >= 0x10000;
}

static const char *type_name(unsigned int type)
{
	return type == PCI_IRQ_MSIX ? "MSI-X" : type == PCI_IRQ_MSI ? "MSI" : "INTx";
}

/* ---- handlers ------------------------------------------------------------ */

static void note_run(struct pmt_vec *v)
{
	struct pmt_irqs *c = v->c;

	WRITE_ONCE(v->t_entry, ktime_get_ns());
	atomic64_inc(&pmt_irq_runs);
	if (READ_ONCE(c->freed))
		atomic64_inc(&pmt_irq_late);
	if (!in_hardirq() && atomic_inc_return(&c->not_hardirq) == 1)
		snprintf(c->wrong_ctx, sizeof(c->wrong_ctx), "first in %s, preempt_count %#x",
			 current->comm, preempt_count());
	WRITE_ONCE(v->cpu, raw_smp_processor_id());
}

/* MSI/MSI-X: an edge; count it. edu also wants its status acknowledged. */
static irqreturn_t msi_handler(int irq, void *dev_id)
{
	struct pmt_vec *v = dev_id;
	struct pmt_irqs *c = v->c;
	u32 st;

	note_run(v);
	if (is_edu(c)) {
		st = readl(c->r + EDU_IRQ_STATUS);
		if (st)
			writel(st, c->r + EDU_IRQ_ACK);
	}
	/* release: a waiter that sees the count sees cpu and t_entry */
	smp_mb__before_atomic();
	atomic_inc(&v->count);
	atomic_inc(&c->total);
	return IRQ_HANDLED;
}

static void intx_raise(struct pmt_irqs *c)
{
	if (is_edu(c))
		writel(1, c->r + EDU_IRQ_RAISE);
	else
		writel(1, c->r + TESTDEV_IRQ_INTX);
}

static bool intx_asserted(struct pmt_irqs *c)
{
	if (is_edu(c))
		return readl(c->r + EDU_IRQ_STATUS) != 0;
	return readl(c->r + TESTDEV_IRQ_INTX) & 1;
}

/*
 * Lower the line as a driver acks its device. The write to testdev is
 * posted: the read after it returns once the model has lowered the line,
 * so the line is low before the kernel unmasks INTx after this handler
 * (without it the still-high line fires once more, as on hardware).
 */
static void intx_lower(struct pmt_irqs *c)
{
	u32 st;

	if (is_edu(c)) {
		st = readl(c->r + EDU_IRQ_STATUS);
		writel(st, c->r + EDU_IRQ_ACK);
	} else {
		writel(0, c->r + TESTDEV_IRQ_INTX);
		readl(c->r + TESTDEV_IRQ_INTX);
	}
}

/* INTx, shared: ours only if the device asserts it; ack after intx_noack runs. */
static irqreturn_t intx_handler(int irq, void *dev_id)
{
	struct pmt_vec *v = dev_id;
	struct pmt_irqs *c = v->c;

	if (!intx_asserted(c)) {
		atomic_inc(&c->spurious);
		return IRQ_NONE;
	}
	note_run(v);
	if (atomic_read(&v->count) >= READ_ONCE(c->intx_noack))
		intx_lower(c);
	/* release: a waiter that sees the count sees cpu and t_entry */
	smp_mb__before_atomic();
	atomic_inc(&v->count);
	atomic_inc(&c->total);
	return IRQ_HANDLED;
}

/* ---- allocating and freeing ------------------------------------------------ */

static struct pmt_irqs *irqs_alloc(struct pmt_run *t, unsigned int type,
				   unsigned int n)
{
	struct pci_dev *pdev = t->md->pdev;
	struct pmt_irqs *c;
	unsigned int i;
	int ret;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c) {
		pmt_fail(t, "out of memory");
		return NULL;
	}
	c->md = t->md;
	c->r = t->r;
	c->type = type;
	INIT_LIST_HEAD(&c->list);
	c->vec = kvcalloc(n, sizeof(*c->vec), GFP_KERNEL);
	if (!c->vec) {
		pmt_fail(t, "out of memory for %u vectors", n);
		kfree(c);
		return NULL;
	}
	/* MSI is a memory write: the function must be a bus master. */
	pci_set_master(pdev);
	ret = pci_alloc_irq_vectors(pdev, n, n, type);
	if (ret != n) {
		pmt_fail(t, "pci_alloc_irq_vectors(%u, %s): %d", n, type_name(type), ret);
		kvfree(c->vec);
		kfree(c);
		return NULL;
	}
	c->n = n;
	/* what pci_alloc_irq_vectors() chose, when offered several types */
	if (pdev->msix_enabled)
		c->type = PCI_IRQ_MSIX;
	else if (pdev->msi_enabled)
		c->type = PCI_IRQ_MSI;
	else
		c->type = PCI_IRQ_INTX;
	type = c->type;
	for (i = 0; i < n; i++) {
		struct pmt_vec *v = &c->vec[i];

		v->c = c;
		v->index = i;
		v->cpu = -1;
		v->irq = pci_irq_vector(pdev, i);
		if (v->irq <= 0) {
			pmt_fail(t, "pci_irq_vector(%u) of %u %s: %d", i, n,
				 type_name(type), v->irq);
			break;
		}
		ret = request_irq(v->irq, type == PCI_IRQ_INTX ? intx_handler : msi_handler,
				  type == PCI_IRQ_INTX ? IRQF_SHARED : 0, KBUILD_MODNAME, v);
		if (ret) {
			pmt_fail(t, "request_irq(%d) for vector %u of %u %s: %d",
				 v->irq, i, n, type_name(type), ret);
			break;
		}
		c->requested++;
		if (handler_waits_for_model(c))
			irq_set_affinity(v->irq, cpumask_of(pmt_test_cpu()));
	}
	return c;
}

/* free_irq() every handler, then the vectors; @c stays allocated. */
static void irqs_release(struct pmt_irqs *c)
{
	unsigned int i;

	for (i = 0; i < c->requested; i++)
		free_irq(c->vec[i].irq, &c->vec[i]);
	c->requested = 0;
	if (c->n)
		pci_free_irq_vectors(c->md->pdev);
	c->n = 0;
	WRITE_ONCE(c->freed, true);
}

static void irqs_free(struct pmt_irqs *c)
{
	if (!c)
		return;
	irqs_release(c);
	kvfree(c->vec);
	kfree(c);
}

static void irqs_reset(struct pmt_irqs *c)
{
	unsigned int i;

	for (i = 0; i < c->requested; i++)
		atomic_set(&c->vec[i].count, 0);
	atomic_set(&c->total, 0);
	atomic_set(&c->spurious, 0);
}

/* ---- waiting and checking ---------------------------------------------------- */

/* Sleeps until @a reaches @want or @ms pass; true if it did. */
static bool wait_atomic(atomic_t *a, int want, unsigned int ms)
{
	unsigned long end = jiffies + msecs_to_jiffies(ms);

	while (atomic_read(a) < want) {
		if (time_after(jiffies, end))
			return atomic_read(a) >= want;
		usleep_range(200, 1000);
	}
	return true;
}

/* Time for the deliveries in flight after the last raise to land, or not. */
#define SETTLE_MS	20

/* The model's error for the last raise: 0 when every raise was accepted. */
static void check_raise_err(struct pmt_run *t, const char *what)
{
	if (t->md->kind == PMT_TESTDEV)
		pmt_eq(t, readl(t->r + TESTDEV_IRQ_RAISE_ERR), 0,
		       "%s: IRQ_RAISE_ERR (errno of a refused raise)", what);
}

struct proc_line {
	int irq;
	unsigned int index;
};

static int cmp_proc_line(const void *a, const void *b)
{
	const struct proc_line *x = a, *y = b;

	return x->irq < y->irq ? -1 : x->irq > y->irq;
}

/* A decimal number at *@p (a digit is there); *@p moves past it. */
static u64 parse_dec(char **p)
{
	u64 v = 0;

	while (isdigit(**p))
		v = v * 10 + (*(*p)++ - '0');
	return v;
}

static char *proc_interrupts_text(size_t *lenp)
{
	size_t size = SZ_64K, len = 0;
	struct file *f;
	char *buf, *bigger;
	loff_t pos = 0;
	ssize_t got;

	f = filp_open("/proc/interrupts", O_RDONLY, 0);
	if (IS_ERR(f))
		return NULL;
	buf = kvmalloc(size, GFP_KERNEL);
	while (buf) {
		if (size - len < 4096) {
			bigger = kvmalloc(size * 2, GFP_KERNEL);
			if (bigger)
				memcpy(bigger, buf, len);
			kvfree(buf);
			buf = bigger;
			size *= 2;
			if (!buf)
				break;
		}
		got = kernel_read(f, buf + len, size - len - 1, &pos);
		if (got <= 0)
			break;
		len += got;
	}
	filp_close(f, NULL);
	if (buf)
		buf[len] = '\0';
	*lenp = len;
	return buf;
}

/*
 * Tests read /proc/interrupts under md->lock, which removal takes under
 * the PCI core's rescan lock. Read directly, that ties md->lock to the
 * one lock class all seq_files share, and through sysfs's `remove` (a
 * seq_file open, then the rescan lock) lockdep sees a cycle: not a real
 * deadlock (different files), but a report that fails the debug kernel's
 * log check. A work item does the read; waiting for it with a completion
 * (which lockdep does not follow, unlike flush_work()) keeps the chains
 * apart.
 */
struct proc_read {
	struct work_struct work;
	struct completion done;
	char *buf;
	size_t len;
};

static void proc_read_work(struct work_struct *work)
{
	struct proc_read *r = container_of(work, struct proc_read, work);

	r->buf = proc_interrupts_text(&r->len);
	complete(&r->done);	/* the last touch: the waiter frees @r */
}

static char *read_proc_interrupts(size_t *lenp)
{
	struct proc_read *r = kzalloc(sizeof(*r), GFP_KERNEL);
	char *buf;

	if (!r)
		return NULL;
	INIT_WORK(&r->work, proc_read_work);
	init_completion(&r->done);
	queue_work(system_unbound_wq, &r->work);
	wait_for_completion(&r->done);
	buf = r->buf;
	*lenp = r->len;
	kfree(r);
	return buf;
}

/*
 * /proc/interrupts, as a user reads it: each vector must be listed with
 * this driver's name and its per-CPU counts must add up to what the
 * handler saw (kstat_irqs_usr() is not exported; this is what it feeds).
 */
static void check_proc_interrupts(struct pmt_run *t, struct pmt_irqs *c,
				  const char *what)
{
	struct proc_line *map, key, *hit;
	unsigned long long sum;
	unsigned int i, listed = 0;
	char *buf, *p, *eol;
	size_t len;
	u64 *counts;

	map = kvcalloc(c->requested, sizeof(*map), GFP_KERNEL);
	counts = kvcalloc(c->requested, sizeof(*counts), GFP_KERNEL);
	buf = read_proc_interrupts(&len);
	if (!map || !counts || !buf) {
		pmt_fail(t, "%s: cannot read /proc/interrupts", what);
		goto out;
	}
	for (i = 0; i < c->requested; i++) {
		map[i].irq = c->vec[i].irq;
		map[i].index = i;
	}
	sort(map, c->requested, sizeof(*map), cmp_proc_line, NULL);
	for (p = buf; p < buf + len; p = eol + 1) {
		eol = strchrnul(p, '\n');
		*eol = '\0';
		p = skip_spaces(p);
		if (!isdigit(*p))
			continue;
		key.irq = parse_dec(&p);
		if (*p != ':')
			continue;
		hit = bsearch(&key, map, c->requested, sizeof(*map), cmp_proc_line);
		if (!hit)
			continue;
		p++;
		sum = 0;
		for (;;) {
			p = skip_spaces(p);
			if (!isdigit(*p))
				break;
			sum += parse_dec(&p);
		}
		if (!strstr(p, KBUILD_MODNAME))
			continue;
		counts[hit->index] = sum;
		listed++;
	}
	pmt_eq(t, listed, c->requested, "%s: vectors listed in /proc/interrupts", what);
	for (i = 0; i < c->requested; i++)
		if (!pmt_eq(t, counts[i], atomic_read(&c->vec[i].count),
			    "%s: /proc/interrupts count of vector %u (irq %d)",
			    what, i, c->vec[i].irq))
			break;
out:
	kvfree(buf);
	kvfree(counts);
	kvfree(map);
}

static void check_hardirq(struct pmt_run *t, struct pmt_irqs *c, const char *what)
{
	int n = atomic_read(&c->not_hardirq);

	if (n)
		pmt_fail(t, "%s: %d handler runs outside hard-IRQ context (%s)", what, n,
			 c->wrong_ctx);
}

/* Each requested vector ran exactly @k times, all in hard-IRQ context. */
static void check_counts(struct pmt_run *t, struct pmt_irqs *c, int k,
			 const char *what)
{
	unsigned int i;

	msleep(SETTLE_MS);
	for (i = 0; i < c->requested; i++)
		if (!pmt_eq(t, atomic_read(&c->vec[i].count), k,
			    "%s: handler runs of vector %u", what, i))
			break;
	check_hardirq(t, c, what);
}

/* ---- raising ------------------------------------------------------------------------ */

/*
 * edu raises through its status register: a second raise before the
 * handler acked the first merges with it (and two MSIs to a CPU that has
 * not taken the first may merge in the APIC), so wait for each.
 */
static bool raise_vec(struct pmt_run *t, struct pmt_irqs *c, unsigned int v)
{
	int before;

	if (!is_edu(c)) {
		writel(v, t->r + TESTDEV_IRQ_RAISE);
		return true;
	}
	before = atomic_read(&c->vec[v].count);
	writel(1, t->r + EDU_IRQ_RAISE);
	if (!wait_atomic(&c->vec[v].count, before + 1, 1000)) {
		pmt_fail(t, "edu: no interrupt within 1 s of a raise");
		return false;
	}
	return true;
}

/* n vectors of @type, each raised k times (round robin): counts exact. */
static void counts_run(struct pmt_run *t, unsigned int type, unsigned int n,
		       unsigned int k)
{
	struct pmt_irqs *c;
	unsigned int i, j;
	char what[32];

	snprintf(what, sizeof(what), "%u %s x%u", n, type_name(type), k);
	c = irqs_alloc(t, type, n);
	if (!c)
		return;
	if (t->failed)
		goto out;
	for (j = 0; j < k; j++)
		for (i = 0; i < n; i++)
			if (!raise_vec(t, c, i))
				goto out;
	check_raise_err(t, what);
	/* About 20 ms per thousand under TCG; be generous. */
	if (!wait_atomic(&c->total, n * k, 5000 + n * k * 10))
		pmt_fail(t, "%s: %d handler runs within %u ms, want %u", what,
			 atomic_read(&c->total), 5000 + n * k * 10, n * k);
	check_counts(t, c, k, what);
	check_proc_interrupts(t, c, what);
out:
	irqs_free(c);
}

static void test_msi(struct pmt_run *t)
{
	static const unsigned int sizes[] = { 1, 2, 4, 8, 16, 32 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes) && !t->failed; i++) {
		if (t->md->kind == PMT_EDU && sizes[i] > 1)
			break;	/* edu has one MSI vector */
		counts_run(t, PCI_IRQ_MSI, sizes[i], 3);
	}
}

/*
 * The kernel's own teardown of 2048 MSI-X vectors removes each one's
 * sysfs entry by a linear search: under TCG with KASAN and lockdep (the
 * debug kernel) that is tens of seconds without a scheduling point, an
 * RCU stall report, and the model starved meanwhile. 90-irq lowers this
 * there.
 */
static unsigned int max_vectors = TESTDEV_MSIX_VECTORS;
module_param(max_vectors, uint, 0644);
MODULE_PARM_DESC(max_vectors, "most MSI-X vectors an interrupt test allocates (default 2048)");

static void test_msix(struct pmt_run *t)
{
	static const unsigned int sizes[] = { 1, 2, 8, 64, 512, 2048 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes) && !t->failed; i++)
		if (sizes[i] <= max_vectors)
			counts_run(t, PCI_IRQ_MSIX, sizes[i],
				   sizes[i] >= 2048 ? 1 : sizes[i] >= 512 ? 2 : 3);
}

/* Raises through the model's eventfds (PCIEM_IOC_IRQFD) instead of the ioctl. */
static void test_irqfd(struct pmt_run *t)
{
	static const unsigned int sizes[] = { 1, 8, 64 };
	unsigned int i;

	writel(1, t->r + TESTDEV_IRQ_VIA_IRQFD);
	pmt_eq(t, readl(t->r + TESTDEV_IRQ_VIA_IRQFD), 1, "IRQ_VIA_IRQFD");
	for (i = 0; i < ARRAY_SIZE(sizes) && !t->failed; i++)
		counts_run(t, PCI_IRQ_MSIX, sizes[i], 3);
	writel(0, t->r + TESTDEV_IRQ_VIA_IRQFD);
	readl(t->r + TESTDEV_IRQ_VIA_IRQFD);
}

/* ---- masking ----------------------------------------------------------------------- */

/* The device's pending bit for @v: MSI-X PBA in BAR4, MSI Pending Bits in config. */
static int pending_bit(struct pmt_irqs *c, void __iomem *bar4, unsigned int v)
{
	struct pci_dev *pdev = c->md->pdev;
	u16 flags;
	u32 bits;

	if (c->type == PCI_IRQ_MSIX)
		return (readl(bar4 + TESTDEV_MSIX_PBA + 4 * (v / 32)) >> (v % 32)) & 1;
	pci_read_config_word(pdev, pdev->msi_cap + PCI_MSI_FLAGS, &flags);
	pci_read_config_dword(pdev, pdev->msi_cap + (flags & PCI_MSI_FLAGS_64BIT ?
			      PCI_MSI_PENDING_64 : PCI_MSI_PENDING_32), &bits);
	return (bits >> v) & 1;
}

/*
 * disable_irq() is lazy by default: it masks the vector only when an
 * interrupt arrives, then replays that one from software at enable_irq()
 * besides what the device holds pending. IRQ_DISABLE_UNLAZY masks at
 * once, so what runs after enable_irq() is exactly the device's pending
 * bit: three raises while masked, one interrupt.
 */
static void mask_run(struct pmt_run *t, unsigned int type, void __iomem *bar4)
{
	const unsigned int n = 4, m = 2;	/* vector m is masked */
	struct pmt_irqs *c;
	int irq, i;
	char what[16];

	snprintf(what, sizeof(what), "%s", type_name(type));
	c = irqs_alloc(t, type, n);
	if (!c)
		return;
	if (t->failed)
		goto out;
	irq = c->vec[m].irq;
	irq_set_status_flags(irq, IRQ_DISABLE_UNLAZY);
	disable_irq(irq);
	for (i = 0; i < 3; i++)
		raise_vec(t, c, m);
	/* the model raises in order: once vector 0 ran, m's raises were seen */
	raise_vec(t, c, 0);
	check_raise_err(t, what);
	if (!wait_atomic(&c->vec[0].count, 1, 2000))
		pmt_fail(t, "%s: unmasked vector 0 did not run", what);
	msleep(SETTLE_MS);
	pmt_eq(t, atomic_read(&c->vec[m].count), 0, "%s: runs of masked vector %u", what, m);
	pmt_eq(t, pending_bit(c, bar4, m), 1, "%s: pending bit of masked vector %u", what, m);
	pmt_eq(t, pending_bit(c, bar4, 0), 0, "%s: pending bit of vector 0", what);
	enable_irq(irq);
	if (!wait_atomic(&c->vec[m].count, 1, 2000))
		pmt_fail(t, "%s: vector %u did not run after enable_irq", what, m);
	msleep(SETTLE_MS);
	pmt_eq(t, atomic_read(&c->vec[m].count), 1,
	       "%s: runs of vector %u after enable_irq (3 raises while masked)", what, m);
	pmt_eq(t, pending_bit(c, bar4, m), 0, "%s: pending bit after enable_irq", what);
	/* and it is an ordinary vector again */
	raise_vec(t, c, m);
	if (!wait_atomic(&c->vec[m].count, 2, 2000))
		pmt_fail(t, "%s: vector %u did not run after being unmasked", what, m);
	check_hardirq(t, c, what);
	irq_clear_status_flags(irq, IRQ_DISABLE_UNLAZY);
out:
	irqs_free(c);
}

static void test_mask(struct pmt_run *t)
{
	void __iomem *bar4 = pci_iomap(t->md->pdev, 4, 0);

	if (!bar4) {
		pmt_fail(t, "pci_iomap(BAR4) failed");
		return;
	}
	mask_run(t, PCI_IRQ_MSIX, bar4);
	if (!t->failed)
		mask_run(t, PCI_IRQ_MSI, bar4);
	pci_iounmap(t->md->pdev, bar4);
}

/* ---- affinity ------------------------------------------------------------------------ */

static int effective_cpu(int irq)
{
	const struct cpumask *m = irq_get_effective_affinity_mask(irq);
	unsigned int cpu = m ? cpumask_first(m) : nr_cpu_ids;

	return cpu < nr_cpu_ids ? cpu : -1;
}

/* Move vector 0 of @c to every online CPU in turn; its handler must follow. */
static void affinity_run(struct pmt_run *t, struct pmt_irqs *c, bool raise_on_model_cpu)
{
	struct pmt_vec *v = &c->vec[0];
	const char *what = type_name(c->type);
	unsigned int cpu;
	int ret, want = 0;

	for_each_online_cpu(cpu) {
		ret = irq_set_affinity(v->irq, cpumask_of(cpu));
		if (ret) {
			pmt_fail(t, "%s: irq_set_affinity(%d, CPU %u): %d", what, v->irq, cpu, ret);
			break;
		}
		if (!pmt_eq(t, effective_cpu(v->irq), cpu,
			    "%s: effective affinity after irq_set_affinity(CPU %u)", what, cpu))
			break;
		if (!raise_on_model_cpu && (int)cpu == pmt_model_cpu())
			continue;
		if (c->type == PCI_IRQ_INTX)
			intx_raise(c);
		else
			raise_vec(t, c, 0);
		want++;
		if (!wait_atomic(&v->count, want, 2000)) {
			pmt_fail(t, "%s: no interrupt on CPU %u", what, cpu);
			break;
		}
		if (!pmt_eq(t, READ_ONCE(v->cpu), cpu, "%s: CPU the handler ran on", what))
			break;
	}
	irq_set_affinity(v->irq, cpu_online_mask);
}

static bool need_other_cpu(struct pmt_run *t)
{
	if ((int)pmt_test_cpu() != pmt_model_cpu())
		return true;
	pmt_fail(t, "needs a CPU other than model_cpu=%d (boot with 2 CPUs or more)",
		 pmt_model_cpu());
	return false;
}

static void test_affinity(struct pmt_run *t)
{
	struct pmt_irqs *c;

	c = irqs_alloc(t, PCI_IRQ_MSIX, 2);
	if (c && !t->failed)
		affinity_run(t, c, true);
	irqs_free(c);
	if (t->failed)
		return;
	c = irqs_alloc(t, PCI_IRQ_MSI, 1);
	if (c && !t->failed)
		affinity_run(t, c, true);
	irqs_free(c);
	if (t->failed || !need_other_cpu(t))
		return;
	/*
	 * INTx too (irqbalance and smp_affinity do this to every IRQ). Its
	 * handler reads the device, which cannot be answered from the
	 * model's own CPU in hard-IRQ context: no raise there.
	 */
	c = irqs_alloc(t, PCI_IRQ_INTX, 1);
	if (c && !t->failed) {
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
		/*
		 * Without IRQ_MOVE_PCNTXT x86 defers the move to the next
		 * interrupt's ack, which PCIem's INTx chip never calls: the
		 * move would stay pending for ever.
		 */
		if (!irqd_can_move_in_process_context(irq_get_irq_data(c->vec[0].irq)))
			pmt_fail(t, "INTx: irq %d cannot move in process context (no IRQ_MOVE_PCNTXT): irq_set_affinity would never take effect",
				 c->vec[0].irq);
		else
#endif
			affinity_run(t, c, false);
	}
	irqs_free(c);
}

/* ---- INTx ------------------------------------------------------------------------------ */

static bool status_intx(struct pci_dev *pdev)
{
	u16 st;

	pci_read_config_word(pdev, PCI_STATUS, &st);
	return st & PCI_STATUS_INTERRUPT;
}

/* Raise the line once; the handler leaves it high @noack times. */
static void intx_once(struct pmt_run *t, struct pmt_irqs *c, unsigned int noack)
{
	int want = noack + 1;

	irqs_reset(c);
	WRITE_ONCE(c->intx_noack, noack);
	intx_raise(c);
	if (!wait_atomic(&c->vec[0].count, want, 2000))
		pmt_fail(t, "INTx, %u runs without ack: %d handler runs within 2 s, want %d",
			 noack, atomic_read(&c->vec[0].count), want);
	msleep(SETTLE_MS * 2);
	pmt_eq(t, atomic_read(&c->vec[0].count), want,
	       "INTx, %u runs without ack: handler runs (a still-high line re-fires, a low one must not)",
	       noack);
	pmt_eq(t, status_intx(c->md->pdev), 0, "INTx: Interrupt Status after the ack");
}

static void test_intx(struct pmt_run *t)
{
	struct pci_dev *pdev = t->md->pdev;
	struct pmt_irqs *c;
	int irq;

	if (!pdev->irq) {
		pmt_fail(t, "pdev->irq is 0: no INTx IRQ assigned at probe");
		return;
	}
	if (t->md->kind == PMT_TESTDEV && !need_other_cpu(t))
		return;
	c = irqs_alloc(t, PCI_IRQ_INTX, 1);
	if (!c)
		return;
	if (t->failed)
		goto out;
	irq = c->vec[0].irq;
	pmt_eq(t, irq, pdev->irq, "pci_irq_vector(0) with INTx");
	if (!is_edu(c)) {
		/* The handler reads testdev: keep it off the model's CPU. */
		irq_set_affinity(irq, cpumask_of(pmt_test_cpu()));
		if (!pmt_eq(t, effective_cpu(irq), pmt_test_cpu(), "INTx: effective affinity"))
			goto out;
	}
	pmt_eq(t, status_intx(pdev), 0, "INTx: Interrupt Status before any raise");

	/* acked at once: one run */
	intx_once(t, c, 0);
	/* not acked three times: the high line re-enters the handler each time */
	intx_once(t, c, 3);

	/* Interrupt Disable gates the line; Interrupt Status still follows it */
	irqs_reset(c);
	WRITE_ONCE(c->intx_noack, 0);
	pci_intx(pdev, 0);
	intx_raise(c);
	if (!is_edu(c))
		readl(t->r + TESTDEV_IRQ_INTX);	/* the model has raised it */
	msleep(SETTLE_MS * 2);
	pmt_eq(t, atomic_read(&c->vec[0].count), 0, "INTx: runs with Interrupt Disable set");
	pmt_eq(t, status_intx(pdev), 1, "INTx: Interrupt Status while the line is high");
	pci_intx(pdev, 1);
	if (!wait_atomic(&c->vec[0].count, 1, 2000))
		pmt_fail(t, "INTx: clearing Interrupt Disable with the line high did not interrupt");
	msleep(SETTLE_MS * 2);
	pmt_eq(t, atomic_read(&c->vec[0].count), 1, "INTx: runs after clearing Interrupt Disable");
	pmt_eq(t, status_intx(pdev), 0, "INTx: Interrupt Status after the ack");
	check_hardirq(t, c, "INTx");
	/* PCIem gives each function an INTx IRQ of its own; edu's may be shared */
	if (!is_edu(c))
		pmt_eq(t, atomic_read(&c->spurious), 0, "INTx: runs the device did not ask for");
	check_raise_err(t, "INTx");
out:
	if (c->requested)
		irq_set_affinity(c->vec[0].irq, cpu_online_mask);
	irqs_free(c);
}

/* ---- configuration events ---------------------------------------------------------------- */

/*
 * The model hears of the driver's interrupt configuration (enable, masks,
 * table entries, Interrupt Disable) through events posted in order with
 * the driver's own accesses, so a register read right after a change
 * already sees the model's mirror of it.
 */
static void config_run(struct pmt_run *t, unsigned int type, unsigned int n)
{
	u32 modes = TESTDEV_IRQCFG_M_MSI | TESTDEV_IRQCFG_M_MSIX |
		    TESTDEV_IRQCFG_M_FMASK;
	u32 events = readl(t->r + TESTDEV_IRQCFG_EVENTS);
	u32 want = type == PCI_IRQ_MSIX ? TESTDEV_IRQCFG_M_MSIX :
		   TESTDEV_IRQCFG_M_MSI | n << TESTDEV_IRQCFG_M_NVEC_SHIFT;
	const char *what = type_name(type);
	struct pmt_irqs *c;
	int irq;

	c = irqs_alloc(t, type, n);
	if (!c)
		return;
	/* the vector count means something only with MSI enabled */
	if (type == PCI_IRQ_MSI)
		modes |= 0xff << TESTDEV_IRQCFG_M_NVEC_SHIFT;
	pmt_eq(t, readl(t->r + TESTDEV_IRQCFG_MODE) & modes, want,
	       "%s x%u: mode the model saw", what, n);
	pmt_eq(t, readl(t->r + TESTDEV_IRQCFG_UNMASKED), n,
	       "%s x%u: vectors the model saw unmasked after request_irq", what, n);
	irq = c->vec[n / 2].irq;
	irq_set_status_flags(irq, IRQ_DISABLE_UNLAZY);
	disable_irq(irq);
	pmt_eq(t, readl(t->r + TESTDEV_IRQCFG_UNMASKED), n - 1,
	       "%s x%u: unmasked after disable_irq of one", what, n);
	enable_irq(irq);
	irq_clear_status_flags(irq, IRQ_DISABLE_UNLAZY);
	pmt_eq(t, readl(t->r + TESTDEV_IRQCFG_UNMASKED), n,
	       "%s x%u: unmasked after enable_irq", what, n);
	irqs_free(c);
	pmt_eq(t, readl(t->r + TESTDEV_IRQCFG_MODE) & (TESTDEV_IRQCFG_M_MSI |
		  TESTDEV_IRQCFG_M_MSIX), 0, "%s x%u: mode after freeing the vectors", what, n);
	if (readl(t->r + TESTDEV_IRQCFG_EVENTS) - events < n)
		pmt_fail(t, "%s x%u: only %u configuration events", what, n,
			 readl(t->r + TESTDEV_IRQCFG_EVENTS) - events);
}

static void test_config(struct pmt_run *t)
{
	struct pci_dev *pdev = t->md->pdev;

	if (t->md->held) {
		pmt_fail(t, "vectors are held (irq release first)");
		return;
	}
	config_run(t, PCI_IRQ_MSIX, 8);
	if (!t->failed)
		config_run(t, PCI_IRQ_MSIX,
			   clamp_t(unsigned int, max_vectors, 8, TESTDEV_MSIX_VECTORS));
	if (!t->failed)
		config_run(t, PCI_IRQ_MSI, 4);
	pci_intx(pdev, 0);
	pmt_eq(t, readl(t->r + TESTDEV_IRQCFG_MODE) & TESTDEV_IRQCFG_M_INTX_DIS,
	       TESTDEV_IRQCFG_M_INTX_DIS, "Interrupt Disable the model saw after pci_intx(0)");
	pci_intx(pdev, 1);
	pmt_eq(t, readl(t->r + TESTDEV_IRQCFG_MODE) & TESTDEV_IRQCFG_M_INTX_DIS, 0,
	       "Interrupt Disable the model saw after pci_intx(1)");
}

/* ---- refused raises -------------------------------------------------------------------- */

static void test_raise_disabled(struct pmt_run *t)
{
	s64 runs = atomic64_read(&pmt_irq_runs);

	if (t->md->held) {
		pmt_fail(t, "vectors are held (irq release first)");
		return;
	}
	readl(t->r + TESTDEV_IRQ_RAISE_ERR);	/* clear */
	writel(0, t->r + TESTDEV_IRQ_RAISE);
	pmt_eq(t, readl(t->r + TESTDEV_IRQ_RAISE_ERR), EAGAIN,
	       "IRQ_RAISE_ERR after a raise with MSI and MSI-X off");
	pmt_eq(t, readl(t->r + TESTDEV_IRQ_RAISE_ERR), 0, "IRQ_RAISE_ERR read again (read clears)");
	msleep(SETTLE_MS);
	pmt_eq(t, atomic64_read(&pmt_irq_runs), runs, "handler runs");
}

static void test_raise_invalid(struct pmt_run *t)
{
	static const unsigned int types[] = { PCI_IRQ_MSIX, PCI_IRQ_MSI };
	static const u32 beyond[] = { TESTDEV_MSIX_VECTORS, 1 };
	struct pmt_irqs *c;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(types) && !t->failed; i++) {
		c = irqs_alloc(t, types[i], 1);
		if (!c)
			return;
		if (!t->failed) {
			readl(t->r + TESTDEV_IRQ_RAISE_ERR);
			writel(beyond[i], t->r + TESTDEV_IRQ_RAISE);
			pmt_eq(t, readl(t->r + TESTDEV_IRQ_RAISE_ERR), EINVAL,
			       "IRQ_RAISE_ERR after raising vector %u of one %s vector",
			       beyond[i], type_name(types[i]));
			msleep(SETTLE_MS);
			pmt_eq(t, atomic_read(&c->total), 0, "%s: handler runs", type_name(types[i]));
		}
		irqs_free(c);
	}
}

/* ---- storm -------------------------------------------------------------------------------- */

/* The @i-th online CPU, wrapping. */
static unsigned int nth_online_cpu(unsigned int i)
{
	unsigned int cpu, k = 0;

	i %= num_online_cpus();
	for_each_online_cpu(cpu)
		if (k++ == i)
			return cpu;
	return cpumask_first(cpu_online_mask);
}

static struct pmt_irqs *storm_vectors(struct pmt_run *t, unsigned int n)
{
	struct pmt_irqs *c = irqs_alloc(t, PCI_IRQ_MSIX, n);
	unsigned int i;

	if (!c || t->failed)
		return c;
	for (i = 0; i < c->requested; i++)
		irq_set_affinity(c->vec[i].irq, cpumask_of(nth_online_cpu(i)));
	return c;
}

static void storm_go(struct pmt_run *t, u32 count, u32 nvec)
{
	writel(count, t->r + TESTDEV_IRQ_STORM_COUNT);
	writel(nvec, t->r + TESTDEV_IRQ_STORM_NVEC);
	writel(1, t->r + TESTDEV_IRQ_STORM_GO);
}

/*
 * N raises from a model thread through the vectors' irqfds, spread over
 * every CPU: every one must arrive exactly once, and the guest must stay
 * usable meanwhile (this thread's 10 ms sleeps keep being served).
 */
static void test_storm(struct pmt_run *t)
{
	const u32 want = t->arg ?: PMT_STORM_DEFAULT;
	const unsigned int nvec = max(8u, num_online_cpus());
	u64 t0, now, last_wake, max_gap = 0, last_move;
	u32 done = 0, prev = 0;
	int handled, prev_handled = 0;
	unsigned int i;
	struct pmt_irqs *c;

	if (t->md->held) {
		pmt_fail(t, "vectors are held (irq release first)");
		return;
	}
	c = storm_vectors(t, nvec);
	if (!c)
		return;
	if (t->failed)
		goto out;
	readl(t->r + TESTDEV_IRQ_RAISE_ERR);
	t0 = ktime_get_ns();
	storm_go(t, want, nvec);
	last_wake = last_move = t0;
	for (;;) {
		usleep_range(10000, 10100);
		now = ktime_get_ns();
		max_gap = max(max_gap, now - last_wake);
		last_wake = now;
		done = readl(t->r + TESTDEV_IRQ_STORM_DONE);
		handled = atomic_read(&c->total);
		if (done == ~0u) {
			pmt_fail(t, "device gone after %u of %u raises, %d handled",
				 prev, want, handled);
			goto out;
		}
		if (done != prev || handled != prev_handled)
			last_move = now;
		prev = done;
		prev_handled = handled;
		if (done >= want && handled >= (int)want)
			break;
		if (now - last_move > 10 * NSEC_PER_SEC) {
			pmt_fail(t, "no progress for 10 s: %u of %u raises issued, %d handled",
				 done, want, handled);
			goto out;
		}
	}
	now = ktime_get_ns();
	msleep(SETTLE_MS);
	pmt_eq(t, readl(t->r + TESTDEV_IRQ_STORM_DONE), want, "STORM_DONE");
	pmt_eq(t, atomic_read(&c->total), want, "handler runs (lost or duplicated interrupts)");
	for (i = 0; i < c->requested; i++)
		if (!pmt_eq(t, atomic_read(&c->vec[i].count),
			    want / nvec + (i < want % nvec), "handler runs of vector %u", i))
			break;
	check_hardirq(t, c, "storm");
	check_raise_err(t, "storm");
	if (max_gap > 5 * NSEC_PER_SEC)
		pmt_fail(t, "a 10 ms sleep took %llu ms during the storm: the guest stalled",
			 div_u64(max_gap, NSEC_PER_MSEC));
	snprintf(t->note, sizeof(t->note),
		 "%u interrupts on %u vectors in %llu ms, %llu/s, longest 10 ms sleep %llu ms",
		 want, nvec, div_u64(now - t0, NSEC_PER_MSEC),
		 div64_u64((u64)want * NSEC_PER_SEC, max_t(u64, now - t0, 1)),
		 div_u64(max_gap, NSEC_PER_MSEC));
out:
	irqs_free(c);
}

/* ---- holding vectors for the shell ---------------------------------------------------------- */

/* `hold [N]`: N MSI-X vectors stay allocated (and in /proc/interrupts). */
static void test_hold(struct pmt_run *t)
{
	const unsigned int n = t->arg ?: PMT_HOLD_DEFAULT;
	struct pmt_irqs *c;
	unsigned int i;

	if (t->md->held) {
		pmt_fail(t, "already holding %u vectors", t->md->held->requested);
		return;
	}
	c = storm_vectors(t, n);
	if (!c)
		return;
	if (t->failed) {
		irqs_free(c);
		return;
	}
	for (i = 0; i < n; i++)
		raise_vec(t, c, i);
	check_raise_err(t, "hold");
	if (!wait_atomic(&c->total, n, 5000))
		pmt_fail(t, "%d of %u vectors ran", atomic_read(&c->total), n);
	check_counts(t, c, 1, "hold");
	if (t->failed) {
		irqs_free(c);
		return;
	}
	t->md->held = c;
	snprintf(t->note, sizeof(t->note), "%u vectors, irqs %d..%d", n,
		 c->vec[0].irq, c->vec[n - 1].irq);
}

static void test_release(struct pmt_run *t)
{
	irqs_free(t->md->held);
	t->md->held = NULL;
}

/* `storm-start N`: a storm on the held vectors; returns at once. */
static void test_storm_start(struct pmt_run *t)
{
	struct pmt_irqs *c = t->md->held;

	if (!c) {
		pmt_fail(t, "no vectors held (irq hold first)");
		return;
	}
	storm_go(t, t->arg ?: PMT_STORM_DEFAULT, c->requested);
}

const struct pmt_test pmt_irq_tests[] = {
	{ "msi", test_msi, PMT_F_TESTDEV | PMT_F_EDU },
	{ "msix", test_msix, PMT_F_TESTDEV },
	{ "mask", test_mask, PMT_F_TESTDEV },
	{ "affinity", test_affinity, PMT_F_TESTDEV },
	{ "intx", test_intx, PMT_F_TESTDEV | PMT_F_EDU },
	{ "config", test_config, PMT_F_TESTDEV },
	{ "raise-disabled", test_raise_disabled, PMT_F_TESTDEV },
	{ "raise-invalid", test_raise_invalid, PMT_F_TESTDEV },
	{ "irqfd", test_irqfd, PMT_F_TESTDEV },
	{ "storm", test_storm, PMT_F_TESTDEV | PMT_F_EXPLICIT },
	{ "hold", test_hold, PMT_F_TESTDEV | PMT_F_EXPLICIT },
	{ "release", test_release, PMT_F_TESTDEV | PMT_F_EXPLICIT },
	{ "storm-start", test_storm_start, PMT_F_TESTDEV | PMT_F_EXPLICIT },
	{ }
};

/* ---- bench irq N -------------------------------------------------------------------------------- */

struct pmt_irq_bench {
	struct pmt_dev *md;
	u32 n;
	int err;
	u64 total_ns, burst_ns;
	u32 delivered;
};

static void bench_raise(struct pmt_irqs *c)
{
	if (is_edu(c))
		writel(1, c->r + EDU_IRQ_RAISE);
	else
		writel(0, c->r + TESTDEV_IRQ_RAISE);
}

/* Spins (this CPU; the model runs on another) until @v->count passes @before. */
static bool bench_wait(struct pmt_vec *v, int before, u64 start, u64 limit_ns)
{
	while (atomic_read(&v->count) == before) {
		if (ktime_get_ns() - start > limit_ns)
			return false;
		cpu_relax();
	}
	smp_rmb();	/* pairs with the handler's smp_mb__before_atomic() */
	return true;
}

/* Runs on the bench CPU, where the vector's handler runs too. */
static int irq_bench_fn(void *data)
{
	struct pmt_irq_bench *b = data;
	struct pmt_dev *md = b->md;
	struct pmt_run t = { .md = md, .r = md->regs };
	struct pmt_irqs *c;
	struct pmt_vec *v;
	int before, i;
	u64 t0, last = 0;

	c = irqs_alloc(&t, md->kind == PMT_EDU ? PCI_IRQ_MSI | PCI_IRQ_INTX : PCI_IRQ_MSIX, 1);
	if (!c)
		return b->err = -ENOMEM;
	if (t.failed || !c->requested) {
		b->err = -EIO;
		goto out;
	}
	/* INTx handlers take intx_handler's path: acked at once */
	v = &c->vec[0];
	irq_set_affinity(v->irq, cpumask_of(raw_smp_processor_id()));
	/* warm up; also lets x86 apply a deferred affinity move (edu) */
	for (i = 0; i < 20; i++) {
		before = atomic_read(&v->count);
		t0 = ktime_get_ns();
		bench_raise(c);
		if (!bench_wait(v, before, t0, NSEC_PER_SEC)) {
			b->err = -ETIMEDOUT;
			goto out;
		}
	}
	/* latency: raise, wait for the handler, repeat */
	b->total_ns = 0;
	for (i = 0; i < b->n; i++) {
		before = atomic_read(&v->count);
		t0 = ktime_get_ns();
		bench_raise(c);
		if (!bench_wait(v, before, t0, NSEC_PER_SEC)) {
			b->err = -ETIMEDOUT;
			goto out;
		}
		b->total_ns += READ_ONCE(v->t_entry) - t0;
		if ((i & 255) == 255)
			cond_resched();
	}
	/* throughput: N raises back to back, then until the last one ran */
	before = atomic_read(&v->count);
	t0 = ktime_get_ns();
	for (i = 0; i < b->n; i++)
		bench_raise(c);
	for (;;) {
		int got = atomic_read(&v->count) - before;

		if (got >= b->n)
			break;
		/* edu merges raises its handler has not acked yet: stop when quiet */
		if (ktime_get_ns() - max(t0, READ_ONCE(v->t_entry)) > 200 * NSEC_PER_MSEC)
			break;
		cpu_relax();
	}
	msleep(SETTLE_MS);
	smp_rmb();	/* pairs with the handler's smp_mb__before_atomic() */
	last = READ_ONCE(v->t_entry);
	b->delivered = atomic_read(&v->count) - before;
	b->burst_ns = last > t0 ? last - t0 : 1;
	if (md->kind == PMT_TESTDEV && readl(md->regs + TESTDEV_IRQ_RAISE_ERR))
		b->err = -EIO;
out:
	irqs_free(c);
	return b->err;
}

/**
 * pmt_irq_bench() - `bench irq N`: interrupt latency and throughput
 * @md:		the device; caller holds md->lock
 * @n:		interrupts per measurement
 *
 * Latency: N times, ktime_get_ns() then the write that makes the device
 * raise, until the handler's ktime_get_ns() at entry. Throughput: N
 * raises written back to back, until the last handler entry. md->bench
 * then reads "irq N <total_ns> <ns_per_irq> <irqs_per_s> <delivered>".
 *
 * Return: 0 or a negative errno.
 */
int pmt_irq_bench(struct pmt_dev *md, u32 n)
{
	struct pmt_irq_bench b = { .md = md, .n = n };
	unsigned int cpu = pmt_test_cpu();

	if (n == 0 || n > PMT_BENCH_IRQ_MAX)
		return -EINVAL;
	if (md->held)
		return -EBUSY;
	smp_call_on_cpu(cpu, irq_bench_fn, &b, false);
	if (b.err)
		return b.err;
	scnprintf(md->bench, sizeof(md->bench), "irq %u %llu %llu %llu %u\n", n,
		  b.total_ns, div_u64(b.total_ns, n),
		  div64_u64((u64)b.delivered * NSEC_PER_SEC, b.burst_ns), b.delivered);
	return 0;
}

/* ---- teardown -------------------------------------------------------------------------------------- */

/**
 * pmt_irq_remove() - the function is going away: free held vectors
 * @md:		the device; caller holds md->lock
 *
 * The set stays allocated (graveyard) so that a handler which ran after
 * this would be counted as late instead of touching freed memory.
 */
void pmt_irq_remove(struct pmt_dev *md)
{
	struct pmt_irqs *c = md->held;

	md->held = NULL;
	if (c) {
		irqs_release(c);
		mutex_lock(&pmt_irq_graveyard_lock);
		list_add(&c->list, &pmt_irq_graveyard);
		mutex_unlock(&pmt_irq_graveyard_lock);
	}
	atomic64_set(&pmt_irq_runs_at_remove, atomic64_read(&pmt_irq_runs));
	atomic_inc(&pmt_irq_removes);
}

/* The root `irq_stats` file: for checks made after the function is gone. */
void pmt_irq_stats_show(struct seq_file *s)
{
	s64 runs = atomic64_read(&pmt_irq_runs);

	seq_printf(s, "runs %lld\n", runs);
	seq_printf(s, "removes %d\n", atomic_read(&pmt_irq_removes));
	seq_printf(s, "runs_since_remove %lld\n", runs - atomic64_read(&pmt_irq_runs_at_remove));
	seq_printf(s, "late %lld\n", atomic64_read(&pmt_irq_late));
}

void pmt_irq_exit(void)
{
	struct pmt_irqs *c, *tmp;

	list_for_each_entry_safe(c, tmp, &pmt_irq_graveyard, list) {
		list_del(&c->list);
		kvfree(c->vec);
		kfree(c);
	}
}
