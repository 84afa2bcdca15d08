/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The architecture interface of pciem.ko: everything that knows the CPU.
 *
 * kernel/arch/$(SRCARCH)/pciem_arch.c implements the functions below and
 * kernel/arch/$(SRCARCH)/pciem_arch_defs.h the types and inlines generic
 * structures embed; Kbuild picks the directory, so no generic file tests
 * CONFIG_X86 or CONFIG_ARM64. docs/architecture.md says what each
 * architecture does behind it.
 */
#ifndef PCIEM_ARCH_H
#define PCIEM_ARCH_H

#include <linux/kprobes.h>
#include <linux/pci.h>

#include "pciem_arch_defs.h"

struct pciem_host;
struct pciem_function;

/* ---- the host bridge ------------------------------------------------------ */

/**
 * pciem_arch_create_root_bus() - create the empty root bus in @host->domain
 * @host:	host, with @domain set; its @arch is the bus's sysdata
 * @ops:	config accessors
 * @resources:	windows and bus numbers; consumed on success
 *
 * Return: the bus, or NULL (the caller frees @resources).
 */
struct pci_bus *pciem_arch_create_root_bus(struct pciem_host *host,
					   struct pci_ops *ops,
					   struct list_head *resources);

/* The host whose root bus (or a bus below it) @bus is. */
struct pciem_host *pciem_arch_bus_host(const struct pci_bus *bus);

/* ---- page-table leaves of kernel mappings --------------------------------- */

/**
 * struct pciem_arch_leaf - one present leaf entry of the kernel page tables
 * @ptr:	the entry: a PTE, or a PMD/PUD block of a huge ioremap
 * @val:	its value when looked up
 * @size:	bytes it maps: PAGE_SIZE, PMD_SIZE or PUD_SIZE
 */
struct pciem_arch_leaf {
	void *ptr;
	unsigned long val;
	unsigned long size;
};

/* Find the present leaf mapping @addr; false if there is none. */
bool pciem_arch_leaf_lookup(unsigned long addr, struct pciem_arch_leaf *leaf);

/* Make @leaf fault, or, with @ram, map that page (a compound one for a PMD). */
void pciem_arch_leaf_trap(const struct pciem_arch_leaf *leaf,
			  struct page *ram);

/*
 * Point the 2 MiB @leaf at @table (a page of PTRS_PER_PTE 4 KiB entries,
 * pciem_trap.c's) instead of its block. Atomic context.
 */
void pciem_arch_leaf_split(const struct pciem_arch_leaf *leaf, void *table);

/* Put @leaf's value back. */
void pciem_arch_leaf_restore(const struct pciem_arch_leaf *leaf);

/* Drop every CPU's cached kernel translations. */
void pciem_arch_flush_tlb_all(void);

/* ---- the fault --------------------------------------------------------------- */

/*
 * The probe on the kernel's handling of a bad kernel access that has
 * faults on trapped mappings emulated (pciem_trap_owns() tells which);
 * every other fault goes on as before. pciem_trap.c registers it.
 */
extern struct kprobe pciem_arch_fault_probe;

/* ---- what pciem_trap.c gives the arch's fault handler ------------------------ */

/**
 * struct pciem_trap_ctx - one emulated instruction's accesses
 * @may_sleep:	the faulting context could sleep: a slow model may too
 * @abort:	NMI: complete every device access as all-ones
 * @insn:	the instruction's kind for the trace (enum pciem_insn_kind)
 * @fn:		first device touched, for log lines; put by pciem_trap_done()
 */
struct pciem_trap_ctx {
	bool may_sleep;
	bool abort;
	u8 insn;
	struct pciem_function *fn;
};

/* Is @addr in a trapped mapping? Any context. */
bool pciem_trap_owns(unsigned long addr);

/*
 * An access of the emulated instruction (@ctx is a struct pciem_trap_ctx):
 * to the device if @addr is trapped, else to RAM (the other side of a
 * string copy). The signatures are the decoders' callbacks'.
 */
int pciem_trap_read(void *ctx, u64 addr, unsigned int size, u64 *val);
int pciem_trap_write(void *ctx, u64 addr, unsigned int size, u64 val);
void pciem_trap_done(struct pciem_trap_ctx *ctx);

/*
 * The instruction at @ip (@bytes, @n of them) accessing @address cannot
 * be emulated, for the reason @why: log it with the device it targets and
 * count it. The caller skips it as an access that master-aborted.
 */
void pciem_trap_refused(unsigned long ip, const u8 *bytes, size_t n,
			const char *why, unsigned long address);

#endif /* PCIEM_ARCH_H */
