/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * pciem.ko internals shared between its files.
 *
 * One host bridge (struct pciem_host) owns a root bus in a PCI domain of
 * its own and up to 256 functions (struct pciem_function), each created
 * through /dev/pciem and owned by the file descriptor that created it.
 */
#ifndef PCIEM_H
#define PCIEM_H

#include <linux/completion.h>
#include <linux/fs.h>
#include <linux/irq_work.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/rbtree.h>

struct gen_pool;
struct pciem_recorder;
#include <linux/pci.h>
#include <linux/sched.h>
#include <linux/smp.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include <linux/pciem.h>
#include "cfgspace/pciem_cfg.h"
#include "rules/pciem_irq_rules.h"
#include "pciem_arch_defs.h"

#define PCIEM_NR_DEVFN		256

#define PCIEM_RING_ENTRIES	4096
#define PCIEM_MAX_SHADOWS	16
#define PCIEM_SHADOW_AREA	SZ_64K
/* mmap offset of the shadow area: far above the ring, page aligned. */
#define PCIEM_SHADOW_MMAP_OFFSET	(16ul << 20)

/**
 * struct pciem_shadow_range - BAR bytes whose reads the kernel serves itself
 * @bar, @offset, @len: the range (PCIEM_IOC_SHADOW)
 * @area_off:	where its copy lives in the ring's shadow area
 */
struct pciem_shadow_range {
	u8 bar;
	u32 offset;
	u32 len;
	u32 area_off;
};

/**
 * struct pciem_ring - the request ring a device model consumes
 * @hdr:	shared header page, followed by the slots; one vmalloc_user()
 *		area the model mmap()s at offset 0
 * @slots:	the slots, the page after @hdr
 * @size:	bytes of @hdr's mapping
 * @lock:	serialises producers; raw since faults come in any context.
 *		A leaf: nothing else is taken under it, and interrupt events
 *		are posted only after the irq lock is dropped
 * @prod:	the kernel's own producer index (@hdr->prod mirrors it)
 * @seq:	last sequence number handed out (never 0)
 * @busy:	slots whose read answer nobody has collected yet
 * @model_wq:	poll() on the device fd waits here
 * @answer_wq:	kernel readers that sleep for an answer wait here
 * @sleepers:	how many of those there are (@hdr->kernel_waiting)
 * @evfd:	optional eventfd (PCIEM_IOC_SET_EVENTFD), signalled besides
 *		waking @model_wq; RCU, set under @lock
 * @dead:	the owner is gone: every access completes as a master abort
 * @read_timeout_ns: give up on an answer after this long
 * @spin_ns:	spin this long before sleeping, where sleeping is allowed
 * @shadow:	the shadow area (vmalloc_user, PCIEM_SHADOW_AREA bytes),
 *		mmap()ed at PCIEM_SHADOW_MMAP_OFFSET, which the model keeps current
 * @shadows:	the ranges served from it, @nshadows of them (only added
 *		to, so readers walk them without the lock)
 * @shadow_used: bytes of @shadow handed out so far
 */
struct pciem_ring {
	struct pciem_ring_header *hdr;
	struct pciem_req *slots;
	size_t size;
	raw_spinlock_t lock;
	u32 prod;
	u32 seq;
	unsigned long *busy;
	wait_queue_head_t model_wq;
	wait_queue_head_t answer_wq;
	atomic_t sleepers;
	struct eventfd_ctx __rcu *evfd;
	bool dead;
	/*
	 * A post timed out waiting for a free slot, and the model has not
	 * consumed since (cons still stalled_cons): later posts fail at once
	 * instead of each waiting read_timeout_ns with interrupts off.
	 */
	bool stalled;
	u32 stalled_cons;
	/*
	 * A read that could not sleep timed out, and the model has taken no
	 * request since while some wait (cons still read_stalled_cons, not
	 * prod): later such reads fail at once. A driver reading dozens of
	 * registers under a spinlock (e1000e's statistics) would otherwise
	 * spin read_timeout_ns for each, long enough for RCU stall reports.
	 */
	bool read_stalled;
	u32 read_stalled_cons;
	u64 read_timeout_ns;
	u64 spin_ns;
	void *shadow;
	struct pciem_shadow_range shadows[PCIEM_MAX_SHADOWS];
	unsigned int nshadows;
	u32 shadow_used;
};

/**
 * struct pciem_vec - delivery state of one interrupt vector
 * @fn:		its function
 * @index:	MSI-X table index or MSI vector
 * @intx:	this is the INTx line, not a message
 * @pending:	raises not yet delivered
 * @csd:	IPI to run the handler on another CPU
 * @work:	self-IPI to run it in hard-IRQ context on this CPU
 */
struct pciem_vec {
	struct pciem_function *fn;
	u16 index;
	bool intx;
	atomic_t pending;
	call_single_data_t csd;
	struct irq_work work;
};

/**
 * struct pciem_irq - interrupt state of a function
 * @lock:	guards @rules. Taken inside the host lock by config writes, a leaf otherwise
 * @rules:	the interrupt rules' state (kernel/rules/pciem_irq_rules.h):
 *		capabilities, the MSI-X table and PBA, the MSI and INTx mirrors
 * @intx_masked: the INTx chip's mask, set while its handler runs
 * @intx_virq:	the Linux IRQ of INTx
 * @intx_vec:	INTx delivery
 * @vec:	per-vector delivery, @nvec = max(MSI, MSI-X) of them
 * @delivered:	handlers run; @lost: deliveries that found no Linux IRQ or
 *		handler; @dropped: raises refused (no MSI/MSI-X enabled, no
 *		such vector)
 * @model_tgid:	thread group (global) of the process that created the
 *		function, which answers its trapped accesses
 * @server_tgid: thread group of the last other process that signalled
 *		one of its irqfds (a device server behind pciem-proxy); 0 if
 *		none yet. Both only name threads in log lines.
 */
struct pciem_irq {
	raw_spinlock_t lock;
	struct pciem_irq_rules rules;
	bool intx_masked;
	unsigned int intx_virq;
	struct pciem_vec intx_vec;
	struct pciem_vec *vec;
	unsigned int nvec;
	atomic64_t delivered, lost, dropped;
	pid_t model_tgid;
	pid_t server_tgid;
};

/**
 * struct pciem_rambar - pages backing a BAR's plain memory
 * @pages:	one per page of the BAR (or of a DMA window, which is
 *		backed the same way): for a PCIEM_BAR_RAM BAR or a window the
 *		kernel's, physically contiguous per 2 MiB when the size is at
 *		least that, so it can be mapped with PMDs; for @pinned the
 *		owner's, NULL where the page stays trapped
 * @npages:	entries in @pages
 * @pinned:	user pages pinned by PCIEM_IOC_BAR_BACKING, unpinned (in
 *		process context) when the function is freed
 */
struct pciem_rambar {
	struct page **pages;
	unsigned long npages;
	bool pinned;
};

#define PCIEM_DMA_TRACE		8	/* stack frames kept per map/unmap */
#define PCIEM_DMA_HISTORY	256	/* unmapped mappings remembered */
#define PCIEM_DMA_SPARES	32	/* records kept for the next maps */

/* The call chain of one DMA API call (pciem_dma_chain.c), 0-terminated. */
struct pciem_dma_trace {
	unsigned long entries[PCIEM_DMA_TRACE];
};

enum pciem_dma_kind {
	PCIEM_DMA_SINGLE,		/* dma_map_page/single/resource */
	PCIEM_DMA_SG,			/* one segment of dma_map_sg */
	PCIEM_DMA_COHERENT,		/* dma_alloc_coherent, dma_pool */
};

/**
 * struct pciem_dma_map - one mapping a driver made (or made and unmapped)
 * @node:	in &pciem_dma.live, by @start (pciem_dma_table.c)
 * @iova:	bus address of the first byte, what the driver got
 * @len:	bytes mapped
 * @start:	first byte of the bus address space it occupies (page aligned)
 * @end:	end of that space, exclusive, guard page included
 * @kaddr:	kernel address of the first byte (direct map, or the window)
 * @orig:	bounced through the window: the driver's own buffer
 * @order:	COHERENT: order of the pages PCIem allocated
 * @dir:	enum dma_data_direction
 * @kind:	enum pciem_dma_kind
 * @copying:	device copies into or out of it under way outside the table's
 *		lock (PCIEM_IOC_DMA)
 * @dying:	an unmap found copies under way: it is refused to the device
 *		as unmapped from now on, and the unmap waits for @copying to
 *		drop to zero before it retires the mapping
 * @map_trace:	where it was mapped (pciem_dma_chain.c)
 * @unmap_trace: where it was unmapped (history only)
 */
struct pciem_dma_map {
	struct rb_node node;
	u64 iova;
	u64 len;
	u64 start, end;
	void *kaddr;
	void *orig;
	unsigned int order;
	u8 dir;
	u8 kind;
	atomic_t copying;
	bool dying;
	unsigned long map_trace[PCIEM_DMA_TRACE];
	unsigned long unmap_trace[PCIEM_DMA_TRACE];
};

/* A window piece held back from reuse until the server's view is zapped. */
struct pciem_dma_held {
	u32 first;	/* window page */
	u32 pages;
};

#define PCIEM_CONFINE_ZAP_ALL	0	/* @flags bit: Bus Master Enable went off */

/**
 * struct pciem_dma_confine - device servers' window mappings kept to the
 *	driver's live mappings (PCIEM_DMA_WINDOW_FD_F_CONFINED,
 *	pciem_dma_confine.c)
 * @on:		a confined file was made; the rest is set up (release)
 * @start_lock:	serialises the first confined file's setup
 * @mapping:	f_mapping of every confined file of the window: its i_mmap
 *		finds the servers' mappings to zap. Lives as long as the
 *		function (the mappings' files hold it)
 * @zap_sem:	read: a fault from checking its page to mapping it;
 *		write: a zap
 * @work:	zaps pages the driver unmapped, then frees @held; holds a
 *		reference on the function while queued
 * @flags:	PCIEM_CONFINE_ZAP_ALL
 * @stale:	window pages revoked since the last zap (table's lock)
 * @snap:	the work's copy of @stale
 * @held:	freed window pieces waiting for the zap (table's lock),
 *		@held_len of @held_cap
 */
struct pciem_dma_confine {
	bool on;
	struct mutex start_lock;
	struct address_space mapping;
	struct rw_semaphore zap_sem;
	struct work_struct work;
	unsigned long flags;
	unsigned long *stale, *snap;
	struct pciem_dma_held *held;
	unsigned int held_len, held_cap;
};

/**
 * struct pciem_dma - DMA mapping table of a function (IOMMU-like)
 * @lock:	guards the table (@live, @cursor, @history, @spares, @dead) and the
 *		window's pool; taken with interrupts off since drivers map and
 *		unmap from interrupt handlers. A leaf. The counters are
 *		atomic, @bus_master and @bounce lock-free (READ_ONCE, xchg),
 *		and @confine has locks of its own
 * @live:	live mappings by bus address (pciem_dma_table.c)
 * @cursor:	next bus address to try, low (32-bit masks) and high
 *		(pciem_dma_iova.c)
 * @history:	the last PCIEM_DMA_HISTORY unmapped mappings, a ring
 * @hist_next:	next slot of @history to use
 * @spares:	records the history let go of, kept for the next maps (a
 *		map then allocates nothing), @nr_spares of them
 * @bus_master:	mirror of Bus Master Enable, set under the host lock
 * @dead:	the function is being removed: nothing maps any more
 * @maps:	mappings made, @faults: device accesses refused
 * @win_pages:	zero-copy window (PCIEM_IOC_DMA_WINDOW, pciem_dma_window.c):
 *		its pages,
 * @win:	their vmap, @win_base: its bus address, @win_size: bytes,
 * @win_no_bounce: PCIEM_DMA_WINDOW_F_NO_BOUNCE: streaming buffers keep
 *		addresses outside the window instead of being bounced
 * @win_pool:	what is free in it; NULL without a window
 * @win_perm:	what the device may do to each window page, shared with the
 *		model read-only (struct pciem_dma_perm, then a byte a page)
 * @bounce:	a PCIEM_IOC_DMA bounce buffer kept between calls, or NULL
 *		(pciem_dma_access.c)
 * @confine:	what device servers reach of the window (pciem_dma_confine.c)
 */
struct pciem_dma {
	spinlock_t lock;
	struct rb_root live;
	u64 cursor[2];
	struct pciem_dma_map *history[PCIEM_DMA_HISTORY];
	unsigned int hist_next;
	struct pciem_dma_map *spares[PCIEM_DMA_SPARES];
	unsigned int nr_spares;
	bool bus_master;
	bool dead;
	atomic64_t maps, faults, redzone_hits;
	struct pciem_rambar win_pages;
	void *win;
	u64 win_base, win_size;
	bool win_no_bounce;
	struct gen_pool *win_pool;
	struct pciem_dma_perm *win_perm;
	void *bounce;
	struct pciem_dma_confine confine;
};

/**
 * enum pciem_fn_state - where a function is in its life
 * @PCIEM_FN_NEW:	built and its devfn claimed, not on the bus yet
 *			(PCIEM_CREATE_F_DEFER_ADD waits here for START):
 *			config cycles master-abort, so rescans find nothing
 * @PCIEM_FN_ADDING:	PCIem is scanning and adding it, under the PCI
 *			core's rescan/remove lock: config cycles answered
 * @PCIEM_FN_ON_BUS:	a pci_dev exists; config cycles answered
 * @PCIEM_FN_REMOVING:	its fd was released (or adding it failed): config
 *			cycles master-abort while the pci_dev is removed
 * @PCIEM_FN_DETACHED:	the PCI core removed its pci_dev (sysfs remove):
 *			gone for good, the fd lives on until closed
 * @PCIEM_FN_PULLED:	surprise-removed by an injected fault: off the bus,
 *			config cycles master-abort, the model keeps running;
 *			PCIEM_FAULT_REINSERT adds it again (via NEW)
 * @PCIEM_FN_GONE:	off the bus and out of the host's table
 *
 * NEW -> ADDING -> ON_BUS -> REMOVING -> GONE, with ON_BUS -> DETACHED ->
 * REMOVING when the PCI core removes it first, ADDING -> REMOVING -> NEW
 * when adding fails, NEW -> GONE for a function never started, and
 * ON_BUS -> PULLED -> NEW -> ADDING ... for injected removals.
 * Changed under the host lock; the moves onto and off the bus also under
 * the PCI core's rescan/remove lock (pciem_function.c).
 */
enum pciem_fn_state {
	PCIEM_FN_NEW,
	PCIEM_FN_ADDING,
	PCIEM_FN_ON_BUS,
	PCIEM_FN_REMOVING,
	PCIEM_FN_DETACHED,
	PCIEM_FN_PULLED,
	PCIEM_FN_GONE,
};

/**
 * struct pciem_faults - faults injected into a function (pciem_fault.c)
 * @lock:	guards @rules and the counters in them; a leaf
 * @rules:	struct pciem_fault_rule, in the order they were added
 * @nrules:	how many; read without the lock to skip the list
 * @next_id:	the last rule id handed out
 * @link_down:	PCIEM_FAULT_LINK_DOWN holds: every access master-aborts
 * @crs_until:	config reads answer all-ones (CRS) until this ktime (ns)
 */
struct pciem_faults {
	raw_spinlock_t lock;
	struct list_head rules;
	unsigned int nrules;
	u32 next_id;
	bool link_down;
	u64 crs_until;
};

/**
 * struct pciem_function - one emulated PCI function
 * @ref:	held by the device fd and each DMA window file; by every
 *		lookup for as long as it runs (a trapped access, a config
 *		cycle, a DMA API call, an ioctl naming the function, the bus
 *		notifier); by trap entries; and by queued interrupt
 *		deliveries, delayed interrupts and confinement zaps
 * @rcu:	the last reference may drop in atomic context: free later
 * @host:	the host bridge it lives under
 * @devfn:	its slot and function on the root bus
 * @state:	enum pciem_fn_state; guarded by @host->lock
 * @pdev:	its pci_dev while it has one, referenced; set and cleared
 *		under the rescan/remove lock
 * @sysfs_dir:	@pdev's sysfs directory, referenced, so that its files can
 *		be reached even while a sysfs writer deletes the pci_dev
 * @pdev_deleted: completed when @pdev has been deleted from the bus
 * @cfg:	emulated configuration space; guarded by @host->lock
 * @bar_phys:	bus address of each BAR once assigned (0: none)
 * @ring:	requests to the device model
 * @ram:	backing of RAM BARs
 * @irq:	interrupt state
 * @dma:	DMA mappings and their checks
 * @irqfd_lock:	guards @irqfds; a mutex taken with no other lock held
 * @irqfds:	eventfds that raise vectors
 * @start_lock:	serialises the moves on and off the bus (START, the
 *		owner's removal, injected removal and reinsertion) and
 *		PCIEM_IOC_DMA_WINDOW; taken before the rescan/remove lock
 * @faults:	injected faults
 * @rec:	the recorder (PCIEM_IOC_RECORD), or NULL; RCU
 * @create_rec:	the PCIEM_REC_CREATE record of the request that made it
 * @create_rec_len: its length
 * @owner_tgid:	thread group that created it (for listings)
 * @owner_comm:	that process's command name
 * @label:	free text from its creator, shown in listings
 * @name:	"DDDDD:BB:DD.F", for log lines from any context
 * @free_work:	frees it in process context when pinned pages must be
 *		let go (pciem_wq)
 */
struct pciem_function {
	struct kref ref;
	struct rcu_head rcu;
	struct pciem_host *host;
	u8 devfn;
	enum pciem_fn_state state;
	struct pci_dev *pdev;
	struct kernfs_node *sysfs_dir;
	struct completion pdev_deleted;
	struct pciem_cfg cfg;
	u64 bar_phys[PCIEM_MAX_BARS];
	struct pciem_ring ring;
	struct pciem_rambar ram[PCIEM_MAX_BARS];
	struct pciem_irq irq;
	struct pciem_dma dma;
	struct mutex irqfd_lock;
	struct list_head irqfds;
	struct mutex start_lock;
	struct pciem_faults faults;
	struct pciem_recorder __rcu *rec;
	void *create_rec;
	size_t create_rec_len;
	pid_t owner_tgid;
	char owner_comm[TASK_COMM_LEN];
	char label[PCIEM_LABEL_LEN];
	char name[16];
	struct work_struct free_work;
};

/**
 * struct pciem_host - PCIem's virtual host bridge and root bus
 * @bus:	root bus, in domain @domain
 * @domain:	its PCI domain (segment) number
 * @arch:	what the architecture keeps per host (pciem_arch.h)
 * @win64:	window for 64-bit BARs, from request_free_mem_region()
 * @win32:	window below 4 GiB for 32-bit BARs (may be empty)
 * @busn:	the single bus number the root bus decodes
 * @msi_fwnode:	names @msi_domain
 * @msi_domain:	the MSI/MSI-X irq domain of the root bus (pciem_irq.c)
 * @intx_domain: one Linux IRQ per devfn for INTx
 * @lock:	guards @fn, and each function's @state and config space; a
 *		raw lock because the PCI core calls config accessors under
 *		pci_lock with interrupts off
 * @mutex:	serialises changes to @fn against walks that may sleep
 * @fn:		functions by devfn; only pciem_function.c touches it
 *
 * Lock order, outermost first: a function's start_lock; the PCI core's
 * rescan/remove lock (pci_lock_rescan_remove()); @mutex; pci_lock (the
 * PCI core's config lock); @lock; then the leaf locks of one function
 * (its irq, dma and ring locks), never two functions' at once.
 */
struct pciem_host {
	struct pci_bus *bus;
	int domain;
	struct pciem_arch_host arch;
	struct resource *win64;
	struct resource win32;
	struct resource busn;
	struct fwnode_handle *msi_fwnode;
	struct irq_domain *msi_domain;
	struct irq_domain *intx_domain;
	raw_spinlock_t lock;
	struct mutex mutex;
	struct pciem_function *fn[PCIEM_NR_DEVFN];
};

/* pciem_function.c: the bottom layer, a function's life and the table */
struct pciem_function *pciem_function_alloc(struct pciem_host *host);
void pciem_function_get(struct pciem_function *fn);
void pciem_function_put(struct pciem_function *fn);
int pciem_function_claim(struct pciem_function *fn, bool fixed, u8 devfn,
			 struct pciem_error *err);
int pciem_function_add(struct pciem_function *fn, struct pciem_error *err);
void pciem_function_remove(struct pciem_function *fn);
u32 pciem_function_uapi_state(struct pciem_function *fn);
bool pciem_function_detached(struct pciem_function *fn);
struct pci_dev *pciem_function_get_pdev(struct pciem_function *fn);
struct pciem_function *pciem_function_config_target(struct pciem_host *host,
						    unsigned int devfn);
struct pciem_function *pciem_function_of_pdev(struct pci_dev *pdev);
struct pciem_function *pciem_function_lookup(struct pciem_host *host,
					     u32 domain, u8 bus, u8 devfn);
int pciem_function_pull(struct pciem_function *fn);
int pciem_function_reinsert(struct pciem_function *fn);
struct pciem_function *pciem_function_find_bar(struct pciem_host *host,
					       u64 phys, unsigned int *bar,
					       u64 *offset);
bool pciem_function_decodes_memory(struct pciem_function *fn);
void pciem_visit_functions(struct pciem_host *host, void *arg,
			   void (*cb)(struct pciem_function *, void *));
int pciem_function_host_init(struct pciem_host *host);
void pciem_function_host_exit(struct pciem_host *host);

/* pciem_access.c: a driver's MMIO access, after the trap decoded it */

/* Where a read's answer came from (the pciem_mmio tracepoint shows it). */
enum pciem_mmio_source {
	PCIEM_MMIO_MODEL,	/* the device model, through the ring */
	PCIEM_MMIO_KERNEL,	/* pciem.ko itself (MSI-X table and PBA, ROM writes) */
	PCIEM_MMIO_SHADOW,	/* a shadow the model keeps current */
	PCIEM_MMIO_ABORT,	/* nobody: master abort (gone, not decoded) */
	PCIEM_MMIO_INJECTED,	/* an injected fault */
	PCIEM_MMIO_TIMEOUT,	/* the model did not answer in time */
};

/**
 * struct pciem_mmio - one access to a BAR
 * @bar, @off, @size: where and how wide
 * @write:	a write (else a read)
 * @may_sleep:	the faulting context could sleep
 * @insn:	the decoded instruction's kind (enum pciem_insn_kind)
 */
struct pciem_mmio {
	unsigned int bar;
	u64 off;
	unsigned int size;
	bool write;
	bool may_sleep;
	u8 insn;
};

void pciem_function_mmio(struct pciem_function *fn,
			 const struct pciem_mmio *a, u64 *val);

/* pciem_fault.c */
void pciem_faults_init(struct pciem_function *fn);
void pciem_faults_free(struct pciem_function *fn);
bool pciem_fault_hit(struct pciem_function *fn, unsigned int fault, int bar,
		     u64 off, u64 len, u64 *param);
bool pciem_fault_irq(struct pciem_function *fn, u32 vector);
void pciem_fault_reset(struct pciem_function *fn);
bool pciem_fault_config_blocked(struct pciem_function *fn);
void pciem_fault_note(struct pciem_function *fn, unsigned int fault, u32 id,
		      u64 detail);
const char *pciem_fault_name(unsigned int fault);
long pciem_ioctl_inject(struct pciem_host *host, void __user *uarg);
long pciem_ioctl_inject_clear(struct pciem_host *host, void __user *uarg);
void pciem_fault_host_init(struct pciem_host *host);

/* pciem_aer.c: AER through a Root Complex Event Collector of PCIem's own */
int pciem_aer_inject(struct pciem_function *fn, unsigned int fault,
		     u32 status);
void pciem_aer_host_exit(struct pciem_host *host);

/* pciem_record.c: PCIEM_IOC_RECORD */
long pciem_ioctl_record(struct pciem_host *host, void __user *uarg);
int pciem_record_keep_create(struct pciem_function *fn,
			     const struct pciem_create *req,
			     const struct pciem_cfg_cap_in *caps,
			     unsigned int ncaps);
void pciem_record_access(struct pciem_function *fn, u16 type,
			 unsigned int bar, unsigned int size, u64 off,
			 u64 val, bool model, bool abort);
void pciem_record_irq(struct pciem_function *fn, u32 value, int result,
		      bool intx);
void pciem_record_dma(struct pciem_function *fn,
		      const struct pciem_dma_xfer *x, const void __user *data,
		      u64 data_len);
void pciem_record_state(struct pciem_function *fn);
void pciem_record_fault(struct pciem_function *fn, unsigned int fault, u32 id,
			u64 detail);
void pciem_record_stop(struct pciem_function *fn);

/* pciem_host.c */
int pciem_host_init(struct pciem_host *host, u64 win64_size, u64 win32_size);
void pciem_host_exit(struct pciem_host *host);
int pciem_host_domain(const struct pciem_host *host);

/* pciem_device.c */
long pciem_ioctl_create(struct pciem_host *host, void __user *uarg);
long pciem_ioctl_list(struct pciem_host *host, void __user *uarg);

/* pciem_ring.c: pciem_ring_read() served the read from a shadow */
#define PCIEM_RING_FROM_SHADOW	1

/* pciem_mmap.c */
int pciem_dev_mmap(struct file *file, struct vm_area_struct *vma);
void pciem_vma_fixed(struct vm_area_struct *vma);

/* pciem_ring.c */
int pciem_ring_init(struct pciem_ring *ring);
void pciem_ring_free(struct pciem_ring *ring);
void pciem_ring_kill(struct pciem_ring *ring);
__poll_t pciem_ring_poll(struct pciem_ring *ring, struct file *file,
			 poll_table *wait);
long pciem_ring_ioctl(struct pciem_function *fn, unsigned int nr,
		      void __user *uarg);
int pciem_ring_read(struct pciem_function *fn, unsigned int bar, u64 off,
		    unsigned int size, u64 *val, bool may_sleep);
int pciem_ring_write(struct pciem_function *fn, unsigned int bar, u64 off,
		     unsigned int size, u64 val);
int pciem_ring_cfg_read(struct pciem_function *fn, unsigned int off,
			unsigned int size, u32 *val);
int pciem_ring_cfg_write(struct pciem_function *fn, unsigned int off,
			 unsigned int size, u32 val);
void pciem_ring_irq_event(struct pciem_function *fn, u32 event, u32 index,
			  u64 data);
void pciem_ring_command_event(struct pciem_function *fn, u16 cmd);
void pciem_ring_reset_event(struct pciem_function *fn);

/* pciem_rambar.c */
int pciem_rambar_alloc(struct pciem_function *fn);
void pciem_rambar_free(struct pciem_function *fn);
struct page *pciem_rambar_page(struct pciem_function *fn, unsigned int bar,
			       u64 off, bool huge);
bool pciem_rambar_pinned(struct pciem_function *fn);
struct page **pciem_rambar_chunk(struct pciem_function *fn, unsigned int bar,
				 u64 off);
long pciem_bar_backing_ioctl(struct pciem_function *fn, void __user *uarg);
int pciem_pages_alloc(struct pciem_rambar *rb, u64 size);
void pciem_pages_free(struct pciem_rambar *rb);

/* pciem_irq.c */
int pciem_irq_host_init(struct pciem_host *host);
void pciem_irq_host_attach(struct pciem_host *host);
void pciem_irq_host_exit(struct pciem_host *host);
int pciem_irq_init(struct pciem_function *fn);
void pciem_irq_free(struct pciem_function *fn);
void pciem_irq_detach(struct pciem_function *fn);
bool pciem_irq_msix_access(struct pciem_function *fn, unsigned int bar,
			   u64 off, unsigned int size, bool write, u64 *val);
void pciem_irq_cfg_read(struct pciem_function *fn, unsigned int where,
			unsigned int size, u32 *val);
/*
 * Interrupt configuration changes a config write made are found under the
 * host lock and told to the model (pciem_irq_post_events()) after it.
 */
void pciem_irq_cfg_written(struct pciem_function *fn, unsigned int where,
			   unsigned int size, struct pciem_irq_rules_events *ev);
void pciem_irq_post_events(struct pciem_function *fn,
			   const struct pciem_irq_rules_events *ev);
int pciem_irq_raise(struct pciem_function *fn, unsigned int vector);
int pciem_irq_deliver_raise(struct pciem_function *fn, unsigned int vector);
int pciem_irq_set_intx(struct pciem_function *fn, bool level);

/* pciem_model_threads.c: where the function's model runs */
void pciem_explain_held_cpu(struct pciem_function *fn);

/* pciem_dma_table.c: the mapping table */
void pciem_dma_init(struct pciem_function *fn);
void pciem_dma_free(struct pciem_function *fn);
struct pciem_dma_map *pciem_dma_find(struct pciem_dma *dma, u64 addr);
struct pciem_dma_map *pciem_dma_find_span(struct pciem_dma *dma, u64 addr);
struct pciem_dma_map *pciem_dma_find_retired(struct pciem_dma *dma, u64 addr);
struct pciem_dma_map *pciem_dma_find_near(struct pciem_dma *dma, u64 addr);
void pciem_dma_insert(struct pciem_dma *dma, struct pciem_dma_map *m);
struct pciem_dma_map *pciem_dma_spare(struct pciem_dma *dma);
struct pciem_dma_map *pciem_dma_retire(struct pciem_dma *dma,
				       struct pciem_dma_map *m,
				       const struct pciem_dma_trace *t);

/* pciem_dma_iova.c: bus addresses outside a window */
void pciem_dma_iova_init(struct pciem_dma *dma);
bool pciem_dma_iova_mask_ok(u64 mask);
bool pciem_dma_iova_place(struct pciem_dma *dma, struct pciem_dma_map *m,
			  unsigned long offset, u64 mask);

/* pciem_dma_ops.c: the dma_map_ops drivers call */
void pciem_dma_attach(struct pciem_function *fn, struct pci_dev *pdev);

/* pciem_dma_chain.c: call chains of DMA API calls, names for log lines */
extern unsigned int pciem_dma_trace_depth;

/*
 * The chain of a DMA API call, taken before any lock. Inlined into the
 * dma_map_ops callbacks, so that the first frame kept is their caller's.
 */
static __always_inline void pciem_dma_trace_take(struct pciem_dma_trace *t,
						 unsigned int depth)
{
	memset(t, 0, sizeof(*t));
	depth = min_t(unsigned int, depth, PCIEM_DMA_TRACE);
	if (depth)
		pciem_arch_stack(t->entries, depth);
}

/* A streaming mapping, on every I/O: as deep as dma_trace_depth asks. */
static __always_inline void pciem_dma_trace_here(struct pciem_dma_trace *t)
{
	pciem_dma_trace_take(t, READ_ONCE(pciem_dma_trace_depth));
}

/*
 * Coherent memory is allocated once per queue or ring, at probe or setup,
 * never per I/O: its chains are always recorded, deep enough to name the
 * driver's function.
 */
static __always_inline void pciem_dma_trace_coherent(struct pciem_dma_trace *t)
{
	pciem_dma_trace_take(t, max_t(unsigned int,
				      READ_ONCE(pciem_dma_trace_depth), 6));
}

void pciem_dma_print_trace(char *buf, size_t len, const unsigned long *trace);
void pciem_dma_caller(char *buf, size_t len);
const char *pciem_dma_dir_name(unsigned int dir);
const char *pciem_dma_kind_name(unsigned int kind);

/* pciem_dma_redzone.c */
size_t pciem_dma_coherent_size(struct pciem_dma *dma, const void *kaddr,
			       size_t len, unsigned int order);
void pciem_dma_redzone_fill(void *kaddr, size_t len, size_t alloc);
void pciem_dma_redzone_check(struct pciem_function *fn, u64 iova,
			     const void *kaddr, size_t len, size_t alloc,
			     const unsigned long *trace);

/* pciem_dma_debugfs.c */
void pciem_dma_host_init(struct pciem_host *host);

/* pciem_dma_confine.c */
void pciem_dma_confine_init(struct pciem_dma *dma);
int pciem_dma_confine_start(struct pciem_dma *dma, struct file *file);
void pciem_dma_confine_mmap(struct vm_area_struct *vma);
void pciem_dma_confine_revoke(struct pciem_dma *dma, u64 first, u64 n);
void pciem_dma_confine_bus_master_off(struct pciem_dma *dma);
bool pciem_dma_confine_hold(struct pciem_dma *dma, unsigned long addr,
			    size_t size);
void pciem_dma_confine_end(struct pciem_dma *dma);

/* pciem_dma_window.c */
bool pciem_dma_window_holds(struct pciem_dma *dma, const void *kaddr);
bool pciem_dma_window_place(struct pciem_dma *dma, struct pciem_dma_map *m);
void pciem_dma_window_release(struct pciem_dma *dma, struct pciem_dma_map *m);
void pciem_dma_window_sync(struct pciem_dma *dma, struct pciem_dma_map *m,
			   u64 iova, size_t size, bool for_cpu);
void *pciem_dma_window_alloc(struct pciem_dma *dma, size_t size);
size_t pciem_dma_window_piece(size_t size);
void pciem_dma_window_free(struct pciem_dma *dma, void *kaddr, size_t size);
void pciem_dma_window_forget(struct pciem_dma *dma, struct pciem_dma_map *m);
void pciem_dma_window_revoke(struct pciem_dma *dma, struct pciem_dma_map *m);
void pciem_dma_set_bus_master(struct pciem_dma *dma, bool on);
void pciem_dma_window_destroy(struct pciem_dma *dma);
long pciem_dma_window_ioctl(struct pciem_function *fn, void __user *uarg);
long pciem_dma_window_fd_ioctl(struct pciem_function *fn, void __user *uarg);

/* pciem_dma_access.c */
long pciem_dma_ioctl(struct pciem_function *fn, void __user *uarg);
u32 pciem_dma_report(struct pciem_function *fn, u32 op, u64 addr);

/* pciem_irqfd.c */
long pciem_irqfd_ioctl(struct pciem_function *fn, void __user *uarg);
void pciem_irqfd_release_all(struct pciem_function *fn);

/* pciem_trap.c */
int pciem_trap_init(struct pciem_host *host);
void pciem_trap_exit(void);

/* pciem_main.c */
extern struct dentry *pciem_debugfs;
/* Work that must run in process context and be done before unload. */
extern struct workqueue_struct *pciem_wq;

/* pciem_abi.c */
int pciem_copy_struct_in(void *dst, size_t ksize, size_t minsize,
			 const void __user *src);
int pciem_copy_struct_out(void __user *dst, size_t usize, const void *src,
			  size_t ksize);

#endif /* PCIEM_H */
