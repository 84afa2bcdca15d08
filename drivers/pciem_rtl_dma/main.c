// SPDX-License-Identifier: GPL-2.0
/*
 * pciem_rtl_dma: the Linux driver of the example RTL DMA engine, a
 * SystemVerilog design simulated by Verilator behind PCIem
 * (devices/rtl/dma-engine); it binds the same way to the engine's C++
 * reference model. It runs a self-test at probe and refuses an engine that
 * fails it.
 *
 * Per bound function, /sys/kernel/debug/pciem_rtl_dma/<pci address>/:
 *   run	write a command (tests.c), read its one-line answer
 *   stats	interrupts taken per vector
 *
 * MSI-X vector 0 signals completions, vector 1 a halt on error. The
 * handlers only count and wake the submitter: MSI-X is never shared, and
 * leaving the register accesses (status, acknowledge) to the submitter
 * keeps trapped MMIO out of hard-IRQ context.
 */
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "prd.h"

#define PRD_CMD_MAX	64

static struct dentry *prd_root;

static irqreturn_t prd_done_irq(int irq, void *data)
{
	struct prd_dev *pd = data;

	atomic_inc(&pd->irqs[RTL_DMA_VEC_DONE]);
	wake_up(&pd->wq);
	return IRQ_HANDLED;
}

static irqreturn_t prd_error_irq(int irq, void *data)
{
	struct prd_dev *pd = data;

	atomic_inc(&pd->irqs[RTL_DMA_VEC_ERROR]);
	wake_up(&pd->wq);
	return IRQ_HANDLED;
}

static ssize_t run_write(struct file *file, const char __user *ubuf,
			 size_t count, loff_t *ppos)
{
	struct prd_dev *pd = file->private_data;
	char cmd[PRD_CMD_MAX];
	int ret;

	if (count >= sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, count))
		return -EFAULT;
	cmd[count] = '\0';
	mutex_lock(&pd->lock);
	pd->result_len = 0;
	ret = prd_command(pd, strim(cmd));
	mutex_unlock(&pd->lock);
	return ret ? ret : count;
}

static ssize_t run_read(struct file *file, char __user *ubuf, size_t count,
			loff_t *ppos)
{
	struct prd_dev *pd = file->private_data;
	ssize_t ret;

	mutex_lock(&pd->lock);
	ret = simple_read_from_buffer(ubuf, count, ppos, pd->result,
				      pd->result_len);
	mutex_unlock(&pd->lock);
	return ret;
}

static const struct file_operations run_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = run_read,
	.write = run_write,
	.llseek = default_llseek,
};

static int stats_show(struct seq_file *s, void *unused)
{
	struct prd_dev *pd = s->private;

	seq_printf(s, "done_irqs %d\nerror_irqs %d\n",
		   atomic_read(&pd->irqs[RTL_DMA_VEC_DONE]),
		   atomic_read(&pd->irqs[RTL_DMA_VEC_ERROR]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

static int prd_setup_irqs(struct prd_dev *pd)
{
	struct pci_dev *pdev = pd->pdev;
	int ret;

	ret = pci_alloc_irq_vectors(pdev, RTL_DMA_MSIX_VECTORS,
				    RTL_DMA_MSIX_VECTORS, PCI_IRQ_MSIX);
	if (ret < 0)
		return ret;
	ret = request_irq(pci_irq_vector(pdev, RTL_DMA_VEC_DONE), prd_done_irq,
			  0, "pciem_rtl_dma-done", pd);
	if (ret)
		goto err_vectors;
	ret = request_irq(pci_irq_vector(pdev, RTL_DMA_VEC_ERROR), prd_error_irq,
			  0, "pciem_rtl_dma-error", pd);
	if (ret)
		goto err_done;
	return 0;

err_done:
	free_irq(pci_irq_vector(pdev, RTL_DMA_VEC_DONE), pd);
err_vectors:
	pci_free_irq_vectors(pdev);
	return ret;
}

static void prd_free_irqs(struct prd_dev *pd)
{
	free_irq(pci_irq_vector(pd->pdev, RTL_DMA_VEC_ERROR), pd);
	free_irq(pci_irq_vector(pd->pdev, RTL_DMA_VEC_DONE), pd);
	pci_free_irq_vectors(pd->pdev);
}

static int prd_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct prd_dev *pd;
	int ret;

	pd = devm_kzalloc(&pdev->dev, sizeof(*pd), GFP_KERNEL);
	if (!pd)
		return -ENOMEM;
	pd->result = devm_kzalloc(&pdev->dev, PRD_RESULT_SIZE, GFP_KERNEL);
	if (!pd->result)
		return -ENOMEM;
	pd->pdev = pdev;
	mutex_init(&pd->lock);
	init_waitqueue_head(&pd->wq);

	ret = pci_enable_device_mem(pdev);
	if (ret)
		return ret;
	ret = pci_request_regions(pdev, KBUILD_MODNAME);
	if (ret)
		goto err_disable;
	ret = -ENODEV;
	if (pci_resource_len(pdev, 0) < RTL_DMA_BAR0_SIZE)
		goto err_release;
	ret = -ENOMEM;
	pd->regs = pci_iomap(pdev, 0, RTL_DMA_BAR0_SIZE);
	if (!pd->regs)
		goto err_release;
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		goto err_unmap;
	ret = -ENOMEM;
	pd->ring = dma_alloc_coherent(&pdev->dev,
				      PRD_RING_SIZE * sizeof(*pd->ring),
				      &pd->ring_dma, GFP_KERNEL);
	if (!pd->ring)
		goto err_unmap;
	ret = prd_setup_irqs(pd);
	if (ret)
		goto err_ring;
	pci_set_drvdata(pdev, pd);

	prd_engine_start(pd);
	ret = prd_engine_reset(pd);
	mutex_lock(&pd->lock);
	if (!ret)
		ret = prd_selftest(pd);
	mutex_unlock(&pd->lock);
	if (ret || strncmp(pd->result, "PASS", 4)) {
		dev_err(&pdev->dev, "self-test failed (%d): %.*s", ret,
			(int)pd->result_len, pd->result);
		ret = ret ?: -EIO;
		goto err_irqs;
	}
	dev_info(&pdev->dev, "RTL DMA engine %04x, BAR0 %pR, self-test passed\n",
		 pdev->device, &pdev->resource[0]);

	pd->dir = debugfs_create_dir(pci_name(pdev), prd_root);
	debugfs_create_file("run", 0600, pd->dir, pd, &run_fops);
	debugfs_create_file("stats", 0400, pd->dir, pd, &stats_fops);
	return 0;

err_irqs:
	writel(0, pd->regs + RTL_DMA_CTRL);
	prd_free_irqs(pd);
err_ring:
	dma_free_coherent(&pdev->dev, PRD_RING_SIZE * sizeof(*pd->ring),
			  pd->ring, pd->ring_dma);
err_unmap:
	pci_clear_master(pdev);
	pci_iounmap(pdev, pd->regs);
err_release:
	pci_release_regions(pdev);
err_disable:
	pci_disable_device(pdev);
	return ret;
}

/*
 * Also the surprise removal when the simulation dies: waiters are woken
 * and give up first, then debugfs_remove_recursive() waits for a command
 * still running; only then do the vectors, ring and mapping go.
 */
static void prd_remove(struct pci_dev *pdev)
{
	struct prd_dev *pd = pci_get_drvdata(pdev);

	WRITE_ONCE(pd->gone, true);
	wake_up_all(&pd->wq);
	debugfs_remove_recursive(pd->dir);
	writel(0, pd->regs + RTL_DMA_CTRL);	/* dropped if already gone */
	prd_free_irqs(pd);
	dma_free_coherent(&pdev->dev, PRD_RING_SIZE * sizeof(*pd->ring),
			  pd->ring, pd->ring_dma);
	pci_clear_master(pdev);
	pci_iounmap(pdev, pd->regs);
	pci_release_regions(pdev);
	pci_disable_device(pdev);
	mutex_destroy(&pd->lock);
}

static const struct pci_device_id prd_ids[] = {
	{ PCI_DEVICE(RTL_DMA_VENDOR_ID, RTL_DMA_DEVICE_ID) },
	{ PCI_DEVICE(RTL_DMA_VENDOR_ID, RTL_DMA_DEVICE_ID_CPP) },
	{ }
};
MODULE_DEVICE_TABLE(pci, prd_ids);

static struct pci_driver prd_driver = {
	.name = KBUILD_MODNAME,
	.id_table = prd_ids,
	.probe = prd_probe,
	.remove = prd_remove,
};

static int __init prd_init(void)
{
	int ret;

	prd_root = debugfs_create_dir(KBUILD_MODNAME, NULL);
	ret = pci_register_driver(&prd_driver);
	if (ret)
		debugfs_remove_recursive(prd_root);
	return ret;
}
module_init(prd_init);

static void __exit prd_exit(void)
{
	pci_unregister_driver(&prd_driver);
	debugfs_remove_recursive(prd_root);
}
module_exit(prd_exit);

MODULE_DESCRIPTION("Driver of the example RTL DMA engine simulated behind PCIem");
MODULE_LICENSE("GPL");
