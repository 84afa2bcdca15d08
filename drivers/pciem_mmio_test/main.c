// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * pciem_mmio_test: an ordinary PCI driver for the PCIem test device and for
 * QEMU's edu device. It owns no hardware function of its own; it is the
 * driver side of PCIem's MMIO tests and of the MMIO round-trip benchmark.
 *
 * Per bound function, /sys/kernel/debug/pciem_mmio_test/<pci address>/:
 *   run     write a test name, several names, or "all"; read one line per
 *           test: "PASS name" or "FAIL name: detail"
 *   bench   write "reads N [OFFSET]" or "writes N [OFFSET]"; read
 *           "reads N <total_ns> <ns_per_op>"; or "irq N": read
 *           "irq N <total_ns> <ns_per_irq> <irqs_per_s> <delivered>";
 *           or "dma-read SIZE N", "dma-write SIZE N", "memcpy SIZE N"
 *           (dma_bench.c)
 *   irq     write interrupt test names (a name may be followed by a
 *           number), or "all"; read one line per test as for run
 *   irq-tests read the names of the interrupt tests this function has
 *   dma, dma-tests  the same for the DMA tests (dma_tests.c)
 *   stress  write "start" or "stop"; read the thread's state and counts
 *   tests   read the names of the tests this function has
 *
 * and /sys/kernel/debug/pciem_mmio_test/irq_stats: handler runs, and
 * runs after remove() freed a function's vectors (must stay 0).
 */
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>

#include "mmio_test.h"
#include "testdev_regs.h"

#define PMT_RESULT_SIZE	8192

static struct dentry *pmt_root;

__printf(4, 5) bool pmt_eq(struct pmt_run *t, u64 got, u64 want,
			   const char *fmt, ...)
{
	va_list ap;
	int n;

	if (got == want)
		return true;
	if (t->failed)
		return false;
	t->failed = true;
	va_start(ap, fmt);
	n = vscnprintf(t->detail, sizeof(t->detail), fmt, ap);
	va_end(ap);
	scnprintf(t->detail + n, sizeof(t->detail) - n,
		  ": got %#llx, want %#llx", got, want);
	return false;
}

__printf(2, 3) void pmt_fail(struct pmt_run *t, const char *fmt, ...)
{
	va_list ap;

	if (t->failed)
		return;
	t->failed = true;
	va_start(ap, fmt);
	vscnprintf(t->detail, sizeof(t->detail), fmt, ap);
	va_end(ap);
}

static const struct pmt_test *pmt_find(const struct pmt_test *list,
				     const char *name)
{
	for (; list->name; list++)
		if (!strcmp(list->name, name))
			return list;
	return NULL;
}

/* Runs the space-separated tests of @cmd; "all" (or "edu" on edu) runs every default test. */
static int pmt_run_cmd(struct pmt_dev *md, char *cmd)
{
	unsigned int kind = pmt_kind_flag(md);
	char *out = md->result, *word;
	size_t n = 0, len = PMT_RESULT_SIZE;
	const struct pmt_test *test;

	out[0] = '\0';
	while ((word = strsep(&cmd, " \t\n"))) {
		if (!*word)
			continue;
		if (!strcmp(word, "all") ||
		    (md->kind == PMT_EDU && !strcmp(word, "edu"))) {
			n += pmt_run_all(md, pmt_tests, out + n, len - n);
			n += pmt_run_all(md, pmt_asm_tests, out + n, len - n);
			continue;
		}
		test = pmt_find(pmt_tests, word);
		if (!test)
			test = pmt_find(pmt_asm_tests, word);
		if (!test || !(test->flags & kind)) {
			n += scnprintf(out + n, len - n,
				       "FAIL %s: no such test for this device\n",
				       word);
			continue;
		}
		n += pmt_run_one(md, test, 0, out + n, len - n);
	}
	return 0;
}

static ssize_t run_write(struct file *file, const char __user *ubuf,
			 size_t count, loff_t *ppos)
{
	struct pmt_dev *md = file->private_data;
	char buf[PMT_CMD_MAX];
	ssize_t ret;

	ret = pmt_copy_cmd(ubuf, count, buf);
	if (ret < 0)
		return ret;
	mutex_lock(&md->lock);
	if (md->stress)
		ret = -EBUSY;	/* tests assume they own the registers */
	else
		pmt_run_cmd(md, buf);
	mutex_unlock(&md->lock);
	return ret;
}

static ssize_t run_read(struct file *file, char __user *ubuf, size_t count,
			loff_t *ppos)
{
	struct pmt_dev *md = file->private_data;
	ssize_t ret;

	mutex_lock(&md->lock);
	ret = simple_read_from_buffer(ubuf, count, ppos, md->result,
				      strlen(md->result));
	mutex_unlock(&md->lock);
	return ret;
}

static const struct file_operations run_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = run_read,
	.write = run_write,
	.llseek = default_llseek,
};

/* bench: the loop the benchmark compares, nothing else inside the timed region. */
static int pmt_bench(struct pmt_dev *md, bool writes, u32 n, u32 off)
{
	void __iomem *p = md->regs + off;
	u64 t0, t1;
	u32 i;

	if (writes) {
		t0 = ktime_get_ns();
		for (i = 0; i < n; i++)
			writel(i, p);
		/* a read completes the posted writes before the clock stops */
		readl(md->regs);
		t1 = ktime_get_ns();
	} else {
		t0 = ktime_get_ns();
		for (i = 0; i < n; i++)
			readl(p);
		t1 = ktime_get_ns();
	}
	scnprintf(md->bench, sizeof(md->bench), "%s %u %llu %llu\n",
		  writes ? "writes" : "reads", n, t1 - t0,
		  n ? div_u64(t1 - t0, n) : 0);
	return 0;
}

static ssize_t bench_write(struct file *file, const char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	struct pmt_dev *md = file->private_data;
	char buf[PMT_CMD_MAX], op[16];
	u32 n, off;
	bool writes;
	ssize_t ret;
	int args, arg_off = 0;

	ret = pmt_copy_cmd(ubuf, count, buf);
	if (ret < 0)
		return ret;
	if (!strncmp(buf, "dma-", 4) || !strncmp(buf, "memcpy", 6)) {
		int err;

		mutex_lock(&md->lock);
		err = md->stress ? -EBUSY : pmt_dma_bench(md, buf);
		mutex_unlock(&md->lock);
		return err ? err : ret;
	}
	args = sscanf(buf, "%15s %u %i", op, &n, &arg_off);
	if (args < 2 || n == 0 || n > PMT_BENCH_MAX_N)
		return -EINVAL;
	if (!strcmp(op, "irq")) {
		if (args != 2)
			return -EINVAL;
		mutex_lock(&md->lock);
		if (md->stress) {
			ret = -EBUSY;
		} else {
			int err = pmt_irq_bench(md, n);

			if (err)
				ret = err;
		}
		mutex_unlock(&md->lock);
		return ret;
	}
	if (!strcmp(op, "reads"))
		writes = false;
	else if (!strcmp(op, "writes"))
		writes = true;
	else
		return -EINVAL;
	if (args == 3) {
		if (arg_off < 0)
			return -EINVAL;
		off = arg_off;
	} else {
		if (!writes)
			off = 0;	/* ID on both devices */
		else
			off = md->kind == PMT_EDU ? EDU_LIVENESS : TESTDEV_SCRATCH;
	}
	if (off % 4 || off + 4 > md->len)
		return -EINVAL;

	mutex_lock(&md->lock);
	if (md->stress)
		ret = -EBUSY;
	else
		pmt_bench(md, writes, n, off);
	mutex_unlock(&md->lock);
	return ret;
}

static ssize_t bench_read(struct file *file, char __user *ubuf, size_t count,
			  loff_t *ppos)
{
	struct pmt_dev *md = file->private_data;
	ssize_t ret;

	mutex_lock(&md->lock);
	ret = simple_read_from_buffer(ubuf, count, ppos, md->bench,
				      strlen(md->bench));
	mutex_unlock(&md->lock);
	return ret;
}


static const struct file_operations bench_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = bench_read,
	.write = bench_write,
	.llseek = default_llseek,
};

/*
 * The stress thread keeps reads and writes in flight so a test can kill the
 * device model under it. It must survive all-ones answers and it must be
 * stopped before BAR0 is unmapped: remove() stops it first.
 */
static int pmt_stress_fn(void *data)
{
	struct pmt_dev *md = data;
	u32 rd = md->kind == PMT_EDU ? EDU_ID : TESTDEV_COUNTER;
	u32 wr = md->kind == PMT_EDU ? EDU_LIVENESS : TESTDEV_SCRATCH;
	u32 i = 0;

	while (!kthread_should_stop()) {
		if (readl(md->regs + rd) == ~0u)
			atomic64_inc(&md->stress_ones);
		writel(i++, md->regs + wr);
		atomic64_inc(&md->stress_iters);
		cond_resched();
	}
	return 0;
}

static void pmt_stress_stop(struct pmt_dev *md)
{
	lockdep_assert_held(&md->lock);
	if (!md->stress)
		return;
	kthread_stop(md->stress);
	put_task_struct(md->stress);
	md->stress = NULL;
}

static ssize_t stress_write(struct file *file, const char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	struct pmt_dev *md = file->private_data;
	struct task_struct *task;
	char buf[PMT_CMD_MAX];
	ssize_t ret;

	ret = pmt_copy_cmd(ubuf, count, buf);
	if (ret < 0)
		return ret;
	strim(buf);
	mutex_lock(&md->lock);
	if (!strcmp(buf, "start")) {
		if (md->stress) {
			ret = -EBUSY;
			goto out;
		}
		atomic64_set(&md->stress_iters, 0);
		atomic64_set(&md->stress_ones, 0);
		task = kthread_run(pmt_stress_fn, md, "pmt-stress/%s",
				   pci_name(md->pdev));
		if (IS_ERR(task)) {
			ret = PTR_ERR(task);
			goto out;
		}
		get_task_struct(task);
		md->stress = task;
	} else if (!strcmp(buf, "stop")) {
		pmt_stress_stop(md);
	} else {
		ret = -EINVAL;
	}
out:
	mutex_unlock(&md->lock);
	return ret;
}

static ssize_t stress_read(struct file *file, char __user *ubuf, size_t count,
			   loff_t *ppos)
{
	struct pmt_dev *md = file->private_data;
	char buf[96];
	int n;

	mutex_lock(&md->lock);
	n = scnprintf(buf, sizeof(buf), "%s iterations %lld allones %lld\n",
		      md->stress ? "running" : "stopped",
		      atomic64_read(&md->stress_iters),
		      atomic64_read(&md->stress_ones));
	mutex_unlock(&md->lock);
	return simple_read_from_buffer(ubuf, count, ppos, buf, n);
}

static const struct file_operations stress_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = stress_read,
	.write = stress_write,
	.llseek = default_llseek,
};

static int tests_show(struct seq_file *s, void *unused)
{
	pmt_list_tests(s, s->private, pmt_tests);
	pmt_list_tests(s, s->private, pmt_asm_tests);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(tests);

static int irq_stats_show(struct seq_file *s, void *unused)
{
	pmt_irq_stats_show(s);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(irq_stats);

static int pmt_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct pmt_dev *md;
	int ret;

	md = devm_kzalloc(&pdev->dev, sizeof(*md), GFP_KERNEL);
	if (!md)
		return -ENOMEM;
	md->result = devm_kzalloc(&pdev->dev, PMT_RESULT_SIZE, GFP_KERNEL);
	if (!md->result)
		return -ENOMEM;
	md->pdev = pdev;
	md->kind = id->driver_data;
	mutex_init(&md->lock);

	ret = pci_enable_device_mem(pdev);
	if (ret)
		return ret;
	ret = pci_request_regions(pdev, KBUILD_MODNAME);
	if (ret)
		goto err_disable;
	md->len = pci_resource_len(pdev, 0);
	if (md->len < (md->kind == PMT_EDU ? 0x100 : TESTDEV_BAR0_SIZE)) {
		dev_err(&pdev->dev, "BAR0 is %pa bytes, too small\n", &md->len);
		ret = -ENODEV;
		goto err_release;
	}
	md->regs = pci_iomap(pdev, 0, 0);
	if (!md->regs) {
		ret = -ENOMEM;
		goto err_release;
	}
	pci_set_drvdata(pdev, md);
	/* What slot_reset() restores after a reset in error recovery. */
	pci_save_state(pdev);

	md->dir = debugfs_create_dir(pci_name(pdev), pmt_root);
	debugfs_create_file("run", 0600, md->dir, md, &run_fops);
	debugfs_create_file("bench", 0600, md->dir, md, &bench_fops);
	debugfs_create_file("stress", 0600, md->dir, md, &stress_fops);
	debugfs_create_file("tests", 0400, md->dir, md, &tests_fops);
	pmt_errors_create(md);
	pmt_dmabuf_create(md);
	ret = pmt_suite_create(md, "irq", pmt_irq_tests);
	if (!ret)
		ret = pmt_suite_create(md, "dma", pmt_dma_tests);
	if (ret) {
		debugfs_remove_recursive(md->dir);
		pci_iounmap(pdev, md->regs);
		goto err_release;
	}
	dev_info(&pdev->dev, "%s bound, BAR0 %pR\n",
		 md->kind == PMT_EDU ? "edu" : "testdev", &pdev->resource[0]);
	return 0;

err_release:
	pci_release_regions(pdev);
err_disable:
	pci_disable_device(pdev);
	return ret;
}

static void pmt_remove(struct pci_dev *pdev)
{
	struct pmt_dev *md = pci_get_drvdata(pdev);

	/* waits for a run/bench/stress file operation still in progress */
	debugfs_remove_recursive(md->dir);
	mutex_lock(&md->lock);
	pmt_stress_stop(md);	/* no access may follow the unmap */
	pmt_irq_remove(md);	/* vectors `irq hold` kept */
	pmt_dmabuf_remove(md);
	mutex_unlock(&md->lock);
	pci_iounmap(pdev, md->regs);
	pci_release_regions(pdev);
	pci_disable_device(pdev);
	mutex_destroy(&md->lock);
}

static const struct pci_device_id pmt_ids[] = {
	{ PCI_DEVICE(TESTDEV_VENDOR_ID, TESTDEV_DEVICE_ID), .driver_data = PMT_TESTDEV },
	{ PCI_DEVICE(EDU_VENDOR_ID, EDU_DEVICE_ID), .driver_data = PMT_EDU },
	{ }
};
MODULE_DEVICE_TABLE(pci, pmt_ids);

static struct pci_driver pmt_driver = {
	.name = KBUILD_MODNAME,
	.id_table = pmt_ids,
	.probe = pmt_probe,
	.remove = pmt_remove,
	.err_handler = &pmt_err_handlers,
};

static int __init pmt_init(void)
{
	int ret;

	pmt_root = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("irq_stats", 0400, pmt_root, NULL, &irq_stats_fops);
	ret = pci_register_driver(&pmt_driver);
	if (ret)
		debugfs_remove_recursive(pmt_root);
	return ret;
}

static void __exit pmt_exit(void)
{
	pci_unregister_driver(&pmt_driver);
	debugfs_remove_recursive(pmt_root);
	pmt_irq_exit();
}

module_init(pmt_init);
module_exit(pmt_exit);

MODULE_DESCRIPTION("MMIO accessor, instruction-form and interrupt tests for PCIem's test device and QEMU edu");
MODULE_LICENSE("Dual MIT/GPL");
