// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * x86-64 instruction length for instructions PCIem refuses to emulate.
 * Opcode properties follow the opcode map tables of the Intel SDM,
 * volume 2, appendix A, for 64-bit mode.
 */
#include "pciem_insn_len.h"

#define MAX_LEN 15

/* Bit n set: one-byte opcode n has a ModRM byte. */
static const uint32_t modrm1[8] = {
	0x0f0f0f0f, /* 00-1f: ALU r/m forms */
	0x0f0f0f0f, /* 20-3f */
	0x00000000, /* 40-5f: REX, push/pop */
	0x00000a08, /* 60-7f: 63 movsxd, 69 imul, 6b imul */
	0x0000ffff, /* 80-9f: 80-8f */
	0x00000000, /* a0-bf */
	0xff0f00f3, /* c0-df: c0 c1 c4-c7, d0-d3, d8-df (c4/c5 are VEX) */
	0xc0c00000, /* e0-ff: f6 f7 fe ff */
};

static int bit(const uint32_t *map, unsigned int n)
{
	return (map[n / 32] >> (n % 32)) & 1;
}

/* Immediate bytes of one-byte opcode @op with ModRM reg field @reg. */
static int imm1(unsigned int op, unsigned int reg, int osize16)
{
	int iz = osize16 ? 2 : 4;

	switch (op) {
	case 0x69: case 0x81: case 0xc7:
		return iz;
	case 0x6b: case 0x80: case 0x83: case 0xc0: case 0xc1: case 0xc6:
		return 1;
	case 0xf6:
		return reg < 2 ? 1 : 0;	/* TEST Ib */
	case 0xf7:
		return reg < 2 ? iz : 0;	/* TEST Iz */
	}
	return 0;
}

/* Bytes of ModRM, SIB and displacement starting at @p, or -1. */
static int modrm_len(const uint8_t *p, size_t avail)
{
	unsigned int mod, rm;
	int n = 1;

	if (avail < 1)
		return -1;
	mod = p[0] >> 6;
	rm = p[0] & 7;
	if (mod == 3)
		return 1;
	if (rm == 4) {
		if (avail < 2)
			return -1;
		n++;
		if (mod == 0 && (p[1] & 7) == 5)
			n += 4;	/* SIB with no base: disp32 */
	} else if (mod == 0 && rm == 5) {
		n += 4;		/* RIP-relative */
	}
	if (mod == 1)
		n += 1;
	else if (mod == 2)
		n += 4;
	return n;
}

/*
 * AMD's XOP encoding: 8f, then RXB.map_select (map 8, 9 or 0ah), then
 * W.vvvv.L.pp, the opcode and a ModRM. Map 8 carries an imm8 (an
 * immediate or a fourth register), map 0ah an imm32, map 9 none. @i is
 * the index of the byte after 8f.
 */
static int xop_length(const uint8_t *bytes, size_t i, size_t limit)
{
	static const int imm_of_map[3] = { 1, 0, 4 };
	unsigned int map;
	int m;

	if (i + 3 > limit)
		return -1;
	map = bytes[i] & 0x1f;
	if (map > 10)
		return -1;
	i += 3;		/* map and W.vvvv.L.pp bytes, opcode */
	m = modrm_len(&bytes[i], limit - i);
	if (m < 0)
		return -1;
	i += m + imm_of_map[map - 8];
	return i <= limit ? (int)i : -1;
}

int pciem_insn_length(const uint8_t *bytes, size_t avail)
{
	size_t i = 0, limit = avail < MAX_LEN ? avail : MAX_LEN;
	int osize16 = 0, asize32 = 0, rexw = 0, m, imm = 0;
	unsigned int op;

	/*
	 * Legacy prefixes and REX bytes. Only a REX immediately before the
	 * opcode counts: one followed by another prefix is ignored (SDM).
	 */
	for (; i < limit; i++) {
		uint8_t b = bytes[i];

		if ((b & 0xf0) == 0x40) {
			rexw = (b >> 3) & 1;
			continue;
		}
		if (!(b == 0x66 || b == 0xf0 || b == 0xf2 || b == 0xf3 ||
		      b == 0x2e || b == 0x36 || b == 0x3e || b == 0x26 ||
		      b == 0x64 || b == 0x65 || b == 0x67))
			break;
		rexw = 0;
		if (b == 0x66)
			osize16 = 1;
		if (b == 0x67)
			asize32 = 1;
	}
	if (i >= limit)
		return -1;
	if (rexw)
		osize16 = 0;
	op = bytes[i++];

	if (op == 0x0f) {
		unsigned int op2;

		if (i >= limit)
			return -1;
		op2 = bytes[i++];
		if (op2 == 0x38 || op2 == 0x3a) {
			if (i >= limit)
				return -1;
			i++;	/* third opcode byte; all take ModRM */
			imm = op2 == 0x3a ? 1 : 0;
		} else if (op2 == 0x0f || (op2 >= 0x80 && op2 <= 0x8f) ||
			   op2 == 0x05 || op2 == 0x07 || op2 == 0x0b ||
			   (op2 >= 0x30 && op2 <= 0x37) || op2 == 0xa0 ||
			   op2 == 0xa1 || op2 == 0xa2 || op2 == 0xa8 ||
			   op2 == 0xa9 || op2 == 0xaa ||
			   (op2 >= 0xc8 && op2 <= 0xcf) || op2 == 0x06 ||
			   op2 == 0x08 || op2 == 0x09 || op2 == 0x77) {
			/* 3DNow!, Jcc, and opcodes with no memory operand */
			return -1;
		} else if ((op2 >= 0x70 && op2 <= 0x73) || op2 == 0xa4 ||
			   op2 == 0xac || op2 == 0xba || op2 == 0xc2 ||
			   (op2 >= 0xc4 && op2 <= 0xc6)) {
			imm = 1;
		}
		m = modrm_len(&bytes[i], limit - i);
		if (m < 0)
			return -1;
		i += m + imm;
		return i <= limit ? (int)i : -1;
	}

	/* String and moffs forms: no ModRM. */
	if ((op >= 0xa4 && op <= 0xa7) || (op >= 0xaa && op <= 0xaf))
		return (int)i;
	if (op >= 0xa0 && op <= 0xa3) {
		/* The offset is as wide as the address: 8, or 4 after 67. */
		m = asize32 ? 4 : 8;
		return i + m <= limit ? (int)(i + m) : -1;
	}
	/* XOP: 8f whose next byte's map field is 8 or more (8f /0 is POP). */
	if (op == 0x8f && i < limit && (bytes[i] & 0x1f) >= 8)
		return xop_length(bytes, i, limit);
	/* VEX (c4, c5) and EVEX (62) are not decoded. */
	if (op == 0xc4 || op == 0xc5 || op == 0x62 || !bit(modrm1, op))
		return -1;
	if (i >= limit)
		return -1;
	imm = imm1(op, (bytes[i] >> 3) & 7, osize16);
	m = modrm_len(&bytes[i], limit - i);
	if (m < 0)
		return -1;
	i += m + imm;
	return i <= limit ? (int)i : -1;
}
