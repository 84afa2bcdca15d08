// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Instruction-form tests: the encodings compilers and the kernel's string
 * helpers emit for MMIO, written out in inline assembly so each one is
 * exercised whatever the compiler happens to choose for readl() today.
 * The emulator in PCIem's page-fault path must decode every one of them:
 * immediates (sign-extended for movq), zero/sign-extending loads, partial
 * register writes, REX registers r8-r15, the legacy high-byte registers,
 * SIB addressing and the string instructions in both directions.
 */
#include <linux/io.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "mmio_test.h"
#include "testdev_regs.h"

#define S	TESTDEV_SCRATCH
#define S64	TESTDEV_SCRATCH64

/* ---- immediates and extending loads -------------------------------------- */

static void test_asm_imm(struct pmt_run *t)
{
	void __iomem *r = t->r;

	asm volatile("movl $0xdeadbeef, %c1(%0)" : : "r"(r), "i"(S) : "memory");
	pmt_eq(t, readl(r + S), 0xdeadbeef, "movl $0xdeadbeef");
	asm volatile("movw $0x1234, %c1(%0)" : : "r"(r), "i"(S + 2) : "memory");
	pmt_eq(t, readl(r + S), 0x1234beef, "movw $0x1234 to SCRATCH+2");
	asm volatile("movb $0x5a, %c1(%0)" : : "r"(r), "i"(S + 1) : "memory");
	pmt_eq(t, readl(r + S), 0x12345aef, "movb $0x5a to SCRATCH+1");
	asm volatile("movb $0xff, %c1(%0)" : : "r"(r), "i"(S) : "memory");
	pmt_eq(t, readl(r + S), 0x12345aff, "movb $0xff to SCRATCH");

	asm volatile("movq $-2, %c1(%0)" : : "r"(r), "i"(S64) : "memory");
	pmt_eq(t, readq(r + S64), 0xfffffffffffffffeull, "movq $-2 (sign-extended imm32)");
	asm volatile("movq $0x7fffabcd, %c1(%0)" : : "r"(r), "i"(S64) : "memory");
	pmt_eq(t, readq(r + S64), 0x7fffabcdull, "movq $0x7fffabcd");
	asm volatile("movq $-0x80000000, %c1(%0)" : : "r"(r), "i"(S64) : "memory");
	pmt_eq(t, readq(r + S64), 0xffffffff80000000ull, "movq $-0x80000000");
	asm volatile("movl $0x80000001, %c1(%0)" : : "r"(r), "i"(S64) : "memory");
	pmt_eq(t, readq(r + S64), 0xffffffff80000001ull, "movl $0x80000001 to SCRATCH64 low");
}

static void test_asm_loads(struct pmt_run *t)
{
	void __iomem *s = t->r + S;
	unsigned long v;
	u32 v32;

	writel(0x8281ff85, s);
	asm volatile("movzbl (%1), %0" : "=r"(v32) : "r"(s) : "memory");
	pmt_eq(t, v32, 0x85, "movzbl");
	asm volatile("movzbl 1(%1), %0" : "=r"(v32) : "r"(s) : "memory");
	pmt_eq(t, v32, 0xff, "movzbl +1");
	asm volatile("movsbl (%1), %0" : "=r"(v32) : "r"(s) : "memory");
	pmt_eq(t, v32, 0xffffff85, "movsbl");
	asm volatile("movsbl 3(%1), %0" : "=r"(v32) : "r"(s) : "memory");
	pmt_eq(t, v32, 0xffffff82, "movsbl +3");
	asm volatile("movzwl (%1), %0" : "=r"(v32) : "r"(s) : "memory");
	pmt_eq(t, v32, 0xff85, "movzwl");
	asm volatile("movswl (%1), %0" : "=r"(v32) : "r"(s) : "memory");
	pmt_eq(t, v32, 0xffffff85, "movswl");
	asm volatile("movzwl 2(%1), %0" : "=r"(v32) : "r"(s) : "memory");
	pmt_eq(t, v32, 0x8281, "movzwl +2");
	asm volatile("movswl 2(%1), %0" : "=r"(v32) : "r"(s) : "memory");
	pmt_eq(t, v32, 0xffff8281, "movswl +2");
	asm volatile("movslq (%1), %0" : "=r"(v) : "r"(s) : "memory");
	pmt_eq(t, v, 0xffffffff8281ff85ull, "movslq");
	asm volatile("movsbq (%1), %0" : "=r"(v) : "r"(s) : "memory");
	pmt_eq(t, v, 0xffffffffffffff85ull, "movsbq");
	asm volatile("movswq 2(%1), %0" : "=r"(v) : "r"(s) : "memory");
	pmt_eq(t, v, 0xffffffffffff8281ull, "movswq +2");
	asm volatile("movzbq 1(%1), %0" : "=r"(v) : "r"(s) : "memory");
	pmt_eq(t, v, 0xff, "movzbq +1");

	/* partial register writes keep the rest; a 32-bit load clears the top half */
	v = 0x1122334455667788ull;
	asm volatile("movb (%1), %b0" : "+r"(v) : "r"(s) : "memory");
	pmt_eq(t, v, 0x1122334455667785ull, "movb to a byte register");
	v = 0x1122334455667788ull;
	asm volatile("movw (%1), %w0" : "+r"(v) : "r"(s) : "memory");
	pmt_eq(t, v, 0x112233445566ff85ull, "movw to a word register");
	v = 0x1122334455667788ull;
	asm volatile("movzbw 1(%1), %w0" : "+r"(v) : "r"(s) : "memory");
	pmt_eq(t, v, 0x11223344556600ffull, "movzbw");
	v = 0x1122334455667788ull;
	asm volatile("movl (%1), %k0" : "+r"(v) : "r"(s) : "memory");
	pmt_eq(t, v, 0x8281ff85ull, "movl zero-extends to 64 bits");
	writeq(0xf0e0d0c0b0a09080ull, t->r + S64);
	asm volatile("movq (%1), %0" : "=r"(v) : "r"(t->r + S64) : "memory");
	pmt_eq(t, v, 0xf0e0d0c0b0a09080ull, "movq load");
}

/* ---- r8-r15 and the high-byte registers --------------------------------- */

#define LOADL_VIA(vreg, breg, p) ({					\
	register unsigned long __v asm(vreg) = 0xccccccccccccccccul;	\
	register void __iomem *__b asm(breg) = (p);			\
	asm volatile("movl (%1), %k0" : "+r"(__v) : "r"(__b) : "memory"); \
	__v; })

#define STOREL_VIA(vreg, breg, p, val) do {				\
	register unsigned long __v asm(vreg) = (val);			\
	register void __iomem *__b asm(breg) = (p);			\
	asm volatile("movl %k0, (%1)" : : "r"(__v), "r"(__b) : "memory"); \
} while (0)

#define CHECK_VIA(t, vreg, breg, val) do {				\
	STOREL_VIA(vreg, breg, (t)->r + S, val);			\
	pmt_eq(t, readl((t)->r + S), val, "movl %%" vreg "d, (%%" breg ")"); \
	writel(~(u32)(val), (t)->r + S);				\
	pmt_eq(t, LOADL_VIA(vreg, breg, (t)->r + S), ~(u32)(val),	\
	       "movl (%%" breg "), %%" vreg "d");			\
} while (0)

static void test_asm_regs(struct pmt_run *t)
{
	void __iomem *r = t->r;
	unsigned long v;

	CHECK_VIA(t, "r8", "r12", 0x08080808u);
	CHECK_VIA(t, "r9", "r13", 0x09090909u);
	CHECK_VIA(t, "r10", "r14", 0x10101010u);
	CHECK_VIA(t, "r11", "r15", 0x11111111u);
	CHECK_VIA(t, "r12", "r8", 0x12121212u);
	CHECK_VIA(t, "r13", "r9", 0x13131313u);
	CHECK_VIA(t, "r14", "r10", 0x14141414u);
	CHECK_VIA(t, "r15", "r11", 0x15151515u);

	{	/* 64, 16 and 8 bits through REX registers */
		register unsigned long q asm("r15") = 0x0f1e2d3c4b5a6978ul;
		register void __iomem *b asm("r9") = r + S64;

		asm volatile("movq %0, (%1)" : : "r"(q), "r"(b) : "memory");
		pmt_eq(t, readq(r + S64), 0x0f1e2d3c4b5a6978ull, "movq %%r15, (%%r9)");
		q = 0;
		asm volatile("movq (%1), %0" : "+r"(q) : "r"(b) : "memory");
		pmt_eq(t, q, 0x0f1e2d3c4b5a6978ull, "movq (%%r9), %%r15");
	}
	{
		register unsigned long w asm("r10") = 0xaaaaaaaaaaaa1234ul;
		register void __iomem *b asm("r13") = r + S;

		writel(0, r + S);
		asm volatile("movw %w0, 2(%1)" : : "r"(w), "r"(b) : "memory");
		pmt_eq(t, readl(r + S), 0x12340000, "movw %%r10w, 2(%%r13)");
		asm volatile("movb %b0, 1(%1)" : : "r"(w), "r"(b) : "memory");
		pmt_eq(t, readl(r + S), 0x12343400, "movb %%r10b, 1(%%r13)");
		asm volatile("movb 3(%1), %b0" : "+r"(w) : "r"(b) : "memory");
		pmt_eq(t, w, 0xaaaaaaaaaaaa1212ul, "movb 3(%%r13), %%r10b");
		asm volatile("movzwl 2(%1), %k0" : "+r"(w) : "r"(b) : "memory");
		pmt_eq(t, w, 0x1234, "movzwl 2(%%r13), %%r10d");
	}

	/* %ah/%bh/%ch/%dh exist only without a REX prefix: base in %rdi/%rsi */
	writel(0x44332211, r + S);
	v = 0x1111111111111111ul;
	asm volatile("movb 1(%1), %%ah" : "+a"(v) : "D"(r + S) : "memory");
	pmt_eq(t, v, 0x1111111111112211ul, "movb 1(%%rdi), %%ah");
	v = 0x1111111111111111ul;
	asm volatile("movb 2(%1), %%bh" : "+b"(v) : "S"(r + S) : "memory");
	pmt_eq(t, v, 0x1111111111113311ul, "movb 2(%%rsi), %%bh");
	v = 0x1111111111111111ul;
	asm volatile("movb 3(%1), %%ch" : "+c"(v) : "D"(r + S) : "memory");
	pmt_eq(t, v, 0x1111111111114411ul, "movb 3(%%rdi), %%ch");
	v = 0x5555555555555555ul;
	asm volatile("movb (%1), %%dh" : "+d"(v) : "S"(r + S) : "memory");
	pmt_eq(t, v, 0x5555555555551155ul, "movb (%%rsi), %%dh");

	asm volatile("movb %%ah, (%0)" : : "D"(r + S), "a"(0xa5ul << 8) : "memory");
	pmt_eq(t, readl(r + S), 0x443322a5, "movb %%ah, (%%rdi)");
	asm volatile("movb %%bh, 1(%0)" : : "S"(r + S), "b"(0xb6ul << 8) : "memory");
	pmt_eq(t, readl(r + S), 0x4433b6a5, "movb %%bh, 1(%%rsi)");
	asm volatile("movb %%ch, 2(%0)" : : "D"(r + S), "c"(0xc7ul << 8) : "memory");
	pmt_eq(t, readl(r + S), 0x44c7b6a5, "movb %%ch, 2(%%rdi)");
	asm volatile("movb %%dh, 3(%0)" : : "S"(r + S), "d"(0xd8ul << 8 | 0x11) : "memory");
	pmt_eq(t, readl(r + S), 0xd8c7b6a5, "movb %%dh, 3(%%rsi)");
}

/* ---- base + index * scale + displacement ------------------------------- */

#define LOADL_SIB(base, idx, scale, disp) ({				\
	u32 __v;							\
	asm volatile("movl %c3(%1,%2," #scale "), %0"			\
		     : "=r"(__v) : "r"(base), "r"(idx), "i"(disp) : "memory"); \
	__v; })

#define STOREL_SIB(val, base, idx, scale, disp)				\
	({								\
		asm volatile("movl %0, %c3(%1,%2," #scale ")"		\
			     : : "r"(val), "r"(base), "r"(idx), "i"(disp)	\
			     : "memory");				\
	})

static void test_asm_sib(struct pmt_run *t)
{
	void __iomem *r = t->r;
	unsigned long i1 = 8, i2 = 4, i4 = 2, i8 = 1, i0 = 0;
	unsigned long neg = -6ul, big = 0x100;

	writel(0x5ca1ab1e, r + S);
	pmt_eq(t, LOADL_SIB(r, i1, 1, 0), 0x5ca1ab1e, "movl (base,idx 8,1)");
	pmt_eq(t, LOADL_SIB(r, i2, 2, 0), 0x5ca1ab1e, "movl (base,idx 4,2)");
	pmt_eq(t, LOADL_SIB(r, i4, 4, 0), 0x5ca1ab1e, "movl (base,idx 2,4)");
	pmt_eq(t, LOADL_SIB(r, i8, 8, 0), 0x5ca1ab1e, "movl (base,idx 1,8)");
	pmt_eq(t, LOADL_SIB(r + 0x108, i0, 1, -0x100), 0x5ca1ab1e,
	       "movl -0x100(base+0x108,idx 0,1)");
	pmt_eq(t, LOADL_SIB(r + 0x20, neg, 4, 0), 0x5ca1ab1e, "movl (base+0x20,idx -6,4)");
	pmt_eq(t, LOADL_SIB(r, i0, 1, 8), 0x5ca1ab1e, "movl 8(base,idx 0,1)");

	STOREL_SIB(0x600dcafe, r, big, 8, 0x800);	/* 0x1000: MEM, disp32 */
	pmt_eq(t, readl(r + TESTDEV_MEM), 0x600dcafe, "movl to 0x800(base,idx 0x100,8)");
	pmt_eq(t, LOADL_SIB(r, big, 8, 0x800), 0x600dcafe, "movl from 0x800(base,idx 0x100,8)");
	STOREL_SIB(0x0ddba11, r + 0x20, neg, 4, 0);
	pmt_eq(t, readl(r + S), 0x0ddba11, "movl to (base+0x20,idx -6,4)");

	asm volatile("movl $0x13572468, %c2(%0,%1,4)" : : "r"(r), "r"(i4), "i"(0) : "memory");
	pmt_eq(t, readl(r + S), 0x13572468, "movl $imm, (base,idx 2,4)");
	asm volatile("movq $-3, %c2(%0,%1,8)" : : "r"(r), "r"(i8), "i"(8) : "memory");
	pmt_eq(t, readq(r + S64), 0xfffffffffffffffdull, "movq $-3, 8(base,idx 1,8)");
	asm volatile("movb $0x99, %c2(%0,%1,2)" : : "r"(r), "r"(i2), "i"(1) : "memory");
	pmt_eq(t, readl(r + S), 0x13579968, "movb $0x99, 1(base,idx 4,2)");

	{	/* REX.B and REX.X: base %r13, index %r12 */
		register void __iomem *b asm("r13") = r;
		register unsigned long x asm("r12") = 2;
		u32 v;

		writel(0x7e57ab1e, r + S);
		asm volatile("movl (%1,%2,4), %0" : "=r"(v) : "r"(b), "r"(x) : "memory");
		pmt_eq(t, v, 0x7e57ab1e, "movl (%%r13,%%r12,4)");
		asm volatile("movl %0, (%1,%2,4)" : : "r"(0xfeedface), "r"(b), "r"(x) : "memory");
		pmt_eq(t, readl(r + S), 0xfeedface, "movl to (%%r13,%%r12,4)");
	}
}

/* ---- string instructions ----------------------------------------------- */

#define MOVS_UP(sfx, d, s, c)						\
	({								\
		asm volatile("rep movs" sfx				\
			     : "+D"(d), "+S"(s), "+c"(c) : : "memory");	\
	})
#define MOVS_DOWN(sfx, d, s, c)						\
	({								\
		asm volatile("std\n\trep movs" sfx "\n\tcld"		\
			     : "+D"(d), "+S"(s), "+c"(c) : : "memory", "cc"); \
	})
#define STOS_UP(sfx, d, c, a)						\
	({								\
		asm volatile("rep stos" sfx				\
			     : "+D"(d), "+c"(c) : "a"(a) : "memory");	\
	})
#define STOS_DOWN(sfx, d, c, a)						\
	({								\
		asm volatile("std\n\trep stos" sfx "\n\tcld"		\
			     : "+D"(d), "+c"(c) : "a"(a) : "memory", "cc");	\
	})

/*
 * rep movs of @cnt elements of @size bytes from @src to @dst. Going down,
 * @dst and @src name the highest element, as they must with DF set.
 * Returns false if the registers do not end where they must.
 */
static bool rep_movs(struct pmt_run *t, void *dst, const void *src,
		     unsigned long cnt, int size, bool down)
{
	void *d = dst;
	const void *s = src;
	unsigned long c = cnt;
	long step = down ? -(long)(cnt * size) : (long)(cnt * size);

	switch (size) {
	case 1:
		if (down)
			MOVS_DOWN("b", d, s, c);
		else
			MOVS_UP("b", d, s, c);
		break;
	case 2:
		if (down)
			MOVS_DOWN("w", d, s, c);
		else
			MOVS_UP("w", d, s, c);
		break;
	case 4:
		if (down)
			MOVS_DOWN("l", d, s, c);
		else
			MOVS_UP("l", d, s, c);
		break;
	default:
		if (down)
			MOVS_DOWN("q", d, s, c);
		else
			MOVS_UP("q", d, s, c);
		break;
	}
	return pmt_eq(t, c, 0, "rep movs%d %s: rcx after", size, down ? "down" : "up") &&
	       pmt_eq(t, (unsigned long)d - (unsigned long)dst, step,
		      "rep movs%d %s: rdi moved by", size, down ? "down" : "up") &&
	       pmt_eq(t, (unsigned long)s - (unsigned long)src, step,
		      "rep movs%d %s: rsi moved by", size, down ? "down" : "up");
}

static bool rep_stos(struct pmt_run *t, void *dst, unsigned long val,
		     unsigned long cnt, int size, bool down)
{
	void *d = dst;
	unsigned long c = cnt;
	long step = down ? -(long)(cnt * size) : (long)(cnt * size);

	switch (size) {
	case 1:
		if (down)
			STOS_DOWN("b", d, c, val);
		else
			STOS_UP("b", d, c, val);
		break;
	case 2:
		if (down)
			STOS_DOWN("w", d, c, val);
		else
			STOS_UP("w", d, c, val);
		break;
	case 4:
		if (down)
			STOS_DOWN("l", d, c, val);
		else
			STOS_UP("l", d, c, val);
		break;
	default:
		if (down)
			STOS_DOWN("q", d, c, val);
		else
			STOS_UP("q", d, c, val);
		break;
	}
	return pmt_eq(t, c, 0, "rep stos%d %s: rcx after", size, down ? "down" : "up") &&
	       pmt_eq(t, (unsigned long)d - (unsigned long)dst, step,
		      "rep stos%d %s: rdi moved by", size, down ? "down" : "up");
}

#define REP_LEN		256
#define REP_OFF		0x100	/* in MEM */

static void fill_seed(u8 *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (u8)(i * 31 + seed * 17 + 3);
}

/* Reads MEM back with byte reads: a path independent of the string forms under test. */
static void check_mem(struct pmt_run *t, unsigned int off, const u8 *want,
		      size_t len, const char *what, int size, bool down)
{
	void __iomem *mem = t->r + TESTDEV_MEM;
	size_t i;

	for (i = 0; i < len; i += 4) {
		u32 w = readl(mem + off + i);
		u32 e = want[i] | want[i + 1] << 8 | want[i + 2] << 16 | (u32)want[i + 3] << 24;

		if (!pmt_eq(t, w, e, "%s%d %s: MEM+%#zx", what, size,
			    down ? "down" : "up", off + i))
			return;
	}
	pmt_eq(t, readb(mem + off - 1), 0xee, "%s%d %s: byte before", what, size,
	      down ? "down" : "up");
	pmt_eq(t, readb(mem + off + len), 0xee, "%s%d %s: byte after", what, size,
	       down ? "down" : "up");
}

static void test_rep_movs(struct pmt_run *t)
{
	void __iomem *mem = t->r + TESTDEV_MEM;
	static const int sizes[] = { 1, 2, 4, 8 };
	unsigned int seed = 0;
	int i, down;
	u8 *buf, *back;

	buf = kmalloc(2 * REP_LEN, GFP_KERNEL);
	if (!buf) {
		pmt_fail(t, "out of memory");
		return;
	}
	back = buf + REP_LEN;
	for (i = 0; i < ARRAY_SIZE(sizes) && !t->failed; i++) {
		int sz = sizes[i];
		unsigned long n = REP_LEN / sz;

		for (down = 0; down < 2 && !t->failed; down++) {
			size_t last = down ? REP_LEN - sz : 0;

			/* to the device */
			fill_seed(buf, REP_LEN, ++seed);
			writeb(0xee, mem + REP_OFF - 1);
			writeb(0xee, mem + REP_OFF + REP_LEN);
			if (!rep_movs(t, (void __force *)mem + REP_OFF + last, buf + last,
				      n, sz, down))
				break;
			check_mem(t, REP_OFF, buf, REP_LEN, "rep movs to MEM, size ", sz, down);

			/* from the device (MEM holds buf now) */
			memset(back, 0, REP_LEN);
			if (!rep_movs(t, back + last, (void __force *)mem + REP_OFF + last,
				      n, sz, down))
				break;
			if (memcmp(back, buf, REP_LEN)) {
				size_t j = 0;

				while (back[j] == buf[j])
					j++;
				pmt_eq(t, back[j], buf[j], "rep movs%d %s from MEM: byte %zu",
				       sz, down ? "down" : "up", j);
			}
		}
	}

	/* misaligned elements, odd counts, and single movs without rep */
	for (i = 0; i < ARRAY_SIZE(sizes) && !t->failed; i++) {
		int sz = sizes[i];

		fill_seed(buf, 5 * sz + 1, ++seed);
		writeb(0xee, mem + 0x303 - 1);
		writeb(0xee, mem + 0x303 + 5 * sz);
		rep_movs(t, (void __force *)mem + 0x303, buf, 5, sz, false);
		memset(back, 0, REP_LEN);
		memcpy_fromio(back, mem + 0x303, 5 * sz);
		if (memcmp(back, buf, 5 * sz))
			pmt_fail(t, "rep movs%d of 5 elements to MEM+0x303: content differs", sz);
		pmt_eq(t, readb(mem + 0x303 - 1), 0xee, "rep movs%d to MEM+0x303: byte before", sz);
		pmt_eq(t, readb(mem + 0x303 + 5 * sz), 0xee, "rep movs%d to MEM+0x303: byte after", sz);
	}
	if (!t->failed) {
		void *d = (void __force *)mem + 0x400;
		const void *s = buf;

		fill_seed(buf, 4, ++seed);
		asm volatile("movsl" : "+D"(d), "+S"(s) : : "memory");
		pmt_eq(t, readl(mem + 0x400), *(u32 *)buf, "movsl (no rep) to MEM");
		pmt_eq(t, (unsigned long)d - (unsigned long)mem, 0x404, "movsl: rdi after");
		d = back;
		s = (void __force *)mem + 0x400;
		asm volatile("movsl" : "+D"(d), "+S"(s) : : "memory");
		pmt_eq(t, *(u32 *)back, *(u32 *)buf, "movsl (no rep) from MEM");
	}
	kfree(buf);
}

static void test_rep_stos(struct pmt_run *t)
{
	void __iomem *mem = t->r + TESTDEV_MEM;
	static const int sizes[] = { 1, 2, 4, 8 };
	const u64 pat = 0x8899aabbccddeeffull;
	u8 want[REP_LEN];
	int i, j, down;

	for (i = 0; i < ARRAY_SIZE(sizes) && !t->failed; i++) {
		int sz = sizes[i];
		unsigned long n = REP_LEN / sz;

		for (down = 0; down < 2 && !t->failed; down++) {
			u64 v = pat ^ (u64)(i * 2 + down) * 0x0101010101010101ull;
			size_t last = down ? REP_LEN - sz : 0;

			for (j = 0; j < REP_LEN; j++)
				want[j] = (u8)(v >> 8 * (j % sz));
			writeb(0xee, mem + REP_OFF - 1);
			writeb(0xee, mem + REP_OFF + REP_LEN);
			if (!rep_stos(t, (void __force *)mem + REP_OFF + last, v, n, sz, down))
				break;
			check_mem(t, REP_OFF, want, REP_LEN, "rep stos", sz, down);
		}
	}
}

/* ---- explicit: an instruction the emulator refuses ------------------------- */

/*
 * "lock orl $0x100,(%rdi)" (f0 81 0f 00 01 00 00) is no MMIO access a
 * driver makes. PCIem must refuse it as a master abort: the write is
 * dropped, the kernel log names the bytes, and nothing oopses.
 */
static void test_refused(struct pmt_run *t)
{
	void __iomem *r = t->r;

	writel(0x12345678, r + S);
	asm volatile("lock orl $0x100, (%0)" : : "D"(r + S) : "memory", "cc");
	pmt_eq(t, readl(r + S), 0x12345678, "SCRATCH after refused lock orl (dropped)");
	pmt_eq(t, readl(r + TESTDEV_ID), TESTDEV_ID_VALUE, "readl(ID) after refused lock orl");
}

/* ---- edu ----------------------------------------------------------------- */

static void test_edu_asm(struct pmt_run *t)
{
	void __iomem *r = t->r;
	u32 buf[4] = { 0 }, live;
	unsigned long v;
	void *d;
	const void *s;

	asm volatile("movl $0x0badcafe, %c1(%0)" : : "r"(r), "i"(EDU_LIVENESS) : "memory");
	live = readl(r + EDU_LIVENESS);
	pmt_eq(t, live, ~0x0badcafeu, "movl $imm to LIVENESS");
	asm volatile("movslq (%1), %0" : "=r"(v) : "r"(r) : "memory");
	pmt_eq(t, v, EDU_ID_VALUE, "movslq ID");
	pmt_eq(t, LOADL_VIA("r9", "r13", r), EDU_ID_VALUE, "movl (%%r13), %%r9d");
	STOREL_VIA("r14", "r8", r + EDU_LIVENESS, 0x600d);
	pmt_eq(t, readl(r + EDU_LIVENESS), ~0x600du, "movl %%r14d, (%%r8)");
	pmt_eq(t, LOADL_SIB(r, 1ul, 4, 0), ~0x600du, "movl (base,idx 1,4)");
	asm volatile("movq $-2, %c1(%0)" : : "r"(r), "i"(EDU_DMA_SRC) : "memory");
	pmt_eq(t, readq(r + EDU_DMA_SRC), 0xfffffffffffffffeull, "movq $-2 to DMA_SRC");

	live = readl(r + EDU_LIVENESS);
	rep_movs(t, buf, (void __force *)r, 1, 4, false);
	pmt_eq(t, buf[0], EDU_ID_VALUE, "rep movsl from ID");
	rep_movs(t, buf, (void __force *)r, 2, 4, false);
	pmt_eq(t, buf[0], EDU_ID_VALUE, "rep movsl x2 from ID: word 0");
	pmt_eq(t, buf[1], live, "rep movsl x2 from ID: word 1 (LIVENESS)");
	memset(buf, 0, sizeof(buf));
	rep_movs(t, &buf[1], (void __force *)r + 4, 2, 4, true);
	pmt_eq(t, buf[0], EDU_ID_VALUE, "std; rep movsl x2 from LIVENESS down: word 0");
	pmt_eq(t, buf[1], live, "std; rep movsl x2 down: word 1");
	rep_movs(t, buf, (void __force *)r + EDU_DMA_SRC, 1, 8, false);
	pmt_eq(t, *(u64 *)buf, 0xfffffffffffffffeull, "rep movsq from DMA_SRC");
	buf[0] = 0x4321;
	d = (void __force *)r + EDU_LIVENESS;
	s = buf;
	asm volatile("movsl" : "+D"(d), "+S"(s) : : "memory");
	pmt_eq(t, readl(r + EDU_LIVENESS), ~0x4321u, "movsl to LIVENESS");
	memcpy_fromio(buf, r, 8);
	pmt_eq(t, buf[0], EDU_ID_VALUE, "memcpy_fromio(ID, 8): word 0");
	pmt_eq(t, buf[1], ~0x4321u, "memcpy_fromio(ID, 8): word 1");
	buf[0] = 0x99;
	memcpy_toio(r + EDU_LIVENESS, buf, 4);
	pmt_eq(t, readl(r + EDU_LIVENESS), ~0x99u, "memcpy_toio(LIVENESS, 4)");
}

const struct pmt_test pmt_asm_tests[] = {
	{ "asm-imm", test_asm_imm, PMT_F_TESTDEV },
	{ "asm-loads", test_asm_loads, PMT_F_TESTDEV },
	{ "asm-regs", test_asm_regs, PMT_F_TESTDEV },
	{ "asm-sib", test_asm_sib, PMT_F_TESTDEV },
	{ "rep-movs", test_rep_movs, PMT_F_TESTDEV },
	{ "rep-stos", test_rep_stos, PMT_F_TESTDEV },
	{ "refused", test_refused, PMT_F_TESTDEV | PMT_F_EXPLICIT },
	{ "edu-asm", test_edu_asm, PMT_F_EDU },
	{ }
};
