// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * PCIem x86-64 MMIO instruction decoder and emulator.
 *
 * Written from the Intel SDM, volume 2, chapter 2 (instruction format) and
 * the MOV, MOVZX, MOVSX/MOVSXD, MOVS and STOS pages. Only 64-bit mode is
 * handled: the faulting code is kernel code, which always runs there.
 */
#include "pciem_insn.h"

/* Legacy prefixes (SDM vol. 2, 2.1.1). */
#define PFX_LOCK	0xf0
#define PFX_REPNE	0xf2
#define PFX_REP		0xf3
#define PFX_CS		0x2e
#define PFX_SS		0x36
#define PFX_DS		0x3e
#define PFX_ES		0x26
#define PFX_FS		0x64
#define PFX_GS		0x65
#define PFX_OPSIZE	0x66
#define PFX_ADDRSIZE	0x67

/* REX is 0100WRXB; only valid immediately before the opcode. */
#define REX_W		0x08
#define REX_R		0x04
#define REX_X		0x02
#define REX_B		0x01

/* Prefix state gathered before the opcode. */
struct prefixes {
	bool opsize;		/* 66 */
	bool rep;		/* F3 */
	bool repne;		/* F2 */
	bool lock;		/* F0 */
	bool fs_gs;		/* 64 or 65 */
	bool addrsize;		/* 67 */
	bool rex_present;	/* a REX that counts (directly before opcode) */
	uint8_t rex;
};

/* A bounded cursor over the instruction bytes. */
struct cursor {
	const uint8_t *bytes;
	size_t avail;
	size_t pos;
};

/*
 * Fetch the next byte. The 15-byte limit is checked first so an over-long
 * run of prefixes in a large buffer is reported as what it is.
 */
static int fetch(struct cursor *c, uint8_t *out)
{
	if (c->pos >= PCIEM_INSN_MAX_LEN)
		return PCIEM_INSN_ETOOLONG;
	if (c->pos >= c->avail)
		return PCIEM_INSN_ETRUNC;
	*out = c->bytes[c->pos++];
	return 0;
}

/* Fetch @n (1, 2, 4 or 8) bytes as a little-endian value. */
static int fetch_le(struct cursor *c, unsigned int n, uint64_t *out)
{
	uint64_t v = 0;
	unsigned int i;
	uint8_t b;
	int ret;

	for (i = 0; i < n; i++) {
		ret = fetch(c, &b);
		if (ret)
			return ret;
		v |= (uint64_t)b << (8 * i);
	}
	*out = v;
	return 0;
}

/* Sign-extend the low @bytes bytes of @v to 64 bits. */
static uint64_t sext(uint64_t v, unsigned int bytes)
{
	unsigned int shift = 64 - 8 * bytes;

	if (bytes >= 8)
		return v;
	/* Unsigned shifts only: a signed right shift is implementation-defined
	 * in C, so rebuild the sign from the top bit explicitly.
	 */
	v &= ~0ULL >> shift;
	if (v & (1ULL << (8 * bytes - 1)))
		v |= ~0ULL << (8 * bytes);
	return v;
}

static uint64_t mask(unsigned int bytes)
{
	return bytes >= 8 ? ~0ULL : (1ULL << (8 * bytes)) - 1;
}

/*
 * Collect prefixes up to the opcode byte, which is returned in *@op.
 *
 * A REX byte only takes effect when it is the last prefix: the SDM says a
 * REX followed by a legacy prefix is ignored, so a legacy prefix after a
 * REX cancels it, and of two REX bytes in a row only the second counts.
 */
static int read_prefixes(struct cursor *c, struct prefixes *p, uint8_t *op)
{
	uint8_t b;
	int ret;

	memset(p, 0, sizeof(*p));
	for (;;) {
		ret = fetch(c, &b);
		if (ret)
			return ret;
		if ((b & 0xf0) == 0x40) {
			p->rex_present = true;
			p->rex = b;
			continue;
		}
		switch (b) {
		case PFX_OPSIZE:
			p->opsize = true;
			break;
		case PFX_ADDRSIZE:
			p->addrsize = true;
			break;
		case PFX_LOCK:
			p->lock = true;
			break;
		/*
		 * F2 and F3 share a group: the later one is the one the CPU
		 * applies, so the earlier is forgotten.
		 */
		case PFX_REP:
			p->rep = true;
			p->repne = false;
			break;
		case PFX_REPNE:
			p->repne = true;
			p->rep = false;
			break;
		/* CS/SS/DS/ES bases are zero in 64-bit mode. */
		case PFX_CS:
		case PFX_SS:
		case PFX_DS:
		case PFX_ES:
			break;
		case PFX_FS:
		case PFX_GS:
			p->fs_gs = true;
			break;
		default:
			*op = b;
			return 0;
		}
		p->rex_present = false;
		p->rex = 0;
	}
}

/*
 * Decode ModRM (and SIB, displacement) into @insn->mem and the reg field
 * into *@reg_field (REX.R applied). Register-direct forms are refused:
 * they touch no memory, so they cannot be what faulted on an MMIO page.
 */
static int decode_modrm(struct cursor *c, const struct prefixes *p,
			struct pciem_insn *insn, uint8_t *reg_field)
{
	struct pciem_insn_mem *m = &insn->mem;
	uint8_t modrm, sib, mod, rm;
	unsigned int disp_len = 0;
	uint64_t disp = 0;
	int ret;

	ret = fetch(c, &modrm);
	if (ret)
		return ret;
	mod = modrm >> 6;
	rm = modrm & 7;
	*reg_field = ((modrm >> 3) & 7) | (p->rex & REX_R ? 8 : 0);

	if (mod == 3)
		return PCIEM_INSN_EREGOPERAND;

	m->base = -1;
	m->index = -1;
	m->scale = 1;
	m->rip_relative = false;
	m->absolute = false;

	if (rm == 4) {
		/* rm=100 (RSP/R12 alike: REX.B is not consulted) means SIB. */
		uint8_t idx, base;

		ret = fetch(c, &sib);
		if (ret)
			return ret;
		m->scale = 1 << (sib >> 6);
		idx = ((sib >> 3) & 7) | (p->rex & REX_X ? 8 : 0);
		/* Index 100 is "none"; with REX.X it is R12, a real index. */
		if (idx != 4)
			m->index = idx;
		base = sib & 7;
		if (base == 5 && mod == 0) {
			/* No base, disp32; REX.B is ignored here too. */
			disp_len = 4;
		} else {
			m->base = base | (p->rex & REX_B ? 8 : 0);
		}
	} else if (rm == 5 && mod == 0) {
		/* In 64-bit mode this slot is RIP-relative, not [disp32]. */
		m->rip_relative = true;
		disp_len = 4;
	} else {
		m->base = rm | (p->rex & REX_B ? 8 : 0);
	}

	if (mod == 1)
		disp_len = 1;
	else if (mod == 2)
		disp_len = 4;
	if (disp_len) {
		ret = fetch_le(c, disp_len, &disp);
		if (ret)
			return ret;
	}
	m->disp = (int64_t)sext(disp, disp_len ? disp_len : 8);
	return 0;
}

/*
 * Operand size for the non-byte forms: REX.W wins over 66, which selects
 * 16 bits; otherwise 32.
 */
static unsigned int opsize(const struct prefixes *p)
{
	if (p->rex & REX_W)
		return 8;
	return p->opsize ? 2 : 4;
}

/*
 * An 8-bit register number 4-7 names AH/CH/DH/BH unless any REX is
 * present, in which case it is SPL/BPL/SIL/DIL.
 */
static void set_reg8(struct pciem_insn *insn, const struct prefixes *p,
		     uint8_t reg)
{
	if (!p->rex_present && reg >= 4 && reg <= 7) {
		insn->reg = reg - 4;
		insn->high_byte = true;
	} else {
		insn->reg = reg;
	}
}

static int decode_string(struct pciem_insn *insn, const struct prefixes *p,
			 uint8_t op)
{
	/*
	 * F2 on MOVS/STOS is not defined by the SDM (REPNE is for CMPS and
	 * SCAS only; elsewhere it is reserved). Hardware happens to treat it
	 * as REP, but nothing emits it, so refuse rather than rely on it.
	 */
	if (p->repne)
		return PCIEM_INSN_EPREFIX;
	insn->rep = p->rep;
	insn->kind = (op == 0xa4 || op == 0xa5) ? PCIEM_INSN_MOVS :
						  PCIEM_INSN_STOS;
	insn->width = (op & 1) ? opsize(p) : 1;
	insn->reg = PCIEM_RAX;
	insn->reg_width = insn->width;
	return 0;
}

static int decode_moffs(struct cursor *c, struct pciem_insn *insn,
			const struct prefixes *p, uint8_t op)
{
	uint64_t addr;
	int ret;

	/* Without 67 the offset is a full 8 bytes in 64-bit mode. */
	ret = fetch_le(c, 8, &addr);
	if (ret)
		return ret;
	insn->kind = (op & 2) ? PCIEM_INSN_STORE : PCIEM_INSN_LOAD;
	insn->width = (op & 1) ? opsize(p) : 1;
	/* Always AL/rAX: neither REX.B nor the AH rule applies. */
	insn->reg = PCIEM_RAX;
	insn->reg_width = insn->width;
	insn->mem.base = -1;
	insn->mem.index = -1;
	insn->mem.scale = 1;
	insn->mem.absolute = true;
	insn->mem.disp = (int64_t)addr;
	return 0;
}

static int decode_two_byte(struct cursor *c, struct pciem_insn *insn,
			   const struct prefixes *p)
{
	uint8_t op, reg;
	int ret;

	ret = fetch(c, &op);
	if (ret)
		return ret;
	insn->opcode = op;
	insn->two_byte = true;
	switch (op) {
	case 0xb6:	/* movzx r, m8 */
	case 0xb7:	/* movzx r, m16 */
	case 0xbe:	/* movsx r, m8 */
	case 0xbf:	/* movsx r, m16 */
		break;
	default:
		return PCIEM_INSN_EOPCODE;
	}
	ret = decode_modrm(c, p, insn, &reg);
	if (ret)
		return ret;
	insn->kind = PCIEM_INSN_LOAD;
	insn->width = (op & 1) ? 2 : 1;
	insn->reg = reg;
	/* The destination is never a byte register, so no AH rule here. */
	insn->reg_width = opsize(p);
	insn->sign_extend = op >= 0xbe;
	return 0;
}

static int decode_one_byte(struct cursor *c, struct pciem_insn *insn,
			   const struct prefixes *p, uint8_t op)
{
	uint8_t reg;
	int ret;

	switch (op) {
	case 0x88:	/* mov m8, r8 */
	case 0x89:	/* mov m, r */
	case 0x8a:	/* mov r8, m8 */
	case 0x8b:	/* mov r, m */
		ret = decode_modrm(c, p, insn, &reg);
		if (ret)
			return ret;
		insn->kind = (op & 2) ? PCIEM_INSN_LOAD : PCIEM_INSN_STORE;
		insn->width = (op & 1) ? opsize(p) : 1;
		insn->reg_width = insn->width;
		if (insn->width == 1)
			set_reg8(insn, p, reg);
		else
			insn->reg = reg;
		return 0;
	case 0x63:	/* movsxd r64, m32 */
		/*
		 * Without REX.W this is a plain 32-bit (or, with 66, a
		 * 16-bit) move whose memory width Intel and AMD have
		 * documented differently; the SDM discourages it and no
		 * compiler emits it.
		 */
		if (!(p->rex & REX_W))
			return PCIEM_INSN_EOPCODE;
		ret = decode_modrm(c, p, insn, &reg);
		if (ret)
			return ret;
		insn->kind = PCIEM_INSN_LOAD;
		insn->width = 4;
		insn->reg = reg;
		insn->reg_width = 8;
		insn->sign_extend = true;
		return 0;
	case 0xc6:	/* mov m8, imm8 */
	case 0xc7: {	/* mov m, imm16/32 */
		unsigned int imm_len;
		uint64_t imm;

		ret = decode_modrm(c, p, insn, &reg);
		if (ret)
			return ret;
		/* Only /0 is MOV; C6/C7 /7 are XABORT/XBEGIN. */
		if (reg & 7)
			return PCIEM_INSN_EOPCODE;
		insn->kind = PCIEM_INSN_STORE;
		insn->width = (op & 1) ? opsize(p) : 1;
		insn->reg_width = insn->width;
		/* There is no imm64: REX.W takes an imm32, sign-extended. */
		imm_len = insn->width > 4 ? 4 : insn->width;
		ret = fetch_le(c, imm_len, &imm);
		if (ret)
			return ret;
		insn->has_imm = true;
		insn->imm = sext(imm, imm_len) & mask(insn->width);
		return 0;
	}
	case 0xa0:	/* mov al, moffs8 */
	case 0xa1:	/* mov rax, moffs */
	case 0xa2:	/* mov moffs8, al */
	case 0xa3:	/* mov moffs, rax */
		return decode_moffs(c, insn, p, op);
	case 0xa4:	/* movs m8, m8 */
	case 0xa5:	/* movs m, m */
	case 0xaa:	/* stos m8 */
	case 0xab:	/* stos m */
		return decode_string(insn, p, op);
	default:
		return PCIEM_INSN_EOPCODE;
	}
}

static bool is_string_op(uint8_t op)
{
	return op == 0xa4 || op == 0xa5 || op == 0xaa || op == 0xab;
}

int pciem_insn_decode(const uint8_t *bytes, size_t avail,
		      struct pciem_insn *insn)
{
	struct cursor c = { .bytes = bytes, .avail = avail, .pos = 0 };
	struct prefixes p;
	uint8_t op;
	int ret;

	if (!bytes || !insn)
		return PCIEM_INSN_EINVAL;
	memset(insn, 0, sizeof(*insn));
	insn->mem.base = -1;
	insn->mem.index = -1;
	insn->mem.scale = 1;

	ret = read_prefixes(&c, &p, &op);
	if (ret)
		return ret;
	insn->opcode = op;

	/*
	 * Refuse prefixes that change the meaning beyond what the emulator
	 * models: LOCK makes MOV #UD and would need atomicity, FS/GS add a
	 * base that is not in the register file, 67 truncates addresses to
	 * 32 bits (kernel code never uses it). F2/F3 on a non-string MOV
	 * (XACQUIRE/XRELEASE hints, or a mandatory prefix that turns the
	 * opcode into another instruction) are refused below.
	 */
	if (p.lock)
		return PCIEM_INSN_EPREFIX;
	if (p.fs_gs)
		return PCIEM_INSN_ESEGMENT;
	if (p.addrsize)
		return PCIEM_INSN_EADDRSIZE;
	if (op == 0x0f)
		ret = decode_two_byte(&c, insn, &p);
	else
		ret = decode_one_byte(&c, insn, &p, op);
	if (ret)
		return ret;
	/* Checked after decoding so an unknown opcode is reported as such. */
	if ((p.rep || p.repne) && !is_string_op(op))
		return PCIEM_INSN_EPREFIX;
	insn->len = (uint8_t)c.pos;
	return 0;
}

uint64_t pciem_insn_ea(const struct pciem_insn *insn,
		       const struct pciem_insn_regs *regs)
{
	const struct pciem_insn_mem *m = &insn->mem;
	uint64_t ea;

	switch (insn->kind) {
	case PCIEM_INSN_MOVS:
		return regs->gpr[PCIEM_RSI];
	case PCIEM_INSN_STOS:
		return regs->gpr[PCIEM_RDI];
	default:
		break;
	}
	/* Address arithmetic wraps modulo 2^64, as on the CPU. */
	ea = (uint64_t)m->disp;
	if (m->absolute)
		return ea;
	if (m->rip_relative)
		ea += regs->rip + insn->len;
	if (m->base >= 0)
		ea += regs->gpr[m->base & 15];
	if (m->index >= 0)
		ea += regs->gpr[m->index & 15] * m->scale;
	return ea;
}

static uint64_t reg_read(const struct pciem_insn_regs *regs,
			 const struct pciem_insn *insn)
{
	uint64_t v = regs->gpr[insn->reg & 15];

	if (insn->high_byte)
		return (v >> 8) & 0xff;
	return v & mask(insn->width);
}

/* Write the low @width bytes of @val to the instruction's register. */
static void reg_write(struct pciem_insn_regs *regs,
		      const struct pciem_insn *insn, unsigned int width,
		      uint64_t val)
{
	uint64_t *r = &regs->gpr[insn->reg & 15];

	if (insn->high_byte) {
		*r = (*r & ~0xff00ULL) | ((val & 0xff) << 8);
		return;
	}
	switch (width) {
	case 1:
	case 2:
		/* Byte and word writes merge into the old value. */
		*r = (*r & ~mask(width)) | (val & mask(width));
		break;
	case 4:
		/* A 32-bit write zero-extends into the full register. */
		*r = val & mask(4);
		break;
	default:
		*r = val;
		break;
	}
}

static bool valid_width(unsigned int w)
{
	return w == 1 || w == 2 || w == 4 || w == 8;
}

static int emulate_string(const struct pciem_insn *insn,
			  struct pciem_insn_regs *regs,
			  const struct pciem_insn_ops *ops, void *ctx)
{
	uint64_t step = insn->width;
	uint64_t val;
	int ret;

	if (regs->rflags & PCIEM_RFLAGS_DF)
		step = -step;

	/* Without REP the body runs exactly once and RCX is untouched. */
	if (!insn->rep || regs->gpr[PCIEM_RCX]) {
		do {
			if (insn->kind == PCIEM_INSN_MOVS) {
				ret = ops->read(ctx, regs->gpr[PCIEM_RSI],
						insn->width, &val);
				if (ret)
					return ret;
			} else {
				val = regs->gpr[PCIEM_RAX] & mask(insn->width);
			}
			ret = ops->write(ctx, regs->gpr[PCIEM_RDI], insn->width,
					 val & mask(insn->width));
			if (ret)
				return ret;
			/*
			 * Registers move per element so that a failure
			 * further on leaves them where an interrupted REP
			 * would: pointing at the element not yet done.
			 */
			if (insn->kind == PCIEM_INSN_MOVS)
				regs->gpr[PCIEM_RSI] += step;
			regs->gpr[PCIEM_RDI] += step;
			if (insn->rep)
				regs->gpr[PCIEM_RCX]--;
		} while (insn->rep && regs->gpr[PCIEM_RCX]);
	}
	regs->rip += insn->len;
	return 0;
}

int pciem_insn_emulate(const struct pciem_insn *insn,
		       struct pciem_insn_regs *regs,
		       const struct pciem_insn_ops *ops, void *ctx)
{
	uint64_t addr, val;
	int ret;

	if (!insn || !regs || !ops || !ops->read || !ops->write)
		return PCIEM_INSN_EINVAL;
	if (!valid_width(insn->width) || !valid_width(insn->reg_width) ||
	    insn->len == 0 || insn->len > PCIEM_INSN_MAX_LEN)
		return PCIEM_INSN_EINVAL;

	switch (insn->kind) {
	case PCIEM_INSN_LOAD:
		addr = pciem_insn_ea(insn, regs);
		ret = ops->read(ctx, addr, insn->width, &val);
		if (ret)
			return ret;
		val &= mask(insn->width);
		if (insn->sign_extend)
			val = sext(val, insn->width);
		reg_write(regs, insn, insn->reg_width, val);
		break;
	case PCIEM_INSN_STORE:
		addr = pciem_insn_ea(insn, regs);
		val = insn->has_imm ? insn->imm & mask(insn->width) :
				      reg_read(regs, insn);
		ret = ops->write(ctx, addr, insn->width, val);
		if (ret)
			return ret;
		break;
	case PCIEM_INSN_MOVS:
	case PCIEM_INSN_STOS:
		return emulate_string(insn, regs, ops, ctx);
	default:
		return PCIEM_INSN_EINVAL;
	}
	regs->rip += insn->len;
	return 0;
}

static unsigned int width_index(unsigned int w)
{
	switch (w) {
	case 1:
		return 0;
	case 2:
		return 1;
	case 4:
		return 2;
	default:
		return 3;
	}
}

const char *pciem_insn_name(const struct pciem_insn *insn)
{
	static const char *const load[4] = {
		"mov r8<-m8", "mov r16<-m16", "mov r32<-m32", "mov r64<-m64",
	};
	static const char *const store[4] = {
		"mov m8<-r8", "mov m16<-r16", "mov m32<-r32", "mov m64<-r64",
	};
	static const char *const store_imm[4] = {
		"mov m8<-imm8", "mov m16<-imm16", "mov m32<-imm32",
		"mov m64<-imm32",
	};
	/* [sign][destination width][source width 1 or 2] */
	static const char *const ext[2][4][2] = {
		{ { "movzx ?<-m8", "movzx ?<-m16" },
		  { "movzx r16<-m8", "movzx r16<-m16" },
		  { "movzx r32<-m8", "movzx r32<-m16" },
		  { "movzx r64<-m8", "movzx r64<-m16" } },
		{ { "movsx ?<-m8", "movsx ?<-m16" },
		  { "movsx r16<-m8", "movsx r16<-m16" },
		  { "movsx r32<-m8", "movsx r32<-m16" },
		  { "movsx r64<-m8", "movsx r64<-m16" } },
	};
	static const char *const movs[2][4] = {
		{ "movs m8", "movs m16", "movs m32", "movs m64" },
		{ "rep movs m8", "rep movs m16", "rep movs m32",
		  "rep movs m64" },
	};
	static const char *const stos[2][4] = {
		{ "stos m8", "stos m16", "stos m32", "stos m64" },
		{ "rep stos m8", "rep stos m16", "rep stos m32",
		  "rep stos m64" },
	};
	unsigned int w = width_index(insn->width);

	switch (insn->kind) {
	case PCIEM_INSN_LOAD:
		if (insn->width == 4 && insn->reg_width == 8)
			return "movsxd r64<-m32";
		if (insn->reg_width != insn->width)
			return ext[insn->sign_extend][width_index(
				insn->reg_width)][insn->width == 2];
		return load[w];
	case PCIEM_INSN_STORE:
		return insn->has_imm ? store_imm[w] : store[w];
	case PCIEM_INSN_MOVS:
		return movs[insn->rep][w];
	case PCIEM_INSN_STOS:
		return stos[insn->rep][w];
	default:
		return "?";
	}
}

const char *pciem_insn_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case PCIEM_INSN_ETRUNC:
		return "instruction truncated";
	case PCIEM_INSN_ETOOLONG:
		return "instruction longer than 15 bytes";
	case PCIEM_INSN_EOPCODE:
		return "opcode not emulated";
	case PCIEM_INSN_EPREFIX:
		return "prefix not emulated (lock, rep/repne)";
	case PCIEM_INSN_ESEGMENT:
		return "fs/gs segment override";
	case PCIEM_INSN_EADDRSIZE:
		return "32-bit address size (0x67)";
	case PCIEM_INSN_EREGOPERAND:
		return "register operand, no memory access";
	case PCIEM_INSN_EINVAL:
		return "invalid argument";
	default:
		return "unknown error";
	}
}
