/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The example RTL DMA engine (devices/rtl/dma-engine): its PCI identity,
 * registers and descriptor format, shared by its SystemVerilog design (whose
 * Verilator test checks the design against these numbers), its C++ reference
 * model and its Linux driver (drivers/pciem_rtl_dma).
 *
 * The engine walks a ring of 32-byte descriptors in host memory from HEAD to
 * the driver's TAIL. Each COPYs LEN bytes from SRC to DST or FILLs LEN bytes
 * at DST with an 8-byte pattern, then writes its STATUS word back. Every host
 * access is a DMA the PCIem sanitizer checks against the driver's mappings.
 */
#ifndef PCIEM_RTL_DMA_REGS_H
#define PCIEM_RTL_DMA_REGS_H

#define RTL_DMA_VENDOR_ID	0x1b36
#define RTL_DMA_DEVICE_ID	0x7e20		/* the SystemVerilog design */
#define RTL_DMA_DEVICE_ID_CPP	0x7e21		/* its C++ reference model */
#define RTL_DMA_CLASS		0x088000	/* system peripheral, other */
#define RTL_DMA_BAR0_SIZE	0x1000		/* registers (AXI4-Lite) */
#define RTL_DMA_BAR2_SIZE	0x1000		/* MSI-X table and PBA */
#define RTL_DMA_MSIX_VECTORS	2
#define RTL_DMA_MSIX_PBA	0x800

/* Interrupt vectors: the design's irq[] lines. */
#define RTL_DMA_VEC_DONE	0	/* a descriptor with RTL_DMA_D_IRQ completed */
#define RTL_DMA_VEC_ERROR	1	/* the engine halted on an error */

/* Registers, 32-bit; other offsets read all-ones (DECERR). */
#define RTL_DMA_ID		0x00	/* RO: RTL_DMA_ID_VALUE */
#define RTL_DMA_ID_VALUE	0x52444d41u	/* "RDMA" */
#define RTL_DMA_VERSION		0x04	/* RO: 0x00010000 */
#define RTL_DMA_CTRL		0x08	/* RW: RTL_DMA_CTRL_* */
#define RTL_DMA_STATUS		0x0c	/* RO: RTL_DMA_STATUS_* */
#define RTL_DMA_RING_LO		0x10	/* RW: bus address of the ring, 32-byte aligned */
#define RTL_DMA_RING_HI		0x14	/* RW */
#define RTL_DMA_RING_ORDER	0x18	/* RW: log2 of the ring's entries (<= 12) */
#define RTL_DMA_TAIL		0x1c	/* RW: the driver's producer index */
#define RTL_DMA_HEAD		0x20	/* RO: the next descriptor the engine runs */
#define RTL_DMA_IRQ_STATUS	0x24	/* RW1C: RTL_DMA_IRQ_* */
#define RTL_DMA_COMPLETED	0x28	/* RO: descriptors completed since reset */
#define RTL_DMA_ERROR		0x2c	/* RO: the first RTL_DMA_E_* since reset */
#define RTL_DMA_SCRATCH		0x30	/* RW: any value, for self-tests */
#define RTL_DMA_CYCLES		0x34	/* RO: clock cycles since reset (low 32 bits) */

#define RTL_DMA_CTRL_ENABLE	0x1	/* run descriptors while HEAD != TAIL */
/* RESET: write 1 to clear HEAD, COMPLETED and ERROR at the next chunk
 * boundary; reads 0.
 */
#define RTL_DMA_CTRL_RESET	0x2
#define RTL_DMA_CTRL_IRQ_EN	0x4	/* pulse the interrupt lines */

#define RTL_DMA_STATUS_BUSY	0x1
#define RTL_DMA_STATUS_HALTED	0x2	/* stopped on an error until RESET */

#define RTL_DMA_IRQ_DONE	0x1
#define RTL_DMA_IRQ_ERROR	0x2

/* ERROR codes: why the engine halted. */
#define RTL_DMA_E_FETCH		1	/* reading the descriptor was refused */
#define RTL_DMA_E_SRC		2	/* reading SRC was refused */
#define RTL_DMA_E_DST		3	/* writing DST was refused */
#define RTL_DMA_E_OPCODE	4	/* unknown RTL_DMA_D_OP */
#define RTL_DMA_E_STATUS	5	/* writing the STATUS word back was refused */
#define RTL_DMA_E_LENGTH	6	/* LEN is 0 or above RTL_DMA_MAX_LEN */

#define RTL_DMA_MAX_LEN		(16u << 20)
#define RTL_DMA_MAX_ORDER	12
#define RTL_DMA_CHUNK		4096	/* a COPY moves this much per read/write pair */

/* A descriptor: 32 bytes, little endian, in the ring. */
#define RTL_DMA_DESC_SIZE	32
#define RTL_DMA_D_CTRL		0x00	/* u32: OP in bits 7:0, RTL_DMA_D_IRQ */
#define RTL_DMA_D_LEN		0x04	/* u32: bytes, 1..RTL_DMA_MAX_LEN */
#define RTL_DMA_D_SRC		0x08	/* u64: COPY source; FILL: the pattern */
#define RTL_DMA_D_DST		0x10	/* u64: destination */
#define RTL_DMA_D_STATUS	0x18	/* u32: written by the engine */

#define RTL_DMA_OP_COPY		1
#define RTL_DMA_OP_FILL		2	/* DST byte i = byte (i % 8) of the pattern */
#define RTL_DMA_D_IRQ		0x100	/* pulse RTL_DMA_VEC_DONE when done */

#define RTL_DMA_ST_DONE		0x1
#define RTL_DMA_ST_ERROR	0x80000000u	/* | the RTL_DMA_E_* code */

#endif /* PCIEM_RTL_DMA_REGS_H */
