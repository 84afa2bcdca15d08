/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * PCIem AArch64 MMIO load/store decoder and emulator.
 *
 * On arm64 a trapped BAR access is a data abort. When ESR_ELx.ISV is set
 * the syndrome alone describes the access (size, register, sign
 * extension, direction): pciem_a64_from_syndrome() turns it into a
 * struct pciem_a64_insn. The syndrome is valid only for single-register
 * loads and stores without writeback, and an abort taken to EL1 from a
 * stage-1 fault may report no syndrome at all (QEMU's TCG never does), so
 * pciem_a64_decode() decodes the instruction word itself: the
 * unsigned-offset, unscaled, register-offset, pre- and post-index forms
 * of LDR/STR in every width, the sign-extending loads, LDAR/STLR, and the
 * pairs LDP/STP/LDPSW/LDNP/STNP.
 *
 * Exclusive (LDXR/STXR...) and atomic (LDADD, SWP, CAS...) forms, SIMD&FP
 * registers and unprivileged (LDTR/STTR) forms are refused with a
 * distinct PCIEM_A64_E* code, never guessed at: a device register cannot
 * take part in an exclusive monitor or a read-modify-write the CPU
 * believes atomic, and a wrong emulation corrupts driver state silently.
 *
 * Like kernel/insn, the unit needs only fixed-width types, so the same
 * file builds into pciem.ko, the userspace unit tests and a libFuzzer
 * target.
 */
#ifndef PCIEM_A64_H
#define PCIEM_A64_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Every A64 instruction is one 32-bit little-endian word. */
#define PCIEM_A64_INSN_LEN	4

/* Register number 31 is SP as a base, XZR/WZR as a data register. */
#define PCIEM_A64_SP		31

/* Refusals; far from errno values, like PCIEM_INSN_E*. */
#define PCIEM_A64_ETRUNC	(-300)	/* fewer than 4 bytes */
#define PCIEM_A64_EOPCODE	(-301)	/* not a load/store we emulate */
#define PCIEM_A64_EFPSIMD	(-302)	/* SIMD&FP register: not in pt_regs */
#define PCIEM_A64_EEXCLUSIVE	(-303)	/* LDXR/STXR/LDAXP...: exclusive monitor */
#define PCIEM_A64_EATOMIC	(-304)	/* LDADD/SWP/CAS...: atomic RMW */
#define PCIEM_A64_EUNPRIV	(-305)	/* LDTR/STTR: an EL0 access */
#define PCIEM_A64_EUNPREDICTABLE (-306) /* writeback onto a data register... */
#define PCIEM_A64_ENOSYNDROME	(-307)	/* ESR ISV clear: decode the word */
#define PCIEM_A64_EINVAL	(-308)	/* bad arguments to the API */

/**
 * struct pciem_a64_regs - the register state the emulator reads and writes
 * @x: X0-X30
 * @sp: the stack pointer of the faulting context (a base register only)
 * @pc: address of the instruction; advanced by 4 on success
 */
struct pciem_a64_regs {
	uint64_t x[31];
	uint64_t sp;
	uint64_t pc;
};

/**
 * enum pciem_a64_mode - how the address is formed
 * @PCIEM_A64_OFFSET: [Xn{, #imm}] (scaled unsigned, or unscaled signed)
 * @PCIEM_A64_PRE: [Xn, #imm]! : the address is Xn + imm, written back
 * @PCIEM_A64_POST: [Xn], #imm : the address is Xn, Xn + imm written back
 * @PCIEM_A64_REG: [Xn, Rm{, extend {#shift}}]
 * @PCIEM_A64_SYNDROME: from ESR: the fault address is the access address
 */
enum pciem_a64_mode {
	PCIEM_A64_OFFSET,
	PCIEM_A64_PRE,
	PCIEM_A64_POST,
	PCIEM_A64_REG,
	PCIEM_A64_SYNDROME,
};

/* Extend of a register offset, as the option field encodes it. */
enum pciem_a64_extend {
	PCIEM_A64_UXTW = 2,
	PCIEM_A64_LSL = 3,	/* UXTX */
	PCIEM_A64_SXTW = 6,
	PCIEM_A64_SXTX = 7,
};

/**
 * struct pciem_a64_insn - one decoded load or store
 * @word: the instruction word (0 when built from a syndrome)
 * @load: a load (else a store)
 * @pair: two registers, @rt then @rt2 at the next @width bytes
 * @width: bytes of each access: 1, 2, 4 or 8
 * @sign_extend: a load sign-extends from @width to @reg_width bytes
 * @reg_width: bytes of the destination a load writes: 4 (Wt; bits 63:32
 *	become zero) or 8 (Xt)
 * @acquire_release: LDAR/STLR: ordered like a barrier around the access
 * @rt: data register; 31 is the zero register
 * @rt2: second data register of a pair
 * @rn: base register; 31 is SP
 * @rm: offset register of PCIEM_A64_REG; 31 is the zero register
 * @mode: enum pciem_a64_mode
 * @extend: enum pciem_a64_extend, for PCIEM_A64_REG
 * @shift: left shift of the extended @rm, for PCIEM_A64_REG
 * @imm: byte offset (already scaled) for the immediate modes
 */
struct pciem_a64_insn {
	uint32_t word;
	bool load;
	bool pair;
	uint8_t width;
	bool sign_extend;
	uint8_t reg_width;
	bool acquire_release;
	uint8_t rt, rt2, rn, rm;
	uint8_t mode;
	uint8_t extend;
	uint8_t shift;
	int64_t imm;
};

/**
 * struct pciem_a64_ops - how the emulator reaches memory
 * @read: read @size (1, 2, 4 or 8) bytes at @addr into *@val, zero-extended
 * @write: write the low @size bytes of @val to @addr
 *
 * Both return 0 or a negative error pciem_a64_emulate() passes back.
 */
struct pciem_a64_ops {
	int (*read)(void *ctx, uint64_t addr, unsigned int size, uint64_t *val);
	int (*write)(void *ctx, uint64_t addr, unsigned int size, uint64_t val);
};

/**
 * pciem_a64_decode() - decode one A64 load or store
 * @bytes: the instruction word, little-endian (instructions always are)
 * @avail: readable bytes at @bytes; never read beyond
 * @insn: filled on success; undefined on error
 *
 * Context: any; no allocation, no locks.
 * Return: 0, or a negative PCIEM_A64_E* code naming why it is refused.
 */
int pciem_a64_decode(const uint8_t *bytes, size_t avail,
		     struct pciem_a64_insn *insn);

/**
 * pciem_a64_from_syndrome() - describe an access from ESR_ELx's ISS
 * @iss: ESR_ELx bits 24:0 of a data abort
 * @insn: filled on success
 *
 * Uses ISV (24), SAS (23:22), SSE (21), SRT (20:16), SF (15), AR (14) and
 * WnR (6). The access is at the fault address (mode PCIEM_A64_SYNDROME).
 *
 * Return: 0, or PCIEM_A64_ENOSYNDROME when ISV is clear.
 */
int pciem_a64_from_syndrome(uint32_t iss, struct pciem_a64_insn *insn);

/**
 * pciem_a64_ea() - the address of the first access
 * @insn: a decoded instruction
 * @regs: register state at the fault
 * @far: the fault address, used only by PCIEM_A64_SYNDROME
 *
 * Return: the virtual address of the access (of @rt's, for a pair).
 */
uint64_t pciem_a64_ea(const struct pciem_a64_insn *insn,
		      const struct pciem_a64_regs *regs, uint64_t far);

/**
 * pciem_a64_emulate() - perform a decoded load or store
 * @insn: from pciem_a64_decode() or pciem_a64_from_syndrome()
 * @regs: register state; updated as the CPU would update it
 * @far: the fault address (see pciem_a64_ea())
 * @ops: memory accessors
 * @ctx: passed to @ops
 *
 * A pair makes its two accesses in register order (@rt first). All loads
 * are made before any register is written, so a failed access leaves
 * @regs untouched (a failed second store of a pair leaves the first
 * made, as a real abort between them would). Writeback happens after the
 * accesses. On success PC advances by 4.
 *
 * Return: 0, PCIEM_A64_EINVAL for a malformed @insn, or the @ops error.
 */
int pciem_a64_emulate(const struct pciem_a64_insn *insn,
		      struct pciem_a64_regs *regs, uint64_t far,
		      const struct pciem_a64_ops *ops, void *ctx);

/**
 * pciem_a64_strerror() - text for a PCIEM_A64_E* code
 * @err: a negative code from this unit
 *
 * Return: a static string; "unknown error" for codes not ours.
 */
const char *pciem_a64_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* PCIEM_A64_H */
