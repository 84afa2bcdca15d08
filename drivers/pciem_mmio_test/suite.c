// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Test suites behind a debugfs file pair: writing test names to `NAME`
 * runs them (each name optionally followed by a number, or "all" for
 * every test of the device kind that does not need model configuration);
 * reading `NAME` gives one PASS/FAIL line per test; `NAME-tests` lists
 * the suite. The interrupt and DMA tests are such suites.
 */
#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "mmio_test.h"

#define SUITE_RESULT_SIZE	8192

/* The tests a device of @md's kind has. */
unsigned int pmt_kind_flag(struct pmt_dev *md)
{
	return md->kind == PMT_EDU ? PMT_F_EDU : PMT_F_TESTDEV;
}

/* Run @test with @arg; append its PASS/FAIL line to @out. */
size_t pmt_run_one(struct pmt_dev *md, const struct pmt_test *test, u32 arg,
		   char *out, size_t len)
{
	struct pmt_run *t;
	size_t n;

	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return scnprintf(out, len, "FAIL %s: out of memory\n", test->name);
	t->md = md;
	t->r = md->regs;
	t->arg = arg;
	test->fn(t);
	if (t->failed)
		n = scnprintf(out, len, "FAIL %s: %s\n", test->name, t->detail);
	else if (t->note[0])
		n = scnprintf(out, len, "PASS %s (%s)\n", test->name, t->note);
	else
		n = scnprintf(out, len, "PASS %s\n", test->name);
	kfree(t);
	return n;
}

/* Every test of @list for @md's kind that needs no model configuration. */
size_t pmt_run_all(struct pmt_dev *md, const struct pmt_test *list,
		   char *out, size_t len)
{
	unsigned int kind = pmt_kind_flag(md);
	size_t n = 0;

	for (; list->name; list++) {
		if (!(list->flags & kind) || (list->flags & PMT_F_EXPLICIT))
			continue;
		n += pmt_run_one(md, list, 0, out + n, len - n);
		cond_resched();
	}
	return n;
}

/* Run what was written; the results replace @sf->result. */
static void suite_cmd(struct pmt_suite_file *sf, char *cmd)
{
	struct pmt_dev *md = sf->md;
	unsigned int kind = pmt_kind_flag(md);
	size_t n = 0, len = SUITE_RESULT_SIZE;
	char *out = sf->result, *word, *next;
	const struct pmt_test *test;
	u32 arg;

	out[0] = '\0';
	cmd = strim(cmd);
	while ((word = strsep(&cmd, " \t\n"))) {
		if (!*word)
			continue;
		if (!strcmp(word, "all")) {
			n += pmt_run_all(md, sf->tests, out + n, len - n);
			continue;
		}
		for (test = sf->tests; test->name; test++)
			if (!strcmp(test->name, word))
				break;
		if (!test->name || !(test->flags & kind)) {
			n += scnprintf(out + n, len - n,
				       "FAIL %s: no such %s test for this device\n",
				       word, sf->name);
			continue;
		}
		arg = 0;
		next = cmd ? skip_spaces(cmd) : NULL;
		if (next && isdigit(*next)) {
			cmd = next;
			word = strsep(&cmd, " \t\n");
			if (kstrtou32(word, 0, &arg)) {
				n += scnprintf(out + n, len - n, "FAIL %s: bad number '%s'\n",
					       test->name, word);
				continue;
			}
		}
		n += pmt_run_one(md, test, arg, out + n, len - n);
	}
}

/* A command written to a debugfs file, NUL-terminated in @buf. */
ssize_t pmt_copy_cmd(const char __user *ubuf, size_t count, char *buf)
{
	if (count >= PMT_CMD_MAX)
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	return count;
}

static ssize_t suite_write(struct file *file, const char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	struct pmt_suite_file *sf = file->private_data;
	char buf[PMT_CMD_MAX];
	ssize_t ret;

	ret = pmt_copy_cmd(ubuf, count, buf);
	if (ret < 0)
		return ret;
	mutex_lock(&sf->md->lock);
	if (sf->md->stress)
		ret = -EBUSY;	/* tests assume they own the registers */
	else
		suite_cmd(sf, buf);
	mutex_unlock(&sf->md->lock);
	return ret;
}

static ssize_t suite_read(struct file *file, char __user *ubuf, size_t count,
			  loff_t *ppos)
{
	struct pmt_suite_file *sf = file->private_data;
	ssize_t ret;

	mutex_lock(&sf->md->lock);
	ret = simple_read_from_buffer(ubuf, count, ppos, sf->result,
				      strlen(sf->result));
	mutex_unlock(&sf->md->lock);
	return ret;
}

static const struct file_operations suite_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = suite_read,
	.write = suite_write,
	.llseek = default_llseek,
};

/* The tests of @list a device of @md's kind has, one per line. */
void pmt_list_tests(struct seq_file *s, struct pmt_dev *md,
		    const struct pmt_test *list)
{
	unsigned int kind = pmt_kind_flag(md);
	const struct pmt_test *t;

	for (t = list; t->name; t++)
		if (t->flags & kind)
			seq_printf(s, "%s%s\n", t->name,
				   t->flags & PMT_F_EXPLICIT ? " (explicit)" : "");
}

static int suite_list_show(struct seq_file *s, void *unused)
{
	struct pmt_suite_file *sf = s->private;

	pmt_list_tests(s, sf->md, sf->tests);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(suite_list);

/**
 * pmt_suite_create() - the debugfs files @name and @name-tests for a suite
 * @md:		the device; the files live in its directory
 * @name:	"irq", "dma", ...
 * @tests:	the suite, ended by an entry with a NULL name
 *
 * Return: 0 or -ENOMEM. Freed with the device (devm).
 */
int pmt_suite_create(struct pmt_dev *md, const char *name,
		     const struct pmt_test *tests)
{
	struct device *dev = &md->pdev->dev;
	struct pmt_suite_file *sf;
	char list[32];

	sf = devm_kzalloc(dev, sizeof(*sf), GFP_KERNEL);
	if (!sf)
		return -ENOMEM;
	sf->result = devm_kzalloc(dev, SUITE_RESULT_SIZE, GFP_KERNEL);
	if (!sf->result)
		return -ENOMEM;
	sf->md = md;
	sf->name = name;
	sf->tests = tests;
	snprintf(list, sizeof(list), "%s-tests", name);
	debugfs_create_file(name, 0600, md->dir, sf, &suite_fops);
	debugfs_create_file(list, 0400, md->dir, sf, &suite_list_fops);
	return 0;
}
