// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target for the interrupt rules (kernel/rules/pciem_irq_rules.c):
 * pciem.ko runs them under a raw spinlock on every config write and every
 * access to an MSI-X table or PBA, with the table and PBA sized by the
 * capability, so an access out of bounds or a vector past what the host
 * allocated is a kernel oops.
 *
 * The first bytes shape the function (MSI-X table size and placement, MSI
 * vectors and masking, the pin); the rest is a script of driver config
 * writes, table and PBA accesses, raises and INTx changes. The table and
 * PBA are exact-size heap buffers, so ASan catches any access past them.
 * After each step the invariants below are checked.
 */
#include "pciem_irq_rules.h"
#include "fuzz_check.h"

#include <linux/pci_regs.h>
#include <string.h>

struct fuzz {
	struct pciem_cfg cfg;
	struct pciem_irq_rules r;
	uint32_t vectors;	/* delivery slots the host allocated */
	uint32_t fired;
};

static struct fuzz *cur;

/* The host's delivery: only for a vector it allocated, and never masked. */
static void fire(void *ctx, uint32_t v)
{
	struct fuzz *f = ctx;

	CHECK(f == cur);
	CHECK(v < f->vectors);
	if (f->r.msix_enabled) {
		CHECK(v < f->r.msix_n);
		CHECK(!pciem_irq_rules_msix_masked(&f->r, v));
	} else {
		CHECK(f->r.msi_enabled);
		CHECK(v < f->r.msi_nvec && f->r.msi_nvec <= f->r.msi_max);
		CHECK(!(f->r.msi_maskable && (f->r.msi_mask >> v & 1)));
	}
	f->fired++;
}

static bool build(struct fuzz *f, struct fuzz_in *in)
{
	struct pciem_create req = { 0 };
	struct pciem_cap caps[2] = { { 0 } };
	struct pciem_cfg_cap_in cin[2] = { { &caps[0], NULL }, { &caps[1], NULL } };
	struct pciem_cfg_limits limits = { 1ull << 30, 64u << 20 };
	struct pciem_error err = { 0 };
	uint32_t shape = fuzz_take(in, 4);

	req.size = sizeof(req);
	req.abi_version = PCIEM_ABI_VERSION;
	req.vendor_id = 0x1af4;
	req.device_id = 0x1001;
	req.class_code = 0xff0000;
	req.interrupt_pin = shape & 1;
	req.bars[0].size = 0x10000;
	req.bars[2].size = 0x10000;
	caps[0].size = caps[1].size = sizeof(caps[0]);
	caps[0].type = PCIEM_CAP_MSI;
	caps[0].msi.flags = shape >> 1 & PCIEM_MSI_FLAGS_ALL;
	caps[0].msi.vectors = 1u << (shape >> 3 & 7) % 6;
	caps[1].type = PCIEM_CAP_MSIX;
	caps[1].msix.vectors = (shape >> 6 & 0x7ff) + 1;
	caps[1].msix.table_bar = shape >> 17 & 1 ? 2 : 0;
	caps[1].msix.table_offset = 0;
	caps[1].msix.pba_bar = shape >> 18 & 1 ? 2 : 0;
	caps[1].msix.pba_offset = 0x8000 + ((shape >> 19 & 0x1f) << 3);
	if (pciem_cfg_build(&f->cfg, &req, cin, 2, &limits, &err))
		return false;
	pciem_irq_rules_shape(&f->r, &f->cfg);
	return true;
}

/* What must hold between any two steps. */
static void check_state(const struct fuzz *f, const struct pciem_irq_rules_events *ev)
{
	const struct pciem_irq_rules *r = &f->r;
	uint32_t i;

	CHECK(ev->n <= 4);
	for (i = r->msix_n; i < pciem_irq_rules_pba_words(r) * 64; i++)
		CHECK(!(r->msix_pba[i / 64] >> (i % 64) & 1));
	/* Nothing deliverable is left pending. */
	if (r->msix_enabled && !r->msix_fmask)
		for (i = 0; i < r->msix_n; i++)
			CHECK(!pciem_irq_rules_msix_pending(r, i) ||
			      pciem_irq_rules_msix_masked(r, i));
	/* (MSI holds its vectors while MSI-X is on too: raise() uses MSI-X.) */
	if (r->msi_enabled && !r->msix_enabled) {
		uint32_t live = r->msi_nvec >= 32 ? ~0u : (1u << r->msi_nvec) - 1;

		CHECK(!(r->msi_pending & live & ~(r->msi_maskable ? r->msi_mask : 0)));
	}
	CHECK(r->msi_nvec <= r->msi_max);
	CHECK(pciem_irq_rules_intx_on(r) == (r->intx_level && !r->intx_disabled));
	CHECK(!r->intx_level || r->intx_pin);
}

static void step(struct fuzz *f, struct fuzz_in *in)
{
	struct pciem_irq_rules_events ev = { 0 };
	const struct pciem_cfg_layout *l = &f->cfg.layout;
	uint32_t op = fuzz_take(in, 1), where, dword, size = 1u << (op >> 4 & 3);
	uint64_t val, off, before;
	unsigned int bar;
	bool served;

	switch (op & 7) {
	case 0:	/* a config write in MSI, MSI-X or the command register */
		where = fuzz_take(in, 1);
		where = op & 8 ? (op & 64 ? l->msix : l->msi) + where % 0x18 : where % 8;
		if (size > 4)
			size = 4;
		where &= ~(size - 1);
		pciem_cfg_write(&f->cfg, where, size, fuzz_take(in, 4));
		pciem_irq_rules_cfg_written(&f->r, &f->cfg, where, size, &ev);
		break;
	case 1:	/* a config read: device-owned bits patched in */
		where = fuzz_take(in, 1) & ~3u;
		dword = pciem_cfg_read(&f->cfg, where, 4);
		pciem_irq_rules_cfg_read(&f->r, &f->cfg, where, 4, &dword);
		break;
	case 2:	/* a table or PBA access near one of them */
	case 3:
		bar = op & 8 ? 2 : 0;
		off = fuzz_take(in, 2);
		if (op & 64)
			off += 0x8000;
		if (op & 128)
			off = ~0ull - (off & 0xff);
		val = (uint64_t)fuzz_take(in, 4) << 32 | fuzz_take(in, 4);
		before = val;
		served = pciem_irq_rules_msix_access(&f->r, bar, off, size, op & 1, &val, &ev);
		if (served) {
			bool in_table = bar == f->r.table_bar && off >= f->r.table_off &&
					off + size <= f->r.table_off +
						      pciem_irq_rules_table_bytes(&f->r);
			bool in_pba = bar == f->r.pba_bar && off >= f->r.pba_off &&
				      off + size <= f->r.pba_off +
						    pciem_irq_rules_pba_words(&f->r) * 8;

			CHECK(off < (1ull << 32));
			CHECK(in_table || in_pba);
			if (in_table && !(op & 1))
				/* reserved Vector Control bits read 0 */
				for (unsigned int b = 0; b < size; b++)
					if ((off - f->r.table_off + b) % 16 >= 13)
						CHECK(!(val >> (8 * b) & 0xff));
		} else {
			CHECK(val == before);
		}
		break;
	case 4:
	case 5:	/* the device raises a vector */
		(void)pciem_irq_rules_raise(&f->r, fuzz_take(in, 2) % 2100);
		break;
	default:	/* the device drives INTx */
		(void)pciem_irq_rules_set_intx(&f->r, op & 8);
		break;
	}
	check_state(f, &ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz f;
	struct fuzz_in in = { data, size };
	unsigned int steps = 0;

	memset(&f, 0, sizeof(f));
	if (!build(&f, &in))
		return 0;
	f.r.msix_table = malloc(pciem_irq_rules_table_bytes(&f.r));
	f.r.msix_pba = malloc(pciem_irq_rules_pba_words(&f.r) * 8);
	CHECK(f.r.msix_table && f.r.msix_pba);
	/* The kernel's allocation: max(MSI-X table size, MSI capable). */
	f.vectors = f.r.msix_n > f.r.msi_max ? f.r.msix_n : f.r.msi_max;
	f.r.fire = fire;
	f.r.ctx = &f;
	cur = &f;
	pciem_irq_rules_reset(&f.r);
	while (in.n && steps++ < 256)
		step(&f, &in);
	free(f.r.msix_table);
	free(f.r.msix_pba);
	return 0;
}
