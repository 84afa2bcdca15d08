// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/dri/<minor>/pciem_fb
 *   read:  the interrupt mode, counters of interrupts, fences and error
 *          recovery (one "name: value" per line)
 *   write: "bad-opcode", "bad-surface" or "bad-dma" submits a command the
 *          device must refuse, as a driver bug would; the device stops its
 *          ring and the driver recovers as it does from any device error
 */
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/string.h>

#include "pciem_fb.h"

static int pfb_state_show(struct seq_file *m, void *unused)
{
	struct pfb_device *pfb = m->private;

	mutex_lock(&pfb->ring_lock);
	seq_printf(m, "irq_mode: %s\n", pfb_irq_mode_name(pfb->irq_mode));
	seq_printf(m, "vblank_irqs: %lld\n", atomic64_read(&pfb->vblank_irqs));
	seq_printf(m, "fence_emitted: %llu\n", pfb->seqno);
	seq_printf(m, "fence_completed: %llu\n", pfb->completed);
	seq_printf(m, "fence_device: %llu\n", le64_to_cpu(READ_ONCE(*pfb->fence)));
	seq_printf(m, "fence_regressions: %lu\n", pfb->fence_regressions);
	seq_printf(m, "errors: %lu\n", pfb->errors);
	seq_printf(m, "timeouts: %lu\n", pfb->timeouts);
	seq_printf(m, "resets: %lu\n", pfb->resets);
	seq_printf(m, "upload_bytes: %llu\n", pfb->upload_bytes);
	seq_printf(m, "busy_ns: %llu\n", pfb->busy_ns);
	seq_printf(m, "front: %d\n", pfb->front);
	mutex_unlock(&pfb->ring_lock);
	return 0;
}

static int pfb_state_open(struct inode *inode, struct file *file)
{
	return single_open(file, pfb_state_show, inode->i_private);
}

static int pfb_inject(struct pfb_device *pfb, const char *what)
{
	union pfb_cmd *cmd;
	int ret = pfb_ring_begin(pfb);

	if (ret)
		return ret;
	cmd = pfb_ring_emit(pfb);
	if (!strcmp(what, "bad-opcode")) {
		cmd->header = cpu_to_le32(0xee);
	} else if (!strcmp(what, "bad-surface")) {
		cmd->fill.header = cpu_to_le32(PFB_CMD_HEADER(PFB_OP_FILL, PFB_FMT_XRGB8888, 0));
		cmd->fill.dst.offset = pfb->vram_size;
		cmd->fill.dst.pitch = 4;
		cmd->fill.dst.width = 1;
		cmd->fill.dst.height = 1;
		cmd->fill.rect.w = 1;
		cmd->fill.rect.h = 1;
	} else if (!strcmp(what, "bad-dma")) {
		/* A fence into memory nobody mapped. */
		cmd->fence.header = cpu_to_le32(PFB_CMD_HEADER(PFB_OP_FENCE, 0, 0));
		cmd->fence.addr = cpu_to_le64(0xdead0000ULL);
	} else {
		pfb_ring_abort(pfb);
		return -EINVAL;
	}
	ret = pfb_ring_finish(pfb);
	/* The device must have refused it and the driver recovered. */
	return ret == -EIO ? 0 : (ret ? ret : -EPROTO);
}

static ssize_t pfb_state_write(struct file *file, const char __user *ubuf, size_t len,
			       loff_t *ppos)
{
	struct pfb_device *pfb = file_inode(file)->i_private;
	char buf[32];
	int ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	ret = pfb_inject(pfb, strim(buf));
	return ret ? ret : len;
}

static const struct file_operations pfb_state_fops = {
	.owner = THIS_MODULE,
	.open = pfb_state_open,
	.read = seq_read,
	.write = pfb_state_write,
	.llseek = seq_lseek,
	.release = single_release,
};

void pfb_debugfs_init(struct drm_minor *minor)
{
	debugfs_create_file(PFB_DRIVER_NAME, 0644, minor->debugfs_root, to_pfb(minor->dev),
			    &pfb_state_fops);
}
