/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The DMA sanitizer's rules, shared by every host (pciem.ko's checked DMA,
 * the SimHost's SimDma, the vfio-user server host): given what a host's
 * own mapping table found at an address, may the device do this access,
 * and if not, which fault is it and where does it start? Pure C with no
 * kernel dependencies, like kernel/cfgspace, so that a model sees the same
 * verdict on every host. The lookups stay with each host (an rbtree in the
 * kernel, a std::map in the SimHost); only the decision lives here.
 */
#ifndef PCIEM_DMA_RULES_H
#define PCIEM_DMA_RULES_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stdint.h>
#endif

#include <linux/pciem.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A mapping's direction, with the values of the kernel's dma_data_direction. */
enum pciem_dma_rules_dir {
	PCIEM_DMA_RULES_BIDIRECTIONAL = 0,
	PCIEM_DMA_RULES_TO_DEVICE = 1,
	PCIEM_DMA_RULES_FROM_DEVICE = 2,
};

/* What the host's mapping table says about the first byte of an access. */
struct pciem_dma_found {
	bool bus_master;	/* Bus Master Enable is set */
	bool live;		/* a live mapping holds the byte: */
	uint64_t iova;		/*   its bus address */
	uint64_t len;		/*   its length in bytes */
	uint8_t dir;		/*   enum pciem_dma_rules_dir */
	bool dying;		/*   being unmapped right now */
	/* no live one holds it, but it lies around a live buffer's pages */
	bool in_span;
	bool retired;		/* a mapping lately unmapped held it */
};

/* Atomics (FETCH_ADD, SWAP, CAS) read and write one operand. */
bool pciem_dma_op_is_atomic(uint32_t op);

/*
 * An atomic's shape: a naturally aligned 4- or 8-byte operand, else
 * PCIEM_DMA_F_ALIGNMENT. Checked before any lookup.
 */
uint32_t pciem_dma_atomic_shape(uint64_t addr, uint64_t len);

/*
 * The verdict on @op of [@addr, @addr + @len) (@len may be 0): PCIEM_DMA_OK
 * or a PCIEM_DMA_F_* fault, with *@at the first byte refused. The order is
 * the sanitizer's: bus mastering, then the mapping at @addr (dying or
 * missing: bounds in a live buffer's guard zone, stale if it had one,
 * unmapped otherwise), then the access's end against that mapping's, then
 * the direction.
 */
uint32_t pciem_dma_judge(const struct pciem_dma_found *found, uint32_t op, uint64_t addr,
			 uint64_t len, uint64_t *at);

#ifdef __cplusplus
}
#endif

#endif /* PCIEM_DMA_RULES_H */
