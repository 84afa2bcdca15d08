// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Interrupts of PCIem functions.
 *
 * MSI and MSI-X go through an MSI irq domain attached to PCIem's root bus
 * (as vmd.c does for its bus), so pci_alloc_irq_vectors() works
 * unchanged. The domain has no parent: no interrupt controller decodes
 * the messages, PCIem delivers a raised vector itself by running the
 * handler of the Linux IRQ mapped to (devfn, vector), in hard-interrupt
 * context on the CPU the IRQ's affinity names: irq_work for the local
 * CPU, an async IPI for another.
 *
 * The rules (MSI / MSI-X enable, masking, the MSI-X table and PBA,
 * pending bits, Interrupt Disable) are kernel/rules/pciem_irq_rules.c,
 * shared with the SimHost and the vfio-user host; this file wraps them
 * with a lock and delivery. The trap hands the MSI-X table and PBA
 * ranges here, in the kernel, so masking an interrupt never waits for
 * the model.
 *
 * INTx is level-triggered: the model drives the line; while it stays
 * high after the handler returns, it fires again.
 *
 * Every raise is delivered exactly once: a per-vector counter of pending
 * deliveries is drained by the handler-side callback, so concurrent
 * raises are neither lost nor merged.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/irq.h>
#include <linux/irq_work.h>
#include <linux/irqdomain.h>
#include <linux/msi.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/version.h>

#include "pciem.h"
#include "pciem_arch.h"
#include "pciem_trace.h"

/* hwirq of a vector: devfn and index, unique on our single root bus. */
static irq_hw_number_t vec_hwirq(u8 devfn, unsigned int index)
{
	return ((irq_hw_number_t)devfn << 11) | index;
}

/* ---- the MSI domain ------------------------------------------------------ */

static void pciem_irq_noop(struct irq_data *d)
{
}

/*
 * The messages are never decoded by hardware; give them a recognisable,
 * well-formed shape (the local APIC range, data = low hwirq bits).
 */
static void pciem_msi_compose(struct irq_data *d, struct msi_msg *msg)
{
	msg->address_hi = 0;
	msg->address_lo = 0xfee00000;
	msg->data = d->hwirq & 0xffff;
}

/* Delivery reads the effective affinity; recording it is all it takes. */
static int pciem_msi_set_affinity(struct irq_data *d,
				  const struct cpumask *mask, bool force)
{
	unsigned int cpu = cpumask_first_and(mask, cpu_online_mask);

	if (cpu >= nr_cpu_ids)
		return -EINVAL;
	irq_data_update_effective_affinity(d, cpumask_of(cpu));
	return IRQ_SET_MASK_OK;
}

static struct irq_chip pciem_msi_chip = {
	.name = "PCIem-MSI",
	.irq_ack = pciem_irq_noop,
	.irq_set_affinity = pciem_msi_set_affinity,
	.irq_compose_msi_msg = pciem_msi_compose,
};

static void pciem_msi_set_desc(msi_alloc_info_t *arg, struct msi_desc *desc)
{
	arg->desc = desc;
	arg->hwirq = vec_hwirq(msi_desc_to_pci_dev(desc)->devfn,
			       desc->msi_index);
}

static int pciem_msi_init(struct irq_domain *domain,
			  struct msi_domain_info *info, unsigned int virq,
			  irq_hw_number_t hwirq, msi_alloc_info_t *arg)
{
	irq_domain_set_info(domain, virq, hwirq, info->chip, info->chip_data,
			    handle_edge_irq, NULL, "edge");
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
	/*
	 * Let affinity changes reach the chip at once, not at the next
	 * interrupt (x86 defers them otherwise).
	 */
	irq_set_status_flags(virq, IRQ_MOVE_PCNTXT);
#endif
	return 0;
}

static struct msi_domain_ops pciem_msi_ops = {
	.set_desc = pciem_msi_set_desc,
	.msi_init = pciem_msi_init,
};

static struct msi_domain_info pciem_msi_info = {
	.flags = MSI_FLAG_USE_DEF_DOM_OPS | MSI_FLAG_USE_DEF_CHIP_OPS |
		 MSI_FLAG_MULTI_PCI_MSI | MSI_FLAG_PCI_MSIX,
	.ops = &pciem_msi_ops,
	.chip = &pciem_msi_chip,
};

/* ---- the INTx domain ------------------------------------------------------ */

static void intx_deliver(struct pciem_function *fn);

static void pciem_intx_mask(struct irq_data *d)
{
	struct pciem_function *fn = irq_data_get_irq_chip_data(d);

	WRITE_ONCE(fn->irq.intx_masked, true);
}

/* handle_level_irq unmasks after the handler: a line still high fires. */
static void pciem_intx_unmask(struct irq_data *d)
{
	struct pciem_function *fn = irq_data_get_irq_chip_data(d);

	WRITE_ONCE(fn->irq.intx_masked, false);
	intx_deliver(fn);
}

static struct irq_chip pciem_intx_chip = {
	.name = "PCIem-INTx",
	.irq_mask = pciem_intx_mask,
	.irq_unmask = pciem_intx_unmask,
	.irq_set_affinity = pciem_msi_set_affinity,
};

static int pciem_intx_map(struct irq_domain *d, unsigned int virq,
			  irq_hw_number_t hwirq)
{
	irq_set_chip_and_handler_name(virq, &pciem_intx_chip, handle_level_irq,
				      "level");
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
	/* As for MSI: affinity changes must reach the chip at once. */
	irq_set_status_flags(virq, IRQ_MOVE_PCNTXT);
#endif
	return 0;
}

static const struct irq_domain_ops pciem_intx_ops = {
	.map = pciem_intx_map,
};

/*
 * pci_assign_irq() asks the host bridge for the IRQ of a pin at probe
 * time: give each function one Linux IRQ of our INTx domain.
 */
static int pciem_map_irq(const struct pci_dev *pdev, u8 slot, u8 pin)
{
	struct pciem_host *host = pciem_arch_bus_host(pdev->bus);
	struct pciem_function *fn;
	unsigned int virq;

	virq = irq_create_mapping(host->intx_domain, pdev->devfn);
	if (!virq)
		return -1;
	fn = pciem_function_of_pdev((struct pci_dev *)pdev);
	if (fn) {
		irq_set_chip_data(virq, fn);
		WRITE_ONCE(fn->irq.intx_virq, virq);
		pciem_function_put(fn);
	}
	return virq;
}

/* ---- delivery ----------------------------------------------------------------- */

/* Runs in hard-interrupt context on the target CPU. */
static void vec_run(struct pciem_vec *v)
{
	struct pciem_function *fn = v->fn;
	unsigned int virq;

	while (atomic_dec_if_positive(&v->pending) >= 0) {
		if (v->intx)
			virq = READ_ONCE(fn->irq.intx_virq);
		else
			virq = irq_find_mapping(fn->host->msi_domain,
						vec_hwirq(fn->devfn, v->index));
		if (!virq) {
			atomic64_inc(&fn->irq.lost);
			continue;
		}
		/* Before the handler: its register accesses come after. */
		trace_pciem_irq_deliver(fn, v->index, v->intx, virq);
		if (generic_handle_irq(virq)) {
			atomic64_inc(&fn->irq.lost);
			continue;
		}
		atomic64_inc(&fn->irq.delivered);
	}
	/* The reference vec_fire() took for this run. */
	pciem_function_put(fn);
}

static void vec_ipi(void *info)
{
	struct pciem_vec *v = info;

	/*
	 * The idle task flushes queued IPI callbacks itself, outside hard-IRQ
	 * context: hand those over to the irq_work of this CPU, which runs in
	 * hard-IRQ context. If it is already queued, it drains this delivery
	 * too; drop the reference this run held.
	 */
	if (!in_hardirq()) {
		if (!irq_work_queue(&v->work))
			pciem_function_put(v->fn);
		return;
	}
	vec_run(v);
}

static void vec_irq_work(struct irq_work *work)
{
	vec_run(container_of(work, struct pciem_vec, work));
}

static unsigned int target_cpu(struct pciem_vec *v)
{
	struct pciem_function *fn = v->fn;
	const struct cpumask *mask = NULL;
	struct irq_data *d;
	unsigned int virq, cpu;

	if (v->intx)
		virq = READ_ONCE(fn->irq.intx_virq);
	else
		virq = irq_find_mapping(fn->host->msi_domain,
					vec_hwirq(fn->devfn, v->index));
	d = virq ? irq_get_irq_data(virq) : NULL;
	if (d)
		mask = irq_data_get_effective_affinity_mask(d);
	cpu = mask ? cpumask_first_and(mask, cpu_online_mask) : nr_cpu_ids;
	return cpu < nr_cpu_ids ? cpu : cpumask_first(cpu_online_mask);
}

/*
 * Send one delivery of @v to its CPU. Any context but NMI; the caller
 * holds a reference on the function. Each queued run holds one more, so
 * the vector outlives every run in flight; if a run is already queued
 * (the work or the IPI is busy) it drains this delivery too.
 */
static void vec_fire(struct pciem_vec *v)
{
	unsigned int cpu;
	bool queued;

	atomic_inc(&v->pending);
	cpu = target_cpu(v);
	kref_get(&v->fn->ref);
	preempt_disable();
	if (cpu == smp_processor_id())
		queued = irq_work_queue(&v->work);
	else
		queued = !smp_call_function_single_async(cpu, &v->csd);
	preempt_enable();
	if (!queued)
		pciem_function_put(v->fn);
}

/* ---- the rules -------------------------------------------------------------------- */

/* The rules' delivery: under irq->lock, send MSI / MSI-X vector @vector. */
static void rules_fire(void *ctx, u32 vector)
{
	struct pciem_function *fn = ctx;

	vec_fire(&fn->irq.vec[vector]);
}

static void trace_mask_flips(struct pciem_function *fn,
			     const struct pciem_irq_rules_events *ev)
{
	unsigned long bits = ev->msi_mask_flips;
	unsigned int v;

	for_each_set_bit(v, &bits, 32)
		trace_pciem_irq_mask(fn, v, fn->irq.rules.msi_mask & BIT(v));
}

/**
 * pciem_irq_msix_access() - serve an access to the MSI-X table or PBA
 * @fn:		function
 * @bar:	BAR of the access
 * @off:	offset in the BAR
 * @size:	1, 2, 4 or 8
 * @write:	direction
 * @val:	value written, or read back
 *
 * Return: true if the access fell in the table or PBA and was served.
 */
bool pciem_irq_msix_access(struct pciem_function *fn, unsigned int bar,
			   u64 off, unsigned int size, bool write, u64 *val)
{
	struct pciem_irq *irq = &fn->irq;
	struct pciem_irq_rules_events ev = { 0 };
	unsigned long flags;
	bool served;

	/* The shape is fixed at init: most accesses miss without the lock. */
	if (!irq->rules.msix_n ||
	    (bar != irq->rules.table_bar && bar != irq->rules.pba_bar))
		return false;
	raw_spin_lock_irqsave(&irq->lock, flags);
	served = pciem_irq_rules_msix_access(&irq->rules, bar, off, size, write,
					     val, &ev);
	raw_spin_unlock_irqrestore(&irq->lock, flags);
	/* An entry changed: its index, data and Mask bit are in the event. */
	if (ev.n) {
		if (ev.msix_mask_flip)
			trace_pciem_irq_mask(fn, ev.ev[0].index,
					     ev.ev[0].data & 1);
		pciem_irq_post_events(fn, &ev);
	}
	return served;
}

/* ---- config space hooks ----------------------------------------------------------- */

/**
 * pciem_irq_cfg_read() - device-owned bits of config reads
 * @fn:		function; caller holds host->lock
 * @where:	offset
 * @size:	size
 * @val:	value read from the emulated space, patched here
 *
 * The MSI Pending bits and Interrupt Status are set by the device, so
 * they are read from the interrupt state rather than stored.
 */
void pciem_irq_cfg_read(struct pciem_function *fn, unsigned int where,
			unsigned int size, u32 *val)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&fn->irq.lock, flags);
	pciem_irq_rules_cfg_read(&fn->irq.rules, &fn->cfg, where, size, val);
	raw_spin_unlock_irqrestore(&fn->irq.lock, flags);
}

/**
 * pciem_irq_cfg_written() - react to a config write
 * @fn:		function; caller holds host->lock
 * @where:	offset written
 * @size:	size
 * @ev:		filled with the changes to tell the model of
 *
 * Mirrors MSI/MSI-X enable and masks into the interrupt state, resets
 * pending state on every enable (as a device does) and delivers what an
 * unmask made deliverable.
 */
void pciem_irq_cfg_written(struct pciem_function *fn, unsigned int where,
			   unsigned int size, struct pciem_irq_rules_events *ev)
{
	struct pciem_irq *irq = &fn->irq;
	unsigned long flags;

	raw_spin_lock_irqsave(&irq->lock, flags);
	pciem_irq_rules_cfg_written(&irq->rules, &fn->cfg, where, size, ev);
	raw_spin_unlock_irqrestore(&irq->lock, flags);
	trace_mask_flips(fn, ev);
	/* Interrupt Disable cleared with the line high: it fires. */
	if (where < PCI_COMMAND + 2 && where + size > PCI_COMMAND)
		intx_deliver(fn);
}

/**
 * pciem_irq_post_events() - tell the model what pciem_irq_cfg_written() found
 * @fn:		function; no locks held
 * @ev:		the changes
 */
void pciem_irq_post_events(struct pciem_function *fn,
			   const struct pciem_irq_rules_events *ev)
{
	unsigned int i;

	for (i = 0; i < ev->n; i++)
		pciem_ring_irq_event(fn, ev->ev[i].event, ev->ev[i].index,
				     ev->ev[i].data);
}

/* ---- raising ---------------------------------------------------------------------- */

/**
 * pciem_irq_raise() - the device signals MSI/MSI-X vector @vector
 * @fn:		function
 * @vector:	MSI-X table index, or MSI vector number
 *
 * Return: 0 when delivered or left pending; -EAGAIN when neither MSI nor
 * MSI-X is enabled (a device cannot signal then); -EINVAL for a vector
 * the enabled mode does not have.
 */
int pciem_irq_raise(struct pciem_function *fn, unsigned int vector)
{
	int ret = 0;

	if (READ_ONCE(fn->ring.dead))
		return -ENODEV;
	/* A raise an injected fault drops or delays looks fine to the model. */
	if (!pciem_fault_irq(fn, vector))
		ret = pciem_irq_deliver_raise(fn, vector);
	pciem_record_irq(fn, vector, ret, false);
	return ret;
}

/**
 * pciem_irq_deliver_raise() - signal @vector now, as the device's message
 * @fn:		function
 * @vector:	MSI-X table entry or MSI vector
 *
 * A raise past injected faults: from the model's pciem_irq_raise(), and
 * for delayed and spurious interrupts. Any context but NMI.
 *
 * Return: 0 (sent, or pending while masked), -EINVAL (no such vector) or
 * -EAGAIN (neither MSI nor MSI-X enabled).
 */
int pciem_irq_deliver_raise(struct pciem_function *fn, unsigned int vector)
{
	struct pciem_irq *irq = &fn->irq;
	unsigned long flags;
	int ret;

	/*
	 * Traced under the lock, before the handler can run (the rules fire
	 * the message at once; it runs on another CPU, or here as soon as
	 * interrupts are on again): a trace must not show the delivery
	 * before the raise. The trace gets 1 for pending.
	 */
	raw_spin_lock_irqsave(&irq->lock, flags);
	switch (pciem_irq_rules_raise(&irq->rules, vector)) {
	case PCIEM_IRQ_SENT:
		ret = 0;
		break;
	case PCIEM_IRQ_PENDING:
		ret = 1;
		break;
	case PCIEM_IRQ_NO_VECTOR:
		ret = -EINVAL;
		break;
	default:
		ret = -EAGAIN;
		break;
	}
	trace_pciem_irq_raise(fn, vector, ret);
	raw_spin_unlock_irqrestore(&irq->lock, flags);
	if (ret < 0)
		atomic64_inc(&irq->dropped);
	return ret < 0 ? ret : 0;
}

/* Fire INTx if the line is on and not masked by the handler. */
static void intx_deliver(struct pciem_function *fn)
{
	struct pciem_irq *irq = &fn->irq;
	unsigned long flags;
	bool on;

	raw_spin_lock_irqsave(&irq->lock, flags);
	on = pciem_irq_rules_intx_on(&irq->rules);
	raw_spin_unlock_irqrestore(&irq->lock, flags);
	if (on && !READ_ONCE(irq->intx_masked) && READ_ONCE(irq->intx_virq) &&
	    !atomic_read(&irq->intx_vec.pending))
		vec_fire(&irq->intx_vec);
}

/**
 * pciem_irq_set_intx() - the device drives its INTx line
 * @fn:		function
 * @level:	asserted or not
 */
int pciem_irq_set_intx(struct pciem_function *fn, bool level)
{
	unsigned long flags;
	bool pin;

	raw_spin_lock_irqsave(&fn->irq.lock, flags);
	pin = pciem_irq_rules_set_intx(&fn->irq.rules, level);
	raw_spin_unlock_irqrestore(&fn->irq.lock, flags);
	if (!pin)
		return -EINVAL;
	intx_deliver(fn);
	pciem_record_irq(fn, level, 0, true);
	return 0;
}

/* ---- lifetime ------------------------------------------------------------------------ */

static void vec_init(struct pciem_vec *v, struct pciem_function *fn,
		     unsigned int index, bool intx)
{
	v->fn = fn;
	v->index = index;
	v->intx = intx;
	atomic_set(&v->pending, 0);
	INIT_CSD(&v->csd, vec_ipi, v);
	init_irq_work(&v->work, vec_irq_work);
}

/* Size the interrupt state from the capabilities config space was built with. */
int pciem_irq_init(struct pciem_function *fn)
{
	struct pciem_irq *irq = &fn->irq;
	struct pciem_irq_rules *r = &irq->rules;
	unsigned int i, n;

	raw_spin_lock_init(&irq->lock);
	pciem_irq_rules_shape(r, &fn->cfg);
	r->fire = rules_fire;
	r->ctx = fn;
	if (r->msix_n) {
		r->msix_table = kvzalloc(pciem_irq_rules_table_bytes(r), GFP_KERNEL);
		r->msix_pba = kvcalloc(pciem_irq_rules_pba_words(r), sizeof(u64),
				       GFP_KERNEL);
		if (!r->msix_table || !r->msix_pba)
			return -ENOMEM;
	}
	pciem_irq_rules_reset(r);
	n = max(r->msix_n, r->msi_max);
	irq->nvec = n;
	if (n) {
		irq->vec = kvcalloc(n, sizeof(*irq->vec), GFP_KERNEL);
		if (!irq->vec)
			return -ENOMEM;
		for (i = 0; i < n; i++)
			vec_init(&irq->vec[i], fn, i, false);
	}
	vec_init(&irq->intx_vec, fn, 0, true);
	return 0;
}

/*
 * Called when the last reference is gone: no delivery is in flight, since
 * each holds a reference.
 */
void pciem_irq_free(struct pciem_function *fn)
{
	struct pciem_irq *irq = &fn->irq;

	kvfree(irq->vec);
	kvfree(irq->rules.msix_table);
	kvfree(irq->rules.msix_pba);
}

/* The function left the bus: its INTx mapping goes too. */
void pciem_irq_detach(struct pciem_function *fn)
{
	unsigned int virq = READ_ONCE(fn->irq.intx_virq);
	unsigned long flags;

	raw_spin_lock_irqsave(&fn->irq.lock, flags);
	fn->irq.rules.intx_level = false;
	raw_spin_unlock_irqrestore(&fn->irq.lock, flags);
	if (virq) {
		WRITE_ONCE(fn->irq.intx_virq, 0);
		synchronize_irq(virq);
		irq_dispose_mapping(virq);
	}
}

/* ---- host ------------------------------------------------------------------------------- */

int pciem_irq_host_init(struct pciem_host *host)
{
	host->msi_fwnode = irq_domain_alloc_named_id_fwnode("PCIem-MSI",
							     host->domain);
	if (!host->msi_fwnode)
		return -ENOMEM;
	host->msi_domain = pci_msi_create_irq_domain(host->msi_fwnode,
						     &pciem_msi_info, NULL);
	if (!host->msi_domain)
		goto err_fwnode;
	host->intx_domain = irq_domain_add_linear(NULL, PCIEM_NR_DEVFN,
						  &pciem_intx_ops, host);
	if (!host->intx_domain)
		goto err_msi;
	return 0;

err_msi:
	irq_domain_remove(host->msi_domain);
err_fwnode:
	irq_domain_free_fwnode(host->msi_fwnode);
	return -ENOMEM;
}

/* Attach the domains to the root bus before anything is scanned. */
void pciem_irq_host_attach(struct pciem_host *host)
{
	dev_set_msi_domain(&host->bus->dev, host->msi_domain);
	pci_find_host_bridge(host->bus)->map_irq = pciem_map_irq;
}

void pciem_irq_host_exit(struct pciem_host *host)
{
	irq_domain_remove(host->intx_domain);
	irq_domain_remove(host->msi_domain);
	irq_domain_free_fwnode(host->msi_fwnode);
}
