// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * BAR decode, the way hardware does it: from the BAR registers as software
 * last programmed them (PCI Local Bus 3.0, section 6.2.5.1).
 */
#include "pciem_cfg_decode.h"

#include <linux/pci_regs.h>

uint64_t pciem_cfg_bar_base(const struct pciem_cfg *cfg, unsigned int bar)
{
	uint16_t reg;
	uint64_t base;

	if (bar >= PCIEM_MAX_BARS || !cfg->bar_size[bar])
		return 0;
	reg = (uint16_t)(PCI_BASE_ADDRESS_0 + 4 * bar);
	base = pciem_cfg_read(cfg, reg, 4);
	if (cfg->bar_flags[bar] & PCIEM_BAR_MEM64)
		base |= (uint64_t)pciem_cfg_read(cfg, (uint16_t)(reg + 4), 4) << 32;
	return base & ~(uint64_t)0xf;	/* PCI_BASE_ADDRESS_MEM_MASK */
}

bool pciem_cfg_memory_enabled(const struct pciem_cfg *cfg)
{
	return pciem_cfg_read(cfg, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY;
}

/* The expansion ROM decodes only while its enable bit is set. */
uint64_t pciem_cfg_rom_base(const struct pciem_cfg *cfg)
{
	uint32_t reg;

	if (!cfg->rom_size)
		return 0;
	reg = pciem_cfg_read(cfg, PCI_ROM_ADDRESS, 4);
	if (!(reg & PCI_ROM_ADDRESS_ENABLE))
		return 0;
	return reg & PCI_ROM_ADDRESS_MASK;
}

uint64_t pciem_cfg_region_size(const struct pciem_cfg *cfg, unsigned int bar)
{
	if (bar < PCIEM_MAX_BARS)
		return cfg->bar_size[bar];
	return bar == PCIEM_ROM_BAR ? cfg->rom_size : 0;
}

/* Is [addr, addr + len) inside the @size bytes at @base (0: none)? */
static bool in_range(uint64_t base, uint64_t size, uint64_t addr, uint64_t len)
{
	/* Written so that nothing overflows near the top of 64 bits. */
	return base && addr >= base && len <= size && addr - base <= size - len;
}

bool pciem_cfg_bar_decode(const struct pciem_cfg *cfg, uint64_t addr, uint64_t len,
		      unsigned int *bar, uint64_t *off)
{
	uint64_t rom;
	unsigned int i;

	if (!len)
		return false;
	for (i = 0; i < PCIEM_MAX_BARS; i++) {
		uint64_t base = pciem_cfg_bar_base(cfg, i);

		if (!in_range(base, cfg->bar_size[i], addr, len))
			continue;
		*bar = i;
		*off = addr - base;
		return true;
	}
	rom = pciem_cfg_rom_base(cfg);
	if (in_range(rom, cfg->rom_size, addr, len)) {
		*bar = PCIEM_ROM_BAR;
		*off = addr - rom;
		return true;
	}
	return false;
}
