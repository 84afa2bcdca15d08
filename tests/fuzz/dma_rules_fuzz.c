// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer target for the DMA rules (kernel/rules/pciem_dma_rules.c):
 * pciem.ko, the SimHost and the vfio-user host let a device touch driver
 * memory only when pciem_dma_judge() says so, so a verdict that allows
 * too much is a device scribbling over memory the driver never gave it,
 * and one whose arithmetic wraps near 2^64 lets a huge access through.
 *
 * The harness plays a host: a small mapping table (live mappings with
 * their page-rounded spans and guard page, retired ones, Bus Master
 * Enable) driven by a script of maps, unmaps (in two steps: dying, then
 * gone), bus mastering toggles and device accesses of every kind, placed
 * at, just inside and just past the edges of mappings and near 2^64. For
 * each access the host's lookup fills a pciem_dma_found as pciem.ko's
 * does, and the verdict is checked against a model written here
 * independently, in 128-bit arithmetic so that it cannot wrap itself.
 */
#include "pciem_dma_rules.h"
#include "fuzz_check.h"

#include <string.h>

#define SLOTS 6
#define RETIRED 8
#define PAGE 4096ull

typedef unsigned __int128 u128;

struct mapping {
	bool live, dying;
	uint64_t iova, len;
	uint8_t dir;
};

struct host {
	bool bus_master;
	struct mapping slot[SLOTS];
	struct { uint64_t iova, len; } retired[RETIRED];
	unsigned int n_retired;	/* ring: the oldest is forgotten */
	uint64_t last_at;	/* where the last access aimed, to reuse it */
};

/* The bus space a mapping holds: its pages and a guard page after them. */
static u128 span_start(const struct mapping *m)
{
	return m->iova & ~(PAGE - 1);
}

static u128 span_end(const struct mapping *m)
{
	return ((u128)m->iova + m->len + PAGE - 1) / PAGE * PAGE + PAGE;
}

static bool holds(const struct mapping *m, uint64_t addr)
{
	return m->live && addr >= m->iova && (u128)addr < (u128)m->iova + m->len;
}

/* ---- the host's lookup, as pciem.ko's check() fills the verdict's input ---- */

static struct pciem_dma_found lookup(const struct host *h, uint64_t addr)
{
	struct pciem_dma_found f = { .bus_master = h->bus_master };
	unsigned int i;

	if (!f.bus_master)
		return f;
	for (i = 0; i < SLOTS; i++) {
		const struct mapping *m = &h->slot[i];

		if (holds(m, addr)) {
			f.live = true;
			f.iova = m->iova;
			f.len = m->len;
			f.dir = m->dir;
			f.dying = m->dying;
			return f;
		}
	}
	for (i = 0; i < SLOTS; i++)
		if (h->slot[i].live && addr >= span_start(&h->slot[i]) &&
		    addr < span_end(&h->slot[i]))
			f.in_span = true;
	if (!f.in_span)
		for (i = 0; i < h->n_retired && i < RETIRED; i++)
			if (addr >= h->retired[i].iova &&
			    (u128)addr < (u128)h->retired[i].iova + h->retired[i].len)
				f.retired = true;
	return f;
}

/* ---- the model: what the sanitizer promises, from the table itself ---- */

static bool model_dir_allows(uint8_t dir, uint32_t op)
{
	switch (op) {
	case PCIEM_DMA_READ:
		return dir == PCIEM_DMA_RULES_TO_DEVICE || dir == PCIEM_DMA_RULES_BIDIRECTIONAL;
	case PCIEM_DMA_WRITE:
		return dir == PCIEM_DMA_RULES_FROM_DEVICE || dir == PCIEM_DMA_RULES_BIDIRECTIONAL;
	default:	/* an atomic reads and writes */
		return dir == PCIEM_DMA_RULES_BIDIRECTIONAL;
	}
}

static uint32_t model(const struct host *h, uint32_t op, uint64_t addr, uint64_t len, u128 *at)
{
	const struct mapping *m = NULL;
	unsigned int i;

	*at = addr;
	if (!h->bus_master)
		return PCIEM_DMA_F_BUS_MASTER;
	for (i = 0; i < SLOTS; i++)
		if (holds(&h->slot[i], addr))
			m = &h->slot[i];
	if (!m) {
		const struct pciem_dma_found f = lookup(h, addr);

		if (f.in_span)
			return PCIEM_DMA_F_BOUNDS;
		return f.retired ? PCIEM_DMA_F_STALE : PCIEM_DMA_F_UNMAPPED;
	}
	if (m->dying)
		return PCIEM_DMA_F_STALE;
	if ((u128)addr + len > (u128)m->iova + m->len) {
		*at = (u128)m->iova + m->len;
		return PCIEM_DMA_F_BOUNDS;
	}
	return model_dir_allows(m->dir, op) ? PCIEM_DMA_OK : PCIEM_DMA_F_DIRECTION;
}

/* ---- the script ---- */

static const uint32_t ops[] = {
	PCIEM_DMA_READ, PCIEM_DMA_WRITE, PCIEM_DMA_FETCH_ADD, PCIEM_DMA_SWAP, PCIEM_DMA_CAS,
};

/* A bus address: low, near the top of the address space, or anywhere. */
static uint64_t pick_base(struct fuzz_in *in, uint8_t how)
{
	uint64_t v = fuzz_take(in, 2);

	switch (how & 3) {
	case 0:
		return v * 8;
	case 1:
		return 0x100000000ull + v * PAGE;
	case 2:	/* spans end below 2^64: the top page is never mapped */
		return 0ull - 3 * PAGE - v * 8;
	default:
		return v << 48 | fuzz_take(in, 6);
	}
}

static void map(struct host *h, struct fuzz_in *in, uint8_t op)
{
	struct mapping m = { .live = true };
	unsigned int i, s = op >> 3 & 7;

	if (s >= SLOTS || h->slot[s].live)
		return;
	m.iova = pick_base(in, op >> 6);
	m.len = fuzz_take(in, 2) + 1;
	m.dir = fuzz_take(in, 1) % 3;
	/*
	 * The bus space fits below 2^64 with a page to spare, as every host's
	 * allocator keeps it (a mapping ending at 2^64 would report its end
	 * as address 0).
	 */
	if (span_end(&m) > ((u128)1 << 64) - PAGE)
		return;
	/* allocators hand out disjoint bus space */
	for (i = 0; i < SLOTS; i++)
		if (h->slot[i].live && span_start(&m) < span_end(&h->slot[i]) &&
		    span_start(&h->slot[i]) < span_end(&m))
			return;
	h->slot[s] = m;
}

static void unmap(struct host *h, uint8_t op)
{
	struct mapping *m = &h->slot[(op >> 3 & 7) % SLOTS];

	if (!m->live)
		return;
	if (!m->dying && (op & 64)) {
		m->dying = true;	/* dma_unmap_*() has begun */
		return;
	}
	h->retired[h->n_retired++ % RETIRED].iova = m->iova;
	h->retired[(h->n_retired - 1) % RETIRED].len = m->len;
	m->live = false;
	m->dying = false;
}

/* Where an access starts: around some mapping's edges, or anywhere. */
static uint64_t pick_addr(const struct host *h, struct fuzz_in *in, uint8_t how)
{
	const struct mapping *m = &h->slot[(how & 7) % SLOTS];
	uint64_t d = fuzz_take(in, 1);

	switch (how >> 3 & 7) {
	case 0:
		return m->iova + d;
	case 1:
		return m->iova + m->len - 1 - d;
	case 2:
		return m->iova + m->len + d;
	case 3:
		return m->iova - 1 - d;
	case 4:
		return 0ull - 1 - d;
	case 5:
		return h->retired[d % RETIRED].iova + (d >> 3);
	case 6:
		return h->last_at + d - 128;
	default:
		return fuzz_take(in, 8);
	}
}

/* How long: 0, small, to a mapping's end and past it, or nearly 2^64. */
static uint64_t pick_len(const struct host *h, struct fuzz_in *in, uint8_t how, uint64_t addr)
{
	const struct mapping *m = &h->slot[(how & 7) % SLOTS];
	uint64_t d = fuzz_take(in, 1);

	switch (how >> 3 & 7) {
	case 0:
		return 0;
	case 1:
		return 4 << (d & 1);
	case 2:
		return d;
	case 3:
		return m->iova + m->len - addr + (d & 3) - 1;
	case 4:
		return 0ull - addr + (d & 3) - 1;	/* up to and across 2^64 */
	case 5:
		return 0ull - 1 - d;
	default:
		return fuzz_take(in, 3);
	}
}

static void access(struct host *h, struct fuzz_in *in, uint8_t op)
{
	const uint32_t dma_op = ops[fuzz_take(in, 1) % 5];
	const uint64_t addr = pick_addr(h, in, (uint8_t)fuzz_take(in, 1));
	const uint64_t len = pick_len(h, in, (uint8_t)fuzz_take(in, 1), addr);
	struct pciem_dma_found f = lookup(h, addr), junk;
	uint64_t at = 0x5a5a5a5a5a5a5a5aull, at2 = 0;
	uint32_t v, v2;
	u128 want_at;
	unsigned int i;

	h->last_at = addr;
	if (pciem_dma_op_is_atomic(dma_op)) {
		const bool shaped = (len == 4 || len == 8) && addr % len == 0;

		CHECK((pciem_dma_atomic_shape(addr, len) == PCIEM_DMA_OK) == shaped);
		CHECK(shaped || pciem_dma_atomic_shape(addr, len) == PCIEM_DMA_F_ALIGNMENT);
		/* every host checks the shape first and never asks further */
		if (!shaped && !(op & 8))
			return;
	}
	v = pciem_dma_judge(&f, dma_op, addr, len, &at);
	CHECK(model(h, dma_op, addr, len, &want_at) == v);
	CHECK(want_at == at);

	/* Deterministic, and blind to what the lookup did not find. */
	junk = f;
	if (!junk.bus_master) {
		junk.live = junk.dying = junk.in_span = junk.retired = true;
	}
	if (!junk.live) {
		junk.iova = mix(addr);
		junk.len = mix(len);
		junk.dir = (uint8_t)mix(op);
		junk.dying = op & 1;
	}
	v2 = pciem_dma_judge(&junk, dma_op, addr, len, &at2);
	CHECK(v2 == v && at2 == at);

	if (v == PCIEM_DMA_OK) {
		/* what "allowed" promises, said without the model */
		bool inside = false;

		CHECK(h->bus_master);
		for (i = 0; i < SLOTS; i++) {
			const struct mapping *m = &h->slot[i];

			if (m->live && !m->dying && addr >= m->iova &&
			    (u128)addr + len <= (u128)m->iova + m->len &&
			    model_dir_allows(m->dir, dma_op))
				inside = true;
		}
		CHECK(inside);
	} else {
		/* a refusal names a byte of the access (or its start, if empty) */
		CHECK(at >= addr && (u128)at <= (u128)addr + len);
		CHECK(v == PCIEM_DMA_F_BUS_MASTER || v == PCIEM_DMA_F_UNMAPPED ||
		      v == PCIEM_DMA_F_STALE || v == PCIEM_DMA_F_BOUNDS ||
		      v == PCIEM_DMA_F_DIRECTION);
	}
	/* an address only an unmapped mapping held is never served */
	if (!f.live && f.retired)
		CHECK(v == PCIEM_DMA_F_STALE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct host h;
	struct fuzz_in in = { data, size };
	unsigned int steps = 0;

	memset(&h, 0, sizeof(h));
	h.bus_master = true;
	while (in.n && steps++ < 256) {
		const uint8_t op = (uint8_t)fuzz_take(&in, 1);

		switch (op & 7) {
		case 0:
		case 1:
			map(&h, &in, op);
			break;
		case 2:
			unmap(&h, op);
			break;
		case 3:
			h.bus_master = !h.bus_master;
			break;
		default:
			access(&h, &in, op);
			break;
		}
	}
	return 0;
}
