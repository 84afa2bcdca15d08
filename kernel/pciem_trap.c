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
 *  - the architecture's hook on the point where its fault handler gives
 *    up on a kernel address (kernel/arch/$(SRCARCH)/pciem_arch.c): for our
 *    ranges it decodes the faulting instruction, performs it through
 *    pciem_trap_read()/pciem_trap_write() below, writes back the registers
 *    and returns past the instruction. Nothing is single-stepped, so no
 *    other CPU can slip an access past the trap.
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

#include "pciem.h"
#include "pciem_arch.h"

/**
 * struct trap_entry - one page-table leaf we changed
 * @leaf:	the entry and its value before we changed it
 * @ram:	for a RAM BAR, the page it now maps instead of being cleared
 * @split:	for a 2 MiB leaf over pinned pages (PCIEM_IOC_BAR_BACKING),
 *		the page slots a table of our own maps, NULL ones trapped
 * @table:	that table, pointed to by the leaf's entry while armed
 * @fn:		the function owning @ram or @split, referenced while mapped
 */
struct trap_entry {
	struct pciem_arch_leaf leaf;
	struct page *ram;
	struct page **split;
	void *table;
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
	if (bar >= PCIEM_MAX_BARS) {
		/* The expansion ROM: always trapped, its reads go to the model. */
	} else if (fn->ram[bar].pinned) {
		if (e->leaf.size == PAGE_SIZE)
			e->ram = pciem_rambar_page(fn, bar, off, false);
		else if (e->leaf.size == PMD_SIZE)
			e->split = pciem_rambar_chunk(fn, bar, off);
		if (e->ram || e->split) {
			e->fn = fn;
			return;
		}
	} else if (fn->cfg.bar_flags[bar] & PCIEM_BAR_RAM) {
		if (e->leaf.size <= PMD_SIZE)
			e->ram = pciem_rambar_page(fn, bar, off,
						   e->leaf.size == PMD_SIZE);
		if (e->ram) {
			e->fn = fn;
			return;
		}
		pr_warn_ratelimited("%s: RAM BAR%u mapped with a huge page that spans more than the BAR: trapping it instead\n",
				    fn->name, bar);
	}
	pciem_function_put(fn);
}

/*
 * A 2 MiB leaf over pinned pages: a table of our own maps the backed ones
 * (as normal memory, like a RAM leaf) and leaves the rest trapped. Without
 * one (no memory) the whole leaf is trapped: slower, still correct.
 */
static void *table_make(struct page *const *pages)
{
	pte_t *table = (pte_t *)get_zeroed_page(GFP_ATOMIC);
	unsigned int i;

	if (!table)
		return NULL;
	for (i = 0; i < PTRS_PER_PTE; i++)
		if (pages[i])
			table[i] = pfn_pte(page_to_pfn(pages[i]), PAGE_KERNEL);
	return table;
}

static void split_table(struct trap_entry *e)
{
	e->table = table_make(e->split);
	if (e->table)
		return;
	pr_warn_ratelimited("%s: cannot split a 2 MiB mapping of a backed BAR into 4 KiB pages: trapping it instead\n",
			    e->fn->name);
	e->split = NULL;
	pciem_function_put(e->fn);
	e->fn = NULL;
}

/*
 * Trap [va, end), just mapped to @phys. Runs in ioremap's return path,
 * before the caller can touch the mapping.
 */
static void trap_arm(unsigned long va, unsigned long end, phys_addr_t phys)
{
	unsigned int i, n = 0, max;
	struct pciem_arch_leaf leaf;
	struct trap_map *map;
	unsigned long a;

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
	for (a = va; a < end && n < max; a += leaf.size) {
		if (!pciem_arch_leaf_lookup(a, &leaf)) {
			leaf.size = PAGE_SIZE;
			continue;
		}
		map->ent[n].leaf = leaf;
		find_ram(&map->ent[n], phys + (a - va));
		if (map->ent[n].split)
			split_table(&map->ent[n]);
		n++;
	}
	map->nent = n;

	spin_lock(&trap_write_lock);
	list_add_rcu(&map->node, &trap_maps);
	for (i = 0; i < n; i++) {
		if (map->ent[i].table)
			pciem_arch_leaf_split(&map->ent[i].leaf,
					      map->ent[i].table);
		else
			pciem_arch_leaf_trap(&map->ent[i].leaf,
					     map->ent[i].ram);
	}
	spin_unlock(&trap_write_lock);
	/* A translation still cached anywhere would let an access escape. */
	pciem_arch_flush_tlb_all();
}

/* Undo trap_arm() for the mapping that starts at @va, if it is ours. */
static void trap_disarm(unsigned long va)
{
	struct trap_map *map, *found = NULL;
	bool tables = false;
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
			pciem_arch_leaf_restore(&found->ent[i].leaf);
		list_del_rcu(&found->node);
	}
	spin_unlock(&trap_write_lock);
	if (!found)
		return;
	for (i = 0; i < found->nent; i++)
		tables |= found->ent[i].table != NULL;
	/* No CPU may still walk a table of ours when it is freed. */
	if (tables)
		pciem_arch_flush_tlb_all();
	for (i = 0; i < found->nent; i++) {
		if (found->ent[i].table)
			free_page((unsigned long)found->ent[i].table);
		if (found->ent[i].fn)
			pciem_function_put(found->ent[i].fn);
	}
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

	args->addr = regs_get_kernel_argument(regs, 0);
	args->end = regs_get_kernel_argument(regs, 1);
	args->phys = regs_get_kernel_argument(regs, 2);
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
	trap_disarm(regs_get_kernel_argument(regs, 0) & PAGE_MASK);
	return 0;
}

static struct kprobe iounmap_probe = {
	.symbol_name = "iounmap",
	.pre_handler = iounmap_pre,
};

/* ---- the fault: device and RAM accesses of an emulated instruction ---------- */

bool pciem_trap_owns(unsigned long addr)
{
	bool ours;

	rcu_read_lock();
	ours = trap_lookup(addr) != NULL;
	rcu_read_unlock();
	return ours;
}

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
static void keep_fn(struct pciem_trap_ctx *ctx, struct pciem_function *fn)
{
	if (!fn)
		return;
	if (!ctx->fn)
		ctx->fn = fn;
	else
		pciem_function_put(fn);
}

int pciem_trap_read(void *opaque, u64 addr, unsigned int size, u64 *val)
{
	struct pciem_trap_ctx *ctx = opaque;
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

int pciem_trap_write(void *opaque, u64 addr, unsigned int size, u64 val)
{
	struct pciem_trap_ctx *ctx = opaque;
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

void pciem_trap_done(struct pciem_trap_ctx *ctx)
{
	if (ctx->fn)
		pciem_function_put(ctx->fn);
	ctx->fn = NULL;
}

/*
 * Never guess: log the instruction loudly; the caller skips it as an
 * access that master-aborted (registers untouched: the decoder does not
 * know what a refused instruction would have written).
 */
void pciem_trap_refused(unsigned long ip, const u8 *bytes, size_t n,
			const char *why, unsigned long address)
{
	struct pciem_function *fn;
	unsigned int bar;
	bool trapped;
	u64 off;

	fn = resolve(address, &bar, &off, &trapped);
	pr_err_ratelimited("%s: cannot emulate instruction %*ph at %pS (%s) accessing %#lx (BAR%u+%#llx): completed as a master abort\n",
			   fn ? fn->name : "?", (int)n, bytes, (void *)ip,
			   why, address, fn ? bar : 0, fn ? off : 0);
	if (fn) {
		WRITE_ONCE(fn->ring.hdr->stats.refused_insns,
			   fn->ring.hdr->stats.refused_insns + 1);
		pciem_function_put(fn);
	}
}

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
	struct pci_dev *pdev = (struct pci_dev *)regs_get_kernel_argument(regs, 0);

	if (!trap_host || pdev->bus != trap_host->bus)
		return 0;
	instruction_pointer_set(regs, (unsigned long)pciem_refuse_mmap);
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
	phys_addr_t pa = (phys_addr_t)regs_get_kernel_argument(regs, 0) << PAGE_SHIFT;

	if (!phys_in_windows(pa, pa + PAGE_SIZE))
		return 0;
	instruction_pointer_set(regs, (unsigned long)pciem_devmem_refused);
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
			n[map->ent[i].leaf.size == PUD_SIZE ? 2 :
			  map->ent[i].leaf.size == PMD_SIZE ? 1 : 0]++;
			ram += map->ent[i].ram || map->ent[i].table;
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
	ret = register_kprobe(&pciem_arch_fault_probe);
	if (ret) {
		pr_err("cannot probe %s (%d): MMIO trapping needs kprobes on the fault path\n",
		       pciem_arch_fault_probe.symbol_name, ret);
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
	unregister_kprobe(&pciem_arch_fault_probe);
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
	unregister_kprobe(&pciem_arch_fault_probe);
	synchronize_rcu();
}
