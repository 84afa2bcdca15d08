/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * x86-64: the types and inlines of the architecture interface
 * (kernel/pciem_arch.h) that generic structures embed.
 */
#ifndef PCIEM_ARCH_DEFS_H
#define PCIEM_ARCH_DEFS_H

#include <linux/pci.h>
#include <linux/stacktrace.h>
#ifdef CONFIG_UNWINDER_ORC
#include <asm/unwind.h>
#endif

/**
 * struct pciem_arch_host - what a PCIem host needs on x86
 * @sysdata:	the root bus's sysdata: x86 reads the PCI domain from it
 */
struct pciem_arch_host {
	struct pci_sysdata sysdata;
};

/*
 * Up to @depth return addresses of the calling chain, from the return
 * into our caller on. Inlined, so it adds no frame of its own. Through
 * the ORC unwinder itself: stack_trace_save() also unwinds its own two
 * frames and calls back per frame, a quarter more under TCG.
 */
static __always_inline void pciem_arch_stack(unsigned long *entries,
					     unsigned int depth)
{
#ifdef CONFIG_UNWINDER_ORC
	struct unwind_state state;
	unsigned int n = 0;
	unsigned long ret;

	for (unwind_start(&state, current, NULL, NULL);
	     n < depth && !unwind_done(&state); unwind_next_frame(&state)) {
		ret = unwind_get_return_address(&state);
		if (!ret)
			break;
		entries[n++] = ret;
	}
#else
	stack_trace_save(entries, depth, 0);
#endif
}

#endif /* PCIEM_ARCH_DEFS_H */
