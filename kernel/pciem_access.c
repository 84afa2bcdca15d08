// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * One MMIO access of a function, after the trap decoded it: the single
 * path where the device side answers, faults are injected, accesses are
 * recorded and traced. Also where PCIem's tracepoints are instantiated.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/ktime.h>
#include <linux/sched/clock.h>

#include "pciem.h"

#define CREATE_TRACE_POINTS
#include "pciem_trace.h"

static u64 all_ones(unsigned int size)
{
	return size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/* Wait @ns more before answering: sleep where the access may, else spin. */
static void inject_latency(u64 ns, bool may_sleep)
{
	if (may_sleep && ns >= 20 * NSEC_PER_USEC) {
		fsleep(div_u64(ns, NSEC_PER_USEC));
		return;
	}
	while (ns > NSEC_PER_MSEC) {
		mdelay(1);
		ns -= NSEC_PER_MSEC;
	}
	ndelay(ns);
}

/* A read's answer: where it comes from, in order of precedence. */
static enum pciem_mmio_source mmio_read(struct pciem_function *fn,
					const struct pciem_mmio *a, u64 *val)
{
	u64 param;
	int ret;

	if (pciem_fault_hit(fn, PCIEM_FAULT_MMIO_ALL_ONES, a->bar, a->off,
			    a->size, NULL))
		return PCIEM_MMIO_INJECTED;
	if (pciem_fault_hit(fn, PCIEM_FAULT_MMIO_LATENCY, a->bar, a->off,
			    a->size, &param)) {
		u64 limit = READ_ONCE(fn->ring.read_timeout_ns);

		inject_latency(min(param, limit), a->may_sleep);
		/* Slower than the completion timeout: it never completes. */
		if (param >= limit)
			return PCIEM_MMIO_TIMEOUT;
	}
	if (pciem_irq_msix_access(fn, a->bar, a->off, a->size, false, val))
		return PCIEM_MMIO_KERNEL;
	ret = pciem_ring_read(fn, a->bar, a->off, a->size, val, a->may_sleep);
	if (ret == PCIEM_RING_FROM_SHADOW)
		return PCIEM_MMIO_SHADOW;
	if (ret == -ETIMEDOUT || ret == -EDEADLK || ret == -EBUSY)
		return PCIEM_MMIO_TIMEOUT;
	return ret ? PCIEM_MMIO_ABORT : PCIEM_MMIO_MODEL;
}

/* An answer the device gave, with bits flipped by an injected fault. */
static void mmio_flip(struct pciem_function *fn, const struct pciem_mmio *a,
		      u64 *val)
{
	u64 mask;

	if (pciem_fault_hit(fn, PCIEM_FAULT_MMIO_FLIP, a->bar, a->off, a->size,
			    &mask))
		*val ^= mask & all_ones(a->size);
}

static enum pciem_mmio_source mmio_write(struct pciem_function *fn,
					 const struct pciem_mmio *a, u64 val)
{
	/* A ROM is read-only: the write ends here, as on hardware. */
	if (a->bar == PCIEM_ROM_BAR)
		return PCIEM_MMIO_KERNEL;
	if (pciem_irq_msix_access(fn, a->bar, a->off, a->size, true, &val))
		return PCIEM_MMIO_KERNEL;
	return pciem_ring_write(fn, a->bar, a->off, a->size, val) ?
	       PCIEM_MMIO_ABORT : PCIEM_MMIO_MODEL;
}

/**
 * pciem_function_mmio() - a driver's access to a BAR of @fn
 * @fn:		the function whose BAR decodes the address
 * @a:		the access
 * @val:	write: the data; read: the answer (all-ones unless answered)
 *
 * A function that is not on the bus, whose link is down, or with Memory
 * Space Enable clear master-aborts, as hardware does. Any context.
 */
void pciem_function_mmio(struct pciem_function *fn,
			 const struct pciem_mmio *a, u64 *val)
{
	enum pciem_mmio_source how = PCIEM_MMIO_ABORT;
	/* local_clock(): a ktime read is an HPET exit under TCG */
	u64 t0 = trace_pciem_mmio_enabled() ? local_clock() : 0;

	if (!a->write)
		*val = all_ones(a->size);
	if (pciem_function_decodes_memory(fn))
		how = a->write ? mmio_write(fn, a, *val) : mmio_read(fn, a, val);
	if (how == PCIEM_MMIO_INJECTED)
		*val = all_ones(a->size);
	else if (!a->write && how < PCIEM_MMIO_ABORT)
		mmio_flip(fn, a, val);
	pciem_record_access(fn, a->write ? PCIEM_REC_MMIO_WRITE :
				PCIEM_REC_MMIO_READ, a->bar, a->size, a->off,
			    *val, how == PCIEM_MMIO_MODEL ||
				  how == PCIEM_MMIO_SHADOW,
			    how >= PCIEM_MMIO_ABORT);
	trace_pciem_mmio(fn, a->write, a->bar, a->off, a->size, *val,
			 a->insn, t0 ? local_clock() - t0 : 0, how);
}
