// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * What every test file shares: the checks that record a test's first
 * failure (pmt_eq(), pmt_fail()) and the CPU the atomic and interrupt
 * tests run on (away from the device model's, the model_cpu parameter).
 * Kept apart from main.c (probe and debugfs) and from any one suite, so
 * the suites depend on this file and main.c on the suites, never back.
 */
#include <linux/cpumask.h>
#include <linux/kernel.h>
#include <linux/module.h>

#include "mmio_test.h"

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

/*
 * A read in atomic context spins until the model answers, so the model
 * must be able to run elsewhere: the atomic reads run on a CPU other than
 * model_cpu (module parameter; the test pins the model there).
 */
static int model_cpu = -1;
module_param(model_cpu, int, 0644);
MODULE_PARM_DESC(model_cpu, "CPU the device model runs on (-1: unknown)");

/* The CPU atomic and interrupt tests run on: the last one not the model's. */
unsigned int pmt_test_cpu(void)
{
	unsigned int cpu, last = 0;

	for_each_online_cpu(cpu)
		if ((int)cpu != model_cpu)
			last = cpu;
	return last;
}

int pmt_model_cpu(void)
{
	return READ_ONCE(model_cpu);
}
