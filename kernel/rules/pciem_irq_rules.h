/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The interrupt rules of a PCIem function, shared by every host (pciem.ko,
 * the SimHost, the vfio-user server host): MSI and MSI-X capability state
 * mirrored from config space, the MSI-X table and PBA as the driver reads
 * and writes them, masking and pending bits, the INTx line and Interrupt
 * Disable. Pure C with no kernel dependencies, like kernel/cfgspace, so a
 * model and its driver see the same behaviour on every host.
 *
 * What stays with each host: its lock (every call here expects the
 * caller to serialise), the storage of the table and PBA (sized by
 * pciem_irq_rules_table_bytes() and _pba_words()), and delivery: a vector
 * that may be signalled is handed to the host's fire() callback, called
 * under the caller's lock. INTx delivery (level in pciem.ko, edge to a
 * recording in the SimHost) is the host's too; pciem_irq_rules_intx_on()
 * says whether the line is asserted and not disabled.
 */
#ifndef PCIEM_IRQ_RULES_H
#define PCIEM_IRQ_RULES_H

/* Its types (linux/types.h or stdint.h) and the config space the rules read. */
#include "../cfgspace/pciem_cfg.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes of one MSI-X table entry (PCI_MSIX_ENTRY_SIZE). */
#define PCIEM_IRQ_MSIX_ENTRY	16

/* What pciem_irq_rules_raise() did. */
enum pciem_irq_raised {
	PCIEM_IRQ_SENT = 0,		/* handed to fire() */
	PCIEM_IRQ_PENDING = 1,		/* masked: its pending bit is set */
	PCIEM_IRQ_NO_VECTOR = -1,	/* the enabled mode has no such vector */
	PCIEM_IRQ_DISABLED = -2,	/* neither MSI nor MSI-X is enabled */
};

/*
 * What a config or table write changed, for the host to tell the model
 * (PCIEM_IRQ_EV_* of <linux/pciem.h>) after it drops its locks.
 */
#define PCIEM_IRQ_RULES_MAX_EVENTS 4	/* MSI-X, MSI, MSI mask, INTx Disable */

struct pciem_irq_rules_events {
	unsigned int n;
	struct {
		uint32_t event;
		uint32_t index;
		uint64_t data;
	} ev[PCIEM_IRQ_RULES_MAX_EVENTS];
	uint32_t msi_mask_flips;	/* MSI vectors whose mask bit flipped */
	bool msix_mask_flip;		/* the written entry's Mask bit flipped */
};

struct pciem_irq_rules {
	/* The capabilities, as config space was built (pciem_irq_rules_shape()). */
	uint32_t msix_n;		/* MSI-X table size; 0: no MSI-X */
	uint8_t table_bar, pba_bar;
	uint32_t table_off, pba_off;
	uint32_t msi_max;		/* MSI vectors capable; 0: no MSI */
	bool msi_maskable;		/* per-vector masking */
	bool intx_pin;			/* Interrupt Pin is not 0 */
	/* The host's storage: msix_n entries, and a bit per entry. */
	uint8_t *msix_table;
	uint64_t *msix_pba;
	/* Mirrors of what the driver wrote, and the device-owned bits. */
	bool msix_enabled, msix_fmask;
	bool msi_enabled;
	uint32_t msi_nvec, msi_mask, msi_pending, msi_data;
	bool intx_level, intx_disabled;
	/* Delivery of an MSI (msix_enabled false) or MSI-X vector. */
	void (*fire)(void *ctx, uint32_t vector);
	void *ctx;
};

/* Read the capabilities from @cfg; storage and mirrors are left alone. */
void pciem_irq_rules_shape(struct pciem_irq_rules *r, const struct pciem_cfg *cfg);
uint64_t pciem_irq_rules_table_bytes(const struct pciem_irq_rules *r);
uint64_t pciem_irq_rules_pba_words(const struct pciem_irq_rules *r);
/* Out of reset, storage attached: every MSI-X entry masked, nothing pending. */
void pciem_irq_rules_reset(struct pciem_irq_rules *r);

/* The device signals @vector (an MSI-X entry, or an MSI vector). */
enum pciem_irq_raised pciem_irq_rules_raise(struct pciem_irq_rules *r, uint32_t vector);
bool pciem_irq_rules_msix_masked(const struct pciem_irq_rules *r, uint32_t vector);
bool pciem_irq_rules_msix_pending(const struct pciem_irq_rules *r, uint32_t vector);

/*
 * An access of @size (1, 2, 4 or 8) bytes at @off of @bar: if it lies
 * wholly in the MSI-X table or PBA, serve it (*@val in or out) and return
 * true. Only an entry's Mask bit is writable in Vector Control; the PBA
 * ignores writes. A write that changed an entry adds one
 * PCIEM_IRQ_EV_MSIX_ENTRY event to @ev; an unmask delivers what was
 * pending.
 */
bool pciem_irq_rules_msix_access(struct pciem_irq_rules *r, unsigned int bar, uint64_t off,
				 unsigned int size, bool write, uint64_t *val,
				 struct pciem_irq_rules_events *ev);

/* The device-owned bits of a config read: MSI Pending Bits, Interrupt Status. */
void pciem_irq_rules_cfg_read(const struct pciem_irq_rules *r, const struct pciem_cfg *cfg,
			      unsigned int where, unsigned int size, uint32_t *val);

/*
 * After @cfg took a write of @size at @where: mirror MSI / MSI-X enable,
 * vectors, data and masks and Interrupt Disable; enabling clears what
 * was pending (as a device resets it); deliver what an unmask made
 * deliverable; note the changes in @ev.
 */
void pciem_irq_rules_cfg_written(struct pciem_irq_rules *r, const struct pciem_cfg *cfg,
				 unsigned int where, unsigned int size,
				 struct pciem_irq_rules_events *ev);

/* The device drives INTx. False: the function has no interrupt pin. */
bool pciem_irq_rules_set_intx(struct pciem_irq_rules *r, bool level);
/* The line is high and Interrupt Disable is clear. */
bool pciem_irq_rules_intx_on(const struct pciem_irq_rules *r);

#ifdef __cplusplus
}
#endif

#endif /* PCIEM_IRQ_RULES_H */
