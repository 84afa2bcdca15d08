/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Register map of the PCIem test device ("testdev"), shared by its C++
 * model (devices/testdev) and the kernel test driver that exercises every
 * MMIO accessor against it (drivers/pciem_mmio_test). Each register has
 * a semantics a wrong emulation would break: read-to-clear, FIFOs,
 * counters that move on every read, write counters that expose
 * reordering.
 */
#ifndef PCIEM_TESTDEV_REGS_H
#define PCIEM_TESTDEV_REGS_H

#define TESTDEV_VENDOR_ID	0x1b36
#define TESTDEV_DEVICE_ID	0x7e10
#define TESTDEV_CLASS		0xff0000

/* BAR0: 64 KiB, 64-bit, non-prefetchable: the registers. */
#define TESTDEV_BAR0_SIZE	0x10000

#define TESTDEV_ID		0x0000	/* RO32: TESTDEV_ID_VALUE */
#define TESTDEV_ID_VALUE	0x50434945u	/* "PCIE" */
#define TESTDEV_VERSION		0x0004	/* RO32: 1 */
#define TESTDEV_SCRATCH		0x0008	/* RW32, any width 1/2/4 within it */
#define TESTDEV_SCRATCH64	0x0010	/* RW64, also 2x32 */
#define TESTDEV_COUNTER		0x0018	/* RO32: value, then += 1 per read */
#define TESTDEV_RC		0x001c	/* RO32 read-to-clear latch */
#define TESTDEV_RC_SET		0x0020	/* WO32: RC |= value */
#define TESTDEV_STATUS		0x0024	/* RW1C32 */
#define TESTDEV_STATUS_SET	0x0028	/* WO32: STATUS |= value */
#define TESTDEV_FIFO		0x002c	/* write pushes, read pops (FIFO order);
					 * read when empty returns 0 and sets
					 * TESTDEV_STATUS_UNDERFLOW */
#define TESTDEV_FIFO_COUNT	0x0030	/* RO32: entries in the FIFO */
#define TESTDEV_WRITE_COUNT	0x0034	/* RO32: writes to BAR0 seen so far
					 * (any register, any width) */
#define TESTDEV_LAST_WRITE	0x0038	/* RO32: low 32 bits of the last write */
#define TESTDEV_DELAY_US	0x0040	/* RW32: answer TESTDEV_SLOW after this */
#define TESTDEV_SLOW		0x0044	/* RO32: TESTDEV_SLOW_VALUE, late */
#define TESTDEV_SLOW_VALUE	0x510e510eu
#define TESTDEV_HANG		0x0048	/* RO32: the model never answers */
#define TESTDEV_SHADOWED	0x0080	/* RO32 x 8 (0x80..0x9f): values
					 * TESTDEV_SHADOW_VALUE(i), served from
					 * the kernel's shadow, no round trip */
#define TESTDEV_SHADOW_VALUE(i)	(0x5ade0000u + (i))

#define TESTDEV_STATUS_UNDERFLOW (1u << 31)

/* 0x1000..0x1fff: plain RW storage, any width, for memcpy_*io/memset_io */
#define TESTDEV_MEM		0x1000
#define TESTDEV_MEM_SIZE	0x1000

#endif /* PCIEM_TESTDEV_REGS_H */
