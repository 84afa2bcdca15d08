// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The interrupt rules of a PCIem function: MSI / MSI-X state, the table
 * and PBA, masking, pending bits, INTx. See pciem_irq_rules.h.
 */
#include <linux/pci_regs.h>

#include "pciem_irq_rules.h"

#define CTRL	PCI_MSIX_ENTRY_VECTOR_CTRL	/* byte of an entry's Vector Control */
#define MASKBIT	PCI_MSIX_ENTRY_CTRL_MASKBIT

void pciem_irq_rules_shape(struct pciem_irq_rules *r, const struct pciem_cfg *cfg)
{
	const struct pciem_cfg_layout *l = &cfg->layout;
	uint32_t v;

	r->msix_n = 0;
	r->msi_max = 0;
	r->msi_maskable = false;
	if (l->msix) {
		r->msix_n = (pciem_cfg_read(cfg, l->msix + PCI_MSIX_FLAGS, 2) &
			     PCI_MSIX_FLAGS_QSIZE) + 1;
		v = pciem_cfg_read(cfg, l->msix + PCI_MSIX_TABLE, 4);
		r->table_bar = v & PCI_MSIX_TABLE_BIR;
		r->table_off = v & PCI_MSIX_TABLE_OFFSET;
		v = pciem_cfg_read(cfg, l->msix + PCI_MSIX_PBA, 4);
		r->pba_bar = v & PCI_MSIX_PBA_BIR;
		r->pba_off = v & PCI_MSIX_PBA_OFFSET;
	}
	if (l->msi) {
		v = pciem_cfg_read(cfg, l->msi + PCI_MSI_FLAGS, 2);
		r->msi_maskable = v & PCI_MSI_FLAGS_MASKBIT;
		r->msi_max = 1u << ((v & PCI_MSI_FLAGS_QMASK) >> 1);
	}
	r->intx_pin = pciem_cfg_read(cfg, PCI_INTERRUPT_PIN, 1) != 0;
}

uint64_t pciem_irq_rules_table_bytes(const struct pciem_irq_rules *r)
{
	return (uint64_t)r->msix_n * PCIEM_IRQ_MSIX_ENTRY;
}

uint64_t pciem_irq_rules_pba_words(const struct pciem_irq_rules *r)
{
	return ((uint64_t)r->msix_n + 63) / 64;
}

void pciem_irq_rules_reset(struct pciem_irq_rules *r)
{
	uint32_t i;

	for (i = 0; i < pciem_irq_rules_table_bytes(r); i++)
		r->msix_table[i] = 0;
	/* Every entry comes out of reset masked. */
	for (i = 0; i < r->msix_n; i++)
		r->msix_table[i * PCIEM_IRQ_MSIX_ENTRY + CTRL] = MASKBIT;
	for (i = 0; i < pciem_irq_rules_pba_words(r); i++)
		r->msix_pba[i] = 0;
	r->msix_enabled = r->msix_fmask = r->msi_enabled = false;
	r->msi_nvec = r->msi_mask = r->msi_pending = r->msi_data = 0;
	r->intx_level = r->intx_disabled = false;
}

/* ---- MSI-X ---------------------------------------------------------------- */

static bool pba_test(const struct pciem_irq_rules *r, uint32_t i)
{
	return r->msix_pba[i / 64] >> (i % 64) & 1;
}

static void pba_set(struct pciem_irq_rules *r, uint32_t i, bool on)
{
	if (on)
		r->msix_pba[i / 64] |= (uint64_t)1 << (i % 64);
	else
		r->msix_pba[i / 64] &= ~((uint64_t)1 << (i % 64));
}

bool pciem_irq_rules_msix_masked(const struct pciem_irq_rules *r, uint32_t i)
{
	return r->msix_fmask || (r->msix_table[i * PCIEM_IRQ_MSIX_ENTRY + CTRL] & MASKBIT);
}

bool pciem_irq_rules_msix_pending(const struct pciem_irq_rules *r, uint32_t i)
{
	return i < r->msix_n && pba_test(r, i);
}

/* Deliver what became deliverable: enabled, unmasked and pending. */
static void msix_flush(struct pciem_irq_rules *r)
{
	uint32_t w, i;

	if (!r->msix_enabled || r->msix_fmask)
		return;
	for (w = 0; w < pciem_irq_rules_pba_words(r); w++) {
		if (!r->msix_pba[w])
			continue;
		for (i = w * 64; i < r->msix_n && i < w * 64 + 64; i++) {
			if (!pba_test(r, i) || pciem_irq_rules_msix_masked(r, i))
				continue;
			pba_set(r, i, false);
			r->fire(r->ctx, i);
		}
	}
}

static void add_event(struct pciem_irq_rules_events *ev, uint32_t event, uint32_t index,
		      uint64_t data)
{
	if (ev->n >= PCIEM_IRQ_RULES_MAX_EVENTS)
		return;	/* cannot happen: one of each kind per write at most */
	ev->ev[ev->n].event = event;
	ev->ev[ev->n].index = index;
	ev->ev[ev->n].data = data;
	ev->n++;
}

static uint32_t le32_at(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void table_write(struct pciem_irq_rules *r, uint64_t off, unsigned int size, uint64_t val,
			struct pciem_irq_rules_events *ev)
{
	uint32_t i = off / PCIEM_IRQ_MSIX_ENTRY;
	uint8_t *entry = r->msix_table + (uint64_t)i * PCIEM_IRQ_MSIX_ENTRY;
	uint8_t before[PCIEM_IRQ_MSIX_ENTRY];
	bool changed = false;
	unsigned int b;

	for (b = 0; b < PCIEM_IRQ_MSIX_ENTRY; b++)
		before[b] = entry[b];
	for (b = 0; b < size; b++) {
		uint64_t o = off + b;
		uint8_t byte = val >> (8 * b);

		/* Of Vector Control, only the Mask bit is writable. */
		if (o % PCIEM_IRQ_MSIX_ENTRY == CTRL)
			r->msix_table[o] = (r->msix_table[o] & ~MASKBIT) | (byte & MASKBIT);
		else if (o % PCIEM_IRQ_MSIX_ENTRY < CTRL)
			r->msix_table[o] = byte;
	}
	if (pba_test(r, i) && !pciem_irq_rules_msix_masked(r, i))
		msix_flush(r);
	for (b = 0; b < PCIEM_IRQ_MSIX_ENTRY; b++)
		changed |= before[b] != entry[b];
	/* Entries can be written in any size; the model sees whole ones. */
	if (changed) {
		ev->msix_mask_flip = (before[CTRL] ^ entry[CTRL]) & MASKBIT;
		add_event(ev, PCIEM_IRQ_EV_MSIX_ENTRY, i,
			  (uint64_t)le32_at(entry + PCI_MSIX_ENTRY_DATA) << 32 |
			  (entry[CTRL] & MASKBIT));
	}
}

bool pciem_irq_rules_msix_access(struct pciem_irq_rules *r, unsigned int bar, uint64_t off,
				 unsigned int size, bool write, uint64_t *val,
				 struct pciem_irq_rules_events *ev)
{
	uint64_t tsize = pciem_irq_rules_table_bytes(r);
	uint64_t psize = pciem_irq_rules_pba_words(r) * 8;
	unsigned int b;

	if (!r->msix_n)
		return false;
	/* Offsets below 2^32 and size at most 8: none of these sums wraps. */
	if (bar == r->table_bar && off >= r->table_off && off - r->table_off <= tsize &&
	    size <= tsize - (off - r->table_off)) {
		off -= r->table_off;
		if (write) {
			table_write(r, off, size, *val, ev);
			return true;
		}
		*val = 0;
		for (b = 0; b < size; b++)
			*val |= (uint64_t)r->msix_table[off + b] << (8 * b);
		return true;
	}
	if (bar == r->pba_bar && off >= r->pba_off && off - r->pba_off <= psize &&
	    size <= psize - (off - r->pba_off)) {
		/* Pending bits are the device's: writes are ignored. */
		if (!write) {
			off -= r->pba_off;
			*val = 0;
			for (b = 0; b < size; b++)
				*val |= (r->msix_pba[(off + b) / 8] >> (8 * ((off + b) % 8)) &
					 0xff) << (8 * b);
		}
		return true;
	}
	return false;
}

/* ---- MSI ------------------------------------------------------------------- */

static bool msi_masked(const struct pciem_irq_rules *r, uint32_t v)
{
	return r->msi_maskable && (r->msi_mask >> v & 1);
}

/*
 * Deliver what MSI masking held back. Not while MSI-X is enabled too
 * (software's error, which the spec leaves undefined): raise() then uses
 * MSI-X, and a vector fired now would reach the host as an MSI-X entry,
 * perhaps a masked one. It stays pending until MSI is alone again.
 */
static void msi_flush(struct pciem_irq_rules *r)
{
	uint32_t v;

	if (!r->msi_enabled || r->msix_enabled)
		return;
	for (v = 0; v < r->msi_nvec; v++) {
		if ((r->msi_pending >> v & 1) && !msi_masked(r, v)) {
			r->msi_pending &= ~(1u << v);
			r->fire(r->ctx, v);
		}
	}
}

enum pciem_irq_raised pciem_irq_rules_raise(struct pciem_irq_rules *r, uint32_t vector)
{
	if (r->msix_enabled) {
		if (vector >= r->msix_n)
			return PCIEM_IRQ_NO_VECTOR;
		if (pciem_irq_rules_msix_masked(r, vector)) {
			pba_set(r, vector, true);
			return PCIEM_IRQ_PENDING;
		}
		r->fire(r->ctx, vector);
		return PCIEM_IRQ_SENT;
	}
	if (r->msi_enabled) {
		if (vector >= r->msi_nvec)
			return PCIEM_IRQ_NO_VECTOR;
		if (msi_masked(r, vector)) {
			r->msi_pending |= 1u << vector;
			return PCIEM_IRQ_PENDING;
		}
		r->fire(r->ctx, vector);
		return PCIEM_IRQ_SENT;
	}
	return PCIEM_IRQ_DISABLED;
}

/* ---- config space ---------------------------------------------------------- */

void pciem_irq_rules_cfg_read(const struct pciem_irq_rules *r, const struct pciem_cfg *cfg,
			      unsigned int where, unsigned int size, uint32_t *val)
{
	uint32_t mask = size >= 4 ? ~0u : (1u << (8 * size)) - 1;
	unsigned int reg;

	/* Accesses are naturally aligned: one never straddles a dword. */
	if (cfg->layout.msi && r->msi_maskable) {
		reg = cfg->layout.msi_data + 8;	/* Pending Bits */
		if (where >= reg && where < reg + 4)
			*val = (r->msi_pending >> (8 * (where - reg))) & mask;
	}
	if (where <= PCI_STATUS && where + size > PCI_STATUS && r->intx_level)
		*val |= PCI_STATUS_INTERRUPT << (8 * (PCI_STATUS - where));
}

/* MSI-X Message Control written: mirror Enable and Function Mask. */
static void msix_written(struct pciem_irq_rules *r, const struct pciem_cfg *cfg,
			 struct pciem_irq_rules_events *ev)
{
	uint32_t ctl = pciem_cfg_read(cfg, cfg->layout.msix + PCI_MSIX_FLAGS, 2);
	bool was = r->msix_enabled, fmask = r->msix_fmask;
	uint32_t w;

	r->msix_enabled = ctl & PCI_MSIX_FLAGS_ENABLE;
	r->msix_fmask = ctl & PCI_MSIX_FLAGS_MASKALL;
	if (r->msix_enabled && !was)
		for (w = 0; w < pciem_irq_rules_pba_words(r); w++)
			r->msix_pba[w] = 0;
	msix_flush(r);
	/* MSI alone again: what it held back while MSI-X was on goes now. */
	if (was && !r->msix_enabled)
		msi_flush(r);
	if (r->msix_enabled != was || r->msix_fmask != fmask)
		add_event(ev, PCIEM_IRQ_EV_MSIX, 0, r->msix_enabled | r->msix_fmask << 1);
}

/* MSI control, message or mask written: mirror them. */
static void msi_written(struct pciem_irq_rules *r, const struct pciem_cfg *cfg,
			struct pciem_irq_rules_events *ev)
{
	const struct pciem_cfg_layout *l = &cfg->layout;
	uint32_t ctl = pciem_cfg_read(cfg, l->msi + PCI_MSI_FLAGS, 2);
	uint32_t nvec = r->msi_nvec, data = r->msi_data, mask = r->msi_mask;
	bool was = r->msi_enabled;

	r->msi_enabled = ctl & PCI_MSI_FLAGS_ENABLE;
	/*
	 * Multiple Message Enable past Multiple Message Capable is software's
	 * error (the spec leaves it undefined): the device has only its
	 * capable vectors.
	 */
	r->msi_nvec = 1u << ((ctl & PCI_MSI_FLAGS_QSIZE) >> 4);
	if (r->msi_nvec > r->msi_max)
		r->msi_nvec = r->msi_max;
	r->msi_data = pciem_cfg_read(cfg, l->msi_data, 2);
	if (r->msi_maskable)
		r->msi_mask = pciem_cfg_read(cfg, l->msi_data + 4, 4);
	if (r->msi_enabled && !was)
		r->msi_pending = 0;
	msi_flush(r);
	if (r->msi_enabled != was || r->msi_nvec != nvec || r->msi_data != data)
		add_event(ev, PCIEM_IRQ_EV_MSI, 0,
			  (uint64_t)r->msi_data << 32 | r->msi_nvec << 8 | r->msi_enabled);
	if (r->msi_mask != mask) {
		ev->msi_mask_flips = r->msi_mask ^ mask;
		add_event(ev, PCIEM_IRQ_EV_MSI_MASK, 0, r->msi_mask);
	}
}

void pciem_irq_rules_cfg_written(struct pciem_irq_rules *r, const struct pciem_cfg *cfg,
				 unsigned int where, unsigned int size,
				 struct pciem_irq_rules_events *ev)
{
	const struct pciem_cfg_layout *l = &cfg->layout;
	bool was;

	if (l->msix && where < l->msix + 4u && where + size > l->msix + 2u)
		msix_written(r, cfg, ev);
	if (l->msi && where < l->msi + 0x18u && where + size > l->msi + 2u)
		msi_written(r, cfg, ev);
	if (where < PCI_COMMAND + 2 && where + size > PCI_COMMAND) {
		was = r->intx_disabled;
		r->intx_disabled = pciem_cfg_read(cfg, PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE;
		if (r->intx_disabled != was)
			add_event(ev, PCIEM_IRQ_EV_INTX_DISABLE, 0, r->intx_disabled);
	}
}

bool pciem_irq_rules_set_intx(struct pciem_irq_rules *r, bool level)
{
	if (!r->intx_pin)
		return false;
	r->intx_level = level;
	return true;
}

bool pciem_irq_rules_intx_on(const struct pciem_irq_rules *r)
{
	return r->intx_level && !r->intx_disabled;
}
