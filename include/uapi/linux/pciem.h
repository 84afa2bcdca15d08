/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * PCIem userspace ABI.
 *
 * /dev/pciem (root only) is the control node. PCIEM_IOC_CREATE on it
 * describes one PCI function and returns a new file descriptor, the
 * *device fd*. The function exists on PCIem's root bus for exactly as long
 * as that descriptor: closing it, or the owning process dying, hot-removes
 * the function the way a surprise removal would on hardware.
 *
 * Rules every structure follows, so the ABI can grow without breaking old
 * binaries:
 *  - It starts with `size` (bytes, as the caller compiled it) and `flags`.
 *  - A size smaller than the first published layout is refused (EINVAL).
 *    A size larger than the kernel knows is accepted only when every byte
 *    the kernel does not know is zero (otherwise E2BIG).
 *  - Unknown flag bits are refused (EINVAL). Reserved fields must be zero.
 *  - ioctls are dispatched on type and number, never on the size encoded
 *    in the command, so a grown structure keeps its command.
 *
 * On a failed PCIEM_IOC_CREATE the kernel fills `error` with a
 * PCIEM_ERR_* code and the index of the BAR or capability at fault, so
 * tools can say in words what was wrong. See docs/abi.md.
 */
#ifndef _UAPI_LINUX_PCIEM_H
#define _UAPI_LINUX_PCIEM_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define PCIEM_ABI_VERSION	1
#define PCIEM_CONTROL_NODE	"/dev/pciem"

#define PCIEM_MAX_BARS		6
#define PCIEM_CFG_SPACE_SIZE	4096
/* Most capability records one PCIEM_IOC_CREATE accepts. */
#define PCIEM_MAX_CAPS		64
/* Bytes of a function's label, its NUL included. */
#define PCIEM_LABEL_LEN		64

/* ---------------------------------------------------------------------- */
/* Error detail reported by a failed PCIEM_IOC_CREATE                      */
/* ---------------------------------------------------------------------- */

enum pciem_err_code {
	PCIEM_ERR_NONE = 0,
	PCIEM_ERR_ABI_VERSION,		/* EPROTO: abi_version unknown */
	PCIEM_ERR_STRUCT_SIZE,		/* EINVAL/E2BIG: size field wrong */
	PCIEM_ERR_FLAGS,		/* EINVAL: unknown flag bits */
	PCIEM_ERR_RESERVED,		/* EINVAL: reserved field not zero */
	PCIEM_ERR_HEADER_TYPE,		/* EINVAL: not a type 0 header */
	PCIEM_ERR_INTX_PIN,		/* EINVAL: interrupt_pin > 4 */
	PCIEM_ERR_DEVFN_BUSY,		/* EBUSY: requested devfn in use */
	PCIEM_ERR_BUS_FULL,		/* ENOSPC: no free slot left */
	PCIEM_ERR_BAR_SIZE,		/* EINVAL: not a power of two, < 16 */
	PCIEM_ERR_BAR_TOO_BIG,		/* EFBIG: larger than the window */
	PCIEM_ERR_BAR_FLAGS,		/* EINVAL: unknown/contradictory */
	PCIEM_ERR_BAR_SLOT,		/* EINVAL: 64-bit BAR has no upper slot */
	PCIEM_ERR_BAR_NO_SPACE,		/* ENOSPC: window exhausted */
	PCIEM_ERR_CAP_TYPE,		/* EINVAL: unknown capability type */
	PCIEM_ERR_CAP_SIZE,		/* EINVAL/E2BIG: record size wrong */
	PCIEM_ERR_CAP_OFFSET,		/* EINVAL: misaligned/out of range */
	PCIEM_ERR_CAP_OVERLAP,		/* EINVAL: overlaps header/other cap */
	PCIEM_ERR_CAP_PARAM,		/* EINVAL: a parameter is invalid */
	PCIEM_ERR_CAP_DUPLICATE,	/* EINVAL: capability given twice */
	PCIEM_ERR_CAP_NO_ROOM,		/* ENOSPC: no room left to place it */
	PCIEM_ERR_CAP_NEEDS_PCIE,	/* EINVAL: extended cap w/o PCIe cap */
	PCIEM_ERR_CAPS_LEN,		/* EINVAL: caps_len wrong or more
					 * than PCIEM_MAX_CAPS records */
	PCIEM_ERR_FAULT,		/* EFAULT: a pointer is unreadable */
	PCIEM_ERR_VENDOR_ID,		/* EINVAL: 0x0000, 0x0001 or 0xffff,
					 * which mean "no device" (0x0001:
					 * configuration request retry) */
	PCIEM_ERR_NO_DEVICE,		/* ENODEV: the PCI core found no
					 * device when it scanned the slot */
	PCIEM_ERR_LABEL,		/* EINVAL: label not NUL-terminated,
					 * not printable, or not zero-padded */
	PCIEM_ERR__COUNT
};

struct pciem_error {
	__u32 code;	/* enum pciem_err_code */
	__u32 index;	/* BAR number or capability index (0-based) */
};

/* ---------------------------------------------------------------------- */
/* PCIEM_IOC_GET_INFO (control fd): what this PCIem instance offers        */
/* ---------------------------------------------------------------------- */

struct pciem_info {
	__u32 size;
	__u32 flags;			/* in: 0 */
	__u32 abi_version;		/* out: PCIEM_ABI_VERSION */
	__u32 domain;			/* out: PCI domain of the root bus */
	__u32 bus;			/* out: root bus number */
	__u32 max_functions;		/* out: functions the bus can hold */
	__u64 window64_start;		/* out: window for 64-bit BARs */
	__u64 window64_size;
	__u64 window32_start;		/* out: window for 32-bit BARs */
	__u64 window32_size;		/*      (0 if none could be taken) */
	__u64 features;			/* out: PCIEM_INFO_F_* (a module older
					 * than the field leaves it 0) */
};

/* What the module does beyond ABI version 1's first layout. */
#define PCIEM_INFO_F_DMA_RAISE	(1ull << 0)	/* PCIEM_DMA_RAISE */

/* ---------------------------------------------------------------------- */
/* PCIEM_IOC_CREATE (control fd): describe a function, get a device fd    */
/* ---------------------------------------------------------------------- */

/* struct pciem_bar.flags */
#define PCIEM_BAR_MEM64		(1u << 0) /* 64-bit BAR, uses slots n, n+1 */
#define PCIEM_BAR_PREFETCH	(1u << 1) /* prefetchable memory */
/*
 * Plain memory (framebuffers, queue memory): the BAR is backed by pages
 * shared with the model, which maps them from the device fd at
 * PCIEM_MMAP_BAR_OFFSET(n). Driver accesses are not trapped, so they cost
 * nothing and the model sees no requests for them; it reads the same
 * bytes. At least 4 KiB, at most PCIEM_MAX_RAM_BAR.
 */
#define PCIEM_BAR_RAM		(1u << 2)
#define PCIEM_BAR_FLAGS_ALL	(PCIEM_BAR_MEM64 | PCIEM_BAR_PREFETCH | \
				 PCIEM_BAR_RAM)
#define PCIEM_MAX_RAM_BAR	(256ull << 20)
#define PCIEM_MMAP_BAR_OFFSET(n)	((__u64)((n) + 1) << 40)

/*
 * One memory BAR. size 0 means the slot is unused (or is the upper half
 * of the 64-bit BAR before it, which must then be left empty). I/O BARs
 * are not offered: x86 port I/O cannot be trapped the way MMIO is.
 */
struct pciem_bar {
	__u64 size;	/* power of two, >= 16 bytes */
	__u32 flags;	/* PCIEM_BAR_* */
	__u32 reserved;
};

/* struct pciem_create.flags */
#define PCIEM_CREATE_F_DEVFN	(1u << 0) /* place at .devfn, else auto */
/*
 * Build the function and return its fd, but put it on the bus only at
 * PCIEM_IOC_START: a model maps its ring and starts serving first, so a
 * driver that binds (and reads registers) during the add is answered.
 */
#define PCIEM_CREATE_F_DEFER_ADD (1u << 1)
/*
 * No model will serve this function: BAR accesses master-abort at once
 * (reads return all-ones) instead of waiting for a read timeout. For
 * functions that only need to exist (enumeration, binding tests).
 */
#define PCIEM_CREATE_F_NO_MODEL	(1u << 2)
#define PCIEM_CREATE_FLAGS_ALL	(PCIEM_CREATE_F_DEVFN | \
				 PCIEM_CREATE_F_DEFER_ADD | \
				 PCIEM_CREATE_F_NO_MODEL)

struct pciem_create {
	__u32 size;
	__u32 flags;			/* PCIEM_CREATE_F_* */
	__u32 abi_version;		/* PCIEM_ABI_VERSION */
	__u16 vendor_id;
	__u16 device_id;
	__u16 subsys_vendor_id;
	__u16 subsys_id;
	__u32 class_code;		/* base << 16 | sub << 8 | prog-if */
	__u8 revision;
	__u8 header_type;		/* 0x00, or 0x80 for multi-function */
	__u8 interrupt_pin;		/* 0 none, 1..4 INTA..INTD */
	__u8 devfn;			/* with PCIEM_CREATE_F_DEVFN */
	struct pciem_bar bars[PCIEM_MAX_BARS];
	__u64 caps_ptr;			/* user pointer to capability records */
	__u32 caps_len;			/* bytes at caps_ptr */
	__u32 reserved;
	struct pciem_error error;	/* out: why a create failed */
	/* Added in the second layout (a smaller size leaves it empty): */
	char label[PCIEM_LABEL_LEN];	/* free text listings show beside the
					 * function, e.g. what serves it;
					 * printable ASCII, NUL-terminated,
					 * zero after the NUL */
	/* Added in the third layout: */
	struct pciem_bar rom;		/* expansion ROM; size 0: none */
};

/*
 * The expansion ROM (config register 30h, the PCI core's resource 6):
 * size a power of two from 2 KiB to PCIEM_MAX_ROM, flags 0. The PCI core
 * places it in the 32-bit window; it decodes while software has set its
 * enable bit and Memory Space Enable. Reads reach the model as MMIO reads
 * of BAR PCIEM_ROM_BAR; the driver's writes are dropped (a ROM is
 * read-only) and never reach it.
 */
#define PCIEM_ROM_BAR		6
#define PCIEM_MAX_ROM		(16u << 20)

/*
 * Capability records. caps_ptr points at caps_len bytes holding records
 * back to back; each record's `size` says where the next one starts
 * (multiple of 8). Capabilities are placed at `offset`, or automatically
 * when offset is 0, and linked in ascending offset order.
 */
enum pciem_cap_type {
	PCIEM_CAP_PM = 1,	/* Power Management (ID 01h) */
	PCIEM_CAP_MSI,		/* MSI (ID 05h) */
	PCIEM_CAP_MSIX,		/* MSI-X (ID 11h) */
	PCIEM_CAP_PCIE,		/* PCI Express (ID 10h), v2 */
	PCIEM_CAP_VENDOR,	/* Vendor-specific (ID 09h) */
	PCIEM_CAP_RAW,		/* any standard ID, read-only body */
	PCIEM_CAP_EXT_DSN,	/* Device Serial Number (ext ID 0003h) */
	PCIEM_CAP_EXT_AER,	/* Advanced Error Reporting (ext ID 0001h) */
	PCIEM_CAP_EXT_RAW,	/* any extended ID, read-only body */
	PCIEM_CAP__COUNT
};

/* pm.flags */
#define PCIEM_PM_D1		(1u << 0)
#define PCIEM_PM_D2		(1u << 1)
#define PCIEM_PM_PME		(1u << 2) /* PME# from D0 and D3hot */
#define PCIEM_PM_NO_SOFT_RESET	(1u << 3)
#define PCIEM_PM_FLAGS_ALL	0xfu

/* msi.flags */
#define PCIEM_MSI_64BIT		(1u << 0)
#define PCIEM_MSI_MASKABLE	(1u << 1) /* per-vector masking */
#define PCIEM_MSI_FLAGS_ALL	0x3u

/* pcie.port_type: the Device/Port Type field values PCIem offers */
#define PCIEM_PCIE_ENDPOINT		0x0
#define PCIEM_PCIE_LEGACY_ENDPOINT	0x1
#define PCIEM_PCIE_RC_ENDPOINT		0x9
#define PCIEM_PCIE_RC_EC		0xa /* Root Complex Event Collector: its
					     * AER capability has the Root Error
					     * registers */

/* pcie.flags */
#define PCIEM_PCIE_FLR		(1u << 0) /* Function Level Reset capable */
#define PCIEM_PCIE_EXT_TAG	(1u << 1) /* Extended Tag Field supported */
#define PCIEM_PCIE_FLAGS_ALL	0x3u

/*
 * pciem_cap.flags. PCIEM_CAP_F_MODEL (VENDOR, RAW and EXT_RAW only): the
 * device model handles the capability's registers itself. Config reads
 * and writes of every dword after the capability's first become
 * PCIEM_REQ_CFG_READ/WRITE requests on the ring; the first dword (ID,
 * next pointer, length) stays emulated so the chain is always intact.
 * The body given at creation is what config space shows until the model
 * answers, e.g. while the device is being created.
 */
#define PCIEM_CAP_F_MODEL	(1u << 0)
#define PCIEM_CAP_FLAGS_ALL	PCIEM_CAP_F_MODEL

struct pciem_cap {
	__u32 size;		/* sizeof(struct pciem_cap) */
	__u32 flags;		/* PCIEM_CAP_F_* */
	__u16 type;		/* enum pciem_cap_type */
	__u16 offset;		/* config offset, 0 = place automatically */
	__u32 reserved;
	union {
		struct {
			__u32 flags;		/* PCIEM_PM_* */
		} pm;
		struct {
			__u32 flags;		/* PCIEM_MSI_* */
			__u32 vectors;		/* 1, 2, 4, 8, 16 or 32 */
		} msi;
		struct {
			__u32 vectors;		/* table size, 1..2048 */
			__u32 table_bar;	/* BAR holding the table */
			__u32 table_offset;	/* 8-byte aligned */
			__u32 pba_bar;		/* BAR holding the PBA */
			__u32 pba_offset;	/* 8-byte aligned */
		} msix;
		struct {
			__u32 flags;		/* PCIEM_PCIE_* */
			__u8 port_type;		/* PCIEM_PCIE_*ENDPOINT */
			__u8 max_payload;	/* 0..5: 128 << n bytes */
			__u8 link_speed;	/* 1..5: 2.5..32 GT/s; 0 = 1 */
			__u8 link_width;	/* 1, 2, 4, 8, 16, 32; 0 = 1 */
		} pcie;
		struct {
			__u64 serial;
		} dsn;
		/*
		 * VENDOR, RAW, EXT_RAW: the body after the capability header
		 * (after ID, next pointer and, for VENDOR, the length byte;
		 * for EXT_RAW after the 32-bit header). Read-only.
		 */
		struct {
			__u64 data_ptr;		/* user pointer to the body */
			__u16 len;		/* body length in bytes */
			__u16 id;		/* RAW/EXT_RAW: capability ID */
			__u8 version;		/* EXT_RAW: capability version */
			__u8 reserved[3];
		} body;
		__u8 raw[40];		/* room to grow; must stay zero */
	};
};

/* ---------------------------------------------------------------------- */
/* Device fd                                                              */
/* ---------------------------------------------------------------------- */

/* PCIEM_IOC_DEV_INFO: where the function landed */
struct pciem_dev_info {
	__u32 size;
	__u32 flags;			/* in: 0 */
	__u32 domain;			/* out */
	__u8 bus;			/* out */
	__u8 devfn;			/* out */
	__u16 reserved;
	__u64 bar_start[PCIEM_MAX_BARS]; /* out: assigned bus address */
	__u64 bar_size[PCIEM_MAX_BARS];	/* out: 0 for an unused slot */
	__u32 state;			/* out: PCIEM_STATE_* */
	__u32 reserved2;
};

/* ---------------------------------------------------------------------- */
/* Device fd: the request ring                                            */
/* ---------------------------------------------------------------------- */

/*
 * mmap() of the device fd at offset 0 maps the ring: one page of
 * struct pciem_ring_header, then header.entries slots of struct pciem_req
 * at header.slots_offset. The kernel produces, the device model consumes,
 * strictly in order, so a read is always handled after every write the
 * driver issued before it.
 *
 * The kernel fills a slot, then publishes it by storing header.prod
 * (release). The model reads prod (acquire), handles slots cons..prod-1
 * and stores header.cons (release) after each one, or after a batch.
 * For a read it stores the answer in data, then stores seq into done
 * (release): the kernel may be spinning on that slot. If, after that,
 * header.kernel_waiting is non-zero, the kernel has gone to sleep on an
 * answer and the model must call PCIEM_IOC_WAKE (libpciem does this).
 *
 * The model learns of new slots by poll()/read readiness of the device
 * fd (POLLIN while prod != cons), by an eventfd registered with
 * PCIEM_IOC_SET_EVENTFD, or by polling prod itself: with
 * PCIEM_MODEL_F_POLLING set in header.model_flags the kernel skips the
 * wake-up entirely.
 */
#define PCIEM_RING_MAGIC	0x5043494du	/* "PCIM" */
#define PCIEM_RING_VERSION	1

enum pciem_req_type {
	PCIEM_REQ_MMIO_READ = 1,	/* answer in data, then done = seq */
	PCIEM_REQ_MMIO_WRITE = 2,	/* posted: no answer */
	PCIEM_REQ_CFG_READ = 3,		/* offset = config offset; answer as
					 * for MMIO reads */
	PCIEM_REQ_CFG_WRITE = 4,	/* offset = config offset; posted */
	PCIEM_REQ_IRQ_CONFIG = 5,	/* posted: the driver changed how the
					 * function may interrupt; flags = enum
					 * pciem_irq_event, offset = vector,
					 * data as the event says */
	PCIEM_REQ_COMMAND = 6,		/* posted: the driver changed the
					 * Command register (emulated by
					 * pciem.ko); data = its new value */
	PCIEM_REQ_RESET = 7,		/* posted: the driver initiated a
					 * Function Level Reset (Device
					 * Control bit 15) or a D3hot -> D0
					 * move without No_Soft_Reset
					 * (PMCSR); the header stays
					 * pciem.ko's, the model resets its
					 * own state. Older models ignore it */
};

/*
 * PCIEM_REQ_IRQ_CONFIG events. The MSI-X table and the MSI/MSI-X control
 * registers are served in the kernel (masking never waits for the model),
 * so the model hears of changes to them through these, in order with the
 * driver's other accesses. Each is sent only when something changed.
 */
enum pciem_irq_event {
	/* MSI control or message: data bit 0 = MSI Enable, bits 8..15 =
	 * vectors enabled (2^Multiple Message Enable), bits 32..63 = Message
	 * Data. offset = 0. */
	PCIEM_IRQ_EV_MSI = 1,
	/* MSI per-vector Mask Bits: data = the 32 mask bits. */
	PCIEM_IRQ_EV_MSI_MASK = 2,
	/* MSI-X control: data bit 0 = MSI-X Enable, bit 1 = Function Mask. */
	PCIEM_IRQ_EV_MSIX = 3,
	/* MSI-X table entry `offset` written: data bit 0 = its Mask bit,
	 * bits 32..63 = its Message Data. */
	PCIEM_IRQ_EV_MSIX_ENTRY = 4,
	/* Command register Interrupt Disable: data = 1 when set. */
	PCIEM_IRQ_EV_INTX_DISABLE = 5,
};

/* One ring slot: 32 bytes. */
struct pciem_req {
	__u32 seq;		/* kernel: nonzero sequence number */
	__u32 done;		/* model: = seq once a read is answered */
	__u16 type;		/* enum pciem_req_type */
	__u8 bar;		/* BAR index 0..5, PCIEM_ROM_BAR for the
				 * expansion ROM (0 for config) */
	__u8 size;		/* access size: 1, 2, 4 or 8 */
	__u32 flags;		/* IRQ_CONFIG: the event; else 0 */
	__u64 offset;		/* offset of the access within the BAR */
	__u64 data;		/* write: value; read: the model's answer */
};

/* header.model_flags */
#define PCIEM_MODEL_F_POLLING	(1u << 0) /* the model busy-polls prod */

/*
 * Counters are written by the kernel only and never reset while the
 * device exists; tools read them to explain all-ones reads.
 */
struct pciem_ring_stats {
	__u64 reads;		/* trapped reads sent to the model */
	__u64 writes;		/* trapped writes sent to the model */
	__u64 shadow_reads;	/* reads served from the shadow */
	__u64 read_timeouts;	/* reads the model did not answer in time */
	__u64 master_aborts;	/* accesses completed as all-ones/dropped */
	__u64 refused_insns;	/* instructions the emulator refused */
	__u64 ring_full_waits;	/* posts that had to wait for a free slot */
	__u64 irq_events;	/* PCIEM_REQ_IRQ_CONFIG requests sent */
	__u64 stalled_posts;	/* posts refused at once: the ring was full
				 * and the model had not consumed anything
				 * since a post timed out waiting; also
				 * reads that could not sleep, refused as
				 * the model had taken nothing since such
				 * a read timed out */
	__u64 reserved[7];
};

struct pciem_ring_header {
	__u32 magic;			/* PCIEM_RING_MAGIC */
	__u32 version;			/* PCIEM_RING_VERSION */
	__u32 entries;			/* slots, a power of two */
	__u32 entry_size;		/* sizeof(struct pciem_req) */
	__u64 slots_offset;		/* byte offset of slot 0 in the map */
	__u8 pad0[40];
	/* cache line 1: written by the kernel */
	__u32 prod;			/* next sequence slot to fill */
	__u32 kernel_waiting;		/* kernel sleeps on an answer */
	__u8 pad1[56];
	/* cache line 2: written by the model */
	__u32 cons;			/* next slot the model will handle */
	__u32 model_flags;		/* PCIEM_MODEL_F_* */
	__u8 pad2[56];
	/* cache lines 3-4: kernel-written statistics */
	struct pciem_ring_stats stats;
};

/* PCIEM_IOC_DEV_CONFIG: per-device tunables (device fd) */
#define PCIEM_CONFIG_F_READ_TIMEOUT	(1u << 0) /* set read_timeout_us */
#define PCIEM_CONFIG_F_SPIN		(1u << 1) /* set spin_us */
#define PCIEM_CONFIG_FLAGS_ALL		0x3u

struct pciem_dev_config {
	__u32 size;
	__u32 flags;			/* which fields to set; 0 = only read */
	__u32 read_timeout_us;		/* in/out: give up on a read after this
					 * (1 us .. 10 s, default 1 s): the read
					 * returns all-ones, stats count it */
	__u32 spin_us;			/* in/out: spin this long for an answer
					 * before sleeping, where sleeping is
					 * allowed (default 100 us) */
};

/* PCIEM_IOC_SHADOW: serve reads of a register range from the shadow */
struct pciem_shadow {
	__u32 size;
	__u32 flags;			/* none defined yet */
	__u32 bar;
	__u32 offset;			/* 8-byte aligned */
	__u32 len;			/* multiple of 8; all shadows of a
					 * device total at most 64 KiB */
	__u32 reserved;
	__u64 shadow_offset;		/* out: mmap offset of the backing,
					 * which mirrors bar[offset..+len) */
};

/* ---------------------------------------------------------------------- */
/* Device fd: interrupts                                                   */
/* ---------------------------------------------------------------------- */

/*
 * PCIEM_IOC_RAISE: signal MSI-X table entry / MSI vector `value`. With the
 * vector masked it becomes pending (PBA / Pending Bits) and fires once
 * unmasked. EAGAIN: neither MSI nor MSI-X is enabled (the device cannot
 * signal); EINVAL: no such vector in the enabled mode.
 * PCIEM_IOC_SET_INTX: drive the INTx line to `value` (0 or 1); level
 * triggered, gated by Interrupt Disable. EINVAL if the function has no
 * interrupt pin.
 */
struct pciem_irq_req {
	__u32 size;
	__u32 flags;			/* none defined yet: 0 */
	__u32 value;
	__u32 reserved;
};

/*
 * PCIEM_IOC_IRQFD: bind an eventfd to MSI/MSI-X vector `vector`: every
 * count added to it raises the vector once (irqfd style: a model thread
 * interrupts with write(2) on the eventfd, no PCIem call). With
 * PCIEM_IRQFD_F_DEASSIGN the binding of `fd` is removed instead.
 * EBUSY: that eventfd is already bound; ENOENT: not bound (deassign).
 */
#define PCIEM_IRQFD_F_DEASSIGN	(1u << 0)

struct pciem_irqfd_req {
	__u32 size;
	__u32 flags;			/* PCIEM_IRQFD_F_* */
	__s32 fd;			/* the eventfd */
	__u32 vector;
	__u64 reserved;
};

/* ---------------------------------------------------------------------- */
/* Device fd: DMA                                                          */
/* ---------------------------------------------------------------------- */

/*
 * PCIEM_IOC_DMA: the device reads or writes host memory at bus addresses
 * its driver handed out. PCIem installs its own DMA mapping operations on
 * its functions, so it knows every live mapping, and checks every access
 * against them (the DMA sanitizer): Bus Master Enable must be set, every
 * byte must lie in a live mapping, the device reads only TO_DEVICE and
 * BIDIRECTIONAL mappings and writes only FROM_DEVICE and BIDIRECTIONAL
 * ones, atomics need a naturally aligned 4- or 8-byte operand in a
 * BIDIRECTIONAL mapping and are done as locked instructions on host
 * memory. A refused transfer touches nothing: its `fault` says why and
 * `fault_addr` where, the kernel log says which mapping was nearest and
 * where it was made (and unmapped), and the batch stops there.
 *
 * PCIEM_DMA_RAISE signals MSI-X table entry / MSI vector `operand` exactly
 * as PCIEM_IOC_RAISE does, once every transfer before it in the batch is
 * done: a device completing work writes its data, then the entry that
 * says so, then the interrupt that announces it, in one call. `len`,
 * `addr`, `buf` and `compare` must be 0. Its `result` is 0 or the negative
 * errno PCIEM_IOC_RAISE would return (-EAGAIN: neither MSI nor MSI-X
 * enabled; -EINVAL: no such vector); a failed raise does not stop the
 * batch. Modules that know it say so in pciem_info.features.
 */
enum pciem_dma_op {
	PCIEM_DMA_READ = 1,		/* host memory at addr -> buf */
	PCIEM_DMA_WRITE = 2,		/* buf -> host memory at addr */
	PCIEM_DMA_FETCH_ADD = 3,	/* result = old; *addr += operand */
	PCIEM_DMA_SWAP = 4,		/* result = old; *addr = operand */
	PCIEM_DMA_CAS = 5,		/* result = old; if old == compare:
					 * *addr = operand */
	PCIEM_DMA_RAISE = 6,		/* signal vector `operand`, as
					 * PCIEM_IOC_RAISE; result = 0 or
					 * -errno (PCIEM_INFO_F_DMA_RAISE) */
};

enum pciem_dma_fault {
	PCIEM_DMA_OK = 0,
	PCIEM_DMA_F_BUS_MASTER = 1,	/* Bus Master Enable clear */
	PCIEM_DMA_F_UNMAPPED = 2,	/* a byte no mapping covers */
	PCIEM_DMA_F_STALE = 3,		/* ... whose mapping was unmapped */
	PCIEM_DMA_F_BOUNDS = 4,		/* runs off the end of its mapping */
	PCIEM_DMA_F_DIRECTION = 5,	/* against the mapping's direction */
	PCIEM_DMA_F_ALIGNMENT = 6,	/* atomic misaligned or not 4/8 */
	PCIEM_DMA_F_INJECTED = 7,	/* refused by an injected fault
					 * (PCIEM_FAULT_DMA_REFUSE) */
};

/* Most bytes one PCIEM_DMA_READ/WRITE transfer may move. */
#define PCIEM_DMA_MAX_LEN	(64u << 20)

struct pciem_dma_xfer {
	__u32 op;			/* enum pciem_dma_op */
	__u32 len;			/* bytes; atomics: 4 or 8 */
	__u64 addr;			/* bus address */
	__u64 buf;			/* READ/WRITE: user buffer */
	__u64 operand;			/* atomics: addend / new value */
	__u64 compare;			/* CAS: expected old value */
	__u64 result;			/* out: atomics: the old value */
	__u32 fault;			/* out: enum pciem_dma_fault */
	__u32 reserved;			/* in: 0 */
	__u64 fault_addr;		/* out: first refused byte */
};

struct pciem_dma_req {
	__u32 size;
	__u32 flags;			/* none defined yet: 0 */
	__u64 xfers_ptr;		/* user pointer to count transfers */
	__u32 count;			/* 1 .. 256 */
	__u32 xfer_size;		/* sizeof(struct pciem_dma_xfer) */
	__u32 done;			/* out: transfers completed; a fault
					 * stops the batch at xfers[done] */
	__u32 reserved;
};

/*
 * PCIEM_IOC_DMA_WINDOW: zero-copy DMA, opt-in per function. Before the
 * function is on the bus (create it with PCIEM_CREATE_F_DEFER_ADD, call
 * this, then PCIEM_IOC_START), ask for a window of window_size bytes of
 * pages PCIem owns. From then on all of the function's DMA lands there:
 * coherent allocations are carved from it, and streaming mappings are
 * bounced through it as swiotlb does (copied in at map and
 * sync_for_device for TO_DEVICE/BIDIRECTIONAL, out at unmap and
 * sync_for_cpu for FROM_DEVICE/BIDIRECTIONAL). The model mmaps the device
 * fd at PCIEM_MMAP_DMA_WINDOW and reaches bus address bus_base + off at
 * map offset off, with no system call and no check. PCIEM_IOC_DMA keeps
 * working, checked, on the same mappings. EBUSY once the function is on
 * the bus or already has a window; ENOMEM if the pages cannot be had.
 *
 * PCIEM_DMA_WINDOW_F_NO_BOUNCE: only coherent memory comes from the window
 * (queues, descriptor rings, shadow doorbells: what a model polls);
 * streaming mappings are not bounced but get ordinary bus addresses above
 * the window and are reached, checked, through PCIEM_IOC_DMA, which then
 * copies once, straight into the driver's buffer.
 */
#define PCIEM_MMAP_DMA_WINDOW	((__u64)16 << 40)
#define PCIEM_MAX_DMA_WINDOW	(1ull << 30)
#define PCIEM_DMA_WINDOW_F_NO_BOUNCE	(1u << 0)

struct pciem_dma_window {
	__u32 size;
	__u32 flags;			/* PCIEM_DMA_WINDOW_F_* */
	__u64 window_size;		/* in: multiple of 2 MiB, at most
					 * PCIEM_MAX_DMA_WINDOW */
	__u64 bus_base;			/* out: bus address of byte 0 */
	__u64 mmap_offset;		/* out: PCIEM_MMAP_DMA_WINDOW */
	__u64 perm_mmap_offset;		/* out: PCIEM_MMAP_DMA_PERM */
};

/*
 * What the device may do to each page of the window right now, so that a
 * model touching the window directly can be checked as PCIEM_IOC_DMA
 * checks (the sanitizer, with no system call): mapped read-only at
 * PCIEM_MMAP_DMA_PERM, a struct pciem_dma_perm, then one byte per 4 KiB
 * page of the window, PCIEM_DMA_PERM_* bits, kept current by the kernel
 * as the driver maps and unmaps. An access the bytes do not allow goes
 * through PCIEM_IOC_DMA, which refuses it and logs why.
 */
#define PCIEM_MMAP_DMA_PERM	((__u64)17 << 40)
#define PCIEM_DMA_PERM_MAGIC	0x7065726d	/* "perm" */
#define PCIEM_DMA_PERM_READ	(1u << 0)	/* the device may read it */
#define PCIEM_DMA_PERM_WRITE	(1u << 1)	/* the device may write it */

struct pciem_dma_perm {
	__u32 magic;			/* PCIEM_DMA_PERM_MAGIC */
	__u32 bus_master;		/* Bus Master Enable, as programmed */
	__u32 pages;			/* bytes that follow */
	__u32 reserved;
};

/*
 * PCIEM_IOC_DMA_WINDOW_FD: the function's DMA window as a file of its own,
 * for a process that is to reach the window and nothing else: an external
 * device server the model hands it to (vfio-user DMA_MAP). mmap() of it,
 * MAP_SHARED, at offset off reaches bus address bus_base + off; it has no
 * ioctls and no read or write. Each call makes a new file (O_CLOEXEC).
 * It does not keep the function: once the function is gone, pages a
 * mapping already reached stay with that mapping (nothing else uses them
 * any more) and any other access to the window raises SIGBUS.
 * ENXIO: the function has no window (PCIEM_IOC_DMA_WINDOW).
 *
 * PCIEM_DMA_WINDOW_FD_F_CONFINED: the file reaches the driver's live
 * mappings and nothing else, as an IOMMU would confine the device: a page
 * is mapped only while a live mapping covers it, and writable only if
 * that mapping lets the device write; Bus Master Enable off closes it all.
 * Any other access is a DMA fault, logged by the sanitizer with the
 * mapping's history, that raises SIGBUS in the process that made it. After
 * an unmap the pages leave the process's page tables within a work item's
 * run (unmaps come from interrupt handlers), and the window memory they
 * held is not reused until they have: the IOMMU's lazy mode. Granularity
 * is the page.
 */
#define PCIEM_DMA_WINDOW_FD_F_CONFINED	(1u << 0)

struct pciem_dma_window_fd {
	__u32 size;
	__u32 flags;			/* PCIEM_DMA_WINDOW_FD_F_* */
	__s32 fd;			/* out: the window's file descriptor */
	__u32 reserved;
	__u64 window_size;		/* out: bytes */
	__u64 bus_base;			/* out: bus address of byte 0 */
};

/* ---------------------------------------------------------------------- */
/* Device fd: BAR pages backed by the caller's memory                      */
/* ---------------------------------------------------------------------- */

/*
 * PCIEM_IOC_BAR_BACKING: before the function is on the bus (create it
 * with PCIEM_CREATE_F_DEFER_ADD, call this, then PCIEM_IOC_START), make
 * len bytes at offset of trapped memory BAR `bar` plain memory: the pages
 * of the caller's mapping at addr (a MAP_SHARED mapping of memory another
 * process shares, such as a vfio-user server's mmap()able region). The
 * kernel pins them (long-term, for writing) until the function is freed,
 * and the driver's ioremap of those BAR pages maps them: its accesses are
 * not trapped and the model sees no requests for them, only the bytes.
 * The rest of the BAR stays trapped. Call it once per piece (sparse mmap).
 *
 * offset, len and addr are page aligned, len is not 0, the piece lies in
 * the BAR, and no page of it is backed already. The BAR is a memory BAR
 * without PCIEM_BAR_RAM (a RAM BAR's pages are the kernel's) of at most
 * PCIEM_MAX_RAM_BAR bytes; the device fd cannot mmap it (its owner has
 * the memory already). Errors: EINVAL (arguments, or not such a BAR),
 * EBUSY (the function is on the bus, or a page is backed already),
 * EFAULT (addr..addr+len is not mapped writable, or cannot be pinned).
 */
struct pciem_bar_backing {
	__u32 size;
	__u32 flags;			/* none defined yet: 0 */
	__u32 bar;			/* BAR index, 0..5 */
	__u32 reserved;
	__u64 offset;			/* in the BAR, page aligned */
	__u64 len;			/* bytes, page aligned, not 0 */
	__u64 addr;			/* user address, page aligned */
};

/* ---------------------------------------------------------------------- */
/* PCIEM_IOC_LIST (control fd): the functions that exist now               */
/* ---------------------------------------------------------------------- */

/* pciem_list_entry.state */
#define PCIEM_STATE_PRESENT	1 /* on the bus: answers config cycles */
#define PCIEM_STATE_DETACHED	2 /* removed by the PCI core (sysfs
				   * remove): gone for good, its fd lives
				   * on until closed */
#define PCIEM_STATE_NOT_STARTED	3 /* PCIEM_CREATE_F_DEFER_ADD, waiting for
				   * PCIEM_IOC_START: invisible to config
				   * cycles and rescans */
#define PCIEM_STATE_REMOVING	4 /* its fd was released: being taken
				   * off the bus */
#define PCIEM_STATE_PULLED	5 /* surprise-removed by an injected fault
				   * (PCIEM_FAULT_SURPRISE_REMOVE); its
				   * model runs on, PCIEM_FAULT_REINSERT
				   * plugs it in again */

struct pciem_list_entry {
	__u32 domain;
	__u8 bus;
	__u8 devfn;
	__u16 vendor_id;
	__u16 device_id;
	__u16 reserved;
	__u32 class_code;
	__u32 state;			/* PCIEM_STATE_* */
	__s32 owner_pid;		/* thread group that created it */
	char owner_comm[16];		/* its command name */
	/* Added in the second layout (entry_size says which one you get): */
	char label[PCIEM_LABEL_LEN];	/* pciem_create.label, NUL-terminated */
};

struct pciem_list {
	__u32 size;
	__u32 flags;			/* in: 0 */
	__u32 entry_size;		/* in: sizeof(struct pciem_list_entry) as
					 * the caller knows it (the first layout
					 * ends with owner_comm) */
	__u32 capacity;			/* in: entries room at entries_ptr */
	__u64 entries_ptr;		/* in: user pointer */
	__u32 count;			/* out: functions that exist (may
					 * exceed capacity: call again) */
	__u32 reserved;
};

/* ---------------------------------------------------------------------- */
/* PCIEM_IOC_INJECT (control fd): hardware that misbehaves on demand        */
/* ---------------------------------------------------------------------- */

/*
 * Faults are injected by pciem.ko itself, for any function and any model,
 * and set and cleared at runtime. A *rule* stays until cleared or spent
 * and acts on the events it matches: `after` of them pass first, then
 * every `every`-th (0 or 1: each) fires, with `probability` (per million;
 * 0: always), at most `count` times (0: no limit). PCIEM_INJECT_F_REGION
 * limits MMIO rules to `len` bytes at `offset` of BAR `bar`, and DMA rules
 * to transfers touching bus addresses `offset` .. `offset + len - 1`;
 * PCIEM_INJECT_F_VECTOR limits interrupt rules to vector `vector`.
 * An *action* happens once, at the ioctl. EINVAL: unknown fault, a field
 * that does not apply is non-zero; ENODEV: no such function; EOPNOTSUPP:
 * the function cannot take that fault (AER needs a Root Complex Integrated
 * Endpoint with an AER capability); EALREADY: the action's state holds
 * (removed, link down) or does not (REINSERT, LINK_UP).
 */
enum pciem_fault {
	PCIEM_FAULT_MMIO_ALL_ONES = 1,	/* rule: a read completes as all-ones
					 * (completion timeout / unsupported
					 * request); the model never sees it */
	PCIEM_FAULT_MMIO_LATENCY = 2,	/* rule: a read waits `param` ns more;
					 * beyond the read timeout it completes
					 * as all-ones after the timeout */
	PCIEM_FAULT_IRQ_DROP = 3,	/* rule: a raised interrupt is lost */
	PCIEM_FAULT_IRQ_DELAY = 4,	/* rule: it arrives `param` ns late */
	PCIEM_FAULT_IRQ_SPURIOUS = 5,	/* action: vector `param` raised
					 * `count` (0: 1) times, unasked */
	PCIEM_FAULT_DMA_REFUSE = 6,	/* rule: a transfer of the model is
					 * refused (PCIEM_DMA_F_INJECTED) */
	PCIEM_FAULT_DMA_POISON = 7,	/* rule: a transfer moves its data with
					 * bits flipped (the xor of `param`'s
					 * low byte, 0: 0xff) */
	PCIEM_FAULT_SURPRISE_REMOVE = 8, /* action: the function leaves the bus
					 * as if pulled; its model keeps running */
	PCIEM_FAULT_REINSERT = 9,	/* action: ... and is plugged in again */
	PCIEM_FAULT_AER_CORRECTABLE = 10, /* action: a correctable error
					 * (`param`: Correctable Error Status
					 * bits, 0: Receiver Error) */
	PCIEM_FAULT_AER_NONFATAL = 11,	/* action: an uncorrectable non-fatal
					 * error (`param`: Uncorrectable Error
					 * Status bits, 0: Completion Timeout) */
	PCIEM_FAULT_AER_FATAL = 12,	/* action: a fatal one (`param` as
					 * above, 0: Surprise Down) */
	PCIEM_FAULT_LINK_DOWN = 13,	/* action: every access master-aborts
					 * until LINK_UP */
	PCIEM_FAULT_LINK_UP = 14,	/* action: the link trains again */
	PCIEM_FAULT_CRS = 15,		/* rule: for `param` ms after a reset
					 * (FLR, LINK_UP, REINSERT) config
					 * reads answer Configuration Request
					 * Retry Status */
	PCIEM_FAULT_MMIO_FLIP = 16,	/* rule: a read reaches the model and
					 * its answer comes back with the bits
					 * of `param` (non-zero) flipped; bit 0
					 * is bit 0 of the value read */
	PCIEM_FAULT__COUNT
};

#define PCIEM_INJECT_F_REGION	(1u << 0)
#define PCIEM_INJECT_F_VECTOR	(1u << 1)

struct pciem_inject {
	__u32 size;
	__u32 flags;			/* PCIEM_INJECT_F_* */
	__u32 domain;			/* the function: domain, bus, devfn */
	__u8 bus;
	__u8 devfn;
	__u16 fault;			/* enum pciem_fault */
	__u32 count;
	__u32 after;
	__u32 every;
	__u32 probability;		/* per million, 0..1000000 */
	__u32 bar;			/* PCIEM_INJECT_F_REGION */
	__u32 vector;			/* PCIEM_INJECT_F_VECTOR */
	__u64 offset;			/* PCIEM_INJECT_F_REGION */
	__u64 len;			/* PCIEM_INJECT_F_REGION */
	__u64 param;
	__u32 id;			/* out: the rule's id (rules only) */
	__u32 reserved2;
};

/* PCIEM_IOC_INJECT_CLEAR: remove rule `id` of a function, or all (0). */
struct pciem_inject_clear {
	__u32 size;
	__u32 flags;			/* none defined yet: 0 */
	__u32 domain;
	__u8 bus;
	__u8 devfn;
	__u16 reserved;
	__u32 id;			/* 0: every rule of the function */
	__u32 reserved2;
};

/* ---------------------------------------------------------------------- */
/* PCIEM_IOC_RECORD (control fd): what a function's device side saw         */
/* ---------------------------------------------------------------------- */

/*
 * PCIEM_IOC_RECORD returns a read-only file descriptor (O_CLOEXEC) that
 * streams records of everything the function's device side sees and
 * answers, from that moment until the fd is closed or the function goes:
 * config cycles (with the value the driver got), MMIO (likewise),
 * interrupts raised, DMA transfers with the bytes moved, and its life.
 * The first record, PCIEM_REC_CREATE, holds the request that created the
 * function, so a recording can be replayed on a new one. read() blocks
 * until records are there (O_NONBLOCK: EAGAIN) and returns whole records
 * only; it returns 0 once the function is gone and everything was read.
 * Records that did not fit the buffer (`buffer_kb`, default 16 MiB) are
 * lost, never blocked for: a PCIEM_REC_LOST record says how many. One
 * recorder per function (EBUSY).
 *
 * Every record starts with struct pciem_rec and is rec.len bytes long, a
 * multiple of 8; payloads are little-endian, as the structures below.
 */
enum pciem_rec_type {
	PCIEM_REC_CREATE = 1,		/* struct pciem_create, then caps_len
					 * bytes of records, then each body
					 * in order (pointers are 0) */
	PCIEM_REC_CFG_READ = 2,		/* struct pciem_rec_access */
	PCIEM_REC_CFG_WRITE = 3,	/* struct pciem_rec_access */
	PCIEM_REC_MMIO_READ = 4,	/* struct pciem_rec_access */
	PCIEM_REC_MMIO_WRITE = 5,	/* struct pciem_rec_access */
	PCIEM_REC_IRQ = 6,		/* struct pciem_rec_irq */
	PCIEM_REC_DMA = 7,		/* struct pciem_rec_dma, then the bytes
					 * moved (READ: as read, WRITE: as
					 * written), padded to 8 */
	PCIEM_REC_STATE = 8,		/* struct pciem_rec_state */
	PCIEM_REC_LOST = 9,		/* struct pciem_rec_lost */
	PCIEM_REC_FAULT = 10,		/* struct pciem_rec_fault: a fault
					 * PCIEM_IOC_INJECT made happen */
};

struct pciem_rec {
	__u16 type;			/* enum pciem_rec_type */
	__u16 flags;			/* type-specific */
	__u32 len;			/* bytes of the record, this included */
	__u64 ns;			/* CLOCK_MONOTONIC */
};

/* pciem_rec_access.flags */
#define PCIEM_REC_F_MODEL	(1u << 0) /* the model answered / saw it */
#define PCIEM_REC_F_ABORT	(1u << 1) /* master abort / all-ones */

struct pciem_rec_access {
	struct pciem_rec hdr;
	__u32 bar;			/* MMIO: BAR; config: 0 */
	__u32 size;			/* 1, 2, 4 or 8 */
	__u64 offset;			/* in the BAR, or config offset */
	__u64 value;			/* read: the answer; write: the data */
};

/* pciem_rec_irq.flags */
#define PCIEM_REC_F_INTX	(1u << 0) /* the INTx line, value = level */

struct pciem_rec_irq {
	struct pciem_rec hdr;
	__u32 value;			/* vector, or the INTx level */
	__s32 result;			/* 0, or the raise's negative errno */
};

struct pciem_rec_dma {
	struct pciem_rec hdr;
	__u32 op;			/* enum pciem_dma_op */
	__u32 fault;			/* enum pciem_dma_fault */
	__u64 addr;
	__u64 len;			/* bytes of the transfer */
	__u64 result;			/* atomics: the old value */
	__u64 operand;			/* atomics */
	__u64 compare;			/* CAS */
	__u64 data_len;			/* bytes that follow (may be less
					 * than len: PCIEM_REC_F_TRUNCATED) */
};

#define PCIEM_REC_F_TRUNCATED	(1u << 0)

struct pciem_rec_state {
	struct pciem_rec hdr;
	__u32 state;			/* PCIEM_STATE_* */
	__u32 reserved;
};

struct pciem_rec_lost {
	struct pciem_rec hdr;
	__u64 count;			/* records dropped since the last one */
};

struct pciem_rec_fault {
	struct pciem_rec hdr;
	__u32 fault;			/* enum pciem_fault */
	__u32 id;			/* the rule, 0 for an action */
	__u64 detail;			/* the access's offset, vector, ... */
};

struct pciem_record_req {
	__u32 size;
	__u32 flags;			/* none defined yet: 0 */
	__u32 domain;
	__u8 bus;
	__u8 devfn;
	__u16 reserved;
	__u32 buffer_kb;		/* 0: 16384; 64 .. 1048576 */
	__u32 reserved2;
};

/* ---------------------------------------------------------------------- */
/* ioctl commands                                                         */
/* ---------------------------------------------------------------------- */

#define PCIEM_IOC_MAGIC		0xE7

#define PCIEM_IOC_GET_INFO	_IOWR(PCIEM_IOC_MAGIC, 0x00, struct pciem_info)
#define PCIEM_IOC_CREATE	_IOWR(PCIEM_IOC_MAGIC, 0x01, struct pciem_create)
#define PCIEM_IOC_LIST		_IOWR(PCIEM_IOC_MAGIC, 0x02, struct pciem_list)
#define PCIEM_IOC_INJECT	_IOWR(PCIEM_IOC_MAGIC, 0x03, struct pciem_inject)
#define PCIEM_IOC_INJECT_CLEAR	_IOW(PCIEM_IOC_MAGIC, 0x04, struct pciem_inject_clear)
/* Returns the recording fd. */
#define PCIEM_IOC_RECORD	_IOW(PCIEM_IOC_MAGIC, 0x05, struct pciem_record_req)
#define PCIEM_IOC_DEV_INFO	_IOWR(PCIEM_IOC_MAGIC, 0x40, struct pciem_dev_info)
#define PCIEM_IOC_DEV_CONFIG	_IOWR(PCIEM_IOC_MAGIC, 0x41, struct pciem_dev_config)
#define PCIEM_IOC_SET_EVENTFD	_IOW(PCIEM_IOC_MAGIC, 0x42, __s32)
#define PCIEM_IOC_WAKE		_IO(PCIEM_IOC_MAGIC, 0x43)
#define PCIEM_IOC_SHADOW	_IOWR(PCIEM_IOC_MAGIC, 0x44, struct pciem_shadow)
#define PCIEM_IOC_RAISE		_IOW(PCIEM_IOC_MAGIC, 0x45, struct pciem_irq_req)
#define PCIEM_IOC_SET_INTX	_IOW(PCIEM_IOC_MAGIC, 0x46, struct pciem_irq_req)
#define PCIEM_IOC_IRQFD		_IOW(PCIEM_IOC_MAGIC, 0x47, struct pciem_irqfd_req)
/* Put a function created with PCIEM_CREATE_F_DEFER_ADD on the bus. Drivers
 * probe inside this call, so the model must already be serving its ring
 * from another thread. EALREADY if it is on the bus already. */
#define PCIEM_IOC_START		_IO(PCIEM_IOC_MAGIC, 0x48)
#define PCIEM_IOC_DMA		_IOWR(PCIEM_IOC_MAGIC, 0x49, struct pciem_dma_req)
#define PCIEM_IOC_DMA_WINDOW	_IOWR(PCIEM_IOC_MAGIC, 0x4a, struct pciem_dma_window)
#define PCIEM_IOC_DMA_WINDOW_FD	_IOWR(PCIEM_IOC_MAGIC, 0x4b, struct pciem_dma_window_fd)
#define PCIEM_IOC_BAR_BACKING	_IOW(PCIEM_IOC_MAGIC, 0x4c, struct pciem_bar_backing)

#endif /* _UAPI_LINUX_PCIEM_H */
