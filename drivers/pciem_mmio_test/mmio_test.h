/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * pciem_mmio_test: a PCI driver that exercises every MMIO accessor and
 * every instruction form drivers emit against the PCIem test device (and
 * QEMU's edu device, for reference), through debugfs.
 */
#ifndef PCIEM_MMIO_TEST_H
#define PCIEM_MMIO_TEST_H

#include <linux/dma-direction.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/pci.h>
#include <linux/types.h>

#define EDU_VENDOR_ID		0x1234
#define EDU_DEVICE_ID		0x11e8
#define EDU_ID			0x00	/* RO32: 0x010000ed */
#define EDU_ID_VALUE		0x010000edu
#define EDU_LIVENESS		0x04	/* RW32: reads back ~written value */
#define EDU_IRQ_STATUS		0x24	/* RO32: interrupt status bits */
#define EDU_IRQ_RAISE		0x60	/* WO32: status |= value, interrupt */
#define EDU_IRQ_ACK		0x64	/* WO32: status &= ~value; INTx low at 0 */
#define EDU_DMA_SRC		0x80	/* RW64 (4- and 8-byte accesses) */
#define EDU_DMA_DST		0x88	/* RW64 */

/** enum pmt_kind - which device a function is */
enum pmt_kind {
	PMT_TESTDEV,
	PMT_EDU,
};

/**
 * struct pmt_dev - one bound function
 * @pdev:	the PCI function
 * @kind:	testdev or edu
 * @regs:	BAR0 mapped with pci_iomap()
 * @len:	length of BAR0
 * @dir:	its debugfs directory
 * @lock:	serialises run, bench and stress control
 * @result:	text the last `run` or `bench` produced (NUL-terminated)
 * @stress:	the stress thread, or NULL
 * @stress_iters: iterations the stress thread completed
 * @stress_ones: reads that returned all-ones (device gone or timed out)
 * @held:	vectors `irq hold` keeps allocated until `release` or remove()
 * @errs:	what error recovery did
 */
struct pmt_irqs;

/**
 * struct pmt_errors - what error recovery did (errors.c)
 * @detected, @mmio_enabled, @slot_reset, @resume: calls of each handler
 * @last_state:	the pci_channel_state_t error_detected() was last given
 * @reg:	the value the `reg` file last read or wrote
 */
struct pmt_errors {
	atomic_t detected, mmio_enabled, slot_reset, resume;
	unsigned int last_state;
	u32 reg;
};

/* debugfs `dmabuf` (dmabuf.c): a page mapped by hand; @bus 0 when unmapped */
struct pmt_dmabuf {
	void *page;
	dma_addr_t bus;
	enum dma_data_direction dir;
};

struct pmt_dev {
	struct pci_dev *pdev;
	enum pmt_kind kind;
	void __iomem *regs;
	resource_size_t len;
	struct dentry *dir;
	struct mutex lock;
	char *result;
	char bench[128];
	struct task_struct *stress;
	atomic64_t stress_iters;
	atomic64_t stress_ones;
	struct pmt_irqs *held;
	struct pmt_errors errs;
	struct pmt_dmabuf dmabuf;
};

/* errors.c */
extern const struct pci_error_handlers pmt_err_handlers;
void pmt_errors_create(struct pmt_dev *md);

/* dmabuf.c */
void pmt_dmabuf_create(struct pmt_dev *md);
void pmt_dmabuf_remove(struct pmt_dev *md);

/**
 * struct pmt_run - state of one test while it runs
 * @md:		the device
 * @r:		BAR0
 * @failed:	a check failed; @detail says which (the first one)
 * @detail:	"what: got X, want Y"
 * @arg:	the number that followed the test's name, or 0
 * @note:	what a passing test reports besides PASS (figures), or ""
 */
struct pmt_run {
	struct pmt_dev *md;
	void __iomem *r;
	bool failed;
	char detail[160];
	u32 arg;
	char note[160];
};

/* Test flags: which device a test is for, and whether `all` runs it. */
#define PMT_F_TESTDEV	BIT(0)
#define PMT_F_EDU	BIT(1)
#define PMT_F_EXPLICIT	BIT(2)	/* needs model configuration: run only by name */

struct pmt_test {
	const char *name;
	void (*fn)(struct pmt_run *t);
	unsigned int flags;
};

__printf(4, 5) bool pmt_eq(struct pmt_run *t, u64 got, u64 want,
			  const char *fmt, ...);
__printf(2, 3) void pmt_fail(struct pmt_run *t, const char *fmt, ...);

extern const struct pmt_test pmt_tests[];
extern const struct pmt_test pmt_asm_tests[];
extern const struct pmt_test pmt_irq_tests[];

unsigned int pmt_test_cpu(void);
int pmt_model_cpu(void);

/**
 * struct pmt_suite_file - a test suite behind debugfs files (suite.c)
 * @md:		the device
 * @name:	the file's name, "irq" or "dma"
 * @tests:	the suite
 * @result:	what the last command produced (NUL-terminated)
 */
struct pmt_suite_file {
	struct pmt_dev *md;
	const char *name;
	const struct pmt_test *tests;
	char *result;
};

int pmt_suite_create(struct pmt_dev *md, const char *name,
		     const struct pmt_test *tests);

/* suite.c, also behind the `run` and `tests` files */
#define PMT_CMD_MAX	256	/* longest command written to a file */
unsigned int pmt_kind_flag(struct pmt_dev *md);
size_t pmt_run_one(struct pmt_dev *md, const struct pmt_test *test, u32 arg,
		   char *out, size_t len);
size_t pmt_run_all(struct pmt_dev *md, const struct pmt_test *list,
		   char *out, size_t len);
ssize_t pmt_copy_cmd(const char __user *ubuf, size_t count, char *buf);
void pmt_list_tests(struct seq_file *s, struct pmt_dev *md,
		    const struct pmt_test *list);

extern const struct pmt_test pmt_dma_tests[];

/* Most iterations one `bench` command runs. */
#define PMT_BENCH_MAX_N	10000000u

/* dma_bench.c: `bench dma-read|dma-write|memcpy SIZE N [DIRECT]`. */
int pmt_dma_bench(struct pmt_dev *md, const char *cmd);

/* irq_tests.c: `bench irq N`, and teardown at remove(). */
int pmt_irq_bench(struct pmt_dev *md, u32 n);
void pmt_irq_remove(struct pmt_dev *md);
void pmt_irq_stats_show(struct seq_file *s);
void pmt_irq_exit(void);

#endif /* PCIEM_MMIO_TEST_H */
