// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * debugfs `dmabuf`: one page the driver maps for its device by hand, so a
 * test can point a device it does not control (a vfio-user server behind
 * pciem-proxy, guest case 99-forward-dma-confine) at a live mapping, and
 * at one that was unmapped:
 *
 *   echo "map to|from|bidi" >dmabuf	a fresh page of 0xa5 bytes, mapped
 *					with dma_map_single(); bus mastering on
 *   echo unmap >dmabuf			dma_unmap_single()
 *   cat dmabuf				"BUS WORD": the bus address and the
 *					page's first 32-bit word as the CPU
 *					sees it now, or "none"
 */
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "mmio_test.h"

/* md->lock held */
static void dmabuf_unmap(struct pmt_dev *md)
{
	struct pmt_dmabuf *b = &md->dmabuf;

	if (!b->page)
		return;
	if (b->bus)
		dma_unmap_single(&md->pdev->dev, b->bus, PAGE_SIZE, b->dir);
	b->bus = 0;
}

/* md->lock held */
static int dmabuf_map(struct pmt_dev *md, enum dma_data_direction dir)
{
	struct pmt_dmabuf *b = &md->dmabuf;
	dma_addr_t bus;

	dmabuf_unmap(md);
	if (!b->page)
		b->page = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!b->page)
		return -ENOMEM;
	memset(b->page, 0xa5, PAGE_SIZE);
	bus = dma_map_single(&md->pdev->dev, b->page, PAGE_SIZE, dir);
	if (dma_mapping_error(&md->pdev->dev, bus))
		return -EIO;
	pci_set_master(md->pdev);
	b->bus = bus;
	b->dir = dir;
	return 0;
}

static ssize_t dmabuf_write(struct file *file, const char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	struct pmt_dev *md = file->private_data;
	char buf[16];
	int ret = 0;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = 0;
	strim(buf);
	mutex_lock(&md->lock);
	if (!strcmp(buf, "map to"))
		ret = dmabuf_map(md, DMA_TO_DEVICE);
	else if (!strcmp(buf, "map from"))
		ret = dmabuf_map(md, DMA_FROM_DEVICE);
	else if (!strcmp(buf, "map bidi"))
		ret = dmabuf_map(md, DMA_BIDIRECTIONAL);
	else if (!strcmp(buf, "unmap"))
		dmabuf_unmap(md);
	else
		ret = -EINVAL;
	mutex_unlock(&md->lock);
	return ret ? ret : count;
}

static ssize_t dmabuf_read(struct file *file, char __user *ubuf, size_t count,
			   loff_t *ppos)
{
	struct pmt_dev *md = file->private_data;
	struct pmt_dmabuf *b = &md->dmabuf;
	char buf[48];
	u32 word;
	int n;

	mutex_lock(&md->lock);
	if (!b->page) {
		n = scnprintf(buf, sizeof(buf), "none\n");
	} else {
		/* What the device wrote, once the CPU owns the page again. */
		if (b->bus && b->dir != DMA_TO_DEVICE)
			dma_sync_single_for_cpu(&md->pdev->dev, b->bus, PAGE_SIZE, b->dir);
		memcpy(&word, b->page, sizeof(word));
		n = scnprintf(buf, sizeof(buf), "%#llx %#010x\n", (u64)b->bus, word);
	}
	mutex_unlock(&md->lock);
	return simple_read_from_buffer(ubuf, count, ppos, buf, n);
}

static const struct file_operations dmabuf_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = dmabuf_read,
	.write = dmabuf_write,
	.llseek = default_llseek,
};

void pmt_dmabuf_create(struct pmt_dev *md)
{
	debugfs_create_file("dmabuf", 0600, md->dir, md, &dmabuf_fops);
}

/* At remove(), after the debugfs files are gone. */
void pmt_dmabuf_remove(struct pmt_dev *md)
{
	dmabuf_unmap(md);
	kfree(md->dmabuf.page);
	md->dmabuf.page = NULL;
}
