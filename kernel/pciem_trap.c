// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * MMIO trapping: every kernel mapping of PCIem's BAR windows is made
 * non-present, and the resulting page faults are emulated against the
 * device model.
 *
 * Three probes do the work, on symbols that exist on Debian's 6.1 and
 * 6.12 kernels and are not on the kprobe blacklist:
 *  - a kretprobe on ioremap_page_range(), which every ioremap flavour
 *    (ioremap, _wc, _uc, _cache, _prot, pci_iomap, devm_*) funnels into:
 *    once a range of our windows is mapped, its entries (4 KiB PTEs, or a
 *    2 MiB/1 GiB leaf when ioremap used a huge mapping) are saved and
 *    cleared and every CPU's TLB is flushed, before ioremap returns;
 *  - a kprobe on iounmap(), which puts the saved entries back before
 *    the mapping is torn down, so vunmap finds what it expects;
 *  - a kprobe on bad_area_nosemaphore(), the point where the x86 fault
 *    handler gives up on a kernel address: for our ranges it redirects the
 *    call to pciem_mmio_fault(), which has the same arguments, decodes the
 *    faulting instruction, performs it through the device model, writes
 *    back the registers and returns past the instruction. Nothing is
 *    single-stepped, so no other CPU can slip an access past the trap.
 *
 * The trap table is an RCU list: the fault path may run in any context.
 * A map is listed before its entries are cleared and its entries are
 * restored before it is unlisted, so a fault on a non-present entry
 * always finds its map (and a fault that races with iounmap finds a
 * present entry, which the fault handler already treats as spurious).
 *
 * Two more probes keep userspace from mapping trapped BARs, where it
 * would silently see nothing: sysfs resourceN/proc mmap and /dev/mem are
 * refused with a log line saying why.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/rculist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/pgtable.h>
#include <asm/tlbflush.h>

#include "pciem.h"
#include "insn/pciem_insn.h"
#include "insn/pciem_insn_len.h"

/**
 * struct trap_entry - one page-table leaf we changed
 * @ptr:	the entry (a PTE, or a PMD/PUD for huge ioremap mappings)
 * @val:	its value before we changed it
 * @level:	PG_LEVEL_4K, PG_LEVEL_2M or PG_LEVEL_1G
 * @ram:	for a RAM BAR, the page it now maps instead of being cleared
 * @fn:		the function owning @ram, referenced while mapped
 */
struct trap_entry {
	void *ptr;
	unsigned long val;
	unsigned int level;
	struct page *ram;
	struct pciem_function *fn;
};

/**
 * struct trap_map - one ioremap of (part of) a PCIem window
 * @node:	in trap_maps
 * @rcu:	freed after a grace period: faults walk the list locklessly
 * @va:		page-aligned start of the mapping
 * @end:	its end
 * @phys:	physical address at @va
 * @nent:	entries in @ent
 * @ent:	the cleared entries
 */
struct trap_map {
	struct list_head node;
	struct rcu_head rcu;
	unsigned long va;
	unsigned long end;
	phys_addr_t phys;
	unsigned int nent;
	struct trap_entry ent[];
};

static LIST_HEAD(trap_maps);
/* Serialises changes to trap_maps (readers use RCU); a leaf. */
static DEFINE_SPINLOCK(trap_write_lock);
static struct pciem_host *trap_host;

/* ---- the trap table ----------------------------------------------------- */

/* Caller holds rcu_read_lock(). */
static struct trap_map *trap_lookup(unsigned long addr)
{
	struct trap_map *map;

	list_for_each_entry_rcu(map, &trap_maps, node)
		if (addr >= map->va && addr < map->end)
			return map;
	return NULL;
}

static bool phys_in_windows(phys_addr_t start, phys_addr_t end)
{
	struct pciem_host *host = trap_host;

	if (start < host->win64->end && end > host->win64->start)
		return true;
	return host->win32.parent && start < host->win32.end &&
	       end > host->win32.start;
}

static void flush_local(void *unused)
{
	__flush_tlb_all();
}

static unsigned long level_size(unsigned int level)
{
	return level == PG_LEVEL_1G ? PUD_SIZE :
	       level == PG_LEVEL_2M ? PMD_SIZE : PAGE_SIZE;
}

/* Trap the leaf, or point it at the shared pages of a RAM BAR. */
static void clear_entry(struct trap_entry *e)
{
	switch (e->level) {
	case PG_LEVEL_1G:
		set_pud(e->ptr, __pud(0));
		break;
	case PG_LEVEL_2M:
		set_pmd(e->ptr, e->ram ? pfn_pmd(page_to_pfn(e->ram),
						 PAGE_KERNEL_LARGE) :
					 __pmd(0));
		break;
	default:
		set_pte(e->ptr, e->ram ? pfn_pte(page_to_pfn(e->ram),
						 PAGE_KERNEL) :
					 __pte(0));
	}
}

/*
 * Does the leaf at @phys belong to a RAM BAR? Then remember the page it
 * must map, keeping the function (and so the page) alive meanwhile.
 */
static void find_ram(struct trap_entry *e, phys_addr_t phys)
{
	struct pciem_function *fn;
	unsigned int bar;
	u64 off;

	fn = pciem_function_find_bar(trap_host, phys, &bar, &off);
	if (!fn)
		return;
	if (fn->cfg.bar_flags[bar] & PCIEM_BAR_RAM) {
		if (e->level != PG_LEVEL_1G)
			e->ram = pciem_rambar_page(fn, bar, off,
						   e->level == PG_LEVEL_2M);
		if (e->ram) {
			e->fn = fn;
			return;
		}
		pr_warn_ratelimited("%s: RAM BAR%u mapped with a huge page that spans more than the BAR: trapping it instead\n",
				    fn->name, bar);
	}
	pciem_function_put(fn);
}

static void restore_entry(struct trap_entry *e)
{
	switch (e->level) {
	case PG_LEVEL_1G:
		set_pud(e->ptr, __pud(e->val));
		break;
	case PG_LEVEL_2M:
		set_pmd(e->ptr, __pmd(e->val));
		break;
	default:
		set_pte(e->ptr, __pte(e->val));
	}
}

/*
 * Trap [va, end), just mapped to @phys. Runs in ioremap's return path,
 * before the caller can touch the mapping.
 */
static void trap_arm(unsigned long va, unsigned long end, phys_addr_t phys)
{
	unsigned int level, n = 0, max;
	struct trap_map *map;
	unsigned long a;
	pte_t *pte;

	max = (end - va) >> PAGE_SHIFT;
	map = kzalloc(struct_size(map, ent, max), GFP_ATOMIC);
	if (!map) {
		pr_err("no memory to trap the mapping of %pa: accesses will not reach the model\n",
		       &phys);
		return;
	}
	map->va = va;
	map->end = end;
	map->phys = phys;
	for (a = va; a < end && n < max; a += level_size(level)) {
		pte = lookup_address(a, &level);
		if (!pte || !pte_present(*pte)) {
			level = PG_LEVEL_4K;
			continue;
		}
		map->ent[n].ptr = pte;
		map->ent[n].val = pte_val(*pte);
		map->ent[n].level = level;
		find_ram(&map->ent[n], phys + (a - va));
		n++;
	}
	map->nent = n;

	spin_lock(&trap_write_lock);
	list_add_rcu(&map->node, &trap_maps);
	for (level = 0; level < n; level++)
		clear_entry(&map->ent[level]);
	spin_unlock(&trap_write_lock);
	/* A translation still cached anywhere would let an access escape. */
	on_each_cpu(flush_local, NULL, 1);
}

/* Undo trap_arm() for the mapping that starts at @va, if it is ours. */
static void trap_disarm(unsigned long va)
{
	struct trap_map *map, *found = NULL;
	unsigned int i;

	spin_lock(&trap_write_lock);
	list_for_each_entry(map, &trap_maps, node) {
		if (map->va == va) {
			found = map;
			break;
		}
	}
	if (found) {
		for (i = 0; i < found->nent; i++)
			restore_entry(&found->ent[i]);
		list_del_rcu(&found->node);
	}
	spin_unlock(&trap_write_lock);
	if (!found)
		return;
	for (i = 0; i < found->nent; i++)
		if (found->ent[i].fn)
			pciem_function_put(found->ent[i].fn);
	kfree_rcu(found, rcu);
}

/* ---- probes on the mapping functions ------------------------------------ */

struct ioremap_args {
	unsigned long addr;
	unsigned long end;
	phys_addr_t phys;
};

/* ioremap_page_range(addr, end, phys_addr, prot) */
static int ioremap_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct ioremap_args *args = (void *)ri->data;

	args->addr = regs->di;
	args->end = regs->si;
	args->phys = regs->dx;
	/* Not our window: no need to see the return. */
	return phys_in_windows(args->phys, args->phys + (args->end - args->addr)) ?
	       0 : 1;
}

static int ioremap_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct ioremap_args *args = (void *)ri->data;

	if (regs_return_value(regs) == 0)
		trap_arm(args->addr, args->end, args->phys);
	return 0;
}

static struct kretprobe ioremap_probe = {
	.kp.symbol_name = "ioremap_page_range",
	.entry_handler = ioremap_entry,
	.handler = ioremap_return,
	.data_size = sizeof(struct ioremap_args),
	.maxactive = 64,
};

/* iounmap(addr): restore before the teardown walks the page tables. */
static int iounmap_pre(struct kprobe *p, struct pt_regs *regs)
{
	trap_disarm(regs->di & PAGE_MASK);
	return 0;
}

static struct kprobe iounmap_probe = {
	.symbol_name = "iounmap",
	.pre_handler = iounmap_pre,
};

/* ---- the fault -------------------------------------------------------------- */

struct fault_ctx {
	bool may_sleep;
	bool abort;		/* NMI: complete every device access as all-ones */
	u8 insn;		/* enum pciem_insn_kind, for the trace */
	struct pciem_function *fn;	/* last device touched, for log lines */
};

static u64 all_ones(unsigned int size)
{
	return size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/*
 * Resolve a trapped virtual address to the function, BAR and offset it
 * reaches. Returns a referenced function, or NULL if nothing decodes the
 * address (a master abort).
 */
static struct pciem_function *resolve(u64 addr, unsigned int *bar, u64 *off,
				      bool *trapped)
{
	struct trap_map *map;
	phys_addr_t phys;

	rcu_read_lock();
	map = trap_lookup(addr);
	if (map)
		phys = map->phys + (addr - map->va);
	rcu_read_unlock();
	*trapped = map != NULL;
	if (!map)
		return NULL;
	return pciem_function_find_bar(trap_host, phys, bar, off);
}

/*
 * Keep the first function an instruction touched for log lines (its
 * reference is dropped when the fault is done); drop any other at once.
 */
static void keep_fn(struct fault_ctx *ctx, struct pciem_function *fn)
{
	if (!fn)
		return;
	if (!ctx->fn)
		ctx->fn = fn;
	else
		pciem_function_put(fn);
}

static int fault_read(void *opaque, uint64_t addr, unsigned int size,
		      uint64_t *val)
{
	struct fault_ctx *ctx = opaque;
	struct pciem_function *fn;
	unsigned int bar;
	bool trapped;
	u64 off;

	fn = resolve(addr, &bar, &off, &trapped);
	if (!trapped) {
		/* The RAM side of a MOVS. */
		*val = 0;
		return copy_from_kernel_nofault(val, (void *)addr, size) ?
		       -EFAULT : 0;
	}
	*val = all_ones(size);
	if (fn && !ctx->abort) {
		struct pciem_mmio a = {
			.bar = bar, .off = off, .size = size,
			.may_sleep = ctx->may_sleep, .insn = ctx->insn,
		};

		pciem_function_mmio(fn, &a, val);
	}
	keep_fn(ctx, fn);
	return 0;
}

/*
 * Store to the RAM side of a MOVS. copy_to_kernel_nofault() is not
 * exported; __put_kernel_nofault() is the same exception-table store.
 */
static int ram_store(u64 addr, unsigned int size, u64 val)
{
	void *dst = (void *)addr;
	u8 v8 = val;
	u16 v16 = val;
	u32 v32 = val;

	if (addr < TASK_SIZE_MAX)
		return -EFAULT;	/* user memory: not a place drivers copy MMIO to */
	switch (size) {
	case 1:
		__put_kernel_nofault(dst, &v8, u8, fault);
		break;
	case 2:
		__put_kernel_nofault(dst, &v16, u16, fault);
		break;
	case 4:
		__put_kernel_nofault(dst, &v32, u32, fault);
		break;
	default:
		__put_kernel_nofault(dst, &val, u64, fault);
	}
	return 0;
fault:
	return -EFAULT;
}

static int fault_write(void *opaque, uint64_t addr, unsigned int size,
		       uint64_t val)
{
	struct fault_ctx *ctx = opaque;
	struct pciem_function *fn;
	unsigned int bar;
	bool trapped;
	u64 off;

	fn = resolve(addr, &bar, &off, &trapped);
	if (!trapped)
		return ram_store(addr, size, val);
	if (fn && !ctx->abort) {
		struct pciem_mmio a = {
			.bar = bar, .off = off, .size = size, .write = true,
			.may_sleep = ctx->may_sleep, .insn = ctx->insn,
		};

		pciem_function_mmio(fn, &a, &val);
	}
	keep_fn(ctx, fn);
	return 0;
}

static const struct pciem_insn_ops fault_ops = {
	.read = fault_read,
	.write = fault_write,
};

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

static const char *driver_name(struct pciem_function *fn)
{
	/* Best effort, for a log line; the driver may be going away. */
	return fn ? fn->name : "?";
}

/*
 * The instruction cannot be emulated. Never guess: log it loudly and skip
 * it as an access that master-aborted (registers untouched: the decoder
 * does not know what a refused instruction would have written).
 */
static bool refuse(struct pt_regs *regs, const u8 *buf, size_t avail,
		   int why, unsigned long address, int len)
{
	struct pciem_function *fn;
	unsigned int bar;
	bool trapped;
	u64 off;

	fn = resolve(address, &bar, &off, &trapped);
	pr_err_ratelimited("%s: cannot emulate instruction %*ph at %pS (error %d) accessing %#lx (BAR%u+%#llx): completed as a master abort\n",
			   driver_name(fn), (int)avail, buf, (void *)regs->ip,
			   why, address, fn ? bar : 0, fn ? off : 0);
	if (fn) {
		WRITE_ONCE(fn->ring.hdr->stats.refused_insns,
			   fn->ring.hdr->stats.refused_insns + 1);
		pciem_function_put(fn);
	}
	if (len <= 0)
		return false;
	regs->ip += len;
	return true;
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

/*
 * Runs instead of bad_area_nosemaphore() for faults on trapped mappings,
 * with its arguments, in the faulting context (interrupts off, as the
 * exception entry left them).
 */
static void pciem_mmio_fault(struct pt_regs *regs, unsigned long error_code,
			     unsigned long address)
{
	struct fault_ctx ctx = { 0 };
	struct pciem_insn_regs r;
	struct pciem_insn insn;
	u8 buf[PCIEM_INSN_MAX_LEN];
	size_t avail;
	int ret;

	avail = fetch_insn(regs->ip, buf);
	ret = pciem_insn_decode(buf, avail, &insn);
	regs_in(regs, &r);
	if (!ret && !ea_matches(&insn, &r, address))
		ret = PCIEM_INSN_EINVAL;
	if (ret) {
		/* fault_pre() made sure the length is known. */
		refuse(regs, buf, avail, ret, address,
		       pciem_insn_length(buf, avail));
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
	if (ctx.may_sleep)
		local_irq_enable();
	ret = pciem_insn_emulate(&insn, &r, &fault_ops, &ctx);
	if (ctx.may_sleep)
		local_irq_disable();
	regs_out(&r, regs);
	if (ret) {
		/* Only the RAM side can fail; never re-execute a trapped access. */
		pr_err_ratelimited("%s: %*ph at %pS: the non-device operand at %#llx is not accessible (error %d): instruction skipped\n",
				   driver_name(ctx.fn), (int)avail, buf,
				   (void *)regs->ip, r.gpr[PCIEM_RDI], ret);
		regs->ip = r.rip == regs->ip ? regs->ip + insn.len : r.rip;
	}
	if (ctx.fn)
		pciem_function_put(ctx.fn);
}

/*
 * bad_area_nosemaphore(regs, error_code, address): for our addresses,
 * run pciem_mmio_fault() in its place. Setting the probe's ip to a
 * function with the same arguments is how ftrace-based kprobes replace a
 * call (the same mechanism livepatch uses).
 */
static int fault_pre(struct kprobe *p, struct pt_regs *kregs)
{
	struct pt_regs *regs = (struct pt_regs *)kregs->di;
	unsigned long address = kregs->dx;
	struct pciem_insn insn;
	u8 buf[PCIEM_INSN_MAX_LEN];
	size_t avail;
	bool ours;

	if (user_mode(regs))
		return 0;
	rcu_read_lock();
	ours = trap_lookup(address) != NULL;
	rcu_read_unlock();
	if (!ours)
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

static struct kprobe fault_probe = {
	.symbol_name = "bad_area_nosemaphore",
	.pre_handler = fault_pre,
};

/* ---- userspace mappings of trapped BARs ---------------------------------- */

/* pci_mmap_resource_range(pdev, bar, vma, mmap_state, write_combine) */
static int pciem_refuse_mmap(struct pci_dev *pdev, int bar,
			     struct vm_area_struct *vma, int mmap_state,
			     int write_combine)
{
	pr_warn_ratelimited("%s: %s (pid %d) tried to mmap BAR%d from userspace: refused, PCIem BARs are trapped and only reachable through kernel mappings\n",
			    pci_name(pdev), current->comm,
			    task_tgid_nr(current), bar);
	return -EPERM;
}

static int mmap_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct pci_dev *pdev = (struct pci_dev *)regs->di;

	if (!trap_host || pdev->bus != trap_host->bus)
		return 0;
	regs->ip = (unsigned long)pciem_refuse_mmap;
	return 1;
}

static struct kprobe mmap_probe = {
	.symbol_name = "pci_mmap_resource_range",
	.pre_handler = mmap_pre,
};

/*
 * devmem_is_allowed(pagenr): /dev/mem never reaches our windows. Not
 * logged: the resource code also asks this whenever a driver claims a
 * region (to revoke /dev/mem mappings), which is no access at all.
 */
static int pciem_devmem_refused(unsigned long pagenr)
{
	return 0;
}

static int devmem_pre(struct kprobe *p, struct pt_regs *regs)
{
	phys_addr_t pa = (phys_addr_t)regs->di << PAGE_SHIFT;

	if (!phys_in_windows(pa, pa + PAGE_SIZE))
		return 0;
	regs->ip = (unsigned long)pciem_devmem_refused;
	return 1;
}

static struct kprobe devmem_probe = {
	.symbol_name = "devmem_is_allowed",
	.pre_handler = devmem_pre,
};

/* ---- debugfs: what is trapped right now ----------------------------------- */

/*
 * /sys/kernel/debug/pciem/traps: one line per trapped mapping with how
 * many leaves of each size it cleared or pointed at RAM BAR pages.
 */
static int traps_show(struct seq_file *m, void *unused)
{
	struct trap_map *map;
	unsigned int i, n[3], ram;

	rcu_read_lock();
	list_for_each_entry_rcu(map, &trap_maps, node) {
		n[0] = n[1] = n[2] = ram = 0;
		for (i = 0; i < map->nent; i++) {
			n[map->ent[i].level == PG_LEVEL_1G ? 2 :
			  map->ent[i].level == PG_LEVEL_2M ? 1 : 0]++;
			ram += map->ent[i].ram != NULL;
		}
		seq_printf(m, "%p-%p phys %pa 4K %u 2M %u 1G %u ram %u\n",
			   (void *)map->va, (void *)map->end, &map->phys,
			   n[0], n[1], n[2], ram);
	}
	rcu_read_unlock();
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(traps);

/* ---- setup -------------------------------------------------------------------- */

int pciem_trap_init(struct pciem_host *host)
{
	int ret;

	trap_host = host;
	ret = register_kprobe(&fault_probe);
	if (ret) {
		pr_err("cannot probe bad_area_nosemaphore (%d): MMIO trapping needs kprobes on the fault path\n",
		       ret);
		return ret;
	}
	ret = register_kprobe(&iounmap_probe);
	if (ret)
		goto err_fault;
	ret = register_kretprobe(&ioremap_probe);
	if (ret)
		goto err_iounmap;
	/* Best effort: without these, userspace mmaps are merely useless. */
	if (register_kprobe(&mmap_probe))
		mmap_probe.addr = NULL;
	if (register_kprobe(&devmem_probe))
		devmem_probe.addr = NULL;
	debugfs_create_file("traps", 0400, pciem_debugfs, NULL, &traps_fops);
	return 0;

err_iounmap:
	unregister_kprobe(&iounmap_probe);
err_fault:
	unregister_kprobe(&fault_probe);
	pr_err("cannot probe the ioremap family (%d)\n", ret);
	return ret;
}

void pciem_trap_exit(void)
{
	if (devmem_probe.addr)
		unregister_kprobe(&devmem_probe);
	if (mmap_probe.addr)
		unregister_kprobe(&mmap_probe);
	unregister_kretprobe(&ioremap_probe);
	/*
	 * No function exists any more, so every trapped mapping was iounmap'ed
	 * by its driver; one a driver leaked keeps its entries cleared, which
	 * is safe: an access to it oopses in the driver that leaked it.
	 */
	unregister_kprobe(&iounmap_probe);
	unregister_kprobe(&fault_probe);
	synchronize_rcu();
}
