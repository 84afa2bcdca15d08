/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * PCIem's tracepoints (system "pciem"): trace-cmd, perf and ftrace see
 * them, `pciemctl trace` turns them into text or Perfetto JSON. Each is a
 * static key while off. A function is named by its PCI domain and devfn
 * (the bus is always PCIem's root bus 00).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM pciem

#if !defined(_PCIEM_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _PCIEM_TRACE_H

#include <linux/tracepoint.h>

#define PCIEM_TP_FN_ASSIGN(fn)				\
	do {						\
		__entry->domain = pciem_host_domain((fn)->host); \
		__entry->devfn = (fn)->devfn;		\
	} while (0)

#define PCIEM_TP_FN_FMT		"%04x:00:%02x.%u "

/* A config cycle: @model says whether the device model answered it. */
TRACE_EVENT(pciem_config,
	TP_PROTO(struct pciem_function *fn, bool write, u16 where, u8 size,
		 u32 val, bool model),
	TP_ARGS(fn, write, where, size, val, model),
	TP_STRUCT__entry(
		__field(u32, domain)
		__field(u8, devfn)
		__field(bool, write)
		__field(u16, where)
		__field(u8, size)
		__field(u32, val)
		__field(bool, model)
	),
	TP_fast_assign(
		PCIEM_TP_FN_ASSIGN(fn);
		__entry->write = write;
		__entry->where = where;
		__entry->size = size;
		__entry->val = val;
		__entry->model = model;
	),
	TP_printk(PCIEM_TP_FN_FMT "cfg %s %#05x/%u = %#x%s", __entry->domain, __entry->devfn >> 3, __entry->devfn & 7,
		  __entry->write ? "write" : "read", __entry->where,
		  __entry->size, __entry->val, __entry->model ? " (model)" : "")
);

/*
 * A trapped MMIO access: @insn is the decoded instruction's kind
 * (enum pciem_insn_kind), @ns the time the answer took, @how where it
 * came from (enum pciem_mmio_source).
 */
TRACE_EVENT(pciem_mmio,
	TP_PROTO(struct pciem_function *fn, bool write, u8 bar, u64 off,
		 u8 size, u64 val, u8 insn, u64 ns, u8 how),
	TP_ARGS(fn, write, bar, off, size, val, insn, ns, how),
	TP_STRUCT__entry(
		__field(u32, domain)
		__field(u8, devfn)
		__field(bool, write)
		__field(u8, bar)
		__field(u8, size)
		__field(u8, insn)
		__field(u8, how)
		__field(u64, off)
		__field(u64, val)
		__field(u64, ns)
	),
	TP_fast_assign(
		PCIEM_TP_FN_ASSIGN(fn);
		__entry->write = write;
		__entry->bar = bar;
		__entry->off = off;
		__entry->size = size;
		__entry->val = val;
		__entry->insn = insn;
		__entry->ns = ns;
		__entry->how = how;
	),
	TP_printk(PCIEM_TP_FN_FMT "mmio %s BAR%u+%#llx/%u = %#llx insn=%u %s %lluns",
		  __entry->domain, __entry->devfn >> 3, __entry->devfn & 7, __entry->write ? "write" : "read",
		  __entry->bar, __entry->off, __entry->size, __entry->val,
		  __entry->insn,
		  __print_symbolic(__entry->how,
				   { 0, "model" }, { 1, "kernel" },
				   { 2, "shadow" }, { 3, "abort" },
				   { 4, "injected" }, { 5, "timeout" }),
		  __entry->ns)
);

/*
 * The device raised @vector: @result is 0 (queued), 1 (pending: masked)
 * or a negative errno (not enabled, no such vector).
 */
TRACE_EVENT(pciem_irq_raise,
	TP_PROTO(struct pciem_function *fn, u32 vector, int result),
	TP_ARGS(fn, vector, result),
	TP_STRUCT__entry(
		__field(u32, domain)
		__field(u8, devfn)
		__field(u32, vector)
		__field(int, result)
	),
	TP_fast_assign(
		PCIEM_TP_FN_ASSIGN(fn);
		__entry->vector = vector;
		__entry->result = result;
	),
	TP_printk(PCIEM_TP_FN_FMT "irq raise vector %u result %d",
		  __entry->domain, __entry->devfn >> 3, __entry->devfn & 7, __entry->vector, __entry->result)
);

/* The driver masked or unmasked @vector (MSI-X entry or MSI mask bit). */
TRACE_EVENT(pciem_irq_mask,
	TP_PROTO(struct pciem_function *fn, u32 vector, bool masked),
	TP_ARGS(fn, vector, masked),
	TP_STRUCT__entry(
		__field(u32, domain)
		__field(u8, devfn)
		__field(u32, vector)
		__field(bool, masked)
	),
	TP_fast_assign(
		PCIEM_TP_FN_ASSIGN(fn);
		__entry->vector = vector;
		__entry->masked = masked;
	),
	TP_printk(PCIEM_TP_FN_FMT "irq %s vector %u", __entry->domain, __entry->devfn >> 3, __entry->devfn & 7,
		  __entry->masked ? "mask" : "unmask", __entry->vector)
);

/*
 * The handlers of Linux IRQ @virq run for @vector (@intx: the INTx line):
 * emitted just before they do, so their register accesses follow it.
 */
TRACE_EVENT(pciem_irq_deliver,
	TP_PROTO(struct pciem_function *fn, u32 vector, bool intx,
		 unsigned int virq),
	TP_ARGS(fn, vector, intx, virq),
	TP_STRUCT__entry(
		__field(u32, domain)
		__field(u8, devfn)
		__field(u32, vector)
		__field(bool, intx)
		__field(unsigned int, virq)
	),
	TP_fast_assign(
		PCIEM_TP_FN_ASSIGN(fn);
		__entry->vector = vector;
		__entry->intx = intx;
		__entry->virq = virq;
	),
	TP_printk(PCIEM_TP_FN_FMT "irq deliver %s %u as irq %u",
		  __entry->domain, __entry->devfn >> 3, __entry->devfn & 7, __entry->intx ? "intx" : "vector",
		  __entry->vector, __entry->virq)
);

/* The driver mapped (@map) or unmapped a DMA buffer. */
TRACE_EVENT(pciem_dma_map,
	TP_PROTO(struct pciem_function *fn, bool map, u64 iova, u64 len,
		 u8 dir, u8 kind),
	TP_ARGS(fn, map, iova, len, dir, kind),
	TP_STRUCT__entry(
		__field(u32, domain)
		__field(u8, devfn)
		__field(bool, map)
		__field(u8, dir)
		__field(u8, kind)
		__field(u64, iova)
		__field(u64, len)
	),
	TP_fast_assign(
		PCIEM_TP_FN_ASSIGN(fn);
		__entry->map = map;
		__entry->iova = iova;
		__entry->len = len;
		__entry->dir = dir;
		__entry->kind = kind;
	),
	TP_printk(PCIEM_TP_FN_FMT "dma %s %#llx+%llu dir=%u kind=%u",
		  __entry->domain, __entry->devfn >> 3, __entry->devfn & 7, __entry->map ? "map" : "unmap",
		  __entry->iova, __entry->len, __entry->dir, __entry->kind)
);

/* The device read or wrote host memory; @fault non-zero: refused. */
TRACE_EVENT(pciem_dma_access,
	TP_PROTO(struct pciem_function *fn, u32 op, u64 addr, u64 len,
		 u32 fault),
	TP_ARGS(fn, op, addr, len, fault),
	TP_STRUCT__entry(
		__field(u32, domain)
		__field(u8, devfn)
		__field(u32, op)
		__field(u32, fault)
		__field(u64, addr)
		__field(u64, len)
	),
	TP_fast_assign(
		PCIEM_TP_FN_ASSIGN(fn);
		__entry->op = op;
		__entry->addr = addr;
		__entry->len = len;
		__entry->fault = fault;
	),
	TP_printk(PCIEM_TP_FN_FMT "dma op=%u %#llx+%llu fault=%u",
		  __entry->domain, __entry->devfn >> 3, __entry->devfn & 7, __entry->op, __entry->addr, __entry->len,
		  __entry->fault)
);

/* The ring was full: the producer waits for the model (backpressure). */
TRACE_EVENT(pciem_ring_full,
	TP_PROTO(struct pciem_function *fn),
	TP_ARGS(fn),
	TP_STRUCT__entry(
		__field(u32, domain)
		__field(u8, devfn)
	),
	TP_fast_assign(
		PCIEM_TP_FN_ASSIGN(fn);
	),
	TP_printk(PCIEM_TP_FN_FMT "ring full", __entry->domain, __entry->devfn >> 3, __entry->devfn & 7)
);

/* The function moved from state @from to @to (enum pciem_fn_state). */
TRACE_EVENT(pciem_state,
	TP_PROTO(struct pciem_function *fn, int from, int to),
	TP_ARGS(fn, from, to),
	TP_STRUCT__entry(
		__field(u32, domain)
		__field(u8, devfn)
		__field(int, from)
		__field(int, to)
	),
	TP_fast_assign(
		PCIEM_TP_FN_ASSIGN(fn);
		__entry->from = from;
		__entry->to = to;
	),
	TP_printk(PCIEM_TP_FN_FMT "state %d -> %d", __entry->domain, __entry->devfn >> 3, __entry->devfn & 7,
		  __entry->from, __entry->to)
);

/* An injected fault (enum pciem_fault) happened; @id 0 for an action. */
TRACE_EVENT(pciem_fault,
	TP_PROTO(struct pciem_function *fn, u32 fault, u32 id, u64 detail),
	TP_ARGS(fn, fault, id, detail),
	TP_STRUCT__entry(
		__field(u32, domain)
		__field(u8, devfn)
		__field(u32, fault)
		__field(u32, id)
		__field(u64, detail)
	),
	TP_fast_assign(
		PCIEM_TP_FN_ASSIGN(fn);
		__entry->fault = fault;
		__entry->id = id;
		__entry->detail = detail;
	),
	TP_printk(PCIEM_TP_FN_FMT "fault %u rule %u detail %#llx",
		  __entry->domain, __entry->devfn >> 3, __entry->devfn & 7, __entry->fault, __entry->id,
		  __entry->detail)
);

#endif /* _PCIEM_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE pciem_trace
#include <trace/define_trace.h>
