/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The PCIem framebuffer accelerator ("pciem-fb"): register map and command
 * formats, shared by its C++ model (devices/fb) and its DRM driver
 * (drivers/pciem_fb). docs/fb.md is the datasheet this header encodes.
 *
 * Everything is little-endian. Register offsets are into BAR0.
 */
#ifndef PCIEM_FB_HW_H
#define PCIEM_FB_HW_H

#include <linux/types.h>

#define PFB_VENDOR_ID		0x1b36
#define PFB_DEVICE_ID		0x7e40
#define PFB_CLASS		0x038000	/* display controller, other */

#define PFB_REG_BAR		0	/* 4 KiB, 64-bit: registers */
#define PFB_REG_BAR_SIZE	0x1000
#define PFB_VRAM_BAR		2	/* 64-bit prefetchable memory (VRAM) */
#define PFB_MSIX_BAR		4	/* 4 KiB, 64-bit: MSI-X table and PBA */
#define PFB_MSIX_BAR_SIZE	0x1000
#define PFB_MSIX_PBA		0x800

#define PFB_VRAM_MIN		(1u << 20)
#define PFB_VRAM_MAX		(256u << 20)
#define PFB_VRAM_DEFAULT	(16u << 20)

/* ---- identification (RO) ---- */
#define PFB_ID			0x000	/* PFB_ID_VALUE */
#define PFB_ID_VALUE		0x42464350u	/* "PCFB" */
#define PFB_VERSION		0x004	/* major << 16 | minor */
#define PFB_VERSION_VALUE	0x00010000u
#define PFB_CAPS		0x008
#define  PFB_CAP_XRGB8888	(1u << 0)
#define  PFB_CAP_RGB565		(1u << 1)
#define  PFB_CAP_RING		(1u << 2)
#define  PFB_CAP_VBLANK		(1u << 3)
#define PFB_VRAM_SIZE		0x00c	/* bytes */
#define PFB_MAX_WIDTH		0x010
#define PFB_MAX_HEIGHT		0x014
#define PFB_PREF_WIDTH		0x018	/* the mode the "monitor" prefers */
#define PFB_PREF_HEIGHT		0x01c

/*
 * ---- display (double-buffered) ----
 * WIDTH..FORMAT and SCANOUT_OFFSET are the pending set. Writing
 * SCANOUT_OFFSET arms an update: the device copies the pending set into the
 * active set at the start of the next vblank (DISPLAY_STATUS.UPDATE_PENDING
 * until then). Setting DISPLAY_CTRL.ENABLE latches it at once.
 */
#define PFB_WIDTH		0x040	/* RW pixels */
#define PFB_HEIGHT		0x044	/* RW lines */
#define PFB_STRIDE		0x048	/* RW bytes per line */
#define PFB_FORMAT		0x04c	/* RW PFB_FMT_* */
#define  PFB_FMT_XRGB8888	1
#define  PFB_FMT_RGB565		2
#define PFB_SCANOUT_OFFSET	0x050	/* RW byte offset into VRAM */
#define PFB_REFRESH_HZ		0x054	/* RW 1..240, reset 60 */
#define  PFB_REFRESH_DEFAULT	60
#define  PFB_REFRESH_MAX	240
#define PFB_DISPLAY_CTRL	0x058	/* RW */
#define  PFB_DISPLAY_ENABLE	(1u << 0)
#define PFB_DISPLAY_STATUS	0x05c	/* RO */
#define  PFB_DISPLAY_SCANNING	(1u << 0)	/* enabled with a valid mode */
#define  PFB_DISPLAY_UPDATE_PENDING (1u << 1)
#define  PFB_DISPLAY_MODE_BAD	(1u << 2)	/* last latched set was refused */
#define PFB_FRAME_COUNT		0x060	/* RO vblanks since reset */
#define PFB_ACTIVE_OFFSET	0x064	/* RO the scanout offset in use */

/* ---- interrupts ---- */
#define PFB_IRQ_STATUS		0x080	/* RO causes that occurred */
#define PFB_IRQ_MASK		0x084	/* RW 1 = cause may interrupt */
#define PFB_IRQ_ACK		0x088	/* WO write 1 to clear a status bit */
#define  PFB_IRQ_VBLANK		(1u << 0)
#define  PFB_IRQ_FENCE		(1u << 1)
#define  PFB_IRQ_ERROR		(1u << 2)
#define  PFB_IRQ_ALL		0x7u
/* MSI-X: one vector per cause. MSI (one vector) and INTx: all on one. */
#define PFB_VEC_VBLANK		0
#define PFB_VEC_FENCE		1
#define PFB_VEC_ERROR		2
#define PFB_MSIX_VECTORS	3

/* ---- command ring ---- */
#define PFB_RING_BASE		0x100	/* RW64 bus address, 64-byte aligned */
#define PFB_RING_SIZE		0x108	/* RW bytes: power of two, 4 KiB..1 MiB */
#define  PFB_RING_SIZE_MIN	0x1000u
#define  PFB_RING_SIZE_MAX	0x100000u
#define PFB_RING_CTRL		0x10c	/* RW */
#define  PFB_RING_ENABLE	(1u << 0)
#define PFB_RING_HEAD		0x110	/* RO next byte offset the device reads */
#define PFB_RING_TAIL		0x114	/* RW doorbell: offset after the last command */
#define PFB_RING_STATUS		0x118	/* RO */
#define  PFB_RING_IDLE		(1u << 0)	/* head == tail, nothing running */
#define  PFB_RING_STOPPED	(1u << 1)	/* stopped by an error until reset */
#define PFB_FENCE_SEQNO		0x120	/* RO64 seqno of the last FENCE executed */

/* ---- errors and reset ---- */
#define PFB_ERROR_CODE		0x140	/* RO PFB_ERR_* of the first error */
#define  PFB_ERR_NONE		0
#define  PFB_ERR_OPCODE		1	/* unknown opcode or reserved flags */
#define  PFB_ERR_SURFACE	2	/* surface outside VRAM, bad pitch/format */
#define  PFB_ERR_DMA		3	/* host memory access refused */
#define  PFB_ERR_SG		4	/* scatter-gather list too short or too long */
#define  PFB_ERR_RING		5	/* ring registers invalid, or tail beyond */
#define PFB_ERROR_OFFSET	0x144	/* RO ring offset of the failing command */
#define PFB_ERROR_ADDR		0x148	/* RO64 bus address a DMA fault hit */
#define PFB_RESET		0x150	/* WO */
#define  PFB_RESET_ENGINE	1	/* ring stopped and cleared, error cleared */
#define  PFB_RESET_DEVICE	2	/* every register to its reset value */

/* ---- commands: 64 bytes each in the ring ---- */
#define PFB_CMD_SIZE		64
#define PFB_OP_NOP		0
#define PFB_OP_FILL		1
#define PFB_OP_COPY		2
#define PFB_OP_UPLOAD		3
#define PFB_OP_DOWNLOAD		4
#define PFB_OP_FENCE		5
/* header: opcode in bits 0-7, PFB_FMT_* in bits 8-11, flags in 16-23 */
#define PFB_CMD_OPCODE(h)	((h) & 0xff)
#define PFB_CMD_FORMAT(h)	(((h) >> 8) & 0xf)
#define PFB_CMD_HEADER(op, fmt, flags) ((op) | (fmt) << 8 | (flags) << 16)
#define PFB_FENCE_F_IRQ		(1u << 0)	/* FENCE flag: raise PFB_IRQ_FENCE */
#define PFB_SG_MAX		65536	/* entries in one UPLOAD/DOWNLOAD list */

/* A rectangle of pixels in VRAM; its format is the command's. */
struct pfb_surface {
	__u32 offset;		/* byte offset of pixel (0, 0) in VRAM */
	__u32 pitch;		/* bytes per line */
	__u16 width;		/* pixels, >= 1 */
	__u16 height;		/* lines, >= 1 */
};

/* A rectangle on a surface; clipped to it (x, y may be negative). */
struct pfb_rect {
	__s32 x;
	__s32 y;
	__u32 w;
	__u32 h;
};

/* One scatter-gather entry: host memory seen as one byte stream. */
struct pfb_sg_entry {
	__u64 addr;
	__u32 len;
	__u32 reserved;
};

struct pfb_cmd_fill {		/* 36 bytes used */
	__u32 header;
	struct pfb_surface dst;
	struct pfb_rect rect;
	__u32 color;		/* pixel value in the surface's format */
};

struct pfb_cmd_copy {		/* 52 bytes used; overlapping is allowed */
	__u32 header;
	struct pfb_surface dst;
	struct pfb_surface src;
	struct pfb_rect rect;	/* in dst */
	__s32 src_x;		/* where rect's (x, y) comes from in src */
	__s32 src_y;
};

/* UPLOAD: host image -> dst rect. DOWNLOAD: dst rect -> host image. */
struct pfb_cmd_xfer {		/* 56 bytes used */
	__u32 header;
	struct pfb_surface vram;
	struct pfb_rect rect;	/* in vram */
	__u32 host_pitch;	/* bytes per line of the host image */
	__s32 host_x;		/* where rect's (x, y) is in the host image */
	__s32 host_y;
	__u32 sg_count;		/* entries of the list at sg_addr */
	__u64 sg_addr;		/* bus address of pfb_sg_entry[sg_count] */
};

struct pfb_cmd_fence {		/* 24 bytes used */
	__u32 header;
	__u32 reserved;
	__u64 seqno;
	__u64 addr;		/* bus address of a __u64 to write, 0 = none */
};

union pfb_cmd {
	__u32 header;
	struct pfb_cmd_fill fill;
	struct pfb_cmd_copy copy;
	struct pfb_cmd_xfer xfer;
	struct pfb_cmd_fence fence;
	__u8 bytes[PFB_CMD_SIZE];
};

#endif /* PCIEM_FB_HW_H */
