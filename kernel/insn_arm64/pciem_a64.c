// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * PCIem AArch64 MMIO load/store decoder and emulator.
 *
 * Written from the Arm ARM (DDI 0487), C4.1.4 "Loads and Stores" (the
 * encoding groups and their fields), C6.2 (the LDR/STR/LDP/STP pages and
 * their CONSTRAINED UNPREDICTABLE cases) and D17.2.40 ESR_EL1, ISS
 * encoding for a Data Abort.
 */
#include "pciem_a64.h"

/* Field extraction: bits [hi:lo] of @w. */
static uint32_t bits(uint32_t w, unsigned int hi, unsigned int lo)
{
	return (w >> lo) & ((1u << (hi - lo + 1)) - 1);
}

/* Sign-extend the low @nbits of @v. */
static int64_t sext(uint64_t v, unsigned int nbits)
{
	uint64_t m = 1ull << (nbits - 1);

	v &= (m << 1) - 1;
	return (int64_t)((v ^ m) - m);
}

static uint64_t mask(unsigned int bytes)
{
	return bytes >= 8 ? ~0ull : (1ull << (8 * bytes)) - 1;
}

/*
 * Encoding groups (C4.1.4). Each mask/value pair selects the group by the
 * fixed bits; V (bit 26) is left free so SIMD&FP forms land in the same
 * group and can be refused by name.
 */
#define GRP_EXCL_MASK	0x3f000000u	/* exclusive, LDAR/STLR, CAS */
#define GRP_EXCL	0x08000000u
#define GRP_LITERAL_MASK 0x3b000000u	/* LDR (literal): PC-relative */
#define GRP_LITERAL	0x18000000u
#define GRP_PAIR_MASK	0x3a000000u	/* LDP/STP/LDNP/STNP/LDPSW */
#define GRP_PAIR	0x28000000u
#define GRP_UIMM_MASK	0x3b000000u	/* LDR/STR unsigned offset */
#define GRP_UIMM	0x39000000u
#define GRP_IMM9_MASK	0x3b200000u	/* unscaled, pre, post, unprivileged */
#define GRP_IMM9	0x38000000u
#define GRP_REGX_MASK	0x3b200c00u	/* register offset */
#define GRP_REGX	0x38200800u
#define GRP_ATOMIC	0x38200000u	/* LDADD..., SWP, LDAPR, LD64B */
#define GRP_RCPC_MASK	0x3f200c00u	/* LDAPUR/STLUR (v8.4) */
#define GRP_RCPC	0x19000000u

#define BIT_V		(1u << 26)

/* size and opc of a single-register load/store (LDR/STR page). */
static int single_size_opc(struct pciem_a64_insn *insn, uint32_t size,
			   uint32_t opc)
{
	insn->width = 1u << size;
	switch (opc) {
	case 0:
	case 1:
		insn->load = opc == 1;
		insn->reg_width = size == 3 ? 8 : 4;
		return 0;
	case 2:
		if (size == 3)
			return PCIEM_A64_EOPCODE;	/* PRFM: no access */
		insn->load = true;
		insn->sign_extend = true;
		insn->reg_width = 8;
		return 0;
	default:
		if (size >= 2)
			return PCIEM_A64_EOPCODE;	/* unallocated */
		insn->load = true;
		insn->sign_extend = true;
		insn->reg_width = 4;
		return 0;
	}
}

/*
 * Writeback onto a data register is CONSTRAINED UNPREDICTABLE (the CPU
 * may write either value, or UNKNOWN): refuse rather than pick one.
 * Register 31 is SP as a base but ZR as data, never the same register.
 */
static int check_writeback(const struct pciem_a64_insn *insn)
{
	if (insn->mode != PCIEM_A64_PRE && insn->mode != PCIEM_A64_POST)
		return 0;
	if (insn->rn == PCIEM_A64_SP)
		return 0;
	if (insn->rn == insn->rt || (insn->pair && insn->rn == insn->rt2))
		return PCIEM_A64_EUNPREDICTABLE;
	return 0;
}

static int decode_uimm(uint32_t w, struct pciem_a64_insn *insn)
{
	int ret = single_size_opc(insn, bits(w, 31, 30), bits(w, 23, 22));

	if (ret)
		return ret;
	insn->mode = PCIEM_A64_OFFSET;
	insn->imm = (int64_t)bits(w, 21, 10) << bits(w, 31, 30);
	return 0;
}

static int decode_imm9(uint32_t w, struct pciem_a64_insn *insn)
{
	static const uint8_t modes[4] = {
		PCIEM_A64_OFFSET, PCIEM_A64_POST, 0, PCIEM_A64_PRE,
	};
	uint32_t op2 = bits(w, 11, 10);
	int ret;

	if (op2 == 2)
		return PCIEM_A64_EUNPRIV;
	ret = single_size_opc(insn, bits(w, 31, 30), bits(w, 23, 22));
	if (ret)
		return ret;
	insn->mode = modes[op2];
	insn->imm = sext(bits(w, 20, 12), 9);
	return check_writeback(insn);
}

static int decode_regx(uint32_t w, struct pciem_a64_insn *insn)
{
	uint32_t option = bits(w, 15, 13);
	int ret;

	/* option<1> clear is UNDEFINED (no 8/16-bit extends of an index). */
	if (!(option & 2))
		return PCIEM_A64_EOPCODE;
	ret = single_size_opc(insn, bits(w, 31, 30), bits(w, 23, 22));
	if (ret)
		return ret;
	insn->mode = PCIEM_A64_REG;
	insn->rm = bits(w, 20, 16);
	insn->extend = option;
	insn->shift = bits(w, 12, 12) ? bits(w, 31, 30) : 0;
	return 0;
}

static int decode_pair(uint32_t w, struct pciem_a64_insn *insn)
{
	static const uint8_t modes[4] = {
		PCIEM_A64_OFFSET, PCIEM_A64_POST, PCIEM_A64_OFFSET, PCIEM_A64_PRE,
	};
	uint32_t opc = bits(w, 31, 30), type = bits(w, 24, 23);

	insn->load = bits(w, 22, 22);
	/* opc 11 is unallocated; 01 is LDPSW, or STGP (tags, no data) */
	if (opc == 3 || (opc == 1 && (!insn->load || type == 0)))
		return PCIEM_A64_EOPCODE;
	insn->pair = true;
	insn->width = opc == 2 ? 8 : 4;
	insn->reg_width = opc == 0 ? 4 : 8;
	insn->sign_extend = opc == 1;
	insn->rt2 = bits(w, 14, 10);
	insn->mode = modes[type];
	insn->imm = sext(bits(w, 21, 15), 7) * insn->width;
	/* LDP into one register twice is CONSTRAINED UNPREDICTABLE. */
	if (insn->load && insn->rt == insn->rt2)
		return PCIEM_A64_EUNPREDICTABLE;
	return check_writeback(insn);
}

/*
 * The exclusive/ordered group: o2 (23), L (22), o1 (21), o0 (15). Only
 * the ordered single accesses LDAR/STLR/LDLAR/STLLR (o2=1, o1=0) are
 * plain loads and stores; the rest are exclusives or compare-and-swap.
 */
static int decode_excl(uint32_t w, struct pciem_a64_insn *insn)
{
	uint32_t o2 = bits(w, 23, 23), o1 = bits(w, 21, 21);

	if (!o2) {
		/* CASP lives where o1=1 with size<1> clear (v8.1). */
		if (o1 && !bits(w, 31, 31))
			return PCIEM_A64_EATOMIC;
		return PCIEM_A64_EEXCLUSIVE;
	}
	if (o1)
		return PCIEM_A64_EATOMIC;	/* CAS, CASA, CASL, CASAL */
	/*
	 * Rs and Rt2 are should-be-one fields: other values are CONSTRAINED
	 * UNPREDICTABLE, refused (binutils itself is inconsistent here).
	 */
	if (bits(w, 20, 16) != 31 || bits(w, 14, 10) != 31)
		return PCIEM_A64_EOPCODE;
	insn->load = bits(w, 22, 22);
	insn->width = 1u << bits(w, 31, 30);
	insn->reg_width = insn->width == 8 ? 8 : 4;
	insn->acquire_release = true;
	insn->mode = PCIEM_A64_OFFSET;
	return 0;
}

int pciem_a64_decode(const uint8_t *bytes, size_t avail,
		     struct pciem_a64_insn *insn)
{
	uint32_t w;

	if (!bytes || !insn)
		return PCIEM_A64_EINVAL;
	if (avail < PCIEM_A64_INSN_LEN)
		return PCIEM_A64_ETRUNC;
	w = (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 |
	    (uint32_t)bytes[2] << 16 | (uint32_t)bytes[3] << 24;
	*insn = (struct pciem_a64_insn){ 0 };
	insn->word = w;
	insn->rt = bits(w, 4, 0);
	insn->rn = bits(w, 9, 5);

	/* Loads and stores are op0 = x1x0 (bits 28:25 = x1x0, C4.1). */
	if ((w & 0x0a000000u) != 0x08000000u)
		return PCIEM_A64_EOPCODE;
	if ((w & GRP_EXCL_MASK) == GRP_EXCL)
		return decode_excl(w, insn);
	if ((w & GRP_RCPC_MASK) == GRP_RCPC)
		return PCIEM_A64_EOPCODE;
	if ((w & GRP_LITERAL_MASK) == GRP_LITERAL)
		return PCIEM_A64_EOPCODE;
	if ((w & GRP_PAIR_MASK) == GRP_PAIR)
		return w & BIT_V ? PCIEM_A64_EFPSIMD : decode_pair(w, insn);
	if ((w & GRP_UIMM_MASK) == GRP_UIMM)
		return w & BIT_V ? PCIEM_A64_EFPSIMD : decode_uimm(w, insn);
	if ((w & GRP_IMM9_MASK) == GRP_IMM9)
		return w & BIT_V ? PCIEM_A64_EFPSIMD : decode_imm9(w, insn);
	if ((w & GRP_REGX_MASK) == GRP_REGX)
		return w & BIT_V ? PCIEM_A64_EFPSIMD : decode_regx(w, insn);
	if ((w & GRP_REGX_MASK) == GRP_ATOMIC)
		return w & BIT_V ? PCIEM_A64_EOPCODE : PCIEM_A64_EATOMIC;
	/* SIMD structure loads (LD1...), tags, PAC loads and the rest. */
	return PCIEM_A64_EOPCODE;
}

int pciem_a64_from_syndrome(uint32_t iss, struct pciem_a64_insn *insn)
{
	if (!insn)
		return PCIEM_A64_EINVAL;
	if (!bits(iss, 24, 24))
		return PCIEM_A64_ENOSYNDROME;
	*insn = (struct pciem_a64_insn){ 0 };
	insn->load = !bits(iss, 6, 6);		/* WnR */
	insn->width = 1u << bits(iss, 23, 22);	/* SAS */
	insn->sign_extend = insn->load && bits(iss, 21, 21);	/* SSE */
	insn->rt = bits(iss, 20, 16);		/* SRT */
	insn->reg_width = bits(iss, 15, 15) ? 8 : 4;	/* SF */
	insn->acquire_release = bits(iss, 14, 14);	/* AR */
	insn->mode = PCIEM_A64_SYNDROME;
	return 0;
}

static uint64_t base_reg(const struct pciem_a64_insn *insn,
			 const struct pciem_a64_regs *regs)
{
	return insn->rn == PCIEM_A64_SP ? regs->sp : regs->x[insn->rn];
}

/* Data register @r: register 31 reads as zero. */
static uint64_t data_reg(const struct pciem_a64_regs *regs, unsigned int r)
{
	return r == PCIEM_A64_SP ? 0 : regs->x[r];
}

static uint64_t reg_offset(const struct pciem_a64_insn *insn,
			   const struct pciem_a64_regs *regs)
{
	uint64_t v = data_reg(regs, insn->rm);

	switch (insn->extend) {
	case PCIEM_A64_UXTW:
		v = (uint32_t)v;
		break;
	case PCIEM_A64_SXTW:
		v = (uint64_t)sext(v, 32);
		break;
	default:	/* LSL (UXTX), SXTX: all 64 bits */
		break;
	}
	return v << insn->shift;
}

uint64_t pciem_a64_ea(const struct pciem_a64_insn *insn,
		      const struct pciem_a64_regs *regs, uint64_t far)
{
	switch (insn->mode) {
	case PCIEM_A64_SYNDROME:
		return far;
	case PCIEM_A64_POST:
		return base_reg(insn, regs);
	case PCIEM_A64_REG:
		return base_reg(insn, regs) + reg_offset(insn, regs);
	default:
		return base_reg(insn, regs) + (uint64_t)insn->imm;
	}
}

/* What a load of @val writes into its destination register. */
static uint64_t load_result(const struct pciem_a64_insn *insn, uint64_t val)
{
	val &= mask(insn->width);
	if (insn->sign_extend)
		val = (uint64_t)sext(val, 8 * insn->width);
	return val & mask(insn->reg_width);
}

static bool well_formed(const struct pciem_a64_insn *insn)
{
	unsigned int w = insn->width;

	if (w != 1 && w != 2 && w != 4 && w != 8)
		return false;
	if (insn->reg_width != 4 && insn->reg_width != 8)
		return false;
	if (insn->rt > 31 || insn->rt2 > 31 || insn->rn > 31 || insn->rm > 31)
		return false;
	if (insn->mode > PCIEM_A64_SYNDROME)
		return false;
	return !(insn->pair && insn->mode == PCIEM_A64_SYNDROME);
}

int pciem_a64_emulate(const struct pciem_a64_insn *insn,
		      struct pciem_a64_regs *regs, uint64_t far,
		      const struct pciem_a64_ops *ops, void *ctx)
{
	uint64_t ea, v[2] = { 0, 0 };
	unsigned int n, i;
	uint8_t rt[2];
	int ret;

	if (!insn || !regs || !ops || !well_formed(insn))
		return PCIEM_A64_EINVAL;
	ea = pciem_a64_ea(insn, regs, far);
	n = insn->pair ? 2 : 1;
	rt[0] = insn->rt;
	rt[1] = insn->rt2;
	for (i = 0; i < n; i++) {
		uint64_t a = ea + (uint64_t)i * insn->width;

		if (insn->load) {
			ret = ops->read(ctx, a, insn->width, &v[i]);
		} else {
			v[i] = data_reg(regs, rt[i]) & mask(insn->width);
			ret = ops->write(ctx, a, insn->width, v[i]);
		}
		if (ret)
			return ret;
	}
	if (insn->load)
		for (i = 0; i < n; i++)
			if (rt[i] != PCIEM_A64_SP)
				regs->x[rt[i]] = load_result(insn, v[i]);
	if (insn->mode == PCIEM_A64_PRE || insn->mode == PCIEM_A64_POST) {
		uint64_t wb = base_reg(insn, regs) + (uint64_t)insn->imm;

		if (insn->rn == PCIEM_A64_SP)
			regs->sp = wb;
		else
			regs->x[insn->rn] = wb;
	}
	regs->pc += PCIEM_A64_INSN_LEN;
	return 0;
}

const char *pciem_a64_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case PCIEM_A64_ETRUNC:
		return "instruction truncated";
	case PCIEM_A64_EOPCODE:
		return "not a load/store PCIem emulates";
	case PCIEM_A64_EFPSIMD:
		return "SIMD&FP register load/store";
	case PCIEM_A64_EEXCLUSIVE:
		return "exclusive load/store (a device register has no exclusive monitor)";
	case PCIEM_A64_EATOMIC:
		return "atomic read-modify-write (LDADD/SWP/CAS...)";
	case PCIEM_A64_EUNPRIV:
		return "unprivileged load/store (LDTR/STTR)";
	case PCIEM_A64_EUNPREDICTABLE:
		return "CONSTRAINED UNPREDICTABLE encoding";
	case PCIEM_A64_ENOSYNDROME:
		return "no instruction syndrome";
	case PCIEM_A64_EINVAL:
		return "invalid argument";
	default:
		return "unknown error";
	}
}
