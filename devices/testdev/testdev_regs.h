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

/*
 * BAR0: 4 MiB, 64-bit, non-prefetchable: the registers (in its first
 * 64 KiB). 4 MiB so that ioremap maps it with 2 MiB leaves and the trap's
 * huge-mapping path is exercised by every register test.
 */
#define TESTDEV_BAR0_SIZE	0x400000
/* BAR2: 2 MiB, 64-bit, prefetchable RAM BAR (PCIEM_BAR_RAM). */
#define TESTDEV_BAR2_SIZE	0x200000
/*
 * BAR4: 64 KiB, 64-bit: the MSI-X table (2048 entries at 0) and PBA (at
 * 0x8000), served by pciem.ko itself. MSI: 32 vectors, 64-bit, per-vector
 * masking. Interrupt pin INTA.
 */
#define TESTDEV_BAR4_SIZE	0x10000
#define TESTDEV_MSIX_VECTORS	2048
#define TESTDEV_MSIX_PBA	0x8000
#define TESTDEV_MSI_VECTORS	32

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

/*
 * RAM BAR (BAR2): plain memory shared with the model, not trapped. These
 * registers let the driver check both sides see the same bytes.
 */
#define TESTDEV_RAM_PEEK_OFF	0x0050	/* RW32: byte offset into BAR2 (dword
					 * aligned down, wrapped to the BAR) */
#define TESTDEV_RAM_PEEK	0x0054	/* RO32: the model reads BAR2[PEEK_OFF]
					 * from its own mapping */
#define TESTDEV_RAM_POKE	0x0058	/* WO32: the model writes the value to
					 * BAR2[PEEK_OFF] from its side */

/* Interrupts. */
#define TESTDEV_IRQ_RAISE	0x0100	/* WO32: raise MSI/MSI-X vector value */
#define TESTDEV_IRQ_INTX	0x0104	/* RW32: bit 0 drives the INTx line */
#define TESTDEV_IRQ_STORM_COUNT	0x0108	/* RW32: raises in a storm */
#define TESTDEV_IRQ_STORM_NVEC	0x010c	/* RW32: vectors 0..n-1, round robin */
#define TESTDEV_IRQ_STORM_GO	0x0110	/* WO32: start the storm from a model
					 * thread through the vectors' irqfds;
					 * returns at once */
#define TESTDEV_IRQ_STORM_DONE	0x0114	/* RO32: raises the storm issued so far */
#define TESTDEV_IRQ_VIA_IRQFD	0x0118	/* RW32: 1: IRQ_RAISE signals the
					 * vector's irqfd instead of the ioctl */
#define TESTDEV_IRQ_RAISE_ERR	0x011c	/* RO32: errno of the last failed
					 * raise (EAGAIN when MSI/MSI-X is off),
					 * 0 if none; read clears */

/*
 * What the model heard of the driver's interrupt configuration
 * (PCIEM_REQ_IRQ_CONFIG events), mirrored from the events alone.
 */
#define TESTDEV_IRQCFG_EVENTS	0x0120	/* RO32: events received */
#define TESTDEV_IRQCFG_MODE	0x0124	/* RO32: TESTDEV_IRQCFG_M_* */
#define TESTDEV_IRQCFG_UNMASKED	0x0128	/* RO32: MSI-X entries whose Mask bit
					 * is clear while MSI-X is enabled, or
					 * MSI vectors enabled and not masked */
#define TESTDEV_IRQCFG_M_MSI	(1u << 0)	/* MSI Enable */
#define TESTDEV_IRQCFG_M_MSIX	(1u << 1)	/* MSI-X Enable */
#define TESTDEV_IRQCFG_M_FMASK	(1u << 2)	/* MSI-X Function Mask */
#define TESTDEV_IRQCFG_M_INTX_DIS (1u << 3)	/* Interrupt Disable */
#define TESTDEV_IRQCFG_M_NVEC_SHIFT 8		/* bits 8..15: MSI vectors */

/*
 * DMA engine. Writing DMA_CMD runs the command in the model with dma(),
 * checked by PCIem against the driver's mappings; a read of DMA_STATUS
 * after it sees the outcome (reads are ordered after posted writes).
 */
#define TESTDEV_DMA_SRC		0x0200	/* RW64: bus address read from */
#define TESTDEV_DMA_DST		0x0208	/* RW64: bus address written to */
#define TESTDEV_DMA_LEN		0x0210	/* RW32: bytes (<= TESTDEV_DMA_MAX);
					 * atomics: operand size 4 or 8 */
#define TESTDEV_DMA_SEED	0x0214	/* RW32: FILL pattern seed */
#define TESTDEV_DMA_OPERAND	0x0218	/* RW64: atomics: addend / new value */
#define TESTDEV_DMA_COMPARE	0x0220	/* RW64: CAS: expected old value */
#define TESTDEV_DMA_CMD		0x0228	/* WO32: TESTDEV_DMA_CMD_* */
#define TESTDEV_DMA_STATUS	0x022c	/* RO32: TESTDEV_DMA_ST_* of the last
					 * command */
#define TESTDEV_DMA_RESULT	0x0230	/* RO64: CSUM: the checksum; atomics:
					 * old value (of the last one) */
#define TESTDEV_DMA_FAULT_ADDR	0x0238	/* RO64: first refused byte */
#define TESTDEV_DMA_COUNT	0x0240	/* RW32: FETCH_ADD repeats (0 = 1) */
#define TESTDEV_DMA_DIRECT	0x0244	/* RW32: 1: COPY/FILL/CSUM/READ/WRITE
					 * touch the zero-copy window directly
					 * where the bytes lie in it (unchecked);
					 * 0: always the checked path */
#define TESTDEV_DMA_DIRECT_HITS	0x0248	/* RO32: transfers done directly */
#define TESTDEV_DMA_PACE_US	0x024c	/* RW32: pause this many us after each
					 * 64 KiB a checked bulk write moves
					 * (0: none), so a driver can act in
					 * the middle of a transfer */
#define TESTDEV_DMA_MAX		(4u << 20)

#define TESTDEV_DMA_CMD_COPY	 1	/* LEN bytes from SRC to DST */
#define TESTDEV_DMA_CMD_FILL	 2	/* DST[i] = testdev_dma_pattern(SEED, i) */
#define TESTDEV_DMA_CMD_CSUM	 3	/* RESULT = testdev_dma_csum(SRC, LEN) */
#define TESTDEV_DMA_CMD_FETCH_ADD 4	/* COUNT x: RESULT = *DST, *DST += OPERAND */
#define TESTDEV_DMA_CMD_SWAP	 5	/* RESULT = *DST, *DST = OPERAND */
#define TESTDEV_DMA_CMD_CAS	 6	/* RESULT = *DST, if == COMPARE: = OPERAND */
#define TESTDEV_DMA_CMD_READ	 7	/* LEN bytes from SRC, discarded (bench) */
#define TESTDEV_DMA_CMD_WRITE	 8	/* LEN bytes of the engine's buffer to DST */

/* DMA_STATUS: 0, or why PCIem refused the device's access */
#define TESTDEV_DMA_ST_OK		0
#define TESTDEV_DMA_ST_BUS_MASTER	1
#define TESTDEV_DMA_ST_UNMAPPED		2
#define TESTDEV_DMA_ST_STALE		3
#define TESTDEV_DMA_ST_BOUNDS		4
#define TESTDEV_DMA_ST_DIRECTION	5
#define TESTDEV_DMA_ST_ALIGNMENT	6
#define TESTDEV_DMA_ST_NO_HOST		7
#define TESTDEV_DMA_ST_BAD_CMD		8	/* unknown command or LEN */
#define TESTDEV_DMA_ST_INJECTED		9	/* refused by an injected fault */

/* The FILL pattern: every byte depends on its offset and the seed. */
static inline unsigned char testdev_dma_pattern(unsigned int seed,
						unsigned long long i)
{
	return (unsigned char)((i * 131 + (i >> 8) * 7 + seed) & 0xff);
}

/* CSUM: FNV-1a, 64 bits, over the bytes in order. */
#define TESTDEV_FNV_OFFSET	0xcbf29ce484222325ull
#define TESTDEV_FNV_PRIME	0x100000001b3ull

#define TESTDEV_STATUS_UNDERFLOW (1u << 31)

/* 0x1000..0x1fff: plain RW storage, any width, for memcpy_*io/memset_io */
#define TESTDEV_MEM		0x1000
#define TESTDEV_MEM_SIZE	0x1000

#endif /* PCIEM_TESTDEV_REGS_H */
