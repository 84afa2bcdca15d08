// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * AER errors on demand. A device reports an error with a message to the
 * root complex, which the kernel's AER service receives at a Root Port or,
 * for Root Complex Integrated Endpoints, at a Root Complex Event Collector
 * (RCEC). PCIem's functions sit on its root bus, so PCIem adds an RCEC of
 * its own there the first time an error is injected: the stock portdrv
 * binds it and its AER service takes the errors, finds the function by
 * the Error Source Identification and runs the driver's pci_error_handlers
 * (error_detected, mmio_enabled, slot_reset, resume). The function must
 * be an RCiEP with an AER capability, as a device on a root bus is.
 *
 * The RCEC is a function like the others, answered by pciem.ko alone (no
 * model, no fd): it lives until the module is unloaded.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/aer.h>
#include <linux/mutex.h>

#include "pciem.h"

#define EXT_ID_RCEC_EA		0x0007	/* RCEC Endpoint Association */
#define RCEC_DEVICE_ID		0x7ee0	/* in PCIem's own ID range, 1b36:7eXX */

/* AER Root Error Status bits (PCIe r6.0, 7.8.4.10) */
#define ROOT_COR_RCV		BIT(0)
#define ROOT_MULTI_COR_RCV	BIT(1)
#define ROOT_UNCOR_RCV		BIT(2)
#define ROOT_MULTI_UNCOR_RCV	BIT(3)
#define ROOT_FIRST_FATAL	BIT(4)
#define ROOT_NONFATAL_RCV	BIT(5)
#define ROOT_FATAL_RCV		BIT(6)

static DEFINE_MUTEX(rcec_lock);
static struct pciem_function *rcec;	/* under rcec_lock */

/* The RCEC's description: PCIe (RCEC), MSI for portdrv, AER, association. */
static int rcec_build(struct pciem_function *fn, struct pciem_host *host)
{
	struct pciem_create req = {
		.size = sizeof(req),
		.abi_version = PCIEM_ABI_VERSION,
		.vendor_id = PCI_VENDOR_ID_REDHAT,
		.device_id = RCEC_DEVICE_ID,
		.class_code = PCI_CLASS_SYSTEM_RCEC << 8,
	};
	struct pciem_cap caps[4] = { 0 };
	struct pciem_cfg_cap_in in[4];
	struct pciem_cfg_limits limits = { 0 };
	struct pciem_error err;
	/* Every device number of the bus but its own. */
	u32 bitmap = ~BIT(PCI_SLOT(fn->devfn));
	unsigned int i;

	caps[0].type = PCIEM_CAP_PCIE;
	caps[0].pcie.port_type = PCIEM_PCIE_RC_EC;
	caps[1].type = PCIEM_CAP_MSI;
	caps[1].msi.flags = PCIEM_MSI_64BIT;
	caps[1].msi.vectors = 1;
	caps[2].type = PCIEM_CAP_EXT_AER;
	caps[3].type = PCIEM_CAP_EXT_RAW;
	caps[3].body.id = EXT_ID_RCEC_EA;
	caps[3].body.version = 1;
	caps[3].body.len = sizeof(bitmap);
	for (i = 0; i < ARRAY_SIZE(caps); i++) {
		caps[i].size = sizeof(caps[i]);
		in[i].cap = &caps[i];
		in[i].body = NULL;
	}
	in[3].body = (const u8 *)&bitmap;
	return pciem_cfg_build(&fn->cfg, &req, in, ARRAY_SIZE(in), &limits,
			       &err);
}

/* The highest free devfn that is function 0 of an empty slot. */
static int free_slot(struct pciem_function *fn)
{
	struct pciem_error err = { 0 };
	int slot;

	for (slot = 31; slot >= 0; slot--)
		if (!pciem_function_claim(fn, true, PCI_DEVFN(slot, 0), &err))
			return 0;
	return -ENOSPC;
}

/* PCIem's RCEC, made and put on the bus the first time. Process context. */
static struct pciem_function *get_rcec(struct pciem_host *host)
{
	struct pciem_function *fn;
	struct pciem_error err = { 0 };
	int ret;

	mutex_lock(&rcec_lock);
	if (rcec)
		goto out;
	fn = pciem_function_alloc(host);
	if (!fn)
		goto out;
	strscpy(fn->owner_comm, "pciem.ko", sizeof(fn->owner_comm));
	ret = pciem_ring_init(&fn->ring);
	if (!ret)
		ret = free_slot(fn);
	if (ret) {
		pciem_function_put(fn);
		goto out;
	}
	/* Answered by pciem.ko alone: no model will ever serve a ring. */
	pciem_ring_kill(&fn->ring);
	ret = rcec_build(fn, host);
	if (!ret)
		ret = pciem_irq_init(fn);
	if (!ret)
		ret = pciem_function_add(fn, &err);
	if (ret) {
		pr_err("cannot add the Root Complex Event Collector for AER: %d\n",
		       ret);
		pciem_function_remove(fn);
		pciem_dma_free(fn);
		pciem_function_put(fn);
		goto out;
	}
	pr_info("%s: Root Complex Event Collector for injected AER errors\n",
		fn->name);
	rcec = fn;
out:
	fn = rcec;
	mutex_unlock(&rcec_lock);
	return fn;
}

void pciem_aer_host_exit(struct pciem_host *host)
{
	mutex_lock(&rcec_lock);
	if (rcec) {
		pciem_function_remove(rcec);
		pciem_dma_free(rcec);
		pciem_function_put(rcec);
		rcec = NULL;
	}
	mutex_unlock(&rcec_lock);
}

static u16 bdf(struct pciem_function *fn)
{
	return fn->host->bus->number << 8 | fn->devfn;
}

/*
 * Record the error in @fn's AER and Device Status registers and, unless
 * masked, send the message to the RCEC: set its Root Error Status and
 * Error Source Identification. Returns whether the RCEC should interrupt.
 * Host lock held.
 */
static bool signal_locked(struct pciem_function *fn, unsigned int fault,
			  u32 status)
{
	struct pciem_cfg *c = &fn->cfg, *rc = &rcec->cfg;
	u16 aer = c->layout.aer, raer = rc->layout.aer;
	bool cor = fault == PCIEM_FAULT_AER_CORRECTABLE;
	bool fatal = fault == PCIEM_FAULT_AER_FATAL;
	u16 sta_off = cor ? PCI_ERR_COR_STATUS : PCI_ERR_UNCOR_STATUS;
	u16 mask_off = cor ? PCI_ERR_COR_MASK : PCI_ERR_UNCOR_MASK;
	u32 root, src, enable;

	pciem_cfg_set(c, aer + sta_off, 4,
		      pciem_cfg_read(c, aer + sta_off, 4) | status);
	pciem_cfg_set(c, c->layout.pcie + PCI_EXP_DEVSTA, 2,
		      pciem_cfg_read(c, c->layout.pcie + PCI_EXP_DEVSTA, 2) |
		      (cor ? PCI_EXP_DEVSTA_CED :
		       fatal ? PCI_EXP_DEVSTA_FED : PCI_EXP_DEVSTA_NFED));
	if (!(status & ~pciem_cfg_read(c, aer + mask_off, 4)))
		return false;	/* masked: no message */

	root = pciem_cfg_read(rc, raer + PCI_ERR_ROOT_STATUS, 4);
	src = pciem_cfg_read(rc, raer + PCI_ERR_ROOT_ERR_SRC, 4);
	if (cor) {
		if (root & ROOT_COR_RCV) {
			root |= ROOT_MULTI_COR_RCV;
		} else {
			root |= ROOT_COR_RCV;
			src = (src & 0xffff0000) | bdf(fn);
		}
	} else {
		if (root & ROOT_UNCOR_RCV) {
			root |= ROOT_MULTI_UNCOR_RCV;
		} else {
			root |= ROOT_UNCOR_RCV | (fatal ? ROOT_FIRST_FATAL : 0);
			src = (src & 0xffff) | (u32)bdf(fn) << 16;
		}
		root |= fatal ? ROOT_FATAL_RCV : ROOT_NONFATAL_RCV;
	}
	pciem_cfg_set(rc, raer + PCI_ERR_ROOT_STATUS, 4, root);
	pciem_cfg_set(rc, raer + PCI_ERR_ROOT_ERR_SRC, 4, src);
	enable = pciem_cfg_read(rc, raer + PCI_ERR_ROOT_COMMAND, 4);
	return enable & (cor ? PCI_ERR_ROOT_CMD_COR_EN :
			 fatal ? PCI_ERR_ROOT_CMD_FATAL_EN :
			 PCI_ERR_ROOT_CMD_NONFATAL_EN);
}

/**
 * pciem_aer_inject() - an AER error of @fn, as its hardware would send it
 * @fn:		a Root Complex Integrated Endpoint with an AER capability
 * @fault:	PCIEM_FAULT_AER_CORRECTABLE, _NONFATAL or _FATAL
 * @status:	the Correctable or Uncorrectable Error Status bits (0: a
 *		default, Receiver Error, Completion Timeout or Surprise Down)
 *
 * Return: 0, -EOPNOTSUPP if @fn cannot report AER errors, -ENODEV if it
 * is not on the bus or no RCEC could be added.
 */
int pciem_aer_inject(struct pciem_function *fn, unsigned int fault,
		     u32 status)
{
	struct pciem_host *host = fn->host;
	struct pciem_function *rc;
	unsigned long flags;
	u16 type;
	bool irq;

	if (!fn->cfg.layout.aer || !fn->cfg.layout.pcie)
		return -EOPNOTSUPP;
	type = (pciem_cfg_read(&fn->cfg, fn->cfg.layout.pcie + PCI_EXP_FLAGS,
			       2) & PCI_EXP_FLAGS_TYPE) >> 4;
	if (type != PCI_EXP_TYPE_RC_END)
		return -EOPNOTSUPP;
	if (!status)
		status = fault == PCIEM_FAULT_AER_CORRECTABLE ?
			 PCI_ERR_COR_RCVR : fault == PCIEM_FAULT_AER_FATAL ?
			 PCI_ERR_UNC_SURPDN : PCI_ERR_UNC_COMP_TIME;
	rc = get_rcec(host);
	if (!rc)
		return -ENODEV;
	if (pciem_function_uapi_state(fn) != PCIEM_STATE_PRESENT)
		return -ENODEV;
	raw_spin_lock_irqsave(&host->lock, flags);
	irq = signal_locked(fn, fault, status);
	raw_spin_unlock_irqrestore(&host->lock, flags);
	pciem_fault_note(fn, fault, 0, status);
	if (irq)
		pciem_irq_deliver_raise(rc, 0);
	return 0;
}
