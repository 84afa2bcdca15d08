// SPDX-License-Identifier: GPL-2.0
/*
 * pciem_fb: DRM/KMS driver for the PCIem framebuffer accelerator
 * (1b36:7e40, docs/fb.md). PCI probe and remove, the DRM device.
 *
 * Removal may be a surprise (the device model went away): everything
 * that waits for the device is woken first, then the DRM device is
 * unplugged, so userspace and fbcon see it go without touching hardware.
 */
#include <drm/drm_atomic_helper.h>
#include <drm/drm_drv.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_vblank.h>
#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/pci.h>

#include "pciem_fb.h"
#include "pciem_fb_compat.h"

static char *irq_mode = "msix";
module_param(irq_mode, charp, 0444);
MODULE_PARM_DESC(irq_mode, "Most capable interrupt mechanism to use: msix (default), msi or intx");

DEFINE_DRM_GEM_FOPS(pfb_fops);

static const struct drm_driver pfb_driver = {
	.driver_features = DRIVER_MODESET | DRIVER_GEM | DRIVER_ATOMIC,
	.fops = &pfb_fops,
	DRM_GEM_SHMEM_DRIVER_OPS,
	.debugfs_init = pfb_debugfs_init,
	.name = PFB_DRIVER_NAME,
	.desc = "PCIem framebuffer accelerator",
	.date = "20260101",
	.major = 1,
	.minor = 0,
};

static int pfb_irq_mode_param(void)
{
	if (!strcmp(irq_mode, "msi"))
		return PFB_IRQ_MODE_MSI;
	if (!strcmp(irq_mode, "intx"))
		return PFB_IRQ_MODE_INTX;
	return PFB_IRQ_MODE_MSIX;
}

static int pfb_hw_init(struct pfb_device *pfb)
{
	struct pci_dev *pdev = pfb->pdev;
	u32 id;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	ret = pcim_iomap_regions(pdev, BIT(PFB_REG_BAR), PFB_DRIVER_NAME);
	if (ret)
		return ret;
	pfb->regs = pcim_iomap_table(pdev)[PFB_REG_BAR];

	id = pfb_read(pfb, PFB_ID);
	if (id != PFB_ID_VALUE) {
		dev_err(&pdev->dev, "ID register reads %#x, not %#x: not a pciem-fb\n",
			id, PFB_ID_VALUE);
		return -ENODEV;
	}
	pfb->vram_size = pfb_read(pfb, PFB_VRAM_SIZE);
	pfb->max_width = pfb_read(pfb, PFB_MAX_WIDTH);
	pfb->max_height = pfb_read(pfb, PFB_MAX_HEIGHT);
	pfb->pref_width = pfb_read(pfb, PFB_PREF_WIDTH);
	pfb->pref_height = pfb_read(pfb, PFB_PREF_HEIGHT);
	dev_info(&pdev->dev, "pciem-fb %u.%u, %u MiB VRAM, modes up to %ux%u\n",
		 pfb_read(pfb, PFB_VERSION) >> 16, pfb_read(pfb, PFB_VERSION) & 0xffff,
		 pfb->vram_size >> 20, pfb->max_width, pfb->max_height);
	pfb_write(pfb, PFB_RESET, PFB_RESET_DEVICE);
	return 0;
}

static int pfb_probe(struct pci_dev *pdev, const struct pci_device_id *ent)
{
	struct pfb_device *pfb;
	int ret;

	pfb = devm_drm_dev_alloc(&pdev->dev, &pfb_driver, struct pfb_device, drm);
	if (IS_ERR(pfb))
		return PTR_ERR(pfb);
	pfb->pdev = pdev;
	pci_set_drvdata(pdev, pfb);

	ret = pfb_hw_init(pfb);
	if (ret)
		return ret;
	ret = pfb_ring_init(pfb);
	if (ret)
		goto err_ring;
	ret = pfb_irq_init(pfb, pfb_irq_mode_param());
	if (ret)
		goto err_ring;
	ret = drm_vblank_init(&pfb->drm, 1);
	if (ret)
		goto err_irq;
	ret = pfb_kms_init(pfb);
	if (ret)
		goto err_irq;
	ret = drm_dev_register(&pfb->drm, 0);
	if (ret)
		goto err_irq;
	pfb_fbdev_setup(&pfb->drm);
	return 0;

err_irq:
	pfb_irq_fini(pfb);
err_ring:
	pfb_ring_fini(pfb);
	return ret;
}

static void pfb_remove(struct pci_dev *pdev)
{
	struct pfb_device *pfb = pci_get_drvdata(pdev);

	pfb_ring_unplug(pfb);
	drm_dev_unplug(&pfb->drm);
	drm_atomic_helper_shutdown(&pfb->drm);
	pfb_irq_fini(pfb);
	pfb_ring_fini(pfb);
}

static void pfb_shutdown(struct pci_dev *pdev)
{
	drm_atomic_helper_shutdown(&((struct pfb_device *)pci_get_drvdata(pdev))->drm);
}

static const struct pci_device_id pfb_ids[] = {
	{ PCI_DEVICE(PFB_VENDOR_ID, PFB_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, pfb_ids);

static struct pci_driver pfb_pci_driver = {
	.name = PFB_DRIVER_NAME,
	.id_table = pfb_ids,
	.probe = pfb_probe,
	.remove = pfb_remove,
	.shutdown = pfb_shutdown,
};
module_pci_driver(pfb_pci_driver);

MODULE_DESCRIPTION("DRM driver for the PCIem framebuffer accelerator");
MODULE_LICENSE("GPL");
