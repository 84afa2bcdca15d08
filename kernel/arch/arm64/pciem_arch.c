// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * arm64 behind the architecture interface (kernel/pciem_arch.h).
 *
 * The fault: an EL1 data abort on a kernel address with no valid
 * translation reaches do_translation_fault() (in .kprobes.text, so not
 * probeable), which hands it to do_bad_area(far, esr, regs), a real symbol
 * on Debian's 6.1 and 6.12 kernels. A kprobe there redirects the call, for
 * trapped addresses, to pciem_mmio_fault() with the same arguments.
 * arm64 kprobes are BRK-based: a pre-handler that changes the PC and
 * returns 1 skips the single-step, and the new function returns to
 * do_bad_area()'s caller through the untouched link register.
 *
 * The access: ESR_EL1's instruction syndrome when ISV is set, else the
 * instruction word through kernel/insn_arm64 (QEMU's TCG never sets ISV
 * for an abort taken to EL1, so there the decoder does all the work).
 *
 * Page tables: swapper_pg_dir and init_mm are not exported; TTBR1_EL1
 * points at the kernel's table root, which is all a walk needs. Unlike
 * x86, TLB maintenance is broadcast (TLBI ...IS): no IPIs.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/uaccess.h>
#include <asm/esr.h>
#include <asm/pgalloc.h>
#include <asm/pgtable.h>
#include <asm/sysreg.h>
#include <asm/tlbflush.h>

#include "pciem.h"
#include "pciem_arch.h"
#include "insn/pciem_insn.h"
#include "insn_arm64/pciem_a64.h"

/* ---- the host bridge ---------------------------------------------------------- */

/*
 * pci_create_root_bus() leaves the domain to pci_bus_find_domain_nr(),
 * which on a devicetree machine hands out the next free number or, when
 * the firmware's host bridges carry linux,pci-domain (QEMU's virt does),
 * refuses a bridge without one. A host bridge of our own states the
 * domain instead.
 */
struct pci_bus *pciem_arch_create_root_bus(struct pciem_host *host,
					   struct pci_ops *ops,
					   struct list_head *resources)
{
	struct pci_host_bridge *bridge = pci_alloc_host_bridge(0);

	if (!bridge)
		return NULL;
	list_splice_init(resources, &bridge->windows);
	bridge->sysdata = host;
	bridge->ops = ops;
	bridge->domain_nr = host->domain;
	if (pci_scan_root_bus_bridge(bridge)) {
		pci_free_host_bridge(bridge);
		return NULL;
	}
	return bridge->bus;
}

struct pciem_host *pciem_arch_bus_host(const struct pci_bus *bus)
{
	return bus->sysdata;
}

/* ---- page tables ------------------------------------------------------------------ */

/*
 * TTBR1_EL1 carries the current ASID in bits 63:48 and, with 52-bit
 * physical addresses (Debian's 6.12: LPA2, 4K pages), PA bits 51:48 in
 * BADDR bits 5:2 (the inverse of phys_to_ttbr()). Masking with PHYS_MASK
 * alone let ASID bits into a 52-bit root, the 6.12 oops.
 */
static phys_addr_t ttbr_to_phys(u64 ttbr)
{
#ifdef CONFIG_ARM64_PA_BITS_52
	u64 baddr = ttbr & TTBR_BADDR_MASK_52;

	return (baddr & ~GENMASK_ULL(5, 0)) | ((baddr & GENMASK_ULL(5, 2)) << 46);
#else
	return ttbr & GENMASK_ULL(47, 1) & PAGE_MASK;
#endif
}

/*
 * pgd_offset_pgd() is what pgd_offset_k() does on init_mm->pgd. When the
 * CPU lacks 52-bit VA, 6.12 folds the PGD level at run time and
 * p4d_offset() re-aligns the pointer to the root page itself, so the
 * same walk serves 4 and 5 levels.
 */
static pgd_t *kernel_pgd(unsigned long addr)
{
	pgd_t *root = phys_to_virt(ttbr_to_phys(read_sysreg(ttbr1_el1)));

	return pgd_offset_pgd(root, addr);
}

bool pciem_arch_leaf_lookup(unsigned long addr, struct pciem_arch_leaf *leaf)
{
	pgd_t *pgdp = kernel_pgd(addr);
	p4d_t *p4dp;
	pud_t *pudp;
	pmd_t *pmdp;
	pte_t *ptep;

	if (pgd_none(READ_ONCE(*pgdp)))
		return false;
	p4dp = p4d_offset(pgdp, addr);
	if (p4d_none(READ_ONCE(*p4dp)))
		return false;
	pudp = pud_offset(p4dp, addr);
	if (pud_none(READ_ONCE(*pudp)))
		return false;
	if (pud_sect(READ_ONCE(*pudp))) {
		leaf->ptr = pudp;
		leaf->val = pud_val(READ_ONCE(*pudp));
		leaf->size = PUD_SIZE;
		return true;
	}
	pmdp = pmd_offset(pudp, addr);
	if (pmd_none(READ_ONCE(*pmdp)))
		return false;
	if (pmd_sect(READ_ONCE(*pmdp))) {
		leaf->ptr = pmdp;
		leaf->val = pmd_val(READ_ONCE(*pmdp));
		leaf->size = PMD_SIZE;
		return true;
	}
	ptep = pte_offset_kernel(pmdp, addr);
	if (!pte_present(READ_ONCE(*ptep)))
		return false;
	leaf->ptr = ptep;
	leaf->val = pte_val(READ_ONCE(*ptep));
	leaf->size = PAGE_SIZE;
	return true;
}

/*
 * Entries go invalid (or to the RAM page) before the broadcast TLB flush
 * the caller makes: break-before-make. A RAM page replaces the whole leaf
 * without the contiguous hint, so no stale contiguous range survives.
 */
void pciem_arch_leaf_trap(const struct pciem_arch_leaf *leaf, struct page *ram)
{
	switch (leaf->size) {
	case PUD_SIZE:
		set_pud(leaf->ptr, __pud(0));
		break;
	case PMD_SIZE:
		set_pmd(leaf->ptr, ram ? pfn_pmd(page_to_pfn(ram),
						 mk_pmd_sect_prot(PAGE_KERNEL)) :
					 __pmd(0));
		break;
	default:
		set_pte(leaf->ptr, ram ? pfn_pte(page_to_pfn(ram),
						 PAGE_KERNEL) :
					 __pte(0));
	}
}

/*
 * A valid block may not become a table while a TLB may hold it (the
 * architecture's break-before-make rule): invalidate, flush every CPU's
 * TLB (broadcast, so fine under the caller's spinlock), then install;
 * the flush's leading DSB also orders the table's entries before it.
 * pmd_populate_kernel() writes the descriptor as the kernel's own tables
 * have it on each version; a NULL mm because init_mm is not exported.
 */
void pciem_arch_leaf_split(const struct pciem_arch_leaf *leaf, void *table)
{
	set_pmd(leaf->ptr, __pmd(0));
	flush_tlb_all();
	pmd_populate_kernel(NULL, leaf->ptr, table);
}

void pciem_arch_leaf_restore(const struct pciem_arch_leaf *leaf)
{
	switch (leaf->size) {
	case PUD_SIZE:
		set_pud(leaf->ptr, __pud(leaf->val));
		break;
	case PMD_SIZE:
		/*
		 * A table of ours (or a RAM block) is valid and may be cached:
		 * break before making the block again.
		 */
		if (pmd_val(READ_ONCE(*(pmd_t *)leaf->ptr))) {
			set_pmd(leaf->ptr, __pmd(0));
			flush_tlb_all();
		}
		set_pmd(leaf->ptr, __pmd(leaf->val));
		break;
	default:
		if (pte_valid(READ_ONCE(*(pte_t *)leaf->ptr))) {
			set_pte(leaf->ptr, __pte(0));
			flush_tlb_all();
		}
		set_pte(leaf->ptr, __pte(leaf->val));
	}
	/* The entry was invalid: nothing cached it, only order the store. */
	dsb(ishst);
	isb();
}

void pciem_arch_flush_tlb_all(void)
{
	flush_tlb_all();	/* TLBI VMALLE1IS: every CPU of the system */
}

/* ---- the fault ------------------------------------------------------------------------ */

static void regs_in(const struct pt_regs *regs, struct pciem_a64_regs *r)
{
	memcpy(r->x, regs->regs, sizeof(r->x));
	r->sp = regs->sp;
	r->pc = regs->pc;
}

static void regs_out(const struct pciem_a64_regs *r, struct pt_regs *regs)
{
	memcpy(regs->regs, r->x, sizeof(r->x));
	regs->pc = r->pc;
}

/* The instruction word; fewer bytes if its page is unreadable. */
static size_t fetch_insn(unsigned long pc, u8 *buf)
{
	return copy_from_kernel_nofault(buf, (void *)pc, PCIEM_A64_INSN_LEN) ?
	       0 : PCIEM_A64_INSN_LEN;
}

/*
 * What the access is: the syndrome when the CPU gave one, else the
 * decoder. Writeback to SP is refused: an EL1 exception return restores
 * SP by unwinding its frame, not from pt_regs, so it could not be honoured.
 */
static int describe(const u8 *buf, size_t n, unsigned long esr,
		    struct pciem_a64_insn *insn)
{
	int ret = pciem_a64_from_syndrome(esr & ESR_ELx_ISS_MASK, insn);

	if (ret)
		ret = pciem_a64_decode(buf, n, insn);
	if (!ret && insn->rn == PCIEM_A64_SP &&
	    (insn->mode == PCIEM_A64_PRE || insn->mode == PCIEM_A64_POST))
		ret = PCIEM_A64_EUNPREDICTABLE;
	return ret;
}

/* Does the decoded access cover the address the hardware reported? */
static bool ea_matches(const struct pciem_a64_insn *insn,
		       const struct pciem_a64_regs *r, unsigned long far)
{
	u64 ea = pciem_a64_ea(insn, r, far);

	return far >= ea && far < ea + insn->width * (insn->pair ? 2 : 1);
}

static const struct pciem_a64_ops fault_ops = {
	.read = pciem_trap_read,
	.write = pciem_trap_write,
};

/*
 * Runs instead of do_bad_area() for data aborts on trapped mappings, with
 * its arguments, in the faulting context: el1_abort() has already put the
 * interrupt mask back as the faulting code had it.
 */
static void pciem_mmio_fault(unsigned long far, unsigned long esr,
			     struct pt_regs *regs)
{
	struct pciem_trap_ctx ctx = { 0 };
	struct pciem_a64_insn insn;
	struct pciem_a64_regs r;
	u8 buf[PCIEM_A64_INSN_LEN];
	size_t n;
	int ret;

	n = fetch_insn(regs->pc, buf);
	ret = describe(buf, n, esr, &insn);
	regs_in(regs, &r);
	if (!ret && !ea_matches(&insn, &r, far))
		ret = PCIEM_A64_EINVAL;
	if (ret) {
		pciem_trap_refused(regs->pc, buf, n, pciem_a64_strerror(ret),
				   far);
		regs->pc += PCIEM_A64_INSN_LEN;
		return;
	}

	ctx.abort = in_nmi();
	ctx.insn = insn.load ? PCIEM_INSN_LOAD : PCIEM_INSN_STORE;
	ctx.may_sleep = !ctx.abort && !(regs->pstate & PSR_I_BIT) &&
			!faulthandler_disabled() && !in_interrupt();
	ret = pciem_a64_emulate(&insn, &r, far, &fault_ops, &ctx);
	if (ret) {
		/* A pair's other half in RAM could not be reached. */
		pr_err_ratelimited("%s: %*ph at %pS: the non-device operand is not accessible (error %d): instruction skipped\n",
				   ctx.fn ? ctx.fn->name : "?", (int)n, buf,
				   (void *)regs->pc, ret);
		regs->pc += PCIEM_A64_INSN_LEN;
	} else {
		regs_out(&r, regs);
	}
	pciem_trap_done(&ctx);
}

/* do_bad_area(far, esr, regs): a kernel data abort on one of ours? */
static int fault_pre(struct kprobe *p, struct pt_regs *kregs)
{
	unsigned long far = kregs->regs[0], esr = kregs->regs[1];
	struct pt_regs *regs = (struct pt_regs *)kregs->regs[2];

	if (ESR_ELx_EC(esr) != ESR_ELx_EC_DABT_CUR || user_mode(regs) ||
	    !pciem_trap_owns(far))
		return 0;
	instruction_pointer_set(kregs, (unsigned long)pciem_mmio_fault);
	return 1;
}

struct kprobe pciem_arch_fault_probe = {
	.symbol_name = "do_bad_area",
	.pre_handler = fault_pre,
};
