// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * PCIem configuration space emulation and capability builder.
 *
 * Pure C: built into pciem.ko, the userspace unit tests and libpciem's
 * simulated host. Register layouts follow the PCI Local Bus 3.0, PCI
 * Power Management 1.2 and PCI Express Base 5.0 specifications.
 */
#include "pciem_cfg.h"

#include <linux/pci_regs.h>

#ifdef __KERNEL__
#include <linux/errno.h>
#else
#include <errno.h>
#endif

/* Header offsets, capability IDs: <linux/pci_regs.h>, as the rest of PCIem. */

/*
 * Command bits software may set: memory space, bus master, parity error
 * response, SERR# enable, INTx disable. I/O space stays 0 because PCIem
 * has no I/O BARs; the rest are hardwired to 0 for PCIe functions.
 */
#define CMD_WMASK	(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | \
			 PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE)
/* Error bits in the status register are RW1C. */
#define STATUS_W1C	0xf900

/* Capability sizes. */
#define PM_SIZE		8
#define MSIX_SIZE	12
#define PCIE_SIZE	0x3c	/* v2 layout, through Link Status 2 */

#define DSN_SIZE	12
#define AER_SIZE	0x38	/* through the TLP header log */

/* Record what was wrong and return the errno that goes with it. */
static int fail(struct pciem_error *err, uint32_t code, uint32_t index)
{
	err->code = code;
	err->index = index;
	return pciem_err_errno(code);
}

static void put(uint8_t *a, uint16_t off, unsigned int size, uint32_t v)
{
	unsigned int i;

	for (i = 0; i < size; i++)
		a[off + i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get(const uint8_t *a, uint16_t off, unsigned int size)
{
	uint32_t v = 0;
	unsigned int i;

	for (i = 0; i < size; i++)
		v |= (uint32_t)a[off + i] << (8 * i);
	return v;
}

/* Set value, write mask and RW1C mask of one register in one go. */
static void reg(struct pciem_cfg *cfg, uint16_t off, unsigned int size,
		uint32_t val, uint32_t wmask, uint32_t w1c)
{
	put(cfg->val, off, size, val);
	put(cfg->wmask, off, size, wmask);
	put(cfg->w1c, off, size, w1c);
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static unsigned int ilog2_u32(uint32_t v)
{
	unsigned int n = 0;

	while (v >>= 1)
		n++;
	return n;
}

/* ---- header and BARs ------------------------------------------------- */

static int build_header(struct pciem_cfg *cfg, const struct pciem_create *req,
			struct pciem_error *err)
{
	if ((req->header_type & 0x7f) != 0)
		return fail(err, PCIEM_ERR_HEADER_TYPE, 0);
	if (req->interrupt_pin > 4)
		return fail(err, PCIEM_ERR_INTX_PIN, 0);
	if (req->class_code > 0xffffff)
		return fail(err, PCIEM_ERR_RESERVED, 0);
	if (req->reserved)
		return fail(err, PCIEM_ERR_RESERVED, 0);
	/*
	 * The PCI core reads these as an empty slot (0x0000, 0xffff) or as
	 * Configuration Request Retry Status (0x0001), which it polls for a
	 * minute before giving up: no function may present them.
	 */
	if (req->vendor_id == 0x0000 || req->vendor_id == 0x0001 ||
	    req->vendor_id == 0xffff)
		return fail(err, PCIEM_ERR_VENDOR_ID, 0);

	reg(cfg, PCI_VENDOR_ID, 2, req->vendor_id, 0, 0);
	reg(cfg, PCI_DEVICE_ID, 2, req->device_id, 0, 0);
	reg(cfg, PCI_COMMAND, 2, 0, CMD_WMASK, 0);
	reg(cfg, PCI_STATUS, 2, 0, 0, STATUS_W1C);
	reg(cfg, PCI_REVISION_ID, 1, req->revision, 0, 0);
	reg(cfg, PCI_CLASS_PROG, 3, req->class_code, 0, 0);
	/* Cache line size is read-write storage with no effect on PCIe. */
	reg(cfg, PCI_CACHE_LINE_SIZE, 1, 0, 0xff, 0);
	reg(cfg, PCI_HEADER_TYPE, 1, req->header_type, 0, 0);
	reg(cfg, PCI_SUBSYSTEM_VENDOR_ID, 2, req->subsys_vendor_id, 0, 0);
	reg(cfg, PCI_SUBSYSTEM_ID, 2, req->subsys_id, 0, 0);
	/* Interrupt Line is scratch storage for the OS. */
	reg(cfg, PCI_INTERRUPT_LINE, 1, 0, 0xff, 0);
	reg(cfg, PCI_INTERRUPT_PIN, 1, req->interrupt_pin, 0, 0);
	return 0;
}

static int build_bars(struct pciem_cfg *cfg, const struct pciem_create *req,
		      const struct pciem_cfg_limits *lim,
		      struct pciem_error *err)
{
	unsigned int i;

	for (i = 0; i < PCIEM_MAX_BARS; i++) {
		const struct pciem_bar *b = &req->bars[i];
		uint16_t off = PCI_BASE_ADDRESS_0 + 4 * i;
		bool is64 = b->flags & PCIEM_BAR_MEM64;
		uint64_t mask;
		uint32_t type;

		if (b->reserved)
			return fail(err, PCIEM_ERR_RESERVED, i);
		if (b->flags & ~PCIEM_BAR_FLAGS_ALL)
			return fail(err, PCIEM_ERR_BAR_FLAGS, i);
		if (!b->size) {
			if (b->flags)
				return fail(err, PCIEM_ERR_BAR_FLAGS, i);
			continue;
		}
		/* 16 bytes is the smallest memory BAR the spec allows. */
		if (!is_pow2(b->size) || b->size < 16)
			return fail(err, PCIEM_ERR_BAR_SIZE, i);
		if (is64 && (i == PCIEM_MAX_BARS - 1 || req->bars[i + 1].size ||
			     req->bars[i + 1].flags))
			return fail(err, PCIEM_ERR_BAR_SLOT, i);
		if (b->size > (is64 ? lim->max_bar64 : lim->max_bar32) ||
		    ((b->flags & PCIEM_BAR_RAM) && b->size > PCIEM_MAX_RAM_BAR))
			return fail(err, PCIEM_ERR_BAR_TOO_BIG, i);
		/* Shared pages are whole pages: no other BAR may share one. */
		if ((b->flags & PCIEM_BAR_RAM) && b->size < 4096)
			return fail(err, PCIEM_ERR_BAR_SIZE, i);

		type = (is64 ? 0x4 : 0x0) |
		       ((b->flags & PCIEM_BAR_PREFETCH) ? 0x8 : 0x0);
		/*
		 * Sizing: address bits below the BAR size read back as zero
		 * whatever software writes, so writing all-ones reads back
		 * ~(size - 1) with the type bits, exactly as on hardware.
		 */
		mask = ~(b->size - 1) & ~(uint64_t)0xf;
		reg(cfg, off, 4, type, (uint32_t)mask, 0);
		cfg->bar_size[i] = b->size;
		cfg->bar_flags[i] = b->flags;
		if (is64) {
			reg(cfg, off + 4, 4, 0, (uint32_t)(mask >> 32), 0);
			i++;
		}
	}
	return 0;
}

/*
 * The expansion ROM BAR: address bits 31..11 above the size, the enable
 * bit (0) writable; like a BAR, sized by writing all-ones. A 32-bit
 * register, so it needs the 32-bit window.
 */
static int build_rom(struct pciem_cfg *cfg, const struct pciem_create *req,
		     const struct pciem_cfg_limits *lim,
		     struct pciem_error *err)
{
	const struct pciem_bar *r = &req->rom;
	uint32_t mask;

	if (r->reserved)
		return fail(err, PCIEM_ERR_RESERVED, PCIEM_ROM_BAR);
	if (r->flags)
		return fail(err, PCIEM_ERR_BAR_FLAGS, PCIEM_ROM_BAR);
	if (!r->size)
		return 0;
	if (!is_pow2(r->size) || r->size < 2048)
		return fail(err, PCIEM_ERR_BAR_SIZE, PCIEM_ROM_BAR);
	if (r->size > PCIEM_MAX_ROM || r->size > lim->max_bar32)
		return fail(err, PCIEM_ERR_BAR_TOO_BIG, PCIEM_ROM_BAR);
	mask = ~(uint32_t)(r->size - 1) & PCI_ROM_ADDRESS_MASK;
	reg(cfg, PCI_ROM_ADDRESS, 4, 0, mask | PCI_ROM_ADDRESS_ENABLE, 0);
	cfg->rom_size = (uint32_t)r->size;
	return 0;
}

/* ---- capability placement -------------------------------------------- */

/* Bytes of config space already claimed, one bit per byte. */
struct cfg_map {
	uint8_t used[PCIEM_CFG_SPACE_SIZE / 8];
};

static bool map_busy(const struct cfg_map *m, unsigned int off,
		     unsigned int len)
{
	unsigned int i;

	for (i = off; i < off + len; i++)
		if (m->used[i / 8] & (1u << (i % 8)))
			return true;
	return false;
}

static void map_take(struct cfg_map *m, unsigned int off, unsigned int len)
{
	unsigned int i;

	for (i = off; i < off + len; i++)
		m->used[i / 8] |= 1u << (i % 8);
}

static bool cap_is_ext(uint16_t type)
{
	return type == PCIEM_CAP_EXT_DSN || type == PCIEM_CAP_EXT_AER ||
	       type == PCIEM_CAP_EXT_RAW;
}

/*
 * Size of a capability in config space, or 0 if its parameters are
 * invalid. Per-type parameter checks live in the emitters; this only
 * needs what determines the footprint.
 */
static unsigned int cap_size(const struct pciem_cap *c)
{
	switch (c->type) {
	case PCIEM_CAP_PM:
		return PM_SIZE;
	case PCIEM_CAP_MSI: {
		bool is64 = c->msi.flags & PCIEM_MSI_64BIT;

		if (c->msi.flags & PCIEM_MSI_MASKABLE)
			return is64 ? 0x18 : 0x14;
		return is64 ? 0x0e : 0x0a;
	}
	case PCIEM_CAP_MSIX:
		return MSIX_SIZE;
	case PCIEM_CAP_PCIE:
		return PCIE_SIZE;
	case PCIEM_CAP_VENDOR:
		return 3 + c->body.len;
	case PCIEM_CAP_RAW:
		return 2 + c->body.len;
	case PCIEM_CAP_EXT_DSN:
		return DSN_SIZE;
	case PCIEM_CAP_EXT_AER:
		return AER_SIZE;
	case PCIEM_CAP_EXT_RAW:
		return 4 + c->body.len;
	}
	return 0;
}

/* Round a footprint up to whole dwords: capabilities are dword aligned. */
static unsigned int dw_round(unsigned int n)
{
	return (n + 3) & ~3u;
}

static int place(struct cfg_map *m, const struct pciem_cap *c,
		 unsigned int idx, uint16_t *out, struct pciem_error *err)
{
	bool ext = cap_is_ext(c->type);
	unsigned int lo = ext ? PCIEM_CFG_EXT_CAP_START : PCIEM_CFG_STD_CAP_START;
	unsigned int hi = ext ? PCIEM_CFG_SPACE_SIZE : PCIEM_CFG_STD_END;
	unsigned int len = dw_round(cap_size(c));
	unsigned int off;

	if (c->offset) {
		if (c->offset & 3 || c->offset < lo || c->offset + len > hi)
			return fail(err, PCIEM_ERR_CAP_OFFSET, idx);
		if (map_busy(m, c->offset, len))
			return fail(err, PCIEM_ERR_CAP_OVERLAP, idx);
		*out = c->offset;
		map_take(m, c->offset, len);
		return 0;
	}
	for (off = lo; off + len <= hi; off += 4) {
		if (!map_busy(m, off, len)) {
			*out = (uint16_t)off;
			map_take(m, off, len);
			return 0;
		}
	}
	return fail(err, PCIEM_ERR_CAP_NO_ROOM, idx);
}

/* ---- standard capabilities ------------------------------------------- */

static int emit_pm(struct pciem_cfg *cfg, const struct pciem_cap *c,
		   uint16_t o, unsigned int idx, struct pciem_error *err)
{
	uint32_t f = c->pm.flags;
	uint16_t pmc = 0x3;		/* version 3: PM spec 1.2 */
	uint16_t pmcsr = 0;
	uint16_t pmcsr_wmask = 0x0003;	/* PowerState */

	if (f & ~PCIEM_PM_FLAGS_ALL)
		return fail(err, PCIEM_ERR_CAP_PARAM, idx);
	if (f & PCIEM_PM_D1)
		pmc |= 1u << 9;
	if (f & PCIEM_PM_D2)
		pmc |= 1u << 10;
	if (f & PCIEM_PM_PME) {
		/* PME# from D0 and D3hot (bits 11 and 14). */
		pmc |= (1u << 11) | (1u << 14);
		pmcsr_wmask |= 1u << 8;	/* PME_En */
	}
	if (f & PCIEM_PM_NO_SOFT_RESET)
		pmcsr |= 1u << 3;
	cfg->val[o] = PCI_CAP_ID_PM;
	reg(cfg, o + 2, 2, pmc, 0, 0);
	/* PME_Status (bit 15) is RW1C when PME is supported. */
	reg(cfg, o + 4, 2, pmcsr, pmcsr_wmask,
	    (f & PCIEM_PM_PME) ? 0x8000 : 0);
	cfg->layout.pm = o;
	return 0;
}

static int emit_msi(struct pciem_cfg *cfg, const struct pciem_cap *c,
		    uint16_t o, unsigned int idx, struct pciem_error *err)
{
	uint32_t f = c->msi.flags;
	uint32_t n = c->msi.vectors;
	bool is64 = f & PCIEM_MSI_64BIT;
	uint16_t ctl, data_off;

	if ((f & ~PCIEM_MSI_FLAGS_ALL) || !is_pow2(n) || n > 32)
		return fail(err, PCIEM_ERR_CAP_PARAM, idx);
	cfg->val[o] = PCI_CAP_ID_MSI;
	/* Multiple Message Capable is log2(vectors); MME and Enable RW. */
	ctl = (uint16_t)(ilog2_u32(n) << 1);
	if (is64)
		ctl |= 1u << 7;
	if (f & PCIEM_MSI_MASKABLE)
		ctl |= 1u << 8;
	reg(cfg, o + 2, 2, ctl, 0x0071, 0);
	reg(cfg, o + 4, 4, 0, 0xfffffffc, 0);	/* dword-aligned address */
	if (is64)
		reg(cfg, o + 8, 4, 0, 0xffffffff, 0);
	data_off = is64 ? o + 0x0c : o + 0x08;
	reg(cfg, data_off, 2, 0, 0xffff, 0);
	if (f & PCIEM_MSI_MASKABLE) {
		uint32_t vec_bits = n == 32 ? 0xffffffff : (1u << n) - 1;

		reg(cfg, data_off + 4, 4, 0, vec_bits, 0);	/* mask */
		reg(cfg, data_off + 8, 4, 0, 0, 0);		/* pending */
	}
	cfg->layout.msi = o;
	cfg->layout.msi_data = data_off;
	return 0;
}

static int emit_msix(struct pciem_cfg *cfg, const struct pciem_cap *c,
		     uint16_t o, unsigned int idx, struct pciem_error *err)
{
	uint32_t n = c->msix.vectors;
	uint64_t tsz = (uint64_t)n * 16, psz = ((n + 63) / 64) * 8;
	uint32_t tb = c->msix.table_bar, pb = c->msix.pba_bar;
	uint32_t to = c->msix.table_offset, po = c->msix.pba_offset;

	if (n < 1 || n > 2048 || tb >= PCIEM_MAX_BARS ||
	    pb >= PCIEM_MAX_BARS || (to & 7) || (po & 7))
		return fail(err, PCIEM_ERR_CAP_PARAM, idx);
	/* Table and PBA must lie inside BARs that exist... */
	if (!cfg->bar_size[tb] || !cfg->bar_size[pb] ||
	    to + tsz > cfg->bar_size[tb] || po + psz > cfg->bar_size[pb])
		return fail(err, PCIEM_ERR_CAP_PARAM, idx);
	/* ...and must not overlap each other. */
	if (tb == pb && to < po + psz && po < to + tsz)
		return fail(err, PCIEM_ERR_CAP_PARAM, idx);
	cfg->val[o] = PCI_CAP_ID_MSIX;
	/* Table Size RO; Function Mask (14) and Enable (15) RW. */
	reg(cfg, o + 2, 2, n - 1, 0xc000, 0);
	reg(cfg, o + 4, 4, to | tb, 0, 0);
	reg(cfg, o + 8, 4, po | pb, 0, 0);
	cfg->layout.msix = o;
	return 0;
}

static int emit_pcie(struct pciem_cfg *cfg, const struct pciem_cap *c,
		     uint16_t o, unsigned int idx, struct pciem_error *err)
{
	uint32_t f = c->pcie.flags;
	uint8_t type = c->pcie.port_type;
	uint8_t speed = c->pcie.link_speed ? c->pcie.link_speed : 1;
	uint8_t width = c->pcie.link_width ? c->pcie.link_width : 1;
	uint32_t devcap, lnkcap, speeds;
	bool has_link;

	if ((f & ~PCIEM_PCIE_FLAGS_ALL) || c->pcie.max_payload > 5 ||
	    speed > 5 || !is_pow2(width) || width > 32 ||
	    (type != PCIEM_PCIE_ENDPOINT && type != PCIEM_PCIE_LEGACY_ENDPOINT &&
	     type != PCIEM_PCIE_RC_ENDPOINT && type != PCIEM_PCIE_RC_EC))
		return fail(err, PCIEM_ERR_CAP_PARAM, idx);
	/* Functions integrated in the root complex have no link. */
	has_link = type != PCIEM_PCIE_RC_ENDPOINT && type != PCIEM_PCIE_RC_EC;

	cfg->val[o] = PCI_CAP_ID_EXP;
	/* PCI Express Capabilities: version 2, device/port type. */
	reg(cfg, o + 0x02, 2, 0x2 | (type << 4), 0, 0);
	devcap = c->pcie.max_payload;
	if (f & PCIEM_PCIE_EXT_TAG)
		devcap |= 1u << 5;
	devcap |= 1u << 15;		/* role-based error reporting */
	if (f & PCIEM_PCIE_FLR)
		devcap |= 1u << 28;
	reg(cfg, o + 0x04, 4, devcap, 0, 0);
	/*
	 * Device Control: error reporting enables, relaxed ordering, MPS,
	 * extended tag, phantom functions, aux power, no snoop, MRRS are RW;
	 * MPS and MRRS default to 128 and 512 bytes as after reset.
	 */
	reg(cfg, o + 0x08, 2, 0x2810, 0x7fff, 0);
	/* Device Status: error detected bits 0-3 are RW1C. */
	reg(cfg, o + 0x0a, 2, 0, 0, 0x000f);
	if (has_link) {
		lnkcap = speed | ((uint32_t)width << 4);
		reg(cfg, o + 0x0c, 4, lnkcap, 0, 0);
		/* Link Control: ASPM, RCB, common clock, ext sync. */
		reg(cfg, o + 0x10, 2, 0, 0x00cb, 0);
		/* Link Status: current speed and negotiated width. */
		reg(cfg, o + 0x12, 2, speed | ((uint32_t)width << 4), 0, 0);
	}
	/* Device Capabilities 2: completion timeout disable supported. */
	reg(cfg, o + 0x24, 4, 1u << 4, 0, 0);
	/* Device Control 2: completion timeout value/disable, IDO, LTR. */
	reg(cfg, o + 0x28, 2, 0, 0x001f, 0);
	if (has_link) {
		/* Supported Link Speeds Vector: every speed up to the max. */
		speeds = ((1u << speed) - 1) << 1;
		reg(cfg, o + 0x2c, 4, speeds, 0, 0);
		/* Link Control 2: Target Link Speed, defaults to the max. */
		reg(cfg, o + 0x30, 2, speed, 0x000f, 0);
	}
	cfg->layout.pcie = o;
	cfg->size = PCIEM_CFG_SPACE_SIZE;
	return 0;
}

static int emit_body(struct pciem_cfg *cfg, const struct pciem_cfg_cap_in *in,
		     uint16_t o, unsigned int idx, struct pciem_error *err)
{
	const struct pciem_cap *c = in->cap;
	unsigned int hdr;

	if (c->body.len && !in->body)
		return fail(err, PCIEM_ERR_FAULT, idx);
	switch (c->type) {
	case PCIEM_CAP_VENDOR:
		/* The length byte counts the whole capability. */
		if (c->body.id || c->body.version || 3u + c->body.len > 0xff)
			return fail(err, PCIEM_ERR_CAP_PARAM, idx);
		cfg->val[o] = PCI_CAP_ID_VNDR;
		cfg->val[o + 2] = (uint8_t)(3 + c->body.len);
		hdr = 3;
		break;
	case PCIEM_CAP_RAW:
		/* IDs PCIem emulates itself must use their own types. */
		if (!c->body.id || c->body.id > 0xff ||
		    c->body.id == PCI_CAP_ID_PM || c->body.id == PCI_CAP_ID_MSI ||
		    c->body.id == PCI_CAP_ID_MSIX || c->body.id == PCI_CAP_ID_EXP ||
		    c->body.version)
			return fail(err, PCIEM_ERR_CAP_PARAM, idx);
		cfg->val[o] = (uint8_t)c->body.id;
		hdr = 2;
		break;
	default: /* PCIEM_CAP_EXT_RAW */
		if (!c->body.id || c->body.id == PCI_EXT_CAP_ID_ERR ||
		    c->body.id == PCI_EXT_CAP_ID_DSN || c->body.version > 0xf)
			return fail(err, PCIEM_ERR_CAP_PARAM, idx);
		put(cfg->val, o, 2, c->body.id);
		cfg->val[o + 2] = c->body.version;
		hdr = 4;
		break;
	}
	if (c->body.len)
		memcpy(&cfg->val[o + hdr], in->body, c->body.len);
	if ((c->flags & PCIEM_CAP_F_MODEL) && hdr + c->body.len > 4) {
		struct pciem_cfg_claim *cl;

		if (cfg->nclaims == PCIEM_CFG_MAX_CLAIMS)
			return fail(err, PCIEM_ERR_CAP_PARAM, idx);
		/* Every dword after the header dword goes to the model. */
		cl = &cfg->claims[cfg->nclaims++];
		cl->off = o + 4;
		cl->len = (uint16_t)dw_round(hdr + c->body.len) - 4;
	}
	return 0;
}

/* ---- extended capabilities ------------------------------------------- */

static void emit_dsn(struct pciem_cfg *cfg, const struct pciem_cap *c,
		     uint16_t o)
{
	put(cfg->val, o, 4, PCI_EXT_CAP_ID_DSN | (1u << 16));
	put(cfg->val, o + 4, 4, (uint32_t)c->dsn.serial);
	put(cfg->val, o + 8, 4, (uint32_t)(c->dsn.serial >> 32));
	cfg->layout.dsn = o;
}

static void emit_aer(struct pciem_cfg *cfg, uint16_t o, bool root)
{
	/* Uncorrectable error bits this function implements (bits 4-26). */
	const uint32_t ue = 0x07fff030;
	/* Correctable error bits (receiver, bad TLP/DLLP, ... header log). */
	const uint32_t ce = 0x0000f1c1;

	put(cfg->val, o, 4, PCI_EXT_CAP_ID_ERR | (2u << 16));	/* version 2 */
	reg(cfg, o + 0x04, 4, 0, 0, ue);	/* Uncorrectable Status */
	reg(cfg, o + 0x08, 4, 0, ue, 0);	/* Uncorrectable Mask */
	/* Severity defaults from the spec: DLP, SDES, FCP, RxOF, MalfTLP. */
	reg(cfg, o + 0x0c, 4, 0x00062030, ue, 0);
	reg(cfg, o + 0x10, 4, 0, 0, ce);	/* Correctable Status */
	/* Advisory Non-Fatal is masked by default. */
	reg(cfg, o + 0x14, 4, 0x00002000, ce, 0);
	/* Adv. Cap & Control: ECRC gen/check capable, enables RW. */
	reg(cfg, o + 0x18, 4, (1u << 5) | (1u << 7), (1u << 6) | (1u << 8), 0);
	if (root) {
		/* Root Error Command: correctable, non-fatal, fatal enables. */
		reg(cfg, o + 0x2c, 4, 0, 0x7, 0);
		/* Root Error Status: the received/first/multiple bits. */
		reg(cfg, o + 0x30, 4, 0, 0, 0x7f);
		/* Error Source Identification is the device's (RO). */
	}
	cfg->layout.aer = o;
}

/* ---- linking ----------------------------------------------------------- */

/* Link standard capabilities in ascending offset order. */
static void link_std(struct pciem_cfg *cfg, const uint16_t *offs,
		     const struct pciem_cfg_cap_in *caps, unsigned int n)
{
	uint16_t prev = PCI_CAPABILITY_LIST;
	unsigned int off, i;

	for (off = PCIEM_CFG_STD_CAP_START; off < PCIEM_CFG_STD_END; off += 4) {
		for (i = 0; i < n; i++) {
			if (offs[i] != off || cap_is_ext(caps[i].cap->type))
				continue;
			/* Bits 1:0 of every pointer are reserved as zero. */
			cfg->val[prev == PCI_CAPABILITY_LIST ? prev : prev + 1] =
				(uint8_t)off;
			prev = (uint16_t)off;
		}
	}
	if (prev != PCI_CAPABILITY_LIST)
		put(cfg->val, PCI_STATUS, 2,
		    get(cfg->val, PCI_STATUS, 2) | PCI_STATUS_CAP_LIST);
}

/*
 * Link extended capabilities in ascending offset order. The chain must
 * start at 100h; if the first one sits higher, a null capability
 * (ID 0000h, version 0) at 100h points to it, as the spec permits.
 */
static void link_ext(struct pciem_cfg *cfg, const uint16_t *offs,
		     const struct pciem_cfg_cap_in *caps, unsigned int n)
{
	int prev = -1;
	unsigned int off, i;

	for (off = PCIEM_CFG_EXT_CAP_START; off < PCIEM_CFG_SPACE_SIZE;
	     off += 4) {
		for (i = 0; i < n; i++) {
			uint32_t h;

			if (offs[i] != off || !cap_is_ext(caps[i].cap->type))
				continue;
			if (prev < 0 && off != PCIEM_CFG_EXT_CAP_START)
				prev = PCIEM_CFG_EXT_CAP_START;
			if (prev >= 0) {
				h = get(cfg->val, (uint16_t)prev, 4);
				h = (h & 0x000fffff) | (off << 20);
				put(cfg->val, (uint16_t)prev, 4, h);
			}
			prev = (int)off;
		}
	}
}

/* ---- build -------------------------------------------------------------- */

int pciem_cfg_cap_record_len(const uint8_t *buf, uint32_t len,
			     unsigned int index, struct pciem_error *err)
{
	const unsigned int min = sizeof(struct pciem_cap);
	uint32_t size, i;

	if (len < 8)
		return fail(err, PCIEM_ERR_CAPS_LEN, index);
	size = get(buf, 0, 4);
	if (size < min || (size & 7))
		return fail(err, PCIEM_ERR_CAP_SIZE, index);
	if (size > len)
		return fail(err, PCIEM_ERR_CAPS_LEN, index);
	/* A newer, larger record is fine if we would ignore nothing. */
	for (i = min; i < size; i++)
		if (buf[i]) {
			err->code = PCIEM_ERR_CAP_SIZE;
			err->index = index;
			return -E2BIG;
		}
	return (int)size;
}

/* Largest body a VENDOR, RAW or EXT_RAW capability can carry. */
static unsigned int body_max(uint16_t type)
{
	switch (type) {
	case PCIEM_CAP_VENDOR:
		return 0xff - 3;	/* the length byte counts the header */
	case PCIEM_CAP_RAW:
		return PCIEM_CFG_STD_END - PCIEM_CFG_STD_CAP_START - 2;
	default:
		return PCIEM_CFG_SPACE_SIZE - PCIEM_CFG_EXT_CAP_START - 4;
	}
}

static int check_record(const struct pciem_cap *c, unsigned int idx,
			struct pciem_error *err)
{
	unsigned int i;
	const uint8_t *raw = c->raw;
	unsigned int used = 0;

	if (c->reserved)
		return fail(err, PCIEM_ERR_RESERVED, idx);
	if (c->type < PCIEM_CAP_PM || c->type >= PCIEM_CAP__COUNT)
		return fail(err, PCIEM_ERR_CAP_TYPE, idx);
	/* Only capabilities PCIem does not emulate can go to the model. */
	if ((c->flags & ~PCIEM_CAP_FLAGS_ALL) ||
	    ((c->flags & PCIEM_CAP_F_MODEL) && c->type != PCIEM_CAP_VENDOR &&
	     c->type != PCIEM_CAP_RAW && c->type != PCIEM_CAP_EXT_RAW))
		return fail(err, PCIEM_ERR_FLAGS, idx);
	/* Bytes of the union a type does not use must be zero. */
	switch (c->type) {
	case PCIEM_CAP_PM:
		used = sizeof(c->pm);
		break;
	case PCIEM_CAP_MSI:
		used = sizeof(c->msi);
		break;
	case PCIEM_CAP_MSIX:
		used = sizeof(c->msix);
		break;
	case PCIEM_CAP_PCIE:
		used = sizeof(c->pcie);
		break;
	case PCIEM_CAP_EXT_DSN:
		used = sizeof(c->dsn);
		break;
	case PCIEM_CAP_EXT_AER:
		used = 0;
		break;
	default:
		used = sizeof(c->body);
		for (i = 0; i < sizeof(c->body.reserved); i++)
			if (c->body.reserved[i])
				return fail(err, PCIEM_ERR_RESERVED, idx);
		/* The body must fit the space its kind of capability lives in. */
		if (c->body.len > body_max(c->type))
			return fail(err, PCIEM_ERR_CAP_PARAM, idx);
		break;
	}
	for (i = used; i < sizeof(c->raw); i++)
		if (raw[i])
			return fail(err, PCIEM_ERR_RESERVED, idx);
	return 0;
}

static bool cap_is_unique(uint16_t type)
{
	return type != PCIEM_CAP_VENDOR && type != PCIEM_CAP_RAW &&
	       type != PCIEM_CAP_EXT_RAW;
}

int pciem_cfg_build(struct pciem_cfg *cfg, const struct pciem_create *req,
		    const struct pciem_cfg_cap_in *caps, unsigned int ncaps,
		    const struct pciem_cfg_limits *limits,
		    struct pciem_error *err)
{
	uint16_t offs[PCIEM_MAX_CAPS];
	struct cfg_map map;
	bool seen[PCIEM_CAP__COUNT] = { false };
	bool has_pcie = false, root = false;
	unsigned int i;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	memset(&map, 0, sizeof(map));
	err->code = PCIEM_ERR_NONE;
	err->index = 0;
	cfg->size = 256;

	if (ncaps > PCIEM_MAX_CAPS)
		return fail(err, PCIEM_ERR_CAPS_LEN, 0);
	ret = build_header(cfg, req, err);
	if (ret)
		return ret;
	ret = build_bars(cfg, req, limits, err);
	if (!ret)
		ret = build_rom(cfg, req, limits, err);
	if (ret)
		return ret;

	/* The header (and the 100h null cap slot if needed) is taken. */
	map_take(&map, 0, PCIEM_CFG_STD_CAP_START);

	for (i = 0; i < ncaps; i++) {
		const struct pciem_cap *c = caps[i].cap;

		ret = check_record(c, i, err);
		if (ret)
			return ret;
		if (cap_is_unique(c->type) && seen[c->type])
			return fail(err, PCIEM_ERR_CAP_DUPLICATE, i);
		seen[c->type] = true;
		if (c->type == PCIEM_CAP_PCIE) {
			has_pcie = true;
			root = c->pcie.port_type == PCIEM_PCIE_RC_EC;
		}
	}

	/* Fixed offsets first, so automatic placement flows around them. */
	for (i = 0; i < ncaps; i++) {
		if (!caps[i].cap->offset)
			continue;
		if (cap_is_ext(caps[i].cap->type) && !has_pcie)
			return fail(err, PCIEM_ERR_CAP_NEEDS_PCIE, i);
		ret = place(&map, caps[i].cap, i, &offs[i], err);
		if (ret)
			return ret;
	}
	/*
	 * Auto-placed extended capabilities start at 100h; if only fixed
	 * ones exist above it, link_ext() puts a null header there.
	 */
	for (i = 0; i < ncaps; i++) {
		if (caps[i].cap->offset)
			continue;
		if (cap_is_ext(caps[i].cap->type) && !has_pcie)
			return fail(err, PCIEM_ERR_CAP_NEEDS_PCIE, i);
		ret = place(&map, caps[i].cap, i, &offs[i], err);
		if (ret)
			return ret;
	}

	for (i = 0; i < ncaps; i++) {
		const struct pciem_cap *c = caps[i].cap;
		uint16_t o = offs[i];

		switch (c->type) {
		case PCIEM_CAP_PM:
			ret = emit_pm(cfg, c, o, i, err);
			break;
		case PCIEM_CAP_MSI:
			ret = emit_msi(cfg, c, o, i, err);
			break;
		case PCIEM_CAP_MSIX:
			ret = emit_msix(cfg, c, o, i, err);
			break;
		case PCIEM_CAP_PCIE:
			ret = emit_pcie(cfg, c, o, i, err);
			break;
		case PCIEM_CAP_EXT_DSN:
			emit_dsn(cfg, c, o);
			ret = 0;
			break;
		case PCIEM_CAP_EXT_AER:
			emit_aer(cfg, o, root);
			ret = 0;
			break;
		default:
			ret = emit_body(cfg, &caps[i], o, i, err);
			break;
		}
		if (ret)
			return ret;
	}
	link_std(cfg, offs, caps, ncaps);
	link_ext(cfg, offs, caps, ncaps);
	return 0;
}

/* ---- config cycles ------------------------------------------------------ */

uint32_t pciem_cfg_read(const struct pciem_cfg *cfg, uint16_t off,
			unsigned int size)
{
	/* Past the end of a conventional function's space reads as zero. */
	if (off + size > cfg->size)
		return 0;
	return get(cfg->val, off, size);
}

void pciem_cfg_write(struct pciem_cfg *cfg, uint16_t off, unsigned int size,
		     uint32_t val)
{
	unsigned int i;

	if (off + size > cfg->size)
		return;
	for (i = 0; i < size; i++) {
		uint8_t b = (uint8_t)(val >> (8 * i));
		uint8_t *v = &cfg->val[off + i];
		uint8_t wm = cfg->wmask[off + i];

		*v = (uint8_t)((*v & ~wm) | (b & wm));
		*v &= (uint8_t)~(b & cfg->w1c[off + i]);
	}
}

bool pciem_cfg_claimed(const struct pciem_cfg *cfg, uint16_t off,
		       unsigned int size)
{
	unsigned int i;

	for (i = 0; i < cfg->nclaims; i++)
		if (off >= cfg->claims[i].off &&
		    off + size <= cfg->claims[i].off + cfg->claims[i].len)
			return true;
	return false;
}

void pciem_cfg_set(struct pciem_cfg *cfg, uint16_t off, unsigned int size,
		   uint32_t val)
{
	if (off + size <= PCIEM_CFG_SPACE_SIZE)
		put(cfg->val, off, size, val);
}

/* ---- error texts -------------------------------------------------------- */

int pciem_err_errno(uint32_t code)
{
	switch (code) {
	case PCIEM_ERR_NONE:
		return 0;
	case PCIEM_ERR_ABI_VERSION:
		return -EPROTO;
	case PCIEM_ERR_DEVFN_BUSY:
		return -EBUSY;
	case PCIEM_ERR_BUS_FULL:
	case PCIEM_ERR_BAR_NO_SPACE:
	case PCIEM_ERR_CAP_NO_ROOM:
		return -ENOSPC;
	case PCIEM_ERR_BAR_TOO_BIG:
		return -EFBIG;
	case PCIEM_ERR_FAULT:
		return -EFAULT;
	case PCIEM_ERR_NO_DEVICE:
		return -ENODEV;
	default:
		return -EINVAL;
	}
}

const char *pciem_err_str(uint32_t code)
{
	static const char *const text[PCIEM_ERR__COUNT] = {
		[PCIEM_ERR_NONE] = "no error",
		[PCIEM_ERR_ABI_VERSION] =
			"ABI version not supported by this pciem.ko",
		[PCIEM_ERR_STRUCT_SIZE] = "structure size field is wrong",
		[PCIEM_ERR_FLAGS] = "unknown flag bits set",
		[PCIEM_ERR_RESERVED] = "reserved field is not zero",
		[PCIEM_ERR_HEADER_TYPE] =
			"header type must be 0x00 or 0x80 (type 0 function)",
		[PCIEM_ERR_INTX_PIN] =
			"interrupt pin must be 0 (none) or 1..4 (INTA..INTD)",
		[PCIEM_ERR_DEVFN_BUSY] = "slot/function is already taken",
		[PCIEM_ERR_BUS_FULL] = "no free slot left on the PCIem bus",
		[PCIEM_ERR_BAR_SIZE] =
			"BAR size must be a power of two of at least 16 bytes (4 KiB for a RAM BAR)",
		[PCIEM_ERR_BAR_TOO_BIG] =
			"BAR is larger than PCIem's memory window allows (RAM BARs: 256 MiB)",
		[PCIEM_ERR_BAR_FLAGS] = "BAR flags are unknown or set on an empty BAR",
		[PCIEM_ERR_BAR_SLOT] =
			"64-bit BAR needs the next BAR slot free for its upper half",
		[PCIEM_ERR_BAR_NO_SPACE] =
			"no room left in PCIem's memory window for this BAR",
		[PCIEM_ERR_CAP_TYPE] = "unknown capability type",
		[PCIEM_ERR_CAP_SIZE] = "capability record size is wrong",
		[PCIEM_ERR_CAP_OFFSET] =
			"capability offset is misaligned or outside its config space range",
		[PCIEM_ERR_CAP_OVERLAP] =
			"capability overlaps the header or another capability",
		[PCIEM_ERR_CAP_PARAM] = "capability parameter is invalid",
		[PCIEM_ERR_CAP_DUPLICATE] = "capability is given more than once",
		[PCIEM_ERR_CAP_NO_ROOM] = "no room left in config space for this capability",
		[PCIEM_ERR_CAP_NEEDS_PCIE] =
			"extended capabilities need a PCI Express capability",
		[PCIEM_ERR_CAPS_LEN] = "capability list length is wrong",
		[PCIEM_ERR_FAULT] = "a user pointer could not be read",
		[PCIEM_ERR_VENDOR_ID] =
			"vendor ID 0x0000, 0x0001 and 0xffff mean \"no device\" to the PCI core",
		[PCIEM_ERR_NO_DEVICE] =
			"the PCI core found no device when it scanned the slot",
		[PCIEM_ERR_LABEL] =
			"the label is not printable ASCII, NUL-terminated and zero-padded",
	};

	if (code >= PCIEM_ERR__COUNT || !text[code])
		return "unknown error";
	return text[code];
}
