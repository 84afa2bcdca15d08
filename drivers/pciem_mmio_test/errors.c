// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * PCIe error recovery as the AER core drives it: the driver's
 * pci_error_handlers count their calls and log a line each, and two
 * debugfs files let a test look (`aer`) and touch registers (`reg`) while
 * PCIem injects faults into the device.
 */
#include <linux/debugfs.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "mmio_test.h"

static const char *const state_names[] = {
	[pci_channel_io_normal] = "io_normal",
	[pci_channel_io_frozen] = "io_frozen",
	[pci_channel_io_perm_failure] = "io_perm_failure",
};

static pci_ers_result_t pmt_error_detected(struct pci_dev *pdev,
					   pci_channel_state_t state)
{
	struct pmt_dev *md = pci_get_drvdata(pdev);

	atomic_inc(&md->errs.detected);
	WRITE_ONCE(md->errs.last_state, state);
	dev_info(&pdev->dev, "error_detected(%s)\n",
		 state < ARRAY_SIZE(state_names) ? state_names[state] : "?");
	switch (state) {
	case pci_channel_io_normal:
		return PCI_ERS_RESULT_CAN_RECOVER;
	case pci_channel_io_frozen:
		return PCI_ERS_RESULT_NEED_RESET;
	default:
		return PCI_ERS_RESULT_DISCONNECT;
	}
}

static pci_ers_result_t pmt_mmio_enabled(struct pci_dev *pdev)
{
	struct pmt_dev *md = pci_get_drvdata(pdev);

	atomic_inc(&md->errs.mmio_enabled);
	/* The device answers again: prove it with a register read. */
	dev_info(&pdev->dev, "mmio_enabled: ID reads %#x\n", readl(md->regs));
	return PCI_ERS_RESULT_RECOVERED;
}

static pci_ers_result_t pmt_slot_reset(struct pci_dev *pdev)
{
	struct pmt_dev *md = pci_get_drvdata(pdev);

	atomic_inc(&md->errs.slot_reset);
	pci_restore_state(pdev);
	dev_info(&pdev->dev, "slot_reset: state restored\n");
	return PCI_ERS_RESULT_RECOVERED;
}

static void pmt_resume(struct pci_dev *pdev)
{
	struct pmt_dev *md = pci_get_drvdata(pdev);

	atomic_inc(&md->errs.resume);
	dev_info(&pdev->dev, "resume\n");
}

const struct pci_error_handlers pmt_err_handlers = {
	.error_detected = pmt_error_detected,
	.mmio_enabled = pmt_mmio_enabled,
	.slot_reset = pmt_slot_reset,
	.resume = pmt_resume,
};

static int aer_show(struct seq_file *s, void *unused)
{
	struct pmt_dev *md = s->private;
	unsigned int st = READ_ONCE(md->errs.last_state);

	seq_printf(s, "error_detected %d mmio_enabled %d slot_reset %d resume %d last %s\n",
		   atomic_read(&md->errs.detected),
		   atomic_read(&md->errs.mmio_enabled),
		   atomic_read(&md->errs.slot_reset),
		   atomic_read(&md->errs.resume),
		   atomic_read(&md->errs.detected) && st < ARRAY_SIZE(state_names) ?
		   state_names[st] : "-");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(aer);

/*
 * "atomic OFFSET N": N reads of one register under a spinlock, as a driver
 * reads its statistics registers (e1000e): none of them may sleep while
 * the model answers. The last value is kept for reading back.
 */
static int reg_atomic_reads(struct pmt_dev *md, const char *buf)
{
	static DEFINE_SPINLOCK(lock);
	u32 off, n, i, val = 0;

	if (sscanf(buf, "atomic %i %i", &off, &n) != 2 || off % 4 ||
	    off + 4 > md->len || n == 0 || n > 1000)
		return -EINVAL;
	mutex_lock(&md->lock);
	spin_lock(&lock);
	for (i = 0; i < n; i++)
		val = readl(md->regs + off);
	spin_unlock(&lock);
	md->errs.reg = val;
	mutex_unlock(&md->lock);
	return 0;
}

/*
 * `reg`: write "OFFSET" to read a 32-bit register, "OFFSET VALUE" to write,
 * "atomic OFFSET N" to read it N times with preemption off.
 */
static ssize_t reg_write(struct file *file, const char __user *ubuf,
			 size_t count, loff_t *ppos)
{
	struct pmt_dev *md = file->private_data;
	char buf[64];
	u32 off, val;
	int n;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = 0;
	if (!strncmp(buf, "atomic ", 7)) {
		n = reg_atomic_reads(md, buf);
		return n ? n : count;
	}
	n = sscanf(buf, "%i %i", &off, &val);
	if (n < 1 || off % 4 || off + 4 > md->len)
		return -EINVAL;
	mutex_lock(&md->lock);
	if (n == 2) {
		writel(val, md->regs + off);
		md->errs.reg = val;
	} else {
		md->errs.reg = readl(md->regs + off);
	}
	mutex_unlock(&md->lock);
	return count;
}

static ssize_t reg_read(struct file *file, char __user *ubuf, size_t count,
			loff_t *ppos)
{
	struct pmt_dev *md = file->private_data;
	char buf[16];
	int n;

	n = scnprintf(buf, sizeof(buf), "%#010x\n", READ_ONCE(md->errs.reg));
	return simple_read_from_buffer(ubuf, count, ppos, buf, n);
}

static const struct file_operations reg_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = reg_read,
	.write = reg_write,
	.llseek = default_llseek,
};

void pmt_errors_create(struct pmt_dev *md)
{
	debugfs_create_file("aer", 0400, md->dir, md, &aer_fops);
	debugfs_create_file("reg", 0600, md->dir, md, &reg_fops);
}
