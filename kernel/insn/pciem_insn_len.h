/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Length of an x86-64 instruction that PCIem refuses to emulate.
 *
 * When a driver touches trapped MMIO with an instruction the emulator
 * does not handle (a CMP or OR with a memory operand, an XCHG, a LOCKed
 * RMW), PCIem completes it as a master abort: it must know how long the
 * instruction is to step over it. This covers the legacy prefixes, REX,
 * the one-byte, 0F, 0F38 and 0F3A opcode maps with their ModRM, SIB,
 * displacement and immediate, and AMD's XOP maps; VEX/EVEX and 3DNow!
 * encodings are not decoded (the caller then cannot skip). Pure C, like
 * pciem_insn.c.
 */
#ifndef PCIEM_INSN_LEN_H
#define PCIEM_INSN_LEN_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stddef.h>
#include <stdint.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Return the length of the instruction at @bytes (@avail bytes readable),
 * or -1 if it is not one this decoder knows, or runs past @avail or 15
 * bytes.
 */
int pciem_insn_length(const uint8_t *bytes, size_t avail);

#ifdef __cplusplus
}
#endif

#endif /* PCIEM_INSN_LEN_H */
