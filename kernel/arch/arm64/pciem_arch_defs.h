/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * arm64: the types and inlines of the architecture interface
 * (kernel/pciem_arch.h) that generic structures embed.
 */
#ifndef PCIEM_ARCH_DEFS_H
#define PCIEM_ARCH_DEFS_H

#include <linux/stacktrace.h>

/*
 * Nothing per host: arm64's PCI domain lives in the host bridge
 * (CONFIG_PCI_DOMAINS_GENERIC) and the bus's sysdata is the host itself.
 */
struct pciem_arch_host {
};

/*
 * Up to @depth return addresses of the calling chain. Inlined, so it adds
 * no frame of its own; the frame-record unwinder is cheap enough to use
 * through stack_trace_save() (which skips its own frame).
 */
static __always_inline void pciem_arch_stack(unsigned long *entries,
					     unsigned int depth)
{
	stack_trace_save(entries, depth, 0);
}

#endif /* PCIEM_ARCH_DEFS_H */
