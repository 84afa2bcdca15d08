/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * PCIem configuration space emulation: a pure C unit with no kernel
 * dependencies beyond <linux/types.h>, compiled into pciem.ko, into the
 * userspace unit tests and into libpciem's simulated host, so every host
 * sees exactly the same register semantics.
 *
 * A function's 4 KiB configuration space is three parallel byte arrays:
 * the current value, the bits software may write, and the bits that
 * clear when software writes 1 (RW1C). Building validates a
 * struct pciem_create plus its capability records and fills all three.
 */
#ifndef PCIEM_CFG_H
#define PCIEM_CFG_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/string.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#endif

#include <linux/pciem.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PCIEM_CFG_STD_CAP_START	0x40
#define PCIEM_CFG_STD_END	0x100
#define PCIEM_CFG_EXT_CAP_START	0x100

/* Where the builder put the capabilities the kernel emulates itself. */
struct pciem_cfg_layout {
	uint16_t pm;
	uint16_t msi;
	/*
	 * MSI Message Data (its place depends on 64-bit addressing); the
	 * Mask and Pending Bits, with per-vector masking, follow at +4, +8.
	 */
	uint16_t msi_data;
	uint16_t msix;
	uint16_t pcie;
	uint16_t aer;
	uint16_t dsn;
};

/* Most capabilities one function may hand to its model. */
#define PCIEM_CFG_MAX_CLAIMS	8

/* A dword-aligned config range the device model handles itself. */
struct pciem_cfg_claim {
	uint16_t off;
	uint16_t len;
};

struct pciem_cfg {
	uint8_t val[PCIEM_CFG_SPACE_SIZE];
	uint8_t wmask[PCIEM_CFG_SPACE_SIZE];	/* software-writable bits */
	uint8_t w1c[PCIEM_CFG_SPACE_SIZE];	/* write-1-to-clear bits */
	uint64_t bar_size[PCIEM_MAX_BARS];	/* 0: unused or upper half */
	uint32_t bar_flags[PCIEM_MAX_BARS];	/* PCIEM_BAR_* */
	uint32_t rom_size;			/* expansion ROM; 0: none */
	struct pciem_cfg_layout layout;
	uint16_t size;				/* 256 or 4096 (PCIe) */
	struct pciem_cfg_claim claims[PCIEM_CFG_MAX_CLAIMS];
	unsigned int nclaims;
};

/*
 * A capability record as the kernel hands it to the builder: the record
 * itself plus its body (VENDOR/RAW/EXT_RAW), already copied in.
 */
struct pciem_cfg_cap_in {
	const struct pciem_cap *cap;
	const uint8_t *body;		/* cap->body.len bytes, or NULL */
};

/* Limits the builder enforces that depend on the host, not the ABI. */
struct pciem_cfg_limits {
	uint64_t max_bar64;		/* largest 64-bit BAR (window size) */
	uint64_t max_bar32;		/* largest 32-bit BAR (0: none) */
};

/*
 * Validate @req's header and BAR fields (not abi_version, size, devfn:
 * those are the caller's) and @caps, and build @cfg.
 * Returns 0 or a negative errno; on failure @err names the culprit.
 */
int pciem_cfg_build(struct pciem_cfg *cfg, const struct pciem_create *req,
		    const struct pciem_cfg_cap_in *caps, unsigned int ncaps,
		    const struct pciem_cfg_limits *limits,
		    struct pciem_error *err);

/*
 * Walk a caps_ptr/caps_len style buffer: returns the length of the record
 * at @buf (of @len bytes left) after checking its size field, or a
 * negative errno with @err set. Records larger than the known layout are
 * accepted when the unknown tail is zero.
 */
int pciem_cfg_cap_record_len(const uint8_t *buf, uint32_t len,
			     unsigned int index, struct pciem_error *err);

/* Config cycles. @size is 1, 2 or 4 and @off aligned to it. */
uint32_t pciem_cfg_read(const struct pciem_cfg *cfg, uint16_t off,
			unsigned int size);
void pciem_cfg_write(struct pciem_cfg *cfg, uint16_t off, unsigned int size,
		     uint32_t val);

/*
 * Is [off, off + size) inside a range the model claimed? Accesses are
 * naturally aligned and at most a dword, so they are never split.
 */
bool pciem_cfg_claimed(const struct pciem_cfg *cfg, uint16_t off,
		       unsigned int size);

/* Device-side update that bypasses the write masks (status bits etc). */
void pciem_cfg_set(struct pciem_cfg *cfg, uint16_t off, unsigned int size,
		   uint32_t val);

/* The negative errno that goes with a PCIEM_ERR_* code (0 for NONE). */
int pciem_err_errno(uint32_t code);

/* Short English text for a PCIEM_ERR_* code ("BAR size is not ..."). */
const char *pciem_err_str(uint32_t code);

#ifdef __cplusplus
}
#endif

#endif /* PCIEM_CFG_H */
