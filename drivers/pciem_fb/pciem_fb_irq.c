// SPDX-License-Identifier: GPL-2.0
/*
 * Interrupts. With MSI-X each cause has its own vector, so the handlers
 * know what happened without reading the device: they run in hard-IRQ
 * context and touch no register (a trapped read there would spin until
 * the device model answers). With one vector (MSI or INTx) the cause must
 * be read from IRQ_STATUS, so that handler is threaded: it may sleep
 * while the read is answered.
 */
#include <drm/drm_print.h>
#include <drm/drm_vblank.h>
#include <linux/interrupt.h>
#include <linux/pci.h>

#include "pciem_fb.h"
#include "pciem_fb_compat.h"

static void pfb_vblank(struct pfb_device *pfb)
{
	atomic64_inc(&pfb->vblank_irqs);
	drm_crtc_handle_vblank(&pfb->pipe.crtc);
}

static irqreturn_t pfb_vblank_irq(int irq, void *data)
{
	pfb_vblank(data);
	return IRQ_HANDLED;
}

static irqreturn_t pfb_fence_irq(int irq, void *data)
{
	pfb_ring_fence_signalled(data);
	return IRQ_HANDLED;
}

static irqreturn_t pfb_error_irq(int irq, void *data)
{
	pfb_ring_error_signalled(data);
	return IRQ_HANDLED;
}

/*
 * One vector for every cause: the status says which. Vblanks that came
 * while an earlier one was still being handled share its status bit, so
 * FRAME_COUNT says how many there were.
 */
static irqreturn_t pfb_shared_irq(int irq, void *data)
{
	struct pfb_device *pfb = data;
	u32 status = pfb_read(pfb, PFB_IRQ_STATUS);
	u32 frame, n;

	if (status == ~0U) /* the device is gone: all-ones */
		return IRQ_NONE;
	status &= PFB_IRQ_ALL;
	if (!status)
		return IRQ_NONE;
	pfb_write(pfb, PFB_IRQ_ACK, status);
	if (status & PFB_IRQ_VBLANK) {
		frame = pfb_read(pfb, PFB_FRAME_COUNT);
		n = frame - pfb->last_frame;
		/* A slow thread (a loaded guest) may be many frames late:
		 * count them all, up to a second's worth; nonsense (a device
		 * reset restarted the count) counts as one.
		 */
		if (n == 0 || n > PFB_REFRESH_MAX)
			n = 1;
		pfb->last_frame = frame;
		while (n--)
			pfb_vblank(pfb);
	}
	if (status & PFB_IRQ_ERROR)
		pfb_ring_error_signalled(pfb);
	if (status & PFB_IRQ_FENCE)
		pfb_ring_fence_signalled(pfb);
	return IRQ_HANDLED;
}

static const char * const pfb_irq_mode_names[] = {
	[PFB_IRQ_MODE_MSIX] = "msix",
	[PFB_IRQ_MODE_MSI] = "msi",
	[PFB_IRQ_MODE_INTX] = "intx",
};

const char *pfb_irq_mode_name(enum pfb_irq_mode mode)
{
	return pfb_irq_mode_names[mode];
}

/* mode: the most capable mechanism to try (a module parameter can force a
 * fallback); each one falls back to the next.
 */
int pfb_irq_init(struct pfb_device *pfb, int mode)
{
	struct pci_dev *pdev = pfb->pdev;
	struct device *dev = &pdev->dev;
	int ret;

	spin_lock_init(&pfb->irq_lock);
	pfb_write(pfb, PFB_IRQ_MASK, 0);
	if (mode <= PFB_IRQ_MODE_MSIX &&
	    pci_alloc_irq_vectors(pdev, PFB_MSIX_VECTORS, PFB_MSIX_VECTORS, PCI_IRQ_MSIX) > 0) {
		pfb->irq_mode = PFB_IRQ_MODE_MSIX;
		pfb->nvec = PFB_MSIX_VECTORS;
		static const struct {
			irq_handler_t handler;
			const char *name;
		} vectors[PFB_MSIX_VECTORS] = {
			[PFB_VEC_VBLANK] = { pfb_vblank_irq, "pciem_fb-vblank" },
			[PFB_VEC_FENCE] = { pfb_fence_irq, "pciem_fb-fence" },
			[PFB_VEC_ERROR] = { pfb_error_irq, "pciem_fb-error" },
		};
		int v;

		for (v = 0, ret = 0; v < PFB_MSIX_VECTORS && !ret; v++) {
			ret = request_irq(pci_irq_vector(pdev, v), vectors[v].handler, 0,
					  vectors[v].name, pfb);
			if (!ret)
				pfb->nirqs++;
		}
	} else {
		unsigned int types = PCI_IRQ_INTX;

		if (mode <= PFB_IRQ_MODE_MSI)
			types |= PCI_IRQ_MSI;
		ret = pci_alloc_irq_vectors(pdev, 1, 1, types);
		if (ret < 0)
			return ret;
		pfb->nvec = 1;
		pfb->irq_mode = pdev->msi_enabled ? PFB_IRQ_MODE_MSI : PFB_IRQ_MODE_INTX;
		ret = request_threaded_irq(pci_irq_vector(pdev, 0), NULL, pfb_shared_irq,
					   IRQF_ONESHOT | IRQF_SHARED, PFB_DRIVER_NAME, pfb);
		if (!ret)
			pfb->nirqs = 1;
	}
	if (ret) {
		pfb_irq_fini(pfb);
		return ret;
	}
	dev_info(dev, "interrupts: %s\n", pfb_irq_mode_name(pfb->irq_mode));
	pfb_irq_enable(pfb, PFB_IRQ_FENCE | PFB_IRQ_ERROR, true);
	return 0;
}

void pfb_irq_fini(struct pfb_device *pfb)
{
	struct pci_dev *pdev = pfb->pdev;
	int v;

	/* After a surprise removal there is no device to tell. */
	if (!READ_ONCE(pfb->gone))
		pfb_write(pfb, PFB_IRQ_MASK, 0);
	for (v = 0; v < pfb->nirqs; v++)
		free_irq(pci_irq_vector(pdev, v), pfb);
	pfb->nirqs = 0;
	pci_free_irq_vectors(pdev);
	pfb->nvec = 0;
}

/* Callers may hold the vblank spinlock with interrupts off: IRQ_MASK is a
 * posted write, and the driver's copy saves reading it back.
 */
void pfb_irq_enable(struct pfb_device *pfb, u32 causes, bool on)
{
	unsigned long flags;

	spin_lock_irqsave(&pfb->irq_lock, flags);
	if (on)
		pfb->irq_mask |= causes;
	else
		pfb->irq_mask &= ~causes;
	pfb_write(pfb, PFB_IRQ_MASK, pfb->irq_mask);
	spin_unlock_irqrestore(&pfb->irq_lock, flags);
}
