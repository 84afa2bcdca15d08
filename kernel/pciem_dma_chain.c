// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Where a DMA mapping was made and unmapped, and how log lines name it.
 *
 * A sanitizer report is only as useful as its "mapped by foo()": the call
 * chain of each DMA API call is taken once per call however many segments
 * it maps or unmaps (under TCG one unwind costs as much as the rest of a
 * 4 KiB I/O's mapping work), before any lock is taken, by the inline
 * helpers in pciem.h; how deep is set here, and read back here for log
 * lines and debugfs.
 */
#include <linux/dma-direction.h>
#include <linux/kallsyms.h>
#include <linux/moduleparam.h>

#include "pciem.h"

/*
 * Six frames reach past PCIem's and the DMA API's own to the driver's
 * function and its caller. Each frame is an ORC lookup: under TCG the
 * traces of a 4 KiB read's map and unmap cost about a tenth of the
 * submitting CPU's time, which every I/O would pay for a report most runs
 * never print. So none by default for streaming mappings: a user chasing
 * a refusal asks for them (the report says how) and reproduces. Coherent
 * allocations, rare, always have theirs (pciem_dma_trace_coherent()).
 */
unsigned int pciem_dma_trace_depth;
module_param_named(dma_trace_depth, pciem_dma_trace_depth, uint, 0644);
MODULE_PARM_DESC(dma_trace_depth,
		 "Stack frames recorded per streaming DMA map/unmap call for the DMA sanitizer's reports and debugfs (0-8; default 0: none, reports say '?'; 6 names the driver's function and its caller; coherent allocations always record 6 or more)");

const char *pciem_dma_kind_name(unsigned int kind)
{
	return kind == PCIEM_DMA_COHERENT ? "coherent" :
	       kind == PCIEM_DMA_SG ? "sg" : "single";
}

const char *pciem_dma_dir_name(unsigned int dir)
{
	switch (dir) {
	case DMA_BIDIRECTIONAL:
		return "BIDIRECTIONAL";
	case DMA_TO_DEVICE:
		return "TO_DEVICE";
	case DMA_FROM_DEVICE:
		return "FROM_DEVICE";
	}
	return "NONE";
}

/* Frames inside the DMA API and PCIem's ops say nothing about the driver. */
static bool dma_internal(unsigned long ip)
{
	static const char *const prefixes[] = {
		"dma_", "__dma_", "debug_dma_", "pciem_dma_", "map_", "unmap_",
		"pool_", "__pool_",
	};
	char sym[KSYM_SYMBOL_LEN];
	unsigned int i;

	sprint_symbol_no_offset(sym, ip);
	for (i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (!strncmp(sym, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

/**
 * pciem_dma_print_trace() - "drv_fn+0x1c/0x80 [drv] <- caller+0x.."
 * @buf:	output
 * @len:	its size
 * @trace:	PCIEM_DMA_TRACE return addresses, 0-terminated if fewer
 */
void pciem_dma_print_trace(char *buf, size_t len, const unsigned long *trace)
{
	unsigned int i, shown = 0;
	int n = 0;

	buf[0] = '\0';
	/* Skip PCIem's and the DMA API's frames: the driver is after them. */
	for (i = 0; i < PCIEM_DMA_TRACE && trace[i] && shown < 2; i++) {
		if (!shown && dma_internal(trace[i]) && i + 1 < PCIEM_DMA_TRACE &&
		    trace[i + 1])
			continue;
		n += scnprintf(buf + n, len - n, "%s%pS", shown ? " <- " : "",
			       (void *)trace[i]);
		shown++;
	}
	if (!shown)
		scnprintf(buf, len, "? (no call chains recorded: set /sys/module/pciem/parameters/dma_trace_depth to 6)");
}

/*
 * Who called the DMA API, for a warning about a driver's misuse of it:
 * "drv_fn+0x1c/0x80 [drv] <- its caller". From the unwinder, as the map
 * traces are: __builtin_return_address() beyond 0 is not safe in kernels
 * built without frame pointers, and level 0 is only the DMA core.
 */
void pciem_dma_caller(char *buf, size_t len)
{
	unsigned long trace[PCIEM_DMA_TRACE] = { 0 };

	pciem_arch_stack(trace, PCIEM_DMA_TRACE);
	pciem_dma_print_trace(buf, len, trace);
}
