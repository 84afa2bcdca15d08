/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * PCIem x86-64 MMIO instruction decoder and emulator.
 *
 * When a driver touches a trapped BAR page the access faults before it
 * happens. The fault handler hands the faulting instruction's bytes to
 * pciem_insn_decode(), checks the decoded memory operand against the fault
 * address, and calls pciem_insn_emulate() to perform the access through
 * callbacks and write back the registers, exactly as the CPU would have.
 *
 * Only the instructions compilers and the kernel's MMIO accessors emit are
 * understood: MOV in every width (register, immediate and moffs forms),
 * MOVZX, MOVSX, MOVSXD and the string forms MOVS and STOS with or without
 * REP. Anything else is refused with a distinct PCIEM_INSN_E* code, never
 * guessed at: emulating an instruction wrongly corrupts driver state
 * silently, refusing it is a loud, debuggable failure.
 *
 * The unit has no dependencies beyond fixed-width types and memcpy, so the
 * same file builds into pciem.ko, the userspace unit tests and a libFuzzer
 * target.
 */
#ifndef PCIEM_INSN_H
#define PCIEM_INSN_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/string.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Architectural limit: longer instructions raise #GP, so never decode one. */
#define PCIEM_INSN_MAX_LEN	15

/* GPR numbers, in the order the hardware encodes them. */
enum pciem_insn_gpr {
	PCIEM_RAX, PCIEM_RCX, PCIEM_RDX, PCIEM_RBX,
	PCIEM_RSP, PCIEM_RBP, PCIEM_RSI, PCIEM_RDI,
	PCIEM_R8, PCIEM_R9, PCIEM_R10, PCIEM_R11,
	PCIEM_R12, PCIEM_R13, PCIEM_R14, PCIEM_R15,
	PCIEM_NR_GPRS,
};

/* RFLAGS.DF: string instructions step downwards when set. */
#define PCIEM_RFLAGS_DF		(1ULL << 10)

/*
 * Error codes. They sit well away from errno values so a caller can tell
 * a decoder refusal from an errno its own callbacks returned.
 */
#define PCIEM_INSN_ETRUNC	(-200)	/* instruction runs past @avail */
#define PCIEM_INSN_ETOOLONG	(-201)	/* more than 15 bytes */
#define PCIEM_INSN_EOPCODE	(-202)	/* not an instruction we emulate */
#define PCIEM_INSN_EPREFIX	(-203)	/* LOCK, or REP where it means nothing */
#define PCIEM_INSN_ESEGMENT	(-204)	/* FS/GS override: base not in regs */
#define PCIEM_INSN_EADDRSIZE	(-205)	/* 0x67: 32-bit addressing */
#define PCIEM_INSN_EREGOPERAND	(-206)	/* ModRM.mod == 3: no memory access */
#define PCIEM_INSN_EINVAL	(-207)	/* bad arguments to the API */

/**
 * struct pciem_insn_regs - the register state the emulator reads and writes
 * @gpr: general purpose registers, indexed by enum pciem_insn_gpr
 * @rip: address of the instruction; advanced past it on success
 * @rflags: only DF is consulted; no flag is ever modified, since neither
 *	MOV nor MOVS nor STOS affects flags
 */
struct pciem_insn_regs {
	uint64_t gpr[PCIEM_NR_GPRS];
	uint64_t rip;
	uint64_t rflags;
};

/**
 * enum pciem_insn_kind - what the instruction does to memory
 * @PCIEM_INSN_LOAD: one read into a register (MOV, MOVZX, MOVSX, MOVSXD)
 * @PCIEM_INSN_STORE: one write from a register or an immediate
 * @PCIEM_INSN_MOVS: copy [RSI] to [RDI], possibly repeated
 * @PCIEM_INSN_STOS: store the low @width bytes of RAX to [RDI], possibly
 *	repeated
 */
enum pciem_insn_kind {
	PCIEM_INSN_LOAD,
	PCIEM_INSN_STORE,
	PCIEM_INSN_MOVS,
	PCIEM_INSN_STOS,
};

/**
 * struct pciem_insn_mem - the explicit memory operand of a LOAD or STORE
 * @base: base GPR, or -1 for none
 * @index: index GPR, or -1 for none
 * @scale: index multiplier: 1, 2, 4 or 8
 * @rip_relative: address is the next instruction's RIP plus @disp
 * @absolute: moffs form (opcodes A0-A3): @disp is the full 64-bit address
 * @disp: sign-extended displacement (or the absolute address)
 *
 * Kept in component form, not just as an address, so a refusal can be
 * logged precisely and a test can compare it with a disassembler's view.
 * MOVS and STOS have implicit operands ([RSI], [RDI]) and leave this with
 * no base and no index.
 */
struct pciem_insn_mem {
	int8_t base;
	int8_t index;
	uint8_t scale;
	bool rip_relative;
	bool absolute;
	int64_t disp;
};

/**
 * struct pciem_insn - one decoded instruction
 * @len: length in bytes, prefixes and immediate included
 * @kind: enum pciem_insn_kind
 * @width: size of each memory access in bytes: 1, 2, 4 or 8
 * @reg: register operand (load destination, store source; RAX for STOS
 *	and the moffs forms). For a high-byte register this is the GPR that
 *	holds it (AH is bits 15:8 of RAX, so @reg is PCIEM_RAX)
 * @reg_width: bytes of @reg a load writes; differs from @width only for
 *	MOVZX, MOVSX and MOVSXD
 * @sign_extend: a load sign-extends from @width to @reg_width (MOVSX,
 *	MOVSXD) rather than zero-extending (MOVZX)
 * @high_byte: @reg names bits 15:8 (AH, CH, DH, BH: an 8-bit register
 *	number 4-7 with no REX prefix)
 * @has_imm: a STORE writes @imm rather than a register
 * @imm: the value to store, already sign-extended to @width (C7 with
 *	REX.W sign-extends its imm32 to 64 bits)
 * @rep: MOVS/STOS carries an F3 (REP) prefix: repeat RCX times
 * @opcode: the opcode byte (after 0F for two-byte opcodes), for logging
 * @two_byte: @opcode follows a 0F escape
 * @mem: the memory operand of a LOAD or STORE
 */
struct pciem_insn {
	uint8_t len;
	uint8_t kind;
	uint8_t width;
	uint8_t reg;
	uint8_t reg_width;
	bool sign_extend;
	bool high_byte;
	bool has_imm;
	bool rep;
	uint8_t opcode;
	bool two_byte;
	uint64_t imm;
	struct pciem_insn_mem mem;
};

/**
 * struct pciem_insn_ops - how the emulator reaches memory
 * @read: read @size (1, 2, 4 or 8) bytes at @addr into *@val, zero-extended
 * @write: write the low @size bytes of @val to @addr
 *
 * Both return 0 or a negative error that pciem_insn_emulate() passes back
 * unchanged. Every memory access of the instruction, whether to the device
 * or to RAM (the other side of a MOVS), goes through here: the caller
 * knows which addresses are trapped MMIO.
 */
struct pciem_insn_ops {
	int (*read)(void *ctx, uint64_t addr, unsigned int size, uint64_t *val);
	int (*write)(void *ctx, uint64_t addr, unsigned int size, uint64_t val);
};

/**
 * pciem_insn_decode() - decode one x86-64 instruction that accesses memory
 * @bytes: the instruction, starting with its first prefix
 * @avail: how many bytes at @bytes are readable; never read beyond
 * @insn: filled on success; undefined on error
 *
 * Context: any; no allocation, no locks.
 * Return: 0, or a negative PCIEM_INSN_E* code naming why the instruction
 * is refused.
 */
int pciem_insn_decode(const uint8_t *bytes, size_t avail,
		      struct pciem_insn *insn);

/**
 * pciem_insn_ea() - effective address of the next access to be made
 * @insn: a decoded instruction
 * @regs: register state at the fault
 *
 * For LOAD and STORE this is the memory operand (RIP-relative operands are
 * relative to the end of the instruction). For MOVS it is the source,
 * RSI (the destination is RDI); for STOS it is RDI. An interrupted REP
 * leaves RSI/RDI at the element that faulted, so this is the address the
 * CPU was about to touch.
 *
 * Return: the 64-bit linear address (the segment base is zero: FS/GS
 * overrides are refused at decode).
 */
uint64_t pciem_insn_ea(const struct pciem_insn *insn,
		       const struct pciem_insn_regs *regs);

/**
 * pciem_insn_emulate() - perform a decoded instruction
 * @insn: from pciem_insn_decode()
 * @regs: register state; updated as the CPU would update it
 * @ops: memory accessors
 * @ctx: passed to @ops
 *
 * Loads write the destination register with x86 partial-register rules
 * (32-bit writes zero bits 63:32, 8- and 16-bit writes keep the rest).
 * REP MOVS/STOS step RSI/RDI by @width (down when RFLAGS.DF is set) and
 * decrement RCX per element. On success RIP advances by @insn->len.
 *
 * On an @ops error the registers describe the elements completed, as an
 * interrupted REP would leave them, RIP is not advanced, and the error is
 * returned. A single (non-REP) access that fails leaves @regs untouched.
 *
 * Context: any; the time taken is bounded by RCX for REP forms.
 * Return: 0, PCIEM_INSN_EINVAL for a malformed @insn, or the @ops error.
 */
int pciem_insn_emulate(const struct pciem_insn *insn,
		       struct pciem_insn_regs *regs,
		       const struct pciem_insn_ops *ops, void *ctx);

/**
 * pciem_insn_name() - short description for log lines
 * @insn: a decoded instruction
 *
 * Return: a static string such as "mov r32<-m32" or "rep stos m64".
 */
const char *pciem_insn_name(const struct pciem_insn *insn);

/**
 * pciem_insn_strerror() - text for a PCIEM_INSN_E* code
 * @err: a negative code from pciem_insn_decode()
 *
 * Return: a static string; "unknown error" for codes not ours.
 */
const char *pciem_insn_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* PCIEM_INSN_H */
