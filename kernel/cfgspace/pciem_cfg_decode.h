/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * BAR decode, shared by every host (pciem.ko, the SimHost, the vfio-user
 * server): which BAR of a function a bus address hits, from its config
 * space. Pure C like the rest of this unit, so that no host decodes BARs
 * in its own way.
 */
#ifndef PCIEM_CFG_DECODE_H
#define PCIEM_CFG_DECODE_H

#include "pciem_cfg.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The base address software last programmed into BAR @bar (both halves of
 * a 64-bit BAR), without the flag bits; 0 for an unused BAR. Firmware
 * leaves 0 in a BAR it has not assigned, so 0 also means "not assigned".
 */
uint64_t pciem_cfg_bar_base(const struct pciem_cfg *cfg, unsigned int bar);

/*
 * The expansion ROM's base address while it decodes (a ROM, assigned, its
 * enable bit set); 0 otherwise.
 */
uint64_t pciem_cfg_rom_base(const struct pciem_cfg *cfg);

/* Bytes of BAR @bar, PCIEM_ROM_BAR for the expansion ROM; 0 for none. */
uint64_t pciem_cfg_region_size(const struct pciem_cfg *cfg, unsigned int bar);

/* Memory Space Enable: whether the function answers BAR cycles at all. */
bool pciem_cfg_memory_enabled(const struct pciem_cfg *cfg);

/*
 * Which assigned BAR holds all of [@addr, @addr + @len) (@len >= 1):
 * true with its index in *@bar (PCIEM_ROM_BAR for the expansion ROM) and
 * the offset of @addr in *@off. Memory
 * Space Enable is not looked at (pciem_cfg_memory_enabled()): a host decides
 * what a disabled function's hit means.
 */
bool pciem_cfg_bar_decode(const struct pciem_cfg *cfg, uint64_t addr, uint64_t len,
		      unsigned int *bar, uint64_t *off);

#ifdef __cplusplus
}
#endif

#endif /* PCIEM_CFG_DECODE_H */
