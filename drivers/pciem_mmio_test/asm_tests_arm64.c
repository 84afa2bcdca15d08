// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Instruction-form tests on arm64: the load/store forms compilers emit
 * for MMIO and the data-abort syndrome does not describe (QEMU's TCG gives
 * no syndrome at all), written out in inline assembly so each is
 * exercised whatever the compiler chooses today: every width, the
 * sign-extending loads and W-register zeroing, unscaled offsets,
 * pre/post-index with writeback, register offsets with each extend, the
 * pairs and the ordered LDAR/STLR. PCIem's decoder (kernel/insn_arm64)
 * must handle each of them.
 */
#include <linux/io.h>

#include "mmio_test.h"
#include "testdev_regs.h"

#define S	TESTDEV_SCRATCH
#define S64	TESTDEV_SCRATCH64

static void test_asm_widths(struct pmt_run *t)
{
	void __iomem *r = t->r;
	u64 x = 0x1122334455667788ull, v;

	asm volatile("str %x0, [%1, %2]" : : "r"(x), "r"(r), "i"(S64) : "memory");
	pmt_eq(t, readq(r + S64), x, "str x, [xn, #S64]");
	asm volatile("ldr %x0, [%1, %2]" : "=r"(v) : "r"(r), "i"(S64) : "memory");
	pmt_eq(t, v, x, "ldr x, [xn, #S64]");
	v = ~0ull;
	asm volatile("ldr %w0, [%1, %2]" : "+r"(v) : "r"(r), "i"(S64) : "memory");
	pmt_eq(t, v, 0x55667788, "ldr w zeroes bits 63:32");
	asm volatile("strh %w0, [%1, %2]" : : "r"(0xabcdu), "r"(r), "i"(S + 2) : "memory");
	asm volatile("strb %w0, [%1, %2]" : : "r"(0xefu), "r"(r), "i"(S) : "memory");
	asm volatile("strb wzr, [%0, %1]" : : "r"(r), "i"(S + 1) : "memory");
	pmt_eq(t, readl(r + S), 0xabcd00ef, "strh/strb/strb wzr");
	asm volatile("ldrh %w0, [%1, %2]" : "=r"(v) : "r"(r), "i"(S + 2) : "memory");
	pmt_eq(t, v, 0xabcd, "ldrh");
	asm volatile("ldrb %w0, [%1, %2]" : "=r"(v) : "r"(r), "i"(S) : "memory");
	pmt_eq(t, v, 0xef, "ldrb");
	asm volatile("stur %w0, [%1, #-4]" : : "r"(0x01020304u), "r"(r + S + 4) : "memory");
	pmt_eq(t, readl(r + S), 0x01020304, "stur w, [xn, #-4]");
	asm volatile("ldur %w0, [%1, #-4]" : "=r"(v) : "r"(r + S + 4) : "memory");
	pmt_eq(t, v, 0x01020304, "ldur w, [xn, #-4]");
}

static void test_asm_extend(struct pmt_run *t)
{
	void __iomem *s = t->r + S;
	u64 v;

	writel(0x8281ff85, s);
	asm volatile("ldrsb %x0, [%1]" : "=r"(v) : "r"(s) : "memory");
	pmt_eq(t, v, 0xffffffffffffff85ull, "ldrsb x");
	v = ~0ull;
	asm volatile("ldrsb %w0, [%1, #3]" : "+r"(v) : "r"(s) : "memory");
	pmt_eq(t, v, 0xffffff82, "ldrsb w (bits 63:32 zero)");
	asm volatile("ldrsh %x0, [%1, #2]" : "=r"(v) : "r"(s) : "memory");
	pmt_eq(t, v, 0xffffffffffff8281ull, "ldrsh x");
	asm volatile("ldrsw %0, [%1]" : "=r"(v) : "r"(s) : "memory");
	pmt_eq(t, v, 0xffffffff8281ff85ull, "ldrsw");
	asm volatile("ldursh %w0, [%1, #-1]" : "=r"(v) : "r"(s + 3) : "memory");
	pmt_eq(t, v, 0xffff8281, "ldursh w, [xn, #-1]");
}

static void test_asm_index(struct pmt_run *t)
{
	void __iomem *r = t->r;
	void __iomem *p = r + S;
	u64 v;

	writel(0xcafef00d, r + S);
	writel(0x600df00d, r + S64);
	asm volatile("ldr %w0, [%1], #8" : "=r"(v), "+r"(p) : : "memory");
	pmt_eq(t, v, 0xcafef00d, "ldr w, [xn], #8: value");
	pmt_eq(t, (u64)(p - r), S + 8, "ldr w, [xn], #8: base written back");
	asm volatile("ldr %w0, [%1, #-8]!" : "=r"(v), "+r"(p) : : "memory");
	pmt_eq(t, v, 0xcafef00d, "ldr w, [xn, #-8]!: value");
	pmt_eq(t, (u64)(p - r), S, "ldr w, [xn, #-8]!: base written back");
	asm volatile("str %w1, [%0, #8]!" : "+r"(p) : "r"(0x12345678u) : "memory");
	pmt_eq(t, readl(r + S64), 0x12345678, "str w, [xn, #8]!");
	pmt_eq(t, (u64)(p - r), S64, "str w, [xn, #8]!: base written back");
	asm volatile("strh %w1, [%0], #-8" : "+r"(p) : "r"(0x4321u) : "memory");
	pmt_eq(t, readl(r + S64), 0x12344321, "strh w, [xn], #-8");
	pmt_eq(t, (u64)(p - r), S, "strh w, [xn], #-8: base written back");
}

static void test_asm_regoff(struct pmt_run *t)
{
	void __iomem *r = t->r;
	u64 v, i = S64, i4 = S64 / 4, neg = (u32)-8;

	writeq(0x0a0b0c0d0e0f1011ull, r + S64);
	asm volatile("ldr %x0, [%1, %2]" : "=r"(v) : "r"(r), "r"(i) : "memory");
	pmt_eq(t, v, 0x0a0b0c0d0e0f1011ull, "ldr x, [xn, xm]");
	asm volatile("ldr %w0, [%1, %2, lsl #2]" : "=r"(v) : "r"(r), "r"(i4) : "memory");
	pmt_eq(t, v, 0x0e0f1011, "ldr w, [xn, xm, lsl #2]");
	asm volatile("ldrb %w0, [%1, %w2, uxtw]" : "=r"(v) : "r"(r), "r"(i) : "memory");
	pmt_eq(t, v, 0x11, "ldrb w, [xn, wm, uxtw]");
	asm volatile("str %w0, [%1, %w2, sxtw]" : : "r"(0x5a5a5a5au), "r"(r + S64 + 8), "r"(neg)
		     : "memory");
	pmt_eq(t, readq(r + S64), 0x0a0b0c0d5a5a5a5aull, "str w, [xn, wm, sxtw] (wm = -8)");
}

static void test_asm_pairs(struct pmt_run *t)
{
	void __iomem *r = t->r;
	void __iomem *p = r + S64;
	u64 a, b;
	u32 wa, wb;

	asm volatile("stp %w0, %w1, [%2]" : : "r"(0x11111111u), "r"(0x22222222u), "r"(r + S64)
		     : "memory");
	pmt_eq(t, readq(r + S64), 0x2222222211111111ull, "stp w, w");
	asm volatile("ldp %w0, %w1, [%2]" : "=&r"(wa), "=r"(wb) : "r"(r + S64) : "memory");
	pmt_eq(t, wa, 0x11111111, "ldp w, w: first");
	pmt_eq(t, wb, 0x22222222, "ldp w, w: second");
	writel(0x80000001, r + S64 + 4);
	asm volatile("ldpsw %0, %1, [%2]" : "=&r"(a), "=r"(b) : "r"(r + S64) : "memory");
	pmt_eq(t, b, 0xffffffff80000001ull, "ldpsw: second sign-extended");
	writeq(0xfedcba9876543210ull, r + S64);
	asm volatile("ldp %w0, %w1, [%2], #8" : "=&r"(wa), "=&r"(wb), "+r"(p) : : "memory");
	pmt_eq(t, ((u64)wb << 32) | wa, 0xfedcba9876543210ull, "ldp w, w, [xn], #8");
	pmt_eq(t, (u64)(p - r), S64 + 8, "ldp w, w, [xn], #8: base written back");
	asm volatile("stnp %w0, %w1, [%2]" : : "r"(0x33333333u), "r"(0x44444444u), "r"(r + S64)
		     : "memory");
	pmt_eq(t, readq(r + S64), 0x4444444433333333ull, "stnp w, w");
}

static void test_asm_ordered(struct pmt_run *t)
{
	void __iomem *s = t->r + S;
	u32 v;

	asm volatile("stlr %w0, [%1]" : : "r"(0x13572468u), "r"(s) : "memory");
	pmt_eq(t, readl(s), 0x13572468, "stlr w");
	asm volatile("ldar %w0, [%1]" : "=r"(v) : "r"(s) : "memory");
	pmt_eq(t, v, 0x13572468, "ldar w");
	asm volatile("stlrb %w0, [%1]" : : "r"(0x99u), "r"(s) : "memory");
	pmt_eq(t, readl(s), 0x13572499, "stlrb");
}

/*
 * Refused forms: each runs with x9 = the scratch register's address and
 * w10/w11 set to sentinels, encoded with .inst so the registers (and so
 * the bytes the kernel log names, which 85-mmio-faults looks for) are
 * fixed. PCIem must skip each as a master abort: no register written, the
 * device register unchanged, the device still answering.
 */
#define REFUSED_W10	0x5a5a5a5aull
#define REFUSED_W11	0xa5a5a5a5ull

/*
 * @cpu_may_fail: a store-exclusive with no monitor open for its address
 * may fail without accessing memory (the architecture leaves it
 * IMPLEMENTATION DEFINED; QEMU's TCG does so), writing 1 to its status
 * register w11 and never faulting: then PCIem is not involved.
 */
#define REFUSE_IF(t, s, word, what, cpu_may_fail)				\
	do {									\
		u64 w10 = REFUSED_W10, w11 = REFUSED_W11;			\
										\
		asm volatile("mov x9, %2\n\tmov x10, %0\n\tmov x11, %1\n\t"	\
			     ".inst " #word "\n\tclrex\n\t"			\
			     "mov %0, x10\n\tmov %1, x11"			\
			     : "+r"(w10), "+r"(w11)				\
			     : "r"(s)						\
			     : "x9", "x10", "x11", "memory");			\
		pmt_eq(t, w10, REFUSED_W10, "%s: w10 untouched", what);	\
		if (!(cpu_may_fail) || w11 != 1)				\
			pmt_eq(t, w11, REFUSED_W11, "%s: w11 untouched", what); \
		pmt_eq(t, readl(s), 0x12345678, "%s: SCRATCH untouched", what); \
	} while (0)
#define REFUSE(t, s, word, what) REFUSE_IF(t, s, word, what, false)

static void test_refused(struct pmt_run *t)
{
	void __iomem *s = t->r + S;

	writel(0x12345678, s);
	/* exclusives: a device register has no exclusive monitor */
	REFUSE(t, s, 0x885f7d2a, "ldxr w10, [x9]");
	REFUSE_IF(t, s, 0x880b7d2a, "stxr w11, w10, [x9]", true);
	/* atomics (LSE): a read-modify-write the CPU believes indivisible */
	REFUSE(t, s, 0xb82a012b, "ldadd w10, w11, [x9]");
	REFUSE(t, s, 0xb82a812b, "swp w10, w11, [x9]");
	REFUSE(t, s, 0x88aa7d2b, "cas w10, w11, [x9]");
	/*
	 * Pairs and pre/post-index are emulated (asm-pairs, asm-index), but
	 * not their CONSTRAINED UNPREDICTABLE encodings: a pair loading one
	 * register twice, writeback onto the register loaded.
	 */
	REFUSE(t, s, 0x2940292a, "ldp w10, w10, [x9]");
	REFUSE(t, s, 0xb8404529, "ldr w9, [x9], #4");
	pmt_eq(t, readl(t->r + TESTDEV_ID), TESTDEV_ID_VALUE,
	       "readl(ID) after the refused forms");
}

const struct pmt_test pmt_asm_tests[] = {
	{ "asm-widths", test_asm_widths, PMT_F_TESTDEV },
	{ "asm-extend", test_asm_extend, PMT_F_TESTDEV },
	{ "asm-index", test_asm_index, PMT_F_TESTDEV },
	{ "asm-regoff", test_asm_regoff, PMT_F_TESTDEV },
	{ "asm-pairs", test_asm_pairs, PMT_F_TESTDEV },
	{ "asm-ordered", test_asm_ordered, PMT_F_TESTDEV },
	{ "refused", test_refused, PMT_F_TESTDEV | PMT_F_EXPLICIT },
	{ }
};
