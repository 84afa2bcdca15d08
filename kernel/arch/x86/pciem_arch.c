// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * x86-64 behind the architecture interface (kernel/pciem_arch.h).
 *
 * The fault: a kprobe on bad_area_nosemaphore(), the point where the x86
 * fault handler gives up on a kernel address. For trapped ranges it
 * redirects the call to pciem_mmio_fault(), which has the same arguments,
 * decodes the instruction with kernel/insn, performs it and returns past
 * it. Setting the probe's ip to a function with the same arguments is how
 * ftrace-based kprobes replace a call (the mechanism livepatch uses).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/uaccess.h>
#include <asm/pgtable.h>
#include <asm/tlbflush.h>

#include "pciem.h"
#include "pciem_arch.h"
#include "insn/pciem_insn.h"
#include "insn/pciem_insn_len.h"

/* ---- the host bridge ---------------------------------------------------------- */

struct pci_bus *pciem_arch_create_root_bus(struct pciem_host *host,
					   struct pci_ops *ops,
					   struct list_head *resources)
{
	host->arch.sysdata.domain = host->domain;
	host->arch.sysdata.node = NUMA_NO_NODE;
	return pci_create_root_bus(NULL, 0, ops, &host->arch.sysdata, resources);
}

struct pciem_host *pciem_arch_bus_host(const struct pci_bus *bus)
{
	return container_of(bus->sysdata, struct pciem_host, arch.sysdata);
}

/* ---- page tables ------------------------------------------------------------------ */

bool pciem_arch_leaf_lookup(unsigned long addr, struct pciem_arch_leaf *leaf)
{
	unsigned int level;
	pte_t *pte = lookup_address(addr, &level);

	if (!pte || !pte_present(*pte))
		return false;
	leaf->ptr = pte;
	leaf->val = pte_val(*pte);
	leaf->size = level == PG_LEVEL_1G ? PUD_SIZE :
		     level == PG_LEVEL_2M ? PMD_SIZE : PAGE_SIZE;
	return true;
}

void pciem_arch_leaf_trap(const struct pciem_arch_leaf *leaf, struct page *ram)
{
	switch (leaf->size) {
	case PUD_SIZE:
		set_pud(leaf->ptr, __pud(0));
		break;
	case PMD_SIZE:
		set_pmd(leaf->ptr, ram ? pfn_pmd(page_to_pfn(ram),
						 PAGE_KERNEL_LARGE) :
					 __pmd(0));
		break;
	default:
		set_pte(leaf->ptr, ram ? pfn_pte(page_to_pfn(ram),
						 PAGE_KERNEL) :
					 __pte(0));
	}
}

/*
 * As the kernel's own tables below a kernel PMD. No paravirt hook: a
 * Xen PV guest, which would want the table registered, is not a host
 * PCIem runs on.
 */
void pciem_arch_leaf_split(const struct pciem_arch_leaf *leaf, void *table)
{
	set_pmd(leaf->ptr, __pmd(__pa(table) | _KERNPG_TABLE));
}

void pciem_arch_leaf_restore(const struct pciem_arch_leaf *leaf)
{
	switch (leaf->size) {
	case PUD_SIZE:
		set_pud(leaf->ptr, __pud(leaf->val));
		break;
	case PMD_SIZE:
		set_pmd(leaf->ptr, __pmd(leaf->val));
		break;
	default:
		set_pte(leaf->ptr, __pte(leaf->val));
	}
}

static void flush_local(void *unused)
{
	__flush_tlb_all();
}

/* flush_tlb_all() is not exported; __flush_tlb_all() is, and is local. */
void pciem_arch_flush_tlb_all(void)
{
	on_each_cpu(flush_local, NULL, 1);
}

/* ---- the fault ------------------------------------------------------------------------ */

/* pt_regs keeps GPRs in its own order; the emulator wants encoding order. */
static unsigned long *gpr_slot(struct pt_regs *regs, unsigned int n)
{
	switch (n) {
	case PCIEM_RAX: return &regs->ax;
	case PCIEM_RCX: return &regs->cx;
	case PCIEM_RDX: return &regs->dx;
	case PCIEM_RBX: return &regs->bx;
	case PCIEM_RSP: return &regs->sp;
	case PCIEM_RBP: return &regs->bp;
	case PCIEM_RSI: return &regs->si;
	case PCIEM_RDI: return &regs->di;
	case PCIEM_R8: return &regs->r8;
	case PCIEM_R9: return &regs->r9;
	case PCIEM_R10: return &regs->r10;
	case PCIEM_R11: return &regs->r11;
	case PCIEM_R12: return &regs->r12;
	case PCIEM_R13: return &regs->r13;
	case PCIEM_R14: return &regs->r14;
	default: return &regs->r15;
	}
}

static void regs_in(struct pt_regs *regs, struct pciem_insn_regs *r)
{
	unsigned int i;

	for (i = 0; i < PCIEM_NR_GPRS; i++)
		r->gpr[i] = *gpr_slot(regs, i);
	r->rip = regs->ip;
	r->rflags = regs->flags;
}

static void regs_out(const struct pciem_insn_regs *r, struct pt_regs *regs)
{
	unsigned int i;

	/* RSP is the kernel stack of the faulting context: never ours. */
	for (i = 0; i < PCIEM_NR_GPRS; i++)
		if (i != PCIEM_RSP)
			*gpr_slot(regs, i) = r->gpr[i];
	regs->ip = r->rip;
}

/* Copy up to 15 instruction bytes, stopping at an unreadable page. */
static size_t fetch_insn(unsigned long ip, u8 *buf)
{
	size_t n;

	for (n = 0; n < PCIEM_INSN_MAX_LEN; n++)
		if (copy_from_kernel_nofault(&buf[n], (void *)(ip + n), 1))
			break;
	return n;
}

/* Does the decoder agree with the hardware about the address? */
static bool ea_matches(const struct pciem_insn *insn,
		       const struct pciem_insn_regs *r, unsigned long address)
{
	u64 ea = pciem_insn_ea(insn, r);

	if (address >= ea && address < ea + insn->width)
		return true;
	if (insn->kind == PCIEM_INSN_MOVS) {
		ea = r->gpr[PCIEM_RDI];
		return address >= ea && address < ea + insn->width;
	}
	return false;
}

static const struct pciem_insn_ops fault_ops = {
	.read = pciem_trap_read,
	.write = pciem_trap_write,
};

/*
 * Runs instead of bad_area_nosemaphore() for faults on trapped mappings,
 * with its arguments, in the faulting context (interrupts off, as the
 * exception entry left them, until it turns them back on).
 */
static void pciem_mmio_fault(struct pt_regs *regs, unsigned long error_code,
			     unsigned long address)
{
	struct pciem_trap_ctx ctx = { 0 };
	struct pciem_insn_regs r;
	struct pciem_insn insn;
	u8 buf[PCIEM_INSN_MAX_LEN];
	size_t avail;
	bool irqs_on;
	int ret, len;

	avail = fetch_insn(regs->ip, buf);
	ret = pciem_insn_decode(buf, avail, &insn);
	regs_in(regs, &r);
	if (!ret && !ea_matches(&insn, &r, address))
		ret = PCIEM_INSN_EINVAL;
	if (ret) {
		pciem_trap_refused(regs->ip, buf, avail,
				   pciem_insn_strerror(ret), address);
		/* fault_pre() made sure the length is known. */
		len = pciem_insn_length(buf, avail);
		if (len > 0)
			regs->ip += len;
		return;
	}

	ctx.abort = in_nmi();
	ctx.insn = insn.kind;
	/*
	 * Sleep for a slow model only where the faulting code could have
	 * slept itself, exactly the rule the fault handler applies to
	 * kernel accesses of user memory.
	 */
	ctx.may_sleep = !ctx.abort && (regs->flags & X86_EFLAGS_IF) &&
			!faulthandler_disabled() && !in_interrupt();
	/*
	 * Interrupts back on for the wait wherever the faulting code ran
	 * with them on, sleeping or not (an interrupt could have come just
	 * before the instruction all the same; arm64's entry code does
	 * this for every abort). A CPU spinning for the model with them
	 * off blocks IPIs, and the model may be waiting for one: a TLB
	 * shootdown when its DMA window is zapped, or its own munmap().
	 */
	irqs_on = !ctx.abort && (regs->flags & X86_EFLAGS_IF);
	if (irqs_on)
		local_irq_enable();
	ret = pciem_insn_emulate(&insn, &r, &fault_ops, &ctx);
	if (irqs_on)
		local_irq_disable();
	regs_out(&r, regs);
	if (ret) {
		/* Only the RAM side can fail; never re-execute a trapped access. */
		pr_err_ratelimited("%s: %*ph at %pS: the non-device operand at %#llx is not accessible (error %d): instruction skipped\n",
				   ctx.fn ? ctx.fn->name : "?", (int)avail, buf,
				   (void *)regs->ip, r.gpr[PCIEM_RDI], ret);
		regs->ip = r.rip == regs->ip ? regs->ip + insn.len : r.rip;
	}
	pciem_trap_done(&ctx);
}

/*
 * bad_area_nosemaphore(regs, error_code, address): for our addresses,
 * run pciem_mmio_fault() in its place.
 */
static int fault_pre(struct kprobe *p, struct pt_regs *kregs)
{
	struct pt_regs *regs = (struct pt_regs *)kregs->di;
	unsigned long address = kregs->dx;
	struct pciem_insn insn;
	u8 buf[PCIEM_INSN_MAX_LEN];
	size_t avail;

	if (user_mode(regs) || !pciem_trap_owns(address))
		return 0;
	/*
	 * An instruction we can neither emulate nor skip (its length is
	 * unknown: VEX/EVEX encodings, say) is left to the kernel's own
	 * handling of a bad kernel access, after saying why.
	 */
	avail = fetch_insn(regs->ip, buf);
	if (pciem_insn_decode(buf, avail, &insn) &&
	    pciem_insn_length(buf, avail) <= 0) {
		pr_crit("instruction %*ph at %pS touches trapped MMIO at %#lx and can be neither emulated nor skipped\n",
			(int)avail, buf, (void *)regs->ip, address);
		return 0;
	}
	kregs->ip = (unsigned long)pciem_mmio_fault;
	return 1;
}

struct kprobe pciem_arch_fault_probe = {
	.symbol_name = "bad_area_nosemaphore",
	.pre_handler = fault_pre,
};
