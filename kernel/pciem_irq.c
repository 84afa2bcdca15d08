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
 * Masking follows the PCI spec. An MSI-X vector that is masked (per
 * entry, or by Function Mask) sets its PBA bit instead and fires once
 * when unmasked; likewise an MSI vector with per-vector masking and its
 * Pending bit. The MSI-X table and PBA live in the BAR the capability
 * names; the trap serves those ranges here, in the kernel, so masking an
 * interrupt never waits for the model.
 *
 * INTx is level-triggered: the model drives the line; while it stays
 * high after the handler returns, it fires again. Interrupt Disable in
 * the command register gates it and Interrupt Status reflects it.
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

#define MSIX_ENTRY_SIZE		16
#define MSIX_CTRL_MASKBIT	1
#define MSI_FLAGS_ENABLE	0x0001
#define MSI_FLAGS_MME_SHIFT	4
#define MSIX_FLAGS_ENABLE	0x8000
#define MSIX_FLAGS_MASKALL	0x4000
#define STATUS_INTERRUPT	0x0008
#define COMMAND_INTX_DISABLE	0x0400

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

/* ---- MSI-X ---------------------------------------------------------------------- */

static u32 *msix_entry(struct pciem_irq *irq, unsigned int i)
{
	return &irq->msix_table[i * (MSIX_ENTRY_SIZE / 4)];
}

static bool msix_entry_masked(struct pciem_irq *irq, unsigned int i)
{
	return irq->msix_fmask || (msix_entry(irq, i)[3] & MSIX_CTRL_MASKBIT);
}

/* Deliver what became deliverable. Caller holds irq->lock. */
static void msix_flush_pending(struct pciem_function *fn)
{
	struct pciem_irq *irq = &fn->irq;
	unsigned int i;

	if (!irq->msix_enabled || irq->msix_fmask)
		return;
	for_each_set_bit(i, irq->msix_pba, irq->msix_n) {
		if (msix_entry_masked(irq, i))
			continue;
		__clear_bit(i, irq->msix_pba);
		vec_fire(&irq->vec[i]);
	}
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
	unsigned long flags;
	u64 tsize = (u64)irq->msix_n * MSIX_ENTRY_SIZE;
	u64 psize = BITS_TO_LONGS(irq->msix_n) * sizeof(long);
	u32 before[MSIX_ENTRY_SIZE / 4], entry_data = 0, entry_mask = 0;
	unsigned int i, b;
	bool changed = false;
	u8 *bytes;

	if (!irq->msix_n)
		return false;
	if (bar == irq->table_bar && off >= irq->table_off &&
	    off + size <= irq->table_off + tsize) {
		off -= irq->table_off;
		raw_spin_lock_irqsave(&irq->lock, flags);
		bytes = (u8 *)irq->msix_table;
		if (!write) {
			*val = 0;
			for (b = 0; b < size; b++)
				*val |= (u64)bytes[off + b] << (8 * b);
		} else {
			i = off / MSIX_ENTRY_SIZE;
			memcpy(before, msix_entry(irq, i), MSIX_ENTRY_SIZE);
			for (b = 0; b < size; b++) {
				u64 o = off + b;

				/* Only the Mask bit of Vector Control is RW. */
				if ((o & 15) >= 12 && ((o & 15) != 12))
					continue;
				if ((o & 15) == 12)
					bytes[o] = (bytes[o] & ~MSIX_CTRL_MASKBIT) |
						   ((*val >> (8 * b)) & MSIX_CTRL_MASKBIT);
				else
					bytes[o] = *val >> (8 * b);
			}
			if (test_bit(i, irq->msix_pba) && !msix_entry_masked(irq, i))
				msix_flush_pending(fn);
			changed = memcmp(before, msix_entry(irq, i), MSIX_ENTRY_SIZE);
			entry_data = msix_entry(irq, i)[2];
			entry_mask = msix_entry(irq, i)[3] & MSIX_CTRL_MASKBIT;
		}
		raw_spin_unlock_irqrestore(&irq->lock, flags);
		/* Entries can be written in any size; the model sees whole ones. */
		if (changed) {
			if ((before[3] & MSIX_CTRL_MASKBIT) != entry_mask)
				trace_pciem_irq_mask(fn, i, entry_mask);
			pciem_ring_irq_event(fn, PCIEM_IRQ_EV_MSIX_ENTRY, i,
					     (u64)entry_data << 32 | entry_mask);
		}
		return true;
	}
	if (bar == irq->pba_bar && off >= irq->pba_off &&
	    off + size <= irq->pba_off + psize) {
		/* Pending bits are the device's: writes are ignored. */
		if (!write) {
			bytes = (u8 *)irq->msix_pba;
			raw_spin_lock_irqsave(&irq->lock, flags);
			*val = 0;
			for (b = 0; b < size; b++)
				*val |= (u64)bytes[off - irq->pba_off + b] << (8 * b);
			raw_spin_unlock_irqrestore(&irq->lock, flags);
		}
		return true;
	}
	return false;
}

/* ---- MSI ------------------------------------------------------------------------- */

static bool msi_vector_masked(struct pciem_irq *irq, unsigned int v)
{
	return irq->msi_maskable && (irq->msi_mask & (1u << v));
}

static void msi_flush_pending(struct pciem_function *fn)
{
	struct pciem_irq *irq = &fn->irq;
	unsigned int v;

	if (!irq->msi_enabled)
		return;
	for (v = 0; v < irq->msi_nvec; v++) {
		if ((irq->msi_pending & (1u << v)) && !msi_vector_masked(irq, v)) {
			irq->msi_pending &= ~(1u << v);
			vec_fire(&irq->vec[v]);
		}
	}
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
	struct pciem_irq *irq = &fn->irq;
	u32 mask = size == 4 ? ~0u : (1u << (8 * size)) - 1;
	unsigned int reg;

	/* Accesses are naturally aligned: one never straddles a dword. */
	if (irq->msi_maskable) {
		reg = fn->cfg.layout.msi_data + 8;	/* Pending Bits */
		if (where >= reg && where < reg + 4)
			*val = (READ_ONCE(irq->msi_pending) >>
				(8 * (where - reg))) & mask;
	}
	if (where <= PCI_STATUS && where + size > PCI_STATUS &&
	    READ_ONCE(irq->intx_level))
		*val |= STATUS_INTERRUPT << (8 * (PCI_STATUS - where));
}

static void add_event(struct pciem_irq_events *ev, u32 event, u32 index,
		      u64 data)
{
	if (WARN_ON_ONCE(ev->n >= ARRAY_SIZE(ev->ev)))
		return;
	ev->ev[ev->n].event = event;
	ev->ev[ev->n].index = index;
	ev->ev[ev->n].data = data;
	ev->n++;
}

/* MSI control or message written: mirror it, note what changed. */
static void msi_written(struct pciem_function *fn, struct pciem_irq_events *ev)
{
	struct pciem_irq *irq = &fn->irq;
	bool was = irq->msi_enabled;
	u32 nvec = irq->msi_nvec, data = irq->msi_data, mask = irq->msi_mask;
	u32 ctl = pciem_cfg_read(&fn->cfg, fn->cfg.layout.msi + PCI_MSI_FLAGS, 2);

	irq->msi_enabled = ctl & MSI_FLAGS_ENABLE;
	irq->msi_nvec = 1u << ((ctl & PCI_MSI_FLAGS_QSIZE) >> MSI_FLAGS_MME_SHIFT);
	irq->msi_data = pciem_cfg_read(&fn->cfg, fn->cfg.layout.msi_data, 2);
	if (irq->msi_maskable)
		irq->msi_mask = pciem_cfg_read(&fn->cfg,
					       fn->cfg.layout.msi_data + 4, 4);
	if (irq->msi_enabled && !was)
		irq->msi_pending = 0;
	msi_flush_pending(fn);
	if (irq->msi_enabled != was || irq->msi_nvec != nvec ||
	    irq->msi_data != data)
		add_event(ev, PCIEM_IRQ_EV_MSI, 0,
			  (u64)irq->msi_data << 32 | irq->msi_nvec << 8 |
			  irq->msi_enabled);
	if (irq->msi_mask != mask) {
		unsigned long bits = irq->msi_mask ^ mask;
		unsigned int v;

		for_each_set_bit(v, &bits, 32)
			trace_pciem_irq_mask(fn, v, irq->msi_mask & BIT(v));
		add_event(ev, PCIEM_IRQ_EV_MSI_MASK, 0, irq->msi_mask);
	}
}

/* MSI-X control written: mirror Enable and Function Mask. */
static void msix_written(struct pciem_function *fn,
			 struct pciem_irq_events *ev)
{
	struct pciem_irq *irq = &fn->irq;
	bool was = irq->msix_enabled, fmask = irq->msix_fmask;
	u32 ctl = pciem_cfg_read(&fn->cfg, fn->cfg.layout.msix + PCI_MSIX_FLAGS, 2);

	irq->msix_enabled = ctl & MSIX_FLAGS_ENABLE;
	irq->msix_fmask = ctl & MSIX_FLAGS_MASKALL;
	if (irq->msix_enabled && !was)
		bitmap_zero(irq->msix_pba, irq->msix_n);
	msix_flush_pending(fn);
	if (irq->msix_enabled != was || irq->msix_fmask != fmask)
		add_event(ev, PCIEM_IRQ_EV_MSIX, 0,
			  irq->msix_enabled | irq->msix_fmask << 1);
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
			   unsigned int size, struct pciem_irq_events *ev)
{
	struct pciem_irq *irq = &fn->irq;
	const struct pciem_cfg_layout *l = &fn->cfg.layout;
	unsigned long flags;
	bool was;

	raw_spin_lock_irqsave(&irq->lock, flags);
	if (l->msix && where < l->msix + 4 && where + size > l->msix + 2)
		msix_written(fn, ev);
	if (l->msi && where < l->msi + 0x18 && where + size > l->msi + 2)
		msi_written(fn, ev);
	if (where < PCI_COMMAND + 2 && where + size > PCI_COMMAND) {
		was = irq->intx_disabled;
		irq->intx_disabled = pciem_cfg_read(&fn->cfg, PCI_COMMAND, 2) &
				     COMMAND_INTX_DISABLE;
		if (irq->intx_disabled != was)
			add_event(ev, PCIEM_IRQ_EV_INTX_DISABLE, 0,
				  irq->intx_disabled);
		raw_spin_unlock_irqrestore(&irq->lock, flags);
		intx_deliver(fn);
		return;
	}
	raw_spin_unlock_irqrestore(&irq->lock, flags);
}

/**
 * pciem_irq_post_events() - tell the model what pciem_irq_cfg_written() found
 * @fn:		function; no locks held
 * @ev:		the changes
 */
void pciem_irq_post_events(struct pciem_function *fn,
			   const struct pciem_irq_events *ev)
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
	struct pciem_vec *fire = NULL;
	unsigned long flags;
	int ret = 0;

	raw_spin_lock_irqsave(&irq->lock, flags);
	if (irq->msix_enabled) {
		if (vector >= irq->msix_n)
			ret = -EINVAL;
		else if (msix_entry_masked(irq, vector))
			__set_bit(vector, irq->msix_pba);
		else
			fire = &irq->vec[vector];
		if (!ret && test_bit(vector, irq->msix_pba))
			ret = 1;	/* for the trace: pending */
	} else if (irq->msi_enabled) {
		if (vector >= irq->msi_nvec)
			ret = -EINVAL;
		else if (msi_vector_masked(irq, vector))
			irq->msi_pending |= 1u << vector;
		else
			fire = &irq->vec[vector];
		if (!ret && (irq->msi_pending & BIT(vector)))
			ret = 1;
	} else {
		ret = -EAGAIN;
	}
	/*
	 * Traced before the message is sent: its handler may run at once,
	 * on another CPU or here as soon as interrupts are on again, and a
	 * trace must not show the delivery before the raise.
	 */
	trace_pciem_irq_raise(fn, vector, ret);
	if (fire)
		vec_fire(fire);
	raw_spin_unlock_irqrestore(&irq->lock, flags);
	if (ret == -EAGAIN || ret == -EINVAL)
		atomic64_inc(&irq->dropped);
	return ret < 0 ? ret : 0;
}

/* Fire INTx if the line is high, enabled and not masked by the handler. */
static void intx_deliver(struct pciem_function *fn)
{
	struct pciem_irq *irq = &fn->irq;

	if (READ_ONCE(irq->intx_level) && !READ_ONCE(irq->intx_disabled) &&
	    !READ_ONCE(irq->intx_masked) && READ_ONCE(irq->intx_virq) &&
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
	if (!pciem_cfg_read(&fn->cfg, PCI_INTERRUPT_PIN, 1))
		return -EINVAL;
	WRITE_ONCE(fn->irq.intx_level, level);
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
	const struct pciem_cfg_layout *l = &fn->cfg.layout;
	unsigned int i, n = 0;
	u32 v;

	raw_spin_lock_init(&irq->lock);
	if (l->msix) {
		irq->msix_n = (pciem_cfg_read(&fn->cfg, l->msix + PCI_MSIX_FLAGS, 2) &
			       PCI_MSIX_FLAGS_QSIZE) + 1;
		v = pciem_cfg_read(&fn->cfg, l->msix + PCI_MSIX_TABLE, 4);
		irq->table_bar = v & PCI_MSIX_TABLE_BIR;
		irq->table_off = v & PCI_MSIX_TABLE_OFFSET;
		v = pciem_cfg_read(&fn->cfg, l->msix + PCI_MSIX_PBA, 4);
		irq->pba_bar = v & PCI_MSIX_PBA_BIR;
		irq->pba_off = v & PCI_MSIX_PBA_OFFSET;
		irq->msix_table = kvzalloc(irq->msix_n * MSIX_ENTRY_SIZE,
					   GFP_KERNEL);
		irq->msix_pba = bitmap_zalloc(irq->msix_n, GFP_KERNEL);
		if (!irq->msix_table || !irq->msix_pba)
			return -ENOMEM;
		/* Every entry comes out of reset masked. */
		for (i = 0; i < irq->msix_n; i++)
			msix_entry(irq, i)[3] = MSIX_CTRL_MASKBIT;
		n = irq->msix_n;
	}
	if (l->msi) {
		v = pciem_cfg_read(&fn->cfg, l->msi + PCI_MSI_FLAGS, 2);
		irq->msi_maskable = v & PCI_MSI_FLAGS_MASKBIT;
		n = max(n, 1u << ((v & PCI_MSI_FLAGS_QMASK) >> 1));
	}
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
	kvfree(irq->msix_table);
	bitmap_free(irq->msix_pba);
}

/* The function left the bus: its INTx mapping goes too. */
void pciem_irq_detach(struct pciem_function *fn)
{
	unsigned int virq = READ_ONCE(fn->irq.intx_virq);

	WRITE_ONCE(fn->irq.intx_level, false);
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
